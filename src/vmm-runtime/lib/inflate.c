/*
 * DEFLATE (RFC 1951), gzip (RFC 1952) and zlib (RFC 1950) decoding; see inflate.h.
 *
 * Structure: a little-endian bit reader over the input (3.1.1: data elements are packed
 * starting with the least significant bit), canonical Huffman tables built from code lengths
 * (3.2.2) with a 9-bit lookup table for the common short codes and a length-by-length walk for
 * the rest, and the block loop of 3.2.3. Every helper reports failure through its return value;
 * the first failure ends decoding.
 */
#include "inflate.h"

#include <stdbool.h>
#include "vmm_string.h"

/* ------------------------------------------------------------------ bit reader */

struct bit_reader {
    const uint8_t *in;
    size_t len;
    size_t pos;         /* next byte to load into buf */
    uint64_t buf;       /* loaded, unconsumed bits; the next one is bit 0 */
    unsigned count;     /* number of valid bits in buf */
};

static void bits_refill(struct bit_reader *b)
{
    while (b->count <= 56 && b->pos < b->len) {
        b->buf |= (uint64_t)b->in[b->pos++] << b->count;
        b->count += 8;
    }
}

/* Takes n (0..32) bits, the first one as the least significant (3.1.1). */
static inline __attribute__((always_inline)) bool bits_take(struct bit_reader *b, unsigned n, uint32_t *value)
{
    if (b->count < n) {
        bits_refill(b);
        if (b->count < n) {
            return false;
        }
    }
    *value = (uint32_t)(b->buf & ((1ull << n) - 1u));
    b->buf >>= n;
    b->count -= n;
    return true;
}

/* Drops the bits up to the next byte boundary of the input (stored blocks, 3.2.4). Bits are
 * loaded a byte at a time, so the boundary is where count is a multiple of 8. */
static void bits_align(struct bit_reader *b)
{
    unsigned drop = b->count % 8u;
    b->buf >>= drop;
    b->count -= drop;
}

/* Input bytes fully consumed: the loaded but unused whole bytes are given back. */
static size_t bits_used(const struct bit_reader *b)
{
    return b->pos - b->count / 8u;
}

/* ------------------------------------------------------------------ Huffman tables */

#define MAX_CODE_BITS  15u      /* 3.2.7: code lengths are 0..15 */
#define FAST_BITS      9u
#define MAX_LITLEN     288u     /* 286 used, 288 in the fixed code (3.2.6) */
#define MAX_DIST       32u      /* 30 used, 32 in the fixed code */
#define NUM_CLEN       19u

struct huffman {
    uint16_t count[MAX_CODE_BITS + 1];  /* number of codes of each length */
    uint16_t symbol[MAX_LITLEN];        /* symbols in canonical order: by length, then value */
    /* Indexed by the next FAST_BITS input bits: (symbol << 4) | length for codes up to
     * FAST_BITS long; 0 where the code is longer (or unused). */
    uint16_t fast[1u << FAST_BITS];
};

static unsigned reverse_bits(unsigned code, unsigned len)
{
    unsigned r = 0;
    for (unsigned i = 0; i < len; i++) {
        r = (r << 1) | ((code >> i) & 1u);
    }
    return r;
}

/*
 * Builds the canonical code of 3.2.2 for n symbols with the given code lengths. An
 * over-subscribed set is always an error. An incomplete set is accepted only when it is empty
 * or a single code of one bit (3.2.7: "If only one distance code is used, it is encoded using
 * one bit"); any other unused bit pattern would be a hole in the code.
 */
static bool huffman_build(struct huffman *h, const uint8_t *lengths, unsigned n)
{
    memset(h, 0, sizeof(*h));
    for (unsigned s = 0; s < n; s++) {
        if (lengths[s] > MAX_CODE_BITS) {
            return false;
        }
        h->count[lengths[s]]++;
    }
    h->count[0] = 0;
    int left = 1;                       /* code space left at the current length */
    unsigned used = 0;
    for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
        left <<= 1;
        left -= h->count[len];
        if (left < 0) {
            return false;               /* over-subscribed */
        }
        used += h->count[len];
    }
    if (left > 0 && !(used == 0 || (used == 1 && h->count[1] == 1))) {
        return false;                   /* incomplete */
    }

    uint16_t offset[MAX_CODE_BITS + 2];
    offset[1] = 0;
    for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
        offset[len + 1] = (uint16_t)(offset[len] + h->count[len]);
    }
    for (unsigned s = 0; s < n; s++) {
        if (lengths[s] != 0) {
            h->symbol[offset[lengths[s]]++] = (uint16_t)s;
        }
    }

    /* Codes of one length are consecutive integers, and the first code of each length follows
     * the last of the previous length, shifted left (3.2.2 step 2). Huffman codes are sent
     * most significant bit first, so the lookup index is the reversed code. */
    unsigned code = 0;
    unsigned index = 0;
    for (unsigned len = 1; len <= FAST_BITS; len++) {
        for (unsigned k = 0; k < h->count[len]; k++, index++, code++) {
            uint16_t entry = (uint16_t)((h->symbol[index] << 4) | len);
            for (unsigned i = reverse_bits(code, len); i < (1u << FAST_BITS); i += 1u << len) {
                h->fast[i] = entry;
            }
        }
        code <<= 1;
    }
    return true;
}

