/*
 * What each kind of guest exit does, for vmm.c's fault(): a stage-2 data abort on an emulated
 * frame (the GIC windows, a PL011, a virtio device: the VM's MMIO bus) is emulated by the
 * frame's handler and the PC advanced; SMC (VCPUFault) and HVC (seL4 reports it as
 * UnknownSyscall) go to PSCI; WFI/WFE suspend the vCPU until it has something to do
 * (vcpu_idle.h); VGIC maintenance (an EOI) acks the passthrough IRQ, the timer VPPI or
 * re-raises a level still asserted; the VPPI event injects the virtual timer. Anything else is
 * reported in one decoded line and the VM is stopped, while the VMM keeps serving
 * notifications. Every handler gets the VM (struct vmm) from vmm.c's fault().
 */
#include <microkit.h>

#include "fault.h"
#include "mmio_bus.h"
#include "smc.h"
#include "vmm.h"
#include "vmm_fmt.h"
#include "vmm_microkit.h"

static void handle_maintenance(struct vmm *vmm, unsigned vcpu, seL4_Word lr)
{
    const struct vmm_config *config = vmm->config;
    int intid = vgic_maintenance(&vmm->vgic, vcpu, (unsigned)lr);
    if (intid < 0) {
        return;
    }
    if (intid == (int)VGIC_VTIMER_INTID) {
        vmm->exits.maintenance_vtimer++;
        /* The kernel masked the timer PPI when it raised the VPPI event; unmask it only now
         * that the guest has handled it, or the still-asserted line would refire at once. */
        microkit_vcpu_arm_ack_vppi(vmm_vcpu_id(vmm, vcpu), VGIC_VTIMER_INTID);
        return;
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        if (config->irqs[i].intid == (unsigned)intid) {
            microkit_irq_ack(config->irqs[i].channel);
            return;
        }
    }
    if (vmm_virtio_eoi(&vmm->virtio, (unsigned)intid)) {
        return;
    }
    if (vmm_doorbells_eoi(&vmm->doorbells, (unsigned)intid)) {
        return;
    }
    for (unsigned i = 0; i < config->device_count; i++) {
        /* A level-triggered emulated line still asserted after EOI is raised again. */
        if (config->devices[i].kind == VMM_CONFIG_DEVICE_PL011 && config->devices[i].intid == (unsigned)intid
            && pl011_irq_level(&vmm->uarts[i].pl011)) {
            vgic_raise(&vmm->vgic, 0, (unsigned)intid);
        }
    }
}

/* ---------------------------------------------------------------- faults */

static bool report_and_stop(struct vmm *vmm, unsigned vcpu, const char *what, uint64_t esr,
                            uint64_t addr, uint64_t pc)
{
    struct fault_esr e = fault_decode_esr(esr);
    char detail[LIFECYCLE_DETAIL_SIZE];
    vmm_snprintf(detail, sizeof(detail), "vCPU %u: unhandled %s: %s, address 0x%llx, PC 0x%llx, "
                 "ESR 0x%llx", vcpu, what, fault_ec_name(e.ec), (unsigned long long)addr,
                 (unsigned long long)pc, (unsigned long long)esr);
    vmm_log("VM '%s' vCPU %u stopped: unhandled %s: %s, address 0x%llx, PC 0x%llx, ESR 0x%llx",
            vmm->name, vcpu, what, fault_ec_name(e.ec), (unsigned long long)addr,
            (unsigned long long)pc, (unsigned long long)esr);
    vmm_halt(vmm);
    vmm_guest_stopped(vmm, VMM_CAUSE_GUEST_FAULT, detail);
    return false;
}

static bool resume(microkit_msginfo *reply)
{
    *reply = microkit_msginfo_new(0, 0);
    return true;
}

/* A stage-2 fault as the kernel reports it. */
struct vm_fault {
    uint64_t ip, addr, esr;
};

/* What a frame's handler found: false when the VM was stopped for it. */
static bool mmio_outcome(struct vmm *vmm, unsigned vcpu, const struct vm_fault *f,
                         enum mmio_status st, const struct mmio_access *a)
{
    switch (st) {
    case MMIO_OK:
        return true;
    case MMIO_IGNORED:
        vmm_log("VM '%s' vCPU %u: %s", vmm->name, vcpu, a->why);
        return true;
    case MMIO_BAD_ACCESS:
        return report_and_stop(vmm, vcpu, a->why, f->esr, f->addr, f->ip);
    case MMIO_DEVICE_FAILED:
    default:
        vmm_stop(vmm, VMM_CAUSE_GUEST_FAULT, a->why);
        return false;
    }
}

