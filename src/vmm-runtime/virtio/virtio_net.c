/* virtio-net (virtio 1.2 §5.1): see include/virtio_net.h. */
#include "virtio_net.h"

#include "vmm_string.h"

#define HDR_LEN sizeof(struct virtio_net_hdr)

/* §5.1.2: receiveq1 is queue 0, transmitq1 queue 1 (no VIRTIO_NET_F_MQ, no control queue). */
static const struct virtio_queue_info net_queues[] = {
    [VIRTIO_NET_RX_QUEUE] = { "rx", VIRTIO_NET_QUEUE_SIZE },
    [VIRTIO_NET_TX_QUEUE] = { "tx", VIRTIO_NET_QUEUE_SIZE },
};

static struct virtio_net *net_of(struct virtio_mmio_dev *d)
{
    return (struct virtio_net *)(void *)((char *)d - offsetof(struct virtio_net, dev));
}

/* §5.1.6.2.1: what the driver may ask for in a transmit header, given what it negotiated. A
 * frame asking for more is dropped. */
static bool tx_header_ok(const struct virtio_net *n, const struct virtio_net_hdr *h, size_t len)
{
    const struct virtio_mmio_dev *d = &n->dev;
    bool partial = (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
    if ((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0 || len < VIRTIO_NET_ETH_HLEN) {
        return false;
    }
    if (partial && (!virtio_mmio_negotiated(d, VIRTIO_NET_F_CSUM) || h->csum_offset > 0xff
                    || (size_t)h->csum_start + h->csum_offset + 2u > len)) {
        return false;
    }
    switch (h->gso_type) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return len <= VIRTIO_NET_MAX_FRAME;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        return partial && h->gso_size != 0 && len <= VIRTIO_NET_MAX_GSO_FRAME
               && virtio_mmio_negotiated(d, VIRTIO_NET_F_HOST_TSO4);
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return partial && h->gso_size != 0 && len <= VIRTIO_NET_MAX_GSO_FRAME
               && virtio_mmio_negotiated(d, VIRTIO_NET_F_HOST_TSO6);
    default:
        return false;   /* UDP, ECN: never offered */
    }
}

/* §5.1.6.2: each transmit chain is a header and one frame, laid out in any way over its
 * device-readable buffers (§2.7.4). */
static bool net_tx(struct virtio_net *n)
{
    struct virtio_mmio_dev *d = &n->dev;
    const struct virtq_chain *c = &n->tx_chain;
    for (;;) {
        enum virtq_status r = virtio_mmio_next_chain(d, VIRTIO_NET_TX_QUEUE, &n->tx_chain);
        if (r != VIRTQ_OK) {
            return r == VIRTQ_EMPTY;
        }
        if (c->readable_len < HDR_LEN) {
            return virtio_mmio_fail(d, "queue %u (tx): the chain from head %u has %u "
                                    "device-readable bytes, fewer than the %u-byte virtio-net "
                                    "header (virtio 1.2, 5.1.6)", VIRTIO_NET_TX_QUEUE, c->head,
                                    c->readable_len, (unsigned)HDR_LEN);
        }
        struct virtio_net_hdr hdr;      /* read once: the driver may change the ring */
        virtq_chain_read(c, 0, &hdr, HDR_LEN);
        size_t len = c->readable_len - HDR_LEN;
        if (!tx_header_ok(n, &hdr, len)) {
            n->tx_dropped++;    /* a runt, too long, or an offload not negotiated */
        } else if (!n->backend.tx(n->backend.ctx, c, HDR_LEN, len, &hdr)) {
            virtio_mmio_unpop(d, VIRTIO_NET_TX_QUEUE);
            n->tx_blocked = true;
            return true;
        } else {
            n->tx_frames++;
            n->tx_bytes += len;
        }
        /* §5.1.6.2.2: transmit buffers are returned with nothing written to them. */
        if (!n->tx_defer) {
            if (!virtio_mmio_complete(d, VIRTIO_NET_TX_QUEUE, c->head, 0)) {
                return false;
            }
        } else {
            n->tx_done[n->tx_done_count++] = c->head;
            if (n->tx_done_count == VIRTIO_NET_TX_DEFER_MAX && !virtio_net_tx_return(n)) {
                return false;
            }
        }
    }
}

bool virtio_net_tx_return(struct virtio_net *n)
{
    unsigned count = n->tx_done_count;
    n->tx_done_count = 0;
    for (unsigned i = 0; i < count; i++) {
        if (!virtio_mmio_complete(&n->dev, VIRTIO_NET_TX_QUEUE, n->tx_done[i], 0)) {
            return !n->dev.broken;  /* the queue was reset meanwhile: nothing to return */
        }
    }
    return true;
}

bool virtio_net_tx_kick(struct virtio_net *n)
{
    n->tx_blocked = false;
    return net_tx(n);
}

void virtio_net_tx_poll_mode(struct virtio_net *n)
{
    n->dev.notify_slack[VIRTIO_NET_TX_QUEUE] = VIRTIO_NET_TX_POLL_SLACK;
}

bool virtio_net_tx_poll(struct virtio_net *n)
{
    const struct virtio_mmio_dev *d = &n->dev;
    if (n->tx_blocked || !virtio_mmio_running(d) || !d->queues[VIRTIO_NET_TX_QUEUE].ready) {
        return true;
    }
    return net_tx(n);
}

static bool net_notify(struct virtio_mmio_dev *d, unsigned q)
{
    struct virtio_net *n = net_of(d);
    if (q == VIRTIO_NET_TX_QUEUE) {
        return virtio_net_tx_kick(n);
    }
    if (n->backend.rx_ready != NULL) {
        n->backend.rx_ready(n->backend.ctx);
    }
    return true;
}

static bool net_driver_ok(struct virtio_mmio_dev *d)
{
    return net_notify(d, VIRTIO_NET_RX_QUEUE) && net_notify(d, VIRTIO_NET_TX_QUEUE);
}

static void net_reset(struct virtio_mmio_dev *d)
{
    net_of(d)->tx_blocked = false;
    net_of(d)->tx_done_count = 0;   /* §2.4: the driver forgot those chains */
}

static const struct virtio_device_class net_class = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queues = net_queues,
    .notify = net_notify,
    .driver_ok = net_driver_ok,
    .reset = net_reset,
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

bool virtio_net_init(struct virtio_net *n, const struct virtio_guest_mem *mem,
                     const uint8_t mac[6], const struct virtio_net_backend *backend,
                     bool offloads, void (*raise_irq)(void *ctx), void *irq_ctx)
{
    memset(n, 0, sizeof(*n));
    if (backend == NULL || backend->tx == NULL) {
        return false;
    }
    n->backend = *backend;
    uint64_t features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_STATUS)
                        | VIRTIO_FEATURE(VIRTIO_NET_F_MTU)
                        | (offloads ? VIRTIO_NET_OFFLOAD_FEATURES : 0);
    if (!virtio_mmio_init(&n->dev, &net_class, mem, features, raise_irq, irq_ctx)) {
        return false;
    }
    memcpy(&n->dev.config[VIRTIO_NET_CONFIG_MAC], mac, 6);
    put16(&n->dev.config[VIRTIO_NET_CONFIG_STATUS], VIRTIO_NET_S_LINK_UP);
    put16(&n->dev.config[VIRTIO_NET_CONFIG_MTU], VIRTIO_NET_MTU);
    n->dev.config_size = VIRTIO_NET_CONFIG_SIZE;
    return true;
}

