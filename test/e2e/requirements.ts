// What the end-to-end tests need: the Microkit SDK, QEMU and the guest images. One place says
// what is missing, so each test file prints the same SKIP reason.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { findExecutable } from '../../src/run/qemu.js';
import { repoRoot } from '../helpers.js';

export const sdk: string | undefined = process.env['MICROKIT_SDK'];
export const guestDir = path.join(repoRoot, '.cache', 'guest');
/** Boots under QEMU's emulation are slow and CI machines are busy: be generous. */
export const BOOT_MS = 180_000;

/** Why the QEMU boot tests cannot run here, or undefined when they can. */
export function missingForBoot(): string | undefined {
  if (!sdk || !existsSync(path.join(sdk, 'bin', 'microkit'))) return 'MICROKIT_SDK is not set';
  if (!findExecutable('qemu-system-aarch64')) return 'qemu-system-aarch64 is not installed (Debian package qemu-system-arm)';
  if (!existsSync(path.join(guestDir, 'Image')) || !existsSync(path.join(guestDir, 'initramfs.cpio'))) return "the guest images are missing (run 'npm run guest')";
  return undefined;
}
