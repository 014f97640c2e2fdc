// A board file (boards/README.md) derived from the facts that already exist: the board's Linux
// device tree (GIC, timer, memory, reserved memory, CPUs, devices with their registers and
// interrupts), what the Microkit release builds for the board (build_sdk.py, microkit-boards.ts),
// what seL4 knows of the platform (platforms.ts, or a Microkit SDK's gen_config.json and
// platform_gen.json), and a few facts written by hand, each with its reason (overrides). Every
// fact gets a `sources` entry naming where it came from; a fact no input holds is returned in
// `missing` with what to add. The shipped boards/*.json are this function's output
// (test/compile/boards/derive.test.ts re-derives each one).
import type { Fdt } from '../dtb/fdt.js';
import { RELEASE_NAMES, type MicrokitRelease } from '../releases.js';
import { dtCpus, dtGic, dtMemory, dtModel, dtReservations, dtStdout, dtTimer, type DtGic } from './dt-facts.js';
import { dtDevices, type DerivedDevice } from './dt-devices.js';
import { MICROKIT_BOARDS, type MicrokitBoardRow } from './microkit-boards.js';
import { PADDR_BITS, type Sel4PlatformRow, type Sel4Reservation } from './platforms.js';
import type { SdkBoardFacts } from './sdk.js';
import { BoardDeriveError } from './error.js';

export { BoardDeriveError };

/** The hand-written part of a board (boards/overrides/<name>.json): only what no source holds. */
export interface BoardOverrides {
  name: string;
  microkitBoard?: string;
  description?: string;
  aliases?: string[];
  notes?: string[];
  dtb: { debianPath: string } | { qemuDumpdtb: true; qemuVersion: string } | { file: string };
  qemu?: { machine: string; cpu: string; memory: string; loaderAddress: string };
  /** Device names by DT path: the Linux DTS labels, which a DTB does not carry. */
  labels?: Record<string, string>;
  /** The devices to list (DT paths, in this order); absent: every device of a known kind. */
  devices?: string[];
  /** Notes for devices, by device name. */
  deviceNotes?: Record<string, string>;
  guest?: { ramBase?: string };
  /** The reason for each fact above, by JSON path. */
  sources?: Record<string, string>;
}

export interface DeriveInput {
  tree: Fdt;
  /** How the DTB is named in sources: `Debian DTB freescale/imx8mm-evk.dtb`. */
  dtbName: string;
  overrides: BoardOverrides;
  /** seL4's facts for the platform (platforms.ts), when the board is one Microkit builds. */
  platform: Sel4PlatformRow | undefined;
  /** A Microkit SDK's data for the board, when one is at hand. */
  sdk?: SdkBoardFacts | undefined;
}

export interface MissingFact {
  fact: string;
  /** What to add, and where the fact can be found. */
  add: string;
}

export interface DerivedBoard {
  json: Record<string, unknown>;
  missing: MissingFact[];
}


const GUEST_RAM = 0x10000000n;
const PAGE = 0x1000n;

export const hex = (v: bigint, digits = 8): string => `0x${v.toString(16).padStart(digits, '0')}`;
export const hexSize = (v: bigint): string => `0x${v.toString(16)}`;
const range = (paddr: bigint, size: bigint): { paddr: string; size: string } => ({ paddr: hex(paddr), size: hexSize(size) });
const pageUp = (v: bigint): bigint => (v + PAGE - 1n) / PAGE * PAGE;
const platformFile = (f: string): string => `seL4 16.0.0 ${f}`;

/** The rows of the Microkit releases that build `board`, by release. */
function releaseRows(board: string): [MicrokitRelease, MicrokitBoardRow][] {
  return RELEASE_NAMES.flatMap((r) => {
    const row = MICROKIT_BOARDS[r].find((b) => b.name === board);
    return row ? [[r, row] as [MicrokitRelease, MicrokitBoardRow]] : [];
  });
}

function buildSdk(rows: [MicrokitRelease, MicrokitBoardRow][], what: string): string {
  return rows.map(([r, row]) => `Microkit ${r}${row.local ? ' (local variant)' : ''} build_sdk.py BoardInfo name="${row.name}"${what ? ` ${what}` : ''}`).join('; ');
}

