// Board descriptions: data from boards/*.json (addresses as hex strings) turned into typed values.
// Parsing is pure; reading the files is the caller's business (src/cli/io.ts).

export interface AddressRange {
  paddr: bigint;
  size: bigint;
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
}

export interface Board {
  name: string;
  microkitBoard: string;
  aliases: string[];
  description: string;
  cpus: { count: number; model: string };
  paddrBits: number;
  /** seL4's MAX_IRQ for the platform: the highest INTID a PD may claim. */
  maxIrq: number | undefined;
  ram: { base: bigint; size: bigint }[];
  /** RAM seL4 does not use (carved out for VM memory): the kernel starts above it. @default [] */
  kernelReservedRam: { base: bigint; size: bigint; forGuests: boolean }[];
  /** Where Microkit links its loader (build_sdk.py loader_link_address). */
  loaderLinkAddress: bigint | undefined;
  gic: {
    version: 2 | 3;
    distributor: AddressRange;
    cpuInterface: AddressRange | undefined;
    hypervisorInterface: AddressRange | undefined;
    virtualCpuInterface: AddressRange | undefined;
    redistributor: AddressRange | undefined;
    maintenanceIrq: number | undefined;
  };
  guest: {
    ramBase: bigint;
    ramSize: bigint;
    gicCpuInterface: bigint | undefined;
    gicDistributor: bigint;
    gicRedistributor: bigint | undefined;
  };
  /**
   * `userPhysicalTimer`: the Microkit SDK's kernel for the board lets user level drive the EL1
   * physical timer (KernelArmExportPTMRUser); the SDK's gen_config.json says so for certain.
   */
  timer: { virtualIrq: number; nonSecureIrq: number | undefined; userPhysicalTimer: boolean };
  devices: BoardDevice[];
  dtb: { debianPath?: string; qemuDumpdtb?: boolean } | undefined;
  qemu: { machine: string; cpu: string; memory: string; loaderAddress: bigint } | undefined;
  /** What each Microkit release builds for the board beyond debug and release (2.3.0: smp-* configs on smpCores cores). */
  microkit: { '2.3.0'?: { smpCores?: number } };
  /** The board file it came from. */
  file: string;
}

export class BoardFileError extends Error {
  constructor(file: string, what: string) {
    super(`${file}: ${what}`);
    this.name = 'BoardFileError';
  }
}

type Json = Record<string, unknown>;

function field(obj: Json, key: string, file: string, where: string): unknown {
  if (!(key in obj)) throw new BoardFileError(file, `missing '${where}${key}'`);
  return obj[key];
}

function asObject(v: unknown, file: string, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new BoardFileError(file, `'${where}' must be an object`);
  return v as Json;
}

function asString(v: unknown, file: string, where: string): string {
  if (typeof v !== 'string') throw new BoardFileError(file, `'${where}' must be a string`);
  return v;
}

function asNumber(v: unknown, file: string, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new BoardFileError(file, `'${where}' must be an integer`);
  return v;
}

function asHex(v: unknown, file: string, where: string): bigint {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F_]+$/.test(v)) {
    throw new BoardFileError(file, `'${where}' must be a hex string like "0x09000000"`);
  }
  return BigInt(v.replace(/_/g, ''));
}

function range(v: unknown, file: string, where: string): AddressRange {
  const o = asObject(v, file, where);
  return { paddr: asHex(field(o, 'paddr', file, `${where}.`), file, `${where}.paddr`), size: asHex(field(o, 'size', file, `${where}.`), file, `${where}.size`) };
}

function optionalRange(o: Json, key: string, file: string, where: string): AddressRange | undefined {
  return o[key] === undefined ? undefined : range(o[key], file, `${where}.${key}`);
}

function optionalHex(o: Json, key: string, file: string, where: string): bigint | undefined {
  return o[key] === undefined ? undefined : asHex(o[key], file, `${where}.${key}`);
}

function reservedRam(o: Json, file: string): Board['kernelReservedRam'] {
  const list = o['kernelReservedRam'] ?? [];
  if (!Array.isArray(list)) throw new BoardFileError(file, `'kernelReservedRam' must be an array`);
  return list.map((r, i) => {
    const ro = asObject(r, file, `kernelReservedRam[${i}]`);
    return {
      base: asHex(field(ro, 'base', file, `kernelReservedRam[${i}].`), file, `kernelReservedRam[${i}].base`),
      size: asHex(field(ro, 'size', file, `kernelReservedRam[${i}].`), file, `kernelReservedRam[${i}].size`),
      forGuests: ro['forGuests'] === true,
    };
  });
}

function releaseFacts(o: Json, file: string): Board['microkit'] {
  if (o['microkit'] === undefined) return {};
  const m = asObject(o['microkit'], file, 'microkit');
  const r = m['2.3.0'] === undefined ? undefined : asObject(m['2.3.0'], file, 'microkit.2.3.0');
  if (!r) return {};
  return { '2.3.0': r['smpCores'] === undefined ? {} : { smpCores: asNumber(r['smpCores'], file, 'microkit.2.3.0.smpCores') } };
}

