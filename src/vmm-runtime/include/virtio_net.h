/*
 * virtio-net (virtio 1.2 §5.1) over virtio-mmio: one receive queue and one transmit queue,
 * a MAC address, link status and an MTU of 1500; no control queue. With `offloads` (a backend
 * that carries them, as the version 2 net link does) it also offers checksum offload both ways
 * (CSUM, GUEST_CSUM), TCP segmentation offload both ways (HOST_TSO4/6, GUEST_TSO4/6: a TCP
 * segment of up to 64 KiB crosses as one frame) and mergeable receive buffers (MRG_RXBUF, so
 * such a frame fills several of the driver's page-sized buffers). Frames go to and come from a
 * backend (a net link, see net_link.h), each copied exactly once between guest RAM and the
 * backend's memory.
 *
 * Transmit: the driver's notification of queue 1 hands every frame (the chain minus its
 * 12-byte header) and its header, checked, to backend.tx. Returning false means "no room now":
 * the chain stays in the ring and virtio_net_tx_kick sends it when the VMM learns the backend
 * has room again. Frames whose header asks for what was not negotiated, or longer than that
 * allows (VIRTIO_NET_MAX_FRAME; VIRTIO_NET_MAX_GSO_FRAME for a GSO frame) are dropped and
 * counted.
 *
 * Receive: virtio_net_rx copies one frame into the next receive buffer (with MRG_RXBUF: as many
 * as it needs, num_buffers in the header). When the driver has not posted enough the frame
 * stays with the caller (VIRTIO_NET_RX_NO_BUFFER); backend.rx_ready tells the VMM when the
 * driver posts more. A frame that needs an offload the driver did not take (a partial
 * checksum without GUEST_CSUM, a GSO frame without GUEST_TSO4/6) is dropped and counted.
 *
 * A typical tx backend over a net link:
 *
 *     static bool link_tx(void *ctx, const struct virtq_chain *c, size_t skip, size_t len,
 *                         const struct virtio_net_hdr *hdr)
 *     {
 *         struct net_link_meta m = ...from hdr...;
 *         enum net_link_status st = net_link_tx_send(ctx, len, &m, read_chain, &(c, skip));
 *         return st != NET_LINK_EMPTY;    // EMPTY: retried on the peer's signal; else taken
 *     }                                   // (sent, or dropped when the link is down)
 */
#pragma once

#include "virtio_mmio.h"

#define VIRTIO_ID_NET           1u
/* Feature bits, §5.1.3. */
#define VIRTIO_NET_F_CSUM       0u
#define VIRTIO_NET_F_GUEST_CSUM 1u
#define VIRTIO_NET_F_MTU        3u
#define VIRTIO_NET_F_MAC        5u
#define VIRTIO_NET_F_GUEST_TSO4 7u
#define VIRTIO_NET_F_GUEST_TSO6 8u
#define VIRTIO_NET_F_HOST_TSO4  11u
#define VIRTIO_NET_F_HOST_TSO6  12u
#define VIRTIO_NET_F_MRG_RXBUF  15u
#define VIRTIO_NET_F_STATUS     16u
/* The checksum and segmentation offloads and mergeable receive buffers, offered when the
 * backend carries them (virtio_net_init's `offloads`). */
#define VIRTIO_NET_OFFLOAD_FEATURES                                                     \
    (VIRTIO_FEATURE(VIRTIO_NET_F_CSUM) | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM)        \
     | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_TSO6) \
     | VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO6)   \
     | VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF))
/* Configuration layout, §5.1.4 (mac, status, max_virtqueue_pairs, mtu). */
#define VIRTIO_NET_CONFIG_MAC     0u
#define VIRTIO_NET_CONFIG_STATUS  6u
#define VIRTIO_NET_CONFIG_MTU     10u
#define VIRTIO_NET_CONFIG_SIZE    12u
#define VIRTIO_NET_S_LINK_UP      1u

#define VIRTIO_NET_RX_QUEUE     0u
#define VIRTIO_NET_TX_QUEUE     1u
#define VIRTIO_NET_QUEUE_SIZE   256u
#define VIRTIO_NET_TX_DEFER_MAX 64u
/* With transmit polling (virtio_net_tx_poll_mode): the driver notifies only when this many
 * chains wait beyond the ones taken (half the queue: a flood is still taken at once). */
#define VIRTIO_NET_TX_POLL_SLACK (VIRTIO_NET_QUEUE_SIZE / 2u)
#define VIRTIO_NET_MTU          1500u
#define VIRTIO_NET_ETH_HLEN     14u
/* An untagged Ethernet frame without FCS: destination, source, type (14) + MTU. */
#define VIRTIO_NET_MAX_FRAME    (VIRTIO_NET_ETH_HLEN + VIRTIO_NET_MTU)
/* A GSO frame: 64 KiB of IP packet (Linux's GSO_LEGACY_MAX_SIZE) behind the Ethernet header. */
#define VIRTIO_NET_MAX_GSO_FRAME (VIRTIO_NET_ETH_HLEN + 65536u)

/* virtio_net_hdr flags and gso_type, §5.1.6. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM     1u
#define VIRTIO_NET_HDR_F_DATA_VALID     2u
#define VIRTIO_NET_HDR_GSO_NONE         0u
#define VIRTIO_NET_HDR_GSO_TCPV4        1u
#define VIRTIO_NET_HDR_GSO_TCPV6        4u

/* §5.1.6: the header before every frame. A modern device's always has num_buffers, 12 bytes
 * (only the legacy one lacked it without VIRTIO_NET_F_MRG_RXBUF, §5.1.6.1). */
