/* The net link ring (net_link.h, docs/net-link.md): two ends over one region, the signalling
 * handshake, a hostile peer on either side, and virtio-net to virtio-net through a link. */
#include "test_virtio.h"

#include <stdlib.h>

#include "net_link.h"
#include "virtio_net.h"
#include "vmm_virtio.h"

static struct net_link_end tx, rx;

static uint8_t *region_new(uint32_t capacity)
{
    uint64_t size = net_link_region_size(capacity);
    uint8_t *r = aligned_alloc(4096, size);
    memset(r, 0, size);
    return r;
}

static struct net_link_queue *queue_at(uint8_t *region, uint64_t offset)
{
    return (struct net_link_queue *)(void *)(region + offset);
}

static void frame_fill(uint8_t *p, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seed * 31u + i);
    }
}

static enum net_link_status send(struct net_link_end *l, uint32_t len, uint32_t seed)
{
    uint8_t *buf;
    enum net_link_status st = net_link_tx_acquire(l, &buf);
    if (st != NET_LINK_OK) {
        return st;
    }
    frame_fill(buf, len, seed);
    return net_link_tx_publish(l, len);
}

/* Takes one frame and checks it was sent with `seed`. */
static enum net_link_status take(struct net_link_end *l, uint32_t len, uint32_t seed)
{
    const uint8_t *f;
    uint32_t n;
    enum net_link_status st = net_link_rx_peek(l, &f, &n);
    if (st != NET_LINK_OK) {
        return st;
    }
    uint8_t want[NET_LINK_MAX_FRAME];
    frame_fill(want, len, seed);
    CHECK_EQ(n, len);
    CHECK(n == len && memcmp(f, want, len) == 0);
    return net_link_rx_release(l);
}

static void link_region_sizes(void)
{
    CHECK_EQ(net_link_region_size(NET_LINK_DEFAULT_CAPACITY), 0x105000);
    CHECK_EQ(NET_LINK_DEFAULT_REGION_SIZE, 0x105000);
    CHECK_EQ(net_link_region_size(1), 0x2000);
    CHECK_EQ(net_link_region_size(32768), 0x4101000);
    CHECK_EQ(net_link_region_size(0), 0);
    CHECK_EQ(net_link_region_size(3), 0);
    CHECK_EQ(net_link_region_size(65536), 0);
    for (uint32_t cap = 1; cap <= NET_LINK_MAX_CAPACITY; cap *= 2) {
        CHECK_EQ(net_link_region_size(cap) % 4096, 0);
        CHECK(NET_LINK_DATA_OFFSET(cap) >= NET_LINK_ACTIVE_OFFSET(cap) + 8 + 16 * cap);
    }
    uint8_t small[64];
    CHECK(!net_link_tx_init(&tx, small, sizeof(small), 4, "x"));
}

static void link_carries_frames(void)
{
    uint8_t *r = region_new(4);
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(4), 4, "vm1->vm2"));
    const uint8_t *f;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_NOT_READY);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "vm1->vm2"));
    const struct net_link_header *h = (const struct net_link_header *)(void *)r;
    CHECK_EQ(h->magic, NET_LINK_MAGIC);
    CHECK_EQ(h->data_offset, 0x1000);
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_EMPTY);
    /* 100000 frames in batches of three: the 16-bit counters wrap. */
    for (uint32_t i = 0; i < 100000; i += 3) {
        for (uint32_t k = 0; k < 3; k++) {
            CHECK_EQ(send(&tx, 14 + (i + k) % 1501, i + k), NET_LINK_OK);
        }
        for (uint32_t k = 0; k < 3; k++) {
            CHECK_EQ(take(&rx, 14 + (i + k) % 1501, i + k), NET_LINK_OK);
        }
    }
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_EMPTY);
    CHECK(!tx.broken && !rx.broken);
    CHECK_EQ(tx.frames, rx.frames);
    free(r);
}

static void link_peek_is_stable_until_release(void)
{
    uint8_t *r = region_new(4);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "a->b"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(4), 4, "a->b"));
    CHECK_EQ(send(&tx, 60, 1), NET_LINK_OK);
    CHECK_EQ(send(&tx, 61, 2), NET_LINK_OK);
    const uint8_t *f1, *f2;
    uint32_t n1, n2;
    CHECK_EQ(net_link_rx_peek(&rx, &f1, &n1), NET_LINK_OK);
    CHECK_EQ(net_link_rx_peek(&rx, &f2, &n2), NET_LINK_OK);
    CHECK(f1 == f2 && n1 == 60 && n2 == 60);
    CHECK_EQ(net_link_rx_release(&rx), NET_LINK_OK);
    CHECK_EQ(take(&rx, 61, 2), NET_LINK_OK);
    free(r);
}

