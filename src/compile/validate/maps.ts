// Mappings into PDs and VMs: the region exists, the address is aligned and in range, no two
// mappings in one address space overlap, permissions are ones the kernel accepts, and no device
// is mapped writable and executable.
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { mappingContexts, type SystemModel } from '../model/index.js';
import { userTop } from '../boards.js';
import { releaseFacts } from '../releases.js';
import { hex } from '../../format.js';
import { overlaps, range } from './common.js';

export function checkMaps(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const regions = new Map(system.memoryRegions.map((m) => [m.name, m] as const));
  const top = userTop(system.board);
  // 2.0.1: a PD's stack ends at the top of its address space; 2.3.0 puts the IPC buffer and a
  // guard page above it (sel4.rs pd_stack_top), so mappings must stay below the stack's bottom.
  const aboveStack = releaseFacts(system.microkit).aboveStack;

  for (const ctx of mappingContexts(system)) {
    const max = ctx.kind === 'protection domain' ? top - aboveStack - ctx.pd.stackSize : top;
    const placed: { name: string; start: bigint; size: bigint; loc: typeof ctx.loc }[] = [];
    for (const m of ctx.maps) {
      if (!/^r?w?x?$/.test(m.perms) || m.perms === '') {
        out.push(error('map-invalid-perms', `map of '${m.mr}' in ${ctx.kind} '${ctx.name}' has perms '${m.perms}'; use a combination of r, w and x`, m.loc));
      } else if (m.perms === 'w') {
        out.push(error('map-write-only', `map of '${m.mr}' in ${ctx.kind} '${ctx.name}' is write-only, which seL4 does not allow`, m.loc, { hint: "use 'rw'" }));
      }
      const mr = regions.get(m.mr);
      if (!mr) {
        out.push(error('map-unknown-region', `map in ${ctx.kind} '${ctx.name}' names memory region '${m.mr}', which does not exist`, m.loc));
        continue;
      }
      const pageSize = mr.pageSize ?? 0x1000n;
      if (m.vaddr % pageSize !== 0n) {
        out.push(error('map-vaddr-unaligned', `map of '${m.mr}' in ${ctx.kind} '${ctx.name}' is at ${hex(m.vaddr)}, not aligned to the region's page size ${hex(pageSize)}`, m.loc));
      }
      if (m.vaddr >= max) {
        out.push(error('map-vaddr-too-high', `map of '${m.mr}' in ${ctx.kind} '${ctx.name}' is at ${hex(m.vaddr)}; it must be below ${hex(max)}`, m.loc, {
          hint: ctx.kind === 'protection domain' ? 'the top of a PD\'s address space holds its stack' : undefined,
        }));
      } else if (m.vaddr + mr.size > max) {
        out.push(error('map-vaddr-too-high', `map of '${m.mr}' in ${ctx.kind} '${ctx.name}' ${range(m.vaddr, mr.size)} runs past ${hex(max)}`, m.loc));
      }
      for (const p of placed) {
        if (overlaps(m.vaddr, mr.size, p.start, p.size)) {
          out.push(error('map-overlap', `map of '${m.mr}' ${range(m.vaddr, mr.size)} overlaps map of '${p.name}' ${range(p.start, p.size)} in ${ctx.kind} '${ctx.name}'`, m.loc, {
            notes: [{ message: `'${p.name}' is mapped here`, location: p.loc }],
          }));
        }
      }
      placed.push({ name: m.mr, start: m.vaddr, size: mr.size, loc: m.loc });
      if (ctx.kind === 'protection domain') {
        const clash = ctx.pd.programSegments?.find((seg) => overlaps(m.vaddr, mr.size, seg.vaddr, seg.size));
        if (clash) {
          out.push(error('map-overlaps-program-image', `map of '${m.mr}' ${range(m.vaddr, mr.size)} in '${ctx.name}' overlaps its program image's segment ${range(clash.vaddr, clash.size)}`, m.loc, {
            hint: 'the Microkit tool rejects this; leave vaddr out to have a free address chosen, or pick one outside the program image',
          }));
        }
      }

      // Without a board a physical address says nothing (guest RAM is often placed by phys_addr).
      const isDevice = mr.role.kind === 'device' || mr.role.kind === 'gic-vcpu'
        || (mr.physAddr !== undefined && system.board !== undefined && !inBoardRam(system, mr.physAddr));
      if (isDevice && m.perms.includes('w') && m.perms.includes('x')) {
        out.push(error('device-map-wx', `device region '${m.mr}' is mapped writable and executable in ${ctx.kind} '${ctx.name}'`, m.loc, {
          hint: "device registers are never code: map them 'rw' and cached: false",
        }));
      }
      if (isDevice && m.cached && (mr.role.kind !== 'user' || system.board !== undefined)) {
        out.push(warning('device-map-cached', `device region '${m.mr}' is mapped cached in ${ctx.kind} '${ctx.name}'`, m.loc, { hint: 'map device registers with cached: false' }));
      }
      if (m.setvarVaddr !== undefined && ctx.kind === 'virtual machine') {
        out.push(error('map-setvar-in-vm', `map of '${m.mr}' in virtual machine '${ctx.name}' has setvar_vaddr; virtual machines have no program image`, m.loc));
      }
    }
  }
  return out;
}

/** Whether a physical address lies in the board's RAM (unknown board: assume not, i.e. a device). */
export function inBoardRam(system: SystemModel, paddr: bigint): boolean {
  return system.board?.ram.some((r) => paddr >= r.base && paddr < r.base + r.size) ?? false;
}
