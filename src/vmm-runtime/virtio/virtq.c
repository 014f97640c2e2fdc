/*
 * Split virtqueues, device side (virtio 1.2 §2.7). The rings live in guest RAM and the guest
 * may change them at any time from another vCPU, so every field is loaded once (a relaxed
 * atomic load, never torn), copied into private memory and checked before it is used. The
 * ring pointers themselves were checked against guest RAM in virtq_make_ready, and every
 * index into them is reduced modulo the (power-of-two) queue size or checked against it.
 * Nothing here calls the transport: every operation returns a status (virtq.h).
 */
#include "virtq.h"

#include <stdarg.h>

#include "vmm_fmt.h"
#include "vmm_string.h"

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

/* A guest error: its reason into why, one line. */
static enum virtq_status guest_error(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum virtq_status guest_error(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmm_vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return VIRTQ_GUEST_ERROR;
}

static uint64_t ram_end(const struct virtio_guest_mem *mem)
{
    return mem->gpa_base + mem->size;
}

/* One part of the ring (§2.7 table: alignment and size), or NULL with the reason in why. */
static void *ring_part(const struct virtio_guest_mem *mem, const char *what, uint64_t gpa,
                       uint64_t size, unsigned align, char *why, size_t why_size)
{
    if (gpa % align != 0) {
        guest_error(why, why_size, "%s address 0x%llx is not %u-byte aligned (virtio 1.2, 2.7)",
                    what, (unsigned long long)gpa, align);
        return NULL;
    }
    void *p = virtio_guest_ptr(mem, gpa, size);
    if (p == NULL) {
        guest_error(why, why_size, "%s [0x%llx..+0x%llx) is outside guest RAM [0x%llx..0x%llx)",
                    what, (unsigned long long)gpa, (unsigned long long)size,
                    (unsigned long long)mem->gpa_base, (unsigned long long)ram_end(mem));
    }
    return p;
}

enum virtq_status virtq_make_ready(struct virtq *vq, uint16_t num_max,
                                   const struct virtio_guest_mem *mem, char *why, size_t why_size)
{
    uint32_t n = vq->num;
    /* §2.6 / §2.7: a split queue's size is a power of two, here at most QueueNumMax. */
    if (n == 0 || (n & (n - 1u)) != 0 || n > num_max) {
        return guest_error(why, why_size, "queue size %u is not a power of two in 1..%u "
                           "(QueueNumMax)", n, num_max);
    }
    struct virtq_desc *desc = ring_part(mem, "descriptor table", vq->desc_gpa,
                                        VIRTQ_DESC_SIZE(n), VIRTQ_DESC_ALIGN, why, why_size);
    if (desc == NULL) {
        return VIRTQ_GUEST_ERROR;
    }
    struct virtq_avail *avail = ring_part(mem, "available ring", vq->driver_gpa,
                                          VIRTQ_AVAIL_SIZE(n), VIRTQ_AVAIL_ALIGN, why, why_size);
    if (avail == NULL) {
        return VIRTQ_GUEST_ERROR;
    }
    struct virtq_used *used = ring_part(mem, "used ring", vq->device_gpa,
                                        VIRTQ_USED_SIZE(n), VIRTQ_USED_ALIGN, why, why_size);
    if (used == NULL) {
        return VIRTQ_GUEST_ERROR;
    }
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->last_avail = 0;
    vq->used_idx = 0;
    vq->ready = true;
    return VIRTQ_OK;
}

/* Where a chain is walked: guest RAM and where a reason goes. */
struct walk {
    const struct virtio_guest_mem *mem;
    char *why;
    size_t why_size;
};

/* The checks on one descriptor of a chain (§2.7.4.2, §2.7.5, §2.7.5.3.1); appends its
 * segment to the chain. */
static enum virtq_status chain_add(const struct walk *w, uint16_t i,
                                   const struct virtq_desc *desc, struct virtq_chain *c,
                                   uint64_t *total)
{
    if (desc->flags & VIRTQ_DESC_F_INDIRECT) {
        /* INDIRECT_DESC is never offered, so never negotiated. */
        return guest_error(w->why, w->why_size, "descriptor %u is indirect "
                           "(VIRTQ_DESC_F_INDIRECT) but VIRTIO_F_INDIRECT_DESC was not "
                           "negotiated (virtio 1.2, 2.7.5.3.1)", i);
    }
    uint8_t *host = virtio_guest_ptr(w->mem, desc->addr, desc->len);
    if (host == NULL) {
        return guest_error(w->why, w->why_size, "descriptor %u [0x%llx..+0x%x) is outside "
                           "guest RAM [0x%llx..0x%llx)", i, (unsigned long long)desc->addr,
                           desc->len, (unsigned long long)w->mem->gpa_base,
                           (unsigned long long)ram_end(w->mem));
    }
    bool writable = (desc->flags & VIRTQ_DESC_F_WRITE) != 0;
    if (!writable && c->readable != c->count) {
        return guest_error(w->why, w->why_size, "descriptor %u is device-readable but follows a "
                           "device-writable one in the chain from head %u (virtio 1.2, 2.7.4.2)",
                           i, c->head);
    }
    *total += desc->len;
    if (*total > 0xffffffffull) {
        return guest_error(w->why, w->why_size, "the chain from head %u holds more than 4 GiB "
                           "(virtio 1.2, 2.7.5.2)", c->head);
    }
    c->seg[c->count] = (struct virtq_seg){ .host = host, .len = desc->len, .writable = writable };
    c->count++;
    if (writable) {
        c->writable_len += desc->len;
    } else {
        c->readable++;
        c->readable_len += desc->len;
    }
    return VIRTQ_OK;
}

/* Follows the chain from `head` (< num), each descriptor copied once. A chain longer than the
 * queue revisits a descriptor: a loop, which §2.7.5.2 forbids. */
static enum virtq_status chain_walk(const struct virtq *vq, const struct walk *w, uint16_t head,
                                    struct virtq_chain *c)
{
    uint64_t total = 0;
    c->head = head;
    c->count = 0;
    c->readable = 0;
    c->readable_len = 0;
    c->writable_len = 0;
    uint16_t i = head;
    for (;;) {
        if (c->count >= vq->num) {
            return guest_error(w->why, w->why_size, "the chain from head %u is longer than the "
                               "queue size %u (a loop)", head, vq->num);
        }
        const struct virtq_desc *g = &vq->desc[i];
        struct virtq_desc desc = {
            .addr = LOAD(&g->addr), .len = LOAD(&g->len),
            .flags = LOAD(&g->flags), .next = LOAD(&g->next),
        };
        if (chain_add(w, i, &desc, c, &total) != VIRTQ_OK) {
            return VIRTQ_GUEST_ERROR;
        }
        if (!(desc.flags & VIRTQ_DESC_F_NEXT)) {
            return VIRTQ_OK;
        }
        if (desc.next >= vq->num) {
            return guest_error(w->why, w->why_size, "descriptor %u links to descriptor %u, beyond "
                               "the queue size %u", i, desc.next, vq->num);
        }
        i = desc.next;
    }
}

enum virtq_status virtq_pop(struct virtq *vq, const struct virtio_guest_mem *mem,
                            struct virtq_chain *out, char *why, size_t why_size)
{
    uint16_t avail_idx = LOAD(&vq->avail->idx);
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending == 0 && vq->event_idx) {
        /* avail_event follows the used ring's Queue Size entries (§2.7.8); notify when the
         * entry we wait for is added. Our store before the driver's idx is re-read. */
        STORE((uint16_t *)(void *)&vq->used->ring[vq->num],
              (uint16_t)(vq->last_avail + vq->notify_slack));
        virtio_barrier();
        avail_idx = LOAD(&vq->avail->idx);
        pending = (uint16_t)(avail_idx - vq->last_avail);
    }
    if (pending == 0) {
        return VIRTQ_EMPTY;
    }
    /* §2.7.6: idx counts entries put in the ring; more than the queue size at once means
     * the driver overwrote entries the device has not taken yet. */
    if (pending > vq->num) {
        return guest_error(why, why_size, "the available index jumped from %u to %u, more than "
                           "the queue size %u", vq->last_avail, avail_idx, vq->num);
    }
    /* Pairs with the driver's barrier before its idx update (§2.7.13.3): the ring entry and
     * the descriptors are read only after idx. */
    virtio_barrier();
    uint16_t slot = (uint16_t)(vq->last_avail & (vq->num - 1u));
    uint16_t head = LOAD(&vq->avail->ring[slot]);
    if (head >= vq->num) {
        return guest_error(why, why_size, "available ring entry %u holds descriptor %u, beyond "
                           "the queue size %u", slot, head, vq->num);
    }
    struct walk w = { mem, why, why_size };
    if (chain_walk(vq, &w, head, out) != VIRTQ_OK) {
        return VIRTQ_GUEST_ERROR;
    }
    vq->last_avail++;
    return VIRTQ_OK;
}