static void link_backpressure_and_signals(void)
{
    uint8_t *r = region_new(4);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "a->b"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(4), 4, "a->b"));
    struct net_link_queue *freeq = queue_at(r, NET_LINK_FREE_OFFSET);
    struct net_link_queue *active = queue_at(r, NET_LINK_ACTIVE_OFFSET(4));
    CHECK(!net_link_tx_notify_needed(&tx));             /* nothing published */
    /* The receiver asked for a signal at the start: the first batch notifies, once. */
    CHECK_EQ(send(&tx, 60, 0), NET_LINK_OK);
    CHECK_EQ(send(&tx, 60, 1), NET_LINK_OK);
    CHECK(net_link_tx_notify_needed(&tx));
    CHECK_EQ(send(&tx, 60, 2), NET_LINK_OK);
    CHECK(!net_link_tx_notify_needed(&tx));             /* not asked again yet */
    CHECK_EQ(send(&tx, 60, 3), NET_LINK_OK);
    /* Every buffer is in flight: the sender arms its signal on the free queue. */
    CHECK_EQ(send(&tx, 60, 4), NET_LINK_EMPTY);
    CHECK_EQ(freeq->consumer_signalled, NET_LINK_SIGNAL_REQUESTED);
    CHECK_EQ(take(&rx, 60, 0), NET_LINK_OK);
    CHECK(net_link_rx_notify_needed(&rx));
    CHECK_EQ(freeq->consumer_signalled, NET_LINK_SIGNAL_NOT_NEEDED);
    CHECK_EQ(take(&rx, 60, 1), NET_LINK_OK);
    CHECK(!net_link_rx_notify_needed(&rx));
    CHECK_EQ(send(&tx, 60, 4), NET_LINK_OK);
    /* The receiver drains and arms; the next frame notifies again. */
    CHECK_EQ(take(&rx, 60, 2), NET_LINK_OK);
    CHECK_EQ(take(&rx, 60, 3), NET_LINK_OK);
    CHECK_EQ(take(&rx, 60, 4), NET_LINK_OK);
    CHECK_EQ(take(&rx, 60, 5), NET_LINK_EMPTY);
    CHECK_EQ(active->consumer_signalled, NET_LINK_SIGNAL_REQUESTED);
    CHECK_EQ(send(&tx, 60, 6), NET_LINK_OK);
    CHECK(net_link_tx_notify_needed(&tx));
    free(r);
}

static void link_checks_the_header(void)
{
    uint8_t *r = region_new(512);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(512), 256, "a->b"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(512), 512, "a->b"));
    const uint8_t *f;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_ERROR);
    CHECK(strcmp(rx.report, "net link 'a->b' (receiver): header: capacity is 0x100, "
                 "expected 0x200") == 0);
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_ERROR);   /* stays broken */
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(512), 512, "a->b"));
    ((struct net_link_header *)(void *)r)->magic = 0x12345678;
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(512), 512, "a->b"));
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_ERROR);
    CHECK_CONTAINS(rx.report, "header: magic is 0x12345678, expected 0x4c4e3453");
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(512), 512, "a->b"));
    ((struct net_link_header *)(void *)r)->data_offset = 0;
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(512), 512, "a->b"));
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_ERROR);
    CHECK_CONTAINS(rx.report, "header: data_offset is 0x0, expected 0x5000");
    free(r);
}

/* A sender's region with one published frame, for a hostile sender to corrupt. */
static uint8_t *one_frame(void)
{
    uint8_t *r = region_new(4);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "evil->vm"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(4), 4, "evil->vm"));
    CHECK_EQ(send(&tx, 60, 0), NET_LINK_OK);
    return r;
}

static void expect_rx_error(uint8_t *r, const char *text)
{
    const uint8_t *f;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_ERROR);
    CHECK_CONTAINS(rx.report, text);
    CHECK_EQ(net_link_rx_release(&rx), NET_LINK_ERROR);
    free(r);
}

