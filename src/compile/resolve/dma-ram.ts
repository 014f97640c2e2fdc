// Guest RAM where DMA works. A device that is a bus master (boards/*.json `devices[].dma`:
// ethernet, MMC, USB, virtio-mmio) reads and writes RAM at the addresses its guest driver gives
// it, and no SMMU translates them here: the guest's RAM must sit at guest-physical = physical.
// The place is the first 2 MiB-aligned one (4 KiB for sizes that are not 2 MiB multiples) in
// memory set aside for guests (kernelReservedRam forGuests), else in the board's RAM clear of
// every reservation, of seL4's kernel and initial task (the start of the first RAM seL4 uses),
// of the Microkit loader's image (from loaderLinkAddress), of every region at a fixed address and
// of the guest's own maps.
import type { Passthrough, VirtualMachine } from '../../dsl/vm.js';
import { findBoardDevice, type Board } from '../boards.js';
import { error } from '../diagnostics/index.js';
import type { Resolution } from './index.js';
import { PAGE_2M, PAGE_4K } from './ids.js';

/** What seL4's kernel, its boot-time objects and the Microkit initial task take from the start of seL4's RAM (a bound, not a measure). */
export const KERNEL_WINDOW = 0x4000000n;
/** What the Microkit loader's image may span from its link address (it carries every PD's ELF and the guest images in the VMM's). */
export const LOADER_WINDOW = 0x10000000n;