/** Derives a board file; throws BoardDeriveError when the board cannot host a guest. */
export function deriveBoard(input: DeriveInput): DerivedBoard {
  const { tree, dtbName, overrides: o, platform, sdk } = input;
  const missing: MissingFact[] = [];
  const sources: Record<string, string> = {};
  const microkitBoard = o.microkitBoard ?? o.name;
  const rows = releaseRows(microkitBoard);
  const newest = rows.at(-1)?.[1];
  if (sdk && !sdk.hypervisor) {
    throw new BoardDeriveError('KernelArmHypervisorSupport', `the SDK's kernel for ${microkitBoard} is built without hypervisor support (${sdk.dir}/include/kernel/gen_config.json ARM_HYPERVISOR_SUPPORT is false): seL4 cannot run a virtual machine there`);
  }
  if (newest && newest.arch === 'aarch64' && newest.hypervisor === false) {
    throw new BoardDeriveError('KernelArmHypervisorSupport', `Microkit builds ${microkitBoard} without KernelArmHypervisorSupport (${buildSdk(rows.slice(-1), 'KernelArmHypervisorSupport False')}): seL4 cannot run a virtual machine there`);
  }
  const gic = dtGic(tree);
  const cpus = dtCpus(tree);
  const { sel4Platform, model, paddrBits, loaderLinkAddress, maxIrq } = kernelFacts(input, rows, gic, cpus, sources, missing);

  // --- Memory ------------------------------------------------------------------------------
  const ram = memory(input, sources, missing);
  const reserved = reservations(input, ram ?? [], sources);

  // --- GIC, timer --------------------------------------------------------------------------
  const gicJson = gicFacts(gic, dtbName, platform, sdk, sources);
  const timer = dtTimer(tree);
  const frequencyHz = sdk?.timerHz ?? platform?.timerHz ?? timer.clockFrequency;
  sources['timer'] = `${dtbName} ${timer.path} interrupts <PPI ${timer.ppis.map((p) => p - 16).join(', ')}> = INTIDs ${timer.ppis.join(', ')} (secure, non-secure, virtual, hypervisor: the arm,armv8-timer binding's order)`;
  sources['timer.frequencyHz'] = platform ? `${platformFile(platform.config)} TIMER_FREQUENCY ${platform.timerHz}` : sdk?.timerHz ? `${sdk.dir}/include/kernel/gen_config.json TIMER_FREQUENCY` : `${dtbName} ${timer.path} clock-frequency`;
  if (frequencyHz === undefined) missing.push({ fact: 'timer.frequencyHz', add: "seL4's TIMER_FREQUENCY for the platform (src/plat/<platform>/config.cmake), or pass --sdk" });
  const userPhysicalTimer = sdk?.exportPtmrUser ?? newest?.exportPtmrUser ?? false;
  sources['timer.userPhysicalTimer'] = sdk ? `${sdk.dir}/include/kernel/gen_config.json EXPORT_PTMR_USER` : buildSdk(rows, `KernelArmExportPTMRUser ${newest?.exportPtmrUser ? 'True' : 'not set (seL4 default OFF)'}`) || 'not known: false';

  // --- Devices -----------------------------------------------------------------------------
  const devices = deviceFacts(input, maxIrq, sources, missing);

  const ramBase = guestDefaults(o, ram, reserved, gic.version, sources);

  const smpRow = rows.filter(([, b]) => b.smpCores !== undefined).at(-1); // the newest with smp_cores
  const smp = smpRow?.[1].smpCores;
  if (smpRow && smp !== undefined) sources['microkit'] = `Microkit ${smpRow[0]} build_sdk.py BoardInfo name="${microkitBoard}" smp_cores=${smp} (elaborate_all_board_configs: smp-debug, smp-release)`;
  sources['dtb'] = 'debianPath' in o.dtb
    ? `Debian's arm64 kernel package (linux-image-<abi>-arm64, /usr/lib/linux-image-<abi>/${o.dtb.debianPath}); npm run guest extracts it to .cache/guest/dtbs/`
    : 'file' in o.dtb ? `${dtbName}, copied beside this file as ${o.dtb.file}`
      : `QEMU's own device tree (dumpdtb) with the qemu settings, checked with QEMU ${o.dtb.qemuVersion}`;
  Object.assign(sources, o.sources ?? {});

  const json: Record<string, unknown> = {
    name: o.name,
    microkitBoard,
    aliases: o.aliases ?? [],
    description: o.description ?? `${dtModel(tree) ?? o.name}: ${cpuSummary(cpus.models)}, GICv${gic.version}`,
    arch: 'aarch64',
    sel4Platform: sel4Platform ?? null,
    cpus: { count: cpus.count, model, sel4Cores: 1 },
    paddrBits: paddrBits ?? null,
    loaderLinkAddress: loaderLinkAddress !== undefined ? hex(loaderLinkAddress) : null,
    maxIrq,
    ram: ram ? ram.map((r) => ({ base: hex(r.base), size: hexSize(r.size) })) : null,
    ...(reserved.length > 0 ? { kernelReservedRam: reserved.map((r) => ({ base: hex(r.base), size: hexSize(r.size), reason: r.node, ...(r.forGuests ? { forGuests: true } : {}) })) } : {}),
    gic: gicJson,
    guest: {
      ramBase: ramBase !== undefined ? hex(ramBase) : null,
      ramSize: hexSize(GUEST_RAM),
      ...(gic.version === 2 ? { gicCpuInterface: hex(gic.cpu!.address) } : {}),
      gicDistributor: hex(gic.distributor.address),
      ...(gic.version === 3 ? { gicRedistributor: hex(gic.redistributor!.address) } : {}),
    },
    timer: {
      secureIrq: timer.ppis[0], nonSecureIrq: timer.ppis[1], virtualIrq: timer.ppis[2], hypervisorIrq: timer.ppis[3],
      userPhysicalTimer,
      frequencyHz: frequencyHz ?? null,
    },
    devices,
    dtb: o.dtb,
    ...(o.qemu ? { qemu: o.qemu } : {}),
    ...(smpRow && smp !== undefined ? { microkit: { [smpRow[0]]: { smpCores: smp } } } : {}),
    ...(o.notes?.length ? { notes: o.notes } : {}),
    sources: sortedSources(sources),
  };
  return { json, missing };
}