static void link_rejects_a_hostile_sender(void)
{
    uint8_t *r = one_frame();
    struct net_link_queue *active = queue_at(r, NET_LINK_ACTIVE_OFFSET(4));
    active->buffers[0].offset = 0x123;
    expect_rx_error(r, "net link 'evil->vm' (receiver): active queue entry 0: buffer offset "
                    "0x123 is not one of the 4 2048-byte buffers of the data area");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].offset = 4 * 2048;
    expect_rx_error(r, "buffer offset 0x2000 is not one of the 4");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].offset = 0xfffffffffffff800ull;
    expect_rx_error(r, "buffer offset 0xfffffffffffff800");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].len = 2000;
    expect_rx_error(r, "active queue entry 0: a 2000-byte frame with flags 0x0, csum 0+0, "
                    "gso_size 0 breaks the rules");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].len = 2049;
    expect_rx_error(r, "active queue entry 0: 2049 bytes in a buffer (1..2048");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].len = 0;
    expect_rx_error(r, "active queue entry 0: 0 bytes in a buffer");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].len = 13;
    expect_rx_error(r, "a 13-byte frame");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->tail = 100;
    expect_rx_error(r, "active queue: the sender's tail 100 is more than the capacity 4 past "
                    "our head 0");
    /* The sender claims to have taken more free buffers than exist. */
    r = one_frame();
    const uint8_t *f;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_OK);
    queue_at(r, NET_LINK_FREE_OFFSET)->head = 0;
    CHECK_EQ(net_link_rx_release(&rx), NET_LINK_ERROR);
    CHECK_CONTAINS(rx.report, "free queue: the sender's head 0 does not fit our tail 4 "
                   "(capacity 4)");
    free(r);
}

/* Version 2's fields: a frame over several buffers and its offload information. */
static void expect_meta_error(uint8_t flags, uint16_t csum_start, uint8_t csum_offset,
                              uint16_t gso_size, const char *text)
{
    uint8_t *r = one_frame();
    struct net_link_desc *d = &queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0];
    d->flags = flags;
    d->csum_start = csum_start;
    d->csum_offset = csum_offset;
    d->gso_size = gso_size;
    expect_rx_error(r, text);
}

static void link_rejects_hostile_frame_fields(void)
{
    /* Flags nobody defined; both GSO types; GSO without a partial checksum or a segment
     * size; a checksum field beyond the frame; partial and valid at once; fields without
     * their flag; a plain frame above 1514 bytes is covered above. */
    expect_meta_error(0x80, 0, 0, 0, "flags 0x80");
    expect_meta_error(NET_LINK_DESC_GSO_TCPV4 | NET_LINK_DESC_GSO_TCPV6 | NET_LINK_DESC_CSUM_PARTIAL,
                      14, 16, 1448, "flags 0x32");
    expect_meta_error(NET_LINK_DESC_GSO_TCPV4, 0, 0, 1448, "flags 0x10");
    expect_meta_error(NET_LINK_DESC_GSO_TCPV4 | NET_LINK_DESC_CSUM_PARTIAL, 34, 16, 0,
                      "gso_size 0 breaks");
    expect_meta_error(NET_LINK_DESC_CSUM_PARTIAL, 43, 16, 0, "csum 43+16");
    expect_meta_error(NET_LINK_DESC_CSUM_PARTIAL, 0xffff, 0xff, 0, "csum 65535+255");
    expect_meta_error(NET_LINK_DESC_CSUM_PARTIAL | NET_LINK_DESC_CSUM_VALID, 34, 16, 0,
                      "flags 0x6");
    expect_meta_error(0, 34, 0, 0, "csum 34+0");
    expect_meta_error(0, 0, 0, 1448, "gso_size 1448 breaks");
    /* MORE on the last published entry: the frame goes on beyond the tail. */
    expect_meta_error(NET_LINK_DESC_MORE, 0, 0, 0, "active queue entry 0: 60 bytes in a buffer "
                      "(1..2048, and 2048 where the frame goes on)");
    uint8_t *r = one_frame();
    struct net_link_desc *d = &queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0];
    d->flags = NET_LINK_DESC_MORE;
    d->len = 2048;
    expect_rx_error(r, "active queue entry 0: a frame goes on beyond the published tail");
    /* A continuation entry with frame fields. */
    r = one_frame();
    CHECK_EQ(send(&tx, 60, 1), NET_LINK_OK);
    d = &queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0];
    d->flags = NET_LINK_DESC_MORE;
    d->len = 2048;
    d[1].gso_size = 7;
    expect_rx_error(r, "active queue entry 1: frame fields on a buffer that continues a frame");
}

/* More buffers than a frame may have (NET_LINK_MAX_FRAME_BUFFERS) is an error, however many
 * are published. */
static void link_rejects_an_endless_frame(void)
{
    uint8_t *r = region_new(64);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(64), 64, "evil->vm"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(64), 64, "evil->vm"));
    for (unsigned i = 0; i < 40; i++) {
        CHECK_EQ(send(&tx, 60, i), NET_LINK_OK);
    }
    struct net_link_queue *active = queue_at(r, NET_LINK_ACTIVE_OFFSET(64));
    for (unsigned i = 0; i < 40; i++) {
        active->buffers[i].flags = NET_LINK_DESC_MORE;
        active->buffers[i].len = 2048;
    }
    expect_rx_error(r, "active queue entry 32: a frame goes on beyond the most buffers a frame "
                    "may have");
}

