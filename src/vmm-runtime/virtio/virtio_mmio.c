/*
 * The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2): a sorted register table, a
 * dispatcher that checks the window, width and alignment before any handler runs, the
 * configuration space, feature negotiation (§2.2, §3.1.1) and the status state machine (§2.1).
 */
#include "virtio_mmio.h"

#include <stdarg.h>

#include "vmm_fmt.h"
#include "vmm_string.h"

/* Status bits the driver may set (§2.1); DEVICE_NEEDS_RESET is the device's. */
#define STATUS_DRIVER_BITS (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER \
                            | VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK \
                            | VIRTIO_STATUS_FAILED)

bool virtio_mmio_fail(struct virtio_mmio_dev *d, const char *fmt, ...)
{
    if (!d->broken) {
        int n = vmm_snprintf(d->report, sizeof(d->report), "%s ", d->cls->name);
        va_list ap;
        va_start(ap, fmt);
        vmm_vsnprintf(d->report + n, sizeof(d->report) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    d->broken = true;
    d->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    /* §2.1.2: with DRIVER_OK set, DEVICE_NEEDS_RESET comes with a config change notification. */
    if (d->status & VIRTIO_STATUS_DRIVER_OK) {
        virtio_mmio_interrupt(d, VIRTIO_MMIO_INT_CONFIG);
    }
    return false;
}

void virtio_mmio_interrupt(struct virtio_mmio_dev *d, uint32_t bits)
{
    uint32_t before = d->interrupt_status;
    d->interrupt_status |= bits;
    if (d->interrupt_status != before && d->raise_irq != NULL) {
        d->raise_irq(d->irq_ctx);
    }
}

void virtio_mmio_config_changed(struct virtio_mmio_dev *d)
{
    d->config_generation++;
    if (d->status & VIRTIO_STATUS_DRIVER_OK) {
        virtio_mmio_interrupt(d, VIRTIO_MMIO_INT_CONFIG);
    }
}

bool virtio_mmio_irq_pending(const struct virtio_mmio_dev *d)
{
    return d->interrupt_status != 0;
}

bool virtio_mmio_broken(const struct virtio_mmio_dev *d)
{
    return d->broken;
}

const char *virtio_mmio_report(const struct virtio_mmio_dev *d)
{
    return d->report;
}

bool virtio_mmio_running(const struct virtio_mmio_dev *d)
{
    return !d->broken && (d->status & VIRTIO_STATUS_DRIVER_OK) != 0;
}

bool virtio_mmio_negotiated(const struct virtio_mmio_dev *d, unsigned bit)
{
    return bit < 64 && (d->status & VIRTIO_STATUS_FEATURES_OK) != 0
           && (d->driver_features >> bit) & 1u;
}

/* ---------------------------------------------------------------- queues */

static const char *queue_name(const struct virtio_mmio_dev *d, unsigned q)
{
    return q < d->cls->num_queues ? d->cls->queues[q].name : "?";
}

/* A guest error the ring code found on queue q: the device breaks with its reason. */
static bool queue_fail(struct virtio_mmio_dev *d, unsigned q, const char *why)
{
    return virtio_mmio_fail(d, "queue %u (%s): %s", q, queue_name(d, q), why);
}

enum virtq_status virtio_mmio_next_chain(struct virtio_mmio_dev *d, unsigned q,
                                         struct virtq_chain *out)
{
    if (d->broken) {
        return VIRTQ_GUEST_ERROR;
    }
    if (q >= d->cls->num_queues || !d->queues[q].ready || !virtio_mmio_running(d)) {
        return VIRTQ_EMPTY;
    }
    char why[VIRTIO_REPORT_SIZE];
    enum virtq_status st = virtq_pop(&d->queues[q], &d->mem, out, why, sizeof(why));
    if (st == VIRTQ_GUEST_ERROR) {
        queue_fail(d, q, why);
    }
    return st;
}

void virtio_mmio_unpop(struct virtio_mmio_dev *d, unsigned q)
{
    if (q < d->cls->num_queues) {
        virtq_unpop(&d->queues[q]);
    }
}

bool virtio_mmio_complete(struct virtio_mmio_dev *d, unsigned q, uint16_t head,
                          uint32_t written)
{
    if (d->broken || q >= d->cls->num_queues) {
        return false;
    }
    enum virtq_status st = virtq_push(&d->queues[q], head, written);
    if (st == VIRTQ_INTERRUPT) {
        virtio_mmio_interrupt(d, VIRTIO_MMIO_INT_VRING);
    }
    return st == VIRTQ_OK || st == VIRTQ_INTERRUPT;
}

/* §2.4 device reset: everything the driver set up is forgotten; the device's identity,
 * features and configuration stay. */
static void virtio_mmio_reset(struct virtio_mmio_dev *d)
{
    d->status = 0;
    d->device_features_sel = 0;
    d->driver_features_sel = 0;
    d->driver_features = 0;
    d->driver_features_beyond_64 = false;
    d->queue_sel = 0;
    d->interrupt_status = 0;
    memset(d->queues, 0, sizeof(d->queues));
    d->broken = false;
    d->report[0] = '\0';
    if (d->cls->reset != NULL) {
        d->cls->reset(d);
    }
}

bool virtio_mmio_init(struct virtio_mmio_dev *d, const struct virtio_device_class *cls,
                      const struct virtio_guest_mem *mem, uint64_t class_features,
                      void (*raise_irq)(void *ctx), void *irq_ctx)
{
    memset(d, 0, sizeof(*d));
    d->cls = cls;
    if (cls == NULL || cls->num_queues > VIRTIO_MAX_QUEUES || cls->notify == NULL
        || mem == NULL || mem->host_base == NULL || mem->size == 0
        || mem->gpa_base % VIRTQ_DESC_ALIGN != 0
        || (uintptr_t)mem->host_base % VIRTQ_DESC_ALIGN != 0) {
        return false;
    }
    for (unsigned q = 0; q < cls->num_queues; q++) {
        uint16_t m = cls->queues[q].num_max;
        if (m == 0 || (m & (m - 1u)) != 0 || m > VIRTQ_MAX_SIZE) {
            return false;
        }
    }
    d->mem = *mem;
    d->raise_irq = raise_irq;
    d->irq_ctx = irq_ctx;
    d->device_features = VIRTIO_FEATURE(VIRTIO_F_VERSION_1) | VIRTIO_FEATURE(VIRTIO_F_EVENT_IDX)
                         | class_features;
    virtio_mmio_reset(d);
    return true;
}

/* ---------------------------------------------------------------- register handlers */

static struct virtq *selected_queue(struct virtio_mmio_dev *d)
{
    return d->queue_sel < d->cls->num_queues ? &d->queues[d->queue_sel] : NULL;
}

/* Queue layout registers take effect only while the queue is not ready (§4.2.3.2 sets them
 * up before QueueReady); later writes are ignored. */
static struct virtq *settable_queue(struct virtio_mmio_dev *d)
{
    struct virtq *q = selected_queue(d);
    return q != NULL && !q->ready ? q : NULL;
}

static uint32_t rd_magic(struct virtio_mmio_dev *d) { (void)d; return VIRTIO_MMIO_MAGIC; }
static uint32_t rd_version(struct virtio_mmio_dev *d) { (void)d; return VIRTIO_MMIO_VERSION_MODERN; }
static uint32_t rd_device_id(struct virtio_mmio_dev *d) { return d->cls->device_id; }
static uint32_t rd_vendor_id(struct virtio_mmio_dev *d) { (void)d; return VIRTIO_MMIO_VENDOR; }
static uint32_t rd_all_ones(struct virtio_mmio_dev *d) { (void)d; return 0xffffffffu; }
static uint32_t rd_zero(struct virtio_mmio_dev *d) { (void)d; return 0; }
static uint32_t rd_interrupt_status(struct virtio_mmio_dev *d) { return d->interrupt_status; }
static uint32_t rd_status(struct virtio_mmio_dev *d) { return d->status; }
static uint32_t rd_config_generation(struct virtio_mmio_dev *d) { return d->config_generation; }

static uint32_t rd_device_features(struct virtio_mmio_dev *d)
{
    if (d->device_features_sel > 1) {
        return 0;
    }
    return (uint32_t)(d->device_features >> (32u * d->device_features_sel));
}

static uint32_t rd_queue_num_max(struct virtio_mmio_dev *d)
{
    /* §4.2.2 QueueNumMax: zero for a queue that is not available. */
    return d->queue_sel < d->cls->num_queues ? d->cls->queues[d->queue_sel].num_max : 0;
}

static uint32_t rd_queue_ready(struct virtio_mmio_dev *d)
{
    struct virtq *q = selected_queue(d);
    return q != NULL && q->ready ? 1u : 0u;
}

static bool wr_device_features_sel(struct virtio_mmio_dev *d, uint32_t v)
{
    d->device_features_sel = v;
    return true;
}

static bool wr_driver_features(struct virtio_mmio_dev *d, uint32_t v)
{
    /* §3.1.1: features are final once FEATURES_OK is set. */
    if (d->status & VIRTIO_STATUS_FEATURES_OK) {
        return true;
    }
    if (d->driver_features_sel > 1) {
        d->driver_features_beyond_64 |= v != 0;
        return true;
    }
    unsigned shift = 32u * d->driver_features_sel;
    d->driver_features = (d->driver_features & ~(0xffffffffull << shift)) | ((uint64_t)v << shift);
    return true;
}

static bool wr_driver_features_sel(struct virtio_mmio_dev *d, uint32_t v)
{
    d->driver_features_sel = v;
    return true;
}

static bool wr_queue_sel(struct virtio_mmio_dev *d, uint32_t v)
{
    d->queue_sel = v;
    return true;
}

static bool wr_queue_num(struct virtio_mmio_dev *d, uint32_t v)
{
    struct virtq *q = settable_queue(d);
    if (q != NULL) {
        q->num = v;
    }
    return true;
}

static bool wr_queue_ready(struct virtio_mmio_dev *d, uint32_t v)
{
    struct virtq *q = selected_queue(d);
    if (q == NULL) {
        return true;
    }
    if ((v & 1u) == 0) {
        q->ready = false;
        return true;
    }
    if (q->ready) {
        return true;
    }
    char why[VIRTIO_REPORT_SIZE];
    if (virtq_make_ready(q, d->cls->queues[d->queue_sel].num_max, &d->mem, why, sizeof(why))
        != VIRTQ_OK) {
        return queue_fail(d, d->queue_sel, why);
    }
    q->event_idx = virtio_mmio_negotiated(d, VIRTIO_F_EVENT_IDX);
    uint16_t slack = d->notify_slack[d->queue_sel];
    q->notify_slack = slack < q->num ? slack : (uint16_t)(q->num - 1u);
    return true;
}

static bool wr_queue_notify(struct virtio_mmio_dev *d, uint32_t v)
{
    /* §2.1.2: no buffers are used before DRIVER_OK (the driver_ok hook catches up); without
     * VIRTIO_F_NOTIFICATION_DATA the value is the queue index (§4.2.2). */
    d->queue_notifies++;
    if (!virtio_mmio_running(d) || v >= d->cls->num_queues || !d->queues[v].ready) {
        return true;
    }
    return d->cls->notify(d, v);
}

static bool wr_interrupt_ack(struct virtio_mmio_dev *d, uint32_t v)
{
    d->interrupt_status &= ~v;
    return true;
}

/* §2.2.1 / §3.1.1 step 5: FEATURES_OK sticks only for a subset of what was offered, and a
 * modern device needs VIRTIO_F_VERSION_1 (§6.1). */
static bool features_acceptable(const struct virtio_mmio_dev *d)
{
    return (d->driver_features & ~d->device_features) == 0 && !d->driver_features_beyond_64
           && (d->driver_features & VIRTIO_FEATURE(VIRTIO_F_VERSION_1)) != 0;
}

static bool wr_status(struct virtio_mmio_dev *d, uint32_t v)
{
    if (v == 0) {
        virtio_mmio_reset(d);       /* §4.2.2 Status: writing zero resets the device */
        return true;
    }
    /* §2.1.1: the driver never clears a bit other than by a reset; keep what was set. */
    uint32_t added = v & STATUS_DRIVER_BITS & ~d->status;
    if ((added & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(d)) {
        added &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    uint32_t next = d->status | added;
    if ((added & VIRTIO_STATUS_DRIVER_OK) && !(next & VIRTIO_STATUS_FEATURES_OK)) {
        return virtio_mmio_fail(d, "status 0x%x: DRIVER_OK without FEATURES_OK "
                                "(virtio 1.2, 3.1.1)", v);
    }
    d->status = next;
    if ((added & VIRTIO_STATUS_DRIVER_OK) && !d->broken && d->cls->driver_ok != NULL) {
        return d->cls->driver_ok(d);
    }
    return true;
}

#define Q_FIELD_WRITER(fn, field, shift)                                                 \
    static bool fn(struct virtio_mmio_dev *d, uint32_t v)                                \
    {                                                                                    \
        struct virtq *q = settable_queue(d);                                             \
        if (q != NULL) {                                                                 \
            q->field = (q->field & ~(0xffffffffull << (shift))) | ((uint64_t)v << (shift)); \
        }                                                                                \
        return true;                                                                     \
    }
Q_FIELD_WRITER(wr_desc_low, desc_gpa, 0)
Q_FIELD_WRITER(wr_desc_high, desc_gpa, 32)
Q_FIELD_WRITER(wr_driver_low, driver_gpa, 0)
Q_FIELD_WRITER(wr_driver_high, driver_gpa, 32)
Q_FIELD_WRITER(wr_device_low, device_gpa, 0)
Q_FIELD_WRITER(wr_device_high, device_gpa, 32)

static bool wr_ignore(struct virtio_mmio_dev *d, uint32_t v)
{
    (void)d;
    (void)v;
    return true;
}

/* §4.2.2, sorted by offset. SHM*: no shared memory regions (a length of -1, §4.2.2);
 * QueueReset: VIRTIO_F_RING_RESET is not offered, so it reads as zero. */
static const struct virtio_mmio_reg regs[] = {
    { VIRTIO_MMIO_MAGIC_VALUE,         "MagicValue",        rd_magic,             NULL },
    { VIRTIO_MMIO_VERSION,             "Version",           rd_version,           NULL },
    { VIRTIO_MMIO_DEVICE_ID,           "DeviceID",          rd_device_id,         NULL },
    { VIRTIO_MMIO_VENDOR_ID,           "VendorID",          rd_vendor_id,         NULL },
    { VIRTIO_MMIO_DEVICE_FEATURES,     "DeviceFeatures",    rd_device_features,   NULL },
    { VIRTIO_MMIO_DEVICE_FEATURES_SEL, "DeviceFeaturesSel", NULL, wr_device_features_sel },
    { VIRTIO_MMIO_DRIVER_FEATURES,     "DriverFeatures",    NULL, wr_driver_features },
    { VIRTIO_MMIO_DRIVER_FEATURES_SEL, "DriverFeaturesSel", NULL, wr_driver_features_sel },
    { VIRTIO_MMIO_QUEUE_SEL,           "QueueSel",          NULL, wr_queue_sel },
    { VIRTIO_MMIO_QUEUE_NUM_MAX,       "QueueNumMax",       rd_queue_num_max,     NULL },
    { VIRTIO_MMIO_QUEUE_NUM,           "QueueNum",          NULL, wr_queue_num },
    { VIRTIO_MMIO_QUEUE_READY,         "QueueReady",        rd_queue_ready,       wr_queue_ready },
    { VIRTIO_MMIO_QUEUE_NOTIFY,        "QueueNotify",       NULL, wr_queue_notify },
    { VIRTIO_MMIO_INTERRUPT_STATUS,    "InterruptStatus",   rd_interrupt_status,  NULL },
    { VIRTIO_MMIO_INTERRUPT_ACK,       "InterruptACK",      NULL, wr_interrupt_ack },
    { VIRTIO_MMIO_STATUS,              "Status",            rd_status,            wr_status },
    { VIRTIO_MMIO_QUEUE_DESC_LOW,      "QueueDescLow",      NULL, wr_desc_low },
    { VIRTIO_MMIO_QUEUE_DESC_HIGH,     "QueueDescHigh",     NULL, wr_desc_high },
    { VIRTIO_MMIO_QUEUE_DRIVER_LOW,    "QueueDriverLow",    NULL, wr_driver_low },
    { VIRTIO_MMIO_QUEUE_DRIVER_HIGH,   "QueueDriverHigh",   NULL, wr_driver_high },
    { VIRTIO_MMIO_QUEUE_DEVICE_LOW,    "QueueDeviceLow",    NULL, wr_device_low },
    { VIRTIO_MMIO_QUEUE_DEVICE_HIGH,   "QueueDeviceHigh",   NULL, wr_device_high },
    { VIRTIO_MMIO_SHM_SEL,             "SHMSel",            NULL, wr_ignore },
    { VIRTIO_MMIO_SHM_LEN_LOW,         "SHMLenLow",         rd_all_ones,          NULL },
    { VIRTIO_MMIO_SHM_LEN_HIGH,        "SHMLenHigh",        rd_all_ones,          NULL },
    { VIRTIO_MMIO_SHM_BASE_LOW,        "SHMBaseLow",        rd_all_ones,          NULL },
    { VIRTIO_MMIO_SHM_BASE_HIGH,       "SHMBaseHigh",       rd_all_ones,          NULL },
    { VIRTIO_MMIO_QUEUE_RESET,         "QueueReset",        rd_zero,              wr_ignore },
    { VIRTIO_MMIO_CONFIG_GENERATION,   "ConfigGeneration",  rd_config_generation, NULL },
};

const struct virtio_mmio_reg *virtio_mmio_regs(size_t *n)
{
    *n = sizeof(regs) / sizeof(regs[0]);
    return regs;
}

static const struct virtio_mmio_reg *find_reg(uint64_t offset)
{
    size_t lo = 0;
    size_t hi = sizeof(regs) / sizeof(regs[0]);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (offset < regs[mid].offset) {
            hi = mid;
        } else if (offset > regs[mid].offset) {
            lo = mid + 1;
        } else {
            return &regs[mid];
        }
    }
    return NULL;
}

const char *virtio_mmio_reg_name(uint64_t offset)
{
    if (offset >= VIRTIO_MMIO_CONFIG && offset < VIRTIO_MMIO_WINDOW_SIZE) {
        return "config";
    }
    const struct virtio_mmio_reg *r = find_reg(offset);
    return r != NULL ? r->name : "reserved";
}

/* §2.5 / §4.2.2.2: configuration fields are little-endian, accessed at their own width. The
 * fields this runtime exposes are all read-only to the driver (§5.1.4.2, §5.2.4), so writes
 * are ignored; bytes beyond the device's configuration read as zero. */
static void config_access(struct virtio_mmio_dev *d, uint64_t offset, bool is_write,
                          unsigned width, uint64_t *value)
{
    if (is_write) {
        return;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        uint64_t at = offset + i;
        if (at < d->config_size) {
            v |= (uint64_t)d->config[at] << (8u * i);
        }
    }
    *value = v;
}

/* One access; false on a guest error it found. */
static bool mmio_dispatch(struct virtio_mmio_dev *d, uint64_t offset, bool is_write,
                          unsigned width, uint64_t *value)
{
    const char *what = is_write ? "write" : "read";
    if ((width != 1 && width != 2 && width != 4 && width != 8)
        || offset >= VIRTIO_MMIO_WINDOW_SIZE || offset % width != 0) {
        return virtio_mmio_fail(d, "window: %u-byte %s at offset 0x%llx is misaligned or "
                                "outside the 0x%x-byte window", width, what,
                                (unsigned long long)offset, VIRTIO_MMIO_WINDOW_SIZE);
    }
    if (offset >= VIRTIO_MMIO_CONFIG) {
        if (width == 8) {
            return virtio_mmio_fail(d, "config: 8-byte %s at offset 0x%llx; the driver uses "
                                    "1-, 2- and 4-byte accesses (virtio 1.2, 4.2.2.2)", what,
                                    (unsigned long long)offset);
        }
        config_access(d, offset - VIRTIO_MMIO_CONFIG, is_write, width, value);
        return true;
    }
    const struct virtio_mmio_reg *r = find_reg(offset);
    if (width != 4) {
        return virtio_mmio_fail(d, "register %s (0x%03llx): %u-byte %s; registers take "
                                "32-bit accesses (virtio 1.2, 4.2.2.2)",
                                r != NULL ? r->name : "reserved", (unsigned long long)offset,
                                width, what);
    }
    if (is_write) {
        return r == NULL || r->write == NULL || r->write(d, (uint32_t)*value);
    }
    *value = r != NULL && r->read != NULL ? r->read(d) : 0;
    return true;
}

bool virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t offset, bool is_write,
                        unsigned width, uint64_t *value)
{
    /* A guest error found anywhere during the access (also in a backend callback the device
     * made, e.g. rx_ready delivering frames into bad receive buffers) fails the access. */
    bool was_broken = d->broken;
    bool ok = mmio_dispatch(d, offset, is_write, width, value);
    return ok && (was_broken || !d->broken);
}