/** What Microkit's board list and seL4's platform say: platform, CPU, PA bits, loader, MAX_IRQ. */
function kernelFacts(input: DeriveInput, rows: [MicrokitRelease, MicrokitBoardRow][], gic: DtGic, cpus: { count: number; models: string[] }, sources: Record<string, string>, missing: MissingFact[]) {
  const { dtbName, overrides: o, platform, sdk } = input;
  const microkitBoard = o.microkitBoard ?? o.name;
  const newest = rows.at(-1)?.[1];
  const model = newest?.gccCpu ?? cpus.models[0] ?? 'cortex-a53';
  
  // --- Microkit and seL4 ------------------------------------------------------------------
  const sel4Platform = newest?.platform ?? sdk?.platform;
  if (newest) sources['microkitBoard'] = buildSdk(rows, '');
  else sources['microkitBoard'] = `given with --microkit-board (no Microkit release here lists ${microkitBoard})`;
  if (newest?.platform) sources['sel4Platform'] = buildSdk(rows, `KernelPlatform "${newest.platform}"`);
  else if (sdk) sources['sel4Platform'] = `${sdk.dir}/include/kernel/gen_config.json PLAT`;
  else missing.push({ fact: 'sel4Platform', add: "seL4's KernelPlatform for the board (build_sdk.py kernel_options), or pass --sdk" });

  sources['cpus.count'] = `${dtbName} /cpus: ${cpus.count} cpu node${cpus.count === 1 ? '' : 's'}`;
  sources['cpus.model'] = newest?.gccCpu ? buildSdk(rows.slice(-1), `gcc_cpu="${newest.gccCpu}"`) : `${dtbName} /cpus/cpu@0 compatible "arm,${model}"`;
  sources['cpus.sel4Cores'] = "Microkit's debug and release kernels run on one core (KernelMaxNumNodes 1; the smp-* configs of 2.3.0 are under microkit)";

  const paddrBits = sdk?.paddrBits ?? PADDR_BITS[model];
  sources['paddrBits'] = sdk ? `${sdk.dir}/include/kernel/gen_config.json ARM_PA_SIZE_BITS_${paddrBits}` : `seL4 16.0.0 src/arch/arm/config.cmake: ${model} sets KernelArmPASizeBits${paddrBits ?? '?'}`;
  if (paddrBits === undefined) missing.push({ fact: 'paddrBits', add: `seL4's KernelArmPASizeBits for ${model} (src/arch/arm/config.cmake), or pass --sdk` });

  const loaderLinkAddress = newest?.loaderLinkAddress;
  if (loaderLinkAddress !== undefined) sources['loaderLinkAddress'] = buildSdk(rows, `loader_link_address=${hexSize(loaderLinkAddress)}`);
  else missing.push({ fact: 'loaderLinkAddress', add: "the Microkit loader's link address (build_sdk.py loader_link_address; the U-Boot go address)" });

  const maxIrq = platform?.maxIrq ?? Math.max(gic.maxSpi, 32);
  if (platform) sources['maxIrq'] = `${platformFile(platform.config)} MAX_IRQ ${platform.maxIrq}`;
  else {
    sources['maxIrq'] = `NOT DERIVED: the highest SPI the device tree uses (${maxIrq}); seL4's MAX_IRQ is in src/plat/<platform>/config.cmake`;
    missing.push({ fact: 'maxIrq', add: `seL4's MAX_IRQ for the platform (src/plat/<platform>/config.cmake); ${maxIrq}, the highest SPI the device tree uses, is written meanwhile` });
  }
  return { sel4Platform, model, paddrBits, loaderLinkAddress, maxIrq };
}

