// Board descriptions: data from boards/*.json (addresses as hex strings) turned into typed values.
// Parsing is pure; reading the files is load/boards.ts's business. The parser owns the schema's
// shapes, types and units (boards/README.md): a board file that parses has every required field,
// lower-case hex addresses, page-aligned regions and interrupts of the right class.
import { RELEASE_NAMES, type MicrokitRelease } from './releases.js';

export interface AddressRange {
  paddr: bigint;
  size: bigint;
}

/** A device region: the pages to map (paddr, size) and the registers in them as the DTB's reg gives them. */
export interface DeviceRegion extends AddressRange {
  regPaddr: bigint;
  regSize: bigint;
}

export interface BoardDeviceIrq {
  irq: number;
  trigger: 'level' | 'edge';
}

export interface BoardDevice {
  name: string;
  kind: string;
  compatible: string[];
  paddr: bigint;
  size: bigint;
  irqs: BoardDeviceIrq[];
  dtPath: string | undefined;
  console: boolean;
  /** A bus master (ethernet, MMC, USB, virtio-mmio): with no SMMU, a guest given it needs guest-physical = physical RAM. */
  dma: boolean;
}

/** A device as a board file describes it: what the compiler uses, and the DTB's view of it. */
export interface BoardFileDevice extends BoardDevice, DeviceRegion {
  dtPath: string;
  /** Further reg entries of the same node. */
  extraRegions: DeviceRegion[];
  status: 'okay' | 'disabled';
  notes: string | undefined;
}

export interface Board {
  name: string;
  microkitBoard: string;
  aliases: string[];
  description: string;
  arch: 'aarch64';
  /** seL4's KernelPlatform. */
  sel4Platform: string;
  /** `sel4Cores`: the cores seL4 runs on in a Microkit 2.0.1 build. */
  cpus: { count: number; model: string; sel4Cores: number };
  paddrBits: number;
  /** seL4's MAX_IRQ for the platform: the highest INTID a PD may claim. */
  maxIrq: number;
  ram: { base: bigint; size: bigint }[];
  /** RAM seL4 does not use (carved out for VM memory): the kernel starts above it. @default [] */
  kernelReservedRam: { base: bigint; size: bigint; reason: string; forGuests: boolean }[];
  /** Where Microkit links its loader (build_sdk.py loader_link_address). */
  loaderLinkAddress: bigint;
  gic: {
    version: 2 | 3;
    distributor: AddressRange;
    cpuInterface: AddressRange | undefined;
    hypervisorInterface: AddressRange | undefined;
    virtualCpuInterface: AddressRange | undefined;
    /** `frameSize`: one CPU's redistributor frame. */
    redistributor: (AddressRange & { frameSize: bigint }) | undefined;
    its: AddressRange | undefined;
    maintenanceIrq: number;
  };
  guest: {
    ramBase: bigint;
    ramSize: bigint;
    gicCpuInterface: bigint | undefined;
    gicDistributor: bigint;
    gicRedistributor: bigint | undefined;
  };
  /**
   * The generic timer's PPIs and frequency. `userPhysicalTimer`: the Microkit SDK's kernel for the
   * board lets user level drive the EL1 physical timer (KernelArmExportPTMRUser); the SDK's
   * gen_config.json says so for certain.
   */
  timer: { secureIrq: number; nonSecureIrq: number; virtualIrq: number; hypervisorIrq: number; userPhysicalTimer: boolean; frequencyHz: number };
  devices: BoardFileDevice[];
  /** `file`: a DTB beside the board file (a project board `board add` wrote), relative to it. */
  dtb: { debianPath: string | undefined; qemuDumpdtb: boolean; qemuVersion: string | undefined; file: string | undefined };
  qemu: { machine: string; cpu: string; memory: string; loaderAddress: bigint } | undefined;
  /**
   * What a Microkit release builds for the board beyond debug and release, by release: smp-*
   * configs on smpCores cores (a release's entry holds for the later ones: model/target.ts smpCores).
   */
  microkit: Partial<Record<MicrokitRelease, { smpCores?: number }>>;
  /** Board-level caveats. @default [] */
  notes: string[];
  /** JSON path of a fact → where it comes from (boards/README.md). */
  sources: Record<string, string>;
  /** The board file it came from. */
  file: string;
}

