/* The virtio-mmio transport and split virtqueues: registers, negotiation, status, interrupts,
 * and each way a hostile driver can corrupt a queue (virtio 1.2 §2.1, §2.7, §4.2.2). */
#include "test_virtio.h"

#include <stdlib.h>

#include "virtio_net.h"

static struct virtio_net net;
static struct tv_guest guest;
static unsigned tx_frames;
static bool tx_full;        /* the backend has no room */

static bool count_tx(void *ctx, const struct virtq_chain *c, size_t skip, size_t len,
                     const struct virtio_net_hdr *hdr)
{
    (void)hdr;
    (void)ctx;
    (void)c;
    (void)skip;
    (void)len;
    if (tx_full) {
        return false;
    }
    tx_frames++;
    return true;
}

static const uint8_t mac[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };

/* A virtio-net device on a fresh fake guest. */
static struct tv_guest *setup(void)
{
    tv_guest_init(&guest);
    struct virtio_net_backend be = { .ctx = NULL, .tx = count_tx, .rx_ready = NULL };
    CHECK(virtio_net_init(&net, &guest.mem, mac, &be, true, tv_raise, &guest));
    guest.d = &net.dev;
    tx_frames = 0;
    tx_full = false;
    return &guest;
}

/* A running device, ready for hostile rings on the tx queue. */
static struct tv_guest *running(void)
{
    struct tv_guest *g = setup();
    CHECK(tv_probe(g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    return g;
}

static void expect_broken(struct tv_guest *g, const char *text)
{
    CHECK(virtio_mmio_broken(g->d));
    CHECK(tv_rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    CHECK_CONTAINS(virtio_mmio_report(g->d), text);
}

static void virtio_mmio_identifies(void)
{
    struct tv_guest *g = setup();
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_VERSION), 2);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_DEVICE_ID), 1);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
    for (unsigned q = 0; q < 3; q++) {
        tv_wr(g, VIRTIO_MMIO_QUEUE_SEL, q);
        CHECK_EQ(tv_rd(g, VIRTIO_MMIO_QUEUE_NUM_MAX), q < 2 ? 256 : 0);
        CHECK_EQ(tv_rd(g, VIRTIO_MMIO_QUEUE_READY), 0);
    }
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);   /* no shared memory region */
    CHECK_EQ(tv_rd(g, 0x0f0), 0);                                /* reserved: RAZ */
    CHECK(tv_wr(g, 0x0f0, 5));                                   /* ... and WI */
    CHECK(!virtio_mmio_broken(g->d));
    tv_guest_free(g);
}

static void virtio_mmio_table_sorted(void)
{
    size_t n;
    const struct virtio_mmio_reg *r = virtio_mmio_regs(&n);
    for (size_t i = 0; i < n; i++) {
        CHECK(r[i].offset % 4 == 0 && r[i].offset < VIRTIO_MMIO_CONFIG);
        CHECK(r[i].read != NULL || r[i].write != NULL);
        if (i > 0) {
            CHECK(r[i - 1].offset < r[i].offset);
        }
    }
    CHECK(strcmp(virtio_mmio_reg_name(0x070), "Status") == 0);
    CHECK(strcmp(virtio_mmio_reg_name(0x104), "config") == 0);
    CHECK(strcmp(virtio_mmio_reg_name(0x0f0), "reserved") == 0);
}

