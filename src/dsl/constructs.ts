// The low-level constructors: one for each element of the Microkit system description format
// (2.0.1, and what 2.3.0 adds: cores, FPU, domains, setvar ids, prefilled regions, cspace caps). They only record what the user said (and where); all checking happens in
// src/compile/validate so that every problem is reported at once, with its location.
import { captureLocation, type SourceLocation } from './location.js';
import { toFileRef, type FileRef } from './context.js';
import { DslError } from './errors.js';
import { checkBigint, checkBoolean, checkConstructs, checkFile, checkNumber, checkOneOf, checkOptions, checkString } from './check.js';
import type { Address, Size } from './units.js';
import type { VirtualMachine } from './vm.js';
import type { Domain } from './domains.js';

/** Mapping permissions: any combination of read, write and execute except write-only. */
export type Perms = 'r' | 'rw' | 'rx' | 'rwx' | 'x';
export type IrqTrigger = 'level' | 'edge';

interface Construct {
  readonly loc: SourceLocation | undefined;
}

// ---------------------------------------------------------------------------------------------
// Memory regions

export interface MemoryRegionOptions {
  /** Size in bytes; a multiple of the page size. @default with `prefill`, the file's length rounded up to the page size; otherwise required */
  size?: Size;
  /**
   * Page size: `kib(4)` or `mib(2)` on AArch64.
   * @default the largest page size that the size and every mapping address are aligned to (Microkit's choice)
   */
  pageSize?: Size;
  /**
   * Physical address, for device memory or memory that must sit at a fixed place.
   * @default allocated by the Microkit tool
   */
  physAddr?: Address;
  /**
   * Set when the region is meant to be mapped by more than one PD or VM (a shared buffer, or a
   * device deliberately shared). sel4cp-synth reports a device region reachable from two
   * PDs/VMs as an error unless it is declared shared.
   * @default false
   */
  shared?: boolean;
  /** Microkit 2.3.0: a file whose bytes the region holds at boot (`prefill_path`). @default none */
  prefill?: string | FileRef;
  /** Microkit 2.3.0: boot information the initialiser copies in (`prefill_bootinfo`; on AArch64 `'fdt'`). @default none */
  prefillBootinfo?: 'fdt';
}

export interface MemoryRegion extends Construct {
  readonly kind: 'memoryRegion';
  readonly name: string;
  /** Undefined: the prefill file's length decides. */
  readonly size: Size | undefined;
  readonly pageSize: Size | undefined;
  readonly physAddr: Address | undefined;
  readonly shared: boolean;
  readonly prefill: FileRef | undefined;
  readonly prefillBootinfo: 'fdt' | undefined;
}

/** A Microkit memory region (`<memory_region>`). */
export function memoryRegion(name: string, options: MemoryRegionOptions): MemoryRegion {
  const loc = captureLocation();
  const what = `memoryRegion(${JSON.stringify(name)})`;
  checkString(`memoryRegion() name`, name, loc);
  checkOptions(what, options, loc, false);
  const prefilled = options.prefill !== undefined || options.prefillBootinfo !== undefined;
  checkBigint(`${what} size`, options.size, loc, prefilled, 'mib');
  checkBigint(`${what} pageSize`, options.pageSize, loc, true, 'kib');
  checkBigint(`${what} physAddr`, options.physAddr, loc, true, 'addr');
  checkBoolean(`${what} shared`, options.shared, loc);
  checkFile(`${what} prefill`, options.prefill, loc, true);
  checkOneOf(`${what} prefillBootinfo`, options.prefillBootinfo, ['fdt'], loc);
  return {
    kind: 'memoryRegion',
    name,
    size: options.size,
    pageSize: options.pageSize,
    physAddr: options.physAddr,
    shared: options.shared ?? false,
    prefill: options.prefill === undefined ? undefined : toFileRef(options.prefill, loc),
    prefillBootinfo: options.prefillBootinfo,
    loc,
  };
}

// ---------------------------------------------------------------------------------------------
// Maps, IRQs, setvars

