/*
 * A one-way Ethernet frame link through one shared memory region: one sender writes frames,
 * one receiver reads them. Two regions make a VM-to-VM or VM-to-PD link. The layout is
 * version 1 of docs/net-link.md, which a native protection domain can implement to serve a
 * link; its queues have the shape of the seL4 Device Driver Framework's network queues (a
 * ring of { offset, len } buffer descriptors with tail, head and consumer_signalled), a free
 * queue of empty buffers (receiver -> sender) and an active queue of frames (sender ->
 * receiver).
 *
 * Region layout for `capacity` buffers (a power of two, 1..32768), offsets from its start:
 *
 *     0x0000                      struct net_link_header
 *     NET_LINK_FREE_OFFSET        free queue:   struct net_link_queue + capacity descriptors
 *     NET_LINK_ACTIVE_OFFSET(c)   active queue: struct net_link_queue + capacity descriptors
 *     NET_LINK_DATA_OFFSET(c)     data area: capacity buffers of NET_LINK_BUFFER_SIZE bytes
 *     NET_LINK_REGION_SIZE(c)     end (a multiple of 4 KiB)
 *
 * For the default capacity of 512: active queue at 0x2080, data at 0x5000, region 0x105000
 * bytes (1044 KiB).
 *
 * Everything in the region is written by the peer too and is untrusted: each side keeps its
 * own copies of the indices it advances, never reads them back, reduces every index modulo the
 * capacity, and checks every descriptor (offset, length) and every index distance before use.
 * A bad value is a link error: one line in `report`, and every later call returns
 * NET_LINK_ERROR (the VMM stops serving the link; the VM goes on).
 *
 * Version 2 adds the sender's link state to the header (`link_state`, `link_epoch`): a VMM
 * whose guest stops writes DOWN (and drops what arrives for it), and UP when a new guest runs;
 * the peer's VMM shows it to its guest as the virtio-net link status. The rings themselves
 * keep running across a restart: the VMMs, not the guests, own them.
 *
 * Layout shared with TypeScript and user PDs: the _Static_asserts pin it; a test reads this
 * header (test/c-header.ts).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 'S' '4' 'N' 'L' in memory order, read as a little-endian u32. */
#define NET_LINK_MAGIC              0x4c4e3453u
#define NET_LINK_VERSION            2u
#define NET_LINK_HEADER_SIZE        0x40u
#define NET_LINK_BUFFER_SIZE        2048u
/* The largest frame: an untagged Ethernet frame without FCS (14-byte header + 1500). */
#define NET_LINK_MAX_FRAME          1514u
#define NET_LINK_MIN_FRAME          14u
#define NET_LINK_MAX_CAPACITY       32768u
#define NET_LINK_DEFAULT_CAPACITY   512u
#define NET_LINK_QUEUE_ALIGN        64u
#define NET_LINK_DATA_ALIGN         0x1000u
#define NET_LINK_FREE_OFFSET        0x40u
#define NET_LINK_DEFAULT_ACTIVE_OFFSET  0x2080u
#define NET_LINK_DEFAULT_DATA_OFFSET    0x5000u
#define NET_LINK_DEFAULT_REGION_SIZE    0x105000u
/* consumer_signalled values (as in sDDF): 0 the consumer asks to be notified, 1 it does not. */
#define NET_LINK_SIGNAL_REQUESTED   0u
#define NET_LINK_SIGNAL_NOT_NEEDED  1u
/* link_state values (version 2): what the sender's side of the wire is doing. */
#define NET_LINK_STATE_UP           1u
#define NET_LINK_STATE_DOWN         2u

