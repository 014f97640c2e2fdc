// What depends on the Microkit release, each asked of ../releases.ts by feature. A feature the
// system's release lacks is an error at each use (a systems.ts can write any of them; a .system
// file of an earlier release cannot: the parser rejects the attributes). Where the release has
// them, the checks of its tool/microkit/src/sdf.rs on cores, domains, prefilled regions, cspace
// maps and reserved names, and the places where that tool is wrong and we say so instead:
// - a prefilled region larger than its file rounded up to its page size makes the tool panic
//   (capdl/builder.rs: "range start index ... out of range" slicing past the file's end);
// - vcpu setvar_id is read from the virtual_machine element, not the vcpu, so it is never set;
// - auto-numbered domains may be given the id KernelNumDomains (the loop runs 0..=num_domains).
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, mappingContexts, type Loc, type MemoryRegionModel, type SystemModel } from '../model/index.js';
import { hex } from '../../format.js';
import { featureSince, laterRule, releaseFacts, RELEASE_NAMES, supports, type Feature } from '../releases.js';
import { kernelLimits, type KernelLimits } from '../model/target.js';
import { PAGE_SIZES } from './common.js';

export function checkMicrokitRelease(system: SystemModel): Diagnostic[] {
  const has = (f: Feature): boolean => supports(system.microkit, f);
  const limits = kernelLimits(system);
  return [
    ...laterFeatures(system),
    ...(has('cpu') ? cores(system, limits) : []),
    ...(has('domains') ? domains(system, limits) : []),
    ...(has('prefill') ? prefills(system) : []),
    ...(has('cspace') ? capMaps(system) : []),
    ...reservedNames(system),
    ...namesReservedLater(system),
    ...(has('vcpu-setvar-id-ignored') ? vcpuSetvarIds(system) : []),
  ];
}

/** A use of a feature some release lacks: what it is, for the message, and where. */
interface FeatureUse {
  feature: Feature;
  what: string;
  loc: Loc;
}

/** The uses in `system` of features that not every release has, in model order. */
function featureUses(system: SystemModel): FeatureUse[] {
  const out: FeatureUse[] = [];
  const use = (feature: Feature, what: string, loc: Loc): void => { out.push({ feature, what, loc }); };
  for (const pd of allProtectionDomains(system)) {
    const what = `protection domain '${pd.name}'`;
    if (pd.cpu !== undefined) use('cpu', `cpu on ${what}`, pd.loc);
    if (pd.fpu !== undefined) use('fpu', `fpu on ${what}`, pd.loc);
    if (pd.domain !== undefined) use('domains', `domain on ${what}`, pd.loc);
    if (pd.setvarId !== undefined) use('setvar-id', `setvar_id on ${what}`, pd.loc);
    if (pd.programForSymbols !== undefined) use('path-for-symbols', `path_for_symbols on ${what}`, pd.loc);
    if (pd.capMaps?.length) use('cspace', `a cspace on ${what}`, pd.capMaps[0]!.loc);
    for (const q of pd.irqs) if (q.setvarId !== undefined) use('setvar-id', `setvar_id on irq ${q.irq} of ${what}`, q.loc);
    for (const m of pd.maps) if (m.setvarPrefillSize !== undefined) use('prefill', `setvar_prefill_size on the map of '${m.mr}' in ${what}`, m.loc);
    for (const v of pd.virtualMachine?.vcpus ?? []) {
      if (v.cpu !== undefined) use('cpu', `cpu on vCPU ${v.id} of '${pd.virtualMachine!.name}'`, v.loc);
      if (v.setvarId !== undefined) use('setvar-id', `setvar_id on vCPU ${v.id} of '${pd.virtualMachine!.name}'`, v.loc);
    }
  }
  for (const mr of system.memoryRegions) {
    if (mr.prefill) use('prefill', `a prefill file on memory region '${mr.name}'`, mr.loc);
    if (mr.prefillBootinfo !== undefined) use('prefill', `prefill_bootinfo on memory region '${mr.name}'`, mr.loc);
  }
  for (const ch of system.channels) for (const e of [ch.a, ch.b]) if (e.setvarId !== undefined) use('setvar-id', `setvar_id on the channel end of '${e.pd}'`, e.loc);
  if (system.domains) use('domains', 'a domain schedule', system.domains.loc);
  return out;
}