/** The guest RAM base (given, or the first free window) and the sources of the guest defaults. */
function guestDefaults(o: BoardOverrides, ram: { base: bigint; size: bigint }[] | undefined, reserved: Sel4Reservation[], version: 2 | 3, sources: Record<string, string>): bigint | undefined {
  const ramBase = o.guest?.ramBase !== undefined ? BigInt(o.guest.ramBase) : defaultGuestBase(ram ?? [], reserved);
  if (ramBase === undefined && ram) throw new BoardDeriveError('guest.ramBase', `no ${GUEST_RAM / 0x100000n} MiB window of RAM is clear of reserved memory for a guest's RAM`);
  sources['guest.ramBase'] ??= 'sel4cp-synth default: the lowest RAM address, aligned to the guest RAM size, whose window is clear of the reserved memory above, so the board DTB\'s memory and reserved-memory nodes stay valid in the guest';
  sources['guest.ramSize'] = 'sel4cp-synth default: 256 MiB on every board';
  sources['guest.gicDistributor'] = "the board's distributor address, so the board DTB's GIC node works unchanged in the guest";
  if (version === 2) sources['guest.gicCpuInterface'] = "the board's GICC address, so the board DTB works unchanged; the GICV frame is mapped there";
  else sources['guest.gicRedistributor'] = "the board's redistributor address, so the board DTB's GIC node works unchanged in the guest";
  return ramBase;
}

/** "4x cortex-a53 + 2x cortex-a72". */
function cpuSummary(models: string[]): string {
  const counts = new Map<string, number>();
  for (const m of models) counts.set(m, (counts.get(m) ?? 0) + 1);
  return [...counts].map(([m, n]) => `${n}x ${m}`).join(' + ') || 'CPUs not listed';
}

/** The sources in a fixed order: by fact path as the board file lists them. */
function sortedSources(s: Record<string, string>): Record<string, string> {
  const order = ['microkitBoard', 'aliases', 'description', 'sel4Platform', 'cpus', 'paddrBits', 'loaderLinkAddress', 'maxIrq', 'ram', 'kernelReservedRam', 'gic', 'guest', 'timer', 'devices', 'dtb', 'qemu', 'microkit', 'notes'];
  const rank = (k: string): number => {
    const i = order.findIndex((p) => k === p || k.startsWith(p + '.') || k.startsWith(p + '['));
    return i < 0 ? order.length : i;
  };
  const index = (k: string): number => Number(/^devices\[(\d+)\]/.exec(k)?.[1] ?? -1);
  return Object.fromEntries(Object.entries(s).sort(([a], [b]) => rank(a) - rank(b) || index(a) - index(b) || (a < b ? -1 : a > b ? 1 : 0)));
}

function memory(input: DeriveInput, sources: Record<string, string>, missing: MissingFact[]): { base: bigint; size: bigint }[] | undefined {
  const { tree, dtbName, platform, sdk } = input;
  const dt = dtMemory(tree);
  if (platform?.ram) {
    const same = dt.ranges.length === platform.ram.length && dt.ranges.every((r, i) => r.address === platform.ram![i]!.base && r.size === platform.ram![i]!.size);
    sources['ram'] = `seL4 16.0.0 ${platform.ramSource ?? platform.dts}${same ? `; ${dtbName} ${dt.paths.join(', ')} (same)` : ''}`;
    return platform.ram.map((r) => ({ ...r }));
  }
  if (dt.ranges.length > 0) {
    sources['ram'] = `${dtbName} ${dt.paths.join(', ')} reg`;
    return dt.ranges.map((r) => ({ base: r.address, size: r.size }));
  }
  if (sdk && sdk.memory.length > 0) {
    sources['ram'] = `${sdk.dir}/platform_gen.json memory (the RAM seL4 uses; the device tree has no memory node with a size)`;
    return sdk.memory.map((r) => ({ base: r.start, size: r.end - r.start }));
  }
  missing.push({ fact: 'ram', add: 'the board\'s RAM ({ base, size }): the device tree\'s memory node has no size (the boot loader fills it in); pass --sdk or write it' });
  return undefined;
}