export interface MapOptions {
  /**
   * Virtual address in the PD (or guest-physical address in a VM).
   * @default for PDs, allocated by sel4cp-synth above 0x20_0000_0000; required for VMs
   */
  vaddr?: Address;
  /** @default 'rw' */
  perms?: Perms;
  /** @default true (use `false` for device registers) */
  cached?: boolean;
  /** Symbol in the program image to receive the mapping's virtual address (PDs only). */
  setvarVaddr?: string;
  /** Symbol in the program image to receive the region's size (PDs only). */
  setvarSize?: string;
  /** Microkit 2.3.0: symbol to receive the length of the region's prefill file (PDs only). */
  setvarPrefillSize?: string;
}

export interface Mapping extends Construct {
  readonly kind: 'map';
  readonly mr: MemoryRegion;
  readonly vaddr: Address | undefined;
  readonly perms: Perms;
  readonly cached: boolean;
  readonly setvarVaddr: string | undefined;
  readonly setvarSize: string | undefined;
  readonly setvarPrefillSize: string | undefined;
}

/** Map a memory region into a PD or VM (`<map>`). */
export function map(mr: MemoryRegion, options: MapOptions = {}): Mapping {
  const loc = captureLocation();
  if (!mr || mr.kind !== 'memoryRegion') {
    throw new DslError('bad-argument', 'map() takes a memoryRegion(...) as its first argument', undefined, loc);
  }
  const what = `map(${JSON.stringify(mr.name)})`;
  checkOptions(what, options, loc, true);
  checkBigint(`${what} vaddr`, options.vaddr, loc, true, 'addr');
  checkString(`${what} perms`, options.perms, loc, { optional: true });
  checkBoolean(`${what} cached`, options.cached, loc);
  checkString(`${what} setvarVaddr`, options.setvarVaddr, loc, { optional: true, nonEmpty: true });
  checkString(`${what} setvarSize`, options.setvarSize, loc, { optional: true, nonEmpty: true });
  checkString(`${what} setvarPrefillSize`, options.setvarPrefillSize, loc, { optional: true, nonEmpty: true });
  return {
    kind: 'map',
    mr,
    vaddr: options.vaddr,
    perms: options.perms ?? 'rw',
    cached: options.cached ?? true,
    setvarVaddr: options.setvarVaddr,
    setvarSize: options.setvarSize,
    setvarPrefillSize: options.setvarPrefillSize,
    loc,
  };
}

export interface IrqOptions {
  /**
   * The channel id the PD sees the interrupt on (0 to 61).
   * @default the lowest id not used by the PD's other IRQs and channels
   */
  id?: number;
  /** @default 'level' */
  trigger?: IrqTrigger;
  /** Microkit 2.3.0: symbol in the PD's program image to receive the channel id. */
  setvarId?: string;
}

export interface Irq extends Construct {
  readonly kind: 'irq';
  readonly irq: number;
  readonly id: number | undefined;
  readonly trigger: IrqTrigger;
  readonly setvarId: string | undefined;
}

/** A hardware interrupt delivered to a PD (`<irq>`); `irq` is the GIC INTID (SPI n is 32 + n). */
export function irq(number: number, options: IrqOptions = {}): Irq {
  const loc = captureLocation();
  checkNumber('irq() number', number, loc, { integer: true });
  checkOptions(`irq(${number})`, options, loc, true);
  checkNumber(`irq(${number}) id`, options.id, loc, { optional: true, integer: true });
  checkOneOf(`irq(${number}) trigger`, options.trigger, ['level', 'edge'], loc);
  checkString(`irq(${number}) setvarId`, options.setvarId, loc, { optional: true, nonEmpty: true });
  return { kind: 'irq', irq: number, id: options.id, trigger: options.trigger ?? 'level', setvarId: options.setvarId, loc };
}

export interface SetVar extends Construct {
  readonly kind: 'setvar';
  readonly symbol: string;
  readonly regionPaddr: MemoryRegion;
}

/** Patch `symbol` in the PD's program image with the physical address of `region` (`<setvar region_paddr>`). */
export function setvarRegionPaddr(symbol: string, region: MemoryRegion): SetVar {
  const loc = captureLocation();
  checkString('setvarRegionPaddr() symbol', symbol, loc, { nonEmpty: true });
  checkConstructs('setvarRegionPaddr() region', [region], ['memoryRegion'], 'memoryRegion(...)', loc);
  return { kind: 'setvar', symbol, regionPaddr: region, loc };
}

