/*
 * The net link ring (include/net_link.h, docs/net-link.md). Every load from the region is a
 * single relaxed atomic load copied into a local before it is checked and used; ordering
 * between the two sides comes from virtio_barrier() at the points the protocol names:
 * descriptor before tail (producer), tail before descriptor (consumer), and the store-load
 * pairs of the consumer_signalled handshake that keep a wake-up from being lost.
 */
#include "net_link.h"

#include <stdarg.h>

#include "virtio.h"
#include "vmm_fmt.h"
#include "vmm_string.h"

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

uint64_t net_link_region_size(uint32_t capacity)
{
    if (capacity == 0 || capacity > NET_LINK_MAX_CAPACITY || (capacity & (capacity - 1u)) != 0) {
        return 0;
    }
    return NET_LINK_REGION_SIZE((uint64_t)capacity);
}

static enum net_link_status link_fail(struct net_link_end *l, const char *role, const char *fmt,
                                      ...) __attribute__((format(printf, 3, 4)));

static enum net_link_status link_fail(struct net_link_end *l, const char *role, const char *fmt,
                                      ...)
{
    if (!l->broken) {
        int n = vmm_snprintf(l->report, sizeof(l->report), "net link '%s' (%s): ", l->name, role);
        va_list ap;
        va_start(ap, fmt);
        vmm_vsnprintf(l->report + n, sizeof(l->report) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    l->broken = true;
    return NET_LINK_ERROR;
}

static bool link_setup(struct net_link_end *l, void *region, uint64_t region_size,
                       uint32_t capacity, const char *name)
{
    memset(l, 0, sizeof(*l));
    l->name = name != NULL ? name : "?";
    uint64_t need = net_link_region_size(capacity);
    if (need == 0 || region == NULL || region_size < need
        || (uintptr_t)region % sizeof(uint64_t) != 0) {
        return false;
    }
    l->region = region;
    l->capacity = capacity;
    l->free_q = (struct net_link_queue *)(void *)(l->region + NET_LINK_FREE_OFFSET);
    l->active_q = (struct net_link_queue *)(void *)(l->region + NET_LINK_ACTIVE_OFFSET(capacity));
    l->data = l->region + NET_LINK_DATA_OFFSET(capacity);
    return true;
}

/* A descriptor's offset names one of the data area's buffers. */
static bool buffer_ok(const struct net_link_end *l, uint64_t offset)
{
    return offset % NET_LINK_BUFFER_SIZE == 0
           && offset / NET_LINK_BUFFER_SIZE < l->capacity;
}

/* Entries in a queue from the peer's counter and ours, or -1 if they are further apart than
 * the capacity (the peer wrote a counter no correct peer could have). */
static int32_t queue_count(const struct net_link_end *l, uint16_t tail, uint16_t head)
{
    uint16_t n = (uint16_t)(tail - head);
    return n > l->capacity ? -1 : (int32_t)n;
}

/* ---------------------------------------------------------------- sender */

bool net_link_tx_init(struct net_link_end *l, void *region, uint64_t region_size,
                      uint32_t capacity, const char *name)
{
    if (!link_setup(l, region, region_size, capacity, name)) {
        return false;
    }
    uint64_t size = net_link_region_size(capacity);
    memset(l->region, 0, NET_LINK_DATA_OFFSET(capacity));
    struct net_link_header *h = (struct net_link_header *)(void *)l->region;
    h->version = NET_LINK_VERSION;
    h->header_size = NET_LINK_HEADER_SIZE;
    h->capacity = capacity;
    h->buffer_size = NET_LINK_BUFFER_SIZE;
    h->max_frame = NET_LINK_MAX_FRAME;
    h->free_offset = NET_LINK_FREE_OFFSET;
    h->active_offset = (uint32_t)NET_LINK_ACTIVE_OFFSET(capacity);
    h->data_offset = (uint32_t)NET_LINK_DATA_OFFSET(capacity);
    h->region_size = size;
    h->link_state = NET_LINK_STATE_UP;
    for (uint32_t i = 0; i < capacity; i++) {
        l->free_q->buffers[i].offset = (uint64_t)i * NET_LINK_BUFFER_SIZE;
    }
    l->free_q->tail = (uint16_t)capacity;   /* every buffer is free */
    l->free_q->consumer_signalled = NET_LINK_SIGNAL_NOT_NEEDED;
    l->active_q->consumer_signalled = NET_LINK_SIGNAL_REQUESTED;
    virtio_barrier();       /* the layout before the magic that announces it */
    STORE(&h->magic, NET_LINK_MAGIC);
    return true;
}

/* Whether at least `want` free buffers have been returned; arms the receiver's signal when
 * not. -1 when the receiver's counter is more than the capacity away (a link error). */
static int32_t tx_free_count(struct net_link_end *l, uint32_t want)
{
    int32_t n = queue_count(l, LOAD(&l->free_q->tail), l->free_idx);
    if (n >= 0 && (uint32_t)n < want) {
        /* Ask to be told, then look again: a buffer returned in between is not missed. */
        STORE(&l->free_q->consumer_signalled, NET_LINK_SIGNAL_REQUESTED);
        virtio_barrier();
        n = queue_count(l, LOAD(&l->free_q->tail), l->free_idx);
        if (n >= 0 && (uint32_t)n >= want) {
            STORE(&l->free_q->consumer_signalled, NET_LINK_SIGNAL_NOT_NEEDED);
        }
    }
    return n;
}

/* Takes `want` free buffers (their offsets into out[]), or none: NET_LINK_EMPTY. */
static enum net_link_status tx_take(struct net_link_end *l, uint32_t want, uint64_t *out)
{
    int32_t n = tx_free_count(l, want);
    if (n < 0) {
        return link_fail(l, "sender", "free queue: the receiver's tail %u is more than the "
                         "capacity %u past our head %u", LOAD(&l->free_q->tail), l->capacity,
                         l->free_idx);
    }
    if ((uint32_t)n < want) {
        return NET_LINK_EMPTY;
    }
    virtio_barrier();   /* the tail before the entries it covers */
    for (uint32_t i = 0; i < want; i++) {
        uint16_t slot = (uint16_t)((l->free_idx + i) & (l->capacity - 1u));
        uint64_t offset = LOAD(&l->free_q->buffers[slot].offset);
        if (!buffer_ok(l, offset)) {
            return link_fail(l, "sender", "free queue entry %u: buffer offset 0x%llx is not one "
                             "of the %u %u-byte buffers of the data area", slot,
                             (unsigned long long)offset, l->capacity, NET_LINK_BUFFER_SIZE);
        }
        out[i] = offset;
    }
    virtio_barrier();   /* the entries are read before their slots are handed back */
    l->free_idx = (uint16_t)(l->free_idx + want);
    STORE(&l->free_q->head, l->free_idx);
    return NET_LINK_OK;
}

bool net_link_meta_ok(const struct net_link_meta *m, uint32_t len)
{
    uint8_t gso = m->flags & (NET_LINK_DESC_GSO_TCPV4 | NET_LINK_DESC_GSO_TCPV6);
    bool partial = (m->flags & NET_LINK_DESC_CSUM_PARTIAL) != 0;
    if ((m->flags & ~NET_LINK_DESC_FRAME_FLAGS) != 0 || len < NET_LINK_MIN_FRAME
        || len > (gso != 0 ? NET_LINK_MAX_FRAME : NET_LINK_MAX_PLAIN_FRAME)) {
        return false;
    }
    if (gso == (NET_LINK_DESC_GSO_TCPV4 | NET_LINK_DESC_GSO_TCPV6)
        || (gso != 0 && (!partial || m->gso_size == 0)) || (gso == 0 && m->gso_size != 0)) {
        return false;
    }
    if (partial && (m->flags & NET_LINK_DESC_CSUM_VALID)) {
        return false;
    }
    /* The checksum field lies inside the frame; without CSUM_PARTIAL both are 0. */
    return partial ? (uint32_t)m->csum_start + m->csum_offset + 2u <= len
                   : m->csum_start == 0 && m->csum_offset == 0;
}

/* Publishes `count` taken buffers as one frame: entries first, then one tail store. */
static enum net_link_status tx_publish_frame(struct net_link_end *l, const uint64_t *offsets,
                                             uint32_t count, uint32_t len,
                                             const struct net_link_meta *m)
{
    uint16_t head = LOAD(&l->active_q->head);
    int32_t n = queue_count(l, l->active_idx, head);
    /* We hold `count` buffers, so a correct receiver leaves room for them. */
    if (n < 0 || (uint32_t)n + count > l->capacity) {
        return link_fail(l, "sender", "active queue: the receiver's head %u does not fit our "
                         "tail %u (capacity %u)", head, l->active_idx, l->capacity);
    }
    for (uint32_t i = 0; i < count; i++) {
        struct net_link_desc *e =
            &l->active_q->buffers[(uint16_t)(l->active_idx + i) & (l->capacity - 1u)];
        uint32_t piece = i + 1 < count ? NET_LINK_BUFFER_SIZE
                                       : len - (count - 1u) * NET_LINK_BUFFER_SIZE;
        STORE(&e->offset, offsets[i]);
        STORE(&e->len, (uint16_t)piece);
        STORE(&e->flags, (uint8_t)((i == 0 ? m->flags : 0u)
                                   | (i + 1 < count ? NET_LINK_DESC_MORE : 0u)));
        STORE(&e->csum_offset, i == 0 ? m->csum_offset : (uint8_t)0);
        STORE(&e->csum_start, i == 0 ? m->csum_start : (uint16_t)0);
        STORE(&e->gso_size, i == 0 ? m->gso_size : (uint16_t)0);
    }
    virtio_barrier();       /* the frame and its entries before the tail that publishes them */
    l->active_idx = (uint16_t)(l->active_idx + count);
    STORE(&l->active_q->tail, l->active_idx);
    l->moved = true;
    l->frames++;
    return NET_LINK_OK;
}

enum net_link_status net_link_tx_send(struct net_link_end *l, uint32_t len,
                                      const struct net_link_meta *m, net_link_fill_fn fill,
                                      void *ctx)
{
    if (l->broken) {
        return NET_LINK_ERROR;
    }
    if (l->holding || !net_link_meta_ok(m, len)) {
        return link_fail(l, "sender", "send of a %u-byte frame with flags 0x%x %s (a VMM bug)",
                         len, m->flags, l->holding ? "while a buffer is acquired"
                                                   : "that docs/net-link.md does not allow");
    }
    uint32_t count = (len + NET_LINK_BUFFER_SIZE - 1u) / NET_LINK_BUFFER_SIZE;
    if (count > l->capacity) {
        return link_fail(l, "sender", "a %u-byte frame needs %u buffers, more than the %u of "
                         "the ring", len, count, l->capacity);
    }
    uint64_t offsets[NET_LINK_MAX_FRAME_BUFFERS];
    enum net_link_status st = tx_take(l, count, offsets);
    if (st != NET_LINK_OK) {
        return st;
    }
    for (uint32_t i = 0; i < count; i++) {
        size_t at = (size_t)i * NET_LINK_BUFFER_SIZE;
        size_t piece = len - at < NET_LINK_BUFFER_SIZE ? len - at : NET_LINK_BUFFER_SIZE;
        fill(ctx, at, l->data + offsets[i], piece);
    }
    return tx_publish_frame(l, offsets, count, len, m);
}

enum net_link_status net_link_tx_acquire(struct net_link_end *l, uint8_t **buf)
{
    if (l->broken) {
        return NET_LINK_ERROR;
    }
    if (!l->holding) {
        enum net_link_status st = tx_take(l, 1, &l->held_offset);
        if (st != NET_LINK_OK) {
            return st;
        }
        l->holding = true;
    }
    *buf = l->data + l->held_offset;
    return NET_LINK_OK;
}

enum net_link_status net_link_tx_publish(struct net_link_end *l, uint32_t len)
{
    if (l->broken) {
        return NET_LINK_ERROR;
    }
    if (!l->holding || len < NET_LINK_MIN_FRAME || len > NET_LINK_MAX_PLAIN_FRAME) {
        return link_fail(l, "sender", "publish of a %u-byte frame %s (a VMM bug)", len,
                         l->holding ? "outside 14..1514 bytes" : "without an acquired buffer");
    }
    static const struct net_link_meta plain;
    enum net_link_status st = tx_publish_frame(l, &l->held_offset, 1, len, &plain);
    l->holding = false;
    return st;
}

/* The producer side of the handshake: notify only a consumer that asked, and clear its
 * request so one notification serves the whole batch. */
static bool notify_needed(struct net_link_end *l, struct net_link_queue *q)
{
    if (l->broken || !l->moved) {
        return false;
    }
    l->moved = false;
    virtio_barrier();       /* our tail store before reading the consumer's flag */
    if (LOAD(&q->consumer_signalled) != NET_LINK_SIGNAL_REQUESTED) {
        return false;
    }
    STORE(&q->consumer_signalled, NET_LINK_SIGNAL_NOT_NEEDED);
    return true;
}

bool net_link_tx_notify_needed(struct net_link_end *l)
{
    return notify_needed(l, l->active_q);
}

void net_link_tx_set_state(struct net_link_end *l, bool up)
{
    if (l->region == NULL) {
        return;
    }
    struct net_link_header *h = (struct net_link_header *)(void *)l->region;
    STORE(&h->link_state, up ? NET_LINK_STATE_UP : NET_LINK_STATE_DOWN);
    virtio_barrier();       /* the state before the epoch that announces it */
    l->epoch++;
    STORE(&h->link_epoch, l->epoch);
}

/* ---------------------------------------------------------------- receiver */

bool net_link_rx_init(struct net_link_end *l, void *region, uint64_t region_size,
                      uint32_t capacity, const char *name)
{
    return link_setup(l, region, region_size, capacity, name);
}

/* One header field against what this side was configured with. */
static bool header_field(struct net_link_end *l, const char *what, uint64_t got, uint64_t want)
{
    if (got != want) {
        link_fail(l, "receiver", "header: %s is 0x%llx, expected 0x%llx", what,
                  (unsigned long long)got, (unsigned long long)want);
        return false;
    }
    return true;
}

/* The sender's header, checked once (the receiver never uses its values for addressing). */
static enum net_link_status rx_attach(struct net_link_end *l)
{
    const struct net_link_header *h = (const struct net_link_header *)(void *)l->region;
    uint32_t magic = LOAD(&h->magic);
    if (magic == 0) {
        return NET_LINK_NOT_READY;
    }
    virtio_barrier();       /* the magic before the layout it announces */
    uint32_t cap = l->capacity;
    if (!header_field(l, "magic", magic, NET_LINK_MAGIC)
        || !header_field(l, "version", LOAD(&h->version), NET_LINK_VERSION)
        || !header_field(l, "header_size", LOAD(&h->header_size), NET_LINK_HEADER_SIZE)
        || !header_field(l, "capacity", LOAD(&h->capacity), cap)
        || !header_field(l, "buffer_size", LOAD(&h->buffer_size), NET_LINK_BUFFER_SIZE)
        || !header_field(l, "max_frame", LOAD(&h->max_frame), NET_LINK_MAX_FRAME)
        || !header_field(l, "free_offset", LOAD(&h->free_offset), NET_LINK_FREE_OFFSET)
        || !header_field(l, "active_offset", LOAD(&h->active_offset),
                         NET_LINK_ACTIVE_OFFSET(cap))
        || !header_field(l, "data_offset", LOAD(&h->data_offset), NET_LINK_DATA_OFFSET(cap))
        || !header_field(l, "region_size", LOAD(&h->region_size), NET_LINK_REGION_SIZE(cap))) {
        return NET_LINK_ERROR;
    }
    /* docs/net-link.md: the sender starts the free queue full and the active queue empty. */
    l->epoch = LOAD(&h->link_epoch);
    virtio_barrier();
    l->peer_up = LOAD(&h->link_state) == NET_LINK_STATE_UP;
    l->free_idx = (uint16_t)cap;
    l->active_idx = 0;
    l->attached = true;
    return NET_LINK_OK;
}

/* How many entries wait; arms the sender's signal when there are none. */
static int32_t rx_active_count(struct net_link_end *l)
{
    int32_t n = queue_count(l, LOAD(&l->active_q->tail), l->active_idx);
    if (n == 0) {
        STORE(&l->active_q->consumer_signalled, NET_LINK_SIGNAL_REQUESTED);
        virtio_barrier();
        n = queue_count(l, LOAD(&l->active_q->tail), l->active_idx);
        if (n != 0) {
            STORE(&l->active_q->consumer_signalled, NET_LINK_SIGNAL_NOT_NEEDED);
        }
    }
    return n;
}

/* Reads the frame's entry i (of `avail` published) into the held frame, each field once. */
static enum net_link_status rx_entry(struct net_link_end *l, uint32_t i, bool *more)
{
    struct net_link_frame *f = &l->held;
    uint16_t slot = (uint16_t)((l->active_idx + i) & (l->capacity - 1u));
    const struct net_link_desc *e = &l->active_q->buffers[slot];
    uint64_t offset = LOAD(&e->offset);
    uint16_t len = LOAD(&e->len);
    uint8_t flags = LOAD(&e->flags);
    if (!buffer_ok(l, offset)) {
        return link_fail(l, "receiver", "active queue entry %u: buffer offset 0x%llx is not "
                         "one of the %u %u-byte buffers of the data area", slot,
                         (unsigned long long)offset, l->capacity, NET_LINK_BUFFER_SIZE);
    }
    *more = (flags & NET_LINK_DESC_MORE) != 0;
    if (len == 0 || len > NET_LINK_BUFFER_SIZE || (*more && len != NET_LINK_BUFFER_SIZE)) {
        return link_fail(l, "receiver", "active queue entry %u: %u bytes in a buffer (1..%u, "
                         "and %u where the frame goes on)", slot, len, NET_LINK_BUFFER_SIZE,
                         NET_LINK_BUFFER_SIZE);
    }
    if (i == 0) {
        f->meta = (struct net_link_meta){ (uint8_t)(flags & ~NET_LINK_DESC_MORE),
                                          LOAD(&e->csum_offset), LOAD(&e->csum_start),
                                          LOAD(&e->gso_size) };
    } else if ((flags & ~NET_LINK_DESC_MORE) != 0 || LOAD(&e->csum_offset) != 0
               || LOAD(&e->csum_start) != 0 || LOAD(&e->gso_size) != 0) {
        return link_fail(l, "receiver", "active queue entry %u: frame fields on a buffer that "
                         "continues a frame (flags 0x%x)", slot, flags);
    }
    f->seg[i] = l->data + offset;
    f->seg_len[i] = len;
    f->seg_offset[i] = offset;
    f->len += len;
    return NET_LINK_OK;
}

/* The frame at the head of the active queue, all its entries checked, into l->held. */
static enum net_link_status rx_take_frame(struct net_link_end *l)
{
    int32_t avail = rx_active_count(l);
    if (avail < 0) {
        return link_fail(l, "receiver", "active queue: the sender's tail %u is more than the "
                         "capacity %u past our head %u", LOAD(&l->active_q->tail),
                         l->capacity, l->active_idx);
    }
    if (avail == 0) {
        return NET_LINK_EMPTY;
    }
    virtio_barrier();   /* the tail before the entries and the frame it publishes */
    struct net_link_frame *f = &l->held;
    f->len = 0;
    f->count = 0;
    for (bool more = true; more; f->count++) {
        if (f->count == NET_LINK_MAX_FRAME_BUFFERS || f->count == (uint32_t)avail) {
            return link_fail(l, "receiver", "active queue entry %u: a frame goes on beyond %s",
                             (uint16_t)((l->active_idx + f->count - 1u) & (l->capacity - 1u)),
                             f->count == (uint32_t)avail ? "the published tail"
                                                         : "the most buffers a frame may have");
        }
        enum net_link_status st = rx_entry(l, f->count, &more);
        if (st != NET_LINK_OK) {
            return st;
        }
    }
    if (!net_link_meta_ok(&f->meta, f->len)) {
        return link_fail(l, "receiver", "active queue entry %u: a %u-byte frame with flags 0x%x, "
                         "csum %u+%u, gso_size %u breaks the rules of docs/net-link.md",
                         (uint16_t)(l->active_idx & (l->capacity - 1u)), f->len, f->meta.flags,
                         f->meta.csum_start, f->meta.csum_offset, f->meta.gso_size);
    }
    l->holding = true;
    return NET_LINK_OK;
}

enum net_link_status net_link_rx_peek_frame(struct net_link_end *l,
                                            const struct net_link_frame **frame)
{
    if (l->broken) {
        return NET_LINK_ERROR;
    }
    if (!l->attached) {
        enum net_link_status st = rx_attach(l);
        if (st != NET_LINK_OK) {
            return st;
        }
    }
    if (!l->holding) {
        enum net_link_status st = rx_take_frame(l);
        if (st != NET_LINK_OK) {
            return st;
        }
    }
    *frame = &l->held;
    return NET_LINK_OK;
}

enum net_link_status net_link_rx_peek(struct net_link_end *l, const uint8_t **frame,
                                      uint32_t *len)
{
    for (;;) {
        const struct net_link_frame *f;
        enum net_link_status st = net_link_rx_peek_frame(l, &f);
        if (st != NET_LINK_OK) {
            return st;
        }
        if (f->count == 1) {
            *frame = f->seg[0];
            *len = f->len;
            return NET_LINK_OK;
        }
        l->skipped++;
        st = net_link_rx_release(l);
        if (st != NET_LINK_OK) {
            return st;
        }
    }
}

enum net_link_status net_link_rx_release(struct net_link_end *l)
{
    if (l->broken) {
        return NET_LINK_ERROR;
    }
    if (!l->holding) {
        return link_fail(l, "receiver", "release without a peeked frame (a VMM bug)");
    }
    const struct net_link_frame *f = &l->held;
    uint16_t head = LOAD(&l->free_q->head);
    int32_t n = queue_count(l, l->free_idx, head);
    /* We hold the frame's buffers, so a correct sender leaves room for them. */
    if (n < 0 || (uint32_t)n + f->count > l->capacity) {
        return link_fail(l, "receiver", "free queue: the sender's head %u does not fit our tail "
                         "%u (capacity %u)", head, l->free_idx, l->capacity);
    }
    virtio_barrier();       /* the frame has been read before its buffers are handed back */
    for (uint32_t i = 0; i < f->count; i++) {
        struct net_link_desc *e =
            &l->free_q->buffers[(uint16_t)(l->free_idx + i) & (l->capacity - 1u)];
        STORE(&e->offset, f->seg_offset[i]);
        STORE(&e->len, (uint16_t)0);
        STORE(&e->flags, (uint8_t)0);
        STORE(&e->csum_offset, (uint8_t)0);
        STORE(&e->csum_start, (uint16_t)0);
        STORE(&e->gso_size, (uint16_t)0);
    }
    virtio_barrier();       /* the entries before the tail */
    l->free_idx = (uint16_t)(l->free_idx + f->count);
    STORE(&l->free_q->tail, l->free_idx);
    l->active_idx = (uint16_t)(l->active_idx + f->count);
    STORE(&l->active_q->head, l->active_idx);
    l->holding = false;
    l->moved = true;
    l->frames++;
    return NET_LINK_OK;
}

size_t net_link_frame_read(const struct net_link_frame *f, size_t offset, void *dst, size_t len)
{
    size_t done = 0;
    for (uint32_t i = 0; i < f->count && done < len; i++) {
        if (offset >= f->seg_len[i]) {
            offset -= f->seg_len[i];
            continue;
        }
        size_t n = f->seg_len[i] - offset;
        n = n < len - done ? n : len - done;
        memcpy((uint8_t *)dst + done, f->seg[i] + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

bool net_link_rx_notify_needed(struct net_link_end *l)
{
    return notify_needed(l, l->free_q);
}

bool net_link_rx_peer_state(struct net_link_end *l, bool *up)
{
    *up = l->peer_up;
    if (l->broken || !l->attached) {
        return false;
    }
    const struct net_link_header *h = (const struct net_link_header *)(void *)l->region;
    uint32_t epoch = LOAD(&h->link_epoch);
    if (epoch == l->epoch) {
        return false;
    }
    virtio_barrier();       /* the epoch before the state it announces */
    bool now_up = LOAD(&h->link_state) == NET_LINK_STATE_UP;
    l->epoch = epoch;
    bool changed = now_up != l->peer_up;
    l->peer_up = now_up;
    *up = now_up;
    /* A down and up again between two looks is a change too: the peer restarted. */
    return changed || now_up;
}

long net_link_rx_drop_all(struct net_link_end *l)
{
    long dropped = 0;
    for (;;) {
        const uint8_t *frame;
        uint32_t len;
        enum net_link_status st = net_link_rx_peek(l, &frame, &len);
        if (st == NET_LINK_EMPTY || st == NET_LINK_NOT_READY) {
            return dropped;
        }
        if (st == NET_LINK_ERROR || net_link_rx_release(l) == NET_LINK_ERROR) {
            return -1;
        }
        dropped++;
    }
}
