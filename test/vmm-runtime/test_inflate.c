/*
 * The DEFLATE / gzip / zlib decoder. Streams made by zlib (Node's, recorded here as bytes) for
 * the three block types, hand-assembled streams for each error class, and a bounded
 * deterministic fuzz: mutated streams must fail cleanly (ASan/UBSan watch every access).
 * Round trips of large host-compressed files run in host.test.ts through inflate-tool.
 */
#include "harness.h"
#include "inflate.h"
#include "vmm_config.h"

#include <stdlib.h>

/* zlib.deflateRawSync("hello, hello, hello, hello world", { strategy: Z_FIXED }). */
static const uint8_t fixed_stream[] = {
    0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xc8, 0xc0, 0xa4, 0x14, 0xca, 0xf3, 0x8b, 0x72,
    0x52, 0x00,
};
static const char fixed_text[] = "hello, hello, hello, hello world";

/* zlib.gzipSync and zlib.deflateSync of the same text. */
static const uint8_t gzip_stream[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9,
    0xd7, 0x51, 0xc8, 0xc0, 0xa4, 0x14, 0xca, 0xf3, 0x8b, 0x72, 0x52, 0x00, 0xac, 0x3e, 0x11,
    0x37, 0x20, 0x00, 0x00, 0x00,
};
static const uint8_t zlib_stream[] = {
    0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xc8, 0xc0, 0xa4, 0x14, 0xca, 0xf3,
    0x8b, 0x72, 0x52, 0x00, 0xba, 0xb5, 0x0b, 0x7d,
};

/* zlib.deflateRawSync(dynamic_text(), { level: 9 }): one dynamic block (BTYPE 10). */
static const uint8_t dynamic_stream[] = {
    0x95, 0xd4, 0xd9, 0x11, 0xc2, 0x30, 0x0c, 0x45, 0xd1, 0x56, 0x54, 0x82, 0x25, 0xc5, 0x8e,
    0x3d, 0xb4, 0x91, 0x06, 0x58, 0x02, 0x61, 0x35, 0x24, 0x84, 0xad, 0x7a, 0x1a, 0x60, 0x98,
    0xb9, 0xff, 0xf7, 0x7d, 0x9d, 0x91, 0xba, 0xa1, 0x97, 0xdb, 0xbc, 0x5f, 0x1f, 0x65, 0x35,
    0xd6, 0xe7, 0x45, 0xb6, 0xf5, 0x25, 0x41, 0x0e, 0xf3, 0xf9, 0x3a, 0x49, 0x7d, 0xf4, 0xa3,
    0xdc, 0x87, 0x5e, 0x4e, 0xcb, 0xcf, 0x5b, 0x36, 0x75, 0xb7, 0x90, 0xee, 0x47, 0xde, 0xb2,
    0x5c, 0x1b, 0xd6, 0x9b, 0xc2, 0x3e, 0xb3, 0xde, 0x23, 0xeb, 0x1b, 0x83, 0x7d, 0x61, 0x7d,
    0x4c, 0xac, 0x4f, 0x0e, 0xb9, 0x28, 0x2f, 0xf4, 0xcd, 0xd0, 0xb7, 0x40, 0xdf, 0x02, 0x7d,
    0x35, 0x40, 0x60, 0x55, 0xa3, 0x03, 0x48, 0xac, 0x06, 0x8d, 0xd5, 0x9d, 0x1e, 0x59, 0xa0,
    0x03, 0x7a, 0xc6, 0x11, 0x3a, 0x6b, 0x52, 0x3a, 0xa0, 0xd2, 0x2d, 0x95, 0xce, 0x54, 0x3a,
    0x53, 0xe9, 0x02, 0xa5, 0x2d, 0x38, 0x7d, 0x8f, 0x81, 0x0e, 0xa0, 0xb4, 0x19, 0xfd, 0xd8,
    0x4e, 0x5f, 0xb6, 0x43, 0x69, 0x6b, 0xa0, 0xb4, 0x45, 0xa3, 0x03, 0x28, 0x6d, 0x89, 0x4a,
    0xb7, 0x7f, 0xa4, 0xbf,
};

static char dynamic_text_buf[4096];
static size_t dynamic_text_len;

