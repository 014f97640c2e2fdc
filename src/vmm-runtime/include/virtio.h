/*
 * Common virtio definitions (OASIS virtio 1.2, cs01): device status bits, the transport-
 * independent feature bits, the split-virtqueue layout in guest memory, and guest RAM as the
 * VMM sees it. Only modern (VIRTIO_F_VERSION_1) devices: every ring field is little-endian
 * (§2.7 "... in little-endian"), which is also the byte order of every host we build for.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x rings are little-endian");

/* Device status field, §2.1. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1u
#define VIRTIO_STATUS_DRIVER             2u
#define VIRTIO_STATUS_DRIVER_OK          4u
#define VIRTIO_STATUS_FEATURES_OK        8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED             128u

/* Reserved feature bits, §6. Only VERSION_1 is offered; the others are named for the checks. */
#define VIRTIO_F_INDIRECT_DESC  28u
#define VIRTIO_F_EVENT_IDX      29u
#define VIRTIO_F_VERSION_1      32u
#define VIRTIO_F_RING_PACKED    34u
#define VIRTIO_FEATURE(bit)     (1ull << (bit))

/* Split virtqueue descriptor flags, §2.7.5. */
#define VIRTQ_DESC_F_NEXT      1u
#define VIRTQ_DESC_F_WRITE     2u
#define VIRTQ_DESC_F_INDIRECT  4u
/* Available ring flags, §2.7.7: the driver asks for no used-buffer notifications. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u

/* The largest queue any device class here offers (QueueNumMax); §2.6 allows up to 32768. */
#define VIRTQ_MAX_SIZE 256u

/* The three parts of a split virtqueue, §2.7 ("Alignment" / "Size" table). */
struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
_Static_assert(offsetof(struct virtq_desc, addr) == 0, "virtq_desc layout");
_Static_assert(offsetof(struct virtq_desc, len) == 8, "virtq_desc layout");
_Static_assert(offsetof(struct virtq_desc, flags) == 12, "virtq_desc layout");
_Static_assert(offsetof(struct virtq_desc, next) == 14, "virtq_desc layout");
_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc layout");

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];    /* Queue Size entries, then uint16_t used_event (EVENT_IDX only) */
};
_Static_assert(offsetof(struct virtq_avail, idx) == 2, "virtq_avail layout");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "virtq_avail layout");

struct virtq_used_elem {
    uint32_t id;        /* head of the chain */
    uint32_t len;       /* bytes written into the chain's device-writable buffers */
};
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem layout");

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[];  /* Queue Size entries, then uint16_t avail_event */
};
_Static_assert(offsetof(struct virtq_used, idx) == 2, "virtq_used layout");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "virtq_used layout");

/* Alignments and sizes in bytes for a queue of n entries, §2.7 (the sizes include the
 * trailing used_event / avail_event fields). */
#define VIRTQ_DESC_ALIGN  16u
#define VIRTQ_AVAIL_ALIGN 2u
#define VIRTQ_USED_ALIGN  4u
#define VIRTQ_DESC_SIZE(n)  (16ull * (n))
#define VIRTQ_AVAIL_SIZE(n) (6ull + 2ull * (n))
#define VIRTQ_USED_SIZE(n)  (6ull + 8ull * (n))

/*
 * Ordering between the VMM and the guest's vCPUs, which may run on other cores: a full
 * barrier in the inner-shareable domain on the target, a sequentially consistent fence on the
 * host. Placed where §2.7.13 (driver side) and §2.7.8.2 (device side) need one.
 */
#if defined(__aarch64__)
#define virtio_barrier() __asm__ volatile("dmb ish" ::: "memory")
#else
#define virtio_barrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

/* Guest RAM: guest-physical [gpa_base, gpa_base + size) is host [host_base, host_base + size). */
struct virtio_guest_mem {
    uint64_t gpa_base;
    uint64_t size;
    uint8_t *host_base;
};

/* The host address of guest-physical [gpa, gpa + len), or NULL unless all of it is guest RAM
 * (overflow-safe for any 64-bit gpa and len). */
static inline uint8_t *virtio_guest_ptr(const struct virtio_guest_mem *m, uint64_t gpa,
                                        uint64_t len)
{
    if (gpa < m->gpa_base) {
        return NULL;
    }
    uint64_t off = gpa - m->gpa_base;
    if (off > m->size || len > m->size - off) {
        return NULL;
    }
    return m->host_base + off;
}
