/*
 * virtio-blk (virtio 1.2 §5.2) over virtio-mmio, backed by memory the VMM maps: `capacity`
 * sectors of 512 bytes at `disk`. Requests IN, OUT, FLUSH and GET_ID; everything else
 * completes with VIRTIO_BLK_S_UNSUPP. A read-only disk offers VIRTIO_BLK_F_RO and fails writes
 * with VIRTIO_BLK_S_IOERR without touching the buffer. Writes land in the buffer at once, so
 * there is no cache to flush (VIRTIO_BLK_F_FLUSH is not offered; FLUSH still succeeds).
 * Offered: VIRTIO_BLK_F_SEG_MAX, and VIRTIO_BLK_F_RO for a read-only disk.
 */
#pragma once

#include "virtio_mmio.h"

#define VIRTIO_ID_BLOCK         2u
/* Feature bits, §5.2.3. SEG_MAX costs nothing (any number of segments is handled) and lets
 * Linux put more than one data segment in a request. */
#define VIRTIO_BLK_F_SEG_MAX    2u
#define VIRTIO_BLK_F_RO         5u
/* Configuration, §5.2.4: capacity (le64, in 512-byte sectors) at 0, size_max (le32, unused
 * without VIRTIO_BLK_F_SIZE_MAX) at 8, seg_max (le32) at 12. */
#define VIRTIO_BLK_CONFIG_CAPACITY 0u
#define VIRTIO_BLK_CONFIG_SEG_MAX  12u
#define VIRTIO_BLK_CONFIG_SIZE     16u

#define VIRTIO_BLK_QUEUE_SIZE   128u
/* A request's header and status take a descriptor each (no indirect descriptors). */
#define VIRTIO_BLK_SEG_MAX      (VIRTIO_BLK_QUEUE_SIZE - 2u)
#define VIRTIO_BLK_SECTOR_SIZE  512u
#define VIRTIO_BLK_ID_BYTES     20u

/* Request types and status values, §5.2.6. */
#define VIRTIO_BLK_T_IN         0u
#define VIRTIO_BLK_T_OUT        1u
#define VIRTIO_BLK_T_FLUSH      4u
#define VIRTIO_BLK_T_GET_ID     8u
#define VIRTIO_BLK_S_OK         0u
#define VIRTIO_BLK_S_IOERR      1u
#define VIRTIO_BLK_S_UNSUPP     2u

/* The device-readable start of every request, §5.2.6. */
struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};
_Static_assert(offsetof(struct virtio_blk_req_hdr, sector) == 8, "virtio_blk_req layout");
_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "virtio_blk_req layout");

struct virtio_blk {
    struct virtio_mmio_dev dev;     /* first: the class hooks recover the device from it */
    uint8_t *disk;
    uint64_t capacity;              /* sectors */
    bool read_only;
    char serial[VIRTIO_BLK_ID_BYTES];   /* GET_ID answer, NUL-padded (not NUL-terminated) */
    unsigned long reads, writes, errors;
    struct virtq_chain chain;
};

/* `serial`: at most 20 characters are used. False: bad arguments (see virtio_mmio_init). */
bool virtio_blk_init(struct virtio_blk *b, const struct virtio_guest_mem *mem, uint8_t *disk,
                     uint64_t capacity_sectors, bool read_only, const char *serial,
                     void (*raise_irq)(void *ctx), void *irq_ctx);
