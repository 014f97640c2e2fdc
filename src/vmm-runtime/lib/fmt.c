/* A small vsnprintf for log lines; see include/vmm_fmt.h for the supported conversions. */
#include "vmm_fmt.h"

#include <stdbool.h>
#include <stdint.h>

struct fmt_out {
    char *buf;
    size_t size;
    size_t len;
};

static void fmt_putc(struct fmt_out *out, char c)
{
    if (out->size > 0 && out->len < out->size - 1) {
        out->buf[out->len] = c;
    }
    if (out->len < out->size) {
        out->len++;
    }
}

static void fmt_unsigned(struct fmt_out *out, uint64_t value, unsigned base, bool upper,
                         unsigned width, char pad)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    unsigned n = 0;
    do {
        tmp[n++] = digits[value % base];
        value /= base;
    } while (value != 0);
    while (width > n) {
        fmt_putc(out, pad);
        width--;
    }
    while (n > 0) {
        fmt_putc(out, tmp[--n]);
    }
}

/* One conversion's flag, width and length modifiers ("%08llx": pad '0', width 8, longs 2). */
struct fmt_spec {
    char pad;
    unsigned width;
    unsigned longs;
    bool size_t_arg;
};

/* Parses the modifiers after '%'; returns the conversion character's position. */
static const char *fmt_parse_spec(const char *p, struct fmt_spec *spec)
{
    spec->pad = ' ';
    spec->width = 0;
    spec->longs = 0;
    spec->size_t_arg = false;
    if (*p == '0') {
        spec->pad = '0';
        p++;
    }
    while (*p >= '0' && *p <= '9') {
        spec->width = spec->width * 10 + (unsigned)(*p - '0');
        p++;
    }
    while (*p == 'l') {
        spec->longs++;
        p++;
    }
    if (*p == 'z') {
        spec->size_t_arg = true;
        p++;
    }
    return p;
}

static void fmt_string(struct fmt_out *out, const char *s, unsigned width)
{
    if (s == NULL) {
        s = "(null)";
    }
    size_t slen = 0;
    while (s[slen] != '\0') {
        slen++;
    }
    while (width > slen) {
        fmt_putc(out, ' ');
        width--;
    }
    while (*s != '\0') {
        fmt_putc(out, *s++);
    }
}

static void fmt_signed(struct fmt_out *out, const struct fmt_spec *spec, va_list *ap)
{
    int64_t v;
    if (spec->size_t_arg) {
        v = (int64_t)va_arg(*ap, size_t);
    } else if (spec->longs >= 2) {
        v = va_arg(*ap, long long);
    } else if (spec->longs == 1) {
        v = va_arg(*ap, long);
    } else {
        v = va_arg(*ap, int);
    }
    uint64_t mag = (uint64_t)v;
    unsigned width = spec->width;
    if (v < 0) {
        fmt_putc(out, '-');
        mag = 0 - mag;
        if (width > 0) {
            width--;
        }
    }
    fmt_unsigned(out, mag, 10, false, width, spec->pad);
}

static uint64_t fmt_unsigned_arg(const struct fmt_spec *spec, va_list *ap)
{
    if (spec->size_t_arg) {
        return va_arg(*ap, size_t);
    }
    if (spec->longs >= 2) {
        return va_arg(*ap, unsigned long long);
    }
    if (spec->longs == 1) {
        return va_arg(*ap, unsigned long);
    }
    return va_arg(*ap, unsigned int);
}

/* One conversion at *p; returns where the format goes on (p itself, or p - 1 at a trailing
 * '%' so that the loop sees the terminating NUL). */
static const char *fmt_convert(struct fmt_out *out, const char *p, const struct fmt_spec *spec,
                               va_list *ap)
{
    switch (*p) {
    case 's':
        fmt_string(out, va_arg(*ap, const char *), spec->width);
        break;
    case 'c':
        fmt_putc(out, (char)va_arg(*ap, int));
        break;
    case 'd':
        fmt_signed(out, spec, ap);
        break;
    case 'u':
    case 'x':
    case 'X':
        fmt_unsigned(out, fmt_unsigned_arg(spec, ap), *p == 'u' ? 10 : 16, *p == 'X', spec->width,
                     spec->pad);
        break;
    case 'p':
        fmt_putc(out, '0');
        fmt_putc(out, 'x');
        fmt_unsigned(out, (uint64_t)(uintptr_t)va_arg(*ap, void *), 16, false, spec->width,
                     spec->pad);
        break;
    case '%':
        fmt_putc(out, '%');
        break;
    case '\0':
        return p - 1;
    default:
        fmt_putc(out, '%');
        fmt_putc(out, *p);
        break;
    }
    return p;
}

int vmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct fmt_out out = { buf, size, 0 };
    /* A copy the helpers can take by pointer (va_list may be an array type). */
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            fmt_putc(&out, *p);
            continue;
        }
        struct fmt_spec spec;
        p = fmt_parse_spec(p + 1, &spec);
        p = fmt_convert(&out, p, &spec, &args);
    }
    va_end(args);
    if (size > 0) {
        buf[out.len < size ? out.len : size - 1] = '\0';
    }
    return (int)(out.len < size ? out.len : (size > 0 ? size - 1 : 0));
}

int vmm_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vmm_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* The VMM's prefix; another program of the runtime (the timer PD) defines its own. */
__attribute__((weak)) const char vmm_log_prefix[] = "vmm: ";

void vmm_log(const char *fmt, ...)
{
    char line[256 + VMM_LOG_PREFIX_MAX + 1];
    size_t n = 0;
    while (n < VMM_LOG_PREFIX_MAX && vmm_log_prefix[n] != '\0') {
        line[n] = vmm_log_prefix[n];
        n++;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vmm_vsnprintf(line + n, 256, fmt, ap);
    va_end(ap);
    n += (size_t)len;
    line[n++] = '\n';
    line[n] = '\0';
    vmm_log_sink(line);
}

bool vmm_fail(char *err, size_t err_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmm_vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return false;
}
