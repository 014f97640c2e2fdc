// Protection domain attributes, children and setvars (Microkit's checks, plus the child-id and
// setvar region checks the Microkit tool leaves to a panic or a silent truncation).
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type ProtectionDomainModel, type SystemModel } from '../model/index.js';
import { hex } from '../../format.js';
import { LIMITS, PAGE_SIZES } from './common.js';

function scheduling(out: Diagnostic[], what: string, name: string, s: { priority: number; budget: number; period: number; loc: ProtectionDomainModel['loc'] }): void {
  if (!Number.isInteger(s.priority) || s.priority < 0 || s.priority > LIMITS.maxPriority) {
    out.push(error('priority-out-of-range', `${what} '${name}' has priority ${s.priority}; it must be between 0 and ${LIMITS.maxPriority}`, s.loc));
  }
  if (!Number.isInteger(s.budget) || s.budget <= 0) {
    out.push(error('budget-invalid', `${what} '${name}' has budget ${s.budget}; it must be a positive number of microseconds`, s.loc));
  }
  if (s.budget > s.period) {
    out.push(error('budget-gt-period', `${what} '${name}' has budget (${s.budget}) greater than period (${s.period})`, s.loc, {
      hint: 'the budget must be less than or equal to the period',
    }));
  }
}

export function checkProtectionDomains(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const pd of allProtectionDomains(system)) {
    scheduling(out, 'protection domain', pd.name, pd);
    if (pd.stackSize < LIMITS.minStack || pd.stackSize > LIMITS.maxStack) {
      out.push(error('pd-stack-size-range', `protection domain '${pd.name}' has stack size ${hex(pd.stackSize)}; it must be between ${hex(LIMITS.minStack)} and ${hex(LIMITS.maxStack)} bytes`, pd.loc));
    } else if (pd.stackSize % PAGE_SIZES[0] !== 0n) {
      out.push(error('pd-stack-size-unaligned', `protection domain '${pd.name}' has stack size ${hex(pd.stackSize)}, not a multiple of 4 KiB`, pd.loc));
    }
    if (pd.smc && system.kernel && !system.kernel.allowSmc) {
      out.push(error('pd-smc-not-allowed', `protection domain '${pd.name}' asks for SMC forwarding, but the seL4 kernel it will run on is built without KernelAllowSMCCalls (${system.kernel.source})`, pd.loc, {
        hint: 'drop smc: true, or use an SDK whose kernel for this board allows SMC calls',
      }));
    } else if (pd.smc && system.board && !system.kernel) {
      out.push(warning('pd-smc', `protection domain '${pd.name}' asks for SMC forwarding; the Microkit tool rejects it unless the kernel for '${system.board.name}' is built with KernelAllowSMCCalls`, pd.loc, {
        hint: 'with MICROKIT_SDK set, sel4cp-synth reads the kernel configuration and checks this',
      }));
    }

    const childIds = new Map<number, ProtectionDomainModel>();
    const vcpuIds = new Set((pd.virtualMachine?.vcpus ?? []).map((v) => v.id));
    for (const child of pd.children) {
      const id = child.childId ?? -1;
      if (!Number.isInteger(id) || id < 0 || id > LIMITS.maxChildId) {
        out.push(error('pd-child-id-out-of-range', `child protection domain '${child.name}' of '${pd.name}' has id ${id}; it must be between 0 and ${LIMITS.maxChildId}`, child.loc, {
          hint: 'the parent receives child faults with the id in the low 6 bits of a badge; larger ids collide with capability slots',
        }));
      }
      const prev = childIds.get(id);
      if (prev) {
        out.push(error('pd-duplicate-child-id', `child protection domains '${prev.name}' and '${child.name}' of '${pd.name}' both have id ${id}`, child.loc, {
          notes: [{ message: `'${prev.name}' is declared here`, location: prev.loc }],
        }));
      }
      if (vcpuIds.has(id)) {
        out.push(error('pd-child-id-clashes-vcpu', `child protection domain '${child.name}' of '${pd.name}' has id ${id}, which is also a vCPU id of its virtual machine '${pd.virtualMachine!.name}'`, child.loc));
      }
      childIds.set(id, child);
    }

    const symbols = new Map<string, ProtectionDomainModel['loc']>();
    const setvar = (symbol: string, loc: ProtectionDomainModel['loc']): void => {
      if (symbols.has(symbol)) {
        out.push(error('pd-duplicate-setvar', `protection domain '${pd.name}' sets symbol '${symbol}' twice`, loc, {
          notes: [{ message: 'first set here', location: symbols.get(symbol) }],
        }));
      } else {
        symbols.set(symbol, loc);
      }
    };
    for (const m of pd.maps) {
      if (m.setvarVaddr !== undefined) setvar(m.setvarVaddr, m.loc);
      if (m.setvarSize !== undefined) setvar(m.setvarSize, m.loc);
      if (m.setvarPrefillSize !== undefined) setvar(m.setvarPrefillSize, m.loc);
    }
    // Microkit 2.3.0 setvar_id: an irq's, a child's (set in the parent), a channel end's.
    for (const q of pd.irqs) if (q.setvarId !== undefined) setvar(q.setvarId, q.loc);
    for (const c of pd.children) if (c.setvarId !== undefined) setvar(c.setvarId, c.loc);
    for (const ch of system.channels) for (const e of [ch.a, ch.b]) if (e.pd === pd.name && e.setvarId !== undefined) setvar(e.setvarId, e.loc);
    for (const sv of pd.setvars) {
      setvar(sv.symbol, sv.loc);
      if (!system.memoryRegions.some((mr) => mr.name === sv.regionPaddr)) {
        out.push(error('setvar-unknown-region', `setvar '${sv.symbol}' in '${pd.name}' names memory region '${sv.regionPaddr}', which does not exist`, sv.loc, {
          hint: 'the Microkit tool panics on this; name a declared memory_region',
        }));
      }
    }
  }
  return out;
}

export { scheduling as checkScheduling };