/* Emulates a trapped load/store on an emulated frame: a lookup on the MMIO bus and a call. */
static bool handle_vm_fault(struct vmm *vmm, unsigned vcpu, microkit_msginfo *reply)
{
    struct vm_fault f = { microkit_mr_get(seL4_VMFault_IP), microkit_mr_get(seL4_VMFault_Addr),
                          microkit_mr_get(seL4_VMFault_FSR) };
    bool prefetch = microkit_mr_get(seL4_VMFault_PrefetchFault) != 0;
    struct fault_data_abort da;
    char what[96];
    if (prefetch || !fault_decode_data_abort(f.esr, &da)) {
        return report_and_stop(vmm, vcpu, prefetch ? "instruction fetch" : "VM fault", f.esr,
                               f.addr, f.ip);
    }
    if (!da.isv) {
        /* No syndrome (e.g. LDP/STP or a cache maintenance op on device memory): we would
         * have to decode the instruction from guest memory, which we do not do. */
        vmm_snprintf(what, sizeof(what), "%s without syndrome (%s)",
                     da.write ? "write" : "read", fault_dfsc_name(da.dfsc));
        return report_and_stop(vmm, vcpu, what, f.esr, f.addr, f.ip);
    }
    seL4_UserContext ctx;
    if (!vmm_read_regs(vmm, vcpu, &ctx)) {
        return report_and_stop(vmm, vcpu, "fault (cannot read registers)", f.esr, f.addr, f.ip);
    }
    const struct mmio_region *region = mmio_bus_find(&vmm->bus, f.addr);
    if (region == NULL) {
        vmm_snprintf(what, sizeof(what), "%u-byte %s of an unmapped address (%s)", da.size,
                     da.write ? "write" : "read", fault_dfsc_name(da.dfsc));
        return report_and_stop(vmm, vcpu, what, f.esr, f.addr, f.ip);
    }
    seL4_Word *rt = vmm_user_reg(&ctx, da.srt);
    struct mmio_access a = { .vcpu = vcpu, .width = da.size, .write = da.write };
    a.value = da.write && rt != NULL ? fault_store_value(&da, *rt) : 0;
    if (!mmio_outcome(vmm, vcpu, &f, mmio_bus_access(region, f.addr, &a), &a)) {
        return false;
    }
    if (!da.write && rt != NULL) {
        *rt = fault_load_value(&da, a.value);
    }
    ctx.pc = f.ip + 4;    /* A64: every trapped load/store is a 32-bit instruction */
    if (!vmm_write_regs(vmm, vcpu, &ctx, false)) {
        return report_and_stop(vmm, vcpu, "fault (cannot write registers)", f.esr, f.addr, f.ip);
    }
    return resume(reply);
}

/* On a multicore debug kernel, where each vCPU runs says seL4 itself: its scheduler dump lists
 * the threads of the calling core (ksDebugTCBs is per node, include/api/debug.h in seL4 16.0.0),
 * with their affinity. A vCPU placed on another core (Microkit 2.3.0 vcpu cpu) is not in the
 * VMM's list; one on the VMM's core is. test/e2e/microkit-2.3.0.test.ts reads it. */
static void dump_cores(const struct vmm *vmm, unsigned vcpu)
{
#if defined(CONFIG_DEBUG_BUILD) && defined(CONFIG_ENABLE_SMP_SUPPORT)
    vmm_log("VM '%s' vCPU %u: started; the threads on the VMM's core:", vmm->name, vcpu);
    seL4_DebugDumpScheduler();
#else
    (void)vmm;
    (void)vcpu;
#endif
}

/* Carries out a PSCI decision. `advance` is the PC step (4 after a trapped SMC, whose
 * preferred return address is the SMC itself; 0 after HVC, which already points past it). */
static bool apply_psci(struct vmm *vmm, unsigned vcpu, seL4_UserContext *ctx,
                       const struct psci_result *r, unsigned advance, microkit_msginfo *reply)
{
    switch (r->action) {
    case PSCI_ACTION_CPU_OFF:
        microkit_vcpu_stop(vmm_vcpu_id(vmm, vcpu));
        vmm->psci.on[vcpu] = false;
        vmm->vgic.vcpu[vcpu].online = false;
        vmm_log("VM '%s' vCPU %u: PSCI CPU_OFF", vmm->name, vcpu);
        return false;
    case PSCI_ACTION_SYSTEM_OFF:
        vmm_stop(vmm, VMM_CAUSE_GUEST_OFF, "PSCI SYSTEM_OFF");
        return false;
    case PSCI_ACTION_SYSTEM_RESET:
        /* A reset is a failure to the restart policy (Linux `reboot`, or a panic with
         * panic=N): restart.c decides whether the guest starts again. */
        vmm_stop(vmm, VMM_CAUSE_GUEST_RESET, "PSCI SYSTEM_RESET");
        return false;
    case PSCI_ACTION_CPU_ON:
        if (!vmm_start_vcpu(vmm, r->target_vcpu, r->entry, r->context_id)) {
            ctx->x0 = (seL4_Word)(int64_t)PSCI_INTERNAL_FAILURE;
        } else {
            vmm->vgic.vcpu[r->target_vcpu].online = true;
            ctx->x0 = (seL4_Word)r->x0;
            dump_cores(vmm, r->target_vcpu);
        }
        break;
    case PSCI_ACTION_RETURN:
        ctx->x0 = (seL4_Word)r->x0;
        break;
    }
    ctx->pc += advance;
    if (!vmm_write_regs(vmm, vcpu, ctx, false)) {
        return report_and_stop(vmm, vcpu, "PSCI call (cannot write registers)", 0, 0, ctx->pc);
    }
    return resume(reply);
}

