import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileDts, decompileDtb } from '../../../src/compile/dtb/dtc.js';
import { DtbError } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { makeGuestDtb, type GuestDtbOptions } from '../../../src/compile/dtb/guest-dtb.js';
import { missing, testIf } from '../../helpers.js';
import { bytesEqual, debianDtbs, fixtureDir, qemuVirtDtb } from './helpers.js';

const memory = [{ base: 0x4000_0000n, size: 0x1000_0000n }];

testIf(missing('dtc', 'qemu'), "QEMU virt: only the PL011 is passed through, and dtc reads the result", () => {
  for (const version of [2, 3] as const) {
    const gic = version === 2
      ? { version, distributor: 0x800_0000n, cpuInterface: 0x801_0000n }
      : { version, distributor: 0x800_0000n, redistributor: 0x80a_0000n };
    const options: GuestDtbOptions = { keep: ['/pl011@9000000'], memory, gic, vcpus: 1, bootargs: 'console=ttyAMA0', initrd: { start: 0x4fc0_0000n, end: 0x4fd0_0000n } };
    const board = readFdt(qemuVirtDtb(version));
    const { tree, findings } = makeGuestDtb(board, options);
    assert.equal(findings.filter((f) => f.severity === 'warning'), [], `GICv${version}`);
    const bytes = writeFdt(tree);
    assert.ok(bytesEqual(bytes, writeFdt(makeGuestDtb(board, options).tree)), 'deterministic');
    const dts = decompileDtb(bytes);
    for (const present of ['pl011@9000000 {', 'intc@8000000 {', 'cpu@0 {', 'timer {', 'psci {', 'method = "hvc";', 'apb-pclk {', 'memory@40000000 {', 'chosen {', 'linux,initrd-start = <0x00 0x4fc00000>;', 'bootargs = "console=ttyAMA0";']) {
      assert.ok(dts.includes(present), `GICv${version}: ${present}`);
    }
    for (const absent of ['virtio_mmio', 'pcie@', 'pl061@', 'pl031@', 'fw-cfg@', 'flash@', 'platform-bus@', 'gpio-keys', 'pmu {', 'cpu-map', 'v2m@', 'its@', 'kaslr-seed', 'rng-seed', 'memory@40000000 {\n\t\tdevice_type = "memory";\n\t\treg = <0x00 0x40000000 0x00 0x80000000>']) {
      assert.not.ok(dts.includes(absent), `GICv${version}: ${absent}`);
    }
    const intc = version === 2 ? '<0x00 0x8000000 0x00 0x10000 0x00 0x8010000 0x00 0x10000>' : '<0x00 0x8000000 0x00 0x10000 0x00 0x80a0000 0x00 0x20000>';
    assert.ok(dts.includes(`reg = ${intc};`), `GICv${version} reg: ${dts}`);
  }
});

testIf(missing('dtc'), 'a vendor-style board: vCPUs, references, aliases, status (golden file)', () => {
  const board = readFdt(compileDts(join(fixtureDir, 'board-gicv2.dts')));
  const { tree, findings } = makeGuestDtb(board, {
    keep: ['serial0', '/soc/bus@c1100000/serial@84dc'],
    memory,
    gic: { version: 2, distributor: 0xc430_1000n, cpuInterface: 0xc430_2000n },
    vcpus: 2,
    psciMethod: 'smc',
  });
  assert.equal(findings.map((f) => `${f.severity} ${f.id} ${f.path ?? ''}`), [
    'note guest-dt-pinctrl-removed /soc/bus@c1100000/serial@84c0',
    'warning guest-dt-dangling-reference /soc/bus@c1100000/serial@84c0',
    'note guest-dt-enabled /soc/bus@c1100000/serial@84dc',
  ]);
  const dts = decompileDtb(writeFdt(tree));
  const golden = join(fixtureDir, 'golden', 'board-gicv2.guest.dts');
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(golden)) writeFileSync(golden, dts);
  assert.fixture(dts, readFileSync(golden, 'utf8'));
  for (const absent of ['cpu@2', 'cpu-map', 'idle-states', 'cpu-idle-states', 'reserved-memory', 'ethernet', 'clock-controller', 'pinctrl', 'pmu']) {
    assert.not.ok(dts.includes(absent), absent);
  }
  assert.ok(dts.includes('xtal-clk {'));
  assert.ok(dts.includes('serial0 = "/soc/bus@c1100000/serial@84c0";'));
  assert.not.ok(dts.includes('ethernet0'));
});

testIf(missing('dtc', 'board-dtbs'), "Debian's board DTBs: a guest with the console UART only", () => {
  const dtbs = debianDtbs();
  const cases = [
    { file: 'imx8mm-evk.dtb', uart: '/soc@0/bus@30800000/spba-bus@30800000/serial@30890000', gic: { version: 3 as const, distributor: 0x3880_0000n, redistributor: 0x3888_0000n } },
    { file: 'meson-gxbb-odroidc2.dtb', uart: 'serial0', gic: { version: 2 as const, distributor: 0xc430_1000n, cpuInterface: 0xc430_2000n } },
  ];
  for (const c of cases) {
    const bytes = dtbs.get(c.file);
    if (!bytes) continue;
    const { tree, findings } = makeGuestDtb(readFdt(bytes), { keep: [c.uart], memory, gic: c.gic, vcpus: 2 });
    const dts = decompileDtb(writeFdt(tree));
    assert.is((dts.match(/device_type = "cpu"/g) ?? []).length, 2, c.file);
    assert.is((dts.match(/serial@/g) ?? []).length >= 1, true, c.file);
    assert.is((dts.match(/compatible = "[^"]*uart/g) ?? []).length, 1, `${c.file}: one UART`);
    assert.not.ok(dts.includes('mmc@') || dts.includes('ethernet@') || dts.includes('reserved-memory'), c.file);
    assert.ok(dts.includes('method = "hvc";'), c.file);
    // Both boards' UARTs take a clock from the SoC's clock controller, which stays with the host.
    assert.ok(findings.some((f) => f.id === 'guest-dt-dangling-reference' && f.message.includes('clocks')), c.file);
  }
});

testIf(missing('dtc'), 'bad requests are DtbErrors', () => {
  const board = readFdt(compileDts(join(fixtureDir, 'board-gicv2.dts')));
  const gic = { version: 2 as const, distributor: 0xc430_1000n, cpuInterface: 0xc430_2000n };
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      return e instanceof DtbError ? e.code : String(e);
    }
    return undefined;
  };
  assert.is(code(() => makeGuestDtb(board, { keep: ['/soc/nope'], memory, gic, vcpus: 1 })), 'dt-no-node');
  assert.is(code(() => makeGuestDtb(board, { keep: [], memory, gic, vcpus: 5 })), 'dt-bad-vcpus');
  assert.is(code(() => makeGuestDtb(board, { keep: [], memory, gic, vcpus: 0 })), 'dt-bad-vcpus');
  assert.is(code(() => makeGuestDtb(board, { keep: [], memory, gic: { version: 2, distributor: 0xc430_1000n }, vcpus: 1 })), 'dt-bad-gic');
});

test.run();
