import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decompileDtb } from '../../../src/compile/dtb/dtc.js';
import { cloneFdt, DtbError, FDT_MAGIC, makeNode } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { stringValue, u32Value } from '../../../src/compile/dtb/props.js';
import { missing, testIf } from '../../helpers.js';
import { bytesEqual, debianDtbs, fixtureDtbs, qemuVirtDtb } from './helpers.js';

/** dtc's own re-emission of a blob: the compact layout we must reproduce. */
function dtcRewrite(bytes: Uint8Array): Uint8Array {
  const r = spawnSync('dtc', ['-q', '-I', 'dtb', '-O', 'dtb', '-o', '-', '-'], { input: bytes });
  assert.is(r.status, 0, r.stderr?.toString());
  return new Uint8Array(r.stdout);
}

function checkRoundTrip(name: string, bytes: Uint8Array): void {
  const tree = readFdt(bytes);
  const again = writeFdt(tree);
  assert.ok(bytesEqual(again, bytes), `${name}: byte-exact round trip`);
  assert.is(decompileDtb(again), decompileDtb(bytes), `${name}: dtc decompiles ours and the original alike`);
  const compact = writeFdt(cloneFdt(tree));
  assert.ok(bytesEqual(compact, dtcRewrite(bytes)), `${name}: compact layout equals dtc's own output`);
}

testIf(missing('dtc'), 'dtc-compiled fixtures round-trip byte for byte', () => {
  const fixtures = fixtureDtbs();
  assert.ok(fixtures.size >= 2);
  for (const [name, bytes] of fixtures) checkRoundTrip(name, bytes);
});

testIf(missing('dtc', 'qemu'), "QEMU's virt DTBs (GICv2 and GICv3) round-trip byte for byte", () => {
  for (const gic of [2, 3] as const) checkRoundTrip(`qemu virt gic-v${gic}`, qemuVirtDtb(gic));
});

testIf(missing('dtc', 'board-dtbs'), "Debian's imx8mm-evk and odroid-c2 DTBs round-trip byte for byte", () => {
  const dtbs = debianDtbs();
  for (const [name, bytes] of dtbs) checkRoundTrip(name, bytes);
});

test('a tree built in code is written and read back unchanged', () => {
  const root = makeNode('', [{ name: '#address-cells', value: u32Value(2) }], [
    makeNode('chosen', [{ name: 'bootargs', value: stringValue('console=hvc0') }]),
    makeNode('odd', [{ name: 'three', value: new Uint8Array([1, 2, 3]) }, { name: 'empty', value: new Uint8Array() }]),
  ]);
  const fdt = { bootCpuidPhys: 3, memReserve: [{ address: 0x8000_0000n, size: 0x1000n }], root };
  const back = readFdt(writeFdt(fdt));
  assert.is(back.bootCpuidPhys, 3);
  assert.equal(back.memReserve, fdt.memReserve);
  assert.equal(back.root, root);
});

test('the tree shares no memory with a Node.js Buffer it was read from', () => {
  const buf = Buffer.from(writeFdt({ bootCpuidPhys: 0, memReserve: [], root: makeNode('', [{ name: 'x', value: u32Value(7) }]) }));
  const tree = readFdt(buf);
  buf.fill(0xff);
  assert.equal([...tree.root.props[0]!.value], [0, 0, 0, 7]);
  assert.is(tree.root.props[0]!.value.buffer.byteLength, 4);
});

/** Assembles a blob from raw parts so that malformed inputs can be built exactly. */
function blob(opts: { struct: number[]; strings?: string; version?: number; patch?: (dv: DataView) => void }): Uint8Array {
  const strings = new TextEncoder().encode(opts.strings ?? 'compatible\0');
  const memrsv = 40;
  const struct = memrsv + 16;
  const stringsOff = struct + opts.struct.length * 4;
  const total = stringsOff + strings.length;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  [FDT_MAGIC, total, struct, stringsOff, memrsv, opts.version ?? 17, 16, 0, strings.length, opts.struct.length * 4].forEach((v, i) =>
    dv.setUint32(i * 4, v),
  );
  opts.struct.forEach((v, i) => dv.setUint32(struct + i * 4, v));
  out.set(strings, stringsOff);
  opts.patch?.(dv);
  return out;
}