struct virtio_net_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
_Static_assert(offsetof(struct virtio_net_hdr, hdr_len) == 2, "virtio_net_hdr layout");
_Static_assert(offsetof(struct virtio_net_hdr, num_buffers) == 10, "virtio_net_hdr layout");
_Static_assert(sizeof(struct virtio_net_hdr) == 12, "virtio_net_hdr layout");

struct virtio_net_backend {
    void *ctx;
    /* Send the frame of `len` bytes at readable offset `skip` of chain c (copy it with
     * virtq_chain_read) with its header (a private copy, checked against what was negotiated:
     * NEEDS_CSUM with the checksum field inside the frame and csum_offset < 256; a GSO type
     * only with NEEDS_CSUM and gso_size >= 1). True: taken (sent or dropped); false: no room,
     * retry later. */
    bool (*tx)(void *ctx, const struct virtq_chain *c, size_t skip, size_t len,
               const struct virtio_net_hdr *hdr);
    /* The driver posted receive buffers (may be NULL). */
    void (*rx_ready)(void *ctx);
};

struct virtio_net {
    struct virtio_mmio_dev dev;     /* first: the class hooks recover the device from it */
    struct virtio_net_backend backend;
    bool tx_blocked;                /* backend.tx said "no room": wait for virtio_net_tx_kick */
    unsigned long tx_frames, tx_dropped, rx_frames, rx_dropped;
    unsigned long long tx_bytes, rx_bytes;  /* of the frames sent and delivered */
    struct virtq_chain tx_chain;
    struct virtq_chain rx_chain;
    /* Deferred transmit completions (tx_defer): chains sent but not yet returned. */
    bool tx_defer;
    unsigned tx_done_count;
    uint16_t tx_done[VIRTIO_NET_TX_DEFER_MAX];
    /* The receive buffers one frame fills (MRG_RXBUF: up to the queue size). */
    uint16_t rx_heads[VIRTIO_NET_QUEUE_SIZE];
    uint32_t rx_written[VIRTIO_NET_QUEUE_SIZE];
};

bool virtio_net_init(struct virtio_net *n, const struct virtio_guest_mem *mem,
                     const uint8_t mac[6], const struct virtio_net_backend *backend,
                     bool offloads, void (*raise_irq)(void *ctx), void *irq_ctx);

/* A frame for the driver: its bytes in `count` pieces and what its header says (flags,
 * gso_type, gso_size, csum_start, csum_offset; hdr_len and num_buffers are the device's). */
struct virtio_net_frame {
    struct virtio_net_hdr hdr;
    size_t len;
    unsigned count;
    const uint8_t *const *seg;
    const uint16_t *seg_len;
};

enum virtio_net_rx_status {
    VIRTIO_NET_RX_DELIVERED,
    VIRTIO_NET_RX_NO_BUFFER,    /* no receive buffer posted: keep the frame, retry on rx_ready */
    VIRTIO_NET_RX_DROPPED,      /* driver not running, a frame it cannot take (length, an
                                 * offload not negotiated), or buffers too small for it: the
                                 * frame is consumed */
    VIRTIO_NET_RX_GUEST_ERROR,  /* the device is broken: stop the VM with virtio_mmio_report */
};

/* Delivers one frame to the guest. */
enum virtio_net_rx_status virtio_net_rx(struct virtio_net *n, const struct virtio_net_frame *f);

/* Sends what waits in the transmit queue (the backend has room again). False: guest error. */
bool virtio_net_tx_kick(struct virtio_net *n);

/*
 * Deferred transmit completions (set tx_defer after virtio_net_init): a sent chain goes back to
 * the driver, with its used-buffer interrupt, not at once but at the next
 * virtio_net_tx_return: the VMM calls it when the interrupt would cost nothing of its own or
 * a hold has passed (vmm_virtio_exit_done, vmm_virtio.h), and the device with each received
 * frame and once VIRTIO_NET_TX_DEFER_MAX chains wait. A sender's completions then ride on the
 * interrupt of the acknowledgements it receives instead of costing an interrupt (three exits)
 * per frame. False: guest error.
 */
bool virtio_net_tx_return(struct virtio_net *n);

/*
 * Transmit polling, for a VMM that runs at every exit of the guest's vCPUs: after
 * virtio_net_init, virtio_net_tx_poll_mode asks the driver (VIRTIO_F_EVENT_IDX's avail_event,
 * §2.7.10.2) to notify the transmit queue only once VIRTIO_NET_TX_POLL_SLACK chains wait, and
 * the VMM calls virtio_net_tx_poll at each exit (before a WFI puts the vCPU to sleep too) and
 * notification instead. A frame then waits for the vCPU's next exit, which comes when the guest
 * idles (WFI), takes an interrupt (the status read) or at its next timer tick, instead of
 * costing an exit of its own; frames queued between two exits go out as one batch, with one
 * notification of the link's peer. Without EVENT_IDX the driver notifies for every chain as
 * before (polling then only finds nothing more).
 */
void virtio_net_tx_poll_mode(struct virtio_net *n);
/* Sends what waits in the transmit queue unless the backend said it has no room (then its
 * signal calls virtio_net_tx_kick). False: guest error. */
bool virtio_net_tx_poll(struct virtio_net *n);

/* Sets the link status the driver sees (VIRTIO_NET_F_STATUS) and notifies it (§5.1.4). */
void virtio_net_set_link(struct virtio_net *n, bool up);
