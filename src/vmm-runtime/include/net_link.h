/*
 * A one-way Ethernet frame link through one shared memory region: one sender writes frames,
 * one receiver reads them. Two regions make a VM-to-VM or VM-to-PD link. The layout is
 * version 2 of docs/net-link.md, which a native protection domain can implement to serve a
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
 * Version 2 (over 1): a frame may span up to NET_LINK_MAX_FRAME_BUFFERS buffers (the
 * descriptor's NET_LINK_DESC_MORE flag), so a TCP segment of up to 64 KiB crosses as one frame,
 * and a frame's first descriptor carries virtio-net's checksum and segmentation offload
 * information in what were version 1's reserved bytes (flags, csum_offset, csum_start,
 * gso_size); max_frame is NET_LINK_MAX_FRAME. The header adds the sender's link state
 * (`link_state`, `link_epoch`): a VMM whose guest stops writes DOWN (and drops what arrives
 * for it), and UP when a new guest runs; the peer's VMM shows it to its guest as the virtio-net
 * link status. The rings themselves keep running across a restart: the VMMs, not the guests,
 * own them.
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
/* The largest frame without segmentation offload: an untagged Ethernet frame without FCS
 * (14-byte header + an MTU of 1500). */
#define NET_LINK_MAX_PLAIN_FRAME    1514u
/* The largest frame: a TCP segment for segmentation offload (NET_LINK_DESC_GSO_*), 64 KiB of
 * IP packet (Linux's GSO_LEGACY_MAX_SIZE) behind the Ethernet header. */
#define NET_LINK_MAX_FRAME          65550u
#define NET_LINK_MIN_FRAME          14u
/* Buffers of the largest frame. */
#define NET_LINK_MAX_FRAME_BUFFERS  ((NET_LINK_MAX_FRAME + NET_LINK_BUFFER_SIZE - 1u) \
                                     / NET_LINK_BUFFER_SIZE)
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

/* Descriptor flags (version 2). MORE: the frame goes on in the next active entry. On a frame's
 * first entry only: CSUM_PARTIAL, the sender left the TCP/UDP checksum to whoever delivers it
 * (virtio-net's NEEDS_CSUM: sum from csum_start to the end into csum_start + csum_offset);
 * CSUM_VALID, the checksum was checked (virtio-net's DATA_VALID); GSO_TCPV4 / GSO_TCPV6, a
 * TCP segment to be cut into gso_size-byte segments (needs CSUM_PARTIAL). */
#define NET_LINK_DESC_MORE          0x01u
#define NET_LINK_DESC_CSUM_PARTIAL  0x02u
#define NET_LINK_DESC_CSUM_VALID    0x04u
#define NET_LINK_DESC_GSO_TCPV4     0x10u
#define NET_LINK_DESC_GSO_TCPV6     0x20u
#define NET_LINK_DESC_FRAME_FLAGS   (NET_LINK_DESC_CSUM_PARTIAL | NET_LINK_DESC_CSUM_VALID \
                                     | NET_LINK_DESC_GSO_TCPV4 | NET_LINK_DESC_GSO_TCPV6)

/* One buffer: `offset` from the start of the data area (a multiple of NET_LINK_BUFFER_SIZE);
 * `len` the bytes in this buffer in an active entry (1..NET_LINK_BUFFER_SIZE), 0 in a free
 * one; the rest (version 2) describe the frame on its first active entry and are 0 elsewhere
 * (but for NET_LINK_DESC_MORE, and everywhere in the free queue). */
struct net_link_desc {
    uint64_t offset;
    uint16_t len;
    uint8_t flags;          /* NET_LINK_DESC_* */
    uint8_t csum_offset;    /* with CSUM_PARTIAL: from csum_start to the checksum field */
    uint16_t csum_start;    /* with CSUM_PARTIAL: from the frame's start */
    uint16_t gso_size;      /* with GSO_*: payload bytes per segment, >= 1 */
};
_Static_assert(offsetof(struct net_link_desc, offset) == 0x0, "net link layout");
_Static_assert(offsetof(struct net_link_desc, len) == 0x8, "net link layout");
_Static_assert(offsetof(struct net_link_desc, flags) == 0xa, "net link layout");
_Static_assert(offsetof(struct net_link_desc, csum_offset) == 0xb, "net link layout");
_Static_assert(offsetof(struct net_link_desc, csum_start) == 0xc, "net link layout");
_Static_assert(offsetof(struct net_link_desc, gso_size) == 0xe, "net link layout");
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
_Static_assert(NET_LINK_MAX_PLAIN_FRAME <= NET_LINK_BUFFER_SIZE, "a plain frame fits a buffer");
_Static_assert(NET_LINK_MAX_FRAME <= 0xffffu + 15u, "a frame's length fits csum_start's range");

/* Bytes of the region for `capacity` buffers; 0 unless capacity is a power of two in
 * 1..NET_LINK_MAX_CAPACITY. */
uint64_t net_link_region_size(uint32_t capacity);

enum net_link_status {
    NET_LINK_OK,
    NET_LINK_EMPTY,         /* sender: not enough free buffers; receiver: no frame (a signal
                             * is armed either way) */
    NET_LINK_NOT_READY,     /* receiver: the sender has not initialised the region yet */
    NET_LINK_ERROR,         /* the link is broken: see `report` */
};