static bool handle_smc_hvc(struct vmm *vmm, unsigned vcpu, unsigned advance, uint64_t esr,
                           microkit_msginfo *reply)
{
    seL4_UserContext ctx;
    if (!vmm_read_regs(vmm, vcpu, &ctx)) {
        return report_and_stop(vmm, vcpu, "SMC/HVC (cannot read registers)", esr, 0, 0);
    }
    uint64_t args[8] = { ctx.x0, ctx.x1, ctx.x2, ctx.x3, ctx.x4, ctx.x5, ctx.x6, ctx.x7 };
    struct psci_result r;
    smc_handle(&vmm->psci, vcpu, args, &r);
    return apply_psci(vmm, vcpu, &ctx, &r, advance, reply);
}

static bool advance_pc(struct vmm *vmm, unsigned vcpu, microkit_msginfo *reply)
{
    seL4_UserContext ctx;
    if (!vmm_read_regs(vmm, vcpu, &ctx)) {
        return report_and_stop(vmm, vcpu, "trap (cannot read registers)", 0, 0, 0);
    }
    ctx.pc += 4;
    if (!vmm_write_regs(vmm, vcpu, &ctx, false)) {
        return report_and_stop(vmm, vcpu, "trap (cannot write registers)", 0, 0, ctx.pc);
    }
    return resume(reply);
}

#if defined(GIC_V3)
/* ICC_SGI1R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5) traps with HCR_EL2.IMO set. */
static bool handle_sysreg(struct vmm *vmm, unsigned vcpu, uint64_t esr, microkit_msginfo *reply)
{
    struct fault_sysreg sr;
    if (fault_decode_sysreg(esr, &sr) && !sr.read && sr.op0 == 3 && sr.op1 == 0
        && sr.crn == 12 && sr.crm == 11 && sr.op2 == 5) {
        seL4_UserContext ctx;
        if (!vmm_read_regs(vmm, vcpu, &ctx)) {
            return report_and_stop(vmm, vcpu, "MSR (cannot read registers)", esr, 0, 0);
        }
        seL4_Word *rt = vmm_user_reg(&ctx, sr.rt);
        vgic_v3_sgi1r_write(&vmm->vgic, vcpu, rt != NULL ? *rt : 0);
        ctx.pc += 4;
        if (!vmm_write_regs(vmm, vcpu, &ctx, false)) {
            return report_and_stop(vmm, vcpu, "MSR (cannot write registers)", esr, 0, ctx.pc);
        }
        return resume(reply);
    }
    return report_and_stop(vmm, vcpu, "system register access", esr, 0, 0);
}
#endif

static bool sibling_runnable(const struct vmm *vmm, unsigned vcpu)
{
    for (unsigned v = 0; v < vmm->config->vcpu_count; v++) {
        if (v != vcpu && vmm->psci.on[v] && !vmm->idle.blocked[v]) {
            return true;
        }
    }
    return false;
}

/* WFI or WFE (EC 0x01; ISS.TI, Arm ARM D17.2.37: 0 WFI, 1 WFE, 2 WFIT, 3 WFET). Suspends the
 * vCPU past the instruction when vcpu_idle_block says so, else resumes it. WFIT/WFET carry a
 * timeout in a register that we do not model: they resume at once, which they allow. */
