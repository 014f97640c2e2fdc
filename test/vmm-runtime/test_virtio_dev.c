/* The virtio device classes: virtio-net (§5.1), virtio-blk (§5.2), virtio-console (§5.3),
 * driven through the fake guest as Linux's drivers would. */
#include "test_virtio.h"

#include <stdlib.h>

#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"

/* ---------------------------------------------------------------- virtio-net */

static struct virtio_net net;
static uint8_t sent[4][2048];
static size_t sent_len[4];
static unsigned sent_count;
static bool backend_full;
static unsigned rx_ready_calls;

static struct virtio_net_hdr sent_hdr;

static bool capture_tx(void *ctx, const struct virtq_chain *c, size_t skip, size_t len,
                       const struct virtio_net_hdr *hdr)
{
    (void)ctx;
    sent_hdr = *hdr;
    if (backend_full) {
        return false;
    }
    if (sent_count < 4) {
        CHECK_EQ(virtq_chain_read(c, skip, sent[sent_count], len), len);
        sent_len[sent_count] = len;
    }
    sent_count++;
    return true;
}

/* A plain frame in one piece. */
static enum virtio_net_rx_status rx_plain(const uint8_t *frame, size_t len)
{
    const uint8_t *seg[1] = { frame };
    uint16_t seg_len[1] = { (uint16_t)len };
    struct virtio_net_frame f = { .len = len, .count = 1, .seg = seg, .seg_len = seg_len };
    return virtio_net_rx(&net, &f);
}

static const uint8_t *rx_ready_frame;   /* delivered from rx_ready when set */

static void note_rx_ready(void *ctx)
{
    (void)ctx;
    rx_ready_calls++;
    if (rx_ready_frame != NULL) {
        (void)rx_plain(rx_ready_frame, 60);
    }
}

static void net_setup(struct tv_guest *g)
{
    static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 1 };
    tv_guest_init(g);
    struct virtio_net_backend be = { .ctx = NULL, .tx = capture_tx, .rx_ready = note_rx_ready };
    CHECK(virtio_net_init(&net, &g->mem, mac, &be, true, tv_raise, g));
    g->d = &net.dev;
    sent_count = 0;
    backend_full = false;
    rx_ready_calls = 0;
    rx_ready_frame = NULL;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(seed + i * 7u);
    }
}

static void net_tx_hands_frames_to_the_backend(void)
{
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_MTU)));
    /* One buffer: header and frame together (Linux with VIRTIO_F_ANY_LAYOUT). */
    uint64_t a = tv_alloc(&g, 12 + 60);
    fill(tv_host(&g, a) + 12, 60, 1);
    struct tv_seg one = { a, 72, false };
    tv_post(&g, 1, &one, 1);
    /* Three buffers, the header itself split over two. */
    uint64_t b = tv_alloc(&g, 12 + 1514);
    fill(tv_host(&g, b) + 12, 1514, 9);
    struct tv_seg three[3] = { { b, 5, false }, { b + 5, 100, false }, { b + 105, 1421, false } };
    tv_post(&g, 1, three, 3);
    CHECK(tv_notify(&g, 1));
    CHECK_EQ(sent_count, 2);
    CHECK_EQ(sent_len[0], 60);
    CHECK(memcmp(sent[0], tv_host(&g, a) + 12, 60) == 0);
    CHECK_EQ(sent_len[1], 1514);
    CHECK(memcmp(sent[1], tv_host(&g, b) + 12, 1514) == 0);
    uint32_t id, len;
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(id, 0);
    CHECK_EQ(len, 0);
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(id, 1);
    CHECK(virtio_mmio_irq_pending(g.d));
    CHECK_EQ(net.tx_frames, 2);
    tv_guest_free(&g);
}

static void net_tx_waits_when_the_backend_is_full(void)
{
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, 0));
    struct tv_seg s = { tv_alloc(&g, 72), 72, false };
    backend_full = true;
    tv_post(&g, 1, &s, 1);
    tv_post(&g, 1, &s, 1);
    CHECK(tv_notify(&g, 1));
    uint32_t id, len;
    CHECK(!tv_used(&g, 1, &id, &len));      /* the chains stay in the ring */
    CHECK(net.tx_blocked);
    backend_full = false;
    CHECK(virtio_net_tx_kick(&net));
    CHECK_EQ(sent_count, 2);
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK(!net.tx_blocked);
    tv_guest_free(&g);
}

