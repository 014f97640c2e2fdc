// Checks the board data files in boards/: shape, units, GIC consistency, interrupt ids and that
// every fact names its source. The schema is documented in boards/README.md.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

/** The repository root: the nearest ancestor of this compiled test holding package.json and boards/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'boards'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('no repository root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

const boardsDir = join(repoRoot(), 'boards');
const boardFiles = readdirSync(boardsDir).filter((f) => f.endsWith('.json')).sort();

const PAGE = 0x1000n;
const HEX = /^0x[0-9a-f]+$/;
/** Arm GIC INTID ranges (GIC architecture spec: SGIs 0-15, PPIs 16-31, SPIs 32-1019). */
const PPI_MIN = 16;
const PPI_MAX = 31;
const SPI_MIN = 32;
const SPI_MAX = 1019;

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: Json | undefined, what: string): Obj {
  assert.ok(isObj(v), `${what} must be an object`);
  return v as Obj;
}

function arr(v: Json | undefined, what: string): Json[] {
  assert.ok(Array.isArray(v), `${what} must be an array`);
  return v as Json[];
}

function str(v: Json | undefined, what: string): string {
  assert.type(v, 'string', `${what} must be a string`);
  return v as string;
}

function int(v: Json | undefined, what: string): number {
  assert.ok(typeof v === 'number' && Number.isInteger(v), `${what} must be an integer`);
  return v as number;
}

/** A hex string as the schema writes it: 0x and lower-case digits. */
function hex(v: Json | undefined, what: string): bigint {
  const s = str(v, what);
  assert.ok(HEX.test(s), `${what} must be a lower-case 0x hex string, got ${JSON.stringify(s)}`);
  return BigInt(s);
}

/** A hex string that is a multiple of the 4 KiB page size. */
function pageHex(v: Json | undefined, what: string): bigint {
  const n = hex(v, what);
  assert.is(n % PAGE, 0n, `${what} (${str(v, what)}) must be 4 KiB aligned`);
  return n;
}

/** A { paddr, size } region: both page-aligned, size non-zero. */
function region(v: Json | undefined, what: string): { base: bigint; size: bigint } {
  const r = obj(v, what);
  const base = pageHex(r['paddr'], `${what}.paddr`);
  const size = pageHex(r['size'], `${what}.size`);
  assert.ok(size > 0n, `${what}.size must not be zero`);
  return { base, size };
}

function ppi(v: Json | undefined, what: string): number {
  const n = int(v, what);
  assert.ok(n >= PPI_MIN && n <= PPI_MAX, `${what} (${n}) must be a PPI INTID, 16..31`);
  return n;
}

interface Board {
  file: string;
  data: Obj;
}

const boards: Board[] = boardFiles.map((file) => ({
  file,
  data: JSON.parse(readFileSync(join(boardsDir, file), 'utf8')) as Obj,
}));

/** JSON paths of the facts that need a sources entry (the path itself or an ancestor). */
function factPaths(b: Obj): string[] {
  const paths = [
    'microkitBoard',
    'sel4Platform',
    'cpus.count',
    'cpus.model',
    'cpus.sel4Cores',
    'paddrBits',
    'loaderLinkAddress',
    'maxIrq',
    'ram',
    'gic.version',
    'gic.distributor',
    'gic.maintenanceIrq',
    'guest.ramBase',
    'guest.ramSize',
    'guest.gicDistributor',
    'timer.secureIrq',
    'timer.nonSecureIrq',
    'timer.virtualIrq',
    'timer.hypervisorIrq',
    'dtb',
  ];
  const gic = obj(b['gic'], 'gic');
  if (gic['version'] === 2) {
    paths.push('gic.cpuInterface', 'gic.hypervisorInterface', 'gic.virtualCpuInterface', 'guest.gicCpuInterface');
  } else {
    paths.push('gic.redistributor', 'guest.gicRedistributor');
  }
  if (gic['its'] !== undefined) paths.push('gic.its');
  if (b['kernelReservedRam'] !== undefined) paths.push('kernelReservedRam');
  if (obj(b['timer'], 'timer')['frequencyHz'] !== undefined) paths.push('timer.frequencyHz');
  if (obj(b['timer'], 'timer')['userPhysicalTimer'] !== undefined) paths.push('timer.userPhysicalTimer');
  arr(b['devices'], 'devices').forEach((_, i) => paths.push(`devices[${i}]`));
  if (b['qemu'] !== undefined) {
    paths.push('qemu.machine', 'qemu.cpu', 'qemu.memory', 'qemu.loaderAddress');
  }
  return paths;
}