const BEGIN = 1, END_NODE = 2, PROP = 3, NOP = 4, END = 9;
const emptyRoot = [BEGIN, 0, END_NODE, END];

function expectError(bytes: Uint8Array, code: string): void {
  try {
    readFdt(bytes);
  } catch (err) {
    assert.instance(err, DtbError);
    assert.is((err as DtbError).code, code, (err as Error).message);
    assert.match((err as Error).message, /offset 0x[0-9a-f]+/);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('the assembler builds a valid minimal blob', () => {
  const fdt = readFdt(blob({ struct: [NOP, BEGIN, 0, NOP, PROP, 4, 0, 0x61626300, END_NODE, NOP, END] }));
  assert.is(fdt.root.props[0]?.name, 'compatible');
});

test('malformed blobs are DtbErrors with a code and an offset', () => {
  expectError(new Uint8Array([0xd0, 0x0d]), 'dtb-truncated');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(0, 0xfeedd00d) }), 'dtb-bad-magic');
  expectError(blob({ struct: emptyRoot }).subarray(0, 39), 'dtb-truncated');
  expectError(blob({ struct: emptyRoot }).subarray(0, 60), 'dtb-truncated');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(4, 0x7fffffff) }), 'dtb-too-large');
  expectError(blob({ struct: emptyRoot, version: 16 }), 'dtb-unsupported-version');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(8, 58) }), 'dtb-misaligned');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(16, 44) }), 'dtb-misaligned');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(12, 60) }), 'dtb-overlap');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(16, 48) }), 'dtb-overlap');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(8, 0) }), 'dtb-overlap');
  expectError(blob({ struct: emptyRoot, patch: (dv) => dv.setUint32(36, 0x1000) }), 'dtb-out-of-bounds');
  expectError(blob({ struct: [BEGIN, 0, PROP, 0, 11, END_NODE, END] }), 'dtb-bad-string-offset');
  expectError(blob({ struct: [BEGIN, 0, PROP, 0, 0, END_NODE, END], strings: 'compat' }), 'dtb-unterminated-string');
  expectError(blob({ struct: [BEGIN, 0, 7, END_NODE, END] }), 'dtb-bad-token');
  expectError(blob({ struct: [BEGIN, 0, PROP, 100, 0, END_NODE, END] }), 'dtb-truncated-struct');
  expectError(blob({ struct: [BEGIN, 0, BEGIN, 0x61616161, 0x61616161] }), 'dtb-unterminated-name');
  expectError(blob({ struct: [BEGIN, 0, END_NODE] }), 'dtb-truncated-struct');
  expectError(blob({ struct: [BEGIN, 0, END_NODE, END_NODE, END] }), 'dtb-bad-structure');
  expectError(blob({ struct: [BEGIN, 0, END, END_NODE] }), 'dtb-bad-structure');
  expectError(blob({ struct: [BEGIN, 0, END_NODE, END, NOP] }), 'dtb-bad-structure');
  expectError(blob({ struct: [BEGIN, 0, END_NODE, BEGIN, 0, END_NODE, END] }), 'dtb-bad-structure');
  expectError(blob({ struct: [BEGIN, 0x61000000, END_NODE, END] }), 'dtb-bad-structure');
  expectError(blob({ struct: [BEGIN, 0, BEGIN, 0x61000000, END_NODE, PROP, 0, 0, END_NODE, END] }), 'dtb-bad-structure');
  expectError(blob({ struct: [BEGIN, 0, PROP, 0, 0, PROP, 0, 0, END_NODE, END] }), 'dtb-duplicate-property');
  expectError(blob({ struct: [BEGIN, 0, BEGIN, 0x61000000, END_NODE, BEGIN, 0x61000000, END_NODE, END_NODE, END] }), 'dtb-duplicate-node');
  expectError(blob({ struct: [BEGIN, 0, BEGIN, 0x612f6200, END_NODE, END_NODE, END] }), 'dtb-bad-node-name');
  const deep = [BEGIN, 0];
  for (let i = 0; i < 70; i++) deep.push(BEGIN, 0x61000000);
  expectError(blob({ struct: [...deep, END] }), 'dtb-too-deep');
  const memrsvNoEnd = blob({ struct: emptyRoot, patch: (dv) => dv.setBigUint64(40, 1n) });
  expectError(memrsvNoEnd, 'dtb-overlap');
});

test.run();