/** Each use of a feature the system's release lacks, at its line, naming the release that brought it. */
function laterFeatures(system: SystemModel): Diagnostic[] {
  return featureUses(system).filter((u) => !supports(system.microkit, u.feature)).map((u) => {
    const since = featureSince(u.feature);
    return error(laterRule(since), `${u.what} is a Microkit ${since} feature; this system is built for Microkit ${system.microkit}`, u.loc, {
      hint: `build with a Microkit ${since} SDK (MICROKIT_SDK or --sdk), or pass --microkit ${since} to check for it`,
    });
  });
}

function cores(system: SystemModel, limits: KernelLimits): Diagnostic[] {
  const out: Diagnostic[] = [];
  const hint = limits.numCores === 1 ? `seL4 runs on one core in this configuration (${limits.source}); the smp-debug and smp-release configurations run on several` : `${limits.source}`;
  for (const pd of allProtectionDomains(system)) {
    if (pd.cpu !== undefined && (!Number.isInteger(pd.cpu) || pd.cpu < 0 || pd.cpu >= limits.numCores)) {
      out.push(error('pd-cpu-out-of-range', `protection domain '${pd.name}' is on cpu ${pd.cpu}; the core must be less than ${limits.numCores}`, pd.loc, { hint }));
    }
    for (const v of pd.virtualMachine?.vcpus ?? []) {
      if (v.cpu !== undefined && (!Number.isInteger(v.cpu) || v.cpu < 0 || v.cpu >= limits.numCores)) {
        out.push(error('vcpu-cpu-out-of-range', `vCPU ${v.id} of virtual machine '${pd.virtualMachine!.name}' is on cpu ${v.cpu}; the core must be less than ${limits.numCores}`, v.loc, { hint }));
      }
    }
  }
  return out;
}

function domains(system: SystemModel, limits: KernelLimits): Diagnostic[] {
  const out: Diagnostic[] = [];
  const d = system.domains;
  const pds = allProtectionDomains(system);
  if (!d) {
    for (const pd of pds) {
      if (pd.domain !== undefined) {
        out.push(error('domain-without-schedule', `protection domain '${pd.name}' is in domain '${pd.domain}', but the system declares no domain schedule`, pd.loc, {
          hint: 'declare the domains and their schedule (<domains> before the protection domains, or system({ domains }))',
        }));
      }
    }
    return out;
  }
  if (limits.numCores > 1) {
    out.push(error('domains-smp', `the domain scheduler is not supported in multicore builds of seL4 (${limits.numCores} cores: ${limits.source})`, d.loc, {
      hint: 'use the debug or release configuration, or drop the domain schedule',
    }));
  }
  out.push(...domainNames(d, limits));
  const names = new Set(d.domains.map((x) => x.name));
  for (const pd of pds) {
    if (pd.domain === undefined) {
      out.push(error('domain-required', `protection domain '${pd.name}' has no domain; with a domain schedule every protection domain needs one`, pd.loc, {
        hint: `give it one of: ${[...names].join(', ')}`,
      }));
    } else if (!names.has(pd.domain)) {
      out.push(error('domain-unknown', `protection domain '${pd.name}' is in domain '${pd.domain}', which is not declared`, pd.loc, { hint: `declared domains: ${[...names].join(', ')}` }));
    }
  }
  out.push(...schedule(d, names, limits));
  return out;
}

function domainNames(d: NonNullable<SystemModel['domains']>, limits: KernelLimits): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byName = new Map<string, Loc>();
  const byId = new Map<number, string>();
  for (const dom of d.domains) {
    if (byName.has(dom.name)) out.push(error('domain-duplicate-name', `domain '${dom.name}' is declared twice`, dom.loc, { notes: [{ message: 'first declared here', location: byName.get(dom.name) }] }));
    byName.set(dom.name, dom.loc);
    if (dom.id === undefined) continue;
    if (!Number.isInteger(dom.id) || dom.id < 0 || dom.id >= limits.numDomains) {
      out.push(error('domain-id-out-of-range', `domain '${dom.name}' has id ${dom.id}; it must be less than KernelNumDomains, ${limits.numDomains}`, dom.loc, { hint: limits.source }));
    }
    const other = byId.get(dom.id);
    if (other !== undefined) out.push(error('domain-duplicate-id', `domains '${other}' and '${dom.name}' both have id ${dom.id}`, dom.loc));
    byId.set(dom.id, dom.name);
  }
  if (byName.size > limits.numDomains) {
    out.push(error('domains-too-many', `${byName.size} domains are declared; the kernel has ${limits.numDomains} (KernelNumDomains)`, d.loc, { hint: limits.source }));
  }
  return out;
}