export class BoardFileError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}`);
    this.name = 'BoardFileError';
  }
}

const PAGE = 0x1000n;
/** Arm GIC INTIDs: SGIs 0-15, PPIs 16-31, SPIs 32-1019 (a DT's <GIC_PPI n> is 16 + n, <GIC_SPI n> 32 + n). */
const PPI = { min: 16, max: 31, dt: 'a <GIC_PPI n> in a device tree is INTID 16 + n' };
const SPI = { min: 32, max: 1019, dt: 'a <GIC_SPI n> in a device tree is INTID 32 + n' };

type Json = Record<string, unknown>;

/** One object of a board file, read field by field; every complaint names the file and the field's JSON path. */
class Fields {
  private constructor(readonly file: string, private readonly o: Json, private readonly at: string) {}

  static of(v: unknown, file: string, at: string): Fields {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BoardFileError(file, `'${at || '<root>'}' must be an object`);
    return new Fields(file, v as Json, at);
  }

  keys(): string[] {
    return Object.keys(this.o);
  }

  has(key: string): boolean {
    return this.o[key] !== undefined;
  }

  fail(key: string, what: string): never {
    throw new BoardFileError(this.file, `'${this.path(key)}' ${what}`);
  }

  obj(key: string): Fields {
    return Fields.of(this.get(key), this.file, this.path(key));
  }

  objs(key: string, min = 0): Fields[] {
    return this.list(key, min).map((v, i) => Fields.of(v, this.file, `${this.path(key)}[${i}]`));
  }

  str(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string' || v === '') this.fail(key, 'must be a non-empty string');
    return v;
  }

  strs(key: string): string[] {
    return this.list(key, 0).map((v, i) => {
      if (typeof v !== 'string' || v === '') this.fail(`${key}[${i}]`, 'must be a non-empty string');
      return v;
    });
  }

  /** A string of the form `re` matches; `like` is an example for the complaint. */
  match(key: string, re: RegExp, like: string): string {
    const s = this.str(key);
    if (!re.test(s)) this.fail(key, `must look like ${JSON.stringify(like)}, not ${JSON.stringify(s)}`);
    return s;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T {
    const v = this.get(key);
    if (!values.includes(v as T)) this.fail(key, `must be ${values.map((x) => JSON.stringify(x)).join(' or ')}, not ${JSON.stringify(v)}`);
    return v as T;
  }

  bool(key: string): boolean {
    const v = this.get(key);
    if (typeof v !== 'boolean') this.fail(key, 'must be true or false');
    return v;
  }

  int(key: string, min = -Infinity, max = Infinity): number {
    const v = this.get(key);
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, 'must be an integer');
    if (v < min || v > max) this.fail(key, `must be ${max === Infinity ? `at least ${min}` : `${min}..${max}`}, not ${v}`);
    return v;
  }

  /** A GIC INTID of the class the field needs: a PPI, or an SPI no higher than `max`. */
  intid(key: string, kind: 'PPI' | 'SPI', max = SPI.max): number {
    const { min, dt } = kind === 'PPI' ? PPI : SPI;
    const top = kind === 'PPI' ? PPI.max : max;
    const v = this.int(key);
    const bound = kind === 'SPI' && top !== SPI.max ? ' (maxIrq)' : '';
    if (v < min || v > top) this.fail(key, `must be ${kind === 'PPI' ? 'a PPI' : 'an SPI'} INTID, ${min}..${top}${bound}, not ${v} (${dt})`);
    return v;
  }

  /** An address or size: a string of 0x and lower-case hex digits (JSON numbers cannot hold every 64-bit value). */
  hex(key: string): bigint {
    const v = this.get(key);
    if (typeof v !== 'string' || !/^0x[0-9a-f]+$/.test(v)) this.fail(key, `must be a lower-case hex string like "0x09000000", not ${JSON.stringify(v)}`);
    return BigInt(v);
  }

  /** An address or size Microkit can map: a multiple of the 4 KiB page. */
  page(key: string): bigint {
    const n = this.hex(key);
    if (n % PAGE !== 0n) this.fail(key, `(${this.o[key] as string}) must be a multiple of the 4 KiB page (0x1000)`);
    return n;
  }

  /** A non-zero page-multiple size. */
  size(key: string): bigint {
    const n = this.page(key);
    if (n === 0n) this.fail(key, 'must not be zero');
    return n;
  }

  /** This object as a { paddr, size } region of whole pages. */
  range(): AddressRange {
    return { paddr: this.page('paddr'), size: this.size('size') };
  }

  private path(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }

  private get(key: string): unknown {
    if (this.o[key] === undefined) throw new BoardFileError(this.file, `missing '${this.path(key)}'`);
    return this.o[key];
  }

  private list(key: string, min: number): unknown[] {
    const v = this.get(key);
    if (!Array.isArray(v)) this.fail(key, 'must be an array');
    if (v.length < min) this.fail(key, `must have at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
    return v;
  }
}