static void virtio_mmio_config_space(void)
{
    struct tv_guest *g = setup();
    uint64_t v = 0;
    for (unsigned i = 0; i < 6; i++) {
        CHECK(virtio_mmio_access(g->d, 0x100 + i, false, 1, &v));
        CHECK_EQ(v, mac[i]);
    }
    CHECK(virtio_mmio_access(g->d, 0x100, false, 4, &v));
    CHECK_EQ(v, 0x105e0002u);
    CHECK(virtio_mmio_access(g->d, 0x106, false, 2, &v));        /* status: link up */
    CHECK_EQ(v, VIRTIO_NET_S_LINK_UP);
    CHECK(virtio_mmio_access(g->d, 0x10a, false, 2, &v));        /* mtu */
    CHECK_EQ(v, 1500);
    CHECK(virtio_mmio_access(g->d, 0x1fc, false, 4, &v));        /* beyond the config: RAZ */
    CHECK_EQ(v, 0);
    v = 0x11;
    CHECK(virtio_mmio_access(g->d, 0x100, true, 1, &v));         /* read-only: WI */
    CHECK(virtio_mmio_access(g->d, 0x100, false, 1, &v));
    CHECK_EQ(v, mac[0]);
    uint32_t gen = tv_rd(g, VIRTIO_MMIO_CONFIG_GENERATION);
    virtio_net_set_link(&net, false);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_CONFIG_GENERATION), gen + 1);
    CHECK(virtio_mmio_access(g->d, 0x106, false, 2, &v));
    CHECK_EQ(v, 0);
    CHECK(!virtio_mmio_irq_pending(g->d));   /* no notification before DRIVER_OK */
    tv_guest_free(g);
}

static void virtio_mmio_negotiates_features(void)
{
    struct tv_guest *g = setup();
    tv_wr(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_DEVICE_FEATURES) & ~VIRTIO_NET_OFFLOAD_FEATURES,
             (1u << 3) | (1u << 5) | (1u << 16) | (1u << VIRTIO_F_EVENT_IDX));
    tv_wr(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_DEVICE_FEATURES), 1);          /* VIRTIO_F_VERSION_1 */
    tv_wr(g, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    uint64_t v1 = VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
    CHECK(tv_negotiate(g, v1 | VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    CHECK(virtio_mmio_negotiated(g->d, VIRTIO_NET_F_MAC));
    CHECK(!virtio_mmio_negotiated(g->d, VIRTIO_NET_F_STATUS));
    /* Features are final after FEATURES_OK. */
    tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_NET_F_STATUS);
    CHECK(!virtio_mmio_negotiated(g->d, VIRTIO_NET_F_STATUS));
    /* Refused: no VERSION_1 (a legacy driver), a feature not offered, bits beyond 63. */
    CHECK(!tv_negotiate(g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC)));
    CHECK(!tv_negotiate(g, v1 | VIRTIO_FEATURE(VIRTIO_F_INDIRECT_DESC)));
    CHECK(tv_negotiate(g, v1 | VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)));
    tv_negotiate(g, v1);
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
    tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    tv_wr(g, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    tv_wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK, 0);
    CHECK(!virtio_mmio_broken(g->d));
    tv_guest_free(g);
}

static void virtio_mmio_driver_ok_needs_features_ok(void)
{
    struct tv_guest *g = setup();
    tv_wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    CHECK(!tv_wr(g, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER
                                        | VIRTIO_STATUS_DRIVER_OK));
    expect_broken(g, "virtio-net status 0x7: DRIVER_OK without FEATURES_OK");
    /* A reset clears the broken state. */
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK(!virtio_mmio_broken(g->d));
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_STATUS), 0);
    CHECK(tv_probe(g, 0));
    tv_guest_free(g);
}

static void virtio_mmio_checks_access_width(void)
{
    struct tv_guest *g = setup();
    uint64_t v = 0;
    CHECK(!virtio_mmio_access(g->d, VIRTIO_MMIO_STATUS, false, 2, &v));
    expect_broken(g, "virtio-net register Status (0x070): 2-byte read; registers take 32-bit");
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK(!virtio_mmio_access(g->d, 0x102, false, 4, &v));
    expect_broken(g, "4-byte read at offset 0x102 is misaligned or outside the 0x200-byte window");
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK(!virtio_mmio_access(g->d, 0x200, true, 4, &v));
    expect_broken(g, "offset 0x200");
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK(!virtio_mmio_access(g->d, 0x100, false, 8, &v));
    expect_broken(g, "config: 8-byte read");
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK(!virtio_mmio_access(g->d, 0x100, false, 3, &v));
    tv_guest_free(g);
}