static void net_tx_drops_oversized_frames(void)
{
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, 0));
    struct tv_seg big = { tv_alloc(&g, 12 + 1515), 12 + 1515, false };
    struct tv_seg runt = { tv_alloc(&g, 12 + 13), 12 + 13, false };
    tv_post(&g, 1, &big, 1);
    tv_post(&g, 1, &runt, 1);
    CHECK(tv_notify(&g, 1));
    CHECK_EQ(sent_count, 0);
    CHECK_EQ(net.tx_dropped, 2);
    uint32_t id, len;
    CHECK(tv_used(&g, 1, &id, &len));       /* completed all the same */
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK(!virtio_mmio_broken(g.d));
    tv_guest_free(&g);
}

static void net_rx_delivers_frames(void)
{
    struct tv_guest g;
    net_setup(&g);
    uint8_t frame[1514];
    fill(frame, sizeof(frame), 3);
    /* Before DRIVER_OK, frames are dropped (the interface is down). */
    CHECK_EQ(rx_plain(frame, 60), VIRTIO_NET_RX_DROPPED);
    CHECK(tv_probe(&g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    CHECK_EQ(rx_ready_calls, 1);            /* DRIVER_OK */
    CHECK_EQ(rx_plain(frame, 60), VIRTIO_NET_RX_NO_BUFFER);
    /* Linux's small receive buffers: one writable descriptor of header + 1518 + padding. */
    uint64_t buf = tv_alloc(&g, 1536);
    memset(tv_host(&g, buf), 0xee, 1536);
    struct tv_seg s = { buf, 1536, true };
    tv_post(&g, 0, &s, 1);
    CHECK(tv_notify(&g, 0));
    CHECK_EQ(rx_ready_calls, 2);
    CHECK_EQ(rx_plain(frame, 1514), VIRTIO_NET_RX_DELIVERED);
    uint32_t id, len;
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 12 + 1514);
    struct virtio_net_hdr hdr;
    memcpy(&hdr, tv_host(&g, buf), sizeof(hdr));
    CHECK_EQ(hdr.flags, 0);
    CHECK_EQ(hdr.gso_type, 0);
    CHECK_EQ(hdr.num_buffers, 1);
    CHECK(memcmp(tv_host(&g, buf) + 12, frame, 1514) == 0);
    CHECK_EQ(tv_host(&g, buf)[12 + 1514], 0xee);     /* nothing written past the frame */
    CHECK(virtio_mmio_irq_pending(g.d));
    /* Out-of-range frames are the caller's to drop. */
    CHECK_EQ(rx_plain(frame, 13), VIRTIO_NET_RX_DROPPED);
    CHECK_EQ(rx_plain(frame, 1515), VIRTIO_NET_RX_DROPPED);
    tv_guest_free(&g);
}

static void net_rx_buffer_split_and_too_small(void)
{
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, 0));
    uint8_t frame[100];
    fill(frame, sizeof(frame), 5);
    /* Too small for this frame but not for a shorter one: kept. */
    struct tv_seg small = { tv_alloc(&g, 12 + 64), 12 + 64, true };
    tv_post(&g, 0, &small, 1);
    CHECK_EQ(rx_plain(frame, 100), VIRTIO_NET_RX_DROPPED);
    CHECK_EQ(rx_plain(frame, 64), VIRTIO_NET_RX_DELIVERED);
    /* A header split over two buffers and the frame over a third. */
    uint64_t b = tv_alloc(&g, 256);
    struct tv_seg split[3] = { { b, 4, true }, { b + 16, 8, true }, { b + 32, 200, true } };
    tv_post(&g, 0, split, 3);
    CHECK_EQ(rx_plain(frame, 100), VIRTIO_NET_RX_DELIVERED);
    CHECK_EQ(tv_host(&g, b + 16)[6], 1);      /* num_buffers at byte 10 of the header */
    CHECK(memcmp(tv_host(&g, b + 32), frame, 100) == 0);
    uint32_t id, len;
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 12 + 64);
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 12 + 100);
    tv_guest_free(&g);
}