void virtio_net_set_link(struct virtio_net *n, bool up)
{
    put16(&n->dev.config[VIRTIO_NET_CONFIG_STATUS], up ? VIRTIO_NET_S_LINK_UP : 0);
    virtio_mmio_config_changed(&n->dev);
}

/* §5.1.6.4.1: what the driver can take; anything else is dropped. */
static bool rx_frame_ok(const struct virtio_net *n, const struct virtio_net_frame *f)
{
    const struct virtio_mmio_dev *d = &n->dev;
    if (f->len < VIRTIO_NET_ETH_HLEN
        || ((f->hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
            && !virtio_mmio_negotiated(d, VIRTIO_NET_F_GUEST_CSUM))) {
        return false;
    }
    switch (f->hdr.gso_type) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return f->len <= VIRTIO_NET_MAX_FRAME;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        return f->len <= VIRTIO_NET_MAX_GSO_FRAME
               && virtio_mmio_negotiated(d, VIRTIO_NET_F_GUEST_TSO4);
    case VIRTIO_NET_HDR_GSO_TCPV6:
        return f->len <= VIRTIO_NET_MAX_GSO_FRAME
               && virtio_mmio_negotiated(d, VIRTIO_NET_F_GUEST_TSO6);
    default:
        return false;
    }
}

/* Takes receive chains until they hold `need` bytes: how many, or 0 when the driver has not
 * posted enough (all given back: *st says why). Only counts; nothing is written. */
static unsigned rx_count_chains(struct virtio_net *n, size_t need, unsigned max,
                                enum virtio_net_rx_status *st)
{
    struct virtio_mmio_dev *d = &n->dev;
    size_t room = 0;
    unsigned k = 0;
    *st = VIRTIO_NET_RX_DELIVERED;
    while (room < need && *st == VIRTIO_NET_RX_DELIVERED) {
        enum virtq_status r = k < max ? virtio_mmio_next_chain(d, VIRTIO_NET_RX_QUEUE,
                                                                &n->rx_chain)
                                      : VIRTQ_OK;
        if (k == max) {
            *st = VIRTIO_NET_RX_DROPPED;    /* more than the driver's buffers can hold */
        } else if (r != VIRTQ_OK) {
            *st = r == VIRTQ_EMPTY ? VIRTIO_NET_RX_NO_BUFFER : VIRTIO_NET_RX_GUEST_ERROR;
        } else if (n->rx_chain.writable_len < (k == 0 ? HDR_LEN : 1u)) {
            virtio_mmio_fail(d, "queue %u (rx): the chain from head %u has %u device-writable "
                             "bytes, fewer than %s (virtio 1.2, 5.1.6.3)", VIRTIO_NET_RX_QUEUE,
                             n->rx_chain.head, n->rx_chain.writable_len,
                             k == 0 ? "the 12-byte virtio-net header" : "one");
            *st = VIRTIO_NET_RX_GUEST_ERROR;
        } else {
            room += n->rx_chain.writable_len;
            k++;
        }
    }
    for (unsigned i = 0; i < k; i++) {
        virtio_mmio_unpop(d, VIRTIO_NET_RX_QUEUE);
    }
    return *st == VIRTIO_NET_RX_DELIVERED ? k : 0;
}

