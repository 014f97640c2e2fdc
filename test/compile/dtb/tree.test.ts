import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { compileDts } from '../../../src/compile/dtb/dtc.js';
import { DtbError, type Fdt } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { decodeGicSpecifier, interruptParent, readInterrupts } from '../../../src/compile/dtb/interrupts.js';
import {
  deleteProp,
  propStrings,
  propString,
  propU32,
  propU32Array,
  propU64,
  setProp,
  u32Value,
} from '../../../src/compile/dtb/props.js';
import {
  addNode,
  aliases,
  deleteNode,
  findByPhandle,
  findCompatible,
  findNode,
  getNode,
  phandleOf,
  readReg,
  readRegPhysical,
} from '../../../src/compile/dtb/tree.js';
import { missing, testIf } from '../../helpers.js';
import { fixtureDir } from './helpers.js';

/** Every test here reads the features fixture, which dtc compiles. */
const needs = missing('dtc');

let cached: Fdt | undefined;
function features(): Fdt {
  cached ??= readFdt(compileDts(join(fixtureDir, 'features.dts')));
  return cached;
}

testIf(needs, 'paths: exact, without unit address, through an alias', () => {
  const t = features();
  assert.is(findNode(t, '/soc/bus@10000000/serial@1000')?.path, '/soc/bus@10000000/serial@1000');
  assert.is(findNode(t, '/soc/bus/serial')?.path, '/soc/bus@10000000/serial@1000');
  assert.is(findNode(t, 'serial1')?.path, '/soc/bus@10000000/serial@2000');
  assert.is(findNode(t, '/memory')?.path, '/memory@40000000');
  assert.is(findNode(t, '/soc/nope'), undefined);
  assert.is(findNode(t, 'gone'), undefined);
  assert.is(findNode(t, '/')?.path, '/');
  assert.throws(() => getNode(t, '/nope'), (e: unknown) => e instanceof DtbError && e.code === 'dt-no-node');
  assert.equal([...aliases(t).keys()], ['serial0', 'serial1', 'gone']);
});

testIf(needs, 'compatible and phandle lookups', () => {
  const t = features();
  assert.equal(findCompatible(t, 'arm,pl011').map((r) => r.path), ['/soc/bus@10000000/serial@1000', '/soc/bus@10000000/serial@2000']);
  const gic = findNode(t, '/interrupt-controller')!;
  const ph = phandleOf(gic.node)!;
  assert.is(findByPhandle(t, ph)?.path, gic.path);
  const clk = findNode(t, '/clock-24m')!;
  assert.is(propU32(clk.node, 'linux,phandle'), phandleOf(clk.node));
});

testIf(needs, 'property values: u32 arrays, u64, strings, lists, odd sizes', () => {
  const t = features();
  const odd = getNode(t, '/odd-sizes').node;
  assert.equal(propU32Array(odd, 'phandle-ref')?.length, 2);
  assert.throws(() => propU32Array(odd, 'three-bytes'), /not a whole number/);
  assert.is(propU64(odd, 'u64s'), 0x123456789abcdef0n);
  assert.equal(propStrings(odd, 'strings'), ['a', '', 'bcd']);
  assert.is(propString(odd, 'empty-string'), '');
  assert.throws(() => propString(odd, 'strings'), /holds 3 strings/);
  assert.throws(() => propString(odd, 'empty'), /NUL-terminated/);
  assert.is(propString(getNode(t, '/chosen').node, 'stdout-path'), 'serial0:115200n8');
});

testIf(needs, 'reg uses the parent cells and ranges translate to CPU addresses', () => {
  const t = features();
  const uart = getNode(t, 'serial0');
  assert.equal(readReg(uart), [{ address: 0x1000n, size: 0x1000n }]);
  assert.equal(readRegPhysical(uart), [{ address: 0x1000_1000n, size: 0x1000n }]);
  assert.equal(readReg(getNode(t, '/memory')), [{ address: 0x4000_0000n, size: 0x2000_0000n }]);
  assert.equal(readReg(getNode(t, '/interrupt-controller')).length, 2);
});

testIf(needs, 'interrupts follow interrupt-parent, inheritance and interrupts-extended', () => {
  const t = features();
  const uart = getNode(t, 'serial0');
  assert.is(interruptParent(t, uart)?.path, '/interrupt-controller@8000000');
  const irqs = readInterrupts(t, getNode(t, 'serial1'));
  assert.equal(irqs.map((i) => [i.gic?.kind, i.gic?.intid, i.gic?.trigger]), [['spi', 34, 'edge'], ['ppi', 25, 'level']]);
  const button = readInterrupts(t, getNode(t, '/soc/bus/button@0'));
  assert.is(button[0]?.controller.path, '/soc/bus@10000000/gpio@3000');
  assert.equal(button[0]?.cells, [5, 1]);
  assert.is(button[0]?.gic, undefined);
  assert.is(button[1]?.gic?.intid, 39);
  assert.equal(decodeGicSpecifier([0, 27, 4]), { kind: 'spi', number: 27, intid: 59, trigger: 'level', flags: 4 });
  assert.throws(() => decodeGicSpecifier([0, 988, 4]), /out of range/);
});

testIf(needs, 'an interrupt-parent loop is an error, not a hang', () => {
  const t = features();
  const copy = readFdt(writeFdt(t));
  const a = getNode(copy, '/soc/bus@10000000/serial@1000').node;
  const b = getNode(copy, '/soc/bus@10000000/serial@2000').node;
  setProp(a, 'phandle', u32Value(0x100));
  setProp(b, 'phandle', u32Value(0x101));
  setProp(a, 'interrupt-parent', u32Value(0x101));
  setProp(b, 'interrupt-parent', u32Value(0x100));
  assert.throws(() => readInterrupts(copy, getNode(copy, 'serial0')), (e: unknown) => e instanceof DtbError && e.code === 'dt-loop');
});

testIf(needs, 'edits: set and delete properties, add and delete nodes', () => {
  const t = features();
  const copy = readFdt(writeFdt(t));
  const chosen = getNode(copy, '/chosen').node;
  setProp(chosen, 'bootargs', new TextEncoder().encode('quiet\0'));
  assert.is(chosen.props[1]?.name, 'bootargs', 'replaced in place');
  assert.ok(deleteProp(chosen, 'bootargs'));
  assert.not.ok(deleteProp(chosen, 'bootargs'));
  const n = addNode(getNode(copy, '/soc').node, 'extra@0');
  setProp(n, 'reg', u32Value(0, 0x10));
  assert.throws(() => addNode(getNode(copy, '/soc').node, 'extra@0'), /already has a child/);
  const back = readFdt(writeFdt(copy));
  assert.equal(readReg(getNode(back, '/soc/extra@0')), [{ address: 0n, size: 0x10n }]);
  assert.ok(deleteNode(back, '/soc/extra@0'));
  assert.is(findNode(back, '/soc/extra@0'), undefined);
  assert.not.ok(deleteNode(back, '/'));
});

test.run();
