/*
 * The VMM protection domain: one Linux virtual machine per VMM, described entirely by the
 * config blob that sel4cp-synth writes into the `.vmm_config` section of this ELF. This file is
 * the event loop and the VM's life cycle; what each kind of guest exit does is in exits.c.
 *
 * init():     check the blob, load Linux into guest RAM, set up the virtio devices, start vCPU 0.
 * notified(): the timer PD (a deadline passed), a virtio link peer or console UART, a
 *             doorbell's peer (-> an edge on its PL061 line), or a passthrough IRQ's channel
 *             (-> raise the guest's INTID in the vGIC).
 * fault():    a vCPU exited: vmm_handle_exit (exits.c).
 * After every event, suspended vCPUs that now have an interrupt, or whose deadline passed (the
 * timer PD's notification), run again. The VM's state is one struct vmm (vmm.h), `the_vm`,
 * which these entry points pass to every handler.
 */
#include <microkit.h>

#include "linux_boot.h"
#include "vmm.h"
#include "vmm_fmt.h"
#include "vmm_microkit.h"
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

/* The VM (in .bss: tens of KiB), set up by init() from the checked blob; events are ignored
 * while it is not running. */
static struct vmm the_vm;

unsigned vmm_vcpu_id(const struct vmm *vmm, unsigned vcpu)
{
    return vmm->config->vcpu_ids[vcpu];
}

