// QEMU's command line for a system (src/run/machine.ts): the devices a systems.ts attaches to
// QEMU's virtio-mmio transports, pinned to their buses. The oracle is QEMU 7.2 itself: started
// with those arguments (halted, -S), its `info qtree` must show each device under the transport
// at the address the guest was given, and `info usernet` the forward on 127.0.0.1 only; the
// host service sees QEMU connect at start-up, before any guest runs (net/slirp.c slirp_guestfwd
// opens the chardev then), once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { qemuArgs, qemuDeviceArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { freePort, missing, testIf } from '../helpers.js';
import { resolvedModel } from '../compile/resolved-model.js';

const fixture = 'test/fixtures/systems/qemu-devices.ts';
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-machine-'));

test('the devices in transport order, pinned to their buses; the NIC restricted, its forwards on 127.0.0.1', async () => {
  const model = await resolvedModel(fixture, { disk: '/tmp/a,b.img', http: '18080', service: '19000' });
  assert.equal(qemuDeviceArgs(model.guests), [
    '-drive', 'if=none,id=disk3,format=raw,file=/tmp/a,,b.img,readonly=on',
    '-device', 'virtio-blk-device,drive=disk3,bus=virtio-mmio-bus.3',
    '-netdev', 'user,id=net5,restrict=on,hostfwd=tcp:127.0.0.1:18080-10.0.2.15:80,guestfwd=tcp:10.0.2.100:9000-tcp:127.0.0.1:19000,,reconnect=1',
    '-device', 'virtio-net-device,netdev=net5,mac=02:51:00:00:00:05,bus=virtio-mmio-bus.5',
  ]);
  const all = qemuArgs(model.board!, '/tmp/loader.img', model);
  assert.equal(all.slice(all.indexOf('-nic'), all.indexOf('-nic') + 2), ['-nic', 'none'], "QEMU's default network card is dropped");
  assert.equal(all.slice(-8), qemuDeviceArgs(model.guests));
});

test('no attachment, no device arguments', async () => {
  const model = await resolvedModel('test/fixtures/systems/dma-guest.ts');
  assert.equal(qemuDeviceArgs(model.guests), []);
});

testIf(missing('qemu'), 'QEMU puts each device on the transport the guest was given, forwards 127.0.0.1 only, and opens the host service at start-up', async () => {
  const disk = path.join(work, 'disk.img');
  writeFileSync(disk, Buffer.alloc(1024 * 1024));
  const [http, service] = [await freePort(), await freePort()];
  let connections = 0;
  const server = net.createServer((c) => { connections++; c.on('error', () => undefined); });
  await new Promise<void>((resolve) => server.listen(service, '127.0.0.1', resolve));
  const model = await resolvedModel(fixture, { disk, http: String(http), service: String(service) });
  const q = startQemu({ args: ['-machine', 'virt,virtualization=on', '-cpu', 'cortex-a53', '-m', '256M', '-nographic', '-S', '-monitor', 'stdio', '-serial', 'none', '-nic', 'none', ...qemuDeviceArgs(model.guests)] });
  try {
    await q.waitFor('(qemu)', 20_000);
    q.send('info qtree\n');
    await q.waitFor(/bus: virtio-mmio-bus\.0\b/, 20_000);
    q.send('info usernet\n');
    await q.waitFor(/HOST_FORWARD[^\n]*\n/, 20_000);
    // The monitor echoes with terminal escapes; the tree's own lines are plain.
    const out = q.output.replace(/\r/g, '');
    for (const [addr, device] of [['000000000a000600', 'virtio-blk-device'], ['000000000a000a00', 'virtio-net-device']] as const) {
      const at = new RegExp(`mmio ${addr}/0000000000000200\\n\\s*bus: (virtio-mmio-bus\\.\\d+)\\n\\s*type virtio-mmio-bus\\n\\s*dev: ([\\w-]+)`).exec(out);
      assert.ok(at, `a device under the transport at 0x${addr.replace(/^0+/, '')}`);
      assert.is(at![2], device);
    }
    const forward = /TCP\[HOST_FORWARD\]\s+\d+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)/.exec(out);
    assert.equal(forward?.slice(1), ['127.0.0.1', String(http), '10.0.2.15', '80']);
    for (let i = 0; i < 50 && connections === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.is(connections, 1, 'QEMU connected to the host service once, with the machine halted');
  } finally {
    await q.stop();
    server.close();
  }
});

test.run();
