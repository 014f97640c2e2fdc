/* The net link ring (net_link.h, docs/net-link.md): two ends over one region, the signalling
 * handshake, a hostile peer on either side, and virtio-net to virtio-net through a link. */
#include "test_virtio.h"

#include <stdlib.h>

#include "net_link.h"
#include "virtio_net.h"

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
    expect_rx_error(r, "active queue entry 0: frame length 2000 is outside 14..1514 bytes");
    r = one_frame();
    queue_at(r, NET_LINK_ACTIVE_OFFSET(4))->buffers[0].len = 0;
    expect_rx_error(r, "frame length 0 is outside");
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

static bool link_tx(void *ctx, const struct virtq_chain *c, size_t skip, size_t len)
{
    uint8_t *buf;
    enum net_link_status st = net_link_tx_acquire(ctx, &buf);
    if (st == NET_LINK_EMPTY) {
        return false;
    }
    if (st == NET_LINK_OK) {
        CHECK_EQ(virtq_chain_read(c, skip, buf, len), len);
        CHECK_EQ(net_link_tx_publish(ctx, (uint32_t)len), NET_LINK_OK);
    }
    return true;
}

/* What the receiving VMM does on the link's signal or the guest's rx_ready. */
static unsigned deliver(struct net_link_end *l, struct virtio_net *n)
{
    unsigned frames = 0;
    const uint8_t *f;
    uint32_t len;
    while (net_link_rx_peek(l, &f, &len) == NET_LINK_OK) {
        if (virtio_net_rx(n, f, len) == VIRTIO_NET_RX_NO_BUFFER) {
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
    CHECK(virtio_net_init(&net_a, &ga.mem, mac_a, &be_a, tv_raise, &ga));
    CHECK(virtio_net_init(&net_b, &gb.mem, mac_b, &be_b, tv_raise, &gb));
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

HARNESS_SUITE(virtio_link_tests) = {
    { "net link: region sizes (capacity 512: 0x105000 bytes)", link_region_sizes },
    { "net link: frames through, counters wrap", link_carries_frames },
    { "net link: a peeked frame stays until released", link_peek_is_stable_until_release },
    { "net link: back-pressure and the consumer_signalled handshake", link_backpressure_and_signals },
    { "net link: the receiver checks the sender's header", link_checks_the_header },
    { "net link: a hostile sender (offset, length, index) is reported", link_rejects_a_hostile_sender },
    { "net link: a hostile receiver (offset, index) is reported", link_rejects_a_hostile_receiver },
    { "net link: virtio-net to virtio-net through a link", link_between_two_virtio_nets },
    HARNESS_END,
};
