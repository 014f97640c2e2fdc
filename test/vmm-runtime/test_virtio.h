/*
 * A fake guest for the virtio tests: 1 MiB of guest RAM at 0x40000000 (a heap block, so
 * AddressSanitizer catches any device access outside it) and a driver that programs the
 * virtio-mmio registers and fills split rings the way Linux's virtio_mmio and virtio_ring do.
 * Queue q's rings sit at 0x40000000 + q * 0x4000 (descriptors, +0x1000 available ring,
 * +0x2000 used ring); buffers are allocated from 0x40010000 up.
 */
#pragma once

#include "harness.h"
#include "virtio_mmio.h"

#define TV_RAM_BASE 0x40000000ull
#define TV_RAM_SIZE 0x100000ull
#define TV_RAM_END  (TV_RAM_BASE + TV_RAM_SIZE)

struct tv_queue {
    uint16_t num;
    uint64_t desc, avail, used;
    uint16_t avail_idx;     /* the driver's next available index */
    uint16_t last_used;     /* used entries consumed */
    uint16_t next_desc;     /* next descriptor slot to fill (wraps) */
};

struct tv_guest {
    uint8_t *ram;
    struct virtio_guest_mem mem;
    struct virtio_mmio_dev *d;
    struct tv_queue q[VIRTIO_MAX_QUEUES];
    uint64_t next_buf;
    unsigned irqs;          /* raise_irq calls */
};

struct tv_seg {
    uint64_t gpa;
    uint32_t len;
    bool writable;
};

void tv_guest_init(struct tv_guest *g);
void tv_guest_free(struct tv_guest *g);
void tv_raise(void *ctx);

uint32_t tv_rd(struct tv_guest *g, uint32_t offset);
bool tv_wr(struct tv_guest *g, uint32_t offset, uint32_t value);
uint8_t *tv_host(struct tv_guest *g, uint64_t gpa);
/* A zeroed, 16-byte aligned buffer of guest RAM. */
uint64_t tv_alloc(struct tv_guest *g, uint32_t len);

/* Reset, ACKNOWLEDGE, DRIVER, the features (with VIRTIO_F_VERSION_1) and FEATURES_OK; true if
 * FEATURES_OK stuck. */
bool tv_negotiate(struct tv_guest *g, uint64_t features);
/* Programs queue q with the given size and ring addresses and sets QueueReady; returns what
 * the QueueReady write returned. */
bool tv_setup_queue(struct tv_guest *g, unsigned q, uint16_t num, uint64_t desc,
                    uint64_t avail, uint64_t used);
/* tv_negotiate, every queue at its QueueNumMax at the default place, DRIVER_OK. */
bool tv_probe(struct tv_guest *g, uint64_t features);

/* Fills descriptors for the segments (chained) and makes the chain available; no notify.
 * Returns the head. */
uint16_t tv_post(struct tv_guest *g, unsigned q, const struct tv_seg *segs, unsigned n);
bool tv_notify(struct tv_guest *g, unsigned q);
/* Takes the next used element; false when there is none. */
bool tv_used(struct tv_guest *g, unsigned q, uint32_t *id, uint32_t *len);

/* Raw ring writes for hostile cases. */
void tv_desc(struct tv_guest *g, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next);
void tv_avail_push(struct tv_guest *g, unsigned q, uint16_t head);
void tv_avail_set_idx(struct tv_guest *g, unsigned q, uint16_t idx);
