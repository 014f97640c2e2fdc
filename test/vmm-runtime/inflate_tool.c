/*
 * inflate-tool gzip|zlib|raw IN OUT CAPACITY
 *     Decodes IN with the runtime's decoder into at most CAPACITY bytes and writes them to OUT;
 *     prints "ok N" or "error: <reason>" and exits 0 or 1. host.test.ts feeds it streams that
 *     Node's zlib made (round trips) and damaged copies of them.
 */
#include "inflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 20;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) {
            break;
        }
        cap *= 2;
        buf = realloc(buf, cap);
    }
    fclose(f);
    /* An exactly sized copy, so reading past the input is an ASan report. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    *len = n;
    return exact;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: inflate-tool gzip|zlib|raw IN OUT CAPACITY\n");
        return 2;
    }
    size_t in_len;
    uint8_t *in = read_all(argv[2], &in_len);
    if (in == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 2;
    }
    size_t cap = strtoull(argv[4], NULL, 0);
    uint8_t *out = malloc(cap ? cap : 1);
    size_t n = 0;
    size_t used = 0;
    enum inflate_status st;
    if (strcmp(argv[1], "gzip") == 0) {
        st = inflate_gzip(in, in_len, out, cap, &n);
    } else if (strcmp(argv[1], "zlib") == 0) {
        st = inflate_zlib(in, in_len, out, cap, &n);
    } else {
        st = inflate_raw(in, in_len, out, cap, &used, &n);
        if (st == INFLATE_OK && used != in_len) {
            st = INFLATE_TRAILING_DATA;
        }
    }
    int status = 0;
    if (st != INFLATE_OK) {
        printf("error: %s\n", inflate_strerror(st));
        status = 1;
    } else {
        FILE *f = fopen(argv[3], "wb");
        if (f == NULL || fwrite(out, 1, n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[3]);
            status = 2;
        } else {
            printf("ok %zu\n", n);
        }
    }
    free(in);
    free(out);
    return status;
}
