/*
 * The VMM protection domain: one Linux virtual machine per VMM, described entirely by the
 * config blob that sel4cp-synth writes into the `.vmm_config` section of this ELF. This file is
 * the event loop and the VM's life cycle; what each kind of guest exit does is in exits.c.
 *
 * init():     check the blob, load Linux into guest RAM, set up the virtio devices, start vCPU 0.
 * notified(): the timer PD (a deadline passed), a virtio link peer or console UART, or a
 *             passthrough IRQ's channel (-> raise the guest's INTID in the vGIC).
 * fault():    a vCPU exited: vmm_handle_exit (exits.c).
 * After every event, suspended vCPUs that now have an interrupt, or whose deadline passed (the
 * timer PD's notification), run again.
 */
#include <microkit.h>

#include "fault.h"
#include "linux_boot.h"
#include "pl011_emul.h"
#include "psci.h"
#include "smc.h"
#include "vcpu_idle.h"
#include "vgic.h"
#include "vmm_config.h"
#include "vmm_fmt.h"
#include "vmm_state.h"
#include "vmm_virtio.h"
#include "vmm_wake.h"

#include "vmm_string.h"

/*
 * The blob. Zero-filled here (so an ELF that the link step did not patch fails the magic
 * check), written by the link step into the file at this section's offset.
 */
__attribute__((section(VMM_CONFIG_SECTION), aligned(8), used))
uint8_t vmm_config_blob[VMM_CONFIG_RESERVED_SIZE];

/* PSTATE for the kernel entry: EL1h (M = 0b0101) with D, A, I, F masked (booting.rst
 * "Primary CPU general-purpose register settings"; Arm ARM C5.2.19 SPSR_EL2). */
#define SPSR_EL1H_DAIF_MASKED 0x3c5u
/* MPIDR_EL1 bit 31 is RES1; our vCPUs differ only in Aff0. */
#define VMPIDR_RES1 (1ull << 31)

const struct vmm_config *config;
const char *vm_name = "?";
bool vm_running;
struct vgic vgic;
struct psci_vm psci;
static seL4_Word initial_sctlr[VMM_CONFIG_MAX_VCPUS];
struct pl011 uarts[VMM_CONFIG_MAX_DEVICES];
struct vcpu_idle idle;
/* One period of Linux's event stream (arch_timer_evtstrm, 10 kHz), in counter ticks. */
uint64_t wfe_slice;

unsigned vcpu_id(unsigned vcpu)
{
    return config->vcpu_ids[vcpu];
}

/* The vCPU index of a Microkit child id, or -1 if that child is not one of our vCPUs. */
static int vcpu_of_child(microkit_child child)
{
    for (unsigned i = 0; config != NULL && i < config->vcpu_count; i++) {
        if (config->vcpu_ids[i] == child) {
            return (int)i;
        }
    }
    return -1;
}

void vmm_log_sink(const char *s)
{
    microkit_dbg_puts(s);
}

static bool vgic_inject(void *ctx, unsigned vcpu, unsigned lr, uint16_t intid,
                        uint8_t priority, uint8_t group)
{
    (void)ctx;
    seL4_Error err = seL4_ARM_VCPU_InjectIRQ(BASE_VCPU_CAP + vcpu_id(vcpu), intid, priority,
                                             group, (seL4_Uint8)lr);
    if (err != seL4_NoError) {
        vmm_log("VM '%s' vCPU %u: injecting INTID %u into list register %u failed (seL4 "
                "error %d)", vm_name, vcpu, intid, lr, (int)err);
        return false;
    }
    return true;
}

static const struct vgic_ops vgic_ops = { vgic_inject };

/* ---------------------------------------------------------------- registers */

seL4_Word *user_reg(seL4_UserContext *c, unsigned n)
{
    /* seL4_UserContext for aarch64 lists x0-x8, x16-x18, x29, x30, then x9-x15, x19-x28. */
    switch (n) {
    case 0: return &c->x0;
    case 1: return &c->x1;
    case 2: return &c->x2;
    case 3: return &c->x3;
    case 4: return &c->x4;
    case 5: return &c->x5;
    case 6: return &c->x6;
    case 7: return &c->x7;
    case 8: return &c->x8;
    case 9: return &c->x9;
    case 10: return &c->x10;
    case 11: return &c->x11;
    case 12: return &c->x12;
    case 13: return &c->x13;
    case 14: return &c->x14;
    case 15: return &c->x15;
    case 16: return &c->x16;
    case 17: return &c->x17;
    case 18: return &c->x18;
    case 19: return &c->x19;
    case 20: return &c->x20;
    case 21: return &c->x21;
    case 22: return &c->x22;
    case 23: return &c->x23;
    case 24: return &c->x24;
    case 25: return &c->x25;
    case 26: return &c->x26;
    case 27: return &c->x27;
    case 28: return &c->x28;
    case 29: return &c->x29;
    case 30: return &c->x30;
    default: return NULL;   /* 31 is XZR in a load/store */
    }
}