/**
 * RAM that must not be handed out: the device tree's no-map reserved-memory (firmware) and seL4's
 * own reservations (platforms.ts, or what an SDK's platform_gen.json leaves out of RAM).
 */
function reservations(input: DeriveInput, ram: { base: bigint; size: bigint }[], sources: Record<string, string>): Sel4Reservation[] {
  const { tree, dtbName, platform, sdk } = input;
  const inRam = (r: { base: bigint; size: bigint }): boolean => ram.some((m) => r.base >= m.base && r.base + r.size <= m.base + m.size);
  const out: Sel4Reservation[] = [];
  const add = (r: Sel4Reservation): void => {
    const same = out.find((x) => x.base === r.base && x.size === r.size);
    if (same) same.node = `${same.node}; ${r.node}`;
    else out.push({ ...r });
  };
  for (const r of platform?.reserved ?? []) if (inRam(r)) add({ ...r, node: `${r.node.replace(/ \(/, ' (seL4 16.0.0 ')}` });
  for (const r of dtReservations(tree)) if (inRam({ base: r.address, size: r.size })) add({ base: r.address, size: r.size, node: `${r.path.split('/').pop()!} (${dtbName} ${r.path}, no-map)` });
  if (!platform && sdk) {
    for (const gap of ramGaps(ram, sdk.memory)) if (!out.some((x) => x.base <= gap.base && gap.base + gap.size <= x.base + x.size)) add({ ...gap, node: `outside the RAM seL4 uses (${sdk.dir}/platform_gen.json memory)` });
  }
  out.sort((a, b) => (a.base < b.base ? -1 : a.base > b.base ? 1 : 0));
  if (out.length > 0) {
    sources['kernelReservedRam'] = "each block's reason names its node and file; seL4 removes no-map regions of its own DTS from its RAM (tools/hardware/utils/memory.py); the Linux DTB's no-map regions belong to firmware and must not be touched either";
  }
  return out;
}

/** The parts of `ram` no `memory` range covers. */
function ramGaps(ram: { base: bigint; size: bigint }[], memory: { start: bigint; end: bigint }[]): { base: bigint; size: bigint }[] {
  const out: { base: bigint; size: bigint }[] = [];
  for (const r of ram) {
    let at = r.base;
    const end = r.base + r.size;
    for (const m of [...memory].sort((a, b) => (a.start < b.start ? -1 : 1))) {
      if (m.end <= at || m.start >= end) continue;
      if (m.start > at) out.push({ base: at, size: m.start - at });
      at = m.end > at ? m.end : at;
    }
    if (at < end) out.push({ base: at, size: end - at });
  }
  return out;
}

function gicFacts(gic: DtGic, dtbName: string, platform: Sel4PlatformRow | undefined, sdk: SdkBoardFacts | undefined, sources: Record<string, string>): Record<string, unknown> {
  const at = `${dtbName} ${gic.path}`;
  if (platform && platform.gic !== gic.version) {
    throw new BoardDeriveError('gic.version', `${at} is a GICv${gic.version} (compatible "${gic.compatible}"), but seL4's ${platform.config} builds the GICv${platform.gic} driver`);
  }
  if (sdk && sdk.gicVersion !== gic.version) {
    throw new BoardDeriveError('gic.version', `${at} is a GICv${gic.version}, but the SDK's kernel (${sdk.dir}) is built for a GICv${sdk.gicVersion}`);
  }
  sources['gic.version'] = `${at} compatible "${gic.compatible}"${platform ? `; seL4 16.0.0 ${platform.config} INTERRUPT_CONTROLLER arch/machine/gic_v${platform.gic}.h` : ''}`;
  sources['gic.distributor'] = `${at} reg[0]`;
  sources['gic.maintenanceIrq'] = `${at} interrupts <GIC_PPI ${gic.maintenanceIrq - 16}> (INTID ${gic.maintenanceIrq})`;
  const out: Record<string, unknown> = { version: gic.version, distributor: range(gic.distributor.address, pageUp(gic.distributor.size)) };
  if (gic.version === 2) {
    sources['gic.cpuInterface'] = `${at} reg[1]`;
    sources['gic.hypervisorInterface'] = `${at} reg[2]`;
    sources['gic.virtualCpuInterface'] = `${at} reg[3]`;
    out['cpuInterface'] = range(gic.cpu!.address, pageUp(gic.cpu!.size));
    out['hypervisorInterface'] = range(gic.hyp!.address, pageUp(gic.hyp!.size));
    out['virtualCpuInterface'] = range(gic.vcpu!.address, pageUp(gic.vcpu!.size));
  } else {
    sources['gic.redistributor'] = `${at} reg[1]; frameSize 0x20000 per CPU (RD_base + SGI_base, 64 KiB each: the GICv3 architecture)`;
    out['redistributor'] = { ...range(gic.redistributor!.address, pageUp(gic.redistributor!.size)), frameSize: '0x20000' };
    if (gic.its) {
      sources['gic.its'] = `${dtbName} ${gic.its.path} reg`;
      out['its'] = range(gic.its.address, pageUp(gic.its.size));
    }
  }
  out['maintenanceIrq'] = gic.maintenanceIrq;
  return out;
}

