/*
 * What each kind of guest exit does, for vmm.c's fault(): stage-2 data aborts on the GIC
 * windows, an emulated PL011 or a virtio device are emulated and the PC advanced; SMC (VCPUFault)
 * and HVC (seL4 reports it as UnknownSyscall) go to PSCI; WFI/WFE suspend the vCPU until it has
 * something to do (vcpu_idle.h); VGIC maintenance (an EOI) acks the passthrough IRQ, the timer
 * VPPI or re-raises a level still asserted; the VPPI event injects the virtual timer. Anything
 * else is reported in one decoded line and the VM is stopped, while the VMM keeps serving
 * notifications.
 */
#include <microkit.h>

#include "fault.h"
#include "pl011_emul.h"
#include "psci.h"
#include "smc.h"
#include "vcpu_idle.h"
#include "vgic.h"
#include "vmm_config.h"
#include "vmm_fmt.h"
#include "vmm_state.h"
#include "vmm_virtio.h"

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

seL4_Bool vmm_handle_exit(unsigned vcpu, microkit_msginfo msginfo, microkit_msginfo *reply_msginfo)
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