/* Written once by the sender before it sets `magic` (last); checked by the receiver. */
struct net_link_header {
    uint32_t magic;         /* NET_LINK_MAGIC */
    uint16_t version;       /* NET_LINK_VERSION */
    uint16_t header_size;   /* NET_LINK_HEADER_SIZE */
    uint32_t capacity;      /* buffers; also the size of each queue */
    uint32_t buffer_size;   /* NET_LINK_BUFFER_SIZE */
    uint32_t max_frame;     /* NET_LINK_MAX_FRAME */
    uint32_t free_offset;   /* from the start of the region */
    uint32_t active_offset;
    uint32_t data_offset;
    uint64_t region_size;   /* NET_LINK_REGION_SIZE(capacity) */
    /* Version 2, written by the sender at any time after `magic`: NET_LINK_STATE_*, then
     * link_epoch + 1 (a barrier between), then a notification. */
    uint32_t link_state;
    uint32_t link_epoch;
    uint8_t reserved[16];   /* 0 */
};
_Static_assert(offsetof(struct net_link_header, magic) == 0x00, "net link layout");
_Static_assert(offsetof(struct net_link_header, version) == 0x04, "net link layout");
_Static_assert(offsetof(struct net_link_header, header_size) == 0x06, "net link layout");
_Static_assert(offsetof(struct net_link_header, capacity) == 0x08, "net link layout");
_Static_assert(offsetof(struct net_link_header, buffer_size) == 0x0c, "net link layout");
_Static_assert(offsetof(struct net_link_header, max_frame) == 0x10, "net link layout");
_Static_assert(offsetof(struct net_link_header, free_offset) == 0x14, "net link layout");
_Static_assert(offsetof(struct net_link_header, active_offset) == 0x18, "net link layout");
_Static_assert(offsetof(struct net_link_header, data_offset) == 0x1c, "net link layout");
_Static_assert(offsetof(struct net_link_header, region_size) == 0x20, "net link layout");
_Static_assert(offsetof(struct net_link_header, link_state) == 0x28, "net link layout");
_Static_assert(offsetof(struct net_link_header, link_epoch) == 0x2c, "net link layout");
_Static_assert(offsetof(struct net_link_header, reserved) == 0x30, "net link layout");
_Static_assert(sizeof(struct net_link_header) == 0x40, "net link layout");

/* One buffer: `offset` from the start of the data area (a multiple of NET_LINK_BUFFER_SIZE);
 * `len` the frame's bytes in an active entry, 0 in a free one. */
struct net_link_desc {
    uint64_t offset;
    uint16_t len;
    uint16_t reserved[3];
};
_Static_assert(offsetof(struct net_link_desc, offset) == 0x0, "net link layout");
_Static_assert(offsetof(struct net_link_desc, len) == 0x8, "net link layout");
_Static_assert(sizeof(struct net_link_desc) == 0x10, "net link layout");

/* A ring of `capacity` descriptors. The producer writes buffers[tail % capacity], then tail;
 * the consumer reads buffers[head % capacity], then advances head. Both are free-running
 * 16-bit counters: tail - head (mod 2^16) is the number of entries, never above capacity. */
struct net_link_queue {
    uint16_t tail;                  /* written by the producer */
    uint16_t head;                  /* written by the consumer */
    uint32_t consumer_signalled;    /* NET_LINK_SIGNAL_*: the consumer requests, the producer
                                     * clears the request when it notifies */
    struct net_link_desc buffers[];
};
_Static_assert(offsetof(struct net_link_queue, tail) == 0x0, "net link layout");
_Static_assert(offsetof(struct net_link_queue, head) == 0x2, "net link layout");
_Static_assert(offsetof(struct net_link_queue, consumer_signalled) == 0x4, "net link layout");
_Static_assert(offsetof(struct net_link_queue, buffers) == 0x8, "net link layout");
_Static_assert(sizeof(struct net_link_queue) == 0x8, "net link layout");

#define NET_LINK_ALIGN_UP(x, a)     (((x) + (a) - 1u) / (a) * (a))
#define NET_LINK_QUEUE_BYTES(cap)   NET_LINK_ALIGN_UP(8ull + 16ull * (cap), NET_LINK_QUEUE_ALIGN)
#define NET_LINK_ACTIVE_OFFSET(cap) (NET_LINK_FREE_OFFSET + NET_LINK_QUEUE_BYTES(cap))
#define NET_LINK_DATA_OFFSET(cap)   NET_LINK_ALIGN_UP(NET_LINK_ACTIVE_OFFSET(cap) \
                                                      + NET_LINK_QUEUE_BYTES(cap), \
                                                      NET_LINK_DATA_ALIGN)
#define NET_LINK_REGION_SIZE(cap)   NET_LINK_ALIGN_UP(NET_LINK_DATA_OFFSET(cap) \
                                                      + (uint64_t)NET_LINK_BUFFER_SIZE * (cap), \
                                                      NET_LINK_DATA_ALIGN)
_Static_assert(NET_LINK_FREE_OFFSET == NET_LINK_HEADER_SIZE, "net link layout");
_Static_assert(NET_LINK_ACTIVE_OFFSET(NET_LINK_DEFAULT_CAPACITY) == NET_LINK_DEFAULT_ACTIVE_OFFSET,
               "net link layout");