/* One bit at a time: after reading len bits, `code` is a valid code of that length if it lies
 * within the count[len] codes that start at `first`. For codes longer than FAST_BITS and for the
 * last bits of the input. */
static __attribute__((noinline)) enum inflate_status huffman_decode_slow(struct bit_reader *b,
                                                                         const struct huffman *h,
                                                                         unsigned *symbol)
{
    unsigned code = 0;
    unsigned first = 0;
    unsigned index = 0;
    for (unsigned len = 1; len <= MAX_CODE_BITS; len++) {
        uint32_t bit;
        if (!bits_take(b, 1, &bit)) {
            return INFLATE_TRUNCATED;
        }
        code |= bit;
        if (code - first < h->count[len]) {
            *symbol = h->symbol[index + (code - first)];
            return INFLATE_OK;
        }
        index += h->count[len];
        first = (first + h->count[len]) << 1;
        code <<= 1;
    }
    return INFLATE_BAD_CODE;
}

/* Inlined into the block loop: the table lookup is the common case by far. */
static inline __attribute__((always_inline)) enum inflate_status
huffman_decode(struct bit_reader *b, const struct huffman *h, unsigned *symbol)
{
    if (b->count < FAST_BITS) {
        bits_refill(b);
    }
    if (b->count >= FAST_BITS) {
        uint16_t entry = h->fast[b->buf & ((1u << FAST_BITS) - 1u)];
        if (entry != 0) {
            unsigned len = entry & 15u;
            b->buf >>= len;
            b->count -= len;
            *symbol = entry >> 4;
            return INFLATE_OK;
        }
    }
    return huffman_decode_slow(b, h, symbol);
}

/* ------------------------------------------------------------------ blocks */

/* 3.2.5: length codes 257..285 and distance codes 0..29, base value and extra bits. */
static const uint16_t length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[30] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
    257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
};
static const uint8_t dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};

/* 3.2.7: the order in which code length code lengths are sent. */
static const uint8_t clen_order[NUM_CLEN] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
};

struct output {
    uint8_t *buf;
    size_t cap;
    size_t len;
};

struct tables {
    struct huffman litlen;
    struct huffman dist;
};