function schedule(d: NonNullable<SystemModel['domains']>, names: Set<string>, limits: KernelLimits): Diagnostic[] {
  const out: Diagnostic[] = [];
  const s = d.schedule;
  if (!s) return out;
  for (const e of s.entries) {
    if (e.kind === 'entry' && !names.has(e.domain)) out.push(error('domain-unknown', `schedule entry names domain '${e.domain}', which is not declared`, e.loc));
  }
  const n = BigInt(s.entries.length);
  const max = BigInt(limits.numDomainSchedules);
  if (n >= max) {
    out.push(error('domain-schedule-too-long', `the domain schedule has ${n} entries; the kernel has room for fewer than ${max} (KernelNumDomainSchedules)`, s.loc, { hint: limits.source }));
  }
  const start = s.startIndex ?? 0n;
  if (start >= n) out.push(error('domain-schedule-start-index', `start_index ${start} is not an entry of the domain schedule (${n} entries)`, s.loc));
  if (s.indexShift !== undefined && s.indexShift + n >= max) {
    out.push(error('domain-schedule-index-shift', `index_shift ${s.indexShift} on top of the schedule's ${n} entries reaches KernelNumDomainSchedules, ${max}`, s.loc));
  }
  return out;
}

/** The page size the 2.3.0 tool gives a region: the one written, else the largest every mapping address allows (sdf.rs "Optimise page size"). */
function toolPageSize(system: SystemModel, mr: MemoryRegionModel): bigint {
  if (mr.pageSize !== undefined) return mr.pageSize;
  const addrs = [...mappingContexts(system).flatMap((c) => c.maps.filter((m) => m.mr === mr.name).map((m) => m.vaddr)), ...(mr.physAddr !== undefined ? [mr.physAddr] : [])];
  for (const p of [...PAGE_SIZES].reverse()) {
    if (mr.size % p === 0n && addrs.every((a) => a % p === 0n)) return p;
  }
  return PAGE_SIZES[0];
}

const BOOTINFO = new Set(['fdt']);
const BOOTINFO_X86 = new Set(['x86_vbe', 'x86_mbmmap', 'x86_acpi_rsdp', 'x86_framebuffer', 'x86_tsc_freq']);

function prefills(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const mr of system.memoryRegions) {
    if (mr.prefill && mr.prefillBootinfo !== undefined) {
      out.push(error('mr-prefill-and-bootinfo', `memory region '${mr.name}' has both prefill_path and prefill_bootinfo; give one`, mr.loc));
    }
    if (mr.prefillBootinfo !== undefined && !BOOTINFO.has(mr.prefillBootinfo)) {
      out.push(BOOTINFO_X86.has(mr.prefillBootinfo)
        ? error('x86-only', `prefill_bootinfo '${mr.prefillBootinfo}' is x86 boot information; every board here is AArch64`, mr.loc, { hint: "on AArch64 the boot information is the device tree: prefill_bootinfo=\"fdt\"" })
        : error('mr-bootinfo-unsupported', `prefill_bootinfo '${mr.prefillBootinfo}' of memory region '${mr.name}' is not supported`, mr.loc, { hint: "on AArch64: 'fdt'" }));
    }
    if (mr.prefill) out.push(...prefillFile(system, mr));
  }
  for (const pd of allProtectionDomains(system)) {
    for (const m of pd.maps) {
      if (m.setvarPrefillSize === undefined) continue;
      const mr = system.memoryRegions.find((r) => r.name === m.mr);
      if (mr && !mr.prefill) {
        out.push(error('setvar-prefill-size-without-prefill', `setvar_prefill_size '${m.setvarPrefillSize}' in '${pd.name}' is on memory region '${m.mr}', which has no prefill file`, m.loc));
      }
    }
  }
  return out;
}