static void virtio_mmio_reset_forgets_the_driver(void)
{
    struct tv_guest *g = running();
    tv_wr(g, VIRTIO_MMIO_QUEUE_SEL, 1);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_QUEUE_READY), 1);
    /* Layout writes to a ready queue are ignored. */
    tv_wr(g, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x12345000);
    CHECK_EQ(net.dev.queues[1].desc_gpa, TV_RAM_BASE + 0x4000);
    virtio_mmio_interrupt(g->d, VIRTIO_MMIO_INT_VRING);
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_STATUS), 0);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_QUEUE_READY), 0);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    CHECK(!virtio_mmio_irq_pending(g->d));
    CHECK(!virtio_mmio_negotiated(g->d, VIRTIO_NET_F_MAC));
    /* Nothing is processed before DRIVER_OK (§2.1.2), then the backlog is. */
    CHECK(tv_negotiate(g, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)));
    uint64_t base = TV_RAM_BASE + 0x4000;
    CHECK(tv_setup_queue(g, 1, 256, base, base + 0x1000, base + 0x2000));
    struct tv_seg s = { tv_alloc(g, 12 + 60), 12 + 60, false };
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(tx_frames, 0);
    tv_wr(g, VIRTIO_MMIO_STATUS, tv_rd(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    CHECK_EQ(tx_frames, 1);
    tv_guest_free(g);
}

static void virtio_mmio_interrupt_status_and_ack(void)
{
    struct tv_guest *g = running();
    struct tv_seg s = { tv_alloc(g, 72), 72, false };
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(g->irqs, 1);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    CHECK(virtio_mmio_irq_pending(g->d));
    /* A second used buffer while the bit is still set needs no new edge. */
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(g->irqs, 1);
    tv_wr(g, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    CHECK(!virtio_mmio_irq_pending(g->d));
    /* VIRTQ_AVAIL_F_NO_INTERRUPT (§2.7.7) suppresses it. */
    ((struct virtq_avail *)(void *)tv_host(g, g->q[1].avail))->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK(!virtio_mmio_irq_pending(g->d));
    uint32_t id, len;
    unsigned used = 0;
    while (tv_used(g, 1, &id, &len)) {
        used++;
        CHECK_EQ(len, 0);
    }
    CHECK_EQ(used, 3);
    CHECK_EQ(tx_frames, 3);
    tv_guest_free(g);
}

/* VIRTIO_F_EVENT_IDX (§2.7.10): the driver's used_event picks the one used entry that
 * interrupts (NO_INTERRUPT is ignored), and the device's avail_event asks for a notification
 * only for the entry it waits for. Hostile values only move interrupts. */
static void virtq_event_idx_suppresses_interrupts_and_notifications(void)
{
    struct tv_guest *g = setup();
    CHECK(tv_probe(g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)));
    struct tv_queue *tq = &g->q[1];
    uint16_t *used_event = (uint16_t *)(void *)(tv_host(g, tq->avail) + 4 + 2u * tq->num);
    uint16_t *avail_event = (uint16_t *)(void *)(tv_host(g, tq->used) + 4 + 8u * tq->num);
    ((struct virtq_avail *)(void *)tv_host(g, tq->avail))->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    *used_event = 2;        /* Linux's virtqueue_enable_cb_delayed: after entry 2 */
    struct tv_seg s = { tv_alloc(g, 72), 72, false };
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(g->irqs, 0);
    CHECK_EQ(*avail_event, 1);      /* drained: notify me when entry 1 is added */
    tv_post(g, 1, &s, 1);
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(g->irqs, 1);           /* entry 2 was written */
    CHECK_EQ(*avail_event, 3);
    tv_wr(g, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    *used_event = 0xffff;           /* far away (or hostile): no interrupt, nothing else */
    for (unsigned i = 0; i < 5; i++) {
        tv_post(g, 1, &s, 1);
        CHECK(tv_notify(g, 1));
    }
    CHECK_EQ(g->irqs, 1);
    CHECK_EQ(tx_frames, 8);
    CHECK(!virtio_mmio_broken(g->d));
    tv_guest_free(g);
}

/* The driver's side of §2.7.10.2 (Linux's vring_need_event): whether adding the entries
 * [old, new) must notify, given the device's avail_event. */
static bool driver_must_notify(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event - 1u) < (uint16_t)(new_idx - old_idx);
}

/* Transmit polling: the device asks for a notification only once VIRTIO_NET_TX_POLL_SLACK
 * chains wait past the ones it took, and takes them itself at virtio_net_tx_poll; a backend
 * without room stops the polling until its kick. avail_event is the device's, written, never
 * read back: a driver that scribbles on it changes nothing. */
static void virtio_net_tx_poll_asks_for_fewer_notifications(void)
{
    struct tv_guest *g = setup();
    virtio_net_tx_poll_mode(&net);
    CHECK(tv_probe(g, VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)));
    struct tv_queue *tq = &g->q[1];
    CHECK_EQ(tq->num, 256);
    uint16_t *avail_event = (uint16_t *)(void *)(tv_host(g, tq->used) + 4 + 8u * tq->num);
    CHECK_EQ(*avail_event, VIRTIO_NET_TX_POLL_SLACK);   /* DRIVER_OK looked at the empty ring */
    struct tv_seg s = { tv_alloc(g, 72), 72, false };
    uint16_t idx = 0;
    unsigned notified = 0;
    for (unsigned i = 0; i < VIRTIO_NET_TX_POLL_SLACK; i++, idx++) {
        tv_post(g, 1, &s, 1);
        notified += driver_must_notify(*avail_event, (uint16_t)(idx + 1u), idx);
    }
    CHECK_EQ(notified, 0);
    CHECK_EQ(tx_frames, 0);
    tv_post(g, 1, &s, 1);       /* the one the device waits for */
    CHECK(driver_must_notify(*avail_event, (uint16_t)(idx + 1u), idx));
    idx++;
    CHECK(virtio_net_tx_poll(&net));    /* the VMM at the guest's next exit */
    CHECK_EQ(tx_frames, VIRTIO_NET_TX_POLL_SLACK + 1u);
    CHECK_EQ(*avail_event, (uint16_t)(idx + VIRTIO_NET_TX_POLL_SLACK));
    *avail_event = 0x1234;      /* the driver writes the device's field: nothing follows */
    tv_post(g, 1, &s, 1);
    tx_full = true;
    CHECK(virtio_net_tx_poll(&net));
    CHECK_EQ(tx_frames, VIRTIO_NET_TX_POLL_SLACK + 1u);
    tx_full = false;
    CHECK(virtio_net_tx_poll(&net));    /* blocked: only the backend's kick retries */
    CHECK_EQ(tx_frames, VIRTIO_NET_TX_POLL_SLACK + 1u);
    CHECK(virtio_net_tx_kick(&net));
    CHECK_EQ(tx_frames, VIRTIO_NET_TX_POLL_SLACK + 2u);
    CHECK(!virtio_mmio_broken(g->d));
    tv_guest_free(g);
}