// ---------------------------------------------------------------------------------------------
// Protection domains and bare virtual machines

export interface SchedulingOptions {
  /** 0 (lowest) to 254. @default 0 */
  priority?: number;
  /** Budget in microseconds. @default 1000 */
  budget?: number;
  /** Period in microseconds; not smaller than the budget. @default the budget */
  period?: number;
}

/** @internal priority, budget and period are numbers when given (validation checks their ranges). */
export function checkScheduling(what: string, o: SchedulingOptions, loc: SourceLocation | undefined): void {
  checkNumber(`${what} priority`, o.priority, loc, { optional: true });
  checkNumber(`${what} budget`, o.budget, loc, { optional: true });
  checkNumber(`${what} period`, o.period, loc, { optional: true });
}

export interface ChildPd {
  readonly pd: ProtectionDomain;
  /** @default the lowest id not used by the parent's other children or vCPUs */
  readonly id?: number;
  /** Microkit 2.3.0: symbol in the parent's program image to receive the child's id. */
  readonly setvarId?: string;
}

/** Microkit 2.3.0: another PD's capability placed in this PD's CSpace (`<cspace>`). */
export interface CapMap extends Construct {
  readonly kind: 'cap';
  readonly type: 'tcb' | 'sc' | 'vspace';
  /** The PD whose cap it is: the construct, or its name (for itself, or one declared later). */
  readonly pd: ProtectionDomain | VirtualMachine | string;
  readonly slot: number;
}

/**
 * Give a PD another PD's thread (`'tcb'`), scheduling context (`'sc'`) or address space
 * (`'vspace'`) capability in slot `slot` (1 to 127) of its CSpace (Microkit 2.3.0 `<cap_*>`).
 */
export function cap(type: 'tcb' | 'sc' | 'vspace', pd: ProtectionDomain | VirtualMachine | string, slot: number): CapMap {
  const loc = captureLocation();
  checkOneOf('cap() type', type, ['tcb', 'sc', 'vspace'], loc, false);
  if (typeof pd === 'string') checkString('cap() pd', pd, loc, { nonEmpty: true });
  else checkConstructs('cap() pd', [pd], ['protectionDomain', 'virtualMachine'], 'protectionDomain(...), virtualMachine(...) or a PD name', loc);
  checkNumber('cap() slot', slot, loc, { integer: true });
  return { kind: 'cap', type, pd, slot, loc };
}

export interface ProtectionDomainOptions extends SchedulingOptions {
  /**
   * The program image (an ELF file built against the same Microkit release); a path relative to
   * this systems.ts, or `file()`/`contextFile()`. Give this or `sources`, not both.
   */
  program?: string | FileRef;
  /**
   * C (or `.S`) sources that sel4cp-synth compiles and links against the SDK's libmicrokit for
   * the board and configuration being built (cached by content; rebuilt when a source, a header
   * under `include` or the SDK changes). Paths relative to this systems.ts. Give this or `program`.
   * @example sources: ['pds/monitor.c']
   */
  sources?: (string | FileRef)[];
  /** With `sources`: include directories, searched before the SDK's. @default [] */
  include?: (string | FileRef)[];
  /** With `sources`: extra compiler flags (`-DNAME=1`, `-Werror`). @default [] */
  cflags?: string[];
  /** Scheduling context removed after init. @default false */
  passive?: boolean;
  /** Stack size, 4 KiB to 16 MiB, page-aligned. @default kib(4) */
  stackSize?: Size;
  /** May make SMC calls through the kernel (needs KernelAllowSMCCalls). @default false */
  smc?: boolean;
  /** @default [] */
  maps?: Mapping[];
  /** @default [] */
  irqs?: Irq[];
  /** @default [] */
  setvars?: SetVar[];
  /** Child PDs, with their ids as the parent sees them. @default [] */
  children?: (ProtectionDomain | ChildPd)[];
  /** A bare virtual machine this PD runs (the PD is its VMM). @default none */
  virtualMachine?: BareVirtualMachine;
  /** Microkit 2.3.0: the core it runs on. @default 0 */
  cpu?: number;
  /** Microkit 2.3.0: whether it may use the FPU. @default true */
  fpu?: boolean;
  /** Microkit 2.3.0: its scheduling domain (needs system({ domains })). @default none */
  domain?: Domain;
  /** Microkit 2.3.0: an unstripped ELF the tool reads the program's symbols from. @default the program */
  programForSymbols?: string | FileRef;
  /** Microkit 2.3.0: other PDs' capabilities in this PD's CSpace (see cap()). @default [] */
  cspace?: CapMap[];
}

