// Small helpers every rule family uses, and Microkit 2.0.1's limits in one place.
import { hex } from '../../format.js';

export function range(start: bigint, size: bigint): string {
  return `[${hex(start)}..${hex(start + size)})`;
}

export function overlaps(aStart: bigint, aSize: bigint, bStart: bigint, bSize: bigint): boolean {
  return aStart < bStart + bSize && bStart < aStart + aSize;
}

export { PAGE_SIZES } from '../model/facts.js';

/** Microkit 2.0.1 limits (tool/microkit/src/sdf.rs and lib.rs): see ../model/facts.ts. */
export { MICROKIT as LIMITS } from '../model/facts.js';
