/**
 * The boot-time pieces of a Linux guest, computed together because they depend on each other:
 * the DTB's size decides where things go, and where the initrd goes is written into the DTB.
 */
import type { Fdt } from '../dtb/fdt.js';
import { writeFdt } from '../dtb/fdt-write.js';
import { injectLinuxBoot } from '../dtb/inject.js';
import { placeLinuxGuest, type LinuxPlacement } from './placement.js';

export interface LinuxBootInput {
  /** The guest's device tree (already reduced to what the guest may see). */
  tree: Fdt;
  ramBase: bigint;
  ramSize: bigint;
  kernel: { textOffset: bigint; imageSize: bigint; fileSize: bigint };
  initrdSize?: bigint;
  bootargs?: string;
}

export interface LinuxBoot {
  placement: LinuxPlacement;
  /** The final tree and its blob, with `/chosen` and `/memory` written in. */
  tree: Fdt;
  dtb: Uint8Array;
}

/**
 * Places kernel, DTB and initrd and injects the result into the device tree. The DTB is sized
 * with a placeholder initrd range first; `injectLinuxBoot` writes the range in a fixed width, so
 * the final blob has exactly that size.
 */
export function prepareLinuxBoot(input: LinuxBootInput): LinuxBoot {
  const memory = [{ base: input.ramBase, size: input.ramSize }];
  const inject = (initrd?: { start: bigint; end: bigint }): Fdt => {
    const info: Parameters<typeof injectLinuxBoot>[1] = { memory };
    if (initrd) info.initrd = initrd;
    if (input.bootargs !== undefined) info.bootargs = input.bootargs;
    return injectLinuxBoot(input.tree, info);
  };
  const sizing = writeFdt(inject(input.initrdSize === undefined ? undefined : { start: 0n, end: input.initrdSize }));
  const placementInput: Parameters<typeof placeLinuxGuest>[0] = {
    ramBase: input.ramBase,
    ramSize: input.ramSize,
    kernel: input.kernel,
    dtbSize: BigInt(sizing.length),
  };
  if (input.initrdSize !== undefined) placementInput.initrdSize = input.initrdSize;
  const placement = placeLinuxGuest(placementInput);
  const tree = inject(placement.initrd && { start: placement.initrd.gpa, end: placement.initrd.gpa + placement.initrd.size });
  const dtb = writeFdt(tree);
  if (dtb.length !== sizing.length) {
    throw new Error(`internal error: the DTB changed size from ${sizing.length} to ${dtb.length} bytes after placement`);
  }
  return { placement, tree, dtb };
}