/** Whether `key` names `path` or one of its ancestors (not the root). */
function covers(key: string, path: string): boolean {
  return path === key || path.startsWith(key + '.') || path.startsWith(key + '[');
}

test('there are the four boards, one per file named after the board', () => {
  const names = boards.map((b) => b.data['name']).sort();
  assert.equal(names, ['imx8mm_evk', 'odroidc2', 'qemu_virt_aarch64', 'qemu_virt_aarch64_gicv3']);
  for (const { file, data } of boards) assert.is(file, `${str(data['name'], 'name')}.json`);
});

for (const { file, data: b } of boards) {
  test(`${file}: required fields and units`, () => {
    for (const key of ['name', 'microkitBoard', 'description', 'arch', 'sel4Platform']) {
      assert.ok(str(b[key], key).length > 0, `${key} must not be empty`);
    }
    assert.is(b['arch'], 'aarch64');
    const aliases = arr(b['aliases'], 'aliases');
    assert.ok(aliases.length > 0, 'aliases must not be empty');
    aliases.forEach((a, i) => str(a, `aliases[${i}]`));

    const cpus = obj(b['cpus'], 'cpus');
    const count = int(cpus['count'], 'cpus.count');
    const cores = int(cpus['sel4Cores'], 'cpus.sel4Cores');
    assert.ok(count >= 1 && cores >= 1 && cores <= count, 'need 1 <= cpus.sel4Cores <= cpus.count');
    str(cpus['model'], 'cpus.model');

    const paddrBits = int(b['paddrBits'], 'paddrBits');
    assert.ok(paddrBits >= 32 && paddrBits <= 52, 'paddrBits must be 32..52');
    const limit = 1n << BigInt(paddrBits);
    pageHex(b['loaderLinkAddress'], 'loaderLinkAddress');
    const maxIrq = int(b['maxIrq'], 'maxIrq');
    assert.ok(maxIrq >= SPI_MIN && maxIrq <= SPI_MAX, 'maxIrq must be an SPI INTID');

    const ram = arr(b['ram'], 'ram').map((r, i) => {
      const o = obj(r, `ram[${i}]`);
      const base = pageHex(o['base'], `ram[${i}].base`);
      const size = pageHex(o['size'], `ram[${i}].size`);
      assert.ok(size > 0n && base + size <= limit, `ram[${i}] must be non-empty and below 2^paddrBits`);
      return { base, size };
    });
    assert.ok(ram.length > 0, 'ram must not be empty');
    const inRam = (base: bigint, size: bigint): boolean =>
      ram.some((r) => base >= r.base && base + size <= r.base + r.size);
    const loader = hex(b['loaderLinkAddress'], 'loaderLinkAddress');
    assert.ok(inRam(loader, PAGE), 'the loader link address must be in RAM');

    if (b['kernelReservedRam'] !== undefined) {
      arr(b['kernelReservedRam'], 'kernelReservedRam').forEach((r, i) => {
        const o = obj(r, `kernelReservedRam[${i}]`);
        const base = pageHex(o['base'], `kernelReservedRam[${i}].base`);
        const size = pageHex(o['size'], `kernelReservedRam[${i}].size`);
        str(o['reason'], `kernelReservedRam[${i}].reason`);
        assert.ok(inRam(base, size), `kernelReservedRam[${i}] must lie inside ram`);
      });
    }

    const guest = obj(b['guest'], 'guest');
    const ramBase = pageHex(guest['ramBase'], 'guest.ramBase');
    const ramSize = pageHex(guest['ramSize'], 'guest.ramSize');
    assert.ok(ramSize > 0n && ramBase + ramSize <= limit, 'guest RAM must be non-empty and addressable');

    const timer = obj(b['timer'], 'timer');
    const ppis = ['secureIrq', 'nonSecureIrq', 'virtualIrq', 'hypervisorIrq'].map((k) => ppi(timer[k], `timer.${k}`));
    assert.is(new Set(ppis).size, 4, 'the timer PPIs must be distinct');
    if (timer['frequencyHz'] !== undefined) assert.ok(int(timer['frequencyHz'], 'timer.frequencyHz') > 0);
    if (timer['userPhysicalTimer'] !== undefined) assert.type(timer['userPhysicalTimer'], 'boolean', 'timer.userPhysicalTimer is a boolean');

    const dtb = obj(b['dtb'], 'dtb');
    if (b['qemu'] !== undefined) {
      assert.is(dtb['qemuDumpdtb'], true, 'a QEMU board takes its DTB from QEMU');
      const q = obj(b['qemu'], 'qemu');
      for (const k of ['machine', 'cpu', 'memory']) str(q[k], `qemu.${k}`);
      assert.is(pageHex(q['loaderAddress'], 'qemu.loaderAddress'), loader, 'qemu.loaderAddress = loaderLinkAddress');
      assert.is(q['cpu'], cpus['model']);
    } else {
      assert.match(str(dtb['debianPath'], 'dtb.debianPath'), /^[a-z0-9-]+\/[a-z0-9-]+\.dtb$/);
    }
  });

  test(`${file}: GIC fields match the GIC version`, () => {
    const gic = obj(b['gic'], 'gic');
    const guest = obj(b['guest'], 'guest');
    const version = gic['version'];
    assert.ok(version === 2 || version === 3, 'gic.version must be 2 or 3');
    const dist = region(gic['distributor'], 'gic.distributor');
    ppi(gic['maintenanceIrq'], 'gic.maintenanceIrq');
    assert.is(pageHex(guest['gicDistributor'], 'guest.gicDistributor'), dist.base);
    const v2Only = ['cpuInterface', 'hypervisorInterface', 'virtualCpuInterface'];
    if (version === 2) {
      const gicc = region(gic['cpuInterface'], 'gic.cpuInterface');
      region(gic['hypervisorInterface'], 'gic.hypervisorInterface');
      const gicv = region(gic['virtualCpuInterface'], 'gic.virtualCpuInterface');
      assert.ok(gicc.size >= 0x2000n && gicv.size >= 0x2000n, 'GICv2 CPU interfaces span at least 8 KiB');
      assert.is(gic['redistributor'], undefined, 'a GICv2 has no redistributor');
      assert.is(guest['gicRedistributor'], undefined, 'a GICv2 guest has no redistributor');
      assert.is(pageHex(guest['gicCpuInterface'], 'guest.gicCpuInterface'), gicc.base,
        'the guest sees GICC where the board has it');
    } else {
      for (const k of v2Only) assert.is(gic[k], undefined, `a GICv3 board has no gic.${k}`);
      assert.is(guest['gicCpuInterface'], undefined, 'a GICv3 guest uses system registers, not a GICC frame');
      const rd = region(gic['redistributor'], 'gic.redistributor');
      const frame = pageHex(obj(gic['redistributor'], 'gic.redistributor')['frameSize'], 'gic.redistributor.frameSize');
      assert.is(frame, 0x20000n, 'a GICv3 redistributor frame is 128 KiB (RD_base + SGI_base)');
      const cores = BigInt(int(obj(b['cpus'], 'cpus')['count'], 'cpus.count'));
      assert.ok(rd.size >= frame * cores, 'the redistributor region must hold a frame per CPU');
      assert.is(pageHex(guest['gicRedistributor'], 'guest.gicRedistributor'), rd.base);
    }
  });

  test(`${file}: devices have page-aligned regions and valid SPI INTIDs`, () => {
    const maxIrq = int(b['maxIrq'], 'maxIrq');
    const devices = arr(b['devices'], 'devices');
    assert.ok(devices.length > 0, 'devices must not be empty');
    const names = new Set<string>();
    let consoles = 0;
    devices.forEach((d, i) => {
      const at = `devices[${i}]`;
      const dev = obj(d, at);
      const name = str(dev['name'], `${at}.name`);
      assert.not.ok(names.has(name), `device name ${name} is used twice`);
      names.add(name);
      str(dev['kind'], `${at}.kind`);
      arr(dev['compatible'], `${at}.compatible`).forEach((c, j) => str(c, `${at}.compatible[${j}]`));
      assert.match(str(dev['dtPath'], `${at}.dtPath`), /^\/\S+$/);
      assert.ok(dev['status'] === 'okay' || dev['status'] === 'disabled', `${at}.status must be okay or disabled`);
      const regions = [dev, ...(dev['extraRegions'] === undefined ? [] : arr(dev['extraRegions'], `${at}.extraRegions`))];
      regions.forEach((r, j) => {
        const where = j === 0 ? at : `${at}.extraRegions[${j - 1}]`;
        const { base, size } = region(r, where);
        const o = obj(r, where);
        const regBase = hex(o['regPaddr'], `${where}.regPaddr`);
        const regSize = hex(o['regSize'], `${where}.regSize`);
        assert.ok(regBase >= base && regBase + regSize <= base + size,
          `${where}: the registers must lie inside the mapped pages`);
      });
      const irqs = arr(dev['irqs'], `${at}.irqs`);
      assert.ok(irqs.length > 0, `${at}.irqs must not be empty`);
      irqs.forEach((q, j) => {
        const irq = obj(q, `${at}.irqs[${j}]`);
        const n = int(irq['irq'], `${at}.irqs[${j}].irq`);
        assert.ok(n >= SPI_MIN && n <= maxIrq, `${at}.irqs[${j}].irq (${n}) must be an SPI INTID, 32..maxIrq`);
        assert.ok(irq['trigger'] === 'level' || irq['trigger'] === 'edge', `${at}.irqs[${j}].trigger`);
      });
      if (dev['console'] === true) {
        consoles += 1;
        assert.is(dev['kind'], 'uart', 'the console is a UART');
        assert.is(dev['status'], 'okay', 'the console is enabled in the board DTB');
      }
    });
    assert.is(consoles, 1, 'exactly one console device');
  });

  test(`${file}: every fact has a source`, () => {
    const sources = obj(b['sources'], 'sources');
    for (const [k, v] of Object.entries(sources)) assert.ok(str(v, `sources.${k}`).length > 0);
    for (const path of factPaths(b)) {
      assert.ok(Object.keys(sources).some((k) => covers(k, path)), `no sources entry covers ${path}`);
    }
  });
}

test('names and aliases are unique across boards', () => {
  const seen = new Map<string, string>();
  for (const { file, data } of boards) {
    const names = [str(data['name'], 'name'), ...arr(data['aliases'], 'aliases').map((a) => str(a, 'alias'))];
    for (const n of new Set(names)) {
      const other = seen.get(n);
      assert.is(other, undefined, `${n} is claimed by ${file} and ${other ?? ''}`);
      seen.set(n, file);
    }
  }
});

test('required aliases are present', () => {
  const aliasesOf = (name: string): Json[] => {
    const b = boards.find((x) => x.data['name'] === name);
    if (b === undefined) throw new Error(`no board ${name}`);
    return arr(b.data['aliases'], 'aliases');
  };
  assert.ok(aliasesOf('imx8mm_evk').includes('imx8mm'));
  assert.ok(aliasesOf('imx8mm_evk').includes('imx8mm-evk'));
  assert.ok(aliasesOf('odroidc2').includes('odroid-c2'));
  assert.ok(aliasesOf('qemu_virt_aarch64').includes('qemu'));
  assert.ok(aliasesOf('qemu_virt_aarch64_gicv3').includes('qemu-gicv3'));
});

test.run();
