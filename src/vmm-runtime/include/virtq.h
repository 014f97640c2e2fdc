/*
 * Split virtqueues from the device side (virtio 1.2 §2.7). The guest owns the rings and may be
 * hostile: every index and every descriptor is read once into private memory and checked
 * before use (the queue's place in guest RAM was checked when the driver made it ready, see
 * virtio_mmio.c). A chain that breaks a rule makes the device broken with a decoded report.
 */
#pragma once

#include "virtio_mmio.h"

/* One buffer of a descriptor chain, in the VMM's address space (inside guest RAM). */
struct virtq_seg {
    uint8_t *host;
    uint32_t len;
    bool writable;      /* VIRTQ_DESC_F_WRITE: device-writable */
};

/*
 * A descriptor chain (§2.7.4): device-readable segments first, then device-writable ones
 * (§2.7.4.2, checked), so the readable bytes and the writable bytes each form one stream.
 */
struct virtq_chain {
    uint16_t head;          /* descriptor index, for virtq_complete */
    uint16_t count;         /* segments */
    uint16_t readable;      /* seg[0, readable) are device-readable, the rest writable */
    uint32_t readable_len;  /* bytes */
    uint32_t writable_len;
    struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

/*
 * Takes the next chain the driver made available on queue q (§2.7.13): 1 and *out filled,
 * 0 when there is none (or the queue is not ready / the driver not running), -1 on a guest
 * error (the device is broken; virtio_mmio_report has the line).
 */
int virtq_next_chain(struct virtio_mmio_dev *d, unsigned q, struct virtq_chain *out);

/* Gives the chain last taken from queue q back (the backend had no room for it): the next
 * virtq_next_chain returns it again. */
void virtq_unpop(struct virtio_mmio_dev *d, unsigned q);

/*
 * Returns chain `head` to the driver in the used ring with `written` bytes written to its
 * device-writable buffers (§2.7.8), the used element made visible before the index, and
 * raises the used-buffer interrupt unless the driver suppressed it (§2.7.7). False if the
 * device is broken or the queue is not ready (nothing written).
 */
bool virtq_complete(struct virtio_mmio_dev *d, unsigned q, uint16_t head, uint32_t written);

/* Copies up to len bytes of the chain's readable stream, from byte `offset`, into dst;
 * returns the bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *c, size_t offset, void *dst, size_t len);

/* Copies up to len bytes from src into the chain's writable stream at byte `offset`; returns
 * the bytes copied. */
size_t virtq_chain_write(const struct virtq_chain *c, size_t offset, const void *src,
                         size_t len);

/* The transport's QueueReady=1: checks queue q's size, alignment and ring extents against
 * guest RAM (§2.6, §2.7) and starts it at index 0. False: guest error (device broken). */
bool virtq_make_ready(struct virtio_mmio_dev *d, unsigned q);

/* The name of queue q of the device's class, for reports ("rx", "?"). */
const char *virtq_name(const struct virtio_mmio_dev *d, unsigned q);
