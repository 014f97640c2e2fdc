/*
 * The virtio-mmio transport, version 2 only (virtio 1.2 §4.2.2 "MMIO Device Register Layout";
 * no legacy interface, §4.2.4). Pure: the VMM traps the guest's accesses to the device window
 * and calls virtio_mmio_access; the device class (virtio-net, -blk, -console) supplies the
 * device id, queues, configuration space and what a queue notification does.
 *
 * Errors: every guest-supplied value is checked before use. When the guest breaks the rules
 * (a bad register access, a queue outside guest RAM, a corrupt descriptor chain, ...) the
 * device records one decoded line (virtio_mmio_report), sets DEVICE_NEEDS_RESET (§2.1.2),
 * stops processing its rings, and the call that found it returns false (or VIRTQ_GUEST_ERROR),
 * so the VMM can stop the VM with that line. Writing 0 to Status (a reset, §2.4) clears the
 * broken state. The ring code (virtq.h) finds a queue's errors and returns them; this
 * transport records them.
 *
 * Interrupts (§4.2.2 InterruptStatus): bit 0 used buffer, bit 1 configuration change. The
 * device calls raise_irq(ctx) whenever a bit becomes set; the line is level-triggered, so the
 * VMM keeps the device's SPI pending while virtio_mmio_irq_pending() is true, and re-checks it
 * after each access (InterruptACK lowers it).
 */
#pragma once

#include "virtq.h"

/* Register offsets, §4.2.2 table "MMIO Device Register Layout". */
#define VIRTIO_MMIO_MAGIC_VALUE         0x000u
#define VIRTIO_MMIO_VERSION             0x004u
#define VIRTIO_MMIO_DEVICE_ID           0x008u
#define VIRTIO_MMIO_VENDOR_ID           0x00cu
#define VIRTIO_MMIO_DEVICE_FEATURES     0x010u
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014u
#define VIRTIO_MMIO_DRIVER_FEATURES     0x020u
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024u
#define VIRTIO_MMIO_QUEUE_SEL           0x030u
#define VIRTIO_MMIO_QUEUE_NUM_MAX       0x034u
#define VIRTIO_MMIO_QUEUE_NUM           0x038u
#define VIRTIO_MMIO_QUEUE_READY         0x044u
#define VIRTIO_MMIO_QUEUE_NOTIFY        0x050u
#define VIRTIO_MMIO_INTERRUPT_STATUS    0x060u
#define VIRTIO_MMIO_INTERRUPT_ACK       0x064u
#define VIRTIO_MMIO_STATUS              0x070u
#define VIRTIO_MMIO_QUEUE_DESC_LOW      0x080u
#define VIRTIO_MMIO_QUEUE_DESC_HIGH     0x084u
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW    0x090u
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH   0x094u
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW    0x0a0u
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH   0x0a4u
#define VIRTIO_MMIO_SHM_SEL             0x0acu
#define VIRTIO_MMIO_SHM_LEN_LOW         0x0b0u
#define VIRTIO_MMIO_SHM_LEN_HIGH        0x0b4u
#define VIRTIO_MMIO_SHM_BASE_LOW        0x0b8u
#define VIRTIO_MMIO_SHM_BASE_HIGH       0x0bcu
#define VIRTIO_MMIO_QUEUE_RESET         0x0c0u
#define VIRTIO_MMIO_CONFIG_GENERATION   0x0fcu
#define VIRTIO_MMIO_CONFIG              0x100u

/* The window one device decodes (QEMU's virt machine spaces them 0x200 apart). */
#define VIRTIO_MMIO_WINDOW_SIZE         0x200u
/* "virt" in memory order, §4.2.2 MagicValue. */
#define VIRTIO_MMIO_MAGIC               0x74726976u
#define VIRTIO_MMIO_VERSION_MODERN      2u
/* "SEL4" in memory order: any value is allowed (§4.2.2 VendorID). */
#define VIRTIO_MMIO_VENDOR              0x344c4553u

/* InterruptStatus bits, §4.2.2. */
#define VIRTIO_MMIO_INT_VRING           (1u << 0)
#define VIRTIO_MMIO_INT_CONFIG          (1u << 1)

#define VIRTIO_MAX_QUEUES               2u
#define VIRTIO_CONFIG_MAX               16u
#define VIRTIO_REPORT_SIZE              200u

struct virtio_mmio_dev;

/* What a device class tells the transport. */
struct virtio_queue_info {
    const char *name;       /* "rx", "tx", "requestq", ... (for reports) */
    uint16_t num_max;       /* QueueNumMax: a power of two <= VIRTQ_MAX_SIZE */
};

struct virtio_device_class {
    const char *name;       /* "virtio-net": leads every report */
    uint32_t device_id;     /* §5 */
    unsigned num_queues;    /* <= VIRTIO_MAX_QUEUES */
    const struct virtio_queue_info *queues;
    /* The driver notified queue `q` (ready, DRIVER_OK, not broken). False: guest error. */
    bool (*notify)(struct virtio_mmio_dev *d, unsigned q);
    /* DRIVER_OK was just set: process what the driver queued before (may be NULL). */
    bool (*driver_ok)(struct virtio_mmio_dev *d);
    /* The driver reset the device (§2.4): forget per-session state (may be NULL). */
    void (*reset)(struct virtio_mmio_dev *d);
};