/* A queue smaller than the slack: the driver is asked to notify when the ring is full. */
static void virtio_net_tx_poll_slack_fits_a_small_queue(void)
{
    struct tv_guest *g = setup();
    virtio_net_tx_poll_mode(&net);
    uint64_t b = TV_RAM_BASE;
    CHECK(tv_negotiate(g, VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)));
    CHECK(tv_setup_queue(g, 1, 4, b + 0x4000, b + 0x5000, b + 0x6000));
    tv_wr(g, VIRTIO_MMIO_STATUS, tv_rd(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    uint16_t *avail_event = (uint16_t *)(void *)(tv_host(g, b + 0x6000) + 4 + 8u * 4);
    CHECK_EQ(*avail_event, 3);
    /* Queue Size is the driver's: a reset and a larger queue get the slack in full again. */
    tv_wr(g, VIRTIO_MMIO_STATUS, 0);
    CHECK(tv_probe(g, VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)));
    CHECK_EQ(*(uint16_t *)(void *)(tv_host(g, g->q[1].used) + 4 + 8u * g->q[1].num),
             VIRTIO_NET_TX_POLL_SLACK);
    tv_guest_free(g);
}

/* ---------------------------------------------------------------- queue setup */

static void setup_rejects(uint16_t num, uint64_t desc, uint64_t avail, uint64_t used,
                          const char *text)
{
    struct tv_guest *g = setup();
    CHECK(tv_negotiate(g, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)));
    CHECK(!tv_setup_queue(g, 1, num, desc, avail, used));
    expect_broken(g, text);
    CHECK_EQ(tv_rd(g, VIRTIO_MMIO_QUEUE_READY), 0);
    tv_guest_free(g);
}

