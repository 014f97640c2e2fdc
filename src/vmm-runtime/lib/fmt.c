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

int vmm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct fmt_out out = { buf, size, 0 };
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            fmt_putc(&out, *p);
            continue;
        }
        p++;
        char pad = ' ';
        unsigned width = 0;
        unsigned longs = 0;
        bool size_t_arg = false;
        if (*p == '0') {
            pad = '0';
            p++;
        }
        while (*p >= '0' && *p <= '9') {
            width = width * 10 + (unsigned)(*p - '0');
            p++;
        }
        while (*p == 'l') {
            longs++;
            p++;
        }
        if (*p == 'z') {
            size_t_arg = true;
            p++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL) {
                s = "(null)";
            }
            size_t slen = 0;
            while (s[slen] != '\0') {
                slen++;
            }
            while (width > slen) {
                fmt_putc(&out, ' ');
                width--;
            }
            while (*s != '\0') {
                fmt_putc(&out, *s++);
            }
            break;
        }
        case 'c':
            fmt_putc(&out, (char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v;
            if (size_t_arg) {
                v = (int64_t)va_arg(ap, size_t);
            } else if (longs >= 2) {
                v = va_arg(ap, long long);
            } else if (longs == 1) {
                v = va_arg(ap, long);
            } else {
                v = va_arg(ap, int);
            }
            uint64_t mag = (uint64_t)v;
            if (v < 0) {
                fmt_putc(&out, '-');
                mag = 0 - mag;
                if (width > 0) {
                    width--;
                }
            }
            fmt_unsigned(&out, mag, 10, false, width, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v;
            if (size_t_arg) {
                v = va_arg(ap, size_t);
            } else if (longs >= 2) {
                v = va_arg(ap, unsigned long long);
            } else if (longs == 1) {
                v = va_arg(ap, unsigned long);
            } else {
                v = va_arg(ap, unsigned int);
            }
            fmt_unsigned(&out, v, *p == 'u' ? 10 : 16, *p == 'X', width, pad);
            break;
        }
        case 'p':
            fmt_putc(&out, '0');
            fmt_putc(&out, 'x');
            fmt_unsigned(&out, (uint64_t)(uintptr_t)va_arg(ap, void *), 16, false, width, pad);
            break;
        case '%':
            fmt_putc(&out, '%');
            break;
        case '\0':
            p--;
            break;
        default:
            fmt_putc(&out, '%');
            fmt_putc(&out, *p);
            break;
        }
    }
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
