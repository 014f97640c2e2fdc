/* The fake guest and driver of the virtio tests (see test_virtio.h). */
#include "test_virtio.h"

#include <stdlib.h>

#include "virtio_mmio.h"

void tv_guest_init(struct tv_guest *g)
{
    memset(g, 0, sizeof(*g));
    g->ram = aligned_alloc(4096, TV_RAM_SIZE);
    memset(g->ram, 0, TV_RAM_SIZE);
    g->mem = (struct virtio_guest_mem){ .gpa_base = TV_RAM_BASE, .size = TV_RAM_SIZE,
                                        .host_base = g->ram };
    g->next_buf = TV_RAM_BASE + 0x10000;
}

void tv_guest_free(struct tv_guest *g)
{
    free(g->ram);
    g->ram = NULL;
}

void tv_raise(void *ctx)
{
    ((struct tv_guest *)ctx)->irqs++;
}

uint32_t tv_rd(struct tv_guest *g, uint32_t offset)
{
    uint64_t v = 0xdeadbeef;
    CHECK(virtio_mmio_access(g->d, offset, false, 4, &v));
    return (uint32_t)v;
}

bool tv_wr(struct tv_guest *g, uint32_t offset, uint32_t value)
{
    uint64_t v = value;
    return virtio_mmio_access(g->d, offset, true, 4, &v);
}

uint8_t *tv_host(struct tv_guest *g, uint64_t gpa)
{
    return g->ram + (gpa - TV_RAM_BASE);
}

uint64_t tv_alloc(struct tv_guest *g, uint32_t len)
{
    uint64_t gpa = g->next_buf;
    g->next_buf += (len + 15u) & ~15u;
    CHECK(g->next_buf <= TV_RAM_END);
    memset(tv_host(g, gpa), 0, len);
    return gpa;
}

bool tv_negotiate(struct tv_guest *g, uint64_t features)
{
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    tv_wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    tv_wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    for (uint32_t sel = 0; sel < 2; sel++) {
        tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
        tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> (32 * sel)));
    }
    tv_wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                                 | VIRTIO_STATUS_FEATURES_OK);
    return (tv_rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK) != 0;
}

bool tv_setup_queue(struct tv_guest *g, unsigned q, uint16_t num, uint64_t desc,
                    uint64_t avail, uint64_t used)
{
    g->q[q] = (struct tv_queue){ .num = num, .desc = desc, .avail = avail, .used = used };
    tv_wr(g, VIRTIO_MMIO_QUEUE_SEL, q);
    tv_wr(g, VIRTIO_MMIO_QUEUE_NUM, num);
    tv_wr(g, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    tv_wr(g, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    tv_wr(g, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    tv_wr(g, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    tv_wr(g, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    tv_wr(g, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    return tv_wr(g, VIRTIO_MMIO_QUEUE_READY, 1);
}

bool tv_probe(struct tv_guest *g, uint64_t features)
{
    if (!tv_negotiate(g, features | VIRTIO_FEATURE(VIRTIO_F_VERSION_1))) {
        return false;
    }
    for (unsigned q = 0; q < g->d->cls->num_queues; q++) {
        tv_wr(g, VIRTIO_MMIO_QUEUE_SEL, q);
        uint16_t num = (uint16_t)tv_rd(g, VIRTIO_MMIO_QUEUE_NUM_MAX);
        uint64_t base = TV_RAM_BASE + q * 0x4000ull;
        if (!tv_setup_queue(g, q, num, base, base + 0x1000, base + 0x2000)) {
            return false;
        }
    }
    tv_wr(g, VIRTIO_MMIO_STATUS, tv_rd(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    return virtio_mmio_running(g->d);
}

void tv_desc(struct tv_guest *g, unsigned q, uint16_t i, uint64_t addr, uint32_t len,
             uint16_t flags, uint16_t next)
{
    struct virtq_desc *d = (struct virtq_desc *)(void *)tv_host(g, g->q[q].desc) + i;
    d->addr = addr;
    d->len = len;
    d->flags = flags;
    d->next = next;
}

void tv_avail_set_idx(struct tv_guest *g, unsigned q, uint16_t idx)
{
    struct virtq_avail *a = (struct virtq_avail *)(void *)tv_host(g, g->q[q].avail);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);    /* §2.7.13.3: ring entry before idx */
    a->idx = idx;
    g->q[q].avail_idx = idx;
}

void tv_avail_push(struct tv_guest *g, unsigned q, uint16_t head)
{
    struct tv_queue *tq = &g->q[q];
    struct virtq_avail *a = (struct virtq_avail *)(void *)tv_host(g, tq->avail);
    a->ring[tq->avail_idx % tq->num] = head;
    tv_avail_set_idx(g, q, (uint16_t)(tq->avail_idx + 1u));
}

uint16_t tv_post(struct tv_guest *g, unsigned q, const struct tv_seg *segs, unsigned n)
{
    struct tv_queue *tq = &g->q[q];
    uint16_t head = tq->next_desc;
    for (unsigned i = 0; i < n; i++) {
        uint16_t at = (uint16_t)((head + i) % tq->num);
        uint16_t next = (uint16_t)((at + 1u) % tq->num);
        uint16_t flags = (uint16_t)((segs[i].writable ? VIRTQ_DESC_F_WRITE : 0)
                                    | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        tv_desc(g, q, at, segs[i].gpa, segs[i].len, flags, next);
    }
    tq->next_desc = (uint16_t)((head + n) % tq->num);
    tv_avail_push(g, q, head);
    return head;
}

bool tv_notify(struct tv_guest *g, unsigned q)
{
    return tv_wr(g, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

bool tv_used(struct tv_guest *g, unsigned q, uint32_t *id, uint32_t *len)
{
    struct tv_queue *tq = &g->q[q];
    struct virtq_used *u = (struct virtq_used *)(void *)tv_host(g, tq->used);
    if (u->idx == tq->last_used) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);    /* idx before the element */
    struct virtq_used_elem e = u->ring[tq->last_used % tq->num];
    tq->last_used++;
    *id = e.id;
    *len = e.len;
    return true;
}
