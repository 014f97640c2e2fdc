/*
 * The configuration blobs' common preamble (vmm_blob.h). Read byte by byte: the blob is
 * tool-supplied data, checked before the caller takes a struct view of it.
 */
#include "vmm_blob.h"
#include "vmm_fmt.h"

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t read_u16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static uint32_t crc32_update(uint32_t crc, uint8_t byte)
{
    crc ^= byte;
    for (unsigned bit = 0; bit < 8; bit++) {
        crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc;
}

uint32_t blob_crc32(const uint8_t *data, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc = crc32_update(crc, data[i]);
    }
    return ~crc;
}

bool blob_check_preamble(const uint8_t *blob, size_t len, const struct blob_kind *kind,
                         char *err, size_t err_size)
{
    if (len < sizeof(struct blob_preamble)) {
        return vmm_fail(err, err_size, "blob of %zu bytes is shorter than its preamble", len);
    }
    uint32_t magic = read_u32(blob + offsetof(struct blob_preamble, magic));
    if (magic != kind->magic) {
        return vmm_fail(err, err_size, "bad magic 0x%08x (expected 0x%08x '%s'); was the config "
                        "written into this ELF?", magic, kind->magic, kind->magic_name);
    }
    uint32_t version = read_u16(blob + offsetof(struct blob_preamble, version));
    if (version != kind->version) {
        return vmm_fail(err, err_size, "unsupported version %u (this runtime reads version %u)",
                        version, kind->version);
    }
    uint32_t header_size = read_u16(blob + offsetof(struct blob_preamble, header_size));
    uint32_t total_size = read_u32(blob + offsetof(struct blob_preamble, total_size));
    if (header_size != kind->header_size) {
        return vmm_fail(err, err_size, "header size %u, expected %zu", header_size,
                        kind->header_size);
    }
    size_t limit = len < kind->reserved_size ? len : kind->reserved_size;
    if (total_size < header_size || total_size > limit) {
        return vmm_fail(err, err_size, "total size %u is outside [%u, %zu]", total_size,
                        header_size, limit);
    }
    /* The CRC is computed as if its own field were zero. */
    const size_t crc_at = offsetof(struct blob_preamble, crc32);
    uint32_t stored_crc = read_u32(blob + crc_at);
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < total_size; i++) {
        crc = crc32_update(crc, i - crc_at < 4 ? 0 : blob[i]);
    }
    crc = ~crc;
    if (crc != stored_crc) {
        return vmm_fail(err, err_size, "checksum mismatch: stored 0x%08x, computed 0x%08x",
                        stored_crc, crc);
    }
    return true;
}