static enum inflate_status inflate_codes(struct bit_reader *b, struct output *o,
                                         const struct tables *t)
{
    for (;;) {
        unsigned sym;
        enum inflate_status st = huffman_decode(b, &t->litlen, &sym);
        if (st != INFLATE_OK) {
            return st;
        }
        if (sym < 256) {
            if (o->len >= o->cap) {
                return INFLATE_OUTPUT_FULL;
            }
            o->buf[o->len++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256) {
            return INFLATE_OK;
        }
        sym -= 257;
        if (sym >= 29) {
            return INFLATE_BAD_CODE;        /* 286 and 287 never occur (3.2.6) */
        }
        uint32_t extra;
        if (!bits_take(b, length_extra[sym], &extra)) {
            return INFLATE_TRUNCATED;
        }
        size_t length = length_base[sym] + extra;
        unsigned dsym;
        st = huffman_decode(b, &t->dist, &dsym);
        if (st != INFLATE_OK) {
            return st;
        }
        if (dsym >= 30) {
            return INFLATE_BAD_CODE;        /* 30 and 31 never occur (3.2.6) */
        }
        if (!bits_take(b, dist_extra[dsym], &extra)) {
            return INFLATE_TRUNCATED;
        }
        size_t distance = dist_base[dsym] + extra;
        if (distance > o->len) {
            return INFLATE_BAD_DISTANCE;
        }
        if (length > o->cap - o->len) {
            return INFLATE_OUTPUT_FULL;
        }
        /* Byte by byte: the source may overlap what is being written (3.2.3). */
        uint8_t *dst = o->buf + o->len;
        const uint8_t *src = dst - distance;
        for (size_t i = 0; i < length; i++) {
            dst[i] = src[i];
        }
        o->len += length;
    }
}

static enum inflate_status inflate_stored(struct bit_reader *b, struct output *o)
{
    bits_align(b);
    uint32_t len;
    uint32_t nlen;
    if (!bits_take(b, 16, &len) || !bits_take(b, 16, &nlen)) {
        return INFLATE_TRUNCATED;
    }
    if ((len ^ 0xffffu) != nlen) {
        return INFLATE_BAD_STORED_LENGTH;
    }
    if (len > o->cap - o->len) {
        return INFLATE_OUTPUT_FULL;
    }
    /* Whole bytes still in the bit buffer come first, then straight from the input. */
    while (len > 0 && b->count >= 8) {
        uint32_t byte;
        (void)bits_take(b, 8, &byte);
        o->buf[o->len++] = (uint8_t)byte;
        len--;
    }
    if (len > b->len - b->pos) {
        return INFLATE_TRUNCATED;
    }
    if (len > 0) {
        memcpy(o->buf + o->len, b->in + b->pos, len);
    }
    b->pos += len;
    o->len += len;
    return INFLATE_OK;
}

static void fixed_tables(struct tables *t)
{
    uint8_t lengths[MAX_LITLEN];
    unsigned s = 0;
    for (; s < 144; s++) lengths[s] = 8;
    for (; s < 256; s++) lengths[s] = 9;
    for (; s < 280; s++) lengths[s] = 7;
    for (; s < MAX_LITLEN; s++) lengths[s] = 8;
    (void)huffman_build(&t->litlen, lengths, MAX_LITLEN);     /* complete by construction */
    memset(lengths, 5, MAX_DIST);
    (void)huffman_build(&t->dist, lengths, MAX_DIST);
}

static enum inflate_status dynamic_tables(struct bit_reader *b, struct tables *t)
{
    uint32_t hlit;
    uint32_t hdist;
    uint32_t hclen;
    if (!bits_take(b, 5, &hlit) || !bits_take(b, 5, &hdist) || !bits_take(b, 4, &hclen)) {
        return INFLATE_TRUNCATED;
    }
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > 286) {
        return INFLATE_BAD_TABLE;           /* 3.2.7: HLIT is 257..286 */
    }

    uint8_t lengths[MAX_LITLEN + MAX_DIST];
    memset(lengths, 0, NUM_CLEN);
    for (unsigned i = 0; i < hclen; i++) {
        uint32_t v;
        if (!bits_take(b, 3, &v)) {
            return INFLATE_TRUNCATED;
        }
        lengths[clen_order[i]] = (uint8_t)v;
    }
    struct huffman clen;
    if (!huffman_build(&clen, lengths, NUM_CLEN)) {
        return INFLATE_BAD_TABLE;
    }

    unsigned total = hlit + hdist;
    unsigned i = 0;
    while (i < total) {
        unsigned sym;
        enum inflate_status st = huffman_decode(b, &clen, &sym);
        if (st != INFLATE_OK) {
            return st == INFLATE_BAD_CODE ? INFLATE_BAD_TABLE : st;
        }
        if (sym < 16) {
            lengths[i++] = (uint8_t)sym;
            continue;
        }
        uint32_t repeat;
        uint8_t value = 0;
        if (sym == 16) {
            if (i == 0) {
                return INFLATE_BAD_TABLE;   /* nothing to repeat */
            }
            value = lengths[i - 1];
            if (!bits_take(b, 2, &repeat)) {
                return INFLATE_TRUNCATED;
            }
            repeat += 3;
        } else if (sym == 17) {
            if (!bits_take(b, 3, &repeat)) {
                return INFLATE_TRUNCATED;
            }
            repeat += 3;
        } else {
            if (!bits_take(b, 7, &repeat)) {
                return INFLATE_TRUNCATED;
            }
            repeat += 11;
        }
        if (repeat > total - i) {
            return INFLATE_BAD_TABLE;       /* runs past the declared code lengths */
        }
        while (repeat-- > 0) {
            lengths[i++] = value;
        }
    }
    if (lengths[256] == 0) {
        return INFLATE_BAD_TABLE;           /* no end-of-block code: the block cannot end */
    }
    if (!huffman_build(&t->litlen, lengths, hlit) || !huffman_build(&t->dist, lengths + hlit, hdist)) {
        return INFLATE_BAD_TABLE;
    }
    return INFLATE_OK;
}