static void virtq_checks_queue_size(void)
{
    uint64_t b = TV_RAM_BASE;
    setup_rejects(0, b, b + 0x1000, b + 0x2000,
                  "virtio-net queue 1 (tx): queue size 0 is not a power of two in 1..256");
    setup_rejects(100, b, b + 0x1000, b + 0x2000, "queue size 100 is not a power of two");
    setup_rejects(512, b, b + 0x1000, b + 0x2000, "queue size 512 is not a power of two");
}

static void virtq_checks_ring_addresses(void)
{
    uint64_t b = TV_RAM_BASE;
    setup_rejects(256, b + 8, b + 0x1000, b + 0x2000,
                  "queue 1 (tx): descriptor table address 0x40000008 is not 16-byte aligned");
    setup_rejects(256, b, b + 0x1001, b + 0x2000, "available ring address 0x40001001 is not "
                  "2-byte aligned");
    setup_rejects(256, b, b + 0x1000, b + 0x2002, "used ring address 0x40002002 is not 4-byte");
    setup_rejects(256, 0x1000, b + 0x1000, b + 0x2000,
                  "queue 1 (tx): descriptor table [0x1000..+0x1000) is outside guest RAM "
                  "[0x40000000..0x40100000)");
    /* The ring would end past RAM: 6 + 2 * 256 bytes from 16 bytes before the end. */
    setup_rejects(256, b, TV_RAM_END - 16, b + 0x2000,
                  "available ring [0x400ffff0..+0x206) is outside guest RAM");
    setup_rejects(256, b, b + 0x1000, TV_RAM_END - 0x800,
                  "used ring [0x400ff800..+0x806) is outside guest RAM");
    /* An address whose end wraps around 2^64. */
    setup_rejects(256, b, b + 0x1000, 0xfffffffffffff000ull,
                  "used ring [0xfffffffffffff000..+0x806) is outside guest RAM");
}

/* ---------------------------------------------------------------- hostile chains */

static void virtq_rejects_descriptor_outside_ram(void)
{
    struct tv_guest *g = running();
    /* Crosses the end of RAM by 16 bytes (ASan would see a device access there). */
    tv_desc(g, 1, 7, TV_RAM_END - 64, 80, 0, 0);
    tv_avail_push(g, 1, 7);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "virtio-net queue 1 (tx): descriptor 7 [0x400fffc0..+0x50) is outside "
                  "guest RAM [0x40000000..0x40100000)");
    CHECK_EQ(tx_frames, 0);
    /* Broken: no further ring processing, the first report stays. */
    struct tv_seg s = { tv_alloc(g, 72), 72, false };
    tv_post(g, 1, &s, 1);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(tx_frames, 0);
    CHECK_CONTAINS(virtio_mmio_report(g->d), "descriptor 7");
    /* DEVICE_NEEDS_RESET came with a configuration change notification (§2.1.2). */
    CHECK(tv_rd(g, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    tv_guest_free(g);
}

static void virtq_rejects_descriptor_wrapping_address(void)
{
    struct tv_guest *g = running();
    tv_desc(g, 1, 0, 0xfffffffffffff000ull, 0x2000, 0, 0);
    tv_avail_push(g, 1, 0);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "descriptor 0 [0xfffffffffffff000..+0x2000) is outside guest RAM");
    tv_guest_free(g);
}

