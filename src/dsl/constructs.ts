// The low-level constructors: one for each element of the Microkit 2.0.1 system description
// format. They only record what the user said (and where); all checking happens in
// src/compile/validate so that every problem is reported at once, with its location.
import { captureLocation, type SourceLocation } from './location.js';
import { toFileRef, type FileRef } from './context.js';
import { DslError } from './errors.js';
import { checkBigint, checkBoolean, checkConstructs, checkFile, checkNumber, checkOneOf, checkOptions, checkString } from './check.js';
import type { Address, Size } from './units.js';
import type { VirtualMachine } from './vm.js';

/** Mapping permissions: any combination of read, write and execute except write-only. */
export type Perms = 'r' | 'rw' | 'rx' | 'rwx' | 'x';
export type IrqTrigger = 'level' | 'edge';

interface Construct {
  readonly loc: SourceLocation | undefined;
}

// ---------------------------------------------------------------------------------------------
// Memory regions

export interface MemoryRegionOptions {
  /** Size in bytes; a multiple of the page size. */
  size: Size;
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
}

export interface MemoryRegion extends Construct {
  readonly kind: 'memoryRegion';
  readonly name: string;
  readonly size: Size;
  readonly pageSize: Size | undefined;
  readonly physAddr: Address | undefined;
  readonly shared: boolean;
}

