// The room below Microkit's loader: how much program data (our VMMs carry the guest images)
// fits between the seL4 image and the loader on a board, and the error when it does not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { hex } from '../../format.js';
import type { Board } from '../boards.js';
import { error, type Diagnostic } from '../diagnostics/index.js';
import type { Loc } from '../model/index.js';
import { ElfError, PT_LOAD, readElf } from './elf.js';

// Microkit 2.0.1 (tool/microkit/src/main.rs, build_system: `reserved_base =
// available_memory.allocate_from(reserved_size, kernel_boot_region.end)`, then the monitor at
// `reserved_base + reserved_size`) puts the invocation table and the data of every PD ELF (each
// PT_LOAD's [paddr, paddr + memsz) widened to 4 KiB pages, phys_mem_regions_from_elf) in RAM
// right after the seL4 image, followed by the monitor. The loader runs from
// `loader_link_address` (build_sdk.py), and loader.rs check_non_overlapping panics with
// "Overlapping regions" when that data reaches it (upstream seL4/microkit issue #477). So, on
// boards whose loader sits above the kernel, all PD data must fit in
// [end of the seL4 image, loader_link_address) minus the monitor and the invocation table.

const PAGE = 0x1000n;
/**
 * Room kept for the invocation table, whose exact size the tool only knows after laying out
 * every object. It grows with the pages it maps: systems/linux.ts on imx8mm_evk (256 MiB of
 * guest RAM, 12 MiB of compressed images, 3,184 invocations in report.txt) has a 0x38000-byte
 * table, and about 0x90000 with the 35 MiB uncompressed, i.e. some 64..76 bytes per 4 KiB page
 * of program data. We keep 512 KiB plus 1/48 of the program data (85 bytes a page).
 */
export const INVOCATION_TABLE_BASE = 0x8_0000n;

/** Program data plus the invocation-table growth it causes (see INVOCATION_TABLE_BASE). */
export function loaderSpaceNeeded(programData: bigint): bigint {
  return programData + programData / 48n;
}
/** Without the SDK: the smallest seL4 2.0.1 image of the supported boards (board/<b>/<cfg>/elf/
 * sel4.elf PT_LOAD memsz is 0x230000 in release, up to 0x24c000 in debug). A lower bound keeps
 * the room an upper bound, so an error computed from it is certain. */
const KERNEL_SIZE_LOWER_BOUND = 0x23_0000n;
/** Without the SDK: the 2.0.1 monitor's PT_LOAD is 0x9720..0x98e0 bytes, one 0xa000 region. */
const MONITOR_SIZE_ESTIMATE = 0xa000n;

function alignDown(v: bigint, a: bigint): bigint {
  return v / a * a;
}

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

/** Bytes of RAM the Microkit tool gives an ELF's loadable segments (see above). */
export function elfPlacedSize(bytes: Uint8Array): bigint {
  let total = 0n;
  for (const seg of readElf(bytes).segments) {
    if (seg.type === PT_LOAD) total += alignUp(seg.paddr + seg.memsz, PAGE) - alignDown(seg.paddr, PAGE);
  }
  return total;
}

export interface LoaderSpace {
  /** Microkit board name. */
  board: string;
  loaderAddress: bigint;
  /** End of the seL4 image: where the PD data starts. */
  kernelEnd: bigint;
  monitorSize: bigint;
  /** Bytes the invocation table and all PD data share: more PD data than this cannot fit. */
  room: bigint;
  /** Bytes to plan with: room less INVOCATION_TABLE_BASE, for PD data and its share of the
   * table (loaderSpaceNeeded). 'auto' compresses when that is exceeded. */
  space: bigint;
  /** 'sdk' when read from the SDK's sel4.elf and monitor.elf, else estimated from the board file. */
  source: 'sdk' | 'board-file';
}

