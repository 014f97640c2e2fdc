// Resolve: from the constructs a systems.ts made to the system model. Names, ids, addresses and
// generated elements (the VMM of each guest) are decided here, deterministically; nothing is
// checked here beyond what resolution itself needs (validation does the checking).
import path from 'node:path';
import type { System } from '../../dsl/system.js';
import type { BareVirtualMachine, ChannelEnd, Irq, Mapping, MemoryRegion, ProtectionDomain } from '../../dsl/constructs.js';
import type { VirtualMachine } from '../../dsl/vm.js';
import type { Board } from '../boards.js';
import { error, type Diagnostic } from '../diagnostics/index.js';
import {
  newProtectionDomain, type ChannelEndModel, type ChannelModel, type GuestModel, type IrqModel, type Loc, type MapModel,
  type DomainsModel, type MemoryRegionModel, type ProtectionDomainModel, type RegionRole, type VirtualMachineModel,
} from '../model/index.js';
import { IdAllocator, MAX_CHANNEL_ID, PAGE_4K, VaddrAllocator, effectivePageSize } from './ids.js';
import type { Domain } from '../../dsl/domains.js';
import { expandGuest } from './guests.js';
import { addControls } from './control.js';
import { addVmmTimer } from './vmm-timer.js';
import { addNetLinks } from './virtio.js';
import { addBridges } from './bridge.js';
import { addDoorbells, placeDoorbells, sharedRegionsOf } from './doorbells.js';
import { DEFAULT_BUDGET, MICROKIT } from '../model/facts.js';
import { DEFAULT_RELEASE, releaseFacts, type MicrokitRelease } from '../releases.js';

/** What the load stage learnt about an input file (load/images.ts reads files; resolution does not). */
export interface ImageFacts {
  /** Bytes that go into guest RAM (for a compressed kernel: the unpacked Image). */
  size: bigint;
  /** For an arm64 Linux kernel: its header's text_offset and image_size. */
  linux?: { textOffset: bigint; imageSize: bigint };
  /** Why a file meant as a kernel is not one. */
  problem?: string;
  /** For a PD's program image (an ELF): its loadable segments. */
  segments?: { vaddr: bigint; size: bigint }[];
}

export interface ResolveInput {
  system: System;
  /** The systems.ts path. */
  file: string;
  board: Board | undefined;
  /** Facts about image files, by absolute path; a path that is absent was not found. */
  images: ReadonlyMap<string, ImageFacts>;
  /**
   * Where each initramfs() of the system was packed (or, when an input is missing, the path of
   * that input): the load stage builds the archives before resolution.
   */
  initramfsPaths?: ReadonlyMap<object, string>;
  /** The Microkit release: its defaults (a PD's stack) and what it allows. @default DEFAULT_RELEASE */
  microkit?: MicrokitRelease | undefined;
  /** Cores seL4 runs on (Microkit 2.3.0 smp-* configurations): where vCPUs are spread. @default 1 */
  numCores?: number | undefined;
}

export interface ResolveResult {
  model: import('../model/index.js').SystemModel;
  diagnostics: Diagnostic[];
}

interface PendingMap { pd: ProtectionDomainModel; map: MapModel; size: bigint; align: bigint }
interface PendingId { pd: ProtectionDomainModel; assign: (id: number) => void; what: string; loc: Loc }

/** @internal the resolver's state, shared with guests.ts. */
export class Resolution {
  readonly diagnostics: Diagnostic[] = [];
  readonly memoryRegions: MemoryRegionModel[] = [];
  private readonly mrByConstruct = new Map<MemoryRegion, MemoryRegionModel>();
  readonly pdByConstruct = new Map<ProtectionDomain, ProtectionDomainModel>();
  readonly rootPds: ProtectionDomainModel[] = [];
  readonly channels: ChannelModel[] = [];
  readonly guests: GuestModel[] = [];
  private readonly pendingMaps: PendingMap[] = [];
  private readonly pendingIds: PendingId[] = [];
  private readonly fixups: (() => void)[] = [];
  /** The release the model is for: resolved here, once, and stored on the model. */
  readonly release: MicrokitRelease;

  constructor(readonly input: ResolveInput) {
    this.release = input.microkit ?? DEFAULT_RELEASE;
  }

