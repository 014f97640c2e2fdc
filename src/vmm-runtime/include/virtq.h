/*
 * Split virtqueues from the device side (virtio 1.2 §2.7). The guest owns the rings and may be
 * hostile: every index and every descriptor is read once into private memory and checked
 * before use (the queue's place in guest RAM is checked when the driver makes it ready).
 *
 * The ring code knows nothing of the transport above it: each operation returns a status that
 * its caller (virtio_mmio.c) acts on: take the chain, raise the used-buffer interrupt, or break
 * the device with the one-line reason the ring wrote into `why` (without the queue's name,
 * which the caller puts in front).
 */
#pragma once

#include "virtio.h"

/* One queue's registers and the device's private ring state. */
struct virtq {
    uint32_t num;           /* QueueNum as written; checked when the queue is made ready */
    bool ready;             /* QueueReady */
    uint64_t desc_gpa, driver_gpa, device_gpa;
    /* Set when the queue is made ready, after the checks of §2.7: */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail;    /* next available-ring entry to take */
    uint16_t used_idx;      /* the device's copy of used->idx (never read back from the guest) */
    /* VIRTIO_F_EVENT_IDX negotiated (§2.7.7.2, §2.7.10.2): the driver's used_event says when
     * it wants an interrupt, our avail_event when we want a notification. */
    bool event_idx;
    /* With event_idx: how many chains past the ones taken the driver may add before it
     * notifies (avail_event = last_avail + notify_slack); 0, the usual, asks for a
     * notification at the next chain. A device that looks at the queue on its own (at every
     * exit of the guest's vCPUs) needs no notification for each chain. */
    uint16_t notify_slack;
};

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
    uint16_t head;          /* descriptor index, for virtq_push */
    uint16_t count;         /* segments */
    uint16_t readable;      /* seg[0, readable) are device-readable, the rest writable */
    uint32_t readable_len;  /* bytes */
    uint32_t writable_len;
    struct virtq_seg seg[VIRTQ_MAX_SIZE];
};

/* What a ring operation tells its caller to do. */
enum virtq_status {
    VIRTQ_OK,           /* done (virtq_pop: *out holds the next chain) */
    VIRTQ_EMPTY,        /* virtq_pop: the driver has made no chain available */
    VIRTQ_INTERRUPT,    /* virtq_push: done; the driver wants a used-buffer interrupt (§2.7.7) */
    VIRTQ_NOT_READY,    /* virtq_push: the queue is not ready or head is not one of its
                         * descriptors; nothing was written */
    VIRTQ_GUEST_ERROR,  /* the guest broke a rule (the reason is in `why`): the device is broken */
};

/* The transport's QueueReady=1: checks the queue's size (a power of two up to num_max), its
 * rings' alignment and extents against guest RAM (§2.6, §2.7) and starts it at index 0.
 * VIRTQ_OK or VIRTQ_GUEST_ERROR. */
enum virtq_status virtq_make_ready(struct virtq *vq, uint16_t num_max,
                                   const struct virtio_guest_mem *mem, char *why, size_t why_size);

/*
 * Takes the next chain the driver made available on a ready queue (§2.7.13): VIRTQ_OK with *out
 * filled, VIRTQ_EMPTY when there is none, VIRTQ_GUEST_ERROR when the ring or the chain breaks a
 * rule (nothing is taken). With event_idx, finding the ring empty also asks the driver to
 * notify for the next chain it adds, or notify_slack chains later (avail_event = the index we
 * wait for, §2.7.10.2), then
 * looks once more, so a chain added in between is not missed; while chains remain the driver
 * is not asked, so it does not notify for every buffer it adds.
 */
enum virtq_status virtq_pop(struct virtq *vq, const struct virtio_guest_mem *mem,
                            struct virtq_chain *out, char *why, size_t why_size);

/* Gives the chain last taken back (the backend had no room for it): the next virtq_pop
 * returns it again. */
void virtq_unpop(struct virtq *vq);

/*
 * Returns chain `head` to the driver in the used ring with `written` bytes written to its
 * device-writable buffers (§2.7.8), the used element made visible before the index.
 * VIRTQ_INTERRUPT unless the driver suppressed used-buffer interrupts (then VIRTQ_OK): with
 * event_idx, only the push that writes used entry number used_event interrupts (§2.7.10.1:
 * vring_need_event for one entry), else only without VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7.1).
 * VIRTQ_NOT_READY when the queue is not ready or head is out of range.
 */
enum virtq_status virtq_push(struct virtq *vq, uint16_t head, uint32_t written);

/* Copies up to len bytes of the chain's readable stream, from byte `offset`, into dst;
 * returns the bytes copied. */
size_t virtq_chain_read(const struct virtq_chain *c, size_t offset, void *dst, size_t len);

/* Copies up to len bytes from src into the chain's writable stream at byte `offset`; returns
 * the bytes copied. */
size_t virtq_chain_write(const struct virtq_chain *c, size_t offset, const void *src,
                         size_t len);
