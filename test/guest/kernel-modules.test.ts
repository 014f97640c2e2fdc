/**
 * initramfs({ modules }) in a real guest, with no seL4 and no VMM of ours underneath: Debian's
 * kernel booted by QEMU directly with QEMU's own virtio-mmio devices (a network card on user
 * networking, a disk), and an initramfs that declares virtio_mmio, virtio_net, virtio_blk and
 * virtio_console from the tree `npm run guest` extracts. The guest reports what it loaded, the
 * interfaces it has, the disk's checksum and a ping, so the guest side of the virtio devices is
 * proven apart from the VMM that will play them.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { repoGuestDir } from '../../scripts/guest-images.js';
import { GUEST_NET_UP_PREFIX, NETWORK_APPLETS, networkSetupScript, qemuVirtGuestCmdline } from '../../src/compile/initramfs/busybox-initramfs.js';
import { buildDeclaredInitramfs } from '../../src/compile/initramfs/declared.js';
import { readDeclaredModules } from '../../src/compile/load/initramfs-modules.js';
import { file } from '../../src/dsl/context.js';
import { initramfs } from '../../src/dsl/initramfs.js';
import { directKernelBootArgs, startQemu } from '../../src/run/qemu.js';
import { missing, testIf } from '../helpers.js';

const TIMEOUT_MS = 120_000;
const guest = repoGuestDir();
const needs = missing('qemu', 'guest-kernel', 'guest-busybox', 'guest-modules');

const INIT = `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mods=
while read -r name rest; do mods="$mods $name"; done < /proc/modules
echo "MODULES:$mods"
echo "NET:" $(ls /sys/class/net)
echo "DRIVERS:" $(ls /sys/bus/virtio/drivers)
${networkSetupScript()}ping -c 1 -W 5 10.0.2.2 >/dev/null 2>&1 && echo "PING: ok"
echo "VDA: $(dd if=/dev/vda bs=512 count=64 2>/dev/null | md5sum)"
echo "DONE"
poweroff -f
`;

/** 32 KiB of bytes that are not all the same, so the checksum says the right blocks were read. */
function diskImage(): Buffer {
  return Buffer.from(Array.from({ length: 64 * 512 }, (_, i) => (i * 7 + (i >> 9)) & 0xff));
}

async function archive(): Promise<Uint8Array> {
  const ir = initramfs({
    busybox: file(join(guest, 'busybox')),
    applets: ['sh', 'mount', 'ls', 'ping', 'dd', 'md5sum', 'poweroff', ...NETWORK_APPLETS],
    modules: ['virtio_mmio', 'virtio_net', 'virtio_blk', 'virtio_console'],
    init: INIT,
  });
  const modules = await readDeclaredModules(ir);
  assert.ok(modules && typeof modules === 'object', `modules tree: ${String(modules)}`);
  return buildDeclaredInitramfs(ir, { init: new TextEncoder().encode(INIT), busybox: readFileSync(join(guest, 'busybox')), files: new Map(), modules });
}

testIf(needs, 'Debian kernel loads virtio_mmio, virtio_net, virtio_blk, virtio_console from the initramfs; eth0 and /dev/vda work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sel4cp-synth-kmod-qemu-'));
  try {
    const initrd = join(dir, 'initramfs.cpio');
    const disk = join(dir, 'disk.raw');
    writeFileSync(initrd, await archive());
    writeFileSync(disk, diskImage());
    const args = [
      ...directKernelBootArgs({ kernel: join(guest, 'Image'), initrd, append: qemuVirtGuestCmdline({ ip: '10.0.2.15/24' }) }),
      '-nic', 'none',
      '-netdev', 'user,id=n0', '-device', 'virtio-net-device,netdev=n0',
      '-drive', `if=none,id=d0,format=raw,file=${disk}`, '-device', 'virtio-blk-device,drive=d0',
    ];
    const q = startQemu({ args });
    try {
      await q.waitFor('DONE', TIMEOUT_MS);
      const exit = await q.waitForExit(TIMEOUT_MS);
      assert.is(exit.code, 0, `QEMU exit status\n${q.tail()}`);
      const line = (prefix: string): string => q.output.split('\n').find((l) => l.startsWith(prefix))?.trim() ?? `(no ${prefix} line)\n${q.tail(40)}`;
      assert.equal(line('MODULES:').split(/\s+/).slice(1).sort(), ['failover', 'net_failover', 'virtio_blk', 'virtio_console', 'virtio_mmio', 'virtio_net']);
      assert.is(line('NET:'), 'NET: eth0 lo');
      for (const d of ['virtio_blk', 'virtio_console', 'virtio_net']) assert.ok(line('DRIVERS:').split(' ').includes(d), line('DRIVERS:'));
      assert.is(line(GUEST_NET_UP_PREFIX.trim()), `${GUEST_NET_UP_PREFIX}eth0 10.0.2.15/24`);
      assert.is(line('PING:'), 'PING: ok');
      assert.is(line('VDA:'), `VDA: ${createHash('md5').update(diskImage()).digest('hex')}  -`);
    } finally {
      await q.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