  /** The model of a region, created on first use; its place in the output is its first use. */
  region(mr: MemoryRegion, role: RegionRole = { kind: 'user' }): MemoryRegionModel {
    let model = this.mrByConstruct.get(mr);
    if (!model) {
      const gicv = this.input.board?.gic.virtualCpuInterface;
      const isGicv = role.kind === 'user' && gicv !== undefined && mr.physAddr === gicv.paddr;
      // A region over a GICv2 board's virtual CPU interface is that interface (banked per vCPU,
      // so VMs that all map it share nothing), and one region: the virtualMachine()s' too.
      const existing = isGicv ? this.memoryRegions.find((m) => m.role.kind === 'gic-vcpu' && m.physAddr === mr.physAddr) : undefined;
      model = existing ?? {
        name: mr.name, size: mr.size ?? 0n, pageSize: mr.pageSize, physAddr: mr.physAddr, shared: mr.shared,
        role: isGicv ? { kind: 'gic-vcpu', vm: '' } : role, loc: mr.loc,
        ...this.prefillOf(mr),
      };
      this.mrByConstruct.set(mr, model);
      if (!existing) this.memoryRegions.push(model);
    }
    return model;
  }

  /**
   * Microkit 2.3.0 prefill: the tool finds the file by its name on the search path (the link
   * step passes the file's directory); the load stage learnt its length. A region without a size takes
   * the file's, rounded up to its page size (sdf.rs determine_size).
   */
  private prefillOf(mr: MemoryRegion): Pick<MemoryRegionModel, 'prefill' | 'sizeFromPrefill' | 'prefillBootinfo' | 'size'> | {} {
    if (!mr.prefill && !mr.prefillBootinfo) return {};
    const bytes = mr.prefill ? this.input.images.get(mr.prefill.path)?.size : undefined;
    const page = mr.pageSize ?? PAGE_4K;
    const size = mr.size ?? (mr.prefill ? (bytes !== undefined ? (bytes + page - 1n) / page * page : 0n) : page);
    return {
      size,
      ...(mr.size === undefined ? { sizeFromPrefill: true } : {}),
      ...(mr.prefill ? { prefill: { path: path.basename(mr.prefill.path), file: bytes !== undefined ? mr.prefill.path : undefined, bytes } } : {}),
      ...(mr.prefillBootinfo ? { prefillBootinfo: mr.prefillBootinfo } : {}),
    };
  }

  /** A region sel4cp-synth makes (guest RAM, GIC vCPU interface, a passed-through device). */
  generatedRegion(model: MemoryRegionModel): MemoryRegionModel {
    const existing = this.memoryRegions.find((m) => m.role.kind === model.role.kind && m.physAddr === model.physAddr
      && (m.name === model.name || model.role.kind === 'gic-vcpu'));
    if (existing) return existing;
    this.memoryRegions.push(model);
    return model;
  }

  mapping(pd: ProtectionDomainModel, m: Mapping, inVm: boolean): MapModel {
    const region = this.region(m.mr);
    const model: MapModel = {
      mr: region.name,
      vaddr: m.vaddr ?? 0n,
      perms: m.perms,
      cached: m.cached,
      setvarVaddr: m.setvarVaddr,
      setvarSize: m.setvarSize,
      ...(m.setvarPrefillSize !== undefined ? { setvarPrefillSize: m.setvarPrefillSize } : {}),
      loc: m.loc,
    };
    if (m.vaddr === undefined) {
      if (inVm) {
        this.diagnostics.push(error('vm-map-needs-vaddr', `map of '${region.name}' in a virtual machine has no vaddr`, m.loc, {
          hint: 'give the guest-physical address: map(region, { vaddr: addr(0x...) })',
        }));
      } else {
        this.autoVaddr(pd, model, region.size, effectivePageSize(region.size, region.pageSize));
      }
    }
    return model;
  }

  autoVaddr(pd: ProtectionDomainModel, map: MapModel, size: bigint, align: bigint): void {
    this.pendingMaps.push({ pd, map, size, align });
  }