export interface ProtectionDomain extends Construct {
  readonly kind: 'protectionDomain';
  readonly name: string;
  readonly program: FileRef | undefined;
  /** Built from sources by sel4cp-synth (`sources`, `include`, `cflags`), or undefined. */
  readonly build: { readonly sources: readonly FileRef[]; readonly include: readonly FileRef[]; readonly cflags: readonly string[] } | undefined;
  readonly priority: number | undefined;
  readonly budget: number | undefined;
  readonly period: number | undefined;
  readonly passive: boolean;
  readonly stackSize: Size | undefined;
  readonly smc: boolean;
  readonly maps: readonly Mapping[];
  readonly irqs: readonly Irq[];
  readonly setvars: readonly SetVar[];
  readonly children: readonly ChildPd[];
  readonly virtualMachine: BareVirtualMachine | undefined;
  /** Set on the VMM PD that virtualMachine() makes: sel4cp-synth fills it in for the board. */
  readonly vmmOf: VirtualMachine | undefined;
  readonly cpu: number | undefined;
  readonly fpu: boolean | undefined;
  readonly domain: Domain | undefined;
  readonly programForSymbols: FileRef | undefined;
  readonly cspace: readonly CapMap[];
}

/** A Microkit protection domain (`<protection_domain>`). */
export function protectionDomain(name: string, options: ProtectionDomainOptions): ProtectionDomain {
  const loc = captureLocation();
  checkString('protectionDomain() name', name, loc);
  const what = `protectionDomain(${JSON.stringify(name)})`;
  checkOptions(what, options, loc, false);
  checkProgramOrSources(what, options, loc);
  checkBoolean(`${what} passive`, options.passive, loc);
  checkBoolean(`${what} smc`, options.smc, loc);
  checkConstructs(`${what} maps`, options.maps, ['map'], 'map(...)', loc);
  checkConstructs(`${what} irqs`, options.irqs, ['irq'], 'irq(...)', loc);
  checkConstructs(`${what} setvars`, options.setvars, ['setvar'], 'setvarRegionPaddr(...)', loc);
  if (options.children !== undefined && !Array.isArray(options.children)) checkConstructs(`${what} children`, options.children, [], '', loc);
  for (const [i, c] of (options.children ?? []).entries()) {
    const pd = typeof c === 'object' && c !== null && 'kind' in c ? c : (c as ChildPd | undefined)?.pd;
    checkConstructs(`${what} children[${i}]`, [pd], ['protectionDomain'], 'protectionDomain(...) or { pd, id }', loc);
  }
  if (options.virtualMachine !== undefined) checkConstructs(`${what} virtualMachine`, [options.virtualMachine], ['bareVirtualMachine'], 'bareVirtualMachine(...)', loc);
  checkFile(`${what} programForSymbols`, options.programForSymbols, loc, true);
  checkConstructs(`${what} cspace`, options.cspace, ['cap'], 'cap(...)', loc);
  return makeProtectionDomain(name, options, loc, undefined);
}

/** Exactly one of `program` and `sources`; `include` and `cflags` only with `sources`. */
function checkProgramOrSources(what: string, options: ProtectionDomainOptions, loc: SourceLocation | undefined): void {
  if (options.program !== undefined && options.sources !== undefined) {
    throw new DslError('bad-argument', `${what}: give program (a built ELF) or sources (C files to build), not both`, undefined, loc);
  }
  if (options.sources === undefined) {
    if (options.program === undefined) {
      throw new DslError('bad-argument', `${what}: give program (a built ELF) or sources (C files that sel4cp-synth builds)`, "e.g. program: 'monitor.elf', or sources: ['monitor.c']", loc);
    }
    checkFile(`${what} program`, options.program, loc, false);
    if (options.include !== undefined || options.cflags !== undefined) throw new DslError('bad-argument', `${what}: include and cflags go with sources`, undefined, loc);
    return;
  }
  for (const [key, list] of [['sources', options.sources], ['include', options.include ?? []]] as const) {
    if (!Array.isArray(list) || (key === 'sources' && list.length === 0)) {
      throw new DslError('bad-argument', `${what} ${key}: ${key === 'sources' ? 'a non-empty list' : 'a list'} of paths`, "e.g. sources: ['pds/monitor.c']", loc);
    }
    list.forEach((f, i) => checkFile(`${what} ${key}[${i}]`, f, loc, false));
  }
  if (options.cflags !== undefined && (!Array.isArray(options.cflags) || options.cflags.some((f) => typeof f !== 'string'))) {
    throw new DslError('bad-argument', `${what} cflags: a list of strings`, "e.g. cflags: ['-DDEBUG=1']", loc);
  }
}

