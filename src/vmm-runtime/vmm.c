/*
 * The VMM protection domain: one Linux virtual machine per VMM, described entirely by the
 * config blob that sel4cp-synth writes into the `.vmm_config` section of this ELF.
 *
 * init():     check the blob, load Linux into guest RAM, start vCPU 0.
 * notified(): a passthrough IRQ's channel fired -> raise the guest's INTID in the vGIC.
 * fault():    a vCPU exited. Dispatch on the fault label, then on the exception class:
 *             stage-2 data aborts on the GIC windows -> vgic MMIO; SMC/HVC -> PSCI; WFI/WFE ->
 *             suspend the vCPU until it has something to do (vcpu_idle.h), or resume it;
 *             VGIC maintenance (an EOI) -> ack the real IRQ; VPPI (virtual timer) -> inject.
 *             Anything else is reported in one line and the VM is stopped, while this PD keeps
 *             serving notifications.
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

static const struct vmm_config *config;
static const char *vm_name = "?";
static bool vm_running;
static struct vgic vgic;
static struct psci_vm psci;
static seL4_Word initial_sctlr[VMM_CONFIG_MAX_VCPUS];
static struct pl011 uarts[VMM_CONFIG_MAX_DEVICES];
static struct vcpu_idle idle;
/* One period of Linux's event stream (arch_timer_evtstrm, 10 kHz), in counter ticks. */
static uint64_t wfe_slice;
_Static_assert(VCPU_IDLE_MAX_VCPUS == VMM_CONFIG_MAX_VCPUS, "one vCPU limit");

static unsigned vcpu_id(unsigned vcpu)
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

static seL4_Word *user_reg(seL4_UserContext *c, unsigned n)
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

static bool read_regs(unsigned vcpu, seL4_UserContext *ctx)
{
    seL4_Error err = seL4_TCB_ReadRegisters(BASE_VM_TCB_CAP + vcpu_id(vcpu), seL4_False, 0,
                                            sizeof(*ctx) / sizeof(seL4_Word), ctx);
    return err == seL4_NoError;
}

static bool write_regs(unsigned vcpu, seL4_UserContext *ctx, bool resume)
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

static bool idle_blocks(void)
{
    return config != NULL && (config->flags & VMM_CONFIG_FLAG_IDLE_BLOCK) != 0;
}

static uint64_t counter_now(void)
{
    uint64_t v;
    /* CNTPCT_EL0 is readable here (KernelArmExportPCNTUser); the ISB orders the read. */
    __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
    return v;
}

/* Writes the earliest wake-up into this VMM's slot; tells the timer PD if it moved earlier. */
static void post_wake_deadline(void)
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
static uint64_t vtimer_deadline(unsigned vcpu, uint64_t now)
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

/* VM exits by kind, printed when the VM stops (the benchmark reads this line). */
static struct {
    unsigned long mmio, smc_hvc, wfx, sysreg, maintenance, vppi, irq;
} exits;

static void halt_vcpus(void)
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

static void stop_vm(const char *why)
{
    vmm_log("VM '%s' stopped: %s", vm_name, why);
    halt_vcpus();
}