  /** Ask for a channel id in `pd`, decided once all explicit ids are known. */
  autoChannelId(pd: ProtectionDomainModel, what: string, loc: Loc, assign: (id: number) => void): void {
    this.pendingIds.push({ pd, assign, what, loc });
  }

  irq(pd: ProtectionDomainModel, q: Irq, device?: string): IrqModel {
    const model: IrqModel = { irq: q.irq, id: q.id ?? -1, trigger: q.trigger, device, ...(q.setvarId !== undefined ? { setvarId: q.setvarId } : {}), loc: q.loc };
    if (q.id === undefined) this.autoChannelId(pd, `irq ${q.irq}`, q.loc, (id) => { model.id = id; });
    return model;
  }

  protectionDomain(pd: ProtectionDomain, childId: number | undefined): ProtectionDomainModel {
    const existing = this.pdByConstruct.get(pd);
    if (existing) {
      this.diagnostics.push(error('pd-listed-twice', `protection domain '${pd.name}' is part of the system twice`, pd.loc, {
        hint: 'list each protection domain once: as a root PD or as one parent\'s child',
      }));
      return existing;
    }
    const budget = pd.budget ?? DEFAULT_BUDGET;
    const model: ProtectionDomainModel = newProtectionDomain({
      name: pd.name,
      childId,
      priority: pd.priority ?? 0,
      budget,
      period: pd.period ?? budget,
      passive: pd.passive,
      stackSize: pd.stackSize ?? releaseFacts(this.release).defaultStack,
      smc: pd.smc,
      programImage: pd.program ? path.basename(pd.program.path) : pd.build ? `${pd.name}.elf` : '',
      programPath: pd.program?.path,
      programSegments: pd.program ? this.input.images.get(pd.program.path)?.segments : undefined,
      ...(pd.build ? { programBuild: { sources: pd.build.sources.map((f) => f.path), include: pd.build.include.map((f) => f.path), cflags: [...pd.build.cflags] } } : {}),
      ...addedPdFields(pd),
      loc: pd.loc,
    });
    this.pdByConstruct.set(pd, model);
    if (!pd.program && !pd.build && !pd.vmmOf) {
      this.diagnostics.push(error('pd-missing-program', `protection domain '${pd.name}' has no program image`, pd.loc, {
        hint: "give one: protectionDomain(name, { program: 'hello.elf', ... }), or its C sources: { sources: ['hello.c'] }",
      }));
    }
    for (const m of pd.maps) model.maps.push(this.mapping(model, m, false));
    for (const q of pd.irqs) model.irqs.push(this.irq(model, q));
    for (const sv of pd.setvars) {
      const region = this.region(sv.regionPaddr);
      model.setvars.push({ symbol: sv.symbol, regionPaddr: region.name, loc: sv.loc });
    }
    if (pd.virtualMachine) model.virtualMachine = this.bareVm(model, pd.virtualMachine);

    const childIds = new IdAllocator(MICROKIT.maxChildId);
    for (const c of pd.children) if (c.id !== undefined) childIds.reserve(c.id);
    for (const v of model.virtualMachine?.vcpus ?? []) childIds.reserve(v.id);
    for (const c of pd.children) {
      const id = c.id ?? childIds.next() ?? -1;
      // A PD already resolved (listed twice, or its own ancestor) is reported once and not
      // linked again: the model stays a tree.
      const listed = this.pdByConstruct.has(c.pd);
      const child = this.protectionDomain(c.pd, id);
      if (c.setvarId !== undefined) child.setvarId = c.setvarId;
      if (!listed) model.children.push(child);
    }
    return model;
  }

  bareVm(pd: ProtectionDomainModel, vm: BareVirtualMachine): VirtualMachineModel {
    const budget = vm.budget ?? DEFAULT_BUDGET;
    return {
      name: vm.name,
      vcpus: vm.vcpus.map((v) => ({ id: v.id, ...(v.cpu !== undefined ? { cpu: v.cpu } : {}), loc: vm.loc })),
      maps: vm.maps.map((m) => this.mapping(pd, m, true)),
      priority: vm.priority ?? 0,
      budget,
      period: vm.period ?? budget,
      loc: vm.loc,
    };
  }

