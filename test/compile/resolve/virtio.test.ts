// virtio devices and network links: what resolution (src/compile/resolve/virtio.ts) makes of them
// (regions, maps, channels, windows, SPIs, MACs, the flows a link makes), and each mistake it finds
// reported at its line. No SDK or guest image needed. The guest's device-tree nodes:
// test/compile/dtb/guest-dtb.test.ts; the mistakes validation finds: test/compile/validate/virtio.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { statSync } from 'node:fs';
import { loadSystem } from '../../../src/compile/load/index.js';
import { resolveSystem } from '../../../src/compile/resolve/index.js';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { findBoard } from '../../../src/compile/boards.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { allProtectionDomains, type SystemModel } from '../../../src/compile/model/index.js';
import type { Diagnostic } from '../../../src/compile/diagnostics/index.js';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';
import { netLinkRegionSize } from '../../../src/compile/abi/net-link.js';
import { defaultMac } from '../../../src/compile/resolve/virtio.js';
import { deriveFlows } from '../../../src/compile/flows.js';
import { repoRoot } from '../../helpers.js';

const file = 'test/fixtures/systems/virtio.ts';

async function build(kase: string): Promise<{ model: SystemModel; diagnostics: Diagnostic[] }> {
  const abs = path.join(repoRoot, file);
  const system = await loadSystem(abs, { context: new Map([['case', kase]]), cwd: repoRoot });
  const disk = path.join(repoRoot, 'test/fixtures/virtio', kase === 'odd-disk' ? 'odd.img' : 'disk.img');
  const images = new Map(kase === 'no-disk' ? [] : [[disk, { size: BigInt(statSync(disk).size) }]]);
  const r = resolveSystem({ system, file: abs, board: findBoard(loadBoards(), 'qemu_virt_aarch64'), images });
  return { model: r.model, diagnostics: [...r.diagnostics, ...validateSystem(r.model)] };
}

const errorsOf = (d: Diagnostic[]): [string, number | undefined][] => d.filter((x) => x.severity === 'error').map((x) => [x.id, x.location?.line]);

test('a VM-to-VM link: two rings (one per direction) mapped rw into both VMMs, one channel, a virtio-net each', async () => {
  const { model, diagnostics } = await build('ok');
  assert.equal(errorsOf(diagnostics), []);
  const lan = model.links!.find((l) => l.name === 'lan')!;
  assert.equal([lan.a, lan.b], [{ pd: 'a_vmm', vm: 'a' }, { pd: 'b_vmm', vm: 'b' }]);
  for (const ring of [lan.aToB, lan.bToA]) {
    const mr = model.memoryRegions.find((m) => m.name === ring)!;
    assert.is(mr.size, netLinkRegionSize(512));
    for (const pd of ['a_vmm', 'b_vmm']) assert.equal(allProtectionDomains(model).find((p) => p.name === pd)!.maps.filter((m) => m.mr === ring).map((m) => m.perms), ['rw']);
  }
  assert.equal([lan.channel.a.pd, lan.channel.b.pd], ['a_vmm', 'b_vmm']);
  const a = model.guests.find((g) => g.vm === 'a')!;
  assert.equal(a.virtio.map((d) => [d.kind, d.name]), [['block', 'disk'], ['net', 'lan']]);
  // Windows after guest RAM (0x40000000 + 256 MiB), SPIs above the board's interrupts (max 79:
  // QEMU's 32 virtio-mmio transports, SPIs 16..47 = INTIDs 48..79).
  assert.equal(a.virtio.map((d) => [d.gpa, d.intid]), [[0x5000_0000n, 80], [0x5000_1000n, 81]]);
  assert.is(a.virtio[1]!.net!.mac, defaultMac('lan', 0));
  assert.is(model.guests.find((g) => g.vm === 'b')!.virtio.find((d) => d.kind === 'net')!.net!.mac, defaultMac('lan', 1));
  assert.match(defaultMac('lan', 0), /^02:53:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:01$/);
});

test('a VM-to-PD link: the PD sees its rings through <link>_tx/_rx and keeps the channel id it asked for', async () => {
  const { model } = await build('ok');
  const up = model.links!.find((l) => l.name === 'uplink')!;
  assert.equal(up.b, { pd: 'filter', vm: undefined });
  assert.is(up.channel.b.id, 7);
  const filter = allProtectionDomains(model).find((p) => p.name === 'filter')!;
  assert.equal(filter.maps.map((m) => [m.mr, m.setvarVaddr]), [['uplink_b_to_a', 'uplink_tx'], ['uplink_a_to_b', 'uplink_rx']]);
  assert.is(model.memoryRegions.find((m) => m.name === 'uplink_a_to_b')!.size, netLinkRegionSize(64));
  const xml = emitSystemXml(model, { toolVersion: 'test' });
  assert.match(xml, /<!-- network link 'uplink' from 'b_vmm' to 'filter'/);
  assert.match(xml, /<map mr="uplink_b_to_a" vaddr="0x[0-9a-f]+" perms="rw" setvar_vaddr="uplink_tx"\/>/);
  assert.match(xml, /<end pd="filter" id="7"\/>/);
});

test('a block device: its disk region, the size of the image, mapped into the VMM only', async () => {
  const { model } = await build('ok');
  const disk = model.memoryRegions.find((m) => m.name === 'a_disk_disk')!;
  assert.is(disk.size, 0x10000n);
  const users = allProtectionDomains(model).filter((p) => p.maps.some((m) => m.mr === disk.name) || p.virtualMachine?.maps.some((m) => m.mr === disk.name));
  assert.equal(users.map((p) => p.name), ['a_vmm']);
  assert.is(users[0]!.virtualMachine!.maps.some((m) => m.mr === disk.name), false);
});

test('flows name the link: both directions of memory and notify between the two VMs, and the VM-PD link', async () => {
  const { model } = await build('ok');
  const g = deriveFlows(model);
  const between = (a: string, b: string) => g.flows.filter((f) => f.from === a && f.to === b);
  for (const [x, y] of [['a', 'b'], ['b', 'a']] as const) {
    assert.equal(between(x, y).map((f) => f.kind), ['memory', 'notify']);
    assert.ok(between(x, y).every((f) => f.causes.every((c) => c.what.startsWith("network link 'lan': "))));
  }
  assert.equal(between('b', 'filter').map((f) => f.kind), ['memory', 'notify']);
  assert.equal(between('filter', 'b').map((f) => f.kind), ['memory', 'notify']);
  assert.equal(between('a', 'filter'), []);
});

test('explicit MACs are used as given', async () => {
  const { model } = await build('macs');
  assert.equal(model.guests.map((g) => g.virtio.find((d) => d.kind === 'net')!.net!.mac), ['02:00:00:00:00:0a', '02:00:00:00:00:0b']);
});

/** The mistakes resolution finds (the ones validation finds: test/compile/validate/virtio.test.ts). */
const cases: [string, string, number][] = [
  ['loop', 'net-link-loop', 28],
  ['input-bad', 'virtio-console-input-unsupported', 15],
  ['odd-disk', 'virtio-disk-size', 10],
  ['two-pds', 'net-link-no-vm', 31],
  ['unknown-end', 'net-link-unknown-end', 32],
];
for (const [kase, id, line] of cases) {
  test(`${id} at its line (${kase})`, async () => {
    const { diagnostics } = await build(kase);
    const hit = diagnostics.find((d) => d.id === id);
    assert.ok(hit, `expected ${id}, got ${JSON.stringify(errorsOf(diagnostics))}`);
    assert.is(hit!.location?.line, line);
  });
}

test.run();