export function parseBoard(json: unknown, file: string): Board {
  const o = asObject(json, file, '<root>');
  const gic = asObject(field(o, 'gic', file, ''), file, 'gic');
  const version = asNumber(field(gic, 'version', file, 'gic.'), file, 'gic.version');
  if (version !== 2 && version !== 3) throw new BoardFileError(file, `'gic.version' must be 2 or 3, not ${version}`);
  const guest = asObject(field(o, 'guest', file, ''), file, 'guest');
  const timer = asObject(field(o, 'timer', file, ''), file, 'timer');
  const cpus = asObject(field(o, 'cpus', file, ''), file, 'cpus');
  const devices = field(o, 'devices', file, '');
  if (!Array.isArray(devices)) throw new BoardFileError(file, `'devices' must be an array`);
  const ram = field(o, 'ram', file, '');
  if (!Array.isArray(ram)) throw new BoardFileError(file, `'ram' must be an array`);
  const qemu = o['qemu'] === undefined ? undefined : asObject(o['qemu'], file, 'qemu');
  const aliases = o['aliases'] ?? [];
  if (!Array.isArray(aliases)) throw new BoardFileError(file, `'aliases' must be an array`);

  return {
    name: asString(field(o, 'name', file, ''), file, 'name'),
    microkitBoard: asString(field(o, 'microkitBoard', file, ''), file, 'microkitBoard'),
    aliases: aliases.map((a, i) => asString(a, file, `aliases[${i}]`)),
    description: typeof o['description'] === 'string' ? o['description'] : '',
    cpus: { count: asNumber(field(cpus, 'count', file, 'cpus.'), file, 'cpus.count'), model: asString(cpus['model'] ?? '', file, 'cpus.model') },
    paddrBits: asNumber(field(o, 'paddrBits', file, ''), file, 'paddrBits'),
    maxIrq: o['maxIrq'] === undefined ? undefined : asNumber(o['maxIrq'], file, 'maxIrq'),
    ram: ram.map((r, i) => {
      const ro = asObject(r, file, `ram[${i}]`);
      return { base: asHex(field(ro, 'base', file, `ram[${i}].`), file, `ram[${i}].base`), size: asHex(field(ro, 'size', file, `ram[${i}].`), file, `ram[${i}].size`) };
    }),
    kernelReservedRam: reservedRam(o, file),
    loaderLinkAddress: o['loaderLinkAddress'] === undefined ? undefined : asHex(o['loaderLinkAddress'], file, 'loaderLinkAddress'),
    gic: {
      version,
      distributor: range(field(gic, 'distributor', file, 'gic.'), file, 'gic.distributor'),
      cpuInterface: optionalRange(gic, 'cpuInterface', file, 'gic'),
      hypervisorInterface: optionalRange(gic, 'hypervisorInterface', file, 'gic'),
      virtualCpuInterface: optionalRange(gic, 'virtualCpuInterface', file, 'gic'),
      redistributor: optionalRange(gic, 'redistributor', file, 'gic'),
      maintenanceIrq: gic['maintenanceIrq'] === undefined ? undefined : asNumber(gic['maintenanceIrq'], file, 'gic.maintenanceIrq'),
    },
    guest: {
      ramBase: asHex(field(guest, 'ramBase', file, 'guest.'), file, 'guest.ramBase'),
      ramSize: asHex(field(guest, 'ramSize', file, 'guest.'), file, 'guest.ramSize'),
      gicCpuInterface: optionalHex(guest, 'gicCpuInterface', file, 'guest'),
      gicDistributor: asHex(field(guest, 'gicDistributor', file, 'guest.'), file, 'guest.gicDistributor'),
      gicRedistributor: optionalHex(guest, 'gicRedistributor', file, 'guest'),
    },
    timer: {
      virtualIrq: asNumber(field(timer, 'virtualIrq', file, 'timer.'), file, 'timer.virtualIrq'),
      nonSecureIrq: timer['nonSecureIrq'] === undefined ? undefined : asNumber(timer['nonSecureIrq'], file, 'timer.nonSecureIrq'),
      userPhysicalTimer: timer['userPhysicalTimer'] === true,
    },
    devices: devices.map((d, i) => {
      const w = `devices[${i}]`;
      const dv = asObject(d, file, w);
      const irqs = dv['irqs'] ?? [];
      if (!Array.isArray(irqs)) throw new BoardFileError(file, `'${w}.irqs' must be an array`);
      const compatible = dv['compatible'] ?? [];
      if (!Array.isArray(compatible)) throw new BoardFileError(file, `'${w}.compatible' must be an array`);
      return {
        name: asString(field(dv, 'name', file, `${w}.`), file, `${w}.name`),
        kind: typeof dv['kind'] === 'string' ? dv['kind'] : 'device',
        compatible: compatible.map((c, j) => asString(c, file, `${w}.compatible[${j}]`)),
        paddr: asHex(field(dv, 'paddr', file, `${w}.`), file, `${w}.paddr`),
        size: asHex(field(dv, 'size', file, `${w}.`), file, `${w}.size`),
        irqs: irqs.map((q, j) => {
          const qo = asObject(q, file, `${w}.irqs[${j}]`);
          const trigger = qo['trigger'] ?? 'level';
          if (trigger !== 'level' && trigger !== 'edge') throw new BoardFileError(file, `'${w}.irqs[${j}].trigger' must be "level" or "edge"`);
          return { irq: asNumber(field(qo, 'irq', file, `${w}.irqs[${j}].`), file, `${w}.irqs[${j}].irq`), trigger };
        }),
        dtPath: typeof dv['dtPath'] === 'string' ? dv['dtPath'] : undefined,
        console: dv['console'] === true,
      };
    }),
    dtb: o['dtb'] === undefined ? undefined : (asObject(o['dtb'], file, 'dtb') as Board['dtb']),
    microkit: releaseFacts(o, file),
    qemu: qemu === undefined ? undefined : {
      machine: asString(field(qemu, 'machine', file, 'qemu.'), file, 'qemu.machine'),
      cpu: asString(field(qemu, 'cpu', file, 'qemu.'), file, 'qemu.cpu'),
      memory: asString(field(qemu, 'memory', file, 'qemu.'), file, 'qemu.memory'),
      loaderAddress: asHex(field(qemu, 'loaderAddress', file, 'qemu.'), file, 'qemu.loaderAddress'),
    },
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