static const char *dynamic_text(void)
{
    if (dynamic_text_len == 0) {
        for (int i = 0; i < 40; i++) {
            dynamic_text_len += (size_t)snprintf(dynamic_text_buf + dynamic_text_len,
                                                 sizeof(dynamic_text_buf) - dynamic_text_len,
                                                 "The quick brown fox %d jumps over the lazy dog; ",
                                                 i * 7);
        }
    }
    return dynamic_text_buf;
}

static uint8_t out[8192];

/* ---------------------------------------------------------------- a bit writer for crafting */

struct writer {
    uint8_t bytes[512];
    size_t bit;
};

/* n bits of value, least significant first (RFC 1951 3.1.1: header fields and extra bits). */
static void put_bits(struct writer *w, uint32_t value, unsigned n)
{
    for (unsigned i = 0; i < n; i++, w->bit++) {
        if ((value >> i) & 1u) {
            w->bytes[w->bit / 8] |= (uint8_t)(1u << (w->bit % 8));
        }
    }
}

/* A Huffman code of len bits, most significant bit first. */
static void put_code(struct writer *w, uint32_t code, unsigned len)
{
    for (unsigned i = len; i-- > 0;) {
        put_bits(w, (code >> i) & 1u, 1);
    }
}

static size_t writer_len(const struct writer *w)
{
    return (w->bit + 7) / 8;
}

static enum inflate_status raw(const uint8_t *in, size_t len, size_t cap, size_t *produced)
{
    size_t used;
    return inflate_raw(in, len, out, cap, &used, produced);
}

/* ---------------------------------------------------------------- valid streams */

