// The board files in boards/. Their shapes, types, units and interrupt classes are parseBoard's
// (src/compile/boards.ts, what every consumer reads them with; schema in boards/README.md): here,
// that each file parses, that the parser turns broken files down naming file and field, and the
// facts no single field shows: GIC consistency, what lies inside what, one console, a source for
// every fact, unique names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoardFileError, parseBoard, type Board } from '../../src/compile/boards.js';
import { loadBoards } from '../../src/compile/load/boards.js';
import { repoRoot } from '../helpers.js';

const PAGE = 0x1000n;
const files = readdirSync(join(repoRoot, 'boards')).filter((f) => f.endsWith('.json')).sort();
/** A board file's JSON as it is, to break at will below. */
type RawBoard = any;
const json = (file: string): RawBoard => JSON.parse(readFileSync(join(repoRoot, 'boards', file), 'utf8'));
const board = (file: string): Board => parseBoard(json(file), `boards/${file}`);

test('loadBoards() reads the shipped boards, one per file named after the board', () => {
  const boards = loadBoards();
  assert.equal(boards.map((b) => b.name), [
    'imx8mm_evk', 'imx8mp_evk', 'imx8mq_evk', 'odroidc2', 'odroidc4', 'qemu_virt_aarch64', 'qemu_virt_aarch64_gicv3',
    'rockpro64', 'rpi4b_1gb', 'rpi4b_2gb', 'rpi4b_4gb', 'rpi4b_8gb', 'ultra96v2', 'zcu102',
  ]);
  for (const b of boards) assert.is(b.file, join('boards', `${b.name}.json`));
});

// --- The parser turns broken files down ------------------------------------------------------

