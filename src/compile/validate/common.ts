// Small helpers every rule family uses, and Microkit 2.0.1's limits in one place.
import { hex } from '../../dsl/units.js';

export function range(start: bigint, size: bigint): string {
  return `[${hex(start)}..${hex(start + size)})`;
}

export function overlaps(aStart: bigint, aSize: bigint, bStart: bigint, bSize: bigint): boolean {
  return aStart < bStart + bSize && bStart < aStart + aSize;
}

export const PAGE_SIZES = [0x1000n, 0x200000n] as const;

/** Microkit 2.0.1 limits (tool/microkit/src/sdf.rs and lib.rs). */
export const LIMITS = {
  maxChannelId: 61,
  /** Child ids and vCPU ids are badges' low 6 bits: the monitor masks them with 0x3f. */
  maxChildId: 63,
  maxVcpuId: 61,
  maxPriority: 254,
  maxPds: 63,
  maxVms: 63,
  maxNameLength: 64,
  minStack: 0x1000n,
  maxStack: 16n * 1024n * 1024n,
} as const;