static bool handle_wfx(struct vmm *vmm, unsigned vcpu, uint64_t esr, microkit_msginfo *reply)
{
    vmm->exits.wfx++;
    unsigned ti = (unsigned)(esr & 3u);
    if (!vmm_idle_blocks(vmm) || ti > 1) {
        return advance_pc(vmm, vcpu, reply);
    }
    /* Frames it queued are sent before it sleeps; the chains they took go back with the
     * next interrupt, at the latest when their hold passes (vmm_virtio_idle): a deadline. */
    uint64_t now = vmm_counter_now();
    uint64_t hold;
    if (!vmm_virtio_idle(&vmm->virtio, now, &hold)) {
        vmm_stop(vmm, VMM_CAUSE_GUEST_FAULT, vmm_virtio_report(&vmm->virtio));
        return false;
    }
    struct vcpu_idle_wfx w = {
        .wfe = ti == 1,
        .has_work = vgic_vcpu_has_work(&vmm->vgic, vcpu),
        .sibling_runnable = sibling_runnable(vmm, vcpu),
        .now = now,
        .wfe_slice = vmm->wfe_slice,
    };
    w.vtimer_deadline = w.has_work ? now : vmm_vtimer_deadline(vmm, vcpu, now);
    w.vtimer_deadline = hold < w.vtimer_deadline ? hold : w.vtimer_deadline;
    if (!vcpu_idle_block(&vmm->idle, vcpu, &w)) {
        return advance_pc(vmm, vcpu, reply);
    }
    /* Past the WFx, then off the CPU. TCB_Suspend also cancels the fault's pending reply, so
     * the handler loop's next receive finds the reply object free; TCB_Resume restarts it. */
    seL4_UserContext ctx;
    if (!vmm_read_regs(vmm, vcpu, &ctx)) {
        vcpu_idle_wake(&vmm->idle, vcpu, true, now);
        return report_and_stop(vmm, vcpu, "WFx (cannot read registers)", esr, 0, 0);
    }
    ctx.pc += 4;
    if (!vmm_write_regs(vmm, vcpu, &ctx, false)) {
        vcpu_idle_wake(&vmm->idle, vcpu, true, now);
        return report_and_stop(vmm, vcpu, "WFx (cannot write registers)", esr, 0, ctx.pc);
    }
    microkit_vcpu_stop(vmm_vcpu_id(vmm, vcpu));
    return false;
}

static bool handle_vcpu_fault(struct vmm *vmm, unsigned vcpu, microkit_msginfo *reply)
{
    uint64_t esr = microkit_mr_get(seL4_VCPUFault_HSR);
    struct fault_esr e = fault_decode_esr(esr);
    switch (e.ec) {
    case FAULT_EC_WFX:
        return handle_wfx(vmm, vcpu, esr, reply);
    case FAULT_EC_SMC64:
    case FAULT_EC_SMC32:
        vmm->exits.smc_hvc++;
        return handle_smc_hvc(vmm, vcpu, 4, esr, reply);
    case FAULT_EC_HVC64:
    case FAULT_EC_HVC32:
        vmm->exits.smc_hvc++;
        return handle_smc_hvc(vmm, vcpu, 0, esr, reply);
#if defined(GIC_V3)
    case FAULT_EC_SYSREG:
        vmm->exits.sysreg++;
        return handle_sysreg(vmm, vcpu, esr, reply);
#endif
    default: {
        seL4_UserContext ctx;
        uint64_t pc = vmm_read_regs(vmm, vcpu, &ctx) ? ctx.pc : 0;
        return report_and_stop(vmm, vcpu, "vCPU exception", esr, 0, pc);
    }
    }
}

seL4_Bool vmm_handle_exit(struct vmm *vmm, unsigned vcpu, microkit_msginfo msginfo,
                          microkit_msginfo *reply)
{
    seL4_Word label = microkit_msginfo_get_label(msginfo);
    switch (label) {
    case seL4_Fault_VMFault:
        vmm->exits.mmio++;
        return handle_vm_fault(vmm, vcpu, reply);
    case seL4_Fault_VCPUFault:
        return handle_vcpu_fault(vmm, vcpu, reply);
    case seL4_Fault_UnknownSyscall: {
        /* seL4 routes a guest HVC through its syscall path; the fault IP is the HVC. */
        vmm->exits.smc_hvc++;
        return handle_smc_hvc(vmm, vcpu, 4, 0, reply);
    }
    case seL4_Fault_VGICMaintenance:
        vmm->exits.maintenance++;
        handle_maintenance(vmm, vcpu, microkit_mr_get(seL4_VGICMaintenance_IDX));
        return resume(reply);
    case seL4_Fault_VPPIEvent: {
        vmm->exits.vppi++;
        seL4_Word irq = microkit_mr_get(seL4_VPPIEvent_IRQ);
        if (!vgic_raise(&vmm->vgic, vcpu, (unsigned)irq)) {
            microkit_vcpu_arm_ack_vppi(vmm_vcpu_id(vmm, vcpu), irq);
        }
        return resume(reply);
    }
    case seL4_Fault_UserException:
        return report_and_stop(vmm, vcpu, "user exception",
                               microkit_mr_get(seL4_UserException_Code), 0,
                               microkit_mr_get(seL4_UserException_FaultIP));
    default: {
        char what[48];
        vmm_snprintf(what, sizeof(what), "fault label %llu", (unsigned long long)label);
        return report_and_stop(vmm, vcpu, what, 0, 0, 0);
    }
    }
}
