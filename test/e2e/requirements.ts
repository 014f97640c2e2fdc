// What the end-to-end tests need: the Microkit SDK, the cross compiler for the VMM runtime, QEMU
// and the guest images. One place says what is missing, so each test file prints the same reason.
import path from 'node:path';
import { missing, repoRoot } from '../helpers.js';

export const sdk: string | undefined = process.env['MICROKIT_SDK'];
export const guestDir = path.join(repoRoot, '.cache', 'guest');
/** Boots under QEMU's emulation are slow and CI machines are busy: be generous. */
export const BOOT_MS = 180_000;

/** Why the QEMU boot tests cannot run here, or undefined when they can. */
export function missingForBoot(): string | undefined {
  return missing('microkit-sdk', 'cross-gcc', 'qemu', 'guest-kernel', 'guest-initrd');
}
