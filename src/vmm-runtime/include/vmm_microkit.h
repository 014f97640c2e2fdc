/*
 * The VMM program's Microkit side: what vmm.c (the event loop: init, notified, fault, and the
 * VM's life cycle) shares with exits.c (what each kind of guest exit does). Each function takes
 * the VM (struct vmm, vmm.h) explicitly. Needs microkit.h, so only the target build sees it;
 * the pure modules under lib/, gic/, arch/, dev/ and virtio/ never do.
 */
#pragma once

#include <microkit.h>

#include "vmm.h"

/* The Microkit child id of vCPU index `vcpu`. */
unsigned vmm_vcpu_id(const struct vmm *vmm, unsigned vcpu);
/* General-purpose register `n` of a seL4_UserContext (x0..x30), NULL for 31 (XZR). */
seL4_Word *vmm_user_reg(seL4_UserContext *c, unsigned n);
bool vmm_read_regs(const struct vmm *vmm, unsigned vcpu, seL4_UserContext *ctx);
bool vmm_write_regs(const struct vmm *vmm, unsigned vcpu, seL4_UserContext *ctx, bool resume);

/* Whether idle vCPUs are suspended until they have something to do (VMM_CONFIG_FLAG_IDLE_BLOCK). */
bool vmm_idle_blocks(const struct vmm *vmm);
/* The physical counter, CNTPCT_EL0. */
uint64_t vmm_counter_now(void);
/* When the guest's virtual timer of `vcpu` fires (vmm_wake.h); `now` if that cannot be told. */
uint64_t vmm_vtimer_deadline(const struct vmm *vmm, unsigned vcpu, uint64_t now);

/* Stops every vCPU, flushes the emulated UARTs and prints the exit counters. */
void vmm_halt(struct vmm *vmm);
/* "VM '...' stopped: why", then vmm_halt. */
void vmm_stop(struct vmm *vmm, const char *why);
/* Starts `vcpu` at pc with x0 (PSCI CPU_ON, or vCPU 0 at boot). */
bool vmm_start_vcpu(struct vmm *vmm, unsigned vcpu, uint64_t pc, uint64_t x0);
/* Loads the images, sets up the devices and starts vCPU 0 (at start-up and at SYSTEM_RESET). */
bool vmm_boot(struct vmm *vmm);
/* Before a restart: acks the interrupts the old guest never EOI'd. */
void vmm_release_held_interrupts(struct vmm *vmm);

/* exits.c: one vCPU exit (a fault message from the kernel); true to reply (resume it). */
seL4_Bool vmm_handle_exit(struct vmm *vmm, unsigned vcpu, microkit_msginfo msginfo,
                          microkit_msginfo *reply);