/** @internal shared with virtualMachine(), which makes the VMM PD. */
export function makeProtectionDomain(
  name: string,
  options: Partial<ProtectionDomainOptions>,
  loc: SourceLocation | undefined,
  vmmOf: VirtualMachine | undefined,
): ProtectionDomain {
  checkScheduling(vmmOf ? `virtualMachine(${JSON.stringify(vmmOf.name)}) vmm` : `protectionDomain(${JSON.stringify(name)})`, options, loc);
  const what = vmmOf ? `virtualMachine(${JSON.stringify(vmmOf.name)}) vmm` : `protectionDomain(${JSON.stringify(name)})`;
  checkBigint(`${what} stackSize`, options.stackSize, loc, true, 'kib');
  checkNumber(`${what} cpu`, options.cpu, loc, { optional: true, integer: true });
  checkBoolean(`${what} fpu`, options.fpu, loc);
  if (options.domain !== undefined) checkConstructs(`${what} domain`, [options.domain], ['domain'], 'domain(...)', loc);
  const children = (options.children ?? []).map((c) => ('kind' in c && c.kind === 'protectionDomain' ? { pd: c } : (c as ChildPd)));
  return {
    kind: 'protectionDomain',
    name,
    program: options.program === undefined ? undefined : toFileRef(options.program, loc),
    build: options.sources === undefined ? undefined : {
      sources: options.sources.map((f) => toFileRef(f, loc)),
      include: (options.include ?? []).map((f) => toFileRef(f, loc)),
      cflags: [...(options.cflags ?? [])],
    },
    priority: options.priority,
    budget: options.budget,
    period: options.period,
    passive: options.passive ?? false,
    stackSize: options.stackSize,
    smc: options.smc ?? false,
    maps: options.maps ?? [],
    irqs: options.irqs ?? [],
    setvars: options.setvars ?? [],
    children,
    virtualMachine: options.virtualMachine,
    vmmOf,
    cpu: options.cpu,
    fpu: options.fpu,
    domain: options.domain,
    programForSymbols: options.programForSymbols === undefined ? undefined : toFileRef(options.programForSymbols, loc),
    cspace: options.cspace ?? [],
    loc,
  };
}

/** A vCPU of a bare VM: its id, and (Microkit 2.3.0) the core it runs on. */
export interface VcpuSpec {
  id: number;
  /** Microkit 2.3.0. @default its VMM's core */
  cpu?: number;
}

export interface BareVirtualMachineOptions extends SchedulingOptions {
  /**
   * vCPU ids (each below 62, distinct from the PD's child ids), or a count (ids 0..n-1).
   * @default 1
   */
  vcpus?: number | (number | VcpuSpec)[];
  /** Guest-physical mappings; each needs a `vaddr`. @default [] */
  maps?: Mapping[];
}

export interface BareVirtualMachine extends Construct {
  readonly kind: 'bareVirtualMachine';
  readonly name: string;
  readonly vcpus: readonly VcpuSpec[];
  readonly maps: readonly Mapping[];
  readonly priority: number | undefined;
  readonly budget: number | undefined;
  readonly period: number | undefined;
}

/**
 * A bare Microkit virtual machine (`<virtual_machine>`): vCPUs and mappings, nothing more. Give
 * it to a protectionDomain() that acts as its VMM. For a Linux guest with our VMM, use
 * virtualMachine() instead.
 */