  pdOf(x: ProtectionDomain | VirtualMachine): ProtectionDomainModel | undefined {
    return this.pdByConstruct.get(x.kind === 'virtualMachine' ? x.vmm : x);
  }

  channelEnd(e: ChannelEnd, loc: Loc): ChannelEndModel | undefined {
    const pd = this.pdOf(e.pd);
    if (!pd) {
      const name = e.pd.kind === 'virtualMachine' ? e.pd.vmm.name : e.pd.name;
      this.diagnostics.push(error('channel-unknown-pd', `channel end '${name}' is not part of the system`, e.loc ?? loc, {
        notes: [{ message: `'${name}' is declared here`, location: e.pd.loc }],
        hint: 'add the protection domain (or virtual machine) to system({ protectionDomains: [...] })',
      }));
      return undefined;
    }
    const model: ChannelEndModel = { pd: pd.name, id: e.id ?? -1, pp: e.pp, notify: e.notify, ...(e.setvarId !== undefined ? { setvarId: e.setvarId } : {}), loc: e.loc ?? loc };
    if (e.id === undefined) this.autoChannelId(pd, `channel end to '${pd.name}'`, model.loc, (id) => { model.id = id; });
    return model;
  }

  /** Run `f` once every id and address is final (to copy them into derived tables). */
  afterAllocation(f: () => void): void {
    this.fixups.push(f);
  }

  /** Give every automatic id and address its value, explicit ones having been reserved. */
  allocate(allPds: ProtectionDomainModel[]): void {
    const ids = new Map<ProtectionDomainModel, IdAllocator>();
    const idsOf = (pd: ProtectionDomainModel): IdAllocator => {
      let a = ids.get(pd);
      if (!a) {
        a = new IdAllocator(MAX_CHANNEL_ID);
        for (const q of pd.irqs) if (q.id >= 0) a.reserve(q.id);
        for (const ch of this.channels) {
          for (const e of [ch.a, ch.b]) if (e.pd === pd.name && e.id >= 0) a.reserve(e.id);
        }
        ids.set(pd, a);
      }
      return a;
    };
    for (const p of this.pendingIds) {
      const id = idsOf(p.pd).next();
      if (id === undefined) {
        this.diagnostics.push(error('channel-ids-exhausted', `no channel id left in '${p.pd.name}' for ${p.what}: ids 0 to ${MAX_CHANNEL_ID} are all used`, p.loc, {
          hint: 'a Microkit PD has 62 channel ids shared by its IRQs and channel ends; split the work across PDs',
        }));
        p.assign(-1);
      } else {
        p.assign(id);
      }
    }

    const vaddrs = new Map<ProtectionDomainModel, VaddrAllocator>();
    for (const pd of allPds) {
      const a = new VaddrAllocator();
      for (const seg of pd.programSegments ?? []) a.reserve(seg.vaddr, seg.size);
      for (const m of pd.maps) {
        if (this.pendingMaps.some((p) => p.map === m)) continue;
        const region = this.memoryRegions.find((r) => r.name === m.mr);
        if (region) a.reserve(m.vaddr, region.size);
      }
      vaddrs.set(pd, a);
    }
    for (const p of this.pendingMaps) p.map.vaddr = vaddrs.get(p.pd)!.next(p.size, p.align);
    for (const f of this.fixups) f();
  }
}

/** What later releases add to a PD (cpu, fpu, domain, ...: ../releases.ts), as the model holds it (left out when not given). */
function addedPdFields(pd: ProtectionDomain): Partial<ProtectionDomainModel> {
  return {
    ...(pd.cpu !== undefined ? { cpu: pd.cpu } : {}),
    ...(pd.fpu !== undefined ? { fpu: pd.fpu } : {}),
    ...(pd.domain !== undefined ? { domain: pd.domain.name } : {}),
    ...(pd.programForSymbols !== undefined ? { programForSymbols: path.basename(pd.programForSymbols.path) } : {}),
    ...(pd.cspace.length ? {
      capMaps: pd.cspace.map((c) => ({ type: c.type, pd: typeof c.pd === 'string' ? c.pd : c.pd.kind === 'virtualMachine' ? c.pd.vmm.name : c.pd.name, slot: c.slot, loc: c.loc })),
    } : {}),
  };
}