static bool start_vcpu(unsigned vcpu, uint64_t pc, uint64_t x0)
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
static bool boot_vm(void)
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
    uint16_t held[VGIC_MAX_VCPUS][VGIC_NR_LRS];
    for (unsigned v = 0; v < VGIC_MAX_VCPUS; v++) {
        memcpy(held[v], vgic.vcpu[v].lr, sizeof(held[v]));
    }
    vgic_init(&vgic, config->vcpu_count, &vgic_ops, NULL);
    for (unsigned v = 0; v < VGIC_MAX_VCPUS; v++) {
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

static void handle_maintenance(unsigned vcpu, seL4_Word lr)
{
    int intid = vgic_maintenance(&vgic, vcpu, (unsigned)lr);
    if (intid < 0) {
        return;
    }
    if (intid == (int)VGIC_VTIMER_INTID) {
        /* The kernel masked the timer PPI when it raised the VPPI event; unmask it only now
         * that the guest has handled it, or the still-asserted line would refire at once. */
        microkit_vcpu_arm_ack_vppi(vcpu_id(vcpu), VGIC_VTIMER_INTID);
        return;
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        if (config->irqs[i].intid == (unsigned)intid) {
            microkit_irq_ack(config->irqs[i].channel);
            return;
        }
    }
    if (vmm_virtio_eoi((unsigned)intid)) {
        return;
    }
    for (unsigned i = 0; i < config->device_count; i++) {
        /* A level-triggered emulated line still asserted after EOI is raised again. */
        if (config->devices[i].intid == (unsigned)intid && pl011_irq_level(&uarts[i])) {
            vgic_raise(&vgic, 0, (unsigned)intid);
        }
    }
}

/* Before a restart: the sources of interrupts the old guest never EOI'd are still masked
 * (passthrough IRQs un-acked, the timer PPI masked by the kernel); release them. */
static void release_held_interrupts(void)
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

/* An access to an emulated device's window; returns false if addr is in none. */
static bool device_access(unsigned vcpu, uint64_t addr, const struct fault_data_abort *da,
                          uint64_t *value, enum pl011_status *st)
{
    for (unsigned i = 0; i < config->device_count; i++) {
        const struct vmm_config_device *d = &config->devices[i];
        if (addr < d->guest_base || addr - d->guest_base >= d->size) {
            continue;
        }
        bool before = pl011_irq_level(&uarts[i]);
        *st = pl011_access(&uarts[i], addr - d->guest_base, da->size, da->write, value);
        if (d->intid != 0 && !before && pl011_irq_level(&uarts[i])) {
            vgic_raise(&vgic, vcpu, d->intid);
        }
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------- faults */

static bool report_and_stop(unsigned vcpu, const char *what, uint64_t esr, uint64_t addr,
                            uint64_t pc)
{
    struct fault_esr e = fault_decode_esr(esr);
    vmm_log("VM '%s' vCPU %u stopped: unhandled %s: %s, address 0x%llx, PC 0x%llx, ESR 0x%llx",
            vm_name, vcpu, what, fault_ec_name(e.ec), (unsigned long long)addr,
            (unsigned long long)pc, (unsigned long long)esr);
    halt_vcpus();
    return false;
}

static bool resume(microkit_msginfo *reply)
{
    *reply = microkit_msginfo_new(0, 0);
    return true;
}

/* Emulates a trapped load/store on an MMIO window. */
static bool handle_vm_fault(unsigned vcpu, microkit_msginfo *reply)
{
    uint64_t ip = microkit_mr_get(seL4_VMFault_IP);
    uint64_t addr = microkit_mr_get(seL4_VMFault_Addr);
    uint64_t esr = microkit_mr_get(seL4_VMFault_FSR);
    bool prefetch = microkit_mr_get(seL4_VMFault_PrefetchFault) != 0;
    struct fault_data_abort da;

    if (prefetch || !fault_decode_data_abort(esr, &da)) {
        return report_and_stop(vcpu, prefetch ? "instruction fetch" : "VM fault", esr, addr, ip);
    }
    if (!da.isv) {
        /* No syndrome (e.g. LDP/STP or a cache maintenance op on device memory): we would
         * have to decode the instruction from guest memory, which we do not do. */
        char what[96];
        vmm_snprintf(what, sizeof(what), "%s without syndrome (%s)",
                     da.write ? "write" : "read", fault_dfsc_name(da.dfsc));
        return report_and_stop(vcpu, what, esr, addr, ip);
    }

    seL4_UserContext ctx;
    if (!read_regs(vcpu, &ctx)) {
        return report_and_stop(vcpu, "fault (cannot read registers)", esr, addr, ip);
    }
    seL4_Word *rt = user_reg(&ctx, da.srt);
    uint64_t value = 0;
    if (da.write && rt != NULL) {
        value = fault_store_value(&da, *rt);
    }

    enum vgic_mmio_status st;
    enum pl011_status dev_st;
    const char *frame;
    uint64_t offset;
    enum vmm_virtio_access va = vmm_virtio_mmio(addr, da.write, da.size, &value);
    if (va == VMM_VIRTIO_GUEST_ERROR) {
        stop_vm(vmm_virtio_report());
        return false;
    }
    if (va == VMM_VIRTIO_DONE) {
        st = VGIC_MMIO_OK;
        frame = "virtio";
        offset = 0;
    } else if (device_access(vcpu, addr, &da, &value, &dev_st)) {
        if (dev_st == PL011_BAD_ACCESS) {
            char what[96];
            vmm_snprintf(what, sizeof(what), "%u-byte %s of the emulated PL011 (bad width or "
                         "alignment)", da.size, da.write ? "write" : "read");
            return report_and_stop(vcpu, what, esr, addr, ip);
        }
        st = VGIC_MMIO_OK;
        frame = "PL011";
        offset = 0;
    } else if (addr >= config->gicd_base && addr - config->gicd_base < VGIC_DIST_SIZE) {
        frame = "GICD";
        offset = addr - config->gicd_base;
        st = vgic_dist_access(&vgic, vcpu, offset, da.size, da.write, &value);
#if defined(GIC_V3)
    } else if (addr >= config->gicr_base
               && addr - config->gicr_base < (uint64_t)config->vcpu_count * VGIC_REDIST_STRIDE) {
        frame = "GICR";
        offset = addr - config->gicr_base;
        st = vgic_redist_access(&vgic, offset, da.size, da.write, &value);
#endif
    } else {
        char what[96];
        vmm_snprintf(what, sizeof(what), "%u-byte %s of an unmapped address (%s)", da.size,
                     da.write ? "write" : "read", fault_dfsc_name(da.dfsc));
        return report_and_stop(vcpu, what, esr, addr, ip);
    }

    if (st == VGIC_MMIO_UNKNOWN_RAZWI || st == VGIC_MMIO_IRQ_RAZWI) {
        vmm_log("VM '%s' vCPU %u: %s %s at offset 0x%llx: %s", vm_name, vcpu, frame,
                da.write ? "write" : "read", (unsigned long long)offset,
                vgic_mmio_status_name(st));
    } else if (st != VGIC_MMIO_OK) {
        char what[120];
        vmm_snprintf(what, sizeof(what), "%u-byte %s of %s+0x%llx (%s)", da.size,
                     da.write ? "write" : "read", frame, (unsigned long long)offset,
                     vgic_mmio_status_name(st));
        return report_and_stop(vcpu, what, esr, addr, ip);
    }
    if (!da.write && rt != NULL) {
        *rt = fault_load_value(&da, value);
    }
    ctx.pc = ip + 4;    /* A64: every trapped load/store is a 32-bit instruction */
    if (!write_regs(vcpu, &ctx, false)) {
        return report_and_stop(vcpu, "fault (cannot write registers)", esr, addr, ip);
    }
    return resume(reply);
}

/* On a multicore debug kernel, where each vCPU runs says seL4 itself: its scheduler dump lists
 * the threads of the calling core (ksDebugTCBs is per node, include/api/debug.h in seL4 16.0.0),
 * with their affinity. A vCPU placed on another core (Microkit 2.3.0 vcpu cpu) is not in the
 * VMM's list; one on the VMM's core is. test/e2e/microkit-2.3.0.test.ts reads it. */
static void dump_cores(unsigned vcpu)
{
#if defined(CONFIG_DEBUG_BUILD) && defined(CONFIG_ENABLE_SMP_SUPPORT)
    vmm_log("VM '%s' vCPU %u: started; the threads on the VMM's core:", vm_name, vcpu);
    seL4_DebugDumpScheduler();
#else
    (void)vcpu;
#endif
}

/* Carries out a PSCI decision. `advance` is the PC step (4 after a trapped SMC, whose
 * preferred return address is the SMC itself; 0 after HVC, which already points past it). */
static bool apply_psci(unsigned vcpu, seL4_UserContext *ctx, const struct psci_result *r,
                       unsigned advance, microkit_msginfo *reply)
{
    switch (r->action) {
    case PSCI_ACTION_CPU_OFF:
        microkit_vcpu_stop(vcpu_id(vcpu));
        psci.on[vcpu] = false;
        vgic.vcpu[vcpu].online = false;
        vmm_log("VM '%s' vCPU %u: PSCI CPU_OFF", vm_name, vcpu);
        return false;
    case PSCI_ACTION_SYSTEM_OFF:
        stop_vm("PSCI SYSTEM_OFF");
        return false;
    case PSCI_ACTION_SYSTEM_RESET:
        stop_vm("PSCI SYSTEM_RESET; restarting");
        release_held_interrupts();
        boot_vm();
        return false;
    case PSCI_ACTION_CPU_ON:
        if (!start_vcpu(r->target_vcpu, r->entry, r->context_id)) {
            ctx->x0 = (seL4_Word)(int64_t)PSCI_INTERNAL_FAILURE;
        } else {
            vgic.vcpu[r->target_vcpu].online = true;
            ctx->x0 = (seL4_Word)r->x0;
            dump_cores(r->target_vcpu);
        }
        break;
    case PSCI_ACTION_RETURN:
        ctx->x0 = (seL4_Word)r->x0;
        break;
    }
    ctx->pc += advance;
    if (!write_regs(vcpu, ctx, false)) {
        return report_and_stop(vcpu, "PSCI call (cannot write registers)", 0, 0, ctx->pc);
    }
    return resume(reply);
}

static bool handle_smc_hvc(unsigned vcpu, unsigned advance, uint64_t esr,
                           microkit_msginfo *reply)
{
    seL4_UserContext ctx;
    if (!read_regs(vcpu, &ctx)) {
        return report_and_stop(vcpu, "SMC/HVC (cannot read registers)", esr, 0, 0);
    }
    uint64_t args[8] = { ctx.x0, ctx.x1, ctx.x2, ctx.x3, ctx.x4, ctx.x5, ctx.x6, ctx.x7 };
    struct psci_result r;
    smc_handle(&psci, vcpu, args, &r);
    return apply_psci(vcpu, &ctx, &r, advance, reply);
}

static bool advance_pc(unsigned vcpu, microkit_msginfo *reply)
{
    seL4_UserContext ctx;
    if (!read_regs(vcpu, &ctx)) {
        return report_and_stop(vcpu, "trap (cannot read registers)", 0, 0, 0);
    }
    ctx.pc += 4;
    if (!write_regs(vcpu, &ctx, false)) {
        return report_and_stop(vcpu, "trap (cannot write registers)", 0, 0, ctx.pc);
    }
    return resume(reply);
}

#if defined(GIC_V3)
/* ICC_SGI1R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5) traps with HCR_EL2.IMO set. */
static bool handle_sysreg(unsigned vcpu, uint64_t esr, microkit_msginfo *reply)
{
    struct fault_sysreg sr;
    if (fault_decode_sysreg(esr, &sr) && !sr.read && sr.op0 == 3 && sr.op1 == 0
        && sr.crn == 12 && sr.crm == 11 && sr.op2 == 5) {
        seL4_UserContext ctx;
        if (!read_regs(vcpu, &ctx)) {
            return report_and_stop(vcpu, "MSR (cannot read registers)", esr, 0, 0);
        }
        seL4_Word *rt = user_reg(&ctx, sr.rt);
        vgic_v3_sgi1r_write(&vgic, vcpu, rt != NULL ? *rt : 0);
        ctx.pc += 4;
        if (!write_regs(vcpu, &ctx, false)) {
            return report_and_stop(vcpu, "MSR (cannot write registers)", esr, 0, ctx.pc);
        }
        return resume(reply);
    }
    return report_and_stop(vcpu, "system register access", esr, 0, 0);
}
#endif

static bool sibling_runnable(unsigned vcpu)
{
    for (unsigned v = 0; v < config->vcpu_count; v++) {
        if (v != vcpu && psci.on[v] && !idle.blocked[v]) {
            return true;
        }
    }
    return false;
}

/* WFI or WFE (EC 0x01; ISS.TI, Arm ARM D17.2.37: 0 WFI, 1 WFE, 2 WFIT, 3 WFET). Suspends the
 * vCPU past the instruction when vcpu_idle_block says so, else resumes it. WFIT/WFET carry a
 * timeout in a register that we do not model: they resume at once, which they allow. */
static bool handle_wfx(unsigned vcpu, uint64_t esr, microkit_msginfo *reply)
{
    exits.wfx++;
    unsigned ti = (unsigned)(esr & 3u);
    if (!idle_blocks() || ti > 1) {
        return advance_pc(vcpu, reply);
    }
    uint64_t now = counter_now();
    struct vcpu_idle_wfx w = {
        .wfe = ti == 1,
        .has_work = vgic_vcpu_has_work(&vgic, vcpu),
        .sibling_runnable = sibling_runnable(vcpu),
        .now = now,
        .wfe_slice = wfe_slice,
    };
    w.vtimer_deadline = w.has_work ? now : vtimer_deadline(vcpu, now);
    if (!vcpu_idle_block(&idle, vcpu, &w)) {
        return advance_pc(vcpu, reply);
    }
    /* Past the WFx, then off the CPU. TCB_Suspend also cancels the fault's pending reply, so
     * the handler loop's next receive finds the reply object free; TCB_Resume restarts it. */
    seL4_UserContext ctx;
    if (!read_regs(vcpu, &ctx)) {
        vcpu_idle_wake(&idle, vcpu, true, now);
        return report_and_stop(vcpu, "WFx (cannot read registers)", esr, 0, 0);
    }
    ctx.pc += 4;
    if (!write_regs(vcpu, &ctx, false)) {
        vcpu_idle_wake(&idle, vcpu, true, now);
        return report_and_stop(vcpu, "WFx (cannot write registers)", esr, 0, ctx.pc);
    }
    microkit_vcpu_stop(vcpu_id(vcpu));
    return false;
}

static bool handle_vcpu_fault(unsigned vcpu, microkit_msginfo *reply)
{
    uint64_t esr = microkit_mr_get(seL4_VCPUFault_HSR);
    struct fault_esr e = fault_decode_esr(esr);
    switch (e.ec) {
    case FAULT_EC_WFX:
        return handle_wfx(vcpu, esr, reply);
    case FAULT_EC_SMC64:
    case FAULT_EC_SMC32:
        exits.smc_hvc++;
        return handle_smc_hvc(vcpu, 4, esr, reply);
    case FAULT_EC_HVC64:
    case FAULT_EC_HVC32:
        exits.smc_hvc++;
        return handle_smc_hvc(vcpu, 0, esr, reply);
#if defined(GIC_V3)
    case FAULT_EC_SYSREG:
        exits.sysreg++;
        return handle_sysreg(vcpu, esr, reply);
#endif
    default: {
        seL4_UserContext ctx;
        uint64_t pc = read_regs(vcpu, &ctx) ? ctx.pc : 0;
        return report_and_stop(vcpu, "vCPU exception", esr, 0, pc);
    }
    }
}

static seL4_Bool handle_fault(unsigned vcpu, microkit_msginfo msginfo,
                              microkit_msginfo *reply_msginfo);

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    int v = vcpu_of_child(child);
    if (v < 0 || !vm_running) {
        vmm_log("fault from child %u, which is no running vCPU of ours (label %llu); ignored",
                child, (unsigned long long)microkit_msginfo_get_label(msginfo));
        return seL4_False;
    }
    vcpu_idle_exit_seen(&idle, (unsigned)v);
    seL4_Bool reply = handle_fault((unsigned)v, msginfo, reply_msginfo);
    wake_ready_vcpus();
    return reply;
}

static seL4_Bool handle_fault(unsigned vcpu, microkit_msginfo msginfo,
                              microkit_msginfo *reply_msginfo)
{
    seL4_Word label = microkit_msginfo_get_label(msginfo);
    switch (label) {
    case seL4_Fault_VMFault:
        exits.mmio++;
        return handle_vm_fault(vcpu, reply_msginfo);
    case seL4_Fault_VCPUFault:
        return handle_vcpu_fault(vcpu, reply_msginfo);
    case seL4_Fault_UnknownSyscall: {
        /* seL4 routes a guest HVC through its syscall path; the fault IP is the HVC. */
        exits.smc_hvc++;
        return handle_smc_hvc(vcpu, 4, 0, reply_msginfo);
    }
    case seL4_Fault_VGICMaintenance:
        exits.maintenance++;
        handle_maintenance(vcpu, microkit_mr_get(seL4_VGICMaintenance_IDX));
        return resume(reply_msginfo);
    case seL4_Fault_VPPIEvent: {
        exits.vppi++;
        seL4_Word irq = microkit_mr_get(seL4_VPPIEvent_IRQ);
        if (!vgic_raise(&vgic, vcpu, (unsigned)irq)) {
            microkit_vcpu_arm_ack_vppi(vcpu_id(vcpu), irq);
        }
        return resume(reply_msginfo);
    }
    case seL4_Fault_UserException:
        return report_and_stop(vcpu, "user exception",
                               microkit_mr_get(seL4_UserException_Code), 0,
                               microkit_mr_get(seL4_UserException_FaultIP));
    default: {
        char what[48];
        vmm_snprintf(what, sizeof(what), "fault label %llu", (unsigned long long)label);
        return report_and_stop(vcpu, what, 0, 0, 0);
    }
    }
}