export function bareVirtualMachine(name: string, options: BareVirtualMachineOptions = {}): BareVirtualMachine {
  const loc = captureLocation();
  checkString('bareVirtualMachine() name', name, loc);
  const what = `bareVirtualMachine(${JSON.stringify(name)})`;
  checkOptions(what, options, loc, true);
  checkScheduling(what, options, loc);
  checkConstructs(`${what} maps`, options.maps, ['map'], 'map(...)', loc);
  if (Array.isArray(options.vcpus)) {
    options.vcpus.forEach((v, i) => {
      const spec = typeof v === 'object' && v !== null ? v : { id: v };
      checkNumber(`${what} vcpus[${i}]${typeof v === 'object' ? '.id' : ''}`, spec.id, loc, { integer: true });
      checkNumber(`${what} vcpus[${i}].cpu`, spec.cpu, loc, { optional: true, integer: true });
    });
  } else {
    checkNumber(`${what} vcpus`, options.vcpus, loc, { optional: true, integer: true, min: 0, max: 64 });
  }
  const v = options.vcpus ?? 1;
  const vcpus = typeof v === 'number' ? Array.from({ length: v }, (_, i) => ({ id: i })) : v.map((x) => (typeof x === 'number' ? { id: x } : x));
  return {
    kind: 'bareVirtualMachine',
    name,
    vcpus,
    maps: options.maps ?? [],
    priority: options.priority,
    budget: options.budget,
    period: options.period,
    loc,
  };
}

// ---------------------------------------------------------------------------------------------
// Channels

export interface ChannelEndOptions {
  /** Channel id in this PD (0 to 61). @default the lowest id free in the PD */
  id?: number;
  /** This end may make protected procedure calls to the other end. @default false */
  pp?: boolean;
  /** This end may notify the other end. @default true */
  notify?: boolean;
  /** Microkit 2.3.0: symbol in this end's program image to receive the channel id. */
  setvarId?: string;
}

export interface ChannelEnd extends Construct {
  readonly kind: 'end';
  readonly pd: ProtectionDomain | VirtualMachine;
  readonly id: number | undefined;
  readonly pp: boolean;
  readonly notify: boolean;
  readonly setvarId: string | undefined;
}

/** One end of a channel, when it needs an id or pp/notify settings. */
export function end(pd: ProtectionDomain | VirtualMachine, options: ChannelEndOptions = {}): ChannelEnd {
  const loc = captureLocation();
  checkConstructs('end()', [pd], ['protectionDomain', 'virtualMachine'], 'protectionDomain(...) or virtualMachine(...)', loc);
  checkOptions('end()', options, loc, true);
  checkNumber('end() id', options.id, loc, { optional: true, integer: true });
  checkBoolean('end() pp', options.pp, loc);
  checkBoolean('end() notify', options.notify, loc);
  checkString('end() setvarId', options.setvarId, loc, { optional: true, nonEmpty: true });
  return { kind: 'end', pd, id: options.id, pp: options.pp ?? false, notify: options.notify ?? true, setvarId: options.setvarId, loc };
}

export interface Channel extends Construct {
  readonly kind: 'channel';
  readonly a: ChannelEnd;
  readonly b: ChannelEnd;
}

type EndLike = ProtectionDomain | VirtualMachine | ChannelEnd;

/**
 * A channel between two PDs (`<channel>`). A VM given as an end means its VMM, and the guest
 * gets a doorbell for it: two GPIO lines of an emulated PL061, `<peer>-ring` (write 1 to
 * notify the peer) and `<peer>-notify` (a rising edge per notification from the peer), which a
 * Linux program uses through the GPIO character device; data goes through a region mapped into
 * both (docs/doorbell.md, examples/doorbell-qemu.ts). At most 4 such channels per VM.
 * @example channel(linux, end(monitor, { id: 1 }))
 */
export function channel(a: EndLike, b: EndLike): Channel {
  const loc = captureLocation();
  const toEnd = (e: EndLike): ChannelEnd => {
    if (!e || (e.kind !== 'end' && e.kind !== 'protectionDomain' && e.kind !== 'virtualMachine')) {
      throw new DslError('bad-argument', 'channel() takes protection domains, virtual machines or end(...) values', undefined, loc);
    }
    return e.kind === 'end' ? e : { kind: 'end', pd: e, id: undefined, pp: false, notify: true, setvarId: undefined, loc };
  };
  return { kind: 'channel', a: toEnd(a), b: toEnd(b), loc };
}