bool read_regs(unsigned vcpu, seL4_UserContext *ctx)
{
    seL4_Error err = seL4_TCB_ReadRegisters(BASE_VM_TCB_CAP + vcpu_id(vcpu), seL4_False, 0,
                                            sizeof(*ctx) / sizeof(seL4_Word), ctx);
    return err == seL4_NoError;
}

bool write_regs(unsigned vcpu, seL4_UserContext *ctx, bool resume)
{
    seL4_Error err = seL4_TCB_WriteRegisters(BASE_VM_TCB_CAP + vcpu_id(vcpu),
                                             resume ? seL4_True : seL4_False, 0,
                                             sizeof(*ctx) / sizeof(seL4_Word), ctx);
    return err == seL4_NoError;
}

/* ---------------------------------------------------------------- idle vCPUs */

/* Per vCPU: CNTVOFF, read once at its start; seL4 leaves it alone (Microkit builds the kernel
 * without KernelArmVtimerUpdateVOffset) and the guest cannot write it from EL1. */
static uint64_t cntvoff[VMM_CONFIG_MAX_VCPUS];

bool idle_blocks(void)
{
    return config != NULL && (config->flags & VMM_CONFIG_FLAG_IDLE_BLOCK) != 0;
}

uint64_t counter_now(void)
{
    uint64_t v;
    /* CNTPCT_EL0 is readable here (KernelArmExportPCNTUser); the ISB orders the read. */
    __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
    return v;
}

/* Writes the earliest wake-up into this VMM's slot; tells the timer PD if it moved earlier. */
void post_wake_deadline(void)
{
    if (!idle_blocks()) {
        return;
    }
    bool notify;
    uint64_t deadline = vcpu_idle_post(&idle, &notify);
    struct wake_slot *slot = (struct wake_slot *)(uintptr_t)config->wake_slot_vaddr;
    slot->deadline = deadline;
    if (notify) {
        /* The timer PD may run on another core (SMP kernels): the slot first, then the signal. */
        __asm__ volatile("dmb ish" : : : "memory");
        microkit_notify(config->timer_channel);
    }
}

/* When the guest's virtual timer of `vcpu` fires (vmm_wake.h); `now` if that cannot be told,
 * so that the vCPU is not put to sleep on a guess. */
uint64_t vtimer_deadline(unsigned vcpu, uint64_t now)
{
    seL4_ARM_VCPU_ReadRegs_t ctl = seL4_ARM_VCPU_ReadRegs(BASE_VCPU_CAP + vcpu_id(vcpu),
                                                          seL4_VCPUReg_CNTV_CTL);
    if (ctl.error != seL4_NoError) {
        return now;
    }
    if (!(ctl.value & WAKE_CNTV_CTL_ENABLE) || (ctl.value & WAKE_CNTV_CTL_IMASK)) {
        return WAKE_NEVER;
    }
    seL4_ARM_VCPU_ReadRegs_t cval = seL4_ARM_VCPU_ReadRegs(BASE_VCPU_CAP + vcpu_id(vcpu),
                                                           seL4_VCPUReg_CNTV_CVAL);
    if (cval.error != seL4_NoError) {
        return now;
    }
    return wake_vtimer_deadline(ctl.value, cval.value, cntvoff[vcpu], now);
}

/* After any event: suspended vCPUs with an interrupt, a sibling's exit (WFE) or a passed
 * deadline run again; then the slot says when the rest must. */
static void wake_ready_vcpus(void)
{
    if (!idle_blocks() || !vm_running) {
        return;
    }
    uint64_t now = vcpu_idle_waiting_on_time(&idle) ? counter_now() : 0;
    for (unsigned v = 0; v < config->vcpu_count; v++) {
        if (idle.blocked[v] && vcpu_idle_wake(&idle, v, vgic_vcpu_has_work(&vgic, v), now)) {
            seL4_Error err = seL4_TCB_Resume(BASE_VM_TCB_CAP + vcpu_id(v));
            if (err != seL4_NoError) {
                vmm_log("VM '%s' vCPU %u: cannot resume it (seL4 error %d)", vm_name, v,
                        (int)err);
            }
        }
    }
    post_wake_deadline();
}

/* ---------------------------------------------------------------- VM life cycle */

struct vmm_exits exits;

