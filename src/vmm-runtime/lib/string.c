/*
 * The C library functions the target build needs: GCC emits calls to memcpy/memset/memmove/
 * memcmp even with -ffreestanding. This file is built with -fno-builtin and
 * -fno-tree-loop-distribute-patterns so these loops are not turned back into calls to
 * themselves.
 */
#include <stdint.h>

#include "vmm_string.h"

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    /* Guest images are megabytes: copy words when both pointers allow it. */
    if ((((uintptr_t)d | (uintptr_t)s) & 7u) == 0) {
        while (n >= 8) {
            *(uint64_t *)(void *)d = *(const uint64_t *)(const void *)s;
            d += 8;
            s += 8;
            n -= 8;
        }
    }
    while (n-- > 0) {
        *d++ = *s++;
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (d < s) {
        while (n-- > 0) {
            *d++ = *s++;
        }
    } else {
        while (n-- > 0) {
            d[n] = s[n];
        }
    }
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    if (((uintptr_t)d & 7u) == 0) {
        uint64_t v = (uint8_t)c;
        v |= v << 8;
        v |= v << 16;
        v |= v << 32;
        while (n >= 8) {
            *(uint64_t *)(void *)d = v;
            d += 8;
            n -= 8;
        }
    }
    while (n-- > 0) {
        *d++ = (uint8_t)c;
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a;
    const uint8_t *y = b;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            return x[i] < y[i] ? -1 : 1;
        }
    }
    return 0;
}

void *memchr(const void *s, int c, size_t n)
{
    const uint8_t *p = s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == (uint8_t)c) {
            return (void *)(uintptr_t)(p + i);
        }
    }
    return NULL;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}
