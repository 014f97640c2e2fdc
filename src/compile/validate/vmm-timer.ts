// The timer PD that wakes idle vCPUs: its time source exists on this board and kernel, the
// kernel keeps guest time running while a vCPU sleeps, and its priority lets it run.
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type SystemModel } from '../model/index.js';

export function checkVmmTimer(system: SystemModel): Diagnostic[] {
  const timer = system.vmmTimer;
  if (!timer) return [];
  const out: Diagnostic[] = [];
  const kernel = system.kernel;
  if (timer.source === 'arm-ptimer') {
    const exported = kernel ? kernel.exportPtimer : system.board?.timer.userPhysicalTimer ?? false;
    if (!exported) {
      const why = kernel ? `the SDK's kernel (${kernel.source}) is built without EXPORT_PTMR_USER` : `Microkit's kernel for '${system.board?.name ?? '?'}' is built without KernelArmExportPTMRUser`;
      out.push(error('vmm-timer-source-unavailable', `vmmTimer source 'arm-ptimer' drives the EL1 physical timer from user level, but ${why}`, timer.loc, {
        hint: "use source: 'sched-tick' (the default), which needs no device",
      }));
    }
  }
  if (kernel?.vtimerUpdateVoffset) {
    out.push(error('vmm-timer-voffset', `the SDK's kernel (${kernel.source}) is built with VTIMER_UPDATE_VOFFSET: it stops a vCPU's virtual clock while the vCPU is switched out, so a guest sleeping in WFI would never see its timer expire`, timer.loc, {
      hint: "build the SDK with KernelArmVtimerUpdateVOffset off (Microkit's own build_sdk.py does), or give the guests idle: 'spin'",
    }));
  }
  const pd = allProtectionDomains(system).find((p) => p.name === timer.pd);
  const busiest = allProtectionDomains(system)
    .filter((p) => p.virtualMachine && timer.clients.some((c) => c.vmm === p.name))
    .map((p) => ({ vm: p.virtualMachine!.name, priority: p.virtualMachine!.priority }))
    .sort((a, b) => b.priority - a.priority)[0];
  if (pd && busiest && pd.priority <= busiest.priority) {
    out.push(warning('vmm-timer-priority-low', `timer PD '${pd.name}' has priority ${pd.priority}, not above virtual machine '${busiest.vm}' (${busiest.priority}): while that guest is busy, no other guest's idle vCPU wakes on time`, timer.loc, {
      hint: 'give vmmTimer a priority above every virtual machine (the default is 254)',
    }));
  }
  return out;
}
