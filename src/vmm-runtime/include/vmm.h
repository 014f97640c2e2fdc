/*
 * One virtual machine as its VMM sees it: the state every handler of vmm.c and exits.c works
 * on, passed to each explicitly (there is one struct vmm per VMM program, in vmm.c). Pure:
 * nothing here needs microkit.h, so the host tests build it too.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmio_bus.h"
#include "pl011_emul.h"
#include "psci.h"
#include "vcpu_idle.h"
#include "vgic.h"
#include "vmm_doorbell.h"
#include "vmm_config.h"
#include "vmm_lifecycle.h"
#include "vmm_virtio.h"

/* The vCPU registers seL4 keeps for a guest (seL4_VCPUReg_*, fewer than this on every
 * release), as the kernel first gave them: restored at each vCPU start, so a restarted guest
 * starts from the same state as the first (vmm.c checks the bound). */
#define VMM_VCPU_REG_SLOTS 32u

/* VM exits by kind, printed when the VM stops (the benchmark reads this line). */
struct vmm_exits {
    unsigned long mmio, smc_hvc, wfx, sysreg, maintenance, vppi, irq;
    unsigned long maintenance_vtimer;   /* of `maintenance`: the virtual timer's EOIs */
};

/* What else the VMM does for its VM, counted for the counters line (vmm_counters_log). */
struct vmm_events {
    unsigned long notify_in;        /* notifications received (timer PD, links, IRQs) */
    unsigned long notify_out;       /* notifications sent (link peers, the timer PD) */
    unsigned long resumes;          /* suspended vCPUs resumed */
    unsigned long notify_in_timer;  /* of notify_in: the timer PD's (a deadline passed) */
    unsigned long notify_out_timer; /* of notify_out: to the timer PD (an earlier deadline) */
};

/* An emulated PL011 and where its interrupt goes. */
struct vmm_uart {
    struct pl011 pl011;
    struct vgic *vgic;
    unsigned intid;     /* 0: no interrupt */
    unsigned long accesses;     /* trapped accesses (each one an exit) */
};

struct vmm {
    const struct vmm_config *config;    /* the checked blob; NULL when it was refused */
    const char *name;                   /* the VM's, for log lines */
    bool running;
    bool booted;                        /* guest RAM holds a run: images placed again come from copies */
    struct vgic vgic;
    struct psci_vm psci;
    struct vmm_uart uarts[VMM_CONFIG_MAX_DEVICES];
    struct vmm_virtio virtio;
    struct vmm_doorbells doorbells;     /* channels to peers as PL061 lines (docs/doorbell.md) */
    struct mmio_bus bus;                /* every emulated frame: a stage-2 fault's lookup */
    struct vcpu_idle idle;
    struct vmm_exits exits;
    struct vmm_events events;
    /* One period of Linux's event stream (arch_timer_evtstrm, 10 kHz), in counter ticks. */
    uint64_t wfe_slice;
    /* Per vCPU: its seL4 VCPU registers as the kernel set them up, restored at each start. */
    uint64_t initial_regs[VMM_CONFIG_MAX_VCPUS][VMM_VCPU_REG_SLOTS];
    /* The life cycle (restart policy, control; restart.c), a pending restart's physical-counter
     * deadline (WAKE_NEVER: none) and the passthrough IRQ channels notified while the guest
     * was stopped (bit per channel), acked when it starts again. */
    struct vmm_lifecycle life;
    uint64_t restart_at;
    uint64_t irqs_held;
    /* Per vCPU: CNTVOFF, read once at its start; seL4 leaves it alone (Microkit builds the
     * kernel without KernelArmVtimerUpdateVOffset) and the guest cannot write it from EL1. */
    uint64_t cntvoff[VMM_CONFIG_MAX_VCPUS];
};

/*
 * Registers the VM's emulated frames on vmm->bus, once at start-up: the GIC distributor (and
 * GICv3 redistributors), each emulated PL011 and each virtio window. False with one line in err
 * when two of them overlap.
 */
bool vmm_mmio_register(struct vmm *vmm, char *err, size_t err_size);

/*
 * Counters on request: a guest console line (an emulated PL011's) that starts with
 * VMM_COUNTERS_MARKER and goes on with a label of 1..32 letters, digits, '-' or '_' makes the
 * VMM print its counters, one line for the VM and one per virtio device, each
 * "VM '<vm>' counters '<label>'..." with key=value pairs, cumulative since the VM started
 * (npm run bench subtracts two of them). Counts, unlike times, do not drift on a loaded host.
 */
#define VMM_COUNTERS_MARKER "SEL4CP-SYNTH: counters "
#define VMM_COUNTERS_LABEL_MAX 32u

/* The label of a marker line, copied into label[VMM_COUNTERS_LABEL_MAX + 1]; false if the
 * line is no marker. */
bool vmm_counters_marker(const char *line, char *label);

/* Prints the counters lines under `label`. */
void vmm_counters_log(const struct vmm *vmm, const char *label);
