/*
 * Split virtqueues, device side (virtio 1.2 §2.7). The rings live in guest RAM and the guest
 * may change them at any time from another vCPU, so every field is loaded once (a relaxed
 * atomic load, never torn), copied into private memory and checked before it is used. The
 * ring pointers themselves were checked against guest RAM in virtq_make_ready, and every
 * index into them is reduced modulo the (power-of-two) queue size or checked against it.
 */
#include "virtq.h"

#include "vmm_string.h"

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

const char *virtq_name(const struct virtio_mmio_dev *d, unsigned q)
{
    return q < d->cls->num_queues ? d->cls->queues[q].name : "?";
}

static uint64_t ram_end(const struct virtio_mmio_dev *d)
{
    return d->mem.gpa_base + d->mem.size;
}

/* One part of the ring (§2.7 table: alignment and size), or NULL after a report. */
static void *ring_part(struct virtio_mmio_dev *d, unsigned q, const char *what, uint64_t gpa,
                       uint64_t size, unsigned align)
{
    if (gpa % align != 0) {
        virtio_mmio_fail(d, "queue %u (%s): %s address 0x%llx is not %u-byte aligned "
                         "(virtio 1.2, 2.7)", q, virtq_name(d, q), what,
                         (unsigned long long)gpa, align);
        return NULL;
    }
    void *p = virtio_guest_ptr(&d->mem, gpa, size);
    if (p == NULL) {
        virtio_mmio_fail(d, "queue %u (%s): %s [0x%llx..+0x%llx) is outside guest RAM "
                         "[0x%llx..0x%llx)", q, virtq_name(d, q), what,
                         (unsigned long long)gpa, (unsigned long long)size,
                         (unsigned long long)d->mem.gpa_base, (unsigned long long)ram_end(d));
    }
    return p;
}

bool virtq_make_ready(struct virtio_mmio_dev *d, unsigned q)
{
    struct virtq *vq = &d->queues[q];
    uint32_t n = vq->num;
    uint16_t max = d->cls->queues[q].num_max;
    /* §2.6 / §2.7: a split queue's size is a power of two, here at most QueueNumMax. */
    if (n == 0 || (n & (n - 1u)) != 0 || n > max) {
        return virtio_mmio_fail(d, "queue %u (%s): queue size %u is not a power of two in "
                                "1..%u (QueueNumMax)", q, virtq_name(d, q), n, max);
    }
    struct virtq_desc *desc = ring_part(d, q, "descriptor table", vq->desc_gpa,
                                        VIRTQ_DESC_SIZE(n), VIRTQ_DESC_ALIGN);
    if (desc == NULL) {
        return false;
    }
    struct virtq_avail *avail = ring_part(d, q, "available ring", vq->driver_gpa,
                                          VIRTQ_AVAIL_SIZE(n), VIRTQ_AVAIL_ALIGN);
    if (avail == NULL) {
        return false;
    }
    struct virtq_used *used = ring_part(d, q, "used ring", vq->device_gpa,
                                        VIRTQ_USED_SIZE(n), VIRTQ_USED_ALIGN);
    if (used == NULL) {
        return false;
    }
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->last_avail = 0;
    vq->used_idx = 0;
    vq->ready = true;
    return true;
}

/* The checks on one descriptor of a chain (§2.7.4.2, §2.7.5, §2.7.5.3.1); appends its
 * segment to the chain. */
static bool chain_add(struct virtio_mmio_dev *d, unsigned q, uint16_t i,
                      const struct virtq_desc *desc, struct virtq_chain *c, uint64_t *total)
{
    if (desc->flags & VIRTQ_DESC_F_INDIRECT) {
        /* INDIRECT_DESC is never offered, so never negotiated. */
        return virtio_mmio_fail(d, "queue %u (%s): descriptor %u is indirect "
                                "(VIRTQ_DESC_F_INDIRECT) but VIRTIO_F_INDIRECT_DESC was not "
                                "negotiated (virtio 1.2, 2.7.5.3.1)", q, virtq_name(d, q), i);
    }
    uint8_t *host = virtio_guest_ptr(&d->mem, desc->addr, desc->len);
    if (host == NULL) {
        return virtio_mmio_fail(d, "queue %u (%s): descriptor %u [0x%llx..+0x%x) is outside "
                                "guest RAM [0x%llx..0x%llx)", q, virtq_name(d, q), i,
                                (unsigned long long)desc->addr, desc->len,
                                (unsigned long long)d->mem.gpa_base,
                                (unsigned long long)ram_end(d));
    }
    bool writable = (desc->flags & VIRTQ_DESC_F_WRITE) != 0;
    if (!writable && c->readable != c->count) {
        return virtio_mmio_fail(d, "queue %u (%s): descriptor %u is device-readable but follows "
                                "a device-writable one in the chain from head %u "
                                "(virtio 1.2, 2.7.4.2)", q, virtq_name(d, q), i, c->head);
    }
    *total += desc->len;
    if (*total > 0xffffffffull) {
        return virtio_mmio_fail(d, "queue %u (%s): the chain from head %u holds more than 4 GiB "
                                "(virtio 1.2, 2.7.5.2)", q, virtq_name(d, q), c->head);
    }
    c->seg[c->count] = (struct virtq_seg){ .host = host, .len = desc->len, .writable = writable };
    c->count++;
    if (writable) {
        c->writable_len += desc->len;
    } else {
        c->readable++;
        c->readable_len += desc->len;
    }
    return true;
}