/** A broken variant of a real board file: [what is wrong, the field named, the change, the complaint]. */
const broken: [string, string, (b: RawBoard) => void, RegExp][] = [
  ['a missing field', 'gic.distributor', (b) => delete b.gic.distributor, /^missing/],
  ['a missing device field', 'devices[0].status', (b) => delete b.devices[0].status, /^missing/],
  ['a number as a string', 'cpus.count', (b) => (b.cpus.count = '1'), /must be an integer/],
  ['a string for a list', 'aliases', (b) => (b.aliases = 'qemu'), /must be an array/],
  ['a decimal address', 'guest.ramBase', (b) => (b.guest.ramBase = '1073741824'), /lower-case hex string/],
  ['upper-case hex', 'gic.distributor.paddr', (b) => (b.gic.distributor.paddr = '0x0A000000'), /lower-case hex string/],
  ['a JSON number for an address', 'loaderLinkAddress', (b) => (b.loaderLinkAddress = 0x70000000), /lower-case hex string/],
  ['an unaligned region', 'devices[0].paddr', (b) => (b.devices[0].paddr = '0x09000800'), /multiple of the 4 KiB page/],
  ['an unaligned RAM size', 'ram[0].size', (b) => (b.ram[0].size = '0x80000800'), /multiple of the 4 KiB page/],
  ['an empty region', 'gic.distributor.size', (b) => (b.gic.distributor.size = '0x0'), /must not be zero/],
  ['a DT SPI number for an INTID', 'devices[0].irqs[0].irq', (b) => (b.devices[0].irqs[0].irq = 1), /SPI INTID, 32\.\.159 \(maxIrq\), not 1 \(a <GIC_SPI n>/],
  ['an INTID above maxIrq', 'devices[0].irqs[0].irq', (b) => (b.devices[0].irqs[0].irq = 160), /SPI INTID, 32\.\.159/],
  ['a DT PPI number for a timer INTID', 'timer.virtualIrq', (b) => (b.timer.virtualIrq = 11), /PPI INTID, 16\.\.31, not 11/],
  ['an SPI for the maintenance interrupt', 'gic.maintenanceIrq', (b) => (b.gic.maintenanceIrq = 41), /PPI INTID/],
  ['a maxIrq beyond the SPIs', 'maxIrq', (b) => (b.maxIrq = 1020), /SPI INTID, 32\.\.1019/],
  ['an unknown GIC version', 'gic.version', (b) => (b.gic.version = 4), /must be 2 or 3, not 4/],
  ['an unknown trigger', 'devices[0].irqs[0].trigger', (b) => (b.devices[0].irqs[0].trigger = 'rising'), /"level" or "edge"/],
  ['an unknown status', 'devices[1].status', (b) => (b.devices[1].status = 'ok'), /"okay" or "disabled"/],
  ['a relative DT path', 'devices[0].dtPath', (b) => (b.devices[0].dtPath = 'pl011@9000000'), /must look like/],
  ['an empty source', 'sources.ram', (b) => (b.sources.ram = ''), /non-empty string/],
];

for (const [what, field, breakIt, complaint] of broken) {
  test(`parseBoard turns down ${what}, naming the file and '${field}'`, () => {
    const b = json('qemu_virt_aarch64.json');
    breakIt(b);
    try {
      parseBoard(b, 'boards/broken.json');
    } catch (e) {
      assert.instance(e, BoardFileError);
      const message = (e as Error).message;
      assert.ok(message.startsWith('boards/broken.json: ') && message.includes(`'${field}'`), message);
      assert.match(message.slice('boards/broken.json: '.length), complaint);
      return;
    }
    assert.unreachable('parseBoard accepted it');
  });
}

test('parseBoard accepts a board without the optional parts', () => {
  const b = json('qemu_virt_aarch64.json');
  for (const key of ['kernelReservedRam', 'qemu', 'microkit', 'notes']) delete b[key];
  delete b.devices[0].console;
  const parsed = parseBoard(b, 'boards/minimal.json');
  assert.equal([parsed.kernelReservedRam, parsed.qemu, parsed.microkit, parsed.notes, parsed.devices[0]!.console], [[], undefined, {}, [], false]);
});

// --- What the parser cannot see in one field ---------------------------------------------------

/** JSON paths of the facts that need a sources entry (the path itself or an ancestor). */
function factPaths(b: Board): string[] {
  return [
    'microkitBoard', 'sel4Platform', 'cpus.count', 'cpus.model', 'cpus.sel4Cores', 'paddrBits', 'loaderLinkAddress', 'maxIrq', 'ram',
    'gic.version', 'gic.distributor', 'gic.maintenanceIrq', 'guest.ramBase', 'guest.ramSize', 'guest.gicDistributor',
    'timer.secureIrq', 'timer.nonSecureIrq', 'timer.virtualIrq', 'timer.hypervisorIrq', 'timer.userPhysicalTimer', 'timer.frequencyHz', 'dtb',
    ...(b.gic.version === 2
      ? ['gic.cpuInterface', 'gic.hypervisorInterface', 'gic.virtualCpuInterface', 'guest.gicCpuInterface']
      : ['gic.redistributor', 'guest.gicRedistributor']),
    ...(b.gic.its ? ['gic.its'] : []),
    ...(b.kernelReservedRam.length > 0 ? ['kernelReservedRam'] : []),
    ...(b.microkit['2.3.0'] ? ['microkit'] : []),
    ...b.devices.map((_, i) => `devices[${i}]`),
    ...(b.qemu ? ['qemu.machine', 'qemu.cpu', 'qemu.memory', 'qemu.loaderAddress'] : []),
  ];
}

/** Whether `key` names `path` or one of its ancestors. */
function covers(key: string, path: string): boolean {
  return path === key || path.startsWith(key + '.') || path.startsWith(key + '[');
}

for (const file of files) {
  test(`${file} parses`, () => {
    board(file);
  });

  test(`${file}: GIC fields match the GIC version`, () => {
    const { gic, guest, cpus } = board(file);
    assert.is(guest.gicDistributor, gic.distributor.paddr, 'the guest sees GICD where the board has it');
    if (gic.version === 2) {
      const { cpuInterface: gicc, hypervisorInterface: gich, virtualCpuInterface: gicv } = gic;
      assert.ok(gicc && gich && gicv, 'a GICv2 board has gic.cpuInterface, .hypervisorInterface and .virtualCpuInterface');
      assert.ok(gicc!.size >= 0x2000n && gicv!.size >= 0x2000n, 'GICv2 CPU interfaces span at least 8 KiB');
      assert.is(guest.gicCpuInterface, gicc!.paddr, 'the guest sees GICC where the board has it');
      assert.equal([gic.redistributor, gic.its, guest.gicRedistributor], [undefined, undefined, undefined], 'a GICv2 has no redistributor or ITS');
    } else {
      const rd = gic.redistributor;
      assert.ok(rd, 'a GICv3 board has gic.redistributor');
      assert.is(rd!.frameSize, 0x20000n, 'a GICv3 redistributor frame is 128 KiB (RD_base + SGI_base)');
      assert.ok(rd!.size >= rd!.frameSize * BigInt(cpus.count), 'the redistributor region holds a frame per CPU');
      assert.is(guest.gicRedistributor, rd!.paddr, 'the guest sees the redistributors where the board has them');
      assert.equal([gic.cpuInterface, gic.hypervisorInterface, gic.virtualCpuInterface, guest.gicCpuInterface], [undefined, undefined, undefined, undefined],
        'a GICv3 has no GICC/GICH/GICV frames (the guest uses system registers)');
    }
  });

  test(`${file}: CPUs, RAM and the loader fit together`, () => {
    const b = board(file);
    assert.ok(b.cpus.sel4Cores <= b.cpus.count, 'cpus.sel4Cores <= cpus.count');
    const limit = 1n << BigInt(b.paddrBits);
    for (const r of [...b.ram, { base: b.guest.ramBase, size: b.guest.ramSize }]) assert.ok(r.base + r.size <= limit, 'RAM lies below 2^paddrBits');
    const inRam = (base: bigint, size: bigint): boolean => b.ram.some((r) => base >= r.base && base + size <= r.base + r.size);
    assert.ok(inRam(b.loaderLinkAddress, PAGE), 'the loader link address is in RAM');
    b.kernelReservedRam.forEach((r, i) => assert.ok(inRam(r.base, r.size), `kernelReservedRam[${i}] lies inside ram`));
    if (b.qemu) {
      assert.ok(b.dtb.qemuDumpdtb, 'a QEMU board takes its DTB from QEMU');
      assert.is(b.qemu.loaderAddress, b.loaderLinkAddress, 'qemu.loaderAddress = loaderLinkAddress');
      assert.is(b.qemu.cpu, b.cpus.model, 'qemu.cpu = cpus.model');
    } else {
      assert.ok(b.dtb.debianPath, 'a real board names its Debian DTB');
    }
  });

  test(`${file}: devices and interrupts`, () => {
    const { devices, timer } = board(file);
    const ppis = [timer.secureIrq, timer.nonSecureIrq, timer.virtualIrq, timer.hypervisorIrq];
    assert.is(new Set(ppis).size, 4, 'the timer PPIs are distinct');
    assert.is(new Set(devices.map((d) => d.name)).size, devices.length, 'device names are unique');
    for (const d of devices) {
      assert.ok(d.irqs.length > 0, `${d.name} has an interrupt`);
      for (const r of [d, ...d.extraRegions]) {
        assert.ok(r.regPaddr >= r.paddr && r.regPaddr + r.regSize <= r.paddr + r.size, `${d.name}: the registers lie inside the mapped pages`);
      }
    }
    const consoles = devices.filter((d) => d.console);
    assert.is(consoles.length, 1, 'exactly one console device');
    assert.equal([consoles[0]!.kind, consoles[0]!.status], ['uart', 'okay'], 'the console is a UART enabled in the board DTB');
  });

  test(`${file}: every fact has a source`, () => {
    const b = board(file);
    const keys = Object.keys(b.sources);
    for (const path of factPaths(b)) assert.ok(keys.some((k) => covers(k, path)), `no sources entry covers ${path}`);
  });
}

test('names and aliases are unique across boards', () => {
  const seen = new Map<string, string>();
  for (const b of files.map(board)) {
    for (const n of new Set([b.name, ...b.aliases])) {
      assert.is(seen.get(n), undefined, `${n} is claimed by ${b.file} and ${seen.get(n) ?? ''}`);
      seen.set(n, b.file);
    }
  }
});

test('required aliases are present', () => {
  const aliases = new Map(files.map(board).map((b) => [b.name, b.aliases]));
  const want = { imx8mm_evk: ['imx8mm', 'imx8mm-evk'], odroidc2: ['odroid-c2'], qemu_virt_aarch64: ['qemu'], qemu_virt_aarch64_gicv3: ['qemu-gicv3'] };
  for (const [name, required] of Object.entries(want)) {
    for (const a of required) assert.ok(aliases.get(name)?.includes(a), `${name} has alias ${a}`);
  }
});

test.run();