void halt_vcpus(void)
{
    for (unsigned i = 0; i < config->device_count; i++) {
        pl011_flush(&uarts[i]);
    }
    for (unsigned i = 0; i < config->vcpu_count; i++) {
        if (psci.on[i]) {
            microkit_vcpu_stop(vcpu_id(i));
            psci.on[i] = false;
        }
    }
    vcpu_idle_reset(&idle);
    post_wake_deadline();
    vm_running = false;
    vmm_log("VM '%s' exits: mmio=%lu smc/hvc=%lu wfx=%lu sysreg=%lu maintenance=%lu vppi=%lu "
            "irq=%lu; vCPU suspensions=%lu", vm_name, exits.mmio, exits.smc_hvc, exits.wfx,
            exits.sysreg, exits.maintenance, exits.vppi, exits.irq, idle.blocks);
    vmm_virtio_log_stats();
}

void stop_vm(const char *why)
{
    vmm_log("VM '%s' stopped: %s", vm_name, why);
    halt_vcpus();
}

bool start_vcpu(unsigned vcpu, uint64_t pc, uint64_t x0)
{
    microkit_vcpu_arm_write_reg(vcpu_id(vcpu), seL4_VCPUReg_SCTLR, initial_sctlr[vcpu]);
    microkit_vcpu_arm_write_reg(vcpu_id(vcpu), seL4_VCPUReg_VMPIDR_EL2, VMPIDR_RES1 | vcpu);
    seL4_UserContext ctx = { 0 };
    ctx.pc = pc;
    ctx.spsr = SPSR_EL1H_DAIF_MASKED;
    ctx.x0 = x0;
    if (!write_regs(vcpu, &ctx, true)) {
        vmm_log("VM '%s' vCPU %u: cannot write its registers", vm_name, vcpu);
        return false;
    }
    seL4_ARM_VCPU_ReadRegs_t off = seL4_ARM_VCPU_ReadRegs(BASE_VCPU_CAP + vcpu_id(vcpu),
                                                          seL4_VCPUReg_CNTVOFF);
    cntvoff[vcpu] = off.error == seL4_NoError ? off.value : 0;
    psci.on[vcpu] = true;
    return true;
}

/* What loading the images cost, for npm run bench (bench/startup.ts reads this line): the bytes
 * written into guest RAM (copied, or unpacked from the stored size) and the time from `start`,
 * which includes zeroing the kernel's BSS and the cache clean. Only where there is a console
 * (CONFIG_PRINTING: Microkit debug builds; libmicrokit's microkit_dbg_putc tests the same). */
static void log_image_load(uint64_t start)
{
#if defined(CONFIG_PRINTING)
    uint64_t ticks = counter_now() - start;
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    uint64_t kernel = vmm_config_kernel_guest_size(config);
    uint64_t initrd = vmm_config_initrd_guest_size(config);
    vmm_log("VM '%s' images: copied %llu bytes (kernel %llu, DTB %llu, initrd %llu; stored %llu) "
            "in %llu us", vm_name, (unsigned long long)(kernel + config->dtb.size + initrd),
            (unsigned long long)kernel, (unsigned long long)config->dtb.size,
            (unsigned long long)initrd,
            (unsigned long long)(config->kernel.size + config->dtb.size + config->initrd.size),
            (unsigned long long)(frequency != 0 ? ticks * 1000000u / frequency : 0));
#else
    (void)start;
#endif
}

static void virtio_notify(unsigned channel)
{
    microkit_notify(channel);
}

static void virtio_irq_ack(unsigned channel)
{
    microkit_irq_ack(channel);
}