function prefillFile(system: SystemModel, mr: MemoryRegionModel): Diagnostic[] {
  const p = mr.prefill!;
  if (p.file === undefined || p.bytes === undefined) {
    return [error('mr-prefill-missing', `prefill file '${p.path}' of memory region '${mr.name}' is not found`, mr.loc, {
      hint: "it is looked for beside the .system file and in each --search-path directory (the Microkit tool's --search-path)",
    })];
  }
  if (p.bytes === 0n) return [error('mr-prefill-empty', `prefill file '${p.path}' of memory region '${mr.name}' is empty`, mr.loc)];
  if (!mr.sizeFromPrefill && p.bytes > mr.size) {
    return [error('mr-prefill-too-large', `prefill file '${p.path}' (${hex(p.bytes)} bytes) is larger than memory region '${mr.name}' (${hex(mr.size)} bytes)`, mr.loc, {
      hint: 'leave size out to have the file\'s, or make the region larger',
    })];
  }
  if (!supports(system.microkit, 'prefill-past-file-panics')) return [];
  const page = toolPageSize(system, mr);
  const filled = (p.bytes + page - 1n) / page * page;
  if (mr.size > filled) {
    return [error('mr-prefill-panics', `memory region '${mr.name}' (${hex(mr.size)} bytes) is larger than its prefill file rounded up to its ${hex(page)}-byte pages (${hex(filled)}): Microkit ${system.microkit}'s tool panics on this`, mr.loc, {
      notes: [{ message: 'tool/microkit/src/capdl/builder.rs fills every page from the file and slices past its end ("range start index ... out of range")' }],
      hint: `leave size out (the tool then takes ${hex(filled)}), or pad the file to the region's size`,
    })];
  }
  return [];
}

function capMaps(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { maxCapSlot } = releaseFacts(system.microkit);
  const pdNames = new Set(allProtectionDomains(system).map((p) => p.name));
  for (const pd of allProtectionDomains(system)) {
    const slots = new Map<number, Loc>();
    for (const c of pd.capMaps ?? []) {
      if (c.slot === 0) out.push(error('cap-map-slot-reserved', `cap_${c.type} of '${pd.name}' is in slot 0, which is reserved for the Microkit CNode`, c.loc));
      else if (!Number.isInteger(c.slot) || c.slot < 0 || c.slot >= maxCapSlot) out.push(error('cap-map-slot-out-of-range', `cap_${c.type} of '${pd.name}' is in slot ${c.slot}; there are only ${maxCapSlot} destination cspace slots`, c.loc));
      if (slots.has(c.slot)) out.push(error('cap-map-slot-twice', `two caps go to slot ${c.slot} of '${pd.name}'`, c.loc, { notes: [{ message: 'the other one', location: slots.get(c.slot) }] }));
      slots.set(c.slot, c.loc);
      if (!pdNames.has(c.pd)) out.push(error('cap-map-unknown-pd', `cap_${c.type} of '${pd.name}' names protection domain '${c.pd}', which does not exist`, c.loc));
    }
  }
  return out;
}

/** A name a later release reserves builds here but not there: say so before the user upgrades. */
function namesReservedLater(system: SystemModel): Diagnostic[] {
  const own = releaseFacts(system.microkit).reservedPdNames;
  const out: Diagnostic[] = [];
  for (const pd of allProtectionDomains(system)) {
    if (own.includes(pd.name)) continue;
    const later = RELEASE_NAMES.find((r) => releaseFacts(r).reservedPdNames.includes(pd.name));
    if (later) {
      out.push(warning('pd-name-reserved-later', `the protection domain name '${pd.name}' is reserved for the Microkit monitor from Microkit ${later} on: this system will not build with that release`, pd.loc, {
        hint: 'choose another name to keep the system portable',
      }));
    }
  }
  return out;
}

function reservedNames(system: SystemModel): Diagnostic[] {
  const reserved = releaseFacts(system.microkit).reservedPdNames;
  return allProtectionDomains(system).filter((pd) => reserved.includes(pd.name)).map((pd) =>
    error('pd-reserved-name', `the protection domain name '${pd.name}' is reserved for the Microkit monitor`, pd.loc, { hint: 'choose another name' }));
}

function vcpuSetvarIds(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const pd of allProtectionDomains(system)) {
    for (const v of pd.virtualMachine?.vcpus ?? []) {
      if (v.setvarId === undefined) continue;
      out.push(error('vcpu-setvar-id-ignored', `setvar_id '${v.setvarId}' on vCPU ${v.id} of '${pd.virtualMachine!.name}' would never be set: Microkit ${system.microkit}'s tool reads a vCPU's setvar_id from its virtual_machine element`, v.loc, {
        notes: [{ message: 'tool/microkit/src/sdf.rs VirtualMachine::from_xml: node.attribute("setvar_id") on the virtual_machine, where check_attributes does not allow it' }],
        hint: `set the id in the program instead (vCPU ${v.id})`,
      }));
    }
  }
  return out;
}