/* A 64 KiB frame over the ring: 33 buffers, one tail store, the fields on the first entry;
 * the receiver sees it whole. */
static void gso_fill(void *ctx, size_t offset, uint8_t *dst, size_t len)
{
    const uint8_t *src = ctx;
    memcpy(dst, src + offset, len);
}

static void link_carries_a_64k_frame(void)
{
    uint8_t *r = region_new(64);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(64), 64, "a->b"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(64), 64, "a->b"));
    static uint8_t big[NET_LINK_MAX_FRAME], back[NET_LINK_MAX_FRAME];
    frame_fill(big, sizeof(big), 7);
    struct net_link_meta m = { NET_LINK_DESC_CSUM_PARTIAL | NET_LINK_DESC_GSO_TCPV4, 16, 34,
                               1448 };
    CHECK_EQ(net_link_tx_send(&tx, NET_LINK_MAX_FRAME, &m, gso_fill, big), NET_LINK_OK);
    CHECK_EQ(queue_at(r, NET_LINK_ACTIVE_OFFSET(64))->tail, NET_LINK_MAX_FRAME_BUFFERS);
    /* 64 - 33 buffers left: a second one does not fit, and asks to be told. */
    CHECK_EQ(net_link_tx_send(&tx, NET_LINK_MAX_FRAME, &m, gso_fill, big), NET_LINK_EMPTY);
    CHECK_EQ(queue_at(r, NET_LINK_FREE_OFFSET)->consumer_signalled, NET_LINK_SIGNAL_REQUESTED);
    const struct net_link_frame *f;
    CHECK_EQ(net_link_rx_peek_frame(&rx, &f), NET_LINK_OK);
    CHECK_EQ(f->len, NET_LINK_MAX_FRAME);
    CHECK_EQ(f->count, NET_LINK_MAX_FRAME_BUFFERS);
    CHECK_EQ(f->meta.flags, m.flags);
    CHECK_EQ(f->meta.gso_size, 1448);
    CHECK_EQ(f->meta.csum_start, 34);
    CHECK_EQ(f->meta.csum_offset, 16);
    CHECK_EQ(net_link_frame_read(f, 0, back, sizeof(back)), sizeof(back));
    CHECK(memcmp(back, big, sizeof(big)) == 0);
    /* A receiver of single-buffer frames drops it unread. */
    const uint8_t *one;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&rx, &one, &n), NET_LINK_EMPTY);
    CHECK_EQ(rx.skipped, 1);
    CHECK(net_link_rx_notify_needed(&rx));
    CHECK_EQ(net_link_tx_send(&tx, NET_LINK_MAX_FRAME, &m, gso_fill, big), NET_LINK_OK);
    /* Our own mistakes: fields the rules do not allow. */
    struct net_link_meta bad = { NET_LINK_DESC_GSO_TCPV4, 0, 0, 1448 };
    CHECK_EQ(net_link_tx_send(&tx, 2000, &bad, gso_fill, big), NET_LINK_ERROR);
    CHECK_CONTAINS(tx.report, "send of a 2000-byte frame with flags 0x10 that docs/net-link.md "
                   "does not allow");
    free(r);
}

static void link_rejects_a_hostile_receiver(void)
{
    uint8_t *r = region_new(4);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "vm->evil"));
    queue_at(r, NET_LINK_FREE_OFFSET)->buffers[0].offset = 0xfffffffffffff800ull;
    uint8_t *buf = NULL;
    CHECK_EQ(net_link_tx_acquire(&tx, &buf), NET_LINK_ERROR);
    CHECK(buf == NULL);
    CHECK_CONTAINS(tx.report, "net link 'vm->evil' (sender): free queue entry 0: buffer offset "
                   "0xfffffffffffff800 is not one of the 4 2048-byte buffers");
    CHECK_EQ(net_link_tx_publish(&tx, 60), NET_LINK_ERROR);
    CHECK(!net_link_tx_notify_needed(&tx));
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "vm->evil"));
    queue_at(r, NET_LINK_FREE_OFFSET)->tail = 0x8000;
    CHECK_EQ(net_link_tx_acquire(&tx, &buf), NET_LINK_ERROR);
    CHECK_CONTAINS(tx.report, "free queue: the receiver's tail 32768 is more than the capacity 4 "
                   "past our head 0");
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "vm->evil"));
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->head = 3;
    CHECK_EQ(send(&tx, 60, 0), NET_LINK_ERROR);
    CHECK_CONTAINS(tx.report, "active queue: the receiver's head 3 does not fit our tail 0 "
                   "(capacity 4)");
    /* Our own mistakes are caught too. */
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(4), 4, "vm->evil"));
    CHECK_EQ(net_link_tx_publish(&tx, 60), NET_LINK_ERROR);
    CHECK_CONTAINS(tx.report, "without an acquired buffer");
    free(r);
}

