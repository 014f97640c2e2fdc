/* virtio-console (virtio 1.2 §5.3), single port: see include/virtio_console.h. */
#include "virtio_console.h"

#include "vmm_string.h"

/* §5.3.2: port 0's receiveq and transmitq. */
static const struct virtio_queue_info console_queues[] = {
    [VIRTIO_CONSOLE_RX_QUEUE] = { "receiveq", VIRTIO_CONSOLE_QUEUE_SIZE },
    [VIRTIO_CONSOLE_TX_QUEUE] = { "transmitq", VIRTIO_CONSOLE_QUEUE_SIZE },
};

static struct virtio_console *console_of(struct virtio_mmio_dev *d)
{
    return (struct virtio_console *)(void *)((char *)d - offsetof(struct virtio_console, dev));
}

/* §5.3.6.1: output is the device-readable part of each transmitq chain. */
static bool console_tx(struct virtio_console *c)
{
    struct virtio_mmio_dev *d = &c->dev;
    for (;;) {
        enum virtq_status r = virtio_mmio_next_chain(d, VIRTIO_CONSOLE_TX_QUEUE, &c->chain);
        if (r != VIRTQ_OK) {
            return r == VIRTQ_EMPTY;
        }
        for (unsigned s = 0; s < c->chain.readable; s++) {
            const struct virtq_seg *seg = &c->chain.seg[s];
            if (seg->len != 0 && c->sink != NULL) {
                c->sink(c->sink_ctx, seg->host, seg->len);
            }
            c->output_bytes += seg->len;
        }
        if (!virtio_mmio_complete(d, VIRTIO_CONSOLE_TX_QUEUE, c->chain.head, 0)) {
            return false;
        }
    }
}

/* Moves FIFO bytes into posted receive buffers, as many per buffer as fit (§5.3.6). */
static bool console_flush(struct virtio_console *c)
{
    struct virtio_mmio_dev *d = &c->dev;
    while (c->fifo_len > 0) {
        enum virtq_status r = virtio_mmio_next_chain(d, VIRTIO_CONSOLE_RX_QUEUE, &c->chain);
        if (r != VIRTQ_OK) {
            return r == VIRTQ_EMPTY;
        }
        if (c->chain.writable_len == 0) {
            return virtio_mmio_fail(d, "queue %u (receiveq): the chain from head %u has no "
                                    "device-writable bytes", VIRTIO_CONSOLE_RX_QUEUE,
                                    c->chain.head);
        }
        uint32_t n = c->fifo_len < c->chain.writable_len ? c->fifo_len : c->chain.writable_len;
        /* The FIFO's bytes in at most two runs (it wraps at most once). */
        uint32_t first = VIRTIO_CONSOLE_FIFO_SIZE - c->fifo_head;
        if (first > n) {
            first = n;
        }
        virtq_chain_write(&c->chain, 0, &c->fifo[c->fifo_head], first);
        virtq_chain_write(&c->chain, first, c->fifo, n - first);
        c->fifo_head = (uint16_t)((c->fifo_head + n) % VIRTIO_CONSOLE_FIFO_SIZE);
        c->fifo_len = (uint16_t)(c->fifo_len - n);
        if (!virtio_mmio_complete(d, VIRTIO_CONSOLE_RX_QUEUE, c->chain.head, n)) {
            return false;
        }
    }
    return true;
}

bool virtio_console_input(struct virtio_console *c, const uint8_t *bytes, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (c->fifo_len == VIRTIO_CONSOLE_FIFO_SIZE) {
            c->input_dropped += len - i;
            break;
        }
        c->fifo[(c->fifo_head + c->fifo_len) % VIRTIO_CONSOLE_FIFO_SIZE] = bytes[i];
        c->fifo_len++;
        c->input_bytes++;
    }
    return !c->dev.broken && console_flush(c);
}

static bool console_notify(struct virtio_mmio_dev *d, unsigned q)
{
    struct virtio_console *c = console_of(d);
    return q == VIRTIO_CONSOLE_TX_QUEUE ? console_tx(c) : console_flush(c);
}

static bool console_driver_ok(struct virtio_mmio_dev *d)
{
    struct virtio_console *c = console_of(d);
    return console_flush(c) && console_tx(c);
}

static const struct virtio_device_class console_class = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queues = console_queues,
    .notify = console_notify,
    .driver_ok = console_driver_ok,
    .reset = NULL,
};

bool virtio_console_init(struct virtio_console *c, const struct virtio_guest_mem *mem,
                         void (*sink)(void *ctx, const uint8_t *bytes, size_t len),
                         void *sink_ctx, void (*raise_irq)(void *ctx), void *irq_ctx)
{
    memset(c, 0, sizeof(*c));
    c->sink = sink;
    c->sink_ctx = sink_ctx;
    return virtio_mmio_init(&c->dev, &console_class, mem, 0, raise_irq, irq_ctx);
}
