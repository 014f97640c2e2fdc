// What resolution (src/compile/resolve/doorbells.ts) makes of a VM's channels to peers: the
// lines of its PL061, their names, the window and SPI after its virtio devices, and the regions
// it shares. The device-tree nodes: test/compile/dtb/doorbell-nodes.test.ts; the VMM's side:
// test/vmm-runtime/test_doorbell.c; a guest and a PD ringing each other: test/e2e/doorbell.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { loadSystem } from '../../../src/compile/load/index.js';
import { resolveSystem } from '../../../src/compile/resolve/index.js';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { findBoard } from '../../../src/compile/boards.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';
import { repoRoot } from '../../helpers.js';

async function build() {
  const abs = path.join(repoRoot, 'test/fixtures/systems/doorbells.ts');
  const system = await loadSystem(abs, { context: new Map(), cwd: repoRoot });
  const r = resolveSystem({ system, file: abs, board: findBoard(loadBoards(), 'qemu_virt_aarch64'), images: new Map() });
  return { model: r.model, diagnostics: [...r.diagnostics, ...validateSystem(r.model)] };
}

test('each channel of a VM to a peer is a ring and a notify line named after the peer; a second one to the same peer is numbered', async () => {
  const { model, diagnostics } = await build();
  assert.equal(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const a = model.guests.find((g) => g.vm === 'a')!;
  assert.equal(a.doorbells!.lines.map((l) => [l.peer, l.end.pd, l.ring, l.notify, l.names.ring, l.names.notify]), [
    ['mon', 'a_vmm', 0, 1, 'mon-ring', 'mon-notify'],
    ['b', 'a_vmm', 2, 3, 'b-ring', 'b-notify'],
    ['mon', 'a_vmm', 4, 5, 'mon-2-ring', 'mon-2-notify'],
  ]);
  // The VMM's channel ids: allocated, or the one asked for.
  assert.is(a.doorbells!.lines[2]!.end.id, 9);
  // The other VM names 'a' (not its VMM) as its peer.
  const b = model.guests.find((g) => g.vm === 'b')!;
  assert.equal(b.doorbells!.lines.map((l) => l.names.notify), ['a-notify']);
  // The link's channel is not a doorbell: the VMM serves it as virtio-net.
  const lan = model.links!.find((l) => l.name === 'lan')!;
  assert.not.ok(a.doorbells!.lines.some((l) => l.end === lan.channel.a));
});

test('the PL061 follows the virtio windows: next page after them, next SPI', async () => {
  const { model } = await build();
  const a = model.guests.find((g) => g.vm === 'a')!;
  const lastVirtio = a.virtio[a.virtio.length - 1]!;
  assert.is(a.doorbells!.gpa, lastVirtio.gpa + lastVirtio.size);
  assert.is(a.doorbells!.intid, lastVirtio.intid + 1);
  const xml = emitSystemXml(model, { toolVersion: 'test' });
  assert.match(xml, `a PL061 the VMM emulates at [0x${a.doorbells!.gpa.toString(16)}..`);
  assert.match(xml, /channel 9 to 'mon' = lines 4 \(ring\) and 5 \(notify\)/);
});

test('the PL061 window moves past a region the VM maps where it would go, and keeps its SPI', async () => {
  const { model, diagnostics } = await build();
  assert.equal(diagnostics.filter((d) => d.id === 'vm-map-over-virtio'), []);
  const b = model.guests.find((g) => g.vm === 'b')!;
  assert.equal([b.virtio[0]!.gpa, b.doorbells!.gpa, b.doorbells!.intid], [0x5000_0000n, 0x5000_3000n, b.virtio[0]!.intid + 1]);
});

test('the regions a VM maps are listed with their address and the others that map them', async () => {
  const { model } = await build();
  const a = model.guests.find((g) => g.vm === 'a')!;
  assert.equal(a.shared, [{ mr: 'box', gpa: 0x6000_0000n, size: 0x1000n, perms: 'rw', peers: ['mon'] }]);
  assert.equal(model.guests.find((g) => g.vm === 'b')!.shared, [{ mr: 'late', gpa: 0x5000_1000n, size: 0x2000n, perms: 'rw', peers: [] }]);
});

test.run();
