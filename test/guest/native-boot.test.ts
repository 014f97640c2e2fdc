/**
 * The test guest booted by QEMU directly (no seL4, no VMM): proves Debian's kernel and our
 * initramfs work before anything of ours sits underneath, and gives the native boot time
 * that the VMM benchmark compares against.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { defaultGuestDir } from '../../scripts/guest-images.js';
import { GUEST_ECHO_PREFIX, GUEST_MARKER, qemuVirtGuestCmdline } from '../../src/compile/initramfs/busybox-initramfs.js';
import { QEMU_AARCH64, directKernelBootArgs, findExecutable, startQemu } from '../../src/run/qemu.js';

/** QEMU TCG is slow on loaded machines; a healthy boot here takes seconds. */
const TIMEOUT_MS = 120_000;

const guest = defaultGuestDir();
const kernel = join(guest, 'Image');
const initrd = join(guest, 'initramfs.cpio');

function skipReason(): string | undefined {
  if (!existsSync(kernel) || !existsSync(initrd)) return `native boot: no guest images in ${guest} (run \`npm run guest\`)`;
  if (!findExecutable(QEMU_AARCH64)) return `native boot: ${QEMU_AARCH64} not installed (Debian package qemu-system-arm)`;
  return undefined;
}

const skip = skipReason();

async function boot(
  options: { echo?: boolean; machine?: string },
  whileRunning?: (q: ReturnType<typeof startQemu>) => Promise<void>,
): Promise<number> {
  const append = qemuVirtGuestCmdline({ echo: options.echo ?? false });
  const q = startQemu({ args: directKernelBootArgs({ kernel, initrd, append, ...(options.machine ? { machine: options.machine } : {}) }) });
  try {
    const marker = await q.waitFor(GUEST_MARKER, TIMEOUT_MS);
    await whileRunning?.(q);
    // poweroff -f → PSCI SYSTEM_OFF → QEMU ends by itself with status 0.
    const exit = await q.waitForExit(TIMEOUT_MS - marker.elapsedMs);
    assert.is(exit.code, 0, `QEMU exit status\n${q.tail()}`);
    return marker.elapsedMs;
  } finally {
    await q.stop();
  }
}

if (skip) {
  test('native boot', () => {
    console.log(`SKIP ${skip}`);
  });
} else {
  test('Debian kernel + busybox initramfs boot to the marker and power off (GICv2)', async () => {
    const ms = await boot({});
    console.log(`native boot (GICv2): ${(ms / 1000).toFixed(2)} s from QEMU start to "${GUEST_MARKER}"`);
  });

  test('the same on GICv3', async () => {
    const ms = await boot({ machine: 'virt,virtualization=on,gic-version=3' });
    console.log(`native boot (GICv3): ${(ms / 1000).toFixed(2)} s from QEMU start to "${GUEST_MARKER}"`);
  });

  test('console input reaches the guest (echo)', async () => {
    const line = 'hello-from-native-boot-test';
    await boot({ echo: true }, async (q) => {
      q.send(`${line}\n`);
      await q.waitFor(`${GUEST_ECHO_PREFIX}${line}`, TIMEOUT_MS);
    });
  });
}

test.run();