/** `f[key]` read with `read` when it is there. */
function optional<T>(f: Fields, key: string, read: (key: string) => T): T | undefined {
  return f.has(key) ? read(key) : undefined;
}

function deviceRegion(r: Fields): DeviceRegion {
  return { ...r.range(), regPaddr: r.hex('regPaddr'), regSize: r.hex('regSize') };
}

function device(d: Fields, maxIrq: number): BoardFileDevice {
  return {
    name: d.str('name'),
    kind: d.str('kind'),
    compatible: d.strs('compatible'),
    ...deviceRegion(d),
    extraRegions: (optional(d, 'extraRegions', (k) => d.objs(k)) ?? []).map(deviceRegion),
    irqs: d.objs('irqs').map((q) => ({ irq: q.intid('irq', 'SPI', maxIrq), trigger: q.oneOf('trigger', ['level', 'edge'] as const) })),
    dtPath: d.match('dtPath', /^\/\S+$/, '/soc/serial@30890000'),
    status: d.oneOf('status', ['okay', 'disabled'] as const),
    console: optional(d, 'console', (k) => d.bool(k)) ?? false,
    dma: optional(d, 'dma', (k) => d.bool(k)) ?? false,
    notes: optional(d, 'notes', (k) => d.str(k)),
  };
}

function microkitReleases(o: Fields): Board['microkit'] {
  const r = optional(o, 'microkit', (k) => o.obj(k));
  const out: Board['microkit'] = {};
  for (const name of RELEASE_NAMES) {
    const facts = r && optional(r, name, (k) => r.obj(k));
    if (facts) out[name] = facts.has('smpCores') ? { smpCores: facts.int('smpCores', 1) } : {};
  }
  return out;
}