struct virtio_mmio_dev {
    const struct virtio_device_class *cls;
    struct virtio_guest_mem mem;
    void (*raise_irq)(void *ctx);
    void *irq_ctx;
    uint64_t device_features;   /* VIRTIO_F_VERSION_1 and the class's */
    uint8_t config[VIRTIO_CONFIG_MAX];  /* device configuration space (read-only to the guest) */
    uint32_t config_size;
    /* Registers, §4.2.2 */
    uint32_t status;
    uint32_t device_features_sel;
    uint32_t driver_features_sel;
    uint64_t driver_features;
    bool driver_features_beyond_64; /* a non-zero DriverFeatures word with selector > 1 */
    uint32_t queue_sel;
    uint32_t interrupt_status;
    uint32_t config_generation;
    struct virtq queues[VIRTIO_MAX_QUEUES];
    unsigned long queue_notifies;   /* QueueNotify writes (each one a guest exit) */
    /* Per queue, the notify_slack (virtq.h) it gets when the driver makes it ready; the
     * device class sets it once, and a reset keeps it. */
    uint16_t notify_slack[VIRTIO_MAX_QUEUES];
    bool broken;
    char report[VIRTIO_REPORT_SIZE];
};

/* Sets up a device in its reset state. False when the class or the guest RAM description is
 * unusable (a VMM configuration bug: guest RAM must be 16-byte aligned on both sides). */
bool virtio_mmio_init(struct virtio_mmio_dev *d, const struct virtio_device_class *cls,
                      const struct virtio_guest_mem *mem, uint64_t class_features,
                      void (*raise_irq)(void *ctx), void *irq_ctx);

/*
 * A guest access at `offset` into the device window: registers take 32-bit aligned accesses
 * (§4.2.2.2), the configuration space (offset >= 0x100) 1-, 2- and 4-byte aligned ones.
 * Reserved registers and configuration bytes beyond the device's read as zero and ignore
 * writes. False: this access found a guest error (it was invalid itself, or the queue
 * notification or status change it caused found one, also inside a backend callback) and the
 * device is broken; the (first) line is in virtio_mmio_report(). A broken device answers
 * valid accesses normally but uses its rings no more until a reset (Status = 0).
 */
bool virtio_mmio_access(struct virtio_mmio_dev *d, uint64_t offset, bool is_write,
                        unsigned width, uint64_t *value);

/* True while InterruptStatus is non-zero: the level of the device's interrupt line. */
bool virtio_mmio_irq_pending(const struct virtio_mmio_dev *d);

bool virtio_mmio_broken(const struct virtio_mmio_dev *d);
const char *virtio_mmio_report(const struct virtio_mmio_dev *d);

/* True when the driver has set DRIVER_OK and the device is not broken: rings may be used. */
bool virtio_mmio_running(const struct virtio_mmio_dev *d);

/* True when the driver accepted feature `bit` (meaningful once FEATURES_OK is set). */
bool virtio_mmio_negotiated(const struct virtio_mmio_dev *d, unsigned bit);

/*
 * The device classes' access to their queues; the transport acts on what the ring code
 * (virtq.h) returns. virtio_mmio_next_chain: VIRTQ_OK with *out filled, VIRTQ_EMPTY when the
 * queue has nothing (or is not ready, or the driver is not running), VIRTQ_GUEST_ERROR when the
 * device is broken (also by this call, with the ring's reason in virtio_mmio_report).
 */
enum virtq_status virtio_mmio_next_chain(struct virtio_mmio_dev *d, unsigned q,
                                         struct virtq_chain *out);
/* Gives the chain last taken from queue q back: the next virtio_mmio_next_chain returns it. */
void virtio_mmio_unpop(struct virtio_mmio_dev *d, unsigned q);
/* Returns chain `head` of queue q to the driver with `written` bytes written (virtq_push) and
 * raises the used-buffer interrupt unless the driver suppressed it. False if the device is
 * broken or the queue is not ready (nothing written). */
bool virtio_mmio_complete(struct virtio_mmio_dev *d, unsigned q, uint16_t head,
                          uint32_t written);

/* Sets InterruptStatus bits and calls raise_irq when one was clear. */
void virtio_mmio_interrupt(struct virtio_mmio_dev *d, uint32_t bits);

/* The device changed its configuration space: bumps ConfigGeneration (§2.5.1) and, once the
 * driver is running, sends a configuration change notification (§4.2.3.3). */
void virtio_mmio_config_changed(struct virtio_mmio_dev *d);

/* Records a guest error: the report line (prefixed with the class name), DEVICE_NEEDS_RESET,
 * a configuration change notification when DRIVER_OK is set (§2.1.2). Returns false. Only the
 * first report is kept. */
bool virtio_mmio_fail(struct virtio_mmio_dev *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The register table (sorted by offset) and its name lookup, for tests and log lines. */
struct virtio_mmio_reg {
    uint32_t offset;
    const char *name;
    uint32_t (*read)(struct virtio_mmio_dev *d);            /* NULL: write-only, reads 0 */
    bool (*write)(struct virtio_mmio_dev *d, uint32_t v);   /* NULL: read-only, writes ignored;
                                                             * false: guest error */
};
const struct virtio_mmio_reg *virtio_mmio_regs(size_t *n);
const char *virtio_mmio_reg_name(uint64_t offset);
