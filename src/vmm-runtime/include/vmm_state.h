/*
 * What vmm.c (the event loop: init, notified, fault, and the VM's life cycle) shares with
 * exits.c (what each kind of guest exit does). Private to the VMM program: the pure modules
 * under lib/, gic/, arch/, dev/ and virtio/ never see it.
 */
#pragma once

#include <microkit.h>

#include "pl011_emul.h"
#include "psci.h"
#include "vcpu_idle.h"
#include "vgic.h"
#include "vmm_config.h"

/* VM exits by kind, printed when the VM stops (the benchmark reads this line). */
struct vmm_exits {
    unsigned long mmio, smc_hvc, wfx, sysreg, maintenance, vppi, irq;
};

extern const struct vmm_config *config;
extern const char *vm_name;
extern bool vm_running;
extern struct vgic vgic;
extern struct psci_vm psci;
extern struct pl011 uarts[VMM_CONFIG_MAX_DEVICES];
extern struct vcpu_idle idle;
extern struct vmm_exits exits;
/* One period of Linux's event stream (arch_timer_evtstrm, 10 kHz), in counter ticks. */
extern uint64_t wfe_slice;

/* The Microkit child id of vCPU index `vcpu`. */
unsigned vcpu_id(unsigned vcpu);
/* General-purpose register `n` of a seL4_UserContext (x0..x30), NULL for 31 (XZR). */
seL4_Word *user_reg(seL4_UserContext *c, unsigned n);
bool read_regs(unsigned vcpu, seL4_UserContext *ctx);
bool write_regs(unsigned vcpu, seL4_UserContext *ctx, bool resume);

bool idle_blocks(void);
uint64_t counter_now(void);
uint64_t vtimer_deadline(unsigned vcpu, uint64_t now);
void post_wake_deadline(void);

void halt_vcpus(void);
void stop_vm(const char *why);
bool start_vcpu(unsigned vcpu, uint64_t pc, uint64_t x0);
bool boot_vm(void);
void release_held_interrupts(void);

/* exits.c: one vCPU exit (a fault message from the kernel); true to reply (resume it). */
seL4_Bool vmm_handle_exit(unsigned vcpu, microkit_msginfo msginfo, microkit_msginfo *reply);
