import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileDts, decompileDtb } from '../../../src/compile/dtb/dtc.js';
import { DtbError, makeNode, type Fdt, type FdtNode, type FdtProp } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { addVirtioNodes, makeGuestDtb, type GuestDtbOptions } from '../../../src/compile/dtb/guest-dtb.js';
import { compatibleOf, getProp, propString, propStrings, propU32Array, stringListValue, stringValue, u32Value } from '../../../src/compile/dtb/props.js';
import { findNode, getNode } from '../../../src/compile/dtb/tree.js';
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

// Small board trees built here, so that each finding has a test that runs without dtc or QEMU.

const prop = (name: string, value: Uint8Array): FdtProp => ({ name, value });
const flag = (name: string): FdtProp => prop(name, new Uint8Array());
const GIC_PHANDLE = 1;

/**
 * A board tree (#address-cells = #size-cells = 2) with one CPU, a GICv2 (phandle 1), the timer,
 * /chosen and a simple-bus /soc holding the UART serial@9000000 (SPI 1): cut for that UART alone,
 * it gives no findings (the first test below).
 */
function smallBoard(): Fdt {
  return {
    bootCpuidPhys: 0,
    memReserve: [],
    root: makeNode('', [prop('#address-cells', u32Value(2)), prop('#size-cells', u32Value(2)), prop('interrupt-parent', u32Value(GIC_PHANDLE)), prop('compatible', stringValue('test,board'))], [
      makeNode('cpus', [prop('#address-cells', u32Value(1)), prop('#size-cells', u32Value(0))], [
        makeNode('cpu@0', [prop('device_type', stringValue('cpu')), prop('compatible', stringValue('arm,cortex-a53')), prop('reg', u32Value(0))]),
      ]),
      makeNode('intc@8000000', [
        prop('compatible', stringListValue(['arm,cortex-a15-gic'])),
        prop('#interrupt-cells', u32Value(3)),
        flag('interrupt-controller'),
        prop('reg', u32Value(0, 0x800_0000, 0, 0x1_0000, 0, 0x801_0000, 0, 0x1_0000)),
        prop('phandle', u32Value(GIC_PHANDLE)),
      ]),
      makeNode('timer', [prop('compatible', stringValue('arm,armv8-timer')), prop('interrupts', u32Value(1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4))]),
      makeNode('chosen'),
      makeNode('soc', [prop('compatible', stringValue('simple-bus')), prop('#address-cells', u32Value(2)), prop('#size-cells', u32Value(2)), flag('ranges')], [
        makeNode('serial@9000000', [prop('compatible', stringValue('arm,pl011')), prop('reg', u32Value(0, 0x900_0000, 0, 0x1000)), prop('interrupts', u32Value(0, 1, 4))]),
      ]),
    ]),
  };
}

const smallGic = { version: 2 as const, distributor: 0x800_0000n, cpuInterface: 0x801_0000n };
const smallOptions = (keep: string[]): GuestDtbOptions => ({ keep, memory, gic: smallGic, vcpus: 1 });
const UART = '/soc/serial@9000000';

function child(tree: Fdt, path: string): FdtNode {
  return getNode(tree, path).node;
}

test('a small board tree cut for its UART gives no findings (the baseline of the tests below)', () => {
  const { tree, findings } = makeGuestDtb(smallBoard(), smallOptions([UART]));
  assert.equal(findings, []);
  assert.ok(findNode(tree, UART));
});

test("guest-dt-memreserve-dropped: the board's /memreserve/ entries are host memory and are not copied", () => {
  const board = smallBoard();
  board.memReserve = [{ address: 0x4800_0000n, size: 0x1000n }, { address: 0x4900_0000n, size: 0x2000n }];
  const { tree, findings } = makeGuestDtb(board, smallOptions([UART]));
  assert.equal(findings, [
    { id: 'guest-dt-memreserve-dropped', severity: 'note', message: "the board's 2 /memreserve/ entries describe host memory and are not copied" },
  ]);
  assert.equal(tree.memReserve, []);
});

test('guest-dt-power-domain-removed: a kept device loses power-domains naming a provider that stays with the host', () => {
  const board = smallBoard();
  child(board, '/soc').children.unshift(makeNode('power-controller@1000', [prop('reg', u32Value(0, 0x1000, 0, 0x1000)), prop('#power-domain-cells', u32Value(1)), prop('phandle', u32Value(3))]));
  child(board, UART).props.push(prop('power-domains', u32Value(3, 7)), prop('power-domain-names', stringValue('uart')));
  const { tree, findings } = makeGuestDtb(board, smallOptions([UART]));
  assert.equal(findings, [
    { id: 'guest-dt-power-domain-removed', severity: 'note', path: UART, message: `${UART}: power-domains removed; the domain must be powered by whoever owns it` },
  ]);
  const uart = child(tree, UART);
  assert.is(getProp(uart, 'power-domains'), undefined);
  assert.is(getProp(uart, 'power-domain-names'), undefined);
  assert.is(findNode(tree, '/soc/power-controller@1000'), undefined);
});

test("guest-dt-reference-removed: a bus kept only to hold a device loses its own references to what is gone", () => {
  const board = smallBoard();
  const soc = child(board, '/soc');
  soc.children.unshift(makeNode('clock-controller@2000', [prop('reg', u32Value(0, 0x2000, 0, 0x1000)), prop('#clock-cells', u32Value(1)), prop('phandle', u32Value(2))]));
  soc.props.push(prop('clocks', u32Value(2, 4)), prop('clock-names', stringValue('bus')));
  const { tree, findings } = makeGuestDtb(board, smallOptions([UART]));
  assert.equal(findings, [
    { id: 'guest-dt-reference-removed', severity: 'note', path: '/soc', message: '/soc: clocks referred to nodes that are not passed through; removed' },
  ]);
  const guestSoc = child(tree, '/soc');
  assert.is(getProp(guestSoc, 'clocks'), undefined);
  assert.is(getProp(guestSoc, 'clock-names'), undefined);
  assert.is(findNode(tree, '/soc/clock-controller@2000'), undefined);
});

