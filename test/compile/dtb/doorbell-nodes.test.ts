// The guest's doorbell controller and shared-region nodes (src/compile/dtb/doorbell-nodes.ts),
// added to the tree cut from QEMU's own virt DTB and read back by dtc: what Linux's pl061
// binding (Documentation/devicetree/bindings/gpio/pl061-gpio.yaml) and the AMBA bus need.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decompileDtb } from '../../../src/compile/dtb/dtc.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { addDoorbellNode, addSharedRegionNodes } from '../../../src/compile/dtb/doorbell-nodes.js';
import { makeGuestDtb } from '../../../src/compile/dtb/guest-dtb.js';
import { propString, propStrings, propU32Array } from '../../../src/compile/dtb/props.js';
import { missing, testIf } from '../../helpers.js';
import { bytesEqual, qemuVirtDtb } from './helpers.js';

function guestTree(): ReturnType<typeof makeGuestDtb>['tree'] {
  const gic = { version: 2 as const, distributor: 0x800_0000n, cpuInterface: 0x801_0000n };
  return makeGuestDtb(readFdt(qemuVirtDtb(2)), { keep: ['/pl011@9000000'], memory: [{ base: 0x4000_0000n, size: 0x1000_0000n }], gic, vcpus: 1 }).tree;
}

const doorbells = {
  gpa: 0x5000_1000n, size: 0x1000n, intid: 41,
  lines: [
    { ring: 0, notify: 1, names: { ring: 'monitor-ring', notify: 'monitor-notify' } },
    { ring: undefined, notify: 3, names: { ring: 'web-ring', notify: 'web-notify' } },
  ],
};

testIf(missing('dtc', 'qemu'), 'doorbells: a PL061 with its own apb_pclk, a level SPI on the GIC and the lines named after the peers; dtc reads it', () => {
  const tree = guestTree();
  addDoorbellNode(tree, doorbells);
  const bytes = writeFdt(tree);
  const dts = decompileDtb(bytes);
  assert.ok(dts.includes('gpio@50001000 {'), dts);
  const back = readFdt(bytes);
  const gpio = back.root.children.find((n) => n.name === 'gpio@50001000')!;
  assert.equal(propStrings(gpio, 'compatible'), ['arm,pl061', 'arm,primecell']);
  assert.equal(propU32Array(gpio, 'reg'), [0, 0x5000_1000, 0, 0x1000]);
  assert.equal(propU32Array(gpio, 'interrupts'), [0, 41 - 32, 4]);
  assert.equal(propU32Array(gpio, '#gpio-cells'), [2]);
  assert.equal(propU32Array(gpio, '#interrupt-cells'), [2]);
  assert.equal(propStrings(gpio, 'gpio-line-names'), ['monitor-ring', 'monitor-notify', '', 'web-notify', '', '', '', '']);
  assert.is(propString(gpio, 'clock-names'), 'apb_pclk');
  const gic = back.root.children.find((n) => n.name.startsWith('intc'))!;
  assert.equal(propU32Array(gpio, 'interrupt-parent'), propU32Array(gic, 'phandle'));
  const clock = back.root.children.find((n) => n.name === 'doorbell-pclk')!;
  assert.equal(propU32Array(gpio, 'clocks'), propU32Array(clock, 'phandle'));
  assert.equal(propStrings(clock, 'compatible'), ['fixed-clock']);
  // A phandle of its own: not QEMU's apb-pclk's, nor any other node's.
  const phandles = [...dts.matchAll(/phandle = <(0x[0-9a-f]+)>/g)].map((m) => m[1]);
  assert.is(new Set(phandles).size, phandles.length, `phandles unique: ${phandles.join(' ')}`);
  assert.ok(bytesEqual(bytes, (() => { const t = guestTree(); addDoorbellNode(t, doorbells); return writeFdt(t); })()), 'deterministic');
});

testIf(missing('dtc', 'qemu'), 'shared regions: a node per region with its address, name, permissions and peers, and no compatible for a driver to bind', () => {
  const tree = guestTree();
  addSharedRegionNodes(tree, [{ mr: 'mailbox', gpa: 0x6000_0000n, size: 0x1000n, perms: 'rw', peers: ['echo'] }, { mr: 'log', gpa: 0x6001_0000n, size: 0x10000n, perms: 'r', peers: [] }]);
  const back = readFdt(writeFdt(tree));
  const dts = decompileDtb(writeFdt(tree));
  assert.ok(dts.includes('shared-memory@60000000 {') && dts.includes('shared-memory@60010000 {'), dts);
  const box = back.root.children.find((n) => n.name === 'shared-memory@60000000')!;
  assert.equal(propU32Array(box, 'reg'), [0, 0x6000_0000, 0, 0x1000]);
  assert.is(propString(box, 'label'), 'mailbox');
  assert.is(propString(box, 'sel4cp-synth,perms'), 'rw');
  assert.equal(propStrings(box, 'sel4cp-synth,peers'), ['echo']);
  assert.is(propStrings(box, 'compatible'), undefined);
  const log = back.root.children.find((n) => n.name === 'shared-memory@60010000')!;
  assert.is(propStrings(log, 'sel4cp-synth,peers'), undefined);
});

test.run();