/* ---------------------------------------------------------------- virtio-net over a link */

static struct virtio_net net_a, net_b;

struct chain_src {
    const struct virtq_chain *c;
    size_t skip;
};

static void chain_fill(void *ctx, size_t offset, uint8_t *dst, size_t len)
{
    const struct chain_src *src = ctx;
    CHECK_EQ(virtq_chain_read(src->c, src->skip + offset, dst, len), len);
}

/* As lib/vmm_virtio.c: the checked header as the link's frame fields. */
static bool link_tx(void *ctx, const struct virtq_chain *c, size_t skip, size_t len,
                    const struct virtio_net_hdr *h)
{
    struct net_link_meta m = { 0, 0, 0, 0 };
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        m = (struct net_link_meta){ NET_LINK_DESC_CSUM_PARTIAL, (uint8_t)h->csum_offset,
                                    h->csum_start, 0 };
    }
    if (h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4) {
        m.flags |= NET_LINK_DESC_GSO_TCPV4;
        m.gso_size = h->gso_size;
    }
    struct chain_src src = { c, skip };
    enum net_link_status st = net_link_tx_send(ctx, (uint32_t)len, &m, chain_fill, &src);
    CHECK(st == NET_LINK_OK || st == NET_LINK_EMPTY);
    return st != NET_LINK_EMPTY;
}

/* What the receiving VMM does on the link's signal or the guest's rx_ready. */
static unsigned deliver(struct net_link_end *l, struct virtio_net *n)
{
    unsigned frames = 0;
    const struct net_link_frame *lf;
    while (net_link_rx_peek_frame(l, &lf) == NET_LINK_OK) {
        struct virtio_net_frame f = { .len = lf->len, .count = lf->count, .seg = lf->seg,
                                      .seg_len = lf->seg_len };
        if (lf->meta.flags & NET_LINK_DESC_CSUM_PARTIAL) {
            f.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            f.hdr.csum_start = lf->meta.csum_start;
            f.hdr.csum_offset = lf->meta.csum_offset;
        }
        if (lf->meta.flags & NET_LINK_DESC_GSO_TCPV4) {
            f.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
            f.hdr.gso_size = lf->meta.gso_size;
        }
        if (virtio_net_rx(n, &f) == VIRTIO_NET_RX_NO_BUFFER) {
            break;
        }
        CHECK_EQ(net_link_rx_release(l), NET_LINK_OK);
        frames++;
    }
    return frames;
}