/** The domains the system names (its schedule's and its PDs', in that order) and the schedule. */
function domainsOf(system: System, pds: ProtectionDomainModel[], constructs: ReadonlyMap<ProtectionDomainModel, ProtectionDomain>): DomainsModel | undefined {
  const s = system.domains;
  if (!s) return undefined;
  const seen: Domain[] = [];
  const add = (d: Domain | undefined): void => { if (d && !seen.includes(d)) seen.push(d); };
  s.domains.forEach(add);
  for (const slot of s.slots) if (slot !== 'end') add(slot.domain);
  for (const pd of pds) add(constructs.get(pd)?.domain);
  return {
    domains: seen.map((d) => ({ name: d.name, id: d.id, loc: d.loc })),
    schedule: {
      entries: s.slots.map((slot) => (slot === 'end'
        ? { kind: 'end-marker' as const, loc: s.loc }
        : { kind: 'entry' as const, domain: slot.domain.name, ...('us' in slot ? { duration: BigInt(slot.us), unit: 'us' as const } : { duration: BigInt(slot.ticks), unit: 'ticks' as const }), loc: s.loc })),
      startIndex: s.startIndex === undefined ? undefined : BigInt(s.startIndex),
      indexShift: s.indexShift === undefined ? undefined : BigInt(s.indexShift),
      loc: s.loc,
    },
    loc: s.loc,
  };
}

export function resolveSystem(input: ResolveInput): ResolveResult {
  const { system, board } = input;
  const r = new Resolution(input);

  for (const mr of system.memoryRegions) r.region(mr);
  for (const pd of system.protectionDomains) r.rootPds.push(r.protectionDomain(pd, undefined));
  for (const vm of system.virtualMachines) {
    const pd = r.protectionDomain(vm.vmm, undefined);
    r.rootPds.push(pd);
    if (!board) {
      r.diagnostics.push(error('no-board', `virtual machine '${vm.name}' needs a board to place its RAM, GIC and devices`, vm.loc, {
        hint: "name one in system({ board: 'qemu_virt_aarch64' }) or on the command line: --board qemu_virt_aarch64",
      }));
      continue;
    }
    const guest = expandGuest(r, vm, pd, board);
    if (guest) r.guests.push(guest);
  }
  for (const ch of system.channels) {
    const a = r.channelEnd(ch.a, ch.loc);
    const b = r.channelEnd(ch.b, ch.loc);
    if (a && b) r.channels.push({ a, b, loc: ch.loc });
  }
  // The user's channels with a VM at one end ring its guest through a PL061 (placed with the
  // virtio windows by addNetLinks).
  addDoorbells(r, [...r.channels]);
  // After the user's channels, so that their automatic ids do not move when links are added.
  const links = addNetLinks(r, system, board);
  addBridges(r, system);
  if (board) placeDoorbells(r, board);
  // After the user's channels, so that their automatic ids do not move when guests block.
  const vmmTimer = board ? addVmmTimer(r, system, board) : undefined;
  // Last, for the same reason: a controller added moves no other automatic id.
  const controls = addControls(r, system);

  const all: ProtectionDomainModel[] = [];
  const walk = (pd: ProtectionDomainModel): void => { all.push(pd); pd.children.forEach(walk); };
  r.rootPds.forEach(walk);
  r.allocate(all);
  for (const g of r.guests) {
    const vmm = all.find((p) => p.name === g.vmm);
    if (vmm) g.shared = sharedRegionsOf(vmm, all, r.guests, r);
  }

  const name = system.name ?? path.basename(input.file).replace(/\.[cm]?[tj]s$/, '');
  return {
    model: {
      name,
      file: input.file,
      source: 'typescript',
      loc: system.loc,
      board,
      microkit: r.release,
      memoryRegions: r.memoryRegions,
      protectionDomains: r.rootPds,
      channels: r.channels,
      guests: r.guests,
      ...(links.length > 0 ? { links } : {}),
      vmmTimer,
      ...(controls.length > 0 ? { controls } : {}),
      policy: system.policy,
      domains: domainsOf(system, all, new Map([...r.pdByConstruct].map(([c, m]) => [m, c]))),
    },
    diagnostics: r.diagnostics,
  };
}
