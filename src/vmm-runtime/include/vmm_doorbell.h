/*
 * The VM's doorbells (docs/doorbell.md): its channels to peers (native PDs or other VMs) as
 * lines of one emulated PL061 GPIO controller. The guest writing 1 to a ring line notifies
 * that channel; a notification on the channel is a rising edge on its notify line, and the
 * PL061's interrupt (level, while any enabled edge is latched) goes to the vGIC.
 *
 * Pure apart from the notify callback, so the host tests drive it (test_doorbell.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio_bus.h"
#include "pl061_emul.h"
#include "vgic.h"
#include "vmm_config.h"

struct vmm_doorbells {
    const struct vmm_config *config;
    void (*notify)(unsigned channel);   /* microkit_notify in the VMM */
    struct vgic *vgic;
    struct pl061 gpio;
    bool present;                       /* the config has a PL061 */
    unsigned intid;
    unsigned long rings, notifications; /* counted for the VM's stop line */
};

/* Finds the VM's PL061 in the config, resets it and registers its window on the bus. True
 * without a PL061 (nothing to do); false with a line in err on an overlap. */
bool vmm_doorbells_register(struct vmm_doorbells *db, const struct vmm_config *config,
                            void (*notify)(unsigned channel), struct vgic *vgic,
                            struct mmio_bus *bus, char *err, size_t err_size);

/* Back to the reset state (every line an input, interrupts off), as at a guest's reset. */
void vmm_doorbells_reset(struct vmm_doorbells *db);

/* A notification on `channel`: true when it is a doorbell's (its notify line pulses). */
bool vmm_doorbells_notified(struct vmm_doorbells *db, unsigned channel);

/* The guest EOI'd `intid`: true if it is the PL061's (raised again while still asserted). */
bool vmm_doorbells_eoi(struct vmm_doorbells *db, unsigned intid);