function elfEnd(file: string): bigint | undefined {
  try {
    const segs = readElf(new Uint8Array(readFileSync(file))).segments.filter((s) => s.type === PT_LOAD);
    return segs.length ? segs.reduce((m, s) => (s.paddr + s.memsz > m ? s.paddr + s.memsz : m), 0n) : undefined;
  } catch (e) {
    if (e instanceof ElfError || (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The room below the board's loader for PD data, or undefined when the board file gives no
 * loader address or the loader does not sit above the kernel. Exact (but for the invocation
 * table) with the SDK; otherwise estimated from boards/*.json: the kernel starts at the first RAM
 * address that `kernelReservedRam` does not take.
 */
export function loaderSpace(opts: { board: Board; sdk?: string | undefined; config: string }): LoaderSpace | undefined {
  // Everything from the one parsed Board: the board file is read once, wherever the tool runs.
  const loaderAddress = opts.board.loaderLinkAddress;
  if (loaderAddress === undefined) return undefined;
  const elfDir = opts.sdk ? path.join(opts.sdk, 'board', opts.board.microkitBoard, opts.config, 'elf') : undefined;
  let kernelEnd = elfDir ? elfEnd(path.join(elfDir, 'sel4.elf')) : undefined;
  let monitorSize: bigint | undefined;
  const source = kernelEnd !== undefined ? 'sdk' : 'board-file';
  if (elfDir) {
    try {
      monitorSize = elfPlacedSize(new Uint8Array(readFileSync(path.join(elfDir, 'monitor.elf'))));
    } catch {
      monitorSize = undefined;
    }
  }
  if (kernelEnd === undefined) {
    let base = opts.board.ram[0]?.base;
    if (base === undefined) return undefined;
    for (const r of opts.board.kernelReservedRam) {
      if (r.base <= base && base < r.base + r.size) base = r.base + r.size;
    }
    kernelEnd = base + KERNEL_SIZE_LOWER_BOUND;
  }
  monitorSize ??= MONITOR_SIZE_ESTIMATE;
  if (loaderAddress <= kernelEnd) return undefined;
  const room = loaderAddress - kernelEnd - monitorSize;
  const space = room - INVOCATION_TABLE_BASE;
  return { board: opts.board.microkitBoard, loaderAddress, kernelEnd, monitorSize, room: room > 0n ? room : 0n, space: space > 0n ? space : 0n, source };
}

export const mib = (v: bigint): string => `${(Number(v) / 0x10_0000).toFixed(1)} MiB`;

/** What goes below the loader, for the error message: one line per PD ELF. */
export interface PlacedData {
  what: string;
  size: bigint;
  /** For a VMM: the images it carries, stored and unpacked. */
  detail?: string;
}

/** The error for PD data that does not fit below the loader. */
export function loaderSpaceError(space: LoaderSpace, data: readonly PlacedData[], loc: Loc, compressed: boolean): Diagnostic {
  const total = data.reduce((t, d) => t + d.size, 0n);
  return error('images-exceed-loader-space',
    `the program images (${mib(total)}) do not fit below the Microkit loader of board '${space.board}': Microkit puts all PD data (on 2.3.0 with the prefilled regions, inside its initialiser's image) in RAM between the seL4 kernel (ending at ${hex(space.kernelEnd)}) and the loader at ${hex(space.loaderAddress)}, ${mib(space.room)} after the monitor, to share with the invocation table${space.source === 'board-file' ? ' (at most; from the board file, the SDK gives exact numbers)' : ''}`,
    loc, {
      notes: data.map((d) => ({ message: `${d.what}: ${mib(d.size)}${d.detail ? ` (${d.detail})` : ''}` })),
      hint: compressed
        ? 'the guest images are already compressed: use a smaller kernel (fewer built-in drivers) or initrd, or fewer guests on this board (upstream: seL4/microkit issue #477)'
        : "let the VMM unpack the images: compressImages: true (or leave the default 'auto') in virtualMachine(); or use smaller images (upstream: seL4/microkit issue #477)",
    });
}