static void net_rx_rejects_a_buffer_without_room_for_the_header(void)
{
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, 0));
    struct tv_seg s = { tv_alloc(&g, 10), 10, true };
    tv_post(&g, 0, &s, 1);
    uint8_t frame[60] = { 0 };
    CHECK_EQ(rx_plain(frame, 60), VIRTIO_NET_RX_GUEST_ERROR);
    CHECK(virtio_mmio_broken(g.d));
    CHECK_CONTAINS(virtio_mmio_report(g.d), "virtio-net queue 0 (rx): the chain from head 0 has "
                   "10 device-writable bytes, fewer than the 12-byte virtio-net header");
    CHECK_EQ(rx_plain(frame, 60), VIRTIO_NET_RX_GUEST_ERROR);
    tv_guest_free(&g);
}

static void net_rx_error_in_rx_ready_fails_the_notify(void)
{
    /* The VMM delivers waiting frames from rx_ready, inside the guest's QueueNotify: a bad
     * receive buffer found there must fail that access, so the VM is stopped. */
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, 0));
    static const uint8_t frame[60];
    rx_ready_frame = frame;
    struct tv_seg s = { TV_RAM_END - 8, 64, true };
    tv_post(&g, 0, &s, 1);
    CHECK(!tv_notify(&g, 0));
    CHECK_CONTAINS(virtio_mmio_report(g.d), "virtio-net queue 0 (rx): descriptor 0 "
                   "[0x400ffff8..+0x40) is outside guest RAM");
    /* Later accesses to the broken device succeed (only the first failure is an error). */
    CHECK(tv_wr(&g, VIRTIO_MMIO_INTERRUPT_ACK, 3));
    tv_guest_free(&g);
}

/* Deferred completions: a sent chain goes back at virtio_net_tx_return or with a received
 * frame, one interrupt for all; a reset forgets them. */
