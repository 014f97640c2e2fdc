// Deterministic allocation of the small numbers Microkit systems are full of: channel ids (shared
// by IRQs and channel ends in one PD), child ids (shared by child PDs and vCPUs), and the virtual
// addresses of PD mappings the user left to us. Explicit values are reserved first, then the
// automatic ones take the lowest free value in declaration order, so adding a construct at the
// end of a file never renumbers the ones before it.

import { MICROKIT, PAGE_2M, PAGE_4K } from '../model/facts.js';

/** Microkit 2.0.1 (sdf.rs PD_MAX_ID): ids 0..61; bits 62 and 63 of the badge mark PPCs and faults. */
export const MAX_CHANNEL_ID = MICROKIT.maxChannelId;

export class IdAllocator {
  private readonly used = new Set<number>();
  constructor(private readonly max: number) {}

  reserve(id: number): void {
    this.used.add(id);
  }

  /** The lowest free id, or undefined when all are taken (validation reports that). */
  next(): number | undefined {
    for (let id = 0; id <= this.max; id++) {
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    return undefined;
  }
}

export { PAGE_2M, PAGE_4K };

/** Where automatic PD mappings start: far above program images (0x200000 up) and the link step's guest images. */
export const AUTO_VADDR_BASE = 0x20_0000_0000n;

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

/** The page size a region will use: as written, else the largest that divides its size. */
export function effectivePageSize(size: bigint, pageSize: bigint | undefined): bigint {
  if (pageSize !== undefined) return pageSize;
  return size % PAGE_2M === 0n && size > 0n ? PAGE_2M : PAGE_4K;
}

/** Picks free virtual address ranges in one PD, avoiding the mappings the user placed. */
export class VaddrAllocator {
  private readonly taken: [bigint, bigint][] = [];
  private cursor = AUTO_VADDR_BASE;

  reserve(start: bigint, size: bigint): void {
    this.taken.push([start, start + size]);
  }

  next(size: bigint, align: bigint): bigint {
    let start = alignUp(this.cursor, align);
    for (;;) {
      const clash = this.taken.find(([s, e]) => start < e && s < start + size);
      if (!clash) break;
      start = alignUp(clash[1], align);
    }
    this.taken.push([start, start + size]);
    this.cursor = start + size;
    return start;
  }
}