function deviceFacts(input: DeriveInput, maxIrq: number, sources: Record<string, string>, missing: MissingFact[]): Record<string, unknown>[] {
  const { tree, dtbName, overrides: o, platform } = input;
  const stdout = dtStdout(tree);
  const consoleAt = platform?.console?.paddr;
  const found = dtDevices(tree, { maxIrq, labels: o.labels ?? {}, only: o.devices, console: consoleAt !== undefined ? { paddr: consoleAt } : stdout ? { path: stdout } : undefined });
  const consoleDev = found.find((d) => d.console);
  if (!consoleDev) missing.push({ fact: 'devices[].console', add: 'the UART seL4 and the Microkit loader print on: the device tree has no /chosen stdout-path that names one; mark one device "console": true' });
  return found.map((d, i) => {
    sources[`devices[${i}]`] = deviceSource(d, dtbName, platform, stdout);
    return deviceJson(d, o.deviceNotes?.[d.name]);
  });
}

function deviceSource(d: DerivedDevice, dtbName: string, platform: Sel4PlatformRow | undefined, stdout: string | undefined): string {
  const irqs = d.irqs.map((q) => `<GIC_SPI ${q.irq - 32}> (INTID ${q.irq}, ${q.trigger})`).join(', ');
  let s = `${dtbName} node ${d.dtPath} reg${d.extraRegions.length ? ' (every entry)' : ''}, interrupts ${irqs}; name: ${d.nameFrom}`;
  if (d.console) {
    s += platform?.console
      ? `; console: seL4 16.0.0 ${platform.console.overlay} seL4,kernel-devices ${platform.console.named} (registers at ${hex(platform.console.paddr)})${stdout === d.dtPath ? ` and the DTB's /chosen stdout-path` : ''}`
      : '; console: /chosen stdout-path';
  }
  return s;
}

function deviceJson(d: DerivedDevice, notes: string | undefined): Record<string, unknown> {
  return {
    name: d.name,
    kind: d.kind,
    compatible: d.compatible,
    paddr: hex(d.paddr),
    size: hexSize(d.size),
    regPaddr: hex(d.regPaddr),
    regSize: hexSize(d.regSize),
    ...(d.extraRegions.length ? { extraRegions: d.extraRegions.map((r) => ({ paddr: hex(r.paddr), size: hexSize(r.size), regPaddr: hex(r.regPaddr), regSize: hexSize(r.regSize) })) } : {}),
    irqs: d.irqs,
    dtPath: d.dtPath,
    status: d.status,
    ...(d.dma ? { dma: true } : {}),
    ...(d.console ? { console: true } : {}),
    ...(notes ? { notes } : {}),
  };
}

/** The lowest RAM address aligned to the guest RAM size whose window avoids every reservation not set aside for guests. */
function defaultGuestBase(ram: { base: bigint; size: bigint }[], reserved: Sel4Reservation[]): bigint | undefined {
  const blocked = reserved.filter((r) => !r.forGuests);
  for (const r of ram) {
    for (let at = (r.base + GUEST_RAM - 1n) / GUEST_RAM * GUEST_RAM; at + GUEST_RAM <= r.base + r.size; at += GUEST_RAM) {
      if (!blocked.some((b) => at < b.base + b.size && b.base < at + GUEST_RAM)) return at;
    }
  }
  return undefined;
}