static void net_tx_completions_can_wait(void)
{
    struct tv_guest g;
    net_setup(&g);
    net.tx_defer = true;
    CHECK(tv_probe(&g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    uint64_t b = tv_alloc(&g, 12 + 60);
    struct tv_seg s = { b, 12 + 60, false };
    uint32_t id, len;
    for (unsigned i = 0; i < 3; i++) {
        tv_post(&g, 1, &s, 1);
        CHECK(tv_notify(&g, 1));
    }
    CHECK_EQ(sent_count, 3);
    CHECK(!tv_used(&g, 1, &id, &len));
    CHECK_EQ(g.irqs, 0);
    CHECK(virtio_net_tx_return(&net));
    CHECK_EQ(g.irqs, 1);
    unsigned used = 0;
    while (tv_used(&g, 1, &id, &len)) {
        used++;
    }
    CHECK_EQ(used, 3);
    tv_wr(&g, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    /* A received frame brings the waiting ones back with it. */
    tv_post(&g, 1, &s, 1);
    CHECK(tv_notify(&g, 1));
    struct tv_seg r = { tv_alloc(&g, 1526), 1526, true };
    tv_post(&g, 0, &r, 1);
    uint8_t frame[60];
    fill(frame, sizeof(frame), 1);
    CHECK_EQ(rx_plain(frame, 60), VIRTIO_NET_RX_DELIVERED);
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(g.irqs, 2);
    /* At most VIRTIO_NET_TX_DEFER_MAX wait. */
    for (unsigned i = 0; i < VIRTIO_NET_TX_DEFER_MAX; i++) {
        tv_post(&g, 1, &s, 1);
        CHECK(tv_notify(&g, 1));
    }
    CHECK_EQ(net.tx_done_count, 0);
    used = 0;
    while (tv_used(&g, 1, &id, &len)) {
        used++;
    }
    CHECK_EQ(used, VIRTIO_NET_TX_DEFER_MAX);
    tv_post(&g, 1, &s, 1);
    CHECK(tv_notify(&g, 1));
    CHECK_EQ(net.tx_done_count, 1);
    tv_wr(&g, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(net.tx_done_count, 0);
    CHECK(virtio_net_tx_return(&net));
    CHECK(!virtio_mmio_broken(g.d));
    tv_guest_free(&g);
}

static void net_link_status_notifies(void)
{
    struct tv_guest g;
    net_setup(&g);
    CHECK(tv_probe(&g, VIRTIO_FEATURE(VIRTIO_NET_F_STATUS)));
    CHECK(!virtio_mmio_irq_pending(g.d));
    virtio_net_set_link(&net, false);
    CHECK_EQ(tv_rd(&g, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    uint64_t v;
    CHECK(virtio_mmio_access(g.d, 0x106, false, 2, &v));
    CHECK_EQ(v, 0);
    virtio_net_set_link(&net, true);
    CHECK(virtio_mmio_access(g.d, 0x106, false, 2, &v));
    CHECK_EQ(v, VIRTIO_NET_S_LINK_UP);
    tv_guest_free(&g);
}

/* ---------------------------------------------------------------- virtio-blk */

#define DISK_SECTORS 64u
static struct virtio_blk blk;
static uint8_t *disk;

static void blk_setup(struct tv_guest *g, bool ro)
{
    tv_guest_init(g);
    disk = malloc(DISK_SECTORS * 512u);
    fill(disk, DISK_SECTORS * 512u, 0x40);
    CHECK(virtio_blk_init(&blk, &g->mem, disk, DISK_SECTORS, ro, "sel4cp-disk-0", tv_raise, g));
    g->d = &blk.dev;
    CHECK(tv_probe(g, VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX)
                          | (ro ? VIRTIO_FEATURE(VIRTIO_BLK_F_RO) : 0)));
}

static void blk_teardown(struct tv_guest *g)
{
    free(disk);
    tv_guest_free(g);
}

/* A request as Linux builds it: header, data, status; returns the status byte and the used
 * length. */
struct blk_result {
    uint8_t status;
    uint32_t used_len;
};

static struct blk_result blk_do(struct tv_guest *g, uint32_t type, uint64_t sector, uint64_t data,
                                uint32_t data_len, bool data_writable)
{
    uint64_t hdr = tv_alloc(g, 16);
    uint64_t st = tv_alloc(g, 1);
    struct virtio_blk_req_hdr h = { .type = type, .reserved = 0, .sector = sector };
    memcpy(tv_host(g, hdr), &h, sizeof(h));
    tv_host(g, st)[0] = 0xaa;
    struct tv_seg s[3] = { { hdr, 16, false }, { data, data_len, data_writable }, { st, 1, true } };
    if (data_len != 0) {
        tv_post(g, 0, s, 3);
    } else {
        s[1] = s[2];
        tv_post(g, 0, s, 2);
    }
    CHECK(tv_notify(g, 0));
    struct blk_result r = { 0xff, 0 };
    uint32_t id;
    CHECK(tv_used(g, 0, &id, &r.used_len));
    r.status = tv_host(g, st)[0];
    return r;
}

static void blk_reads_and_writes(void)
{
    struct tv_guest g;
    blk_setup(&g, false);
    uint64_t v;
    CHECK(virtio_mmio_access(g.d, 0x100, false, 4, &v));
    CHECK_EQ(v, DISK_SECTORS);
    CHECK(virtio_mmio_access(g.d, 0x104, false, 4, &v));
    CHECK_EQ(v, 0);
    CHECK(virtio_mmio_access(g.d, 0x10c, false, 4, &v));        /* seg_max */
    CHECK_EQ(v, 126);
    uint64_t buf = tv_alloc(&g, 1024);
    struct blk_result r = blk_do(&g, VIRTIO_BLK_T_IN, 2, buf, 1024, true);
    CHECK_EQ(r.status, VIRTIO_BLK_S_OK);
    CHECK_EQ(r.used_len, 1025);
    CHECK(memcmp(tv_host(&g, buf), disk + 1024, 1024) == 0);
    fill(tv_host(&g, buf), 512, 0x99);
    r = blk_do(&g, VIRTIO_BLK_T_OUT, 63, buf, 512, false);
    CHECK_EQ(r.status, VIRTIO_BLK_S_OK);
    CHECK_EQ(r.used_len, 1);
    CHECK(memcmp(disk + 63 * 512, tv_host(&g, buf), 512) == 0);
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_FLUSH, 0, 0, 0, false).status, VIRTIO_BLK_S_OK);
    CHECK_EQ(blk.reads, 1);
    CHECK_EQ(blk.writes, 1);
    blk_teardown(&g);
}

static void blk_checks_ranges(void)
{
    struct tv_guest g;
    blk_setup(&g, false);
    uint64_t buf = tv_alloc(&g, 1024);
    memset(tv_host(&g, buf), 0x5a, 1024);
    /* The last sector plus one, a sector number that would overflow, a partial sector. */
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_IN, 63, buf, 1024, true).status, VIRTIO_BLK_S_IOERR);
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_IN, 64, buf, 512, true).status, VIRTIO_BLK_S_IOERR);
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_OUT, UINT64_MAX / 512, buf, 1024, false).status,
             VIRTIO_BLK_S_IOERR);
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_OUT, UINT64_MAX, buf, 512, false).status,
             VIRTIO_BLK_S_IOERR);
    struct blk_result r = blk_do(&g, VIRTIO_BLK_T_IN, 0, buf, 100, true);
    CHECK_EQ(r.status, VIRTIO_BLK_S_IOERR);
    CHECK_EQ(r.used_len, 1);
    CHECK_EQ(tv_host(&g, buf)[0], 0x5a);    /* nothing written on error */
    CHECK_EQ(blk.errors, 5);
    CHECK(!virtio_mmio_broken(g.d));
    blk_teardown(&g);
}

