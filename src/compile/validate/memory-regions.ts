// Memory regions: page sizes, alignment, physical overlap (Microkit's checks) and unused regions.
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { mappingContexts, allProtectionDomains, type MemoryRegionModel, type SystemModel } from '../model/index.js';
import { hex } from '../../format.js';
import { PAGE_SIZES, overlaps, range } from './common.js';

function describe(mr: MemoryRegionModel): string {
  switch (mr.role.kind) {
    case 'device': return `device '${mr.role.device}'`;
    case 'gic-vcpu': return 'the GIC virtual CPU interface';
    case 'guest-ram': return `the guest RAM of '${mr.role.vm}'`;
    default: return `memory region '${mr.name}'`;
  }
}

export function checkMemoryRegions(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const mr of system.memoryRegions) {
    const pageSize = mr.pageSize ?? PAGE_SIZES[0];
    if (!PAGE_SIZES.includes(pageSize as (typeof PAGE_SIZES)[number])) {
      out.push(error('mr-page-size-unsupported', `memory region '${mr.name}' has page size ${hex(pageSize)}, which AArch64 does not support`, mr.loc, {
        hint: 'use kib(4) or mib(2)',
      }));
      continue;
    }
    if (mr.size === 0n && mr.sizeFromPrefill) {
      // The prefill file was not found (or is empty): microkit-2.3.0.ts says so.
    } else if (mr.size === 0n) {
      out.push(error('mr-size-zero', `memory region '${mr.name}' has size 0`, mr.loc));
    } else if (mr.size % pageSize !== 0n) {
      out.push(error('mr-size-not-page-multiple', `memory region '${mr.name}' has size ${hex(mr.size)}, not a multiple of its page size ${hex(pageSize)}`, mr.loc, {
        hint: `round the size up to ${hex((mr.size + pageSize - 1n) / pageSize * pageSize)}`,
      }));
    }
    if (mr.physAddr !== undefined && mr.physAddr % pageSize !== 0n) {
      out.push(error('mr-paddr-unaligned', `memory region '${mr.name}' has physical address ${hex(mr.physAddr)}, not aligned to its page size ${hex(pageSize)}`, mr.loc));
    }
    if (mr.physAddr !== undefined && system.board && mr.physAddr + mr.size > 1n << BigInt(system.board.paddrBits)) {
      out.push(error('mr-paddr-too-high', `memory region '${mr.name}' ends at ${hex(mr.physAddr + mr.size)}, beyond the ${system.board.paddrBits}-bit physical address space of '${system.board.name}'`, mr.loc));
    }
  }

  const fixed = system.memoryRegions.filter((m) => m.physAddr !== undefined);
  for (let i = 0; i < fixed.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = fixed[i]!;
      const b = fixed[j]!;
      if (!overlaps(a.physAddr!, a.size, b.physAddr!, b.size)) continue;
      const sameDevice = a.role.kind === 'device' && b.role.kind === 'device' && a.role.device === b.role.device;
      out.push(error('mr-overlapping-paddr', sameDevice
        ? `${describe(a)} is passed through twice: its registers ${range(a.physAddr!, a.size)} are already region '${b.name}'`
        : `${describe(a)} has physical address range ${range(a.physAddr!, a.size)}, which overlaps ${describe(b)} ${range(b.physAddr!, b.size)}`, a.loc, {
        notes: [{ message: `'${b.name}' is declared here`, location: b.loc }],
        hint: a.role.kind === 'device' && b.role.kind === 'device' && !sameDevice
          ? "the two devices' registers lie in the same 4 KiB page, and seL4 maps whole pages: whoever gets one reaches the other; give both to one VM, or pick devices in other pages ('sel4cp-synth boards <board>' shows where each one is)"
          : 'two regions may not cover the same physical memory; map one region into several PDs instead (declared shared: true)',
      }));
    }
  }

  const used = new Set<string>();
  for (const ctx of mappingContexts(system)) for (const m of ctx.maps) used.add(m.mr);
  for (const pd of allProtectionDomains(system)) for (const sv of pd.setvars) used.add(sv.regionPaddr);
  for (const mr of system.memoryRegions) {
    if (!used.has(mr.name)) {
      out.push(warning('mr-unused', `memory region '${mr.name}' is not mapped anywhere`, mr.loc, { hint: 'map it into a PD or VM, or remove it' }));
    }
  }
  return out;
}