/* Loads the images and starts vCPU 0 at the kernel entry with x0 = DTB (booting.rst). */
bool boot_vm(void)
{
    char err[200];
    struct guest_ram ram = {
        .guest_base = config->ram_guest_base,
        .size = config->ram_size,
        .vmm = (uint8_t *)(uintptr_t)config->ram_vmm_vaddr,
    };
    uint64_t load_start = counter_now();
    if (!guest_load_linux(config, &ram, err, sizeof(err))) {
        vmm_log("VM '%s' not started: %s", vm_name, err);
        return false;
    }
    log_image_load(load_start);
    /* After a SYSTEM_RESET the kernel's list registers may still hold interrupts of the old
     * guest: keep them marked as occupied so we never inject over an active one; their EOIs
     * (or none) free them as usual. */
    uint16_t held[VMM_CONFIG_MAX_VCPUS][VGIC_NR_LRS];
    for (unsigned v = 0; v < VMM_CONFIG_MAX_VCPUS; v++) {
        memcpy(held[v], vgic.vcpu[v].lr, sizeof(held[v]));
    }
    vgic_init(&vgic, config->vcpu_count, &vgic_ops, NULL);
    for (unsigned v = 0; v < VMM_CONFIG_MAX_VCPUS; v++) {
        memcpy(vgic.vcpu[v].lr, held[v], sizeof(held[v]));
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        struct vgic_irq *irq = vgic_irq(&vgic, 0, config->irqs[i].intid);
        if (irq != NULL) {
            irq->edge = config->irqs[i].trigger == VMM_CONFIG_TRIGGER_EDGE;
        }
    }
    for (unsigned i = 0; i < config->device_count; i++) {
        pl011_init(&uarts[i], vm_name);
    }
    static const struct vmm_virtio_env virtio_env_template = { virtio_notify, virtio_irq_ack, NULL, NULL };
    struct vmm_virtio_env virtio_env = virtio_env_template;
    virtio_env.vm_name = vm_name;
    virtio_env.vgic = &vgic;
    if (!vmm_virtio_init(config, &virtio_env, err, sizeof(err))) {
        vmm_log("VM '%s' not started: %s", vm_name, err);
        return false;
    }
    vgic.vcpu[0].online = true;
    vm_running = true;
    if (!start_vcpu(0, config->entry, config->dtb.guest_addr)) {
        vm_running = false;
        return false;
    }
    vmm_log("VM '%s' started: kernel 0x%llx, DTB 0x%llx, initrd 0x%llx (+0x%llx), %u vCPU(s), "
            "GICv%u", vm_name, (unsigned long long)config->entry,
            (unsigned long long)config->dtb.guest_addr,
            (unsigned long long)config->initrd.guest_addr,
            (unsigned long long)config->initrd.size, config->vcpu_count, VGIC_VERSION);
    return true;
}

void init(void)
{
    char err[200];
    if (!vmm_config_check(vmm_config_blob, sizeof(vmm_config_blob), VGIC_VERSION, err,
                          sizeof(err))) {
        vmm_log("config blob rejected: %s (protection domain '%s'); no guest started", err,
                microkit_name);
        return;
    }
    config = (const struct vmm_config *)(const void *)vmm_config_blob;
    vm_name = config->vm_name;
    psci.vcpu_count = config->vcpu_count;
    psci.ram_base = config->ram_guest_base;
    psci.ram_size = config->ram_size;
    for (unsigned i = 0; i < config->vcpu_count; i++) {
        initial_sctlr[i] = microkit_vcpu_arm_read_reg(vcpu_id(i), seL4_VCPUReg_SCTLR);
    }
    vcpu_idle_init(&idle, config->vcpu_count);
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    wfe_slice = frequency / 10000u;
    boot_vm();
}

/* ---------------------------------------------------------------- interrupts */

void notified(microkit_channel ch)
{
    if (!vm_running) {
        return;
    }
    if (idle_blocks() && ch == config->timer_channel) {
        /* The timer PD: a deadline of ours has passed. */
        wake_ready_vcpus();
        return;
    }
    bool virtio_error;
    if (vmm_virtio_notified(ch, &virtio_error)) {
        if (virtio_error) {
            stop_vm(vmm_virtio_report());
            return;
        }
        wake_ready_vcpus();
        return;
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        if (config->irqs[i].channel == ch) {
            /* Acked at the guest's EOI (handle_maintenance), so a level IRQ cannot refire
             * before the guest has serviced the device. */
            exits.irq++;
            vgic_raise(&vgic, 0, config->irqs[i].intid);
            wake_ready_vcpus();
            return;
        }
    }
    vmm_log("VM '%s': notification on channel %u, which is no passthrough IRQ", vm_name, ch);
}

/* Before a restart: the sources of interrupts the old guest never EOI'd are still masked
 * (passthrough IRQs un-acked, the timer PPI masked by the kernel); release them. */
void release_held_interrupts(void)
{
    for (unsigned v = 0; v < config->vcpu_count; v++) {
        microkit_vcpu_arm_ack_vppi(vcpu_id(v), VGIC_VTIMER_INTID);
        for (unsigned lr = 0; lr < VGIC_NR_LRS; lr++) {
            unsigned intid = vgic.vcpu[v].lr[lr];
            for (unsigned i = 0; intid != 0 && i < config->irq_count; i++) {
                if (config->irqs[i].intid == intid - 1u) {
                    microkit_irq_ack(config->irqs[i].channel);
                }
            }
        }
    }
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    int v = vcpu_of_child(child);
    if (v < 0 || !vm_running) {
        vmm_log("fault from child %u, which is no running vCPU of ours (label %llu); ignored",
                child, (unsigned long long)microkit_msginfo_get_label(msginfo));
        return seL4_False;
    }
    vcpu_idle_exit_seen(&idle, (unsigned)v);
    seL4_Bool reply = vmm_handle_exit((unsigned)v, msginfo, reply_msginfo);
    wake_ready_vcpus();
    return reply;
}