export function parseBoard(json: unknown, file: string): Board {
  const o = Fields.of(json, file, '');
  const cpus = o.obj('cpus');
  const gic: Fields = o.obj('gic'); // declared type: so that fail(), a never, narrows version
  const version = gic.int('version');
  if (version !== 2 && version !== 3) gic.fail('version', `must be 2 or 3, not ${version}`);
  const range = (f: Fields, key: string): AddressRange | undefined => optional(f, key, (k) => f.obj(k).range());
  const guest = o.obj('guest');
  const timer = o.obj('timer');
  const maxIrq = o.intid('maxIrq', 'SPI');
  const dtb = o.obj('dtb');
  const qemu = optional(o, 'qemu', (k) => o.obj(k));
  const sources = o.obj('sources');

  return {
    name: o.str('name'),
    microkitBoard: o.str('microkitBoard'),
    aliases: o.strs('aliases'),
    description: o.str('description'),
    arch: o.oneOf('arch', ['aarch64'] as const),
    sel4Platform: o.str('sel4Platform'),
    cpus: { count: cpus.int('count', 1), model: cpus.str('model'), sel4Cores: cpus.int('sel4Cores', 1) },
    paddrBits: o.int('paddrBits', 32, 52),
    maxIrq,
    ram: o.objs('ram', 1).map((r) => ({ base: r.page('base'), size: r.size('size') })),
    kernelReservedRam: (optional(o, 'kernelReservedRam', (k) => o.objs(k)) ?? []).map((r) => ({
      base: r.page('base'),
      size: r.size('size'),
      reason: r.str('reason'),
      forGuests: optional(r, 'forGuests', (k) => r.bool(k)) ?? false,
    })),
    loaderLinkAddress: o.page('loaderLinkAddress'),
    gic: {
      version,
      distributor: gic.obj('distributor').range(),
      cpuInterface: range(gic, 'cpuInterface'),
      hypervisorInterface: range(gic, 'hypervisorInterface'),
      virtualCpuInterface: range(gic, 'virtualCpuInterface'),
      redistributor: optional(gic, 'redistributor', (k) => {
        const rd = gic.obj(k);
        return { ...rd.range(), frameSize: rd.size('frameSize') };
      }),
      its: range(gic, 'its'),
      maintenanceIrq: gic.intid('maintenanceIrq', 'PPI'),
    },
    guest: {
      ramBase: guest.page('ramBase'),
      ramSize: guest.size('ramSize'),
      gicCpuInterface: optional(guest, 'gicCpuInterface', (k) => guest.page(k)),
      gicDistributor: guest.page('gicDistributor'),
      gicRedistributor: optional(guest, 'gicRedistributor', (k) => guest.page(k)),
    },
    timer: {
      secureIrq: timer.intid('secureIrq', 'PPI'),
      nonSecureIrq: timer.intid('nonSecureIrq', 'PPI'),
      virtualIrq: timer.intid('virtualIrq', 'PPI'),
      hypervisorIrq: timer.intid('hypervisorIrq', 'PPI'),
      userPhysicalTimer: timer.bool('userPhysicalTimer'),
      frequencyHz: timer.int('frequencyHz', 1),
    },
    devices: o.objs('devices').map((d) => device(d, maxIrq)),
    dtb: {
      debianPath: optional(dtb, 'debianPath', (k) => dtb.match(k, /^[a-z0-9-]+\/[a-z0-9.-]+\.dtb$/, 'freescale/imx8mm-evk.dtb')),
      qemuDumpdtb: optional(dtb, 'qemuDumpdtb', (k) => dtb.bool(k)) ?? false,
      qemuVersion: optional(dtb, 'qemuVersion', (k) => dtb.str(k)),
      file: optional(dtb, 'file', (k) => dtb.match(k, /^[A-Za-z0-9_.-]+\.dtb$/, 'myboard.dtb')),
    },
    microkit: microkitReleases(o),
    qemu: qemu && {
      machine: qemu.str('machine'),
      cpu: qemu.str('cpu'),
      memory: qemu.str('memory'),
      loaderAddress: qemu.page('loaderAddress'),
    },
    notes: optional(o, 'notes', (k) => o.strs(k)) ?? [],
    sources: Object.fromEntries(sources.keys().map((k) => [k, sources.str(k)])),
    file,
  };
}

/** Find a board by its name, its Microkit name or an alias, case-insensitively. */
export function findBoard(boards: readonly Board[], name: string): Board | undefined {
  const want = name.toLowerCase();
  return boards.find((b) => b.name.toLowerCase() === want || b.microkitBoard.toLowerCase() === want || b.aliases.some((a) => a.toLowerCase() === want));
}

/** Highest virtual address + 1 that seL4 gives a user address space on this board (hypervisor mode). */
export function userTop(board: Board | undefined): bigint {
  // seL4 in hypervisor mode on AArch64: the stage-2-sized VSpace, 40- or 44-bit
  // (the Microkit tool's Config::user_top). 40 bits is what every supported board uses.
  const bits = board?.paddrBits === 44 ? 44n : 40n;
  return 1n << bits;
}

/** Find a device on the board by name, kind alias ('console', 'serial') or DT path. */
export function findBoardDevice(board: Board, name: string): BoardDevice | undefined {
  const byName = board.devices.find((d) => d.name === name || d.dtPath === name);
  if (byName) return byName;
  if (name === 'console' || name === 'serial' || name === 'uart') return board.devices.find((d) => d.console) ?? board.devices.find((d) => d.kind === 'uart');
  return undefined;
}
