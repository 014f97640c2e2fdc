/*
 * The preamble every configuration blob of the runtime starts with (vmm_config.h,
 * timer_config.h): magic, version, header size, total size, CRC-32. One checker for all of
 * them, so that each blob's own checks start from bytes known to be what the tool wrote.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blob_preamble {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;
    uint32_t total_size;
    uint32_t crc32;
};
_Static_assert(offsetof(struct blob_preamble, magic) == 0x0, "preamble layout");
_Static_assert(offsetof(struct blob_preamble, version) == 0x4, "preamble layout");
_Static_assert(offsetof(struct blob_preamble, header_size) == 0x6, "preamble layout");
_Static_assert(offsetof(struct blob_preamble, total_size) == 0x8, "preamble layout");
_Static_assert(offsetof(struct blob_preamble, crc32) == 0xc, "preamble layout");
_Static_assert(sizeof(struct blob_preamble) == 0x10, "preamble layout");

/* What a reader expects of its blob. */
struct blob_kind {
    uint32_t magic;
    const char *magic_name;     /* e.g. "S4VM", for the message */
    uint16_t version;
    size_t header_size;         /* sizeof the reader's struct */
    size_t reserved_size;       /* bytes of its section */
};

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zlib computes it. */
uint32_t blob_crc32(const uint8_t *data, size_t len);

/*
 * Checks the preamble of a blob of `len` bytes and its CRC (computed with the crc32 field taken
 * as zero). Returns false with one line in err naming the first problem.
 */
bool blob_check_preamble(const uint8_t *blob, size_t len, const struct blob_kind *kind,
                         char *err, size_t err_size);