static void virtq_rejects_chain_loop(void)
{
    struct tv_guest *g = running();
    uint64_t buf = tv_alloc(g, 64);
    tv_desc(g, 1, 3, buf, 16, VIRTQ_DESC_F_NEXT, 4);
    tv_desc(g, 1, 4, buf, 16, VIRTQ_DESC_F_NEXT, 3);
    tv_avail_push(g, 1, 3);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "virtio-net queue 1 (tx): the chain from head 3 is longer than the queue "
                  "size 256 (a loop)");
    tv_guest_free(g);
}

static void virtq_accepts_a_chain_of_queue_size(void)
{
    /* The longest legal chain uses every descriptor once; one more link is a loop. */
    struct tv_guest *g = setup();
    CHECK(tv_negotiate(g, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)));
    uint64_t b = TV_RAM_BASE + 0x4000;
    CHECK(tv_setup_queue(g, 1, 4, b, b + 0x1000, b + 0x2000));
    tv_wr(g, VIRTIO_MMIO_STATUS, tv_rd(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    uint64_t buf = tv_alloc(g, 64);
    struct tv_seg s[4] = { { buf, 12, false }, { buf + 12, 20, false }, { buf + 32, 20, false },
                           { buf + 52, 12, false } };
    tv_post(g, 1, s, 4);
    CHECK(tv_notify(g, 1));
    CHECK_EQ(tx_frames, 1);
    CHECK_EQ(net.tx_chain.count, 4);
    tv_desc(g, 1, 3, buf + 52, 12, VIRTQ_DESC_F_NEXT, 0);
    tv_avail_push(g, 1, 0);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "the chain from head 0 is longer than the queue size 4 (a loop)");
    tv_guest_free(g);
}

static void virtq_rejects_next_beyond_queue(void)
{
    struct tv_guest *g = running();
    uint64_t buf = tv_alloc(g, 64);
    tv_desc(g, 1, 0, buf, 16, VIRTQ_DESC_F_NEXT, 256);
    tv_avail_push(g, 1, 0);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "queue 1 (tx): descriptor 0 links to descriptor 256, beyond the queue "
                  "size 256");
    tv_guest_free(g);
}

static void virtq_rejects_head_beyond_queue(void)
{
    struct tv_guest *g = running();
    tv_avail_push(g, 1, 0xffff);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "queue 1 (tx): available ring entry 0 holds descriptor 65535, beyond the "
                  "queue size 256");
    tv_guest_free(g);
}

static void virtq_rejects_avail_index_jump(void)
{
    struct tv_guest *g = running();
    tv_avail_set_idx(g, 1, 257);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "queue 1 (tx): the available index jumped from 0 to 257, more than the "
                  "queue size 256");
    tv_guest_free(g);
}

static void virtq_rejects_indirect(void)
{
    struct tv_guest *g = running();
    uint64_t table = tv_alloc(g, 32);
    tv_desc(g, 1, 2, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    tv_avail_push(g, 1, 2);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "queue 1 (tx): descriptor 2 is indirect (VIRTQ_DESC_F_INDIRECT) but "
                  "VIRTIO_F_INDIRECT_DESC was not negotiated");
    tv_guest_free(g);
}

static void virtq_rejects_readable_after_writable(void)
{
    struct tv_guest *g = running();
    uint64_t buf = tv_alloc(g, 64);
    struct tv_seg s[3] = { { buf, 12, false }, { buf + 16, 16, true }, { buf + 32, 16, false } };
    tv_post(g, 1, s, 3);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "queue 1 (tx): descriptor 2 is device-readable but follows a "
                  "device-writable one in the chain from head 0");
    tv_guest_free(g);
}

static void virtq_rejects_chain_over_4gib(void)
{
    /* Guest RAM claimed to be 2 GiB (the host block is 1 MiB; the walk never touches data). */
    struct tv_guest *g = running();
    g->d->mem.size = 0x80000000ull;
    tv_desc(g, 1, 0, TV_RAM_BASE, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
    tv_desc(g, 1, 1, TV_RAM_BASE, 0x80000000u, 0, 0);
    tv_avail_push(g, 1, 0);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "queue 1 (tx): the chain from head 0 holds more than 4 GiB");
    tv_guest_free(g);
}