static enum inflate_status inflate_blocks(struct bit_reader *b, struct output *o)
{
    /* The tables are large for a VMM stack; one decode runs at a time. */
    static struct tables tables;
    for (;;) {
        uint32_t final;
        uint32_t type;
        if (!bits_take(b, 1, &final) || !bits_take(b, 2, &type)) {
            return INFLATE_TRUNCATED;
        }
        enum inflate_status st;
        switch (type) {
        case 0:
            st = inflate_stored(b, o);
            break;
        case 1:
            fixed_tables(&tables);
            st = inflate_codes(b, o, &tables);
            break;
        case 2:
            st = dynamic_tables(b, &tables);
            if (st == INFLATE_OK) {
                st = inflate_codes(b, o, &tables);
            }
            break;
        default:
            return INFLATE_BAD_BLOCK_TYPE;
        }
        if (st != INFLATE_OK) {
            return st;
        }
        if (final) {
            return INFLATE_OK;
        }
    }
}

enum inflate_status inflate_raw(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                                size_t *in_used, size_t *out_len)
{
    struct bit_reader b = { .in = in, .len = in_len };
    struct output o = { .buf = out, .cap = out_cap };
    enum inflate_status st = inflate_blocks(&b, &o);
    *in_used = bits_used(&b);
    *out_len = o.len;
    return st;
}

/* ------------------------------------------------------------------ wrappers */

/* CRC-32 eight bytes at a time ("slicing-by-8"): table[k][b] is the CRC of byte b followed by
 * k zero bytes, so the CRCs of the eight bytes of a word combine by XOR. Unpacking a kernel
 * checks 30+ MiB, where this is about three times faster than a byte at a time. */
static uint32_t crc_table[8][256];
static bool crc_table_ready;

/* An aligned little-endian 32-bit load from a byte buffer (may_alias: the bytes are uint8_t). */
typedef uint32_t __attribute__((may_alias)) crc_word;

uint32_t inflate_crc32(uint32_t crc, const uint8_t *data, size_t len)
{
    if (!crc_table_ready) {
        for (uint32_t n = 0; n < 256; n++) {
            uint32_t c = n;
            for (unsigned k = 0; k < 8; k++) {
                c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
            }
            crc_table[0][n] = c;
        }
        for (uint32_t n = 0; n < 256; n++) {
            for (unsigned k = 1; k < 8; k++) {
                uint32_t prev = crc_table[k - 1][n];
                crc_table[k][n] = (prev >> 8) ^ crc_table[0][prev & 0xffu];
            }
        }
        crc_table_ready = true;
    }
    crc = ~crc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (len > 0 && ((uintptr_t)data & 3u) != 0) {
        crc = crc_table[0][(crc ^ *data++) & 0xffu] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint32_t lo = ((const crc_word *)(const void *)data)[0] ^ crc;
        uint32_t hi = ((const crc_word *)(const void *)data)[1];
        crc = crc_table[7][lo & 0xffu] ^ crc_table[6][(lo >> 8) & 0xffu]
              ^ crc_table[5][(lo >> 16) & 0xffu] ^ crc_table[4][lo >> 24]
              ^ crc_table[3][hi & 0xffu] ^ crc_table[2][(hi >> 8) & 0xffu]
              ^ crc_table[1][(hi >> 16) & 0xffu] ^ crc_table[0][hi >> 24];
        data += 8;
        len -= 8;
    }
#endif
    while (len > 0) {
        crc = crc_table[0][(crc ^ *data++) & 0xffu] ^ (crc >> 8);
        len--;
    }
    return ~crc;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* RFC 1952 2.3.1 FLG bits. */
#define GZIP_FTEXT     0x01u
#define GZIP_FHCRC     0x02u
#define GZIP_FEXTRA    0x04u
#define GZIP_FNAME     0x08u
#define GZIP_FCOMMENT  0x10u
#define GZIP_FRESERVED 0xe0u

/* Skips a zero-terminated header field; false if the terminator is missing. */
static bool skip_zstring(const uint8_t *in, size_t len, size_t *pos)
{
    const uint8_t *nul = *pos <= len ? memchr(in + *pos, 0, len - *pos) : NULL;
    if (nul == NULL) {
        return false;
    }
    *pos = (size_t)(nul - in) + 1;
    return true;
}

enum inflate_status inflate_gzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                                 size_t *out_len)
{
    *out_len = 0;
    /* 2.3: ID1 ID2 CM FLG MTIME(4) XFL OS, then the optional fields. */
    if (in_len < 10) {
        return INFLATE_TRUNCATED;
    }
    if (in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 || (in[3] & GZIP_FRESERVED) != 0) {
        return INFLATE_BAD_HEADER;
    }
    uint8_t flags = in[3];
    size_t pos = 10;
    if (flags & GZIP_FEXTRA) {
        if (in_len - pos < 2) {
            return INFLATE_TRUNCATED;
        }
        size_t xlen = (size_t)in[pos] | ((size_t)in[pos + 1] << 8);
        pos += 2;
        if (xlen > in_len - pos) {
            return INFLATE_TRUNCATED;
        }
        pos += xlen;
    }
    if ((flags & GZIP_FNAME) && !skip_zstring(in, in_len, &pos)) {
        return INFLATE_TRUNCATED;
    }
    if ((flags & GZIP_FCOMMENT) && !skip_zstring(in, in_len, &pos)) {
        return INFLATE_TRUNCATED;
    }
    if (flags & GZIP_FHCRC) {
        if (in_len - pos < 2) {
            return INFLATE_TRUNCATED;
        }
        uint32_t want = (uint32_t)in[pos] | ((uint32_t)in[pos + 1] << 8);
        if ((inflate_crc32(0, in, pos) & 0xffffu) != want) {
            return INFLATE_BAD_HEADER;
        }
        pos += 2;
    }
    size_t used;
    enum inflate_status st = inflate_raw(in + pos, in_len - pos, out, out_cap, &used, out_len);
    if (st != INFLATE_OK) {
        return st;
    }
    pos += used;
    /* 2.3.1: CRC32 and ISIZE (the length modulo 2^32), little-endian. */
    if (in_len - pos < 8) {
        return INFLATE_TRUNCATED;
    }
    if (le32(in + pos) != inflate_crc32(0, out, *out_len)) {
        return INFLATE_BAD_CHECKSUM;
    }
    if (le32(in + pos + 4) != (uint32_t)*out_len) {
        return INFLATE_BAD_LENGTH;
    }
    return in_len - pos == 8 ? INFLATE_OK : INFLATE_TRAILING_DATA;
}

