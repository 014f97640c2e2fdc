/*
 * virtio-console (virtio 1.2 §5.3) over virtio-mmio: one port, no VIRTIO_CONSOLE_F_SIZE,
 * _MULTIPORT or _EMERG_WRITE, so queue 0 is receiveq and queue 1 transmitq (§5.3.2) and the
 * configuration space is unused. Output goes to a sink; input the VMM pushes waits in a small
 * FIFO until the driver posts receive buffers.
 */
#pragma once

#include "virtio_mmio.h"

#define VIRTIO_ID_CONSOLE           3u
#define VIRTIO_CONSOLE_RX_QUEUE     0u
#define VIRTIO_CONSOLE_TX_QUEUE     1u
#define VIRTIO_CONSOLE_QUEUE_SIZE   64u
#define VIRTIO_CONSOLE_FIFO_SIZE    256u

struct virtio_console {
    struct virtio_mmio_dev dev;     /* first: the class hooks recover the device from it */
    /* Output bytes, one call per device-readable buffer (may be split anywhere). */
    void (*sink)(void *ctx, const uint8_t *bytes, size_t len);
    void *sink_ctx;
    uint8_t fifo[VIRTIO_CONSOLE_FIFO_SIZE];
    uint16_t fifo_head;             /* oldest byte */
    uint16_t fifo_len;
    unsigned long output_bytes, input_bytes, input_dropped;
    struct virtq_chain chain;
};

bool virtio_console_init(struct virtio_console *c, const struct virtio_guest_mem *mem,
                         void (*sink)(void *ctx, const uint8_t *bytes, size_t len),
                         void *sink_ctx, void (*raise_irq)(void *ctx), void *irq_ctx);

/* Input for the guest: delivered to posted receive buffers, the rest kept in the FIFO (what
 * does not fit is dropped and counted). False: guest error (device broken). */
bool virtio_console_input(struct virtio_console *c, const uint8_t *bytes, size_t len);
