/*
 * A DEFLATE decoder (RFC 1951) with the gzip (RFC 1952) and zlib (RFC 1950) wrappers, for
 * guest images that the link step stored compressed. Written from the RFCs for this runtime.
 *
 * Nothing in the input is trusted: every read of the compressed stream and every write to the
 * output is bounds-checked, and each way a stream can be wrong is a distinct status, returned
 * (never asserted). On any error the output buffer may hold a partial result.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

enum inflate_status {
    INFLATE_OK = 0,
    INFLATE_TRUNCATED,          /* the input ended inside the stream */
    INFLATE_BAD_BLOCK_TYPE,     /* BTYPE 11 (RFC 1951 3.2.3) */
    INFLATE_BAD_STORED_LENGTH,  /* NLEN is not the one's complement of LEN (3.2.4) */
    INFLATE_BAD_TABLE,          /* a Huffman code is over-subscribed or incomplete, or the
                                 * code lengths are malformed (3.2.2, 3.2.7) */
    INFLATE_BAD_CODE,           /* a bit pattern or symbol no valid stream contains */
    INFLATE_BAD_DISTANCE,       /* a distance reaches before the start of the output */
    INFLATE_OUTPUT_FULL,        /* the stream unpacks to more than the output can hold */
    INFLATE_BAD_HEADER,         /* gzip/zlib header: magic, method, flags, header CRC */
    INFLATE_BAD_CHECKSUM,       /* gzip CRC-32 or zlib Adler-32 of the data differs */
    INFLATE_BAD_LENGTH,         /* gzip ISIZE differs from the bytes produced */
    INFLATE_TRAILING_DATA,      /* bytes after the end of the gzip/zlib member */
};

/* A short English name for a status ("invalid distance", ...). */
const char *inflate_strerror(enum inflate_status status);

/*
 * Decodes the raw DEFLATE stream in [in, in + in_len) into [out, out + out_cap). On success
 * *in_used is the number of input bytes the stream occupied (up to its last whole byte) and
 * *out_len the bytes produced. Both are set on failure too, to where decoding stopped.
 */
enum inflate_status inflate_raw(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                                size_t *in_used, size_t *out_len);

/* One gzip member (RFC 1952) that must fill exactly [in, in + in_len); checks CRC-32 and ISIZE. */
enum inflate_status inflate_gzip(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                                 size_t *out_len);

/* One zlib stream (RFC 1950) that must fill exactly [in, in + in_len); checks Adler-32. A preset
 * dictionary (FDICT) is a header error: nothing here could supply it. */
enum inflate_status inflate_zlib(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                                 size_t *out_len);

/* CRC-32 as gzip defines it (RFC 1952 8: ISO 3309, reflected polynomial 0xEDB88320). */
uint32_t inflate_crc32(uint32_t crc, const uint8_t *data, size_t len);