/* The vCPU index of a Microkit child id, or -1 if that child is not one of our vCPUs. */
static int vcpu_of_child(const struct vmm *vmm, microkit_child child)
{
    const struct vmm_config *config = vmm->config;
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

/* The vGIC's list-register writes (struct vgic_ops); ctx is the VM. */
static bool inject_irq(void *ctx, unsigned vcpu, unsigned lr, uint16_t intid, uint8_t priority,
                       uint8_t group)
{
    const struct vmm *vmm = ctx;
    seL4_Error err = seL4_ARM_VCPU_InjectIRQ(BASE_VCPU_CAP + vmm_vcpu_id(vmm, vcpu), intid,
                                             priority, group, (seL4_Uint8)lr);
    if (err != seL4_NoError) {
        vmm_log("VM '%s' vCPU %u: injecting INTID %u into list register %u failed (seL4 "
                "error %d)", vmm->name, vcpu, intid, lr, (int)err);
        return false;
    }
    return true;
}

static const struct vgic_ops vgic_ops = { inject_irq };

/* ---------------------------------------------------------------- registers */

seL4_Word *vmm_user_reg(seL4_UserContext *c, unsigned n)
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

bool vmm_read_regs(const struct vmm *vmm, unsigned vcpu, seL4_UserContext *ctx)
{
    seL4_Error err = seL4_TCB_ReadRegisters(BASE_VM_TCB_CAP + vmm_vcpu_id(vmm, vcpu), seL4_False,
                                            0, sizeof(*ctx) / sizeof(seL4_Word), ctx);
    return err == seL4_NoError;
}

bool vmm_write_regs(const struct vmm *vmm, unsigned vcpu, seL4_UserContext *ctx, bool resume)
{
    seL4_Error err = seL4_TCB_WriteRegisters(BASE_VM_TCB_CAP + vmm_vcpu_id(vmm, vcpu),
                                             resume ? seL4_True : seL4_False, 0,
                                             sizeof(*ctx) / sizeof(seL4_Word), ctx);
    return err == seL4_NoError;
}

/* ---------------------------------------------------------------- idle vCPUs */

bool vmm_idle_blocks(const struct vmm *vmm)
{
    return vmm->config != NULL && (vmm->config->flags & VMM_CONFIG_FLAG_IDLE_BLOCK) != 0;
}

uint64_t vmm_counter_now(void)
{
    uint64_t v;
    /* CNTPCT_EL0 is readable here (KernelArmExportPCNTUser); the ISB orders the read. */
    __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
    return v;
}

/* Writes the earliest wake-up into this VMM's slot, and tells the timer PD when it must know
 * (vcpu_idle_post: not at every sleep). */
void vmm_post_wake_deadline(struct vmm *vmm)
{
    if (!vmm_idle_blocks(vmm)) {
        return;
    }
    bool notify;
    /* A restart after its backoff (restart.c) is a deadline too: the VM has no vCPU then. */
    uint64_t deadline = vcpu_idle_post(&vmm->idle, vmm->restart_at, &notify);
    if (deadline == WAKE_NEVER) {
        return;
    }
    struct wake_slot *slot = (struct wake_slot *)(uintptr_t)vmm->config->wake_slot_vaddr;
    slot->deadline = deadline;
    if (notify) {
        /* The timer PD may run on another core (SMP kernels): the slot first, then the signal. */
        __asm__ volatile("dmb ish" : : : "memory");
        vmm->events.notify_out++;
        vmm->events.notify_out_timer++;
        microkit_notify(vmm->config->timer_channel);
    }
}

/* `now` when the deadline cannot be told, so that the vCPU is not put to sleep on a guess. */
uint64_t vmm_vtimer_deadline(const struct vmm *vmm, unsigned vcpu, uint64_t now)
{
    seL4_ARM_VCPU_ReadRegs_t ctl = seL4_ARM_VCPU_ReadRegs(BASE_VCPU_CAP + vmm_vcpu_id(vmm, vcpu),
                                                          seL4_VCPUReg_CNTV_CTL);
    if (ctl.error != seL4_NoError) {
        return now;
    }
    if (!(ctl.value & WAKE_CNTV_CTL_ENABLE) || (ctl.value & WAKE_CNTV_CTL_IMASK)) {
        return WAKE_NEVER;
    }
    seL4_ARM_VCPU_ReadRegs_t cval = seL4_ARM_VCPU_ReadRegs(BASE_VCPU_CAP
                                                           + vmm_vcpu_id(vmm, vcpu),
                                                           seL4_VCPUReg_CNTV_CVAL);
    if (cval.error != seL4_NoError) {
        return now;
    }
    return wake_vtimer_deadline(ctl.value, cval.value, vmm->cntvoff[vcpu], now);
}

/* After any event: suspended vCPUs with an interrupt, a sibling's exit (WFE) or a passed
 * deadline run again; then the slot says when the rest must. */
static void wake_ready_vcpus(struct vmm *vmm)
{
    if (!vmm_idle_blocks(vmm) || !vmm->running) {
        return;
    }
    struct vcpu_idle *idle = &vmm->idle;
    uint64_t now = vcpu_idle_waiting_on_time(idle) ? vmm_counter_now() : 0;
    for (unsigned v = 0; v < vmm->config->vcpu_count; v++) {
        if (idle->blocked[v] && vcpu_idle_wake(idle, v, vgic_vcpu_has_work(&vmm->vgic, v), now)) {
            vmm->events.resumes++;
            seL4_Error err = seL4_TCB_Resume(BASE_VM_TCB_CAP + vmm_vcpu_id(vmm, v));
            if (err != seL4_NoError) {
                vmm_log("VM '%s' vCPU %u: cannot resume it (seL4 error %d)", vmm->name, v,
                        (int)err);
            }
        }
    }
    vmm_post_wake_deadline(vmm);
}

/* ---------------------------------------------------------------- VM life cycle */

void vmm_halt(struct vmm *vmm)
{
    const struct vmm_config *config = vmm->config;
    for (unsigned i = 0; i < config->device_count; i++) {
        if (config->devices[i].kind == VMM_CONFIG_DEVICE_PL011) {
            pl011_flush(&vmm->uarts[i].pl011);
        }
    }
    for (unsigned i = 0; i < config->vcpu_count; i++) {
        if (vmm->psci.on[i]) {
            microkit_vcpu_stop(vmm_vcpu_id(vmm, i));
            vmm->psci.on[i] = false;
        }
    }
    vcpu_idle_reset(&vmm->idle);
    vmm_post_wake_deadline(vmm);
    vmm->running = false;
    const struct vmm_exits *e = &vmm->exits;
    vmm_log("VM '%s' exits: mmio=%lu smc/hvc=%lu wfx=%lu sysreg=%lu maintenance=%lu vppi=%lu "
            "irq=%lu; vCPU suspensions=%lu", vmm->name, e->mmio, e->smc_hvc, e->wfx,
            e->sysreg, e->maintenance, e->vppi, e->irq, vmm->idle.blocks);
    vmm_virtio_log_stats(&vmm->virtio);
    if (vmm->doorbells.present) {
        vmm_log("VM '%s' doorbells: rang %lu, notified %lu", vmm->name, vmm->doorbells.rings,
                vmm->doorbells.notifications);
    }
}

void vmm_stop(struct vmm *vmm, uint32_t cause, const char *why)
{
    vmm_log("VM '%s' stopped: %s", vmm->name, why);
    vmm_halt(vmm);
    /* A PSCI stop's cause says it all; a device the guest broke is the detail of a fault. */
    vmm_guest_stopped(vmm, cause, cause == VMM_CAUSE_GUEST_FAULT ? why : "");
}

/* The vCPU registers a guest changes and a start restores (seL4_VCPUReg_*, the same on
 * Microkit 2.0.1 and 2.3.0): EL1 system control, translation, exception and thread registers
 * and the virtual timer. CNTVOFF is the kernel's (fixed, vmm.h); VMPIDR is written per start. */
static const unsigned restored_regs[] = {
    seL4_VCPUReg_SCTLR, seL4_VCPUReg_CPACR, seL4_VCPUReg_TTBR0, seL4_VCPUReg_TTBR1,
    seL4_VCPUReg_TCR, seL4_VCPUReg_MAIR, seL4_VCPUReg_AMAIR, seL4_VCPUReg_CIDR,
    seL4_VCPUReg_ACTLR, seL4_VCPUReg_AFSR0, seL4_VCPUReg_AFSR1, seL4_VCPUReg_ESR,
    seL4_VCPUReg_FAR, seL4_VCPUReg_VBAR, seL4_VCPUReg_TPIDR_EL1, seL4_VCPUReg_SP_EL1,
    seL4_VCPUReg_ELR_EL1, seL4_VCPUReg_SPSR_EL1, seL4_VCPUReg_CNTV_CTL, seL4_VCPUReg_CNTV_CVAL,
    seL4_VCPUReg_CNTKCTL_EL1,
};
#define RESTORED_REGS (sizeof(restored_regs) / sizeof(restored_regs[0]))
_Static_assert(RESTORED_REGS <= VMM_VCPU_REG_SLOTS, "vCPU register snapshot");

/* Once at init: those registers as the kernel set them up. */
static void snapshot_vcpu_regs(struct vmm *vmm)
{
    for (unsigned v = 0; v < vmm->config->vcpu_count; v++) {
        for (unsigned r = 0; r < RESTORED_REGS; r++) {
            vmm->initial_regs[v][r] = microkit_vcpu_arm_read_reg(vmm_vcpu_id(vmm, v),
                                                                 restored_regs[r]);
        }
    }
}

bool vmm_start_vcpu(struct vmm *vmm, unsigned vcpu, uint64_t pc, uint64_t x0)
{
    unsigned id = vmm_vcpu_id(vmm, vcpu);
    /* What the last incarnation left (its page tables, vectors, timer) goes: the vCPU starts
     * as the kernel first gave it (a restart, or a CPU_ON after CPU_OFF). */
    for (unsigned r = 0; r < RESTORED_REGS; r++) {
        microkit_vcpu_arm_write_reg(id, restored_regs[r], vmm->initial_regs[vcpu][r]);
    }
    microkit_vcpu_arm_write_reg(id, seL4_VCPUReg_VMPIDR_EL2, VMPIDR_RES1 | vcpu);
    seL4_UserContext ctx = { 0 };
    ctx.pc = pc;
    ctx.spsr = SPSR_EL1H_DAIF_MASKED;
    ctx.x0 = x0;
    if (!vmm_write_regs(vmm, vcpu, &ctx, true)) {
        vmm_log("VM '%s' vCPU %u: cannot write its registers", vmm->name, vcpu);
        return false;
    }
    seL4_ARM_VCPU_ReadRegs_t off = seL4_ARM_VCPU_ReadRegs(BASE_VCPU_CAP + id,
                                                          seL4_VCPUReg_CNTVOFF);
    vmm->cntvoff[vcpu] = off.error == seL4_NoError ? off.value : 0;
    vmm->psci.on[vcpu] = true;
    return true;
}

/* What placing the images cost, for npm run bench and the boot tests (bench/startup.ts,
 * test/e2e read this line): the bytes written into guest RAM from a copy elsewhere (copied, or
 * unpacked from the stored size; 0 when every image was prefilled in place), the images' sizes
 * in guest RAM, the disk images copied into their regions, and the time from `start`, which
 * includes zeroing the kernel's BSS and the cache clean. Only where there is a console
 * (CONFIG_PRINTING: Microkit debug builds; libmicrokit's microkit_dbg_putc tests the same). */
static void log_image_load(const struct vmm *vmm, uint64_t start, uint64_t copied)
{
#if defined(CONFIG_PRINTING)
    const struct vmm_config *config = vmm->config;
    uint64_t ticks = vmm_counter_now() - start;
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    uint32_t in_place = config->flags & (VMM_CONFIG_FLAG_KERNEL_IN_PLACE | VMM_CONFIG_FLAG_DTB_IN_PLACE
                                         | VMM_CONFIG_FLAG_INITRD_IN_PLACE);
    uint64_t stored = 0;
    const struct vmm_config_image *images[] = { &config->kernel, &config->dtb, &config->initrd };
    const uint32_t flags[] = { VMM_CONFIG_FLAG_KERNEL_IN_PLACE, VMM_CONFIG_FLAG_DTB_IN_PLACE,
                               VMM_CONFIG_FLAG_INITRD_IN_PLACE };
    for (unsigned i = 0; i < 3; i++) {
        stored += (config->flags & flags[i]) ? 0 : images[i]->size;
    }
    vmm_log("VM '%s' images: copied %llu bytes (kernel %llu, DTB %llu, initrd %llu%s; disks copied "
            "%llu; stored %llu) in %llu us", vmm->name, (unsigned long long)copied,
            (unsigned long long)vmm_config_kernel_guest_size(config),
            (unsigned long long)config->dtb.size,
            (unsigned long long)vmm_config_initrd_guest_size(config),
            in_place ? " prefilled in place" : "",
            (unsigned long long)vmm->virtio.disk_bytes_copied, (unsigned long long)stored,
            (unsigned long long)(frequency != 0 ? ticks * 1000000u / frequency : 0));
#else
    (void)vmm;
    (void)start;
    (void)copied;
#endif
}

static void virtio_notify(unsigned channel)
{
    the_vm.events.notify_out++;
    microkit_notify(channel);
}

/* A line of guest console output: the counters marker (vmm.h) prints our counters. */
static void console_line(void *ctx, const char *line)
{
    char label[VMM_COUNTERS_LABEL_MAX + 1];
    if (vmm_counters_marker(line, label)) {
        vmm_counters_log(ctx, label);
    }
}

static void virtio_irq_ack(unsigned channel)
{
    microkit_irq_ack(channel);
}

/* After a SYSTEM_RESET the kernel's list registers may still hold interrupts of the old guest:
 * the vGIC starts afresh but keeps them marked as occupied so we never inject over an active
 * one; their EOIs (or none) free them as usual. */
static void reset_vgic(struct vmm *vmm)
{
    const struct vmm_config *config = vmm->config;
    uint16_t held[VMM_CONFIG_MAX_VCPUS][VGIC_NR_LRS];
    for (unsigned v = 0; v < VMM_CONFIG_MAX_VCPUS; v++) {
        memcpy(held[v], vmm->vgic.vcpu[v].lr, sizeof(held[v]));
    }
    vgic_init(&vmm->vgic, config->vcpu_count, &vgic_ops, vmm);
    /* Only the lines this VM can be given (vgic.h); the config check bounds every INTID. */
    unsigned max_intid = vmm_config_max_intid(config);
    if (!vgic_set_max_intid(&vmm->vgic, max_intid)) {
        vmm_log("VM '%s': INTID %u is beyond the vGIC's %u lines; all advertised", vmm->name,
                max_intid, VGIC_NR_IRQS);
    }
    for (unsigned v = 0; v < VMM_CONFIG_MAX_VCPUS; v++) {
        memcpy(vmm->vgic.vcpu[v].lr, held[v], sizeof(held[v]));
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        struct vgic_irq *irq = vgic_irq(&vmm->vgic, 0, config->irqs[i].intid);
        if (irq != NULL) {
            irq->edge = config->irqs[i].trigger == VMM_CONFIG_TRIGGER_EDGE;
        }
    }
}

/*
 * The guest images: kernel, initrd and DTB placed in guest RAM, at boot and at every restart.
 * On Microkit 2.3.0 they are prefilled in place for the first boot (nothing copied), and a
 * restart copies them from read-only pristine copies; on 2.0.1 they are copied (unpacked if
 * stored compressed) from the VMM's program image. *copied: the bytes written.
 */
bool guest_images_place(struct vmm *vmm, uint64_t *copied, char *err, size_t err_size)
{
    const struct vmm_config *config = vmm->config;
    struct guest_ram ram = {
        .guest_base = config->ram_guest_base,
        .size = config->ram_size,
        .vmm = (uint8_t *)(uintptr_t)config->ram_vmm_vaddr,
    };
    *copied = 0;
    if (!guest_place_linux(config, &ram, vmm->booted, copied, err, err_size)) {
        return false;
    }
    vmm->booted = true;
    return true;
}

bool vmm_boot(struct vmm *vmm, bool first, char *err, size_t err_size)
{
    const struct vmm_config *config = vmm->config;
    uint64_t load_start = vmm_counter_now();
    uint64_t copied = 0;
    if (!guest_images_place(vmm, &copied, err, err_size)) {
        return false;
    }
    reset_vgic(vmm);
    for (unsigned i = 0; i < config->device_count; i++) {
        if (config->devices[i].kind == VMM_CONFIG_DEVICE_PL011) {
            pl011_init(&vmm->uarts[i].pl011, vmm->name);
            vmm->uarts[i].pl011.on_line = console_line;
            vmm->uarts[i].pl011.on_line_ctx = vmm;
        }
    }
    vmm_doorbells_reset(&vmm->doorbells);
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    struct vmm_virtio_env virtio_env = { virtio_notify, virtio_irq_ack, vmm->name, &vmm->vgic,
                                         frequency / 1000000u * VMM_VIRTIO_TX_HOLD_US };
    if (first ? !vmm_virtio_init(&vmm->virtio, config, &virtio_env, err, (unsigned)err_size)
              : !vmm_virtio_reset(&vmm->virtio, config, &virtio_env, err, (unsigned)err_size)) {
        return false;
    }
    log_image_load(vmm, load_start, copied);
    vmm->vgic.vcpu[0].online = true;
    vmm->running = true;
    if (!vmm_start_vcpu(vmm, 0, config->entry, config->dtb.guest_addr)) {
        vmm->running = false;
        vmm_snprintf(err, err_size, "vCPU 0 could not be started");
        return false;
    }
    vmm_log("VM '%s' started: kernel 0x%llx, DTB 0x%llx, initrd 0x%llx (+0x%llx), %u vCPU(s), "
            "GICv%u", vmm->name, (unsigned long long)config->entry,
            (unsigned long long)config->dtb.guest_addr,
            (unsigned long long)config->initrd.guest_addr,
            (unsigned long long)config->initrd.size, config->vcpu_count, VGIC_VERSION);
    return true;
}

void init(void)
{
    struct vmm *vmm = &the_vm;
    vmm->name = "?";
    char err[200];
    if (!vmm_config_check(vmm_config_blob, sizeof(vmm_config_blob), VGIC_VERSION, err,
                          sizeof(err))) {
        vmm_log("config blob rejected: %s (protection domain '%s'); no guest started", err,
                microkit_name);
        return;
    }
    const struct vmm_config *config = (const struct vmm_config *)(const void *)vmm_config_blob;
    vmm->config = config;
    vmm->name = config->vm_name;
    if (!vmm_mmio_register(vmm, err, sizeof(err))
        || !vmm_doorbells_register(&vmm->doorbells, config, virtio_notify, &vmm->vgic, &vmm->bus,
                                   err, sizeof(err))) {
        vmm_log("VM '%s' not started: %s", vmm->name, err);
        return;
    }
    vmm->psci.vcpu_count = config->vcpu_count;
    vmm->psci.ram_base = config->ram_guest_base;
    vmm->psci.ram_size = config->ram_size;
    snapshot_vcpu_regs(vmm);
    vcpu_idle_init(&vmm->idle, config->vcpu_count);
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    vmm->wfe_slice = frequency / 10000u;
    vmm_life_init(vmm);
}

/* ---------------------------------------------------------------- interrupts */

void notified(microkit_channel ch)
{
    struct vmm *vmm = &the_vm;
    if (vmm->config == NULL) {
        return;
    }
    if (vmm_life_notified(vmm, ch)) {
        /* The control channel, or anything while the guest is stopped (restart.c). */
        return;
    }
    const struct vmm_config *config = vmm->config;
    vmm->events.notify_in++;
    if (vmm_idle_blocks(vmm) && ch == config->timer_channel) {
        /* The timer PD: a deadline of ours has passed (a sleeping vCPU's, or sent chains'
         * hold, whose interrupt then wakes it). */
        vmm->events.notify_in_timer++;
        vcpu_idle_timer_fired(&vmm->idle);
        if (!vmm_virtio_exit_done(&vmm->virtio, vmm_counter_now())) {
            vmm_stop(vmm, VMM_CAUSE_GUEST_FAULT, vmm_virtio_report(&vmm->virtio));
            return;
        }
        wake_ready_vcpus(vmm);
        return;
    }
    bool virtio_error;
    if (vmm_virtio_notified(&vmm->virtio, ch, &virtio_error)) {
        if (virtio_error) {
            vmm_stop(vmm, VMM_CAUSE_GUEST_FAULT, vmm_virtio_report(&vmm->virtio));
            return;
        }
        wake_ready_vcpus(vmm);
        return;
    }
    if (vmm_doorbells_notified(&vmm->doorbells, ch)) {
        /* A peer rang the guest: an edge on its doorbell line (docs/doorbell.md). */
        wake_ready_vcpus(vmm);
        return;
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        if (config->irqs[i].channel == ch) {
            /* Acked at the guest's EOI (handle_maintenance), so a level IRQ cannot refire
             * before the guest has serviced the device. */
            vmm->exits.irq++;
            vgic_raise(&vmm->vgic, 0, config->irqs[i].intid);
            wake_ready_vcpus(vmm);
            return;
        }
    }
    vmm_log("VM '%s': notification on channel %u, which is no passthrough IRQ", vmm->name, ch);
}

/* Before a restart: the sources of interrupts the old guest never EOI'd are still masked
 * (passthrough IRQs un-acked, those that came while it was stopped, the timer PPI masked by
 * the kernel); release them. */
/*
 * Before a restart: a list register the old guest left pending (it died with interrupts
 * masked) would be delivered to the new kernel as soon as it unmasks them, before any driver
 * has mapped that INTID; Linux then never EOIs it (gic_handle_irq: no mapping, no eoi), the
 * list register stays active and that device's interrupt is lost for good. seL4 lets us
 * overwrite a pending (not an active) list register, so each one the vGIC still counts as held
 * becomes SGI 0, which Linux maps before it first unmasks interrupts and EOIs as a reschedule
 * IPI; its maintenance frees the register as usual. An active one (the guest died inside a
 * handler) cannot be replaced and stays held.
 */
static void scrub_list_registers(struct vmm *vmm)
{
    for (unsigned v = 0; v < vmm->config->vcpu_count; v++) {
        const struct vgic_irq *sgi0 = vgic_irq(&vmm->vgic, v, 0);
        uint8_t group = sgi0 != NULL && sgi0->group1 ? 1 : 0;
        for (unsigned lr = 0; lr < VGIC_NR_LRS; lr++) {
            if (vmm->vgic.vcpu[v].lr[lr] == 0) {
                continue;
            }
            seL4_Error err = seL4_ARM_VCPU_InjectIRQ(BASE_VCPU_CAP + vmm_vcpu_id(vmm, v), 0, 0,
                                                     group, (seL4_Uint8)lr);
            if (err == seL4_NoError) {
                vmm->vgic.vcpu[v].lr[lr] = 1u;      /* SGI 0, INTID + 1 */
            } else {
                vmm_log("VM '%s' vCPU %u: list register %u still holds INTID %u of the last "
                        "guest (active; seL4 error %d)", vmm->name, v, lr,
                        vmm->vgic.vcpu[v].lr[lr] - 1u, (int)err);
            }
        }
    }
}

void vmm_release_held_interrupts(struct vmm *vmm)
{
    const struct vmm_config *config = vmm->config;
    for (unsigned i = 0; i < config->irq_count; i++) {
        if (vmm->irqs_held & (1ull << config->irqs[i].channel)) {
            microkit_irq_ack(config->irqs[i].channel);
        }
    }
    vmm->irqs_held = 0;
    for (unsigned v = 0; v < config->vcpu_count; v++) {
        microkit_vcpu_arm_ack_vppi(vmm_vcpu_id(vmm, v), VGIC_VTIMER_INTID);
        for (unsigned lr = 0; lr < VGIC_NR_LRS; lr++) {
            unsigned intid = vmm->vgic.vcpu[v].lr[lr];
            for (unsigned i = 0; intid != 0 && i < config->irq_count; i++) {
                if (config->irqs[i].intid == intid - 1u) {
                    microkit_irq_ack(config->irqs[i].channel);
                }
            }
        }
    }
    scrub_list_registers(vmm);
}

seL4_Bool fault(microkit_child child, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
{
    struct vmm *vmm = &the_vm;
    int v = vcpu_of_child(vmm, child);
    if (v < 0 || !vmm->running) {
        vmm_log("fault from child %u, which is no running vCPU of ours (label %llu); ignored",
                child, (unsigned long long)microkit_msginfo_get_label(msginfo));
        return seL4_False;
    }
    vcpu_idle_exit_seen(&vmm->idle, (unsigned)v);
    seL4_Bool reply = vmm_handle_exit(vmm, (unsigned)v, msginfo, reply_msginfo);
    if (vmm->running && !vmm_virtio_exit_done(&vmm->virtio, vmm_counter_now())) {
        vmm_stop(vmm, VMM_CAUSE_GUEST_FAULT, vmm_virtio_report(&vmm->virtio));
        return seL4_False;
    }
    wake_ready_vcpus(vmm);
    return reply;
}