static void virtq_rejects_short_header(void)
{
    struct tv_guest *g = running();
    struct tv_seg s = { tv_alloc(g, 8), 8, false };
    tv_post(g, 1, &s, 1);
    CHECK(!tv_notify(g, 1));
    expect_broken(g, "virtio-net queue 1 (tx): the chain from head 0 has 8 device-readable "
                  "bytes, fewer than the 12-byte virtio-net header");
    tv_guest_free(g);
}

/* The ring code alone, without a transport: each operation returns what its caller does. */
static void virtq_returns_statuses(void)
{
    struct tv_guest g;
    tv_guest_init(&g);
    g.q[0] = (struct tv_queue){ .num = 8, .desc = TV_RAM_BASE, .avail = TV_RAM_BASE + 0x1000,
                                .used = TV_RAM_BASE + 0x2000 };
    struct virtq vq = { .num = 8, .desc_gpa = g.q[0].desc, .driver_gpa = g.q[0].avail,
                        .device_gpa = g.q[0].used };
    char why[VIRTIO_REPORT_SIZE];
    struct virtq_chain *c = malloc(sizeof(*c));
    CHECK_EQ(virtq_push(&vq, 0, 0), VIRTQ_NOT_READY);
    vq.num = 12;
    CHECK_EQ(virtq_make_ready(&vq, 256, &g.mem, why, sizeof(why)), VIRTQ_GUEST_ERROR);
    CHECK(strcmp(why, "queue size 12 is not a power of two in 1..256 (QueueNumMax)") == 0);
    vq.num = 8;
    CHECK_EQ(virtq_make_ready(&vq, 256, &g.mem, why, sizeof(why)), VIRTQ_OK);
    CHECK_EQ(virtq_pop(&vq, &g.mem, c, why, sizeof(why)), VIRTQ_EMPTY);
    struct tv_seg segs[2] = { { tv_alloc(&g, 16), 16, false }, { tv_alloc(&g, 32), 32, true } };
    uint16_t head = tv_post(&g, 0, segs, 2);
    CHECK_EQ(virtq_pop(&vq, &g.mem, c, why, sizeof(why)), VIRTQ_OK);
    CHECK_EQ(c->head, head);
    CHECK_EQ(c->readable_len, 16);
    CHECK_EQ(c->writable_len, 32);
    virtq_unpop(&vq);
    CHECK_EQ(virtq_pop(&vq, &g.mem, c, why, sizeof(why)), VIRTQ_OK);
    CHECK_EQ(virtq_push(&vq, c->head, 32), VIRTQ_INTERRUPT);
    uint32_t id, len;
    CHECK(tv_used(&g, 0, &id, &len) && id == head && len == 32);
    /* The driver suppresses used-buffer interrupts: pushed, no interrupt asked for. */
    ((struct virtq_avail *)(void *)tv_host(&g, g.q[0].avail))->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    tv_post(&g, 0, segs, 1);
    CHECK_EQ(virtq_pop(&vq, &g.mem, c, why, sizeof(why)), VIRTQ_OK);
    CHECK_EQ(virtq_push(&vq, c->head, 0), VIRTQ_OK);
    CHECK_EQ(virtq_push(&vq, 8, 0), VIRTQ_NOT_READY);
    /* A guest error: the reason, without the queue's name (the transport adds it). */
    tv_avail_push(&g, 0, 9);
    CHECK_EQ(virtq_pop(&vq, &g.mem, c, why, sizeof(why)), VIRTQ_GUEST_ERROR);
    CHECK(strcmp(why, "available ring entry 2 holds descriptor 9, beyond the queue size 8") == 0);
    free(c);
    tv_guest_free(&g);
}