_Static_assert(NET_LINK_DATA_OFFSET(NET_LINK_DEFAULT_CAPACITY) == NET_LINK_DEFAULT_DATA_OFFSET,
               "net link layout");
_Static_assert(NET_LINK_REGION_SIZE(NET_LINK_DEFAULT_CAPACITY) == NET_LINK_DEFAULT_REGION_SIZE,
               "net link layout");
_Static_assert(NET_LINK_MAX_FRAME <= NET_LINK_BUFFER_SIZE, "a frame fits a buffer");

/* Bytes of the region for `capacity` buffers; 0 unless capacity is a power of two in
 * 1..NET_LINK_MAX_CAPACITY. */
uint64_t net_link_region_size(uint32_t capacity);

enum net_link_status {
    NET_LINK_OK,
    NET_LINK_EMPTY,         /* sender: no free buffer; receiver: no frame (a signal is armed) */
    NET_LINK_NOT_READY,     /* receiver: the sender has not initialised the region yet */
    NET_LINK_ERROR,         /* the link is broken: see `report` */
};

#define NET_LINK_REPORT_SIZE 200u

/* The state one side keeps privately (never in the shared region). */
struct net_link_end {
    const char *name;       /* for reports, e.g. "linux1->linux2" */
    uint8_t *region;
    uint32_t capacity;
    struct net_link_queue *free_q;
    struct net_link_queue *active_q;
    uint8_t *data;
    uint16_t free_idx;      /* sender: free head; receiver: free tail */
    uint16_t active_idx;    /* sender: active tail; receiver: active head */
    bool attached;          /* receiver: header checked */
    bool holding;           /* a buffer acquired (sender) or a frame peeked (receiver) */
    uint64_t held_offset;
    uint16_t held_len;
    bool moved;             /* published / released since the last notify check */
    bool broken;
    uint32_t epoch;         /* sender: the last link_epoch written; receiver: the last seen */
    bool peer_up;           /* receiver: the sender's link_state was UP at `epoch` */
    unsigned long frames;
    char report[NET_LINK_REPORT_SIZE];
};

/*
 * Sender. net_link_tx_init writes the header, empty queues and a free queue holding every
 * buffer, `magic` last. Per frame: net_link_tx_acquire a buffer (NET_LINK_EMPTY: none free; a
 * signal from the receiver will say when), copy the frame into it once, net_link_tx_publish
 * its length. After a batch, notify the receiver if net_link_tx_notify_needed.
 */
bool net_link_tx_init(struct net_link_end *l, void *region, uint64_t region_size,
                      uint32_t capacity, const char *name);
enum net_link_status net_link_tx_acquire(struct net_link_end *l, uint8_t **buf);
enum net_link_status net_link_tx_publish(struct net_link_end *l, uint32_t len);
bool net_link_tx_notify_needed(struct net_link_end *l);
/* Sender: announces our side of the wire up or down (version 2 link_state); the caller then
 * notifies the receiver. net_link_tx_init starts it UP. */
void net_link_tx_set_state(struct net_link_end *l, bool up);

/*
 * Receiver. net_link_rx_init only records the region; the header is checked on first use
 * (NET_LINK_NOT_READY until the sender has written it). Per frame: net_link_rx_peek (the
 * same frame until released; NET_LINK_EMPTY: none, a signal is armed), copy it out,
 * net_link_rx_release the buffer to the free queue. After a batch, notify the sender if
 * net_link_rx_notify_needed.
 */
bool net_link_rx_init(struct net_link_end *l, void *region, uint64_t region_size,
                      uint32_t capacity, const char *name);
enum net_link_status net_link_rx_peek(struct net_link_end *l, const uint8_t **frame,
                                      uint32_t *len);
enum net_link_status net_link_rx_release(struct net_link_end *l);
bool net_link_rx_notify_needed(struct net_link_end *l);
/* Receiver: whether the sender's link state changed since the last call (always false before
 * the header was checked); *up is its state now. A state other than UP counts as down. */
bool net_link_rx_peer_state(struct net_link_end *l, bool *up);
/* Receiver: drops every frame waiting (our side is down: nobody would take them), returning
 * their buffers; the number dropped, or -1 on a link error. */
long net_link_rx_drop_all(struct net_link_end *l);
