// End to end: two guests on a network link (test/fixtures/systems/net-e2e.ts). `left` pings
// `right`, sends it 16 MiB of random bytes over TCP with busybox nc, and `right` checks the MD5
// and pings back; both guests load virtio_mmio and virtio_net from the initramfs. The oracle is
// Linux itself: its ping replies and the sums the two guests compute. Needs MICROKIT_SDK, QEMU,
// the guest images and their modules; otherwise one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { missing, testIf } from '../helpers.js';
import { missingForBoot, sdk } from './requirements.js';
import { runNetLink } from './net-link-run.js';

const why = missingForBoot() ?? missing('guest-busybox', 'guest-modules');
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-net-'));

testIf(why, 'two VMs on a link: ping both ways, and 16 MiB over TCP arrive intact', async () => {
  const r = await runNetLink(path.join(work, 'net'), sdk!);
  assert.match(r.sentMd5, /^[0-9a-f]{32}$/);
  assert.is(r.receivedMd5, r.sentMd5, 'the MD5 right computed of what arrived is the one left computed of what it sent');
  assert.ok(r.pingAvgMs > 0 && r.pingBackAvgMs > 0);
  assert.ok(Number.isFinite(r.transferSeconds) && r.transferSeconds > 0);
  console.log(`net link: ping ${r.pingAvgMs} ms avg (back ${r.pingBackAvgMs} ms), 16 MiB in ${r.transferSeconds.toFixed(2)} s (${(16 / r.transferSeconds).toFixed(2)} MiB/s, guest clock)`);
});

test.run();