interface Obstacle {
  start: bigint;
  end: bigint;
  what: string;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** A bus master passed through: its device name, and the passthrough() that gives it. */
export interface DmaDevice {
  name: string;
  loc: Passthrough['loc'];
}

/** The devices passed through to `vm` that are bus masters (the board's, or hand-described with dma: true). */
export function dmaDevices(vm: VirtualMachine, board: Board): DmaDevice[] {
  return vm.passthrough.flatMap((p) => {
    if (typeof p.device !== 'string') return p.device.dma === true ? [{ name: p.device.name, loc: p.loc }] : [];
    const d = findBoardDevice(board, p.device);
    return d?.dma ? [{ name: d.name, loc: p.loc }] : [];
  });
}

/** What the guest's RAM, at guest-physical = physical, must keep clear of: in the machine, and in the guest's own address space. */
function obstacles(r: Resolution, vm: VirtualMachine, board: Board): Obstacle[] {
  const out: Obstacle[] = board.kernelReservedRam.filter((b) => !b.forGuests)
    .map((b) => ({ start: b.base, end: b.base + b.size, what: `reserved memory ${hex(b.base)}..${hex(b.base + b.size)} (${b.reason.split(' (')[0]})` }));
  const kernelAt = firstSel4Ram(board);
  if (kernelAt !== undefined) out.push({ start: kernelAt, end: kernelAt + KERNEL_WINDOW, what: `seL4's kernel and the Microkit initial task (${hex(kernelAt)}, ${KERNEL_WINDOW / 0x100000n} MiB)` });
  out.push({ start: board.loaderLinkAddress, end: board.loaderLinkAddress + LOADER_WINDOW, what: `the Microkit loader's image (${hex(board.loaderLinkAddress)}, up to ${LOADER_WINDOW / 0x100000n} MiB)` });
  for (const m of r.memoryRegions) if (m.physAddr !== undefined) out.push({ start: m.physAddr, end: m.physAddr + m.size, what: `memory region '${m.name}' (${hex(m.physAddr)})` });
  // The guest's own maps: its RAM's guest-physical address is its physical one, so it must not land on them either.
  for (const m of vm.maps) {
    if (m.vaddr !== undefined) out.push({ start: m.vaddr, end: m.vaddr + (m.mr.size ?? PAGE_4K), what: `the map of '${m.mr.name}' at guest-physical ${hex(m.vaddr)} in '${vm.name}'` });
  }
  return out;
}

/** The lowest RAM address seL4 uses: the board's RAM less every reservation. */
function firstSel4Ram(board: Board): bigint | undefined {
  for (const r of board.ram) {
    let at = r.base;
    for (let moved = true; moved;) {
      moved = false;
      for (const b of board.kernelReservedRam) {
        if (at >= b.base && at < b.base + b.size) {
          at = b.base + b.size;
          moved = true;
        }
      }
    }
    if (at < r.base + r.size) return at;
  }
  return undefined;
}

/** The first place of `size` bytes in [start, end) clear of `blocked`, at `align`. */
function firstFit(start: bigint, end: bigint, size: bigint, align: bigint, blocked: Obstacle[]): bigint | undefined {
  for (let at = (start + align - 1n) / align * align; at + size <= end;) {
    const clash = blocked.find((o) => at < o.end && o.start < at + size);
    if (!clash) return at;
    at = (clash.end + align - 1n) / align * align;
  }
  return undefined;
}

/**
 * Where the RAM of a guest with a DMA-capable device goes, guest-physical = physical; undefined
 * (after an error at the virtual machine's line) when nothing fits or the system asks otherwise.
 */
export function dmaRamAddress(r: Resolution, vm: VirtualMachine, size: bigint, board: Board, masters: DmaDevice[]): bigint | undefined {
  const devices = masters.map((m) => m.name);
  const why = `'${vm.name}' is given ${devices.join(', ')}, which read${devices.length === 1 ? 's' : ''} and write${devices.length === 1 ? 's' : ''} RAM by physical address (no SMMU translates for ${devices.length === 1 ? 'it' : 'them'})`;
  const fail = (message: string, hint: string): undefined => {
    // A note at each bus master's passthrough() line: the construct that asks for identity RAM.
    const notes = masters.map((m) => ({ message: `bus master '${m.name}' is passed through here`, location: m.loc }));
    r.diagnostics.push(error('vm-dma-ram-unplaceable', message, vm.loc, { hint, notes }));
    return undefined;
  };
  if (vm.ramPhysAddr === 'any') return fail(`${why}, so its RAM needs a fixed physical address equal to its guest-physical one; ramPhysAddr: 'any' cannot give that`, 'leave ramPhysAddr out');
  const align = size % PAGE_2M === 0n ? PAGE_2M : PAGE_4K;
  const blocked = obstacles(r, vm, board);
  const wanted = vm.ramPhysAddr ?? vm.ramBase;
  if (vm.ramPhysAddr !== undefined && vm.ramBase !== undefined && vm.ramPhysAddr !== vm.ramBase) {
    return fail(`${why}, so its RAM must be at guest-physical = physical, but ramBase is ${hex(vm.ramBase)} and ramPhysAddr ${hex(vm.ramPhysAddr)}`, 'give one of them, or the same address to both');
  }
  if (wanted !== undefined) {
    const inRam = board.ram.some((m) => wanted >= m.base && wanted + size <= m.base + m.size);
    const clash = blocked.find((o) => wanted < o.end && o.start < wanted + size);
    if (!inRam || clash) {
      return fail(`${why}, so its ${hex(size)} bytes of RAM must be at guest-physical = physical ${hex(wanted)}, but ${clash ? `${clash.what} is in the way` : "that is outside the board's RAM"}`,
        'leave ramBase and ramPhysAddr out and sel4cp-synth finds a place');
    }
    return wanted;
  }
  for (const g of board.kernelReservedRam.filter((b) => b.forGuests)) {
    const at = firstFit(g.base, g.base + g.size, size, align, blocked);
    if (at !== undefined) return at;
  }
  for (const m of board.ram) {
    const at = firstFit(m.base, m.base + m.size, size, align, blocked);
    if (at !== undefined) return at;
  }
  const inRam = blocked.filter((o) => board.ram.some((m) => o.start < m.base + m.size && m.base < o.end));
  return fail(`${why}, so its ${hex(size)} bytes of RAM must be at guest-physical = physical, and no place in the board's RAM fits: ${inRam.map((o) => o.what).join('; ')}`,
    'make the guest RAM smaller (ram:), or drop a region at a fixed address');
}