static void link_between_two_virtio_nets(void)
{
    static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
    static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };
    struct tv_guest ga, gb;
    tv_guest_init(&ga);
    tv_guest_init(&gb);
    uint8_t *r = region_new(8);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(8), 8, "a->b"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(8), 8, "a->b"));
    struct virtio_net_backend be_a = { .ctx = &tx, .tx = link_tx, .rx_ready = NULL };
    struct virtio_net_backend be_b = { .ctx = NULL, .tx = link_tx, .rx_ready = NULL };
    CHECK(virtio_net_init(&net_a, &ga.mem, mac_a, &be_a, false, tv_raise, &ga));
    CHECK(virtio_net_init(&net_b, &gb.mem, mac_b, &be_b, false, tv_raise, &gb));
    ga.d = &net_a.dev;
    gb.d = &net_b.dev;
    CHECK(tv_probe(&ga, VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    CHECK(tv_probe(&gb, VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    /* Guest A sends ten frames; the link holds eight, so A's ring keeps the rest. */
    uint64_t frames[10];
    for (unsigned i = 0; i < 10; i++) {
        frames[i] = tv_alloc(&ga, 12 + 100);
        frame_fill(tv_host(&ga, frames[i]) + 12, 100, i);
        struct tv_seg s = { frames[i], 112, false };
        tv_post(&ga, 1, &s, 1);
    }
    CHECK(tv_notify(&ga, 1));
    CHECK_EQ(net_a.tx_frames, 8);
    CHECK(net_a.tx_blocked);
    CHECK(net_link_tx_notify_needed(&tx));
    /* Guest B has posted three receive buffers. */
    uint64_t bufs[10];
    for (unsigned i = 0; i < 3; i++) {
        bufs[i] = tv_alloc(&gb, 1536);
        struct tv_seg s = { bufs[i], 1536, true };
        tv_post(&gb, 0, &s, 1);
    }
    CHECK(tv_notify(&gb, 0));
    CHECK_EQ(deliver(&rx, &net_b), 3);
    CHECK(net_link_rx_notify_needed(&rx));          /* A waits for buffers */
    CHECK(virtio_net_tx_kick(&net_a));
    CHECK_EQ(net_a.tx_frames, 10);
    for (unsigned i = 3; i < 10; i++) {
        bufs[i] = tv_alloc(&gb, 1536);
        struct tv_seg s = { bufs[i], 1536, true };
        tv_post(&gb, 0, &s, 1);
    }
    CHECK(tv_notify(&gb, 0));
    CHECK_EQ(deliver(&rx, &net_b), 7);
    for (unsigned i = 0; i < 10; i++) {
        uint32_t id, len;
        CHECK(tv_used(&gb, 0, &id, &len));
        CHECK_EQ(len, 112);
        CHECK(memcmp(tv_host(&gb, bufs[id]) + 12, tv_host(&ga, frames[i]) + 12, 100) == 0);
    }
    CHECK(!virtio_mmio_broken(ga.d) && !virtio_mmio_broken(gb.d));
    free(r);
    tv_guest_free(&ga);
    tv_guest_free(&gb);
}

/* Guest A hands a 64 KiB TCP segment with a partial checksum to virtio-net (HOST_TSO4, CSUM);
 * it crosses the link as one frame and reaches guest B (GUEST_TSO4, GUEST_CSUM, MRG_RXBUF)
 * across 4 KiB receive buffers, num_buffers and the offload fields in the first header. */
static void link_carries_tso_between_virtio_nets(void)
{
    static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0xa };
    struct tv_guest ga, gb;
    tv_guest_init(&ga);
    tv_guest_init(&gb);
    uint8_t *r = region_new(128);
    CHECK(net_link_tx_init(&tx, r, net_link_region_size(128), 128, "a->b"));
    CHECK(net_link_rx_init(&rx, r, net_link_region_size(128), 128, "a->b"));
    struct virtio_net_backend be = { .ctx = &tx, .tx = link_tx, .rx_ready = NULL };
    CHECK(virtio_net_init(&net_a, &ga.mem, mac, &be, true, tv_raise, &ga));
    CHECK(virtio_net_init(&net_b, &gb.mem, mac, &be, true, tv_raise, &gb));
    ga.d = &net_a.dev;
    gb.d = &net_b.dev;
    uint64_t offloads = VIRTIO_NET_OFFLOAD_FEATURES;
    CHECK(tv_probe(&ga, offloads));
    CHECK(tv_probe(&gb, offloads));
    uint32_t len = 60000;
    uint64_t hdr = tv_alloc(&ga, 12), data = tv_alloc(&ga, len);
    struct virtio_net_hdr h = { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 66, 1448,
                                34, 16, 0 };
    memcpy(tv_host(&ga, hdr), &h, sizeof(h));
    frame_fill(tv_host(&ga, data), len, 3);
    struct tv_seg segs[2] = { { hdr, 12, false }, { data, len, false } };
    tv_post(&ga, 1, segs, 2);
    CHECK(tv_notify(&ga, 1));
    CHECK_EQ(net_a.tx_frames, 1);
    CHECK_EQ(tx.frames, 1);
    /* Too few buffers posted: the frame waits on the ring. */
    uint64_t bufs[16];
    for (unsigned i = 0; i < 16; i++) {
        bufs[i] = tv_alloc(&gb, 4096);
        struct tv_seg s = { bufs[i], 4096, true };
        tv_post(&gb, 0, &s, 1);
        if (i == 7) {
            CHECK_EQ(deliver(&rx, &net_b), 0);
            CHECK(rx.holding);
        }
    }
    CHECK_EQ(deliver(&rx, &net_b), 1);
    /* 12 + 60000 bytes in 15 buffers of 4096. */
    uint32_t id, got, total = 0;
    unsigned used = 0;
    while (tv_used(&gb, 0, &id, &got)) {
        used++;
        total += got;
    }
    CHECK_EQ(used, 15);
    CHECK_EQ(total, 12 + len);
    struct virtio_net_hdr b;
    memcpy(&b, tv_host(&gb, bufs[0]), sizeof(b));
    CHECK_EQ(b.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    CHECK_EQ(b.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    CHECK_EQ(b.gso_size, 1448);
    CHECK_EQ(b.csum_start, 34);
    CHECK_EQ(b.csum_offset, 16);
    CHECK_EQ(b.num_buffers, 15);
    CHECK(memcmp(tv_host(&gb, bufs[0]) + 12, tv_host(&ga, data), 4096 - 12) == 0);
    CHECK(memcmp(tv_host(&gb, bufs[1]), tv_host(&ga, data) + 4096 - 12, 4096) == 0);
    /* The same frame to a driver without GUEST_TSO4 is dropped and counted. */
    CHECK(tv_probe(&gb, VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM)
                            | VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF)));
    for (unsigned i = 0; i < 16; i++) {
        struct tv_seg s = { tv_alloc(&gb, 4096), 4096, true };
        tv_post(&gb, 0, &s, 1);
    }
    tv_post(&ga, 1, segs, 2);
    CHECK(tv_notify(&ga, 1));
    unsigned dropped = net_b.rx_dropped;
    CHECK_EQ(deliver(&rx, &net_b), 1);
    CHECK_EQ(net_b.rx_dropped, dropped + 1);
    CHECK_EQ(net_b.rx_frames, 1);
    /* A driver asking for what it did not negotiate, or a checksum field beyond the frame,
     * has its frame dropped, not sent. */
    tv_guest_free(&ga);
    tv_guest_init(&ga);     /* fresh rings */
    CHECK(virtio_net_init(&net_a, &ga.mem, mac, &be, true, tv_raise, &ga));
    ga.d = &net_a.dev;
    CHECK(tv_probe(&ga, VIRTIO_FEATURE(VIRTIO_NET_F_CSUM)));
    hdr = tv_alloc(&ga, 12);
    data = tv_alloc(&ga, len);
    memcpy(tv_host(&ga, hdr), &h, sizeof(h));
    segs[0].gpa = hdr;
    segs[1].gpa = data;
    tv_post(&ga, 1, segs, 2);
    CHECK(tv_notify(&ga, 1));
    h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    h.csum_start = 1500;
    memcpy(tv_host(&ga, hdr), &h, sizeof(h));
    segs[1].len = 1400;
    tv_post(&ga, 1, segs, 2);
    CHECK(tv_notify(&ga, 1));
    CHECK_EQ(net_a.tx_dropped, 2);
    CHECK_EQ(tx.frames, 2);
    CHECK(!virtio_mmio_broken(ga.d) && !virtio_mmio_broken(gb.d));
    free(r);
    tv_guest_free(&ga);
    tv_guest_free(&gb);
}

/* ---------------------------------------------------------------- the VMM's glue */

static unsigned glue_notifies;
static void glue_notify(unsigned ch)
{
    (void)ch;
    glue_notifies++;
}
static void glue_ack(unsigned ch)
{
    (void)ch;
}

/* The driver's used_event on the transmit queue: an interrupt when entry n is used. */
static void tx_interrupt_at(struct tv_guest *g, uint16_t n)
{
    *(uint16_t *)(void *)(tv_host(g, g->q[1].avail) + 4 + 2u * g->q[1].num) = n;
}

/* vmm_virtio_exit_done: frames the guest queued go out at its exits without a notification;
 * the chains they took wait for an interrupt to ride on: one still pending with the guest, a
 * received frame's, or their own once the hold (env.tx_hold_ticks) has passed, which
 * vmm_virtio_idle gives as the sleeping vCPU's deadline. */
static void vmm_virtio_holds_sent_chains_for_an_interrupt(void)
{
    static struct vmm_config c;
    static struct vmm_virtio vv;
    static struct vgic vgic;
    struct tv_guest g;
    tv_guest_init(&g);
    memset(&c, 0, sizeof(c));
    uint64_t size = net_link_region_size(4);
    uint8_t *ours = region_new(4), *theirs = region_new(4);
    c.ram_guest_base = TV_RAM_BASE;
    c.ram_size = TV_RAM_SIZE;
    c.ram_vmm_vaddr = (uint64_t)(uintptr_t)g.ram;
    c.virtio_count = 1;
    c.virtio[0] = (struct vmm_config_virtio){ .guest_base = 0xa000000, .intid = 40,
        .kind = VMM_CONFIG_VIRTIO_NET, .channel = 3, .a_vaddr = (uint64_t)(uintptr_t)ours,
        .a_size = size, .b_vaddr = (uint64_t)(uintptr_t)theirs, .b_size = size, .capacity = 4 };
    vgic_init(&vgic, 1, &harness_vgic_ops, NULL);
    struct vmm_virtio_env env = { glue_notify, glue_ack, "a", &vgic, 100 };
    char err[200];
    CHECK(vmm_virtio_init(&vv, &c, &env, err, sizeof(err)));
    struct vmm_virtio_dev *v = &vv.devs[0];
    g.d = &v->u.net.dev;
    CHECK(tv_probe(&g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)));
    struct net_link_end peer_rx, peer_tx;
    CHECK(net_link_rx_init(&peer_rx, ours, size, 4, "a->b"));
    CHECK(net_link_tx_init(&peer_tx, theirs, size, 4, "b->a"));
    const uint8_t *f;
    uint32_t n, id, len;
    CHECK_EQ(net_link_rx_peek(&peer_rx, &f, &n), NET_LINK_EMPTY);   /* asks for a signal */
    struct tv_seg s = { tv_alloc(&g, 12 + 60), 12 + 60, false };
    tx_interrupt_at(&g, 0);
    /* Sent at the exit, no QueueNotify; the peer told once; the chain held. */
    tv_post(&g, 1, &s, 1);
    glue_notifies = 0;
    CHECK(vmm_virtio_exit_done(&vv, 1000));
    CHECK_EQ(glue_notifies, 1);
    CHECK_EQ(net_link_rx_peek(&peer_rx, &f, &n), NET_LINK_OK);
    CHECK_EQ(n, 60);
    CHECK_EQ(net_link_rx_release(&peer_rx), NET_LINK_OK);
    CHECK(!tv_used(&g, 1, &id, &len));
    uint64_t wake;
    CHECK(vmm_virtio_idle(&vv, 1050, &wake));
    CHECK_EQ(wake, 1100);
    CHECK(vmm_virtio_exit_done(&vv, 1099));
    CHECK(!tv_used(&g, 1, &id, &len));
    CHECK_EQ(v->irqs, 0);
    CHECK(vmm_virtio_exit_done(&vv, 1100));     /* the hold has passed */
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(v->irqs, 1);
    /* Not acknowledged yet: the next chain rides on that interrupt at once. */
    tx_interrupt_at(&g, 1);
    tv_post(&g, 1, &s, 1);
    CHECK(vmm_virtio_exit_done(&vv, 2000));
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(v->irqs, 1);
    CHECK(vmm_virtio_idle(&vv, 2001, &wake));
    CHECK_EQ(wake, UINT64_MAX);
    /* Acknowledged and EOI'd: the next one waits for a received frame's interrupt. */
    CHECK(tv_wr(&g, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING));
    CHECK(vmm_virtio_eoi(&vv, 40));
    struct tv_seg r = { tv_alloc(&g, 1536), 1536, true };
    tv_post(&g, 0, &r, 1);
    tx_interrupt_at(&g, 2);
    tv_post(&g, 1, &s, 1);
    CHECK(vmm_virtio_exit_done(&vv, 3000));
    CHECK(!tv_used(&g, 1, &id, &len));
    uint8_t *buf;
    CHECK_EQ(net_link_tx_acquire(&peer_tx, &buf), NET_LINK_OK);
    memset(buf, 0x5a, 60);
    CHECK_EQ(net_link_tx_publish(&peer_tx, 60), NET_LINK_OK);
    bool guest_error;
    CHECK(vmm_virtio_notified(&vv, 3, &guest_error));
    CHECK(!guest_error);
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 12 + 60);
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(v->irqs, 2);
    CHECK(vmm_virtio_idle(&vv, 3001, &wake));
    CHECK_EQ(wake, UINT64_MAX);
    CHECK(!virtio_mmio_broken(g.d) && !v->link_broken);
    free(ours);
    free(theirs);
    tv_guest_free(&g);
}