static void virtq_wraps_indices(void)
{
    /* 70000 chains through a queue of 4: the 16-bit indices wrap (§2.7.6, §2.7.8). */
    struct tv_guest *g = setup();
    CHECK(tv_negotiate(g, VIRTIO_FEATURE(VIRTIO_F_VERSION_1)));
    uint64_t b = TV_RAM_BASE;
    CHECK(tv_setup_queue(g, 0, 256, b, b + 0x1000, b + 0x2000));
    CHECK(tv_setup_queue(g, 1, 4, b + 0x4000, b + 0x5000, b + 0x6000));
    tv_wr(g, VIRTIO_MMIO_STATUS, tv_rd(g, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
    struct tv_seg s = { tv_alloc(g, 72), 72, false };
    uint32_t id, len;
    for (unsigned i = 0; i < 70000; i++) {
        uint16_t head = tv_post(g, 1, &s, 1);
        CHECK(tv_notify(g, 1));
        CHECK(tv_used(g, 1, &id, &len));
        CHECK_EQ(id, head);
    }
    CHECK_EQ(tx_frames, 70000);
    CHECK(!virtio_mmio_broken(g->d));
    tv_guest_free(g);
}

HARNESS_SUITE(virtio_tests) = {
    { "virtio-mmio: identification registers and RAZ/WI reserved offsets", virtio_mmio_identifies },
    { "virtio-mmio: the register table is sorted", virtio_mmio_table_sorted },
    { "virtio-mmio: configuration space widths, RAZ beyond, generation", virtio_mmio_config_space },
    { "virtio-mmio: feature negotiation (VERSION_1 required, subsets only)", virtio_mmio_negotiates_features },
    { "virtio-mmio: DRIVER_OK without FEATURES_OK breaks the device; reset repairs", virtio_mmio_driver_ok_needs_features_ok },
    { "virtio-mmio: register width, alignment and window checks", virtio_mmio_checks_access_width },
    { "virtio-mmio: reset forgets the driver; no buffers used before DRIVER_OK", virtio_mmio_reset_forgets_the_driver },
    { "virtio-mmio: interrupt status, ACK and NO_INTERRUPT suppression", virtio_mmio_interrupt_status_and_ack },
    { "virtq: EVENT_IDX: used_event picks the interrupt, avail_event the notification",
      virtq_event_idx_suppresses_interrupts_and_notifications },
    { "virtio-net: transmit polling asks for a notification only past VIRTIO_NET_TX_POLL_SLACK",
      virtio_net_tx_poll_asks_for_fewer_notifications },
    { "virtio-net: the polling slack fits a queue smaller than itself; a reset keeps it",
      virtio_net_tx_poll_slack_fits_a_small_queue },
    { "virtq: queue size power of two within QueueNumMax", virtq_checks_queue_size },
    { "virtq: ring alignment and extents inside guest RAM", virtq_checks_ring_addresses },
    { "virtq: descriptor outside guest RAM", virtq_rejects_descriptor_outside_ram },
    { "virtq: descriptor whose end wraps 2^64", virtq_rejects_descriptor_wrapping_address },
    { "virtq: descriptor chain that loops", virtq_rejects_chain_loop },
    { "virtq: a chain of queue-size descriptors is legal, one more loops", virtq_accepts_a_chain_of_queue_size },
    { "virtq: next index beyond the queue", virtq_rejects_next_beyond_queue },
    { "virtq: head index beyond the queue", virtq_rejects_head_beyond_queue },
    { "virtq: available index jumping past the queue size", virtq_rejects_avail_index_jump },
    { "virtq: indirect descriptor not negotiated", virtq_rejects_indirect },
    { "virtq: device-readable after device-writable", virtq_rejects_readable_after_writable },
    { "virtq: chain longer than 4 GiB", virtq_rejects_chain_over_4gib },
    { "virtq: buffer shorter than the virtio-net header", virtq_rejects_short_header },
    { "virtq: 16-bit indices wrap", virtq_wraps_indices },
    { "virtq: the ring code returns statuses and reasons, and calls no transport", virtq_returns_statuses },
    HARNESS_END,
};