static void inflate_stored_block(void)
{
    static const uint8_t s[] = { 0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o' };
    size_t n = 0;
    size_t used = 0;
    CHECK_EQ(inflate_raw(s, sizeof(s), out, sizeof(out), &used, &n), INFLATE_OK);
    CHECK_EQ(n, 5);
    CHECK_EQ(used, sizeof(s));
    CHECK(memcmp(out, "hello", 5) == 0);
    /* An empty stored block that is not final, after a partial byte, then a final one. */
    struct writer w = { 0 };
    put_bits(&w, 0, 1);
    put_bits(&w, 0, 2);
    w.bit = 8;
    put_bits(&w, 0, 16);
    put_bits(&w, 0xffff, 16);
    put_bits(&w, 1, 1);
    put_bits(&w, 0, 2);
    w.bit = 48;
    put_bits(&w, 2, 16);
    put_bits(&w, 0xfffd, 16);
    put_bits(&w, 'o', 8);
    put_bits(&w, 'k', 8);
    CHECK_EQ(raw(w.bytes, writer_len(&w), sizeof(out), &n), INFLATE_OK);
    CHECK_EQ(n, 2);
    CHECK(memcmp(out, "ok", 2) == 0);
}

static void inflate_fixed_block(void)
{
    size_t n = 0;
    size_t used = 0;
    CHECK_EQ(fixed_stream[0] & 7u, 3u);     /* BFINAL 1, BTYPE 01 */
    CHECK_EQ(inflate_raw(fixed_stream, sizeof(fixed_stream), out, sizeof(out), &used, &n),
             INFLATE_OK);
    CHECK_EQ(n, strlen(fixed_text));
    CHECK(memcmp(out, fixed_text, n) == 0);
    CHECK_EQ(used, sizeof(fixed_stream));
}

static void inflate_dynamic_block(void)
{
    const char *text = dynamic_text();
    size_t n = 0;
    CHECK_EQ(dynamic_stream[0] & 7u, 5u);   /* BFINAL 1, BTYPE 10 */
    CHECK_EQ(raw(dynamic_stream, sizeof(dynamic_stream), sizeof(out), &n), INFLATE_OK);
    CHECK_EQ(n, dynamic_text_len);
    CHECK(memcmp(out, text, n) == 0);
    /* Exactly enough room is enough; one byte less is an overflow, not a write past it. */
    CHECK_EQ(raw(dynamic_stream, sizeof(dynamic_stream), dynamic_text_len, &n), INFLATE_OK);
    CHECK_EQ(raw(dynamic_stream, sizeof(dynamic_stream), dynamic_text_len - 1, &n),
             INFLATE_OUTPUT_FULL);
    CHECK(n <= dynamic_text_len - 1);
}

static void inflate_wrappers(void)
{
    size_t n = 0;
    CHECK_EQ(inflate_gzip(gzip_stream, sizeof(gzip_stream), out, sizeof(out), &n), INFLATE_OK);
    CHECK_EQ(n, strlen(fixed_text));
    CHECK(memcmp(out, fixed_text, n) == 0);
    CHECK_EQ(inflate_zlib(zlib_stream, sizeof(zlib_stream), out, sizeof(out), &n), INFLATE_OK);
    CHECK_EQ(n, strlen(fixed_text));
    CHECK_EQ(inflate_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);

    /* Optional gzip header fields (RFC 1952 2.3.1): FEXTRA, FNAME, FCOMMENT and FHCRC. */
    uint8_t g[128];
    size_t len = 0;
    memcpy(g, gzip_stream, 10);
    g[3] = 0x04 | 0x08 | 0x10 | 0x02;
    len = 10;
    g[len++] = 3; g[len++] = 0; g[len++] = 'a'; g[len++] = 'b'; g[len++] = 'c';
    memcpy(g + len, "name", 5); len += 5;
    memcpy(g + len, "comment", 8); len += 8;
    uint32_t hcrc = inflate_crc32(0, g, len);
    g[len++] = (uint8_t)hcrc;
    g[len++] = (uint8_t)(hcrc >> 8);
    memcpy(g + len, gzip_stream + 10, sizeof(gzip_stream) - 10);
    len += sizeof(gzip_stream) - 10;
    CHECK_EQ(inflate_gzip(g, len, out, sizeof(out), &n), INFLATE_OK);
    CHECK_EQ(n, strlen(fixed_text));
    g[12] ^= 1;                              /* header CRC no longer matches */
    CHECK_EQ(inflate_gzip(g, len, out, sizeof(out), &n), INFLATE_BAD_HEADER);
}

/* ---------------------------------------------------------------- error classes */

static void inflate_rejects_bad_block_type(void)
{
    static const uint8_t s[] = { 0x07, 0x00, 0x00 };    /* BFINAL 1, BTYPE 11 */
    size_t n;
    CHECK_EQ(raw(s, sizeof(s), sizeof(out), &n), INFLATE_BAD_BLOCK_TYPE);
}

static void inflate_rejects_bad_stored_length(void)
{
    static const uint8_t s[] = { 0x01, 0x05, 0x00, 0xfb, 0xff, 'h', 'e', 'l', 'l', 'o' };
    size_t n;
    CHECK_EQ(raw(s, sizeof(s), sizeof(out), &n), INFLATE_BAD_STORED_LENGTH);
    static const uint8_t big[] = { 0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o' };
    CHECK_EQ(raw(big, sizeof(big), 4, &n), INFLATE_OUTPUT_FULL);
}

static void inflate_rejects_truncation(void)
{
    size_t n;
    static const uint8_t s[] = { 0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l' };
    CHECK_EQ(raw(s, sizeof(s), sizeof(out), &n), INFLATE_TRUNCATED);
    CHECK_EQ(raw(s, 0, sizeof(out), &n), INFLATE_TRUNCATED);
    /* Every proper prefix of a valid stream fails, and never as success. */
    unsigned ok = 0;
    for (size_t len = 0; len < sizeof(dynamic_stream); len++) {
        ok += raw(dynamic_stream, len, sizeof(out), &n) == INFLATE_OK;
    }
    CHECK_EQ(ok, 0);
    for (size_t len = 0; len < sizeof(gzip_stream); len++) {
        ok += inflate_gzip(gzip_stream, len, out, sizeof(out), &n) == INFLATE_OK;
    }
    for (size_t len = 0; len < sizeof(zlib_stream); len++) {
        ok += inflate_zlib(zlib_stream, len, out, sizeof(out), &n) == INFLATE_OK;
    }
    CHECK_EQ(ok, 0);
    CHECK_EQ(inflate_gzip(gzip_stream, sizeof(gzip_stream) - 1, out, sizeof(out), &n),
             INFLATE_TRUNCATED);
}

/* Fixed-code helpers (RFC 1951 3.2.6): literal/length codes and 5-bit distance codes. */
static void fixed_symbol(struct writer *w, unsigned sym)
{
    if (sym < 144) put_code(w, 0x30 + sym, 8);
    else if (sym < 256) put_code(w, 0x190 + sym - 144, 9);
    else if (sym < 280) put_code(w, sym - 256, 7);
    else put_code(w, 0xc0 + sym - 280, 8);
}

static void inflate_rejects_far_distance(void)
{
    size_t n;
    struct writer w = { 0 };
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 2);
    fixed_symbol(&w, 257);                  /* length 3 ... */
    put_code(&w, 0, 5);                     /* ... distance 1, with nothing written yet */
    fixed_symbol(&w, 256);
    CHECK_EQ(raw(w.bytes, writer_len(&w), sizeof(out), &n), INFLATE_BAD_DISTANCE);
    /* After two literals distance 2 is fine, distance 3 is not. */
    for (unsigned d = 1; d <= 2; d++) {
        memset(&w, 0, sizeof(w));
        put_bits(&w, 1, 1);
        put_bits(&w, 1, 2);
        fixed_symbol(&w, 'a');
        fixed_symbol(&w, 'b');
        fixed_symbol(&w, 257);
        put_code(&w, d, 5);                 /* distance codes 1, 2: distances 2, 3 */
        fixed_symbol(&w, 256);
        CHECK_EQ(raw(w.bytes, writer_len(&w), sizeof(out), &n),
                 d == 1 ? INFLATE_OK : INFLATE_BAD_DISTANCE);
    }
    CHECK(memcmp(out, "ababa", 5) == 0 || n != 5);
}

static void inflate_rejects_invalid_codes(void)
{
    size_t n;
    struct writer w = { 0 };
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 2);
    fixed_symbol(&w, 286);                  /* length symbol 286 does not exist */
    CHECK_EQ(raw(w.bytes, writer_len(&w), sizeof(out), &n), INFLATE_BAD_CODE);
    memset(&w, 0, sizeof(w));
    put_bits(&w, 1, 1);
    put_bits(&w, 1, 2);
    fixed_symbol(&w, 'x');
    fixed_symbol(&w, 257);
    put_code(&w, 30, 5);                    /* distance symbol 30 does not exist */
    CHECK_EQ(raw(w.bytes, writer_len(&w), sizeof(out), &n), INFLATE_BAD_CODE);
}

/* A dynamic block header (3.2.7) with the given code length code lengths. */
static void dynamic_header(struct writer *w, unsigned hlit, unsigned hdist, const uint8_t *cl,
                           unsigned hclen)
{
    put_bits(w, 1, 1);
    put_bits(w, 2, 2);
    put_bits(w, hlit - 257, 5);
    put_bits(w, hdist - 1, 5);
    put_bits(w, hclen - 4, 4);
    for (unsigned i = 0; i < hclen; i++) {
        put_bits(w, cl[i], 3);
    }
}

static void inflate_rejects_bad_tables(void)
{
    size_t n;
    struct writer w = { 0 };
    /* Over-subscribed: 19 code length codes of one bit each. */
    uint8_t ones[19];
    memset(ones, 1, sizeof(ones));
    dynamic_header(&w, 257, 1, ones, 19);
    CHECK_EQ(raw(w.bytes, writer_len(&w) + 8, sizeof(out), &n), INFLATE_BAD_TABLE);

    /* Incomplete: two code length codes of two bits leave half the code space unused. */
    memset(&w, 0, sizeof(w));
    static const uint8_t two[4] = { 2, 2, 0, 0 };   /* symbols 16 and 17 */
    dynamic_header(&w, 257, 1, two, 4);
    CHECK_EQ(raw(w.bytes, writer_len(&w) + 8, sizeof(out), &n), INFLATE_BAD_TABLE);

    /* Symbols 16 (code 0) and 18 (code 1), one bit each: the first length is a repeat of
     * nothing. Order 16, 17, 18: lengths 1, 0, 1. */
    memset(&w, 0, sizeof(w));
    static const uint8_t rep[4] = { 1, 0, 1, 0 };
    dynamic_header(&w, 257, 1, rep, 4);
    put_code(&w, 0, 1);
    put_bits(&w, 0, 2);
    CHECK_EQ(raw(w.bytes, writer_len(&w) + 8, sizeof(out), &n), INFLATE_BAD_TABLE);

    /* Symbols 0 (code 0) and 18 (code 1): 138 + 138 zero lengths overrun 257 + 1 lengths. */
    memset(&w, 0, sizeof(w));
    static const uint8_t run[4] = { 0, 0, 1, 1 };   /* 16, 17, 18, 0 */
    dynamic_header(&w, 257, 1, run, 4);
    put_code(&w, 1, 1);
    put_bits(&w, 127, 7);
    put_code(&w, 1, 1);
    put_bits(&w, 127, 7);
    CHECK_EQ(raw(w.bytes, writer_len(&w) + 8, sizeof(out), &n), INFLATE_BAD_TABLE);

    /* All 258 lengths zero: no end-of-block code. 18 twice (138 + 120) is exactly 258. */
    memset(&w, 0, sizeof(w));
    dynamic_header(&w, 257, 1, run, 4);
    put_code(&w, 1, 1);
    put_bits(&w, 127, 7);
    put_code(&w, 1, 1);
    put_bits(&w, 109, 7);
    CHECK_EQ(raw(w.bytes, writer_len(&w) + 8, sizeof(out), &n), INFLATE_BAD_TABLE);

    /* HLIT beyond 286. */
    memset(&w, 0, sizeof(w));
    put_bits(&w, 1, 1);
    put_bits(&w, 2, 2);
    put_bits(&w, 30, 5);
    CHECK_EQ(raw(w.bytes, 4, sizeof(out), &n), INFLATE_BAD_TABLE);
}

static void inflate_rejects_bad_trailers(void)
{
    uint8_t g[sizeof(gzip_stream) + 1];
    size_t n;
    memcpy(g, gzip_stream, sizeof(gzip_stream));
    g[sizeof(gzip_stream) - 8] ^= 1;        /* CRC-32 */
    CHECK_EQ(inflate_gzip(g, sizeof(gzip_stream), out, sizeof(out), &n), INFLATE_BAD_CHECKSUM);
    memcpy(g, gzip_stream, sizeof(gzip_stream));
    g[sizeof(gzip_stream) - 4] ^= 1;        /* ISIZE */
    CHECK_EQ(inflate_gzip(g, sizeof(gzip_stream), out, sizeof(out), &n), INFLATE_BAD_LENGTH);
    memcpy(g, gzip_stream, sizeof(gzip_stream));
    g[sizeof(gzip_stream)] = 0;
    CHECK_EQ(inflate_gzip(g, sizeof(g), out, sizeof(out), &n), INFLATE_TRAILING_DATA);
    g[0] = 0x1e;
    CHECK_EQ(inflate_gzip(g, sizeof(gzip_stream), out, sizeof(out), &n), INFLATE_BAD_HEADER);
    memcpy(g, gzip_stream, sizeof(gzip_stream));
    g[2] = 7;                               /* CM other than deflate */
    CHECK_EQ(inflate_gzip(g, sizeof(gzip_stream), out, sizeof(out), &n), INFLATE_BAD_HEADER);
    CHECK_EQ(inflate_gzip(gzip_stream, sizeof(gzip_stream), out, 10, &n), INFLATE_OUTPUT_FULL);

    uint8_t z[sizeof(zlib_stream)];
    memcpy(z, zlib_stream, sizeof(z));
    z[sizeof(z) - 1] ^= 1;                  /* Adler-32 */
    CHECK_EQ(inflate_zlib(z, sizeof(z), out, sizeof(out), &n), INFLATE_BAD_CHECKSUM);
    memcpy(z, zlib_stream, sizeof(z));
    z[1] ^= 1;                              /* FCHECK */
    CHECK_EQ(inflate_zlib(z, sizeof(z), out, sizeof(out), &n), INFLATE_BAD_HEADER);
    CHECK(strcmp(inflate_strerror(INFLATE_BAD_DISTANCE), "ok") != 0);
}

/* ---------------------------------------------------------------- fuzz */

/* xorshift32: a fixed sequence, so a failure reproduces. */
static uint32_t fuzz_state;

static uint32_t fuzz_next(void)
{
    return harness_xorshift32(&fuzz_state);
}

#define FUZZ_ROUNDS 20000u

static void inflate_fuzz(void)
{
    const struct { const uint8_t *data; size_t len; int kind; } seeds[] = {
        { dynamic_stream, sizeof(dynamic_stream), 0 },
        { fixed_stream, sizeof(fixed_stream), 0 },
        { gzip_stream, sizeof(gzip_stream), 1 },
        { zlib_stream, sizeof(zlib_stream), 2 },
    };
    uint8_t buf[256];
    /* Output buffers sized exactly, so any stray write is a heap overflow ASan reports. */
    uint8_t *small = malloc(64);
    uint8_t *large = malloc(4096);
    unsigned results[INFLATE_TRAILING_DATA + 1] = { 0 };
    fuzz_state = 0x5eed1234u;
    for (unsigned round = 0; round < FUZZ_ROUNDS; round++) {
        unsigned s = round % 4u;
        size_t len = seeds[s].len;
        memcpy(buf, seeds[s].data, len);
        unsigned flips = 1 + fuzz_next() % 4u;
        for (unsigned f = 0; f < flips; f++) {
            uint32_t r = fuzz_next();
            if (r & 1u) {
                buf[(r >> 1) % len] ^= (uint8_t)(1u << ((r >> 16) % 8u));
            } else {
                buf[(r >> 1) % len] = (uint8_t)(r >> 24);
            }
        }
        if (fuzz_next() % 4u == 0) {
            len = fuzz_next() % (len + 1);  /* and sometimes truncate */
        }
        uint8_t *o = (round & 8u) ? small : large;
        size_t cap = (round & 8u) ? 64 : 4096;
        size_t n = 0;
        size_t used = 0;
        enum inflate_status st;
        if (seeds[s].kind == 0) {
            st = inflate_raw(buf, len, o, cap, &used, &n);
            CHECK(used <= len);
        } else if (seeds[s].kind == 1) {
            st = inflate_gzip(buf, len, o, cap, &n);
        } else {
            st = inflate_zlib(buf, len, o, cap, &n);
        }
        CHECK(n <= cap);
        CHECK((unsigned)st <= INFLATE_TRAILING_DATA);
        results[st]++;
    }
    /* The mutations reach the error classes, not just one of them. */
    CHECK(results[INFLATE_TRUNCATED] > 0);
    CHECK(results[INFLATE_BAD_CODE] + results[INFLATE_BAD_TABLE] > 0);
    CHECK(results[INFLATE_BAD_CHECKSUM] > 0);
    CHECK(results[INFLATE_BAD_HEADER] > 0);
    free(small);
    free(large);
}

/* The word-at-a-time CRC agrees with the bit-at-a-time one at every alignment and length, and
 * continues across calls. */
static void inflate_crc32_matches_bitwise(void)
{
    static uint8_t data[600];
    fuzz_state = 0xc0ffeeu;
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)fuzz_next();
    }
    unsigned mismatches = 0;
    for (size_t off = 0; off < 9; off++) {
        for (size_t len = 0; len + off <= sizeof(data); len += 7) {
            uint32_t want = vmm_config_crc32(data + off, len);
            mismatches += inflate_crc32(0, data + off, len) != want;
            size_t half = len / 2;
            mismatches += inflate_crc32(inflate_crc32(0, data + off, half), data + off + half,
                                        len - half) != want;
        }
    }
    CHECK_EQ(mismatches, 0);
}

