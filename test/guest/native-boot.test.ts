/**
 * The test guest booted by QEMU directly (no seL4, no VMM): proves Debian's kernel and our
 * initramfs work before anything of ours sits underneath, and gives the native boot time
 * that the VMM benchmark compares against.
 */
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { repoGuestDir } from '../../scripts/guest-images.js';
import { GUEST_ECHO_PREFIX, GUEST_MARKER, qemuVirtGuestCmdline } from '../../src/compile/initramfs/busybox-initramfs.js';
import { directKernelBootArgs, startQemu } from '../../src/run/qemu.js';
import { missing, testIf } from '../helpers.js';

/** QEMU TCG is slow on loaded machines; a healthy boot here takes seconds. */
const TIMEOUT_MS = 120_000;

const guest = repoGuestDir();
const kernel = join(guest, 'Image');
const initrd = join(guest, 'initramfs.cpio');

const needs = missing('guest-kernel', 'guest-initrd', 'qemu');

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

testIf(needs, 'Debian kernel + busybox initramfs boot to the marker and power off (GICv2)', async () => {
  const ms = await boot({});
  console.log(`native boot (GICv2): ${(ms / 1000).toFixed(2)} s from QEMU start to "${GUEST_MARKER}"`);
});

testIf(needs, 'the same on GICv3', async () => {
  const ms = await boot({ machine: 'virt,virtualization=on,gic-version=3' });
  console.log(`native boot (GICv3): ${(ms / 1000).toFixed(2)} s from QEMU start to "${GUEST_MARKER}"`);
});

testIf(needs, 'console input reaches the guest (echo)', async () => {
  const line = 'hello-from-native-boot-test';
  await boot({ echo: true }, async (q) => {
    q.send(`${line}\n`);
    await q.waitFor(`${GUEST_ECHO_PREFIX}${line}`, TIMEOUT_MS);
  });
});

test.run();
