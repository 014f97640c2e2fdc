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
        size_t len = c->readable_len - HDR_LEN;
        if (len < VIRTIO_NET_ETH_HLEN || len > VIRTIO_NET_MAX_FRAME) {
            n->tx_dropped++;    /* a runt, or longer than the MTU we offered (§5.1.4.1) */
        } else if (!n->backend.tx(n->backend.ctx, c, HDR_LEN, len)) {
            virtio_mmio_unpop(d, VIRTIO_NET_TX_QUEUE);
            n->tx_blocked = true;
            return true;
        } else {
            n->tx_frames++;
            n->tx_bytes += len;
        }
        /* §5.1.6.2.2: transmit buffers are returned with nothing written to them. */
        if (!virtio_mmio_complete(d, VIRTIO_NET_TX_QUEUE, c->head, 0)) {
            return false;
        }
    }
}

bool virtio_net_tx_kick(struct virtio_net *n)
{
    n->tx_blocked = false;
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
                     void (*raise_irq)(void *ctx), void *irq_ctx)
{
    memset(n, 0, sizeof(*n));
    if (backend == NULL || backend->tx == NULL) {
        return false;
    }
    n->backend = *backend;
    uint64_t features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_STATUS)
                        | VIRTIO_FEATURE(VIRTIO_NET_F_MTU);
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

/* §5.1.6.3 / §5.1.6.4: one frame per receive buffer (no VIRTIO_NET_F_MRG_RXBUF), after a
 * header with no offload information and num_buffers = 1. */
enum virtio_net_rx_status virtio_net_rx(struct virtio_net *n, const void *frame, size_t len)
{
    struct virtio_mmio_dev *d = &n->dev;
    if (d->broken) {
        return VIRTIO_NET_RX_GUEST_ERROR;
    }
    if (!virtio_mmio_running(d) || !d->queues[VIRTIO_NET_RX_QUEUE].ready
        || len < VIRTIO_NET_ETH_HLEN || len > VIRTIO_NET_MAX_FRAME) {
        n->rx_dropped++;
        return VIRTIO_NET_RX_DROPPED;
    }
    const struct virtq_chain *c = &n->rx_chain;
    enum virtq_status r = virtio_mmio_next_chain(d, VIRTIO_NET_RX_QUEUE, &n->rx_chain);
    if (r != VIRTQ_OK) {
        return r == VIRTQ_EMPTY ? VIRTIO_NET_RX_NO_BUFFER : VIRTIO_NET_RX_GUEST_ERROR;
    }
    if (c->writable_len < HDR_LEN) {
        virtio_mmio_fail(d, "queue %u (rx): the chain from head %u has %u device-writable bytes, "
                         "fewer than the %u-byte virtio-net header (virtio 1.2, 5.1.6.3)",
                         VIRTIO_NET_RX_QUEUE, c->head, c->writable_len, (unsigned)HDR_LEN);
        return VIRTIO_NET_RX_GUEST_ERROR;
    }
    if (c->writable_len - HDR_LEN < len) {
        /* Smaller than §5.1.6.3.1 recommends: keep the buffer for a shorter frame. */
        virtio_mmio_unpop(d, VIRTIO_NET_RX_QUEUE);
        n->rx_dropped++;
        return VIRTIO_NET_RX_DROPPED;
    }
    struct virtio_net_hdr hdr;
    memset(&hdr, 0, sizeof(hdr));
    hdr.num_buffers = 1;    /* §5.1.6.4.1 without VIRTIO_NET_F_MRG_RXBUF */
    virtq_chain_write(c, 0, &hdr, HDR_LEN);
    virtq_chain_write(c, HDR_LEN, frame, len);
    if (!virtio_mmio_complete(d, VIRTIO_NET_RX_QUEUE, c->head, (uint32_t)(HDR_LEN + len))) {
        return VIRTIO_NET_RX_GUEST_ERROR;
    }
    n->rx_frames++;
    n->rx_bytes += len;
    return VIRTIO_NET_RX_DELIVERED;
}