HARNESS_SUITE(inflate_tests) = {
    { "inflate: slicing-by-8 CRC-32 equals the bitwise one", inflate_crc32_matches_bitwise },
    { "inflate: stored blocks", inflate_stored_block },
    { "inflate: fixed Huffman block (zlib's output)", inflate_fixed_block },
    { "inflate: dynamic Huffman block (zlib's output), exact output bound", inflate_dynamic_block },
    { "inflate: gzip (optional header fields) and zlib wrappers", inflate_wrappers },
    { "inflate: rejects BTYPE 11", inflate_rejects_bad_block_type },
    { "inflate: rejects a bad stored length and stored overflow", inflate_rejects_bad_stored_length },
    { "inflate: rejects truncated streams at every length", inflate_rejects_truncation },
    { "inflate: rejects distances before the output start", inflate_rejects_far_distance },
    { "inflate: rejects length 286 and distance 30", inflate_rejects_invalid_codes },
    { "inflate: rejects over-subscribed, incomplete and malformed tables", inflate_rejects_bad_tables },
    { "inflate: rejects bad CRC-32, ISIZE, Adler-32, headers, trailing data", inflate_rejects_bad_trailers },
    { "inflate: 20000 mutated streams fail cleanly (fuzz)", inflate_fuzz },
    HARNESS_END,
};
