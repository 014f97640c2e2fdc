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

/* Writes the earliest wake-up (idle vCPUs, a pending restart) into the wake slot. */
void vmm_post_wake_deadline(struct vmm *vmm);

/* Stops every vCPU, flushes the emulated UARTs and prints the exit counters. */
void vmm_halt(struct vmm *vmm);
/* "VM '...' stopped: why", vmm_halt, then vmm_guest_stopped (the restart policy). */
void vmm_stop(struct vmm *vmm, uint32_t cause, const char *why);
/* Starts `vcpu` at pc with x0 (PSCI CPU_ON, or vCPU 0 at boot). */
bool vmm_start_vcpu(struct vmm *vmm, unsigned vcpu, uint64_t pc, uint64_t x0);
/* Places kernel, initrd and DTB in guest RAM from their pristine copies (at boot and at every
 * restart); false with a line in err. */
bool guest_images_place(struct vmm *vmm, uint64_t *copied, char *err, size_t err_size);
/* Places the images, sets up (`first`) or resets the devices and starts vCPU 0. */
bool vmm_boot(struct vmm *vmm, bool first, char *err, size_t err_size);
/* Before a restart: acks the interrupts the old guest never EOI'd. */
void vmm_release_held_interrupts(struct vmm *vmm);

/* restart.c: the life cycle. vmm_life_init starts the guest at init; vmm_guest_stopped is
 * called once the guest's vCPUs are stopped for `cause` (VMM_CAUSE_GUEST_*) and applies the
 * restart policy; vmm_life_notified takes the control channel, and every notification while
 * the guest is stopped (true when it took `ch`). */
void vmm_life_init(struct vmm *vmm);
void vmm_guest_stopped(struct vmm *vmm, uint32_t cause, const char *detail);
bool vmm_life_notified(struct vmm *vmm, unsigned ch);

/* exits.c: one vCPU exit (a fault message from the kernel); true to reply (resume it). */
seL4_Bool vmm_handle_exit(struct vmm *vmm, unsigned vcpu, microkit_msginfo msginfo,
                          microkit_msginfo *reply);