HARNESS_SUITE(virtio_link_tests) = {
    { "net link: region sizes (capacity 512: 0x105000 bytes)", link_region_sizes },
    { "vmm_virtio: sent frames go out at exits; their chains ride on an interrupt or their hold",
      vmm_virtio_holds_sent_chains_for_an_interrupt },
    { "net link: frames through, counters wrap", link_carries_frames },
    { "net link: a peeked frame stays until released", link_peek_is_stable_until_release },
    { "net link: back-pressure and the consumer_signalled handshake", link_backpressure_and_signals },
    { "net link: the receiver checks the sender's header", link_checks_the_header },
    { "net link: a hostile sender (offset, length, index) is reported", link_rejects_a_hostile_sender },
    { "net link: a hostile receiver (offset, index) is reported", link_rejects_a_hostile_receiver },
    { "net link: virtio-net to virtio-net through a link", link_between_two_virtio_nets },
    { "net link v2: a hostile sender's frame fields (flags, checksum, GSO, MORE) are reported",
      link_rejects_hostile_frame_fields },
    { "net link v2: a frame of more buffers than NET_LINK_MAX_FRAME_BUFFERS is reported",
      link_rejects_an_endless_frame },
    { "net link v2: a 64 KiB frame crosses as one, in 33 buffers", link_carries_a_64k_frame },
    { "net link v2: a 64 KiB TSO segment from virtio-net to virtio-net (MRG_RXBUF)",
      link_carries_tso_between_virtio_nets },
    HARNESS_END,
};