/** A Microkit memory region (`<memory_region>`). */
export function memoryRegion(name: string, options: MemoryRegionOptions): MemoryRegion {
  const loc = captureLocation();
  const what = `memoryRegion(${JSON.stringify(name)})`;
  checkString(`memoryRegion() name`, name, loc);
  checkOptions(what, options, loc, false);
  checkBigint(`${what} size`, options.size, loc, false, 'mib');
  checkBigint(`${what} pageSize`, options.pageSize, loc, true, 'kib');
  checkBigint(`${what} physAddr`, options.physAddr, loc, true, 'addr');
  checkBoolean(`${what} shared`, options.shared, loc);
  return {
    kind: 'memoryRegion',
    name,
    size: options.size,
    pageSize: options.pageSize,
    physAddr: options.physAddr,
    shared: options.shared ?? false,
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
}

export interface Mapping extends Construct {
  readonly kind: 'map';
  readonly mr: MemoryRegion;
  readonly vaddr: Address | undefined;
  readonly perms: Perms;
  readonly cached: boolean;
  readonly setvarVaddr: string | undefined;
  readonly setvarSize: string | undefined;
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
  return {
    kind: 'map',
    mr,
    vaddr: options.vaddr,
    perms: options.perms ?? 'rw',
    cached: options.cached ?? true,
    setvarVaddr: options.setvarVaddr,
    setvarSize: options.setvarSize,
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
}

export interface Irq extends Construct {
  readonly kind: 'irq';
  readonly irq: number;
  readonly id: number | undefined;
  readonly trigger: IrqTrigger;
}

/** A hardware interrupt delivered to a PD (`<irq>`); `irq` is the GIC INTID (SPI n is 32 + n). */
export function irq(number: number, options: IrqOptions = {}): Irq {
  const loc = captureLocation();
  checkNumber('irq() number', number, loc, { integer: true });
  checkOptions(`irq(${number})`, options, loc, true);
  checkNumber(`irq(${number}) id`, options.id, loc, { optional: true, integer: true });
  checkOneOf(`irq(${number}) trigger`, options.trigger, ['level', 'edge'], loc);
  return { kind: 'irq', irq: number, id: options.id, trigger: options.trigger ?? 'level', loc };
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
}

export interface ProtectionDomainOptions extends SchedulingOptions {
  /** The program image (an ELF file); a path relative to this systems.ts, or `file()`/`contextFile()`. */
  program: string | FileRef;
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
}

export interface ProtectionDomain extends Construct {
  readonly kind: 'protectionDomain';
  readonly name: string;
  readonly program: FileRef | undefined;
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
}

/** A Microkit protection domain (`<protection_domain>`). */
export function protectionDomain(name: string, options: ProtectionDomainOptions): ProtectionDomain {
  const loc = captureLocation();
  checkString('protectionDomain() name', name, loc);
  const what = `protectionDomain(${JSON.stringify(name)})`;
  checkOptions(what, options, loc, false);
  checkFile(`${what} program`, options.program, loc, false);
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
  return makeProtectionDomain(name, options, loc, undefined);
}

/** @internal shared with virtualMachine(), which makes the VMM PD. */
export function makeProtectionDomain(
  name: string,
  options: Partial<ProtectionDomainOptions>,
  loc: SourceLocation | undefined,
  vmmOf: VirtualMachine | undefined,
): ProtectionDomain {
  checkScheduling(vmmOf ? `virtualMachine(${JSON.stringify(vmmOf.name)}) vmm` : `protectionDomain(${JSON.stringify(name)})`, options, loc);
  checkBigint(`protectionDomain(${JSON.stringify(name)}) stackSize`, options.stackSize, loc, true, 'kib');
  const children = (options.children ?? []).map((c) => ('kind' in c && c.kind === 'protectionDomain' ? { pd: c } : (c as ChildPd)));
  return {
    kind: 'protectionDomain',
    name,
    program: options.program === undefined ? undefined : toFileRef(options.program, loc),
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
    loc,
  };
}

export interface BareVirtualMachineOptions extends SchedulingOptions {
  /**
   * vCPU ids (each below 62, distinct from the PD's child ids), or a count (ids 0..n-1).
   * @default 1
   */
  vcpus?: number | number[];
  /** Guest-physical mappings; each needs a `vaddr`. @default [] */
  maps?: Mapping[];
}

export interface BareVirtualMachine extends Construct {
  readonly kind: 'bareVirtualMachine';
  readonly name: string;
  readonly vcpus: readonly number[];
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
  if (Array.isArray(options.vcpus)) options.vcpus.forEach((id, i) => checkNumber(`${what} vcpus[${i}]`, id, loc, { integer: true }));
  else checkNumber(`${what} vcpus`, options.vcpus, loc, { optional: true, integer: true, min: 0, max: 64 });
  const v = options.vcpus ?? 1;
  const vcpus = typeof v === 'number' ? Array.from({ length: v }, (_, i) => i) : v;
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
}

export interface ChannelEnd extends Construct {
  readonly kind: 'end';
  readonly pd: ProtectionDomain | VirtualMachine;
  readonly id: number | undefined;
  readonly pp: boolean;
  readonly notify: boolean;
}

/** One end of a channel, when it needs an id or pp/notify settings. */
export function end(pd: ProtectionDomain | VirtualMachine, options: ChannelEndOptions = {}): ChannelEnd {
  const loc = captureLocation();
  checkConstructs('end()', [pd], ['protectionDomain', 'virtualMachine'], 'protectionDomain(...) or virtualMachine(...)', loc);
  checkOptions('end()', options, loc, true);
  checkNumber('end() id', options.id, loc, { optional: true, integer: true });
  checkBoolean('end() pp', options.pp, loc);
  checkBoolean('end() notify', options.notify, loc);
  return { kind: 'end', pd, id: options.id, pp: options.pp ?? false, notify: options.notify ?? true, loc };
}

export interface Channel extends Construct {
  readonly kind: 'channel';
  readonly a: ChannelEnd;
  readonly b: ChannelEnd;
}

type EndLike = ProtectionDomain | VirtualMachine | ChannelEnd;

/** A channel between two PDs (`<channel>`). A VM given as an end means its VMM. */
export function channel(a: EndLike, b: EndLike): Channel {
  const loc = captureLocation();
  const toEnd = (e: EndLike): ChannelEnd => {
    if (!e || (e.kind !== 'end' && e.kind !== 'protectionDomain' && e.kind !== 'virtualMachine')) {
      throw new DslError('bad-argument', 'channel() takes protection domains, virtual machines or end(...) values', undefined, loc);
    }
    return e.kind === 'end' ? e : { kind: 'end', pd: e, id: undefined, pp: false, notify: true, loc };
  };
  return { kind: 'channel', a: toEnd(a), b: toEnd(b), loc };
}