static void blk_read_only_refuses_writes(void)
{
    struct tv_guest g;
    blk_setup(&g, true);
    tv_wr(&g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    CHECK_EQ(tv_rd(&g, VIRTIO_MMIO_DEVICE_FEATURES),
             (1u << VIRTIO_BLK_F_RO) | (1u << VIRTIO_BLK_F_SEG_MAX) | (1u << VIRTIO_F_EVENT_IDX));
    uint8_t before[512];
    memcpy(before, disk, 512);
    uint64_t buf = tv_alloc(&g, 512);
    fill(tv_host(&g, buf), 512, 0x11);
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_OUT, 0, buf, 512, false).status, VIRTIO_BLK_S_IOERR);
    CHECK(memcmp(disk, before, 512) == 0);
    CHECK_EQ(blk_do(&g, VIRTIO_BLK_T_IN, 0, buf, 512, true).status, VIRTIO_BLK_S_OK);
    blk_teardown(&g);
}

static void blk_get_id_and_unsupported(void)
{
    struct tv_guest g;
    blk_setup(&g, false);
    uint64_t id = tv_alloc(&g, 20);
    memset(tv_host(&g, id), 0x7f, 20);
    struct blk_result r = blk_do(&g, VIRTIO_BLK_T_GET_ID, 0, id, 20, true);
    CHECK_EQ(r.status, VIRTIO_BLK_S_OK);
    CHECK_EQ(r.used_len, 21);
    CHECK(memcmp(tv_host(&g, id), "sel4cp-disk-0\0\0\0\0\0\0\0", 20) == 0);
    uint64_t buf = tv_alloc(&g, 512);
    CHECK_EQ(blk_do(&g, 11 /* DISCARD */, 0, buf, 16, false).status, VIRTIO_BLK_S_UNSUPP);
    CHECK_EQ(blk_do(&g, 0x80000000u, 0, 0, 0, false).status, VIRTIO_BLK_S_UNSUPP);
    blk_teardown(&g);
}

static void blk_header_split_over_descriptors(void)
{
    struct tv_guest g;
    blk_setup(&g, false);
    uint64_t hdr = tv_alloc(&g, 16);
    uint64_t data = tv_alloc(&g, 512);
    uint64_t tail = tv_alloc(&g, 213);
    struct virtio_blk_req_hdr h = { .type = VIRTIO_BLK_T_IN, .reserved = 0, .sector = 5 };
    memcpy(tv_host(&g, hdr), &h, sizeof(h));
    /* Header in two pieces; data and status share the last writable buffer. */
    struct tv_seg s[4] = { { hdr, 3, false }, { hdr + 3, 13, false }, { data, 300, true },
                           { tail, 213, true } };
    tv_post(&g, 0, s, 4);
    CHECK(tv_notify(&g, 0));
    uint32_t id, len;
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 513);
    CHECK(memcmp(tv_host(&g, data), disk + 5 * 512, 300) == 0);
    CHECK(memcmp(tv_host(&g, tail), disk + 5 * 512 + 300, 212) == 0);
    CHECK_EQ(tv_host(&g, tail)[212], VIRTIO_BLK_S_OK);
    blk_teardown(&g);
}