/* RFC 1950 8.2: Adler-32, sums modulo 65521; 5552 bytes is the most that can be summed in
 * 32 bits before reducing. */
static uint32_t adler32(const uint8_t *data, size_t len)
{
    uint32_t a = 1;
    uint32_t b = 0;
    while (len > 0) {
        size_t n = len < 5552 ? len : 5552;
        len -= n;
        while (n-- > 0) {
            a += *data++;
            b += a;
        }
        a %= 65521u;
        b %= 65521u;
    }
    return (b << 16) | a;
}

enum inflate_status inflate_zlib(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                                 size_t *out_len)
{
    *out_len = 0;
    if (in_len < 2) {
        return INFLATE_TRUNCATED;
    }
    /* 2.2: CM 8 (deflate), CINFO <= 7 (window up to 32 KiB), FCHECK makes CMF*256+FLG a
     * multiple of 31, FDICT unsupported. */
    uint8_t cmf = in[0];
    uint8_t flg = in[1];
    if ((cmf & 0x0fu) != 8 || (cmf >> 4) > 7 || ((unsigned)cmf * 256u + flg) % 31u != 0
        || (flg & 0x20u) != 0) {
        return INFLATE_BAD_HEADER;
    }
    size_t used;
    enum inflate_status st = inflate_raw(in + 2, in_len - 2, out, out_cap, &used, out_len);
    if (st != INFLATE_OK) {
        return st;
    }
    size_t pos = 2 + used;
    if (in_len - pos < 4) {
        return INFLATE_TRUNCATED;
    }
    uint32_t want = ((uint32_t)in[pos] << 24) | ((uint32_t)in[pos + 1] << 16)
                    | ((uint32_t)in[pos + 2] << 8) | in[pos + 3];
    if (adler32(out, *out_len) != want) {
        return INFLATE_BAD_CHECKSUM;
    }
    return in_len - pos == 4 ? INFLATE_OK : INFLATE_TRAILING_DATA;
}

const char *inflate_strerror(enum inflate_status status)
{
    switch (status) {
    case INFLATE_OK: return "ok";
    case INFLATE_TRUNCATED: return "stream is truncated";
    case INFLATE_BAD_BLOCK_TYPE: return "invalid block type";
    case INFLATE_BAD_STORED_LENGTH: return "stored block length check failed";
    case INFLATE_BAD_TABLE: return "invalid Huffman code lengths";
    case INFLATE_BAD_CODE: return "invalid code";
    case INFLATE_BAD_DISTANCE: return "distance reaches before the start of the output";
    case INFLATE_OUTPUT_FULL: return "unpacks to more than the space given";
    case INFLATE_BAD_HEADER: return "bad header";
    case INFLATE_BAD_CHECKSUM: return "checksum of the unpacked data does not match";
    case INFLATE_BAD_LENGTH: return "length in the trailer does not match";
    case INFLATE_TRAILING_DATA: return "data after the end of the stream";
    }
    return "unknown error";
}