#define NET_LINK_REPORT_SIZE 200u

/* What a frame carries besides its bytes (version 2): NET_LINK_DESC_FRAME_FLAGS and their
 * fields, as in the first descriptor. All zero: a plain frame with its checksums done. */
struct net_link_meta {
    uint8_t flags;
    uint8_t csum_offset;
    uint16_t csum_start;
    uint16_t gso_size;
};

/* A received frame: its buffers in order, each in the shared region (the peer can still write
 * them: copy before you check), and what was checked about it. */
struct net_link_frame {
    uint32_t len;           /* total bytes: 14..NET_LINK_MAX_FRAME (plain: ..1514) */
    uint32_t count;         /* buffers: 1..NET_LINK_MAX_FRAME_BUFFERS */
    struct net_link_meta meta;
    const uint8_t *seg[NET_LINK_MAX_FRAME_BUFFERS];
    uint16_t seg_len[NET_LINK_MAX_FRAME_BUFFERS];
    uint64_t seg_offset[NET_LINK_MAX_FRAME_BUFFERS];    /* data-area offsets, for release */
};

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
    uint64_t held_offset;   /* sender: the acquired buffer */
    struct net_link_frame held;     /* receiver: the peeked frame */
    bool moved;             /* published / released since the last notify check */
    bool broken;
    uint32_t epoch;         /* sender: the last link_epoch written; receiver: the last seen */
    bool peer_up;           /* receiver: the sender's link_state was UP at `epoch` */
    unsigned long frames;
    unsigned long skipped;  /* receiver: multi-buffer frames net_link_rx_peek dropped */
    char report[NET_LINK_REPORT_SIZE];
};

/* Whether a frame of `len` bytes with `m` is one a sender may publish (docs/net-link.md,
 * "Frames"): a receiver applies the same rules to what it reads. */
bool net_link_meta_ok(const struct net_link_meta *m, uint32_t len);

/*
 * Sender. net_link_tx_init writes the header, empty queues and a free queue holding every
 * buffer, `magic` last. net_link_tx_send sends one frame of `len` bytes: it takes as many
 * free buffers as the frame needs (NET_LINK_EMPTY when there are not that many; a signal from
 * the receiver will say when), has fill(ctx, offset, buffer, n) copy each piece of the frame
 * into its buffer once, and publishes them all with one tail store. A frame or meta the rules
 * do not allow is a link error (a bug of the caller). For single-buffer plain frames built in
 * place: net_link_tx_acquire a buffer, write the frame into it, net_link_tx_publish its length.
 * After a batch, notify the receiver if net_link_tx_notify_needed.
 */
typedef void (*net_link_fill_fn)(void *ctx, size_t offset, uint8_t *dst, size_t len);

bool net_link_tx_init(struct net_link_end *l, void *region, uint64_t region_size,
                      uint32_t capacity, const char *name);
enum net_link_status net_link_tx_send(struct net_link_end *l, uint32_t len,
                                      const struct net_link_meta *m, net_link_fill_fn fill,
                                      void *ctx);
enum net_link_status net_link_tx_acquire(struct net_link_end *l, uint8_t **buf);
enum net_link_status net_link_tx_publish(struct net_link_end *l, uint32_t len);
bool net_link_tx_notify_needed(struct net_link_end *l);
/* Sender: announces our side of the wire up or down (version 2 link_state); the caller then
 * notifies the receiver. net_link_tx_init starts it UP. */
void net_link_tx_set_state(struct net_link_end *l, bool up);

/*
 * Receiver. net_link_rx_init only records the region; the header is checked on first use
 * (NET_LINK_NOT_READY until the sender has written it). Per frame: net_link_rx_peek_frame
 * (the same frame until released; NET_LINK_EMPTY: none, a signal is armed), copy it out,
 * net_link_rx_release its buffers to the free queue. net_link_rx_peek is the same for a
 * receiver that takes single-buffer frames only (a PD that answers small frames): it releases
 * longer ones unread (counted in `skipped`) and returns the next. After a batch, notify the
 * sender if net_link_rx_notify_needed.
 */
bool net_link_rx_init(struct net_link_end *l, void *region, uint64_t region_size,
                      uint32_t capacity, const char *name);
enum net_link_status net_link_rx_peek_frame(struct net_link_end *l,
                                            const struct net_link_frame **frame);
enum net_link_status net_link_rx_peek(struct net_link_end *l, const uint8_t **frame,
                                      uint32_t *len);
enum net_link_status net_link_rx_release(struct net_link_end *l);
bool net_link_rx_notify_needed(struct net_link_end *l);

/* Copies `len` bytes of a received frame from byte `offset` into dst; the bytes copied. */
size_t net_link_frame_read(const struct net_link_frame *f, size_t offset, void *dst, size_t len);
/* Receiver: whether the sender's link state changed since the last call (always false before
 * the header was checked); *up is its state now. A state other than UP counts as down. */
bool net_link_rx_peer_state(struct net_link_end *l, bool *up);
/* Receiver: drops every frame waiting (our side is down: nobody would take them), returning
 * their buffers; the number dropped, or -1 on a link error. */
long net_link_rx_drop_all(struct net_link_end *l);