test('guest-dt-stdout-removed: /chosen loses a stdout-path naming a device that is not passed through', () => {
  const board = smallBoard();
  child(board, '/soc').children.push(makeNode('serial@9001000', [prop('compatible', stringValue('arm,pl011')), prop('reg', u32Value(0, 0x900_1000, 0, 0x1000)), prop('interrupts', u32Value(0, 2, 4))]));
  child(board, '/chosen').props.push(prop('stdout-path', stringValue('/soc/serial@9001000:115200n8')));
  const { tree, findings } = makeGuestDtb(board, smallOptions([UART]));
  assert.equal(findings, [
    { id: 'guest-dt-stdout-removed', severity: 'note', path: '/chosen', message: '/chosen: stdout-path "/soc/serial@9001000:115200n8" names a device that is not passed through; removed' },
  ]);
  assert.is(getProp(child(tree, '/chosen'), 'stdout-path'), undefined);
  // Passed through, the console stays the guest's stdout.
  const kept = makeGuestDtb(board, smallOptions(['/soc/serial@9001000']));
  assert.equal(kept.findings, []);
  assert.is(propString(child(kept.tree, '/chosen'), 'stdout-path'), '/soc/serial@9001000:115200n8');
});

test('guest-dt-interrupt-parent: a kept device whose interrupts go to a controller other than the GIC', () => {
  const board = smallBoard();
  const gpio = makeNode('gpio@3000', [
    prop('reg', u32Value(0, 0x3000, 0, 0x1000)), flag('interrupt-controller'), prop('#interrupt-cells', u32Value(2)), prop('interrupts', u32Value(0, 5, 4)), prop('phandle', u32Value(4)),
  ]);
  const button = makeNode('button@4000', [prop('reg', u32Value(0, 0x4000, 0, 0x1000)), prop('interrupt-parent', u32Value(4)), prop('interrupts', u32Value(8, 2))]);
  child(board, '/soc').children.push(gpio, button);
  const BUTTON = '/soc/button@4000';
  // Passed through with its controller, the controller is there, but the VMM forwards only GIC interrupts.
  const both = makeGuestDtb(board, smallOptions(['/soc/gpio@3000', BUTTON]));
  assert.equal(both.findings, [
    { id: 'guest-dt-interrupt-parent', severity: 'warning', path: BUTTON, message: `${BUTTON}: its interrupt parent /soc/gpio@3000 is not the GIC; the VMM only forwards GIC interrupts` },
  ]);
  // Without it, the interrupt parent is not in the guest tree at all: reported as a dangling
  // reference and as interrupts that cannot be read, not as guest-dt-interrupt-parent.
  const alone = makeGuestDtb(board, smallOptions([BUTTON]));
  assert.equal(alone.findings.map((f) => `${f.id} ${f.path}`), [`guest-dt-dangling-reference ${BUTTON}`, `guest-dt-interrupts ${BUTTON}`]);
});

test("guest-dt-gic-version: a GICv2 board's GIC node becomes the GICv3 the virtual machine has", () => {
  const { tree, findings } = makeGuestDtb(smallBoard(), { keep: [UART], memory, gic: { version: 3, distributor: 0x800_0000n, redistributor: 0x80a_0000n }, vcpus: 1 });
  assert.equal(findings, [
    { id: 'guest-dt-gic-version', severity: 'warning', path: '/intc@8000000', message: "/intc@8000000: the board's GIC is version 2, the virtual machine's is 3; compatible rewritten" },
  ]);
  assert.equal(compatibleOf(child(tree, '/intc@8000000')), ['arm,gic-v3']);
});

test('the guest tree gets one virtio,mmio node per device, its SPI on the GIC', () => {
  // A minimal tree with a GIC (the real guest trees come from QEMU's, in the boot tests).
  const cells = (...v: number[]): Uint8Array => u32Value(...v);
  const tree: Fdt = { memReserve: [], bootCpuid: 0, root: { name: '', props: [{ name: '#address-cells', value: cells(2) }, { name: '#size-cells', value: cells(2) }], children: [] } } as unknown as Fdt;
  tree.root.children.push({ name: 'intc@8000000', props: [{ name: 'compatible', value: stringValue('arm,cortex-a15-gic') }, { name: 'interrupt-controller', value: new Uint8Array(0) }], children: [] });
  addVirtioNodes(tree, [{ gpa: 0x5000_0000n, size: 0x1000n, intid: 40 }, { gpa: 0x5000_1000n, size: 0x1000n, intid: 41 }]);
  const back = readFdt(writeFdt(tree));
  const nodes = back.root.children.filter((n) => n.name.startsWith('virtio_mmio@'));
  assert.equal(nodes.map((n) => n.name), ['virtio_mmio@50000000', 'virtio_mmio@50001000']);
  assert.equal(propU32Array(nodes[0]!, 'reg'), [0, 0x5000_0000, 0, 0x1000]);
  assert.equal(propU32Array(nodes[1]!, 'interrupts'), [0, 9, 4]);
  const gic = back.root.children.find((n) => n.name.startsWith('intc'))!;
  assert.equal(propU32Array(nodes[0]!, 'interrupt-parent'), propU32Array(gic, 'phandle'));
  assert.equal(propStrings(nodes[0]!, 'compatible'), ['virtio,mmio']);
});

test.run();
