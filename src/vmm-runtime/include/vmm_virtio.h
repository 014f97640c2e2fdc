/*
 * The VMM's virtio devices (config version 4, struct vmm_config_virtio): the glue between the
 * pure transport and device classes (virtio/) and the VMM's world: the vGIC, the network
 * links' shared rings and channels, a console's input UART, the MMIO bus. vmm.c calls it from
 * its event loop; its state is a struct vmm_virtio in the VM's struct vmm.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio_bus.h"
#include "net_link.h"
#include "vgic.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "virtio_net.h"
#include "vmm_config.h"

/* How the glue reaches the rest of the VMM (microkit_notify / microkit_irq_ack on the target). */
struct vmm_virtio_env {
    void (*notify)(unsigned channel);
    void (*irq_ack)(unsigned channel);
    const char *vm_name;
    struct vgic *vgic;
    /* How long sent chains may wait for an interrupt to ride on (physical-counter ticks;
     * vmm_virtio_exit_done): 0 returns them at the next exit. */
    uint64_t tx_hold_ticks;
};

struct vmm_virtio;

/* The ring capacity from which a network device offers checksum and segmentation offloads: a
 * 64 KiB frame takes NET_LINK_MAX_FRAME_BUFFERS buffers, and two of them fit. */
#define VMM_VIRTIO_OFFLOAD_MIN_CAPACITY (2u * NET_LINK_MAX_FRAME_BUFFERS)

/* How long sent chains wait at most for an interrupt to ride on (vmm_virtio_exit_done): long
 * enough for a link peer's acknowledgement to come back under QEMU TCG (with 1 ms, npm run
 * bench -- net saw half the holds run out and cost a timer round trip each), one tick of a
 * 250 Hz guest, and far below Linux's transmit watchdog (5 s). */
#define VMM_VIRTIO_TX_HOLD_US 4000u

/* One device of the config and what it is connected to. */
struct vmm_virtio_dev {
    struct vmm_virtio *owner;
    const struct vmm_config_virtio *cfg;
    char name[48];
    bool asserted;          /* the SPI is raised and not yet EOI'd */
    unsigned long irqs;     /* times the SPI was raised */
    unsigned long peer_notifies;    /* net: notifications sent to the link's peer */
    unsigned long accesses;         /* guest accesses to its window (each one an exit) */
    union {
        struct virtio_net net;
        struct virtio_blk blk;
        struct virtio_console con;
    } u;
    /* net */
    struct net_link_end tx, rx;
    bool tx_held;               /* sent chains wait (vmm_virtio_exit_done) ... */
    uint64_t tx_hold_until;     /* ... and go back by then */
    bool link_broken;
    /* console */
    volatile uint32_t *uart;
    bool at_line_start;
};

struct vmm_virtio {
    struct vmm_virtio_env env;
    unsigned count;
    struct vmm_virtio_dev devs[VMM_CONFIG_MAX_VIRTIO];
    bool tx_kick;           /* the exit being handled is a virtio-net transmit notification */
    char report[VIRTIO_REPORT_SIZE + 64];   /* the first broken device's line */
    uint64_t disk_bytes_copied;             /* by the last init: disk images copied from the ELF */
};

/* Registers each device's window (VMM_CONFIG_VIRTIO_WINDOW bytes) on the MMIO bus; an access
 * that breaks a device stops the VM with the device's report. False with a line in err on an
 * overlap. */
bool vmm_virtio_register(struct vmm_virtio *vv, const struct vmm_config *c, struct mmio_bus *bus,
                         char *err, size_t err_size);

/* Sets up every device of the config: copies disk images into their regions (those not
 * prefilled; counted in disk_bytes_copied), writes the
 * headers of the rings this VMM sends on and tells the peers. False with a line in err. */
bool vmm_virtio_init(struct vmm_virtio *vv, const struct vmm_config *c,
                     const struct vmm_virtio_env *env, char *err, unsigned err_size);

/* After a guest restart: every guest-facing device reset as at boot (the disk keeps what was
 * written), the links' rings kept, frames waiting for the old guest dropped, our side of each
 * link announced up again (net_link.h version 2) and the peers told. */
bool vmm_virtio_reset(struct vmm_virtio *vv, const struct vmm_config *c,
                      const struct vmm_virtio_env *env, char *err, unsigned err_size);

/* The guest stopped: our side of each link is announced down, frames waiting are dropped. */
void vmm_virtio_guest_down(struct vmm_virtio *vv);

/* A notification on `channel` while the guest is stopped: a link peer's frames are dropped
 * (their buffers go back). True when it was one of ours. */
bool vmm_virtio_notified_down(struct vmm_virtio *vv, unsigned channel);

/* A notification on `channel`: a link peer (frames or free buffers) or a console's UART.
 * True when it was one of ours; *guest_error set when serving it broke a device. */
bool vmm_virtio_notified(struct vmm_virtio *vv, unsigned channel, bool *guest_error);

/*
 * A vCPU exit was handled at physical-counter time `now` (or the timer PD signalled): the
 * network devices send what the guest queued since (transmit polling, virtio_net_tx_poll) and
 * tell their link's peer once. The chains they sent go back to the driver (virtio_net_tx_return)
 * when that costs no interrupt of its own, or at the latest env.tx_hold_ticks after they were
 * first held: now, if the device's interrupt is still pending with the guest (it has not
 * acknowledged it: it will see them in the same round); with a received frame (virtio_net_rx);
 * or once the hold has passed (not at the exit of a transmit notification). So a sender's
 * completions ride on the interrupt of the acknowledgements it receives instead of costing an
 * interrupt (three exits and a wake-up) of their own. False when that found a guest error (the
 * report is in vmm_virtio_report).
 */
bool vmm_virtio_exit_done(struct vmm_virtio *vv, uint64_t now);

/* A vCPU is about to sleep (WFI/WFE) at `now`: vmm_virtio_exit_done, and *wake = when held
 * chains must go back (the vCPU's wake-up deadline then), WAKE_NEVER when none are held. */
bool vmm_virtio_idle(struct vmm_virtio *vv, uint64_t now, uint64_t *wake);

/* The guest EOI'd `intid`: a virtio line still asserted is raised again. True if it was ours. */
bool vmm_virtio_eoi(struct vmm_virtio *vv, unsigned intid);

/* The report of the first broken device. */
const char *vmm_virtio_report(const struct vmm_virtio *vv);

/* One line per device with its counters (when the VM stops). */
void vmm_virtio_log_stats(const struct vmm_virtio *vv);

/* One counters line per device (vmm_counters_log, vmm.h). */
void vmm_virtio_log_counters(const struct vmm_virtio *vv, const char *label);