/* Follows the chain from `head` (< num), each descriptor copied once. A chain longer than the
 * queue revisits a descriptor: a loop, which §2.7.5.2 forbids. */
static bool chain_walk(struct virtio_mmio_dev *d, unsigned q, uint16_t head,
                       struct virtq_chain *c)
{
    const struct virtq *vq = &d->queues[q];
    uint64_t total = 0;
    c->head = head;
    c->count = 0;
    c->readable = 0;
    c->readable_len = 0;
    c->writable_len = 0;
    uint16_t i = head;
    for (;;) {
        if (c->count >= vq->num) {
            return virtio_mmio_fail(d, "queue %u (%s): the chain from head %u is longer than the "
                                    "queue size %u (a loop)", q, virtq_name(d, q), head,
                                    vq->num);
        }
        const struct virtq_desc *g = &vq->desc[i];
        struct virtq_desc desc = {
            .addr = LOAD(&g->addr), .len = LOAD(&g->len),
            .flags = LOAD(&g->flags), .next = LOAD(&g->next),
        };
        if (!chain_add(d, q, i, &desc, c, &total)) {
            return false;
        }
        if (!(desc.flags & VIRTQ_DESC_F_NEXT)) {
            return true;
        }
        if (desc.next >= vq->num) {
            return virtio_mmio_fail(d, "queue %u (%s): descriptor %u links to descriptor %u, "
                                    "beyond the queue size %u", q, virtq_name(d, q), i,
                                    desc.next, vq->num);
        }
        i = desc.next;
    }
}

int virtq_next_chain(struct virtio_mmio_dev *d, unsigned q, struct virtq_chain *out)
{
    if (d->broken) {
        return -1;
    }
    if (q >= d->cls->num_queues || !d->queues[q].ready || !virtio_mmio_running(d)) {
        return 0;
    }
    struct virtq *vq = &d->queues[q];
    uint16_t avail_idx = LOAD(&vq->avail->idx);
    uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
    if (pending == 0) {
        return 0;
    }
    /* §2.7.6: idx counts entries put in the ring; more than the queue size at once means
     * the driver overwrote entries the device has not taken yet. */
    if (pending > vq->num) {
        virtio_mmio_fail(d, "queue %u (%s): the available index jumped from %u to %u, more than "
                         "the queue size %u", q, virtq_name(d, q), vq->last_avail, avail_idx,
                         vq->num);
        return -1;
    }
    /* Pairs with the driver's barrier before its idx update (§2.7.13.3): the ring entry and
     * the descriptors are read only after idx. */
    virtio_barrier();
    uint16_t slot = (uint16_t)(vq->last_avail & (vq->num - 1u));
    uint16_t head = LOAD(&vq->avail->ring[slot]);
    if (head >= vq->num) {
        virtio_mmio_fail(d, "queue %u (%s): available ring entry %u holds descriptor %u, beyond "
                         "the queue size %u", q, virtq_name(d, q), slot, head, vq->num);
        return -1;
    }
    if (!chain_walk(d, q, head, out)) {
        return -1;
    }
    vq->last_avail++;
    return 1;
}

void virtq_unpop(struct virtio_mmio_dev *d, unsigned q)
{
    if (q < d->cls->num_queues) {
        d->queues[q].last_avail--;
    }
}

bool virtq_complete(struct virtio_mmio_dev *d, unsigned q, uint16_t head, uint32_t written)
{
    if (d->broken || q >= d->cls->num_queues) {
        return false;
    }
    struct virtq *vq = &d->queues[q];
    if (!vq->ready || head >= vq->num) {
        return false;
    }
    struct virtq_used_elem *e = &vq->used->ring[vq->used_idx & (vq->num - 1u)];
    STORE(&e->id, (uint32_t)head);
    STORE(&e->len, written);
    /* §2.7.8.2: the buffer contents and the element are visible before the new idx. */
    virtio_barrier();
    vq->used_idx++;
    STORE(&vq->used->idx, vq->used_idx);
    /* idx before flags: the driver re-enables interrupts and then re-checks idx (§2.7.7). */
    virtio_barrier();
    if (!(LOAD(&vq->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT)) {
        virtio_mmio_interrupt(d, VIRTIO_MMIO_INT_VRING);
    }
    return true;
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