void virtq_unpop(struct virtq *vq)
{
    vq->last_avail--;
}

enum virtq_status virtq_push(struct virtq *vq, uint16_t head, uint32_t written)
{
    if (!vq->ready || head >= vq->num) {
        return VIRTQ_NOT_READY;
    }
    struct virtq_used_elem *e = &vq->used->ring[vq->used_idx & (vq->num - 1u)];
    STORE(&e->id, (uint32_t)head);
    STORE(&e->len, written);
    /* §2.7.8.2: the buffer contents and the element are visible before the new idx. */
    virtio_barrier();
    vq->used_idx++;
    STORE(&vq->used->idx, vq->used_idx);
    /* idx before flags / used_event: the driver re-enables interrupts and then re-checks idx
     * (§2.7.7). */
    virtio_barrier();
    if (vq->event_idx) {
        /* used_event follows the available ring's Queue Size entries (§2.7.6). */
        uint16_t used_event = LOAD(&vq->avail->ring[vq->num]);
        return used_event == (uint16_t)(vq->used_idx - 1u) ? VIRTQ_INTERRUPT : VIRTQ_OK;
    }
    return (LOAD(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT) ? VIRTQ_OK : VIRTQ_INTERRUPT;
}

/* Copies between a flat buffer and the stream formed by seg[first, last), from byte offset. */
static size_t chain_copy(const struct virtq_chain *c, unsigned first, unsigned last,
                         size_t offset, uint8_t *buf, size_t len, bool to_chain)
{
    size_t done = 0;
    for (unsigned s = first; s < last && done < len; s++) {
        const struct virtq_seg *seg = &c->seg[s];
        if (offset >= seg->len) {
            offset -= seg->len;
            continue;
        }
        size_t n = seg->len - offset;
        if (n > len - done) {
            n = len - done;
        }
        if (to_chain) {
            memcpy(seg->host + offset, buf + done, n);
        } else {
            memcpy(buf + done, seg->host + offset, n);
        }
        done += n;
        offset = 0;
    }
    return done;
}

size_t virtq_chain_read(const struct virtq_chain *c, size_t offset, void *dst, size_t len)
{
    return chain_copy(c, 0, c->readable, offset, dst, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *c, size_t offset, const void *src,
                         size_t len)
{
    return chain_copy(c, c->readable, c->count, offset, (uint8_t *)(uintptr_t)src, len, true);
}
