/*
 * The freestanding subset of the C library the runtime needs: string formatting for log
 * lines (no floating point), and the log sink. The target build gets memcpy/memset/memmove/
 * memcmp/strlen from lib/string.c; the host build uses the host C library's.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Formats like snprintf for the conversions %s %c %d %u %x %X %p %% with optional '0' flag,
 * width and the length modifiers l, ll and z. Always NUL-terminates when size > 0 and returns
 * the number of characters written (not counting the NUL), truncated to size - 1.
 */
int vmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int vmm_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats a reason into err (like vmm_snprintf) and returns false: the checkers' "this is why". */
bool vmm_fail(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes one NUL-terminated string to the console: microkit_dbg_puts on the target, a test
 * capture buffer on the host. */
void vmm_log_sink(const char *s);

/* The program's log prefix ("vmm: " unless the program defines its own); at most
 * VMM_LOG_PREFIX_MAX characters are used. */
#define VMM_LOG_PREFIX_MAX 16u
extern const char vmm_log_prefix[];

/* Formats one log line (at most 255 characters), prefixes vmm_log_prefix, adds the newline. */
void vmm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
