/*
 * The memory and string functions the runtime uses, declared here rather than taken from
 * <string.h>: the target build is freestanding (-ffreestanding -nostdlib) and must not need a
 * C library's headers (Debian's gcc-aarch64-linux-gnu without libc6-dev-arm64-cross has none).
 * lib/string.c defines them for the target; the host tests link the host C library's, whose
 * declarations these match (ISO C 7.24).
 */
#pragma once

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