static void blk_reads_seg_max_segments(void)
{
    /* seg_max data segments of 256 bytes each: 63 sectors in one request. */
    struct tv_guest g;
    blk_setup(&g, false);
    struct tv_seg s[VIRTIO_BLK_SEG_MAX + 2];
    uint64_t hdr = tv_alloc(&g, 16);
    struct virtio_blk_req_hdr h = { .type = VIRTIO_BLK_T_IN, .reserved = 0, .sector = 1 };
    memcpy(tv_host(&g, hdr), &h, sizeof(h));
    s[0] = (struct tv_seg){ hdr, 16, false };
    uint64_t data = tv_alloc(&g, VIRTIO_BLK_SEG_MAX * 256);
    for (unsigned i = 0; i < VIRTIO_BLK_SEG_MAX; i++) {
        s[1 + i] = (struct tv_seg){ data + 256u * i, 256, true };
    }
    s[VIRTIO_BLK_SEG_MAX + 1] = (struct tv_seg){ tv_alloc(&g, 1), 1, true };
    tv_post(&g, 0, s, VIRTIO_BLK_SEG_MAX + 2);
    CHECK(tv_notify(&g, 0));
    uint32_t id, len;
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, VIRTIO_BLK_SEG_MAX * 256 + 1);
    CHECK(memcmp(tv_host(&g, data), disk + 512, VIRTIO_BLK_SEG_MAX * 256) == 0);
    CHECK_EQ(tv_host(&g, s[VIRTIO_BLK_SEG_MAX + 1].gpa)[0], VIRTIO_BLK_S_OK);
    blk_teardown(&g);
}

static void blk_rejects_a_request_without_header_or_status(void)
{
    struct tv_guest g;
    blk_setup(&g, false);
    struct tv_seg s = { tv_alloc(&g, 16), 16, false };
    tv_post(&g, 0, &s, 1);
    CHECK(!tv_notify(&g, 0));
    CHECK_CONTAINS(virtio_mmio_report(g.d), "virtio-blk queue 0 (requestq): the chain from head 0 "
                   "has 16 device-readable and 0 device-writable bytes; a request needs a "
                   "16-byte header and a status byte");
    blk_teardown(&g);
    blk_setup(&g, false);
    struct tv_seg t[2] = { { tv_alloc(&g, 8), 8, false }, { tv_alloc(&g, 1), 1, true } };
    tv_post(&g, 0, t, 2);
    CHECK(!tv_notify(&g, 0));
    CHECK_CONTAINS(virtio_mmio_report(g.d), "has 8 device-readable and 1 device-writable bytes");
    blk_teardown(&g);
}

/* ---------------------------------------------------------------- virtio-console */

static struct virtio_console con;
static char out[256];
static size_t out_len;
static unsigned sink_calls;

static void sink(void *ctx, const uint8_t *bytes, size_t len)
{
    (void)ctx;
    CHECK(out_len + len < sizeof(out));
    memcpy(out + out_len, bytes, len);
    out_len += len;
    out[out_len] = '\0';
    sink_calls++;
}

static void con_setup(struct tv_guest *g)
{
    tv_guest_init(g);
    CHECK(virtio_console_init(&con, &g->mem, sink, NULL, tv_raise, g));
    g->d = &con.dev;
    out_len = 0;
    out[0] = '\0';
    sink_calls = 0;
}

static void console_transmits(void)
{
    struct tv_guest g;
    con_setup(&g);
    CHECK_EQ(tv_rd(&g, VIRTIO_MMIO_DEVICE_ID), 3);
    CHECK(tv_probe(&g, 0));
    uint64_t a = tv_alloc(&g, 16);
    memcpy(tv_host(&g, a), "hello, ", 7);
    uint64_t b = tv_alloc(&g, 16);
    memcpy(tv_host(&g, b), "world\n", 6);
    struct tv_seg s[2] = { { a, 7, false }, { b, 6, false } };
    tv_post(&g, 1, s, 2);
    CHECK(tv_notify(&g, 1));
    CHECK(strcmp(out, "hello, world\n") == 0);
    CHECK_EQ(sink_calls, 2);
    uint32_t id, len;
    CHECK(tv_used(&g, 1, &id, &len));
    CHECK_EQ(len, 0);
    CHECK_EQ(con.output_bytes, 13);
    tv_guest_free(&g);
}