/* Copies frame bytes [from, from + len) into chain c's writable stream at `at`. */
static void rx_copy(const struct virtq_chain *c, size_t at, const struct virtio_net_frame *f,
                    size_t from, size_t len)
{
    for (unsigned i = 0; i < f->count && len > 0; i++) {
        if (from >= f->seg_len[i]) {
            from -= f->seg_len[i];
            continue;
        }
        size_t n = f->seg_len[i] - from;
        n = n < len ? n : len;
        virtq_chain_write(c, at, f->seg[i] + from, n);
        at += n;
        len -= n;
        from = 0;
    }
}

/* Fills `k` chains (counted by rx_count_chains) with the header and the frame, then returns
 * them. The driver may have changed them since they were counted: then they hold less, and
 * the frame is cut short, which only harms that driver. */
static enum virtio_net_rx_status rx_fill(struct virtio_net *n, const struct virtio_net_frame *f,
                                         unsigned k)
{
    struct virtio_mmio_dev *d = &n->dev;
    struct virtio_net_hdr hdr = f->hdr;
    hdr.hdr_len = 0;        /* a hint only (no VIRTIO_NET_F_GUEST_HDRLEN) */
    hdr.num_buffers = (uint16_t)k;  /* §5.1.6.4: 1 without MRG_RXBUF */
    if (!virtio_mmio_negotiated(d, VIRTIO_NET_F_GUEST_CSUM)) {
        hdr.flags = 0;
    }
    size_t done = 0;
    for (unsigned i = 0; i < k; i++) {
        enum virtq_status r = virtio_mmio_next_chain(d, VIRTIO_NET_RX_QUEUE, &n->rx_chain);
        if (r == VIRTQ_EMPTY) {
            virtio_mmio_fail(d, "queue %u (rx): the available index went back while a frame "
                             "was delivered", VIRTIO_NET_RX_QUEUE);
        }
        if (r != VIRTQ_OK) {
            return VIRTIO_NET_RX_GUEST_ERROR;
        }
        const struct virtq_chain *c = &n->rx_chain;
        size_t at = i == 0 ? HDR_LEN : 0;
        if (i == 0) {
            virtq_chain_write(c, 0, &hdr, c->writable_len < HDR_LEN ? c->writable_len : HDR_LEN);
        }
        size_t room = c->writable_len > at ? c->writable_len - at : 0;
        size_t n_bytes = f->len - done < room ? f->len - done : room;
        rx_copy(c, at, f, done, n_bytes);
        done += n_bytes;
        n->rx_heads[i] = c->head;
        n->rx_written[i] = (uint32_t)(at + n_bytes);
    }
    for (unsigned i = 0; i < k; i++) {
        if (!virtio_mmio_complete(d, VIRTIO_NET_RX_QUEUE, n->rx_heads[i], n->rx_written[i])) {
            return VIRTIO_NET_RX_GUEST_ERROR;
        }
    }
    return VIRTIO_NET_RX_DELIVERED;
}

/* §5.1.6.3 / §5.1.6.4: the header, then the frame, in one receive buffer, or with
 * VIRTIO_NET_F_MRG_RXBUF in as many as it needs. */
enum virtio_net_rx_status virtio_net_rx(struct virtio_net *n, const struct virtio_net_frame *f)
{
    struct virtio_mmio_dev *d = &n->dev;
    if (d->broken) {
        return VIRTIO_NET_RX_GUEST_ERROR;
    }
    if (!virtio_mmio_running(d) || !d->queues[VIRTIO_NET_RX_QUEUE].ready || !rx_frame_ok(n, f)) {
        n->rx_dropped++;
        return VIRTIO_NET_RX_DROPPED;
    }
    unsigned max = virtio_mmio_negotiated(d, VIRTIO_NET_F_MRG_RXBUF) ? VIRTIO_NET_QUEUE_SIZE : 1u;
    enum virtio_net_rx_status st;
    unsigned k = rx_count_chains(n, HDR_LEN + f->len, max, &st);
    if (st == VIRTIO_NET_RX_DROPPED) {
        /* Smaller than §5.1.6.3.1 recommends: keep the buffers for shorter frames. */
        n->rx_dropped++;
    }
    if (k == 0) {
        return st;
    }
    st = rx_fill(n, f, k);
    if (st == VIRTIO_NET_RX_DELIVERED) {
        n->rx_frames++;
        n->rx_bytes += f->len;
        /* One interrupt for both queues (virtio-mmio has one line): return sent chains now. */
        if (!virtio_net_tx_return(n)) {
            st = VIRTIO_NET_RX_GUEST_ERROR;
        }
    }
    return st;
}
