/*
 * The VMM's virtio devices (config version 4, struct vmm_config_virtio): the glue between the
 * pure transport and device classes (virtio/) and the VMM's world — the vGIC, the network
 * links' shared rings and channels, a console's input UART. vmm.c calls it from its event loop.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vgic.h"
#include "vmm_config.h"

/* How the glue reaches the rest of the VMM (microkit_notify / microkit_irq_ack on the target). */
struct vmm_virtio_env {
    void (*notify)(unsigned channel);
    void (*irq_ack)(unsigned channel);
    const char *vm_name;
    struct vgic *vgic;
};

/* Sets up every device of the config: copies disk images into their regions, writes the
 * headers of the rings this VMM sends on and tells the peers. False with a line in err. */
bool vmm_virtio_init(const struct vmm_config *c, const struct vmm_virtio_env *env, char *err,
                     unsigned err_size);

enum vmm_virtio_access {
    VMM_VIRTIO_NOT_MINE,    /* the address is in no virtio window */
    VMM_VIRTIO_DONE,
    VMM_VIRTIO_GUEST_ERROR, /* the device is broken: stop the VM with vmm_virtio_report() */
};

/* A trapped guest access at guest-physical `addr`. */
enum vmm_virtio_access vmm_virtio_mmio(uint64_t addr, bool is_write, unsigned width,
                                       uint64_t *value);

/* A notification on `channel`: a link peer (frames or free buffers) or a console's UART.
 * True when it was one of ours; *guest_error set when serving it broke a device. */
bool vmm_virtio_notified(unsigned channel, bool *guest_error);

/* The guest EOI'd `intid`: a virtio line still asserted is raised again. True if it was ours. */
bool vmm_virtio_eoi(unsigned intid);

/* The report of the first broken device. */
const char *vmm_virtio_report(void);

/* One line per device with its counters (when the VM stops). */
void vmm_virtio_log_stats(void);