static void console_receives_through_the_fifo(void)
{
    struct tv_guest g;
    con_setup(&g);
    /* Input before the driver runs waits in the FIFO. */
    CHECK(virtio_console_input(&con, (const uint8_t *)"ls -l\n", 6));
    CHECK_EQ(con.fifo_len, 6);
    CHECK(tv_probe(&g, 0));
    uint64_t a = tv_alloc(&g, 4);
    uint64_t b = tv_alloc(&g, 64);
    struct tv_seg sa = { a, 4, true };
    struct tv_seg sb = { b, 64, true };
    tv_post(&g, 0, &sa, 1);
    tv_post(&g, 0, &sb, 1);
    CHECK(tv_notify(&g, 0));                /* flushes on notify */
    uint32_t id, len;
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 4);
    CHECK(memcmp(tv_host(&g, a), "ls -", 4) == 0);
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 2);
    CHECK(memcmp(tv_host(&g, b), "l\n", 2) == 0);
    CHECK_EQ(con.fifo_len, 0);
    /* No buffer: the FIFO holds 256 bytes, the rest is dropped; it wraps. */
    uint8_t many[300];
    fill(many, sizeof(many), 0);
    CHECK(virtio_console_input(&con, many, 300));
    CHECK_EQ(con.fifo_len, 256);
    CHECK_EQ(con.input_dropped, 44);
    uint64_t c = tv_alloc(&g, 512);
    struct tv_seg sc = { c, 100, true };
    tv_post(&g, 0, &sc, 1);
    CHECK(tv_notify(&g, 0));
    CHECK(virtio_console_input(&con, many, 50));    /* lands behind the wrap point */
    sc.len = 512;
    tv_post(&g, 0, &sc, 1);
    CHECK(tv_notify(&g, 0));
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 100);
    CHECK(tv_used(&g, 0, &id, &len));
    CHECK_EQ(len, 206);
    CHECK(memcmp(tv_host(&g, c), many + 100, 156) == 0);
    CHECK(memcmp(tv_host(&g, c) + 156, many, 50) == 0);
    tv_guest_free(&g);
}

static void console_rejects_receive_buffer_without_room(void)
{
    struct tv_guest g;
    con_setup(&g);
    CHECK(tv_probe(&g, 0));
    struct tv_seg s = { tv_alloc(&g, 8), 8, false };
    tv_post(&g, 0, &s, 1);
    CHECK(!virtio_console_input(&con, (const uint8_t *)"x", 1));
    CHECK_CONTAINS(virtio_mmio_report(g.d), "virtio-console queue 0 (receiveq): the chain from "
                   "head 0 has no device-writable bytes");
    tv_guest_free(&g);
}

HARNESS_SUITE(virtio_dev_tests) = {
    { "virtio-net: tx frames reach the backend once, any layout", net_tx_hands_frames_to_the_backend },
    { "virtio-net: tx waits in the ring while the backend is full", net_tx_waits_when_the_backend_is_full },
    { "virtio-net: oversized and runt tx frames are dropped", net_tx_drops_oversized_frames },
    { "virtio-net: rx delivery with a zeroed header, num_buffers 1", net_rx_delivers_frames },
    { "virtio-net: rx into split buffers; a small buffer is kept", net_rx_buffer_split_and_too_small },
    { "virtio-net: rx buffer shorter than the header is a guest error", net_rx_rejects_a_buffer_without_room_for_the_header },
    { "virtio-net: a guest error found from rx_ready fails the notify", net_rx_error_in_rx_ready_fails_the_notify },
    { "virtio-net: link status changes notify the driver", net_link_status_notifies },
    { "virtio-net: deferred tx completions return together, with rx, or at 64",
      net_tx_completions_can_wait },
    { "virtio-blk: read, write, flush; capacity in config", blk_reads_and_writes },
    { "virtio-blk: out-of-range and partial-sector requests fail with IOERR", blk_checks_ranges },
    { "virtio-blk: read-only device offers RO and refuses writes", blk_read_only_refuses_writes },
    { "virtio-blk: GET_ID and unsupported requests", blk_get_id_and_unsupported },
    { "virtio-blk: header split over descriptors, status shares a buffer", blk_header_split_over_descriptors },
    { "virtio-blk: a request of seg_max data segments", blk_reads_seg_max_segments },
    { "virtio-blk: a request without header or status byte is a guest error", blk_rejects_a_request_without_header_or_status },
    { "virtio-console: transmit to the sink", console_transmits },
    { "virtio-console: receive through the FIFO (before DRIVER_OK, overflow, wrap)", console_receives_through_the_fifo },
    { "virtio-console: receive buffer with no writable bytes is a guest error", console_rejects_receive_buffer_without_room },
    HARNESS_END,
};
