import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { compileDts, decompileDtb } from '../../../src/compile/dtb/dtc.js';
import { DtbError, makeNode, type Fdt } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { injectLinuxBoot } from '../../../src/compile/dtb/inject.js';
import { getProp, propNumber, propString, u32Value } from '../../../src/compile/dtb/props.js';
import { findNode, getNode, readReg } from '../../../src/compile/dtb/tree.js';
import { missing, testIf } from '../../helpers.js';
import { fixtureDir, qemuVirtDtb } from './helpers.js';

testIf(missing('dtc'), 'initrd, bootargs and memory go in; stdout-path and the input tree stay', () => {
  const original = readFdt(compileDts(join(fixtureDir, 'features.dts')));
  const before = writeFdt(original);
  const out = injectLinuxBoot(original, {
    initrd: { start: 0x4fc0_0000n, end: 0x4fd2_3456n },
    bootargs: 'console=ttyAMA0 rdinit=/init',
    memory: [{ base: 0x4000_0000n, size: 0x1000_0000n }],
  });
  assert.equal(writeFdt(original), before, 'input untouched');
  const back = readFdt(writeFdt(out));
  const chosen = getNode(back, '/chosen').node;
  assert.is(propNumber(chosen, 'linux,initrd-start'), 0x4fc0_0000n);
  assert.is(propNumber(chosen, 'linux,initrd-end'), 0x4fd2_3456n);
  assert.is(getProp(chosen, 'linux,initrd-start')?.value.length, 8, 'u64');
  assert.is(propString(chosen, 'bootargs'), 'console=ttyAMA0 rdinit=/init');
  assert.is(propString(chosen, 'stdout-path'), 'serial0:115200n8');
  const mems = back.root.children.filter((c) => c.name.startsWith('memory'));
  assert.equal(mems.map((m) => m.name), ['memory@40000000']);
  assert.equal(readReg(getNode(back, '/memory@40000000')), [{ address: 0x4000_0000n, size: 0x1000_0000n }]);
  assert.match(decompileDtb(writeFdt(out)), /linux,initrd-start = <0x00 0x4fc00000>;/);
});

test('creates /chosen, honours one-cell roots, drops stale initrd ranges', () => {
  const root = makeNode('', [
    { name: '#address-cells', value: u32Value(1) },
    { name: '#size-cells', value: u32Value(1) },
  ], [makeNode('memory@0', [{ name: 'device_type', value: new TextEncoder().encode('memory\0') }]), makeNode('memory@80000000'), makeNode('cpus')]);
  const tree: Fdt = { bootCpuidPhys: 0, memReserve: [], root };
  const out = injectLinuxBoot(tree, { memory: [{ base: 0x8000_0000n, size: 0x100_0000n }, { base: 0x9000_0000n, size: 0x100_0000n }] });
  assert.equal(out.root.children.map((c) => c.name), ['memory@80000000', 'cpus', 'chosen']);
  assert.equal(readReg(getNode(out, '/memory')), [{ address: 0x8000_0000n, size: 0x100_0000n }, { address: 0x9000_0000n, size: 0x100_0000n }]);
  const withRange = injectLinuxBoot(out, { initrd: { start: 1n, end: 2n }, memory: [{ base: 0x8000_0000n, size: 0x100_0000n }] });
  const without = injectLinuxBoot(withRange, { memory: [{ base: 0x8000_0000n, size: 0x100_0000n }] });
  assert.is(getProp(findNode(without, '/chosen')!.node, 'linux,initrd-start'), undefined);
  assert.throws(
    () => injectLinuxBoot(tree, { memory: [{ base: 0x1_0000_0000n, size: 0x1000n }] }),
    (e: unknown) => e instanceof DtbError && e.code === 'dt-cells-overflow',
  );
  assert.throws(() => injectLinuxBoot(tree, { memory: [] }), (e: unknown) => e instanceof DtbError && e.code === 'dt-no-memory');
});

testIf(missing('dtc', 'qemu'), "QEMU's virt DTB takes the injection and dtc reads the result", () => {
  const out = injectLinuxBoot(readFdt(qemuVirtDtb(2)), {
    initrd: { start: 0x4800_0000n, end: 0x4810_0000n },
    memory: [{ base: 0x4000_0000n, size: 0x1000_0000n }],
  });
  const dts = decompileDtb(writeFdt(out));
  assert.match(dts, /memory@40000000 \{\n\t\tdevice_type = "memory";\n\t\treg = <0x00 0x40000000 0x00 0x10000000>;/);
  assert.match(dts, /linux,initrd-end = <0x00 0x48100000>;/);
});

test.run();
