import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDts, decompileDtb } from '../../../src/compile/dtb/dtc.js';
import { DtbError, makeNode, type Fdt } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { injectLinuxBoot } from '../../../src/compile/dtb/inject.js';
import { getProp, propNumber, propString, u32Value } from '../../../src/compile/dtb/props.js';
import { findNode, getNode, readReg } from '../../../src/compile/dtb/tree.js';
import { fixtures, missing, runCli, testIf } from '../../helpers.js';
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

/** A root whose `#address-cells` would make every address 2^30 cells long (4 GiB each). */
function hugeCellsTree(): Fdt {
  const root = makeNode('', [
    { name: '#address-cells', value: u32Value(0x4000_0000) },
    { name: '#size-cells', value: u32Value(1) },
  ], [makeNode('memory@40000000', [{ name: 'device_type', value: new TextEncoder().encode('memory\0') }]), makeNode('chosen')]);
  return { bootCpuidPhys: 0, memReserve: [], root };
}

test('#address-cells beyond what an address can take is a DtbError naming the node and property', () => {
  assert.throws(
    () => injectLinuxBoot(hugeCellsTree(), { memory: [{ base: 0x4000_0000n, size: 0x1000_0000n }] }),
    (e: unknown) => e instanceof DtbError && e.code === 'dt-bad-cells' && /property "#address-cells" of node "\/" is 1073741824/.test(e.message),
  );
});

test("a guest dtb with a huge #address-cells is a user error at the virtual machine's line, not a crash", () => {
  const work = mkdtempSync(join(tmpdir(), 'sel4cp-synth-inject-'));
  try {
    const dtb = join(work, 'huge-cells.dtb');
    writeFileSync(dtb, writeFdt(hugeCellsTree()));
    const file = join(work, 'huge-cells.ts');
    writeFileSync(file, [
      "import { passthrough, system, virtualMachine } from 'sel4cp-synth';",
      `const linux = virtualMachine('linux', { kernel: ${JSON.stringify(join(fixtures, 'invalid', 'stub-Image'))}, dtb: ${JSON.stringify(dtb)}, passthrough: [passthrough('uart0')] });`,
      "export default system({ board: 'qemu', virtualMachines: [linux] });",
      '',
    ].join('\n'));
    const r = runCli([file, '--out', join(work, 'out'), '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 1, r.stderr);
    assert.not.match(r.stderr, /internal error|RangeError|^\s+at /m, r.stderr);
    assert.match(r.stderr, /huge-cells\.ts:2:\d+: error\[guest-dtb-invalid\]: the guest device tree of 'linux' cannot be made from .*huge-cells\.dtb: property "#address-cells" of node "\/" is 1073741824; addresses and sizes take at most 4 cells/, r.stderr);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
