// A semantic diff of two resolved system models: what a reviewer of a change to a system must
// see, element by element, with the changes that widen privilege flagged. Pure: it reads two
// models and returns data; the formats (text, markdown, JSON) are in diff-format.ts.
//
// Identity is by name, as in the .system format: memory regions, PDs and VMs by name, maps by
// (PD or VM, region), IRQs by number, channels by their unordered pair of (PD, id) ends, setvars
// by (PD, symbol), passthrough devices by (VM, device). A rename is a removal and an addition.
import { hex } from '../format.js';
import { allProtectionDomains, mappingContexts, type MapModel, type MemoryRegionModel, type SystemModel } from '../compile/model/index.js';
import { inBoardRam } from '../compile/validate/maps.js';
import { deriveFlows, type Flow } from '../compile/flows.js';
import { describeRule, judgeFlow } from '../compile/validate/policy.js';
import type { GuestModel, Loc, PolicyModel } from '../compile/model/index.js';
import { describeTriples, policyEffect, policyUniverse, tripleKey, widenedBy } from './policy-effect.js';

export type ChangeKind =
  | 'flow'
  | 'policy'
  | 'system'
  | 'memory-region'
  | 'protection-domain'
  | 'virtual-machine'
  | 'map'
  | 'irq'
  | 'channel'
  | 'setvar'
  | 'cap'
  | 'domain'
  | 'guest'
  | 'passthrough'
  | 'control';

/** The order kinds are reported in. */
export const CHANGE_KINDS: readonly ChangeKind[] = [
  'flow', 'policy', 'system', 'memory-region', 'protection-domain', 'virtual-machine', 'map', 'irq', 'channel', 'setvar', 'cap', 'domain', 'guest', 'passthrough', 'control',
];

export type ChangeOp = 'added' | 'removed' | 'changed';

/** Why a change widens what some PD or VM may do. */
export type PrivilegeFlag =
  | 'flow-added'
  | 'policy-widened'
  | 'writable-mapping'
  | 'executable-mapping'
  | 'device-reachable'
  | 'region-shared'
  | 'irq-granted'
  | 'irq-moved'
  | 'priority-raised'
  | 'pp-channel'
  | 'smc-enabled'
  | 'cap-granted'
  | 'controller-added'
  | 'dma-device'
  | 'host-exposed';

export interface Privilege {
  flag: PrivilegeFlag;
  /** One sentence for a reviewer. */
  reason: string;
}

export interface FieldChange {
  field: string;
  /** Undefined for an added element or a field that was not set. */
  old: string | undefined;
  new: string | undefined;
}

export interface Change {
  kind: ChangeKind;
  op: ChangeOp;
  /** The element's identity, stable across runs: e.g. `linux/uart0` for a map, `33` for an IRQ. */
  key: string;
  /** For an added element its values, for a removed one its old values, for a change the fields that differ. */
  fields: FieldChange[];
  /** Empty when the change does not widen privilege. */
  privilege: Privilege[];
}

export interface ModelDiff {
  changes: Change[];
  /** What was not compared, and why (e.g. facts a .system file cannot express). */
  notes: string[];
}

type Fields = Record<string, string | undefined>;

const yesNo = (b: boolean): string => (b ? 'true' : 'false');

function regionFields(mr: MemoryRegionModel, own: boolean): Fields {
  return {
    size: hex(mr.size),
    page_size: mr.pageSize === undefined ? undefined : hex(mr.pageSize),
    phys_addr: mr.physAddr === undefined ? undefined : hex(mr.physAddr),
    shared: own ? yesNo(mr.shared) : undefined,
    prefill_path: mr.prefill?.path,
    prefill_bootinfo: mr.prefillBootinfo,
  };
}

function mapFields(m: MapModel): Fields {
  return {
    vaddr: hex(m.vaddr),
    perms: m.perms,
    cached: yesNo(m.cached),
    setvar_vaddr: m.setvarVaddr,
    setvar_size: m.setvarSize,
    setvar_prefill_size: m.setvarPrefillSize,
  };
}

/** A map's context as a key part: PD and VM names share one namespace in a valid system. */
interface MapEntry { context: string; contextKind: 'protection domain' | 'virtual machine'; principal: string; map: MapModel }

/**
 * Every map with its key. A region mapped twice into one context gets `#2`, `#3`... in model
 * order, so the common case stays readable and the rare one stays distinct.
 */
function mapEntries(model: SystemModel): Map<string, MapEntry> {
  const out = new Map<string, MapEntry>();
  for (const ctx of mappingContexts(model)) {
    for (const m of ctx.maps) {
      let key = `${ctx.name}/${m.mr}`;
      for (let n = 2; out.has(key); n++) key = `${ctx.name}/${m.mr}#${n}`;
      // A VM and its VMM are one principal for sharing: the VMM owning its guest's RAM is not sharing.
      out.set(key, { context: ctx.name, contextKind: ctx.kind, principal: ctx.pd.name, map: m });
    }
  }
  return out;
}

/** Whether a region is device memory: a board device, the GIC interface, or a fixed address outside the board's RAM. */
export function isDeviceRegion(model: SystemModel, mr: MemoryRegionModel): boolean {
  if (mr.role.kind === 'device' || mr.role.kind === 'gic-vcpu') return true;
  if (mr.role.kind === 'guest-ram') return false;
  return mr.physAddr !== undefined && !inBoardRam(model, mr.physAddr);
}

function compare(kind: ChangeKind, key: string, a: Fields | undefined, b: Fields | undefined): Change | undefined {
  if (!a && !b) return undefined;
  if (!a) return { kind, op: 'added', key, fields: Object.entries(b!).filter(([, v]) => v !== undefined).map(([field, v]) => ({ field, old: undefined, new: v })), privilege: [] };
  if (!b) return { kind, op: 'removed', key, fields: Object.entries(a).filter(([, v]) => v !== undefined).map(([field, v]) => ({ field, old: v, new: undefined })), privilege: [] };
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const fields = names.filter((f) => a[f] !== b[f]).map((field) => ({ field, old: a[field], new: b[field] }));
  return fields.length ? { kind, op: 'changed', key, fields, privilege: [] } : undefined;
}

/** Compare two keyed collections: changes in the new model's order, then removals in the old one's. */
function diffKeyed<T>(kind: ChangeKind, olds: ReadonlyMap<string, T>, news: ReadonlyMap<string, T>, fields: (t: T) => Fields): Change[] {
  const out: Change[] = [];
  for (const [key, b] of news) {
    const a = olds.get(key);
    const c = compare(kind, key, a === undefined ? undefined : fields(a), fields(b));
    if (c) out.push(c);
  }
  for (const [key, a] of olds) {
    if (!news.has(key)) out.push(compare(kind, key, fields(a), undefined)!);
  }
  return out;
}

function byName<T extends { name: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((x) => [x.name, x] as const));
}

function parentsOf(model: SystemModel): Map<string, string> {
  const out = new Map<string, string>();
  for (const pd of allProtectionDomains(model)) for (const c of pd.children) out.set(c.name, pd.name);
  return out;
}

function channelKey(ends: readonly { pd: string; id: number }[]): string {
  return ends.map((e) => `${e.pd}:${e.id}`).sort().join(' <-> ');
}

function channelEntries(model: SystemModel): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const ch of model.channels) {
    const key = channelKey([ch.a, ch.b]);
    const ends = [ch.a, ch.b].sort((x, y) => (`${x.pd}:${x.id}` < `${y.pd}:${y.id}` ? -1 : 1));
    const f: Fields = {};
    for (const e of ends) {
      f[`${e.pd}:${e.id}.pp`] = yesNo(e.pp);
      f[`${e.pd}:${e.id}.notify`] = yesNo(e.notify);
      if (e.setvarId !== undefined) f[`${e.pd}:${e.id}.setvar_id`] = e.setvarId;
    }
    out.set(key, f);
  }
  return out;
}

function irqEntries(model: SystemModel, own: boolean): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const pd of allProtectionDomains(model)) {
    for (const q of pd.irqs) {
      // Two PDs claiming one IRQ is invalid; keep both visible rather than hide one.
      let key = String(q.irq);
      for (let n = 2; out.has(key); n++) key = `${q.irq}#${n}`;
      out.set(key, { pd: pd.name, id: String(q.id), trigger: q.trigger, device: own ? q.device : undefined, setvar_id: q.setvarId });
    }
  }
  return out;
}

function guestEntries(model: SystemModel): { guests: Map<string, Fields>; devices: Map<string, Fields> } {
  const guests = new Map<string, Fields>();
  const devices = new Map<string, Fields>();
  for (const g of model.guests) {
    guests.set(g.vm, {
      vmm: g.vmm,
      vcpus: String(g.vcpus),
      gic_version: String(g.gicVersion),
      ram_gpa: hex(g.ram.gpa),
      ram_size: hex(g.ram.size),
      bootargs: g.bootargs,
      // Devices the VMM plays: not a privilege of the guest (its accesses trap to the VMM).
      emulated: g.emulated.map((e) => `${e.device} (${e.kind}) @ ${hex(e.gpa)}`).join(', ') || undefined,
      restart: g.restart ? `${g.restart.policy}, at most ${g.restart.maxRestarts}, backoff ${g.restart.backoffMs} ms` : undefined,
    });
    for (const p of g.passthrough) {
      devices.set(`${g.vm}/${p.device}`, {
        mr: p.mr,
        gpa: hex(p.gpa),
        size: hex(p.size),
        irqs: p.irqs.map((q) => `${q.irq} ${q.trigger} (channel ${q.channel})`).join(', ') || undefined,
        dma: p.dma ? 'bus master' : undefined,
        ...qemuFields(p.qemu),
      });
    }
  }
  return { guests, devices };
}

/**
 * What QEMU attaches to a passed-through transport (run starts it so): the guest's reach into
 * the host — ports the host forwards to it, host services it may connect to, a host file it
 * reads and writes. One entry per item, so a diff names the one added.
 */
function qemuFields(q: GuestModel['passthrough'][number]['qemu']): Fields {
  if (!q) return {};
  if (q.kind === 'disk') return { qemu: `disk ${q.file} (${q.readOnly ? 'read-only' : 'read-write'})` };
  return {
    qemu: `network card ${q.mac}`,
    host_forwards: q.forward.map((f) => `127.0.0.1:${f.hostPort} -> ${f.guestAddress}:${f.guestPort}`).join(', ') || undefined,
    host_services: q.hostServices.map((s) => `${s.address}:${s.port} -> 127.0.0.1:${s.hostPort}`).join(', ') || undefined,
  };
}

/** Items of a comma-separated field value the new side has and the old did not. */
function newItems(f: FieldChange | undefined): string[] {
  if (!f?.new) return [];
  const old = new Set((f.old ?? '').split(', '));
  return f.new.split(', ').filter((x) => !old.has(x));
}

/** A passed-through transport's new reach into the host (qemuFields), and a VM that now bridges. */
function flagHostExposure(c: Change): void {
  if (c.kind === 'passthrough' && c.op !== 'removed') {
    const [vm] = c.key.split('/');
    for (const f of newItems(field(c, 'host_forwards'))) flag(c, 'host-exposed', `the host now forwards ${f.split(' -> ')[0]} to VM '${vm}' (${f})`);
    for (const s of newItems(field(c, 'host_services'))) flag(c, 'host-exposed', `VM '${vm}' may now connect to the host's ${s.split(' -> ')[1]} (${s})`);
    const disk = field(c, 'qemu');
    if (disk?.new?.startsWith('disk ') && disk.new !== disk.old) flag(c, 'host-exposed', `VM '${vm}' now reaches the host file of ${disk.new}`);
  }
  if (c.kind === 'guest' && c.op !== 'removed') {
    const args = field(c, 'bootargs');
    if (args?.new?.includes('sel4cp_synth.bridge=') && !args.old?.includes('sel4cp_synth.bridge=')) {
      flag(c, 'host-exposed', `VM '${c.key}' now bridges its network card and links: the VMs on those links reach its card's network`);
    }
  }
}

function flag(c: Change, flag: PrivilegeFlag, reason: string): void {
  if (!c.privilege.some((p) => p.flag === flag && p.reason === reason)) c.privilege.push({ flag, reason });
}

function field(c: Change, name: string): FieldChange | undefined {
  return c.fields.find((f) => f.field === name);
}

function who(e: MapEntry): string {
  return `${e.contextKind === 'virtual machine' ? 'VM' : 'PD'} '${e.context}'`;
}

/** Attach privilege flags: everything here reads both models, not just the changed fields. */
interface PrivilegeInput {
  older: SystemModel;
  newer: SystemModel;
  changes: Change[];
  oldMaps: Map<string, MapEntry>;
  newMaps: Map<string, MapEntry>;
  find: (kind: ChangeKind, key: string) => Change | undefined;
}

function flagPrivilege(older: SystemModel, newer: SystemModel, changes: Change[], oldMaps: Map<string, MapEntry>, newMaps: Map<string, MapEntry>): void {
  const find = (kind: ChangeKind, key: string): Change | undefined => changes.find((c) => c.kind === kind && c.key === key);
  const input: PrivilegeInput = { older, newer, changes, oldMaps, newMaps, find };
  flagMappings(input);
  flagSharing(input);
  for (const c of changes) flagElementChange(c);
}

/** New write or execute rights; device regions newly reachable (mapped, or turned device). */
function flagMappings({ older, newer, oldMaps, newMaps, find }: PrivilegeInput): void {
  const oldRegions = byName(older.memoryRegions);
  const newRegions = byName(newer.memoryRegions);
  const oldReach = new Set<string>();
  for (const e of oldMaps.values()) {
    const mr = oldRegions.get(e.map.mr);
    if (mr && isDeviceRegion(older, mr)) oldReach.add(`${e.context}/${e.map.mr}`);
  }
  for (const [key, e] of newMaps) {
    const c = find('map', key);
    if (!c) continue;
    const before = oldMaps.get(key)?.map.perms ?? '';
    if (e.map.perms.includes('w') && !before.includes('w')) flag(c, 'writable-mapping', `${who(e)} may now write '${e.map.mr}'`);
    if (e.map.perms.includes('x') && !before.includes('x')) flag(c, 'executable-mapping', `${who(e)} may now execute from '${e.map.mr}'`);
    const mr = newRegions.get(e.map.mr);
    if (mr && isDeviceRegion(newer, mr) && !oldReach.has(`${e.context}/${e.map.mr}`)) {
      flag(c, 'device-reachable', `device region '${e.map.mr}' is newly reachable from ${who(e)}`);
    }
  }
  // A region that became a device (a physical address outside RAM) while mapped.
  for (const mr of newer.memoryRegions) {
    const c = find('memory-region', mr.name);
    if (!c || c.op !== 'changed' || !isDeviceRegion(newer, mr)) continue;
    const before = oldRegions.get(mr.name);
    if (before && isDeviceRegion(older, before)) continue;
    const users = [...newMaps.values()].filter((e) => e.map.mr === mr.name).map(who);
    if (users.length) flag(c, 'device-reachable', `'${mr.name}' is now device memory, reachable from ${users.join(', ')}`);
  }
}

/** A region mapped by more principals (a VM and its VMM count as one) than before. */
function flagSharing({ newer, oldMaps, newMaps, find }: PrivilegeInput): void {
  const newRegions = byName(newer.memoryRegions);
  const principals = (maps: Map<string, MapEntry>): Map<string, Set<string>> => {
    const out = new Map<string, Set<string>>();
    for (const e of maps.values()) {
      const s = out.get(e.map.mr) ?? new Set<string>();
      s.add(e.principal);
      out.set(e.map.mr, s);
    }
    return out;
  };
  const oldP = principals(oldMaps);
  for (const [mr, now] of principals(newMaps)) {
    // The GIC virtual CPU interface is banked per vCPU: every VM that maps it sees only its own.
    if (now.size < 2 || newRegions.get(mr)?.role.kind === 'gic-vcpu') continue;
    const before = oldP.get(mr) ?? new Set<string>();
    const gained = [...now].filter((p) => !before.has(p));
    if (!gained.length) continue;
    // Once per region, at the first map that shares it: two maps added together are one sharing.
    for (const [key, e] of newMaps) {
      if (e.map.mr !== mr || !gained.includes(e.principal)) continue;
      const c = find('map', key);
      if (!c) continue;
      const others = [...newMaps.values()].filter((o) => o.map.mr === mr && o.principal !== e.principal).map(who);
      flag(c, 'region-shared', `'${mr}' is newly shared: ${who(e)} maps it, and so does ${[...new Set(others)].join(', ')}`);
      break;
    }
  }
}

/** IRQs granted or moved, priorities raised, SMC allowed, new pp ends, devices passed through. */
function flagElementChange(c: Change): void {
  if (c.kind === 'irq') {
    const pd = field(c, 'pd');
    if (c.op === 'added') flag(c, 'irq-granted', `IRQ ${c.key.replace(/#\d+$/, '')} is now delivered to '${pd?.new}'`);
    else if (c.op === 'changed' && pd) flag(c, 'irq-moved', `IRQ ${c.key.replace(/#\d+$/, '')} moved from '${pd.old}' to '${pd.new}'`);
  }
  if ((c.kind === 'protection-domain' || c.kind === 'virtual-machine') && c.op === 'changed') {
    const p = field(c, 'priority');
    if (p && Number(p.new) > Number(p.old)) flag(c, 'priority-raised', `priority of '${c.key}' raised from ${p.old} to ${p.new}`);
    const smc = field(c, 'smc');
    if (smc?.new === 'true') flag(c, 'smc-enabled', `'${c.key}' may now make SMC calls to the firmware`);
  }
  if (c.kind === 'protection-domain' && c.op === 'added' && field(c, 'smc')?.new === 'true') {
    flag(c, 'smc-enabled', `'${c.key}' may make SMC calls to the firmware`);
  }
  if (c.kind === 'channel' && c.op !== 'removed') {
    for (const f of c.fields) {
      if (f.field.endsWith('.pp') && f.new === 'true' && f.old !== 'true') {
        const end = f.field.slice(0, -'.pp'.length);
        const other = c.key.split(' <-> ').find((e) => e !== end) ?? end;
        flag(c, 'pp-channel', `'${end.split(':')[0]}' may now make protected procedure calls into '${other.split(':')[0]}'`);
      }
    }
  }
  if (c.kind === 'cap' && c.op !== 'removed') {
    const type = field(c, 'cap')?.new;
    const of = field(c, 'of')?.new ?? c.fields.find((f) => f.field === 'of')?.old;
    const holder = c.key.split('/')[0];
    const what = type === 'tcb' ? 'thread (it can suspend, resume and rewrite it)' : type === 'vspace' ? 'address space (it can map into it)' : 'scheduling context (it can take its time)';
    if (type !== undefined) flag(c, 'cap-granted', `'${holder}' now holds '${of}''s ${what}`);
  }
  if (c.kind === 'passthrough' && c.op === 'added') {
    const [vm, device] = c.key.split('/');
    flag(c, 'device-reachable', `device '${device}' is newly passed through to VM '${vm}'`);
  }
  flagHostExposure(c);
  if (c.kind === 'passthrough' && c.op !== 'removed' && field(c, 'dma')?.new === 'bus master') {
    const [vm, device] = c.key.split('/');
    flag(c, 'dma-device', `VM '${vm}' now drives bus master '${device}', whose DMA reaches all physical memory (no IOMMU)`);
  }
}

/** The semantic difference from `older` to `newer`. Empty when they mean the same system. */
export function diffModels(older: SystemModel, newer: SystemModel): ModelDiff {
  const changes: Change[] = [];
  const notes: string[] = [];
  // What only sel4cp-synth knows (guests, passthrough devices, shared declarations, the device an
  // IRQ belongs to) is compared only when both sides are systems.ts: a .system file cannot say it.
  const own = older.source === 'typescript' && newer.source === 'typescript';
  if (!own && older.source !== newer.source) {
    notes.push("one side is a .system file: guests, passthrough devices, 'shared' declarations and IRQ devices, which only a systems.ts states, were not compared");
  }
  if (older.board && newer.board) {
    const sys = compare('system', 'system', { board: older.board.name }, { board: newer.board.name });
    if (sys) changes.push(sys);
  } else if (older.board !== newer.board) {
    notes.push('only one side names a board, so boards were not compared (pass --board to give both sides one)');
  }

  changes.push(...diffKeyed('memory-region', byName(older.memoryRegions), byName(newer.memoryRegions), (mr) => regionFields(mr, own)));

  changes.push(...diffKeyed('protection-domain', pdEntries(older), pdEntries(newer), (f) => f));
  changes.push(...diffKeyed('virtual-machine', vmEntries(older), vmEntries(newer), (f) => f));

  const oldMaps = mapEntries(older);
  const newMaps = mapEntries(newer);
  changes.push(...diffKeyed('map', oldMaps, newMaps, (e) => mapFields(e.map)));
  changes.push(...diffKeyed('irq', irqEntries(older, own), irqEntries(newer, own), (f) => f));
  changes.push(...diffKeyed('channel', channelEntries(older), channelEntries(newer), (f) => f));

  changes.push(...diffKeyed('setvar', setvarEntries(older), setvarEntries(newer), (f) => f));
  changes.push(...diffKeyed('cap', capEntries(older), capEntries(newer), (f) => f));
  changes.push(...diffKeyed('domain', domainEntries(older), domainEntries(newer), (f) => f));

  if (own) {
    const og = guestEntries(older);
    const ng = guestEntries(newer);
    changes.push(...diffKeyed('guest', og.guests, ng.guests, (f) => f));
    changes.push(...diffKeyed('passthrough', og.devices, ng.devices, (f) => f));
  }

  changes.push(...controlChanges(older, newer));
  changes.push(...flowChanges(older, newer));
  changes.push(...policyChanges(older, newer));
  flagPrivilege(older, newer, changes, oldMaps, newMaps);
  const rank = (k: ChangeKind): number => CHANGE_KINDS.indexOf(k);
  // Stable sort: kinds in their fixed order, each in model order.
  changes.sort((a, b) => rank(a.kind) - rank(b.kind));
  return { changes, notes };
}

/** Every protection domain (children included), by name: the fields a .system gives it. */
function pdEntries(model: SystemModel): Map<string, Fields> {
  const parents = parentsOf(model);
  const out = new Map<string, Fields>();
  for (const pd of allProtectionDomains(model)) {
    out.set(pd.name, {
      program_image: pd.programImage,
      priority: String(pd.priority),
      budget: String(pd.budget),
      period: String(pd.period),
      passive: yesNo(pd.passive),
      stack_size: hex(pd.stackSize),
      smc: yesNo(pd.smc),
      parent: parents.get(pd.name),
      child_id: pd.childId === undefined ? undefined : String(pd.childId),
      cpu: pd.cpu === undefined ? undefined : String(pd.cpu),
      fpu: pd.fpu === undefined ? undefined : yesNo(pd.fpu),
      domain: pd.domain,
      setvar_id: pd.setvarId,
      program_for_symbols: pd.programForSymbols,
    });
  }
  return out;
}

/** Every virtual machine, by name: its VMM, vCPUs and scheduling. */
function vmEntries(model: SystemModel): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const pd of allProtectionDomains(model)) {
    const vm = pd.virtualMachine;
    if (vm) {
      out.set(vm.name, {
        vmm: pd.name,
        vcpus: vm.vcpus.map((v) => `${v.id}${v.cpu !== undefined ? ` on cpu ${v.cpu}` : ''}`).join(', '),
        priority: String(vm.priority), budget: String(vm.budget), period: String(vm.period),
      });
    }
  }
  return out;
}

/** Every setvar, by PD and symbol. */
function setvarEntries(model: SystemModel): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const pd of allProtectionDomains(model)) for (const s of pd.setvars) out.set(`${pd.name}/${s.symbol}`, { region_paddr: s.regionPaddr });
  return out;
}

/** Microkit 2.3.0 cspace caps, by holder and slot. */
function capEntries(model: SystemModel): Map<string, Fields> {
  const out = new Map<string, Fields>();
  for (const pd of allProtectionDomains(model)) for (const c of pd.capMaps ?? []) out.set(`${pd.name}/slot ${c.slot}`, { cap: c.type, of: c.pd });
  return out;
}

/** Microkit 2.3.0 domains and the schedule's slots, in order. */
function domainEntries(model: SystemModel): Map<string, Fields> {
  const out = new Map<string, Fields>();
  const d = model.domains;
  if (!d) return out;
  for (const dom of d.domains) out.set(`domain ${dom.name}`, { id: dom.id === undefined ? 'auto' : String(dom.id) });
  d.schedule?.entries.forEach((e, i) => out.set(`schedule slot ${i}`, e.kind === 'end-marker' ? { slot: 'end' } : { domain: e.domain, duration: `${e.duration} ${e.unit}` }));
  if (d.schedule) out.set('schedule', { start_index: d.schedule.startIndex?.toString(), index_shift: d.schedule.indexShift?.toString() });
  return out;
}

/**
 * Who controls which VM (control()), by VM: a controller added or replaced widens privilege (a
 * PD may now stop, start and restart a VM it could not).
 */
function controlChanges(older: SystemModel, newer: SystemModel): Change[] {
  const entries = (m: SystemModel): Map<string, Fields> => new Map((m.controls ?? []).map((c) => [c.vm, { by: c.by, page: c.mr, channel: `${c.channel.b.pd}:${c.channel.b.id}` }]));
  const changes = diffKeyed('control', entries(older), entries(newer), (f) => f);
  for (const c of changes) {
    const by = field(c, 'by');
    if (c.op === 'added' || (c.op === 'changed' && by)) {
      flag(c, 'controller-added', `'${by?.new ?? ''}' may now stop, start and restart virtual machine '${c.key}'`);
    }
  }
  return changes;
}

/** Each flow (from -> to, kind) with what causes it. */
function flowEntries(model: SystemModel): Map<string, { flow: Flow; fields: Fields }> {
  const graph = deriveFlows(model);
  const out = new Map<string, { flow: Flow; fields: Fields }>();
  for (const f of graph.flows) {
    out.set(`${f.from} -> ${f.to} (${f.kind})`, { flow: f, fields: { because: f.causes.map((c) => c.what).join('; ') } });
  }
  return out;
}

/**
 * Flows added and removed: who can newly influence whom, first of all. An added flow the new
 * side's policy forbids says which rule it breaks (and where).
 */
function flowChanges(older: SystemModel, newer: SystemModel): Change[] {
  const before = flowEntries(older);
  const after = flowEntries(newer);
  const graph = newer.policy ? deriveFlows(newer) : undefined;
  const out = diffKeyed('flow', new Map([...before].map(([k, v]) => [k, v.fields])), new Map([...after].map(([k, v]) => [k, v.fields])), (f) => f)
    .filter((c) => c.op !== 'changed');
  for (const c of out) {
    if (c.op !== 'added') continue;
    const f = after.get(c.key)!.flow;
    let reason = `'${f.from}' can now influence '${f.to}' (${f.kind}: ${f.causes[0]!.what})`;
    if (newer.policy && graph) {
      const v = judgeFlow(f, newer.policy, graph);
      if (!v.allowed) {
        const at = (loc: Loc): string => (loc ? ` at ${loc.file.split('/').pop()}:${loc.line}` : '');
        reason += v.forbiddenBy ? `, which breaks the policy: ${describeRule(v.forbiddenBy)}${at(v.forbiddenBy.loc)}` : `, which no rule of the policy allows${at(newer.policy.loc)}`;
      }
    }
    c.privilege.push({ flag: 'flow-added', reason });
  }
  return out;
}

type PolicyPart =
  | { kind: 'rule'; rule: PolicyModel['rules'][number] }
  | { kind: 'domain'; domain: PolicyModel['domains'][number] }
  | { kind: 'infrastructure'; value: PolicyModel['infrastructure'] };

/** A policy as keyed parts: its rules, trust domains and infrastructure setting. */
function policyParts(p: PolicyModel | undefined): Map<string, PolicyPart> {
  const out = new Map<string, PolicyPart>();
  if (!p) return out;
  out.set('infrastructure', { kind: 'infrastructure', value: p.infrastructure });
  for (const d of p.domains) out.set(`trust domain ${d.name}`, { kind: 'domain', domain: d });
  for (const r of p.rules) out.set(describeRule(r), { kind: 'rule', rule: r });
  return out;
}

function partFields(part: PolicyPart): Fields {
  if (part.kind === 'infrastructure') return { infrastructure: part.value };
  if (part.kind === 'domain') return { members: part.domain.members.join(', ') };
  return { rule: part.rule.kind };
}

/** `base` with its part at `key` replaced by `from`'s (or dropped when `from` has none). */
function withPartOf(base: PolicyModel | undefined, from: PolicyModel | undefined, key: string): PolicyModel | undefined {
  const shape = base ?? from;
  if (!shape) return undefined;
  const parts = policyParts(base);
  const part = policyParts(from).get(key);
  if (part) parts.set(key, part);
  else parts.delete(key);
  const list = [...parts.values()];
  const infrastructure = list.find((p) => p.kind === 'infrastructure');
  return {
    loc: shape.loc,
    infrastructure: infrastructure?.kind === 'infrastructure' ? infrastructure.value : shape.infrastructure,
    domains: list.flatMap((p) => (p.kind === 'domain' ? [p.domain] : [])),
    rules: list.flatMap((p) => (p.kind === 'rule' ? [p.rule] : [])),
  };
}

/**
 * The policy's rules, trust domains and infrastructure setting. Whether a change lets more
 * through is computed over every flow the two systems' principals could form (policy-effect.ts),
 * never read off the kind of rule: an only() added can never widen, an allow() added under an
 * only() that forbids it does not either. A change is blamed for a widened flow when taking it
 * back on the new side forbids that flow again, or when it alone, made on the old side, lets it
 * through (two allow()s added for the same flow: neither is needed, both widen).
 */
function policyChanges(older: SystemModel, newer: SystemModel): Change[] {
  const changes = diffKeyed('policy', policyParts(older.policy), policyParts(newer.policy), partFields);
  if (!changes.length) return changes;
  const universe = policyUniverse(deriveFlows(older), deriveFlows(newer));
  const { widened } = policyEffect(older.policy, newer.policy, universe);
  if (!widened.length) return changes;
  for (const c of changes) {
    const undone = widenedBy(widened, withPartOf(newer.policy, older.policy, c.key), universe);
    const alone = new Set(policyEffect(older.policy, withPartOf(older.policy, newer.policy, c.key), universe).widened.map(tripleKey));
    const blamed = widened.filter((t) => undone.includes(t) || alone.has(tripleKey(t)));
    if (blamed.length) c.privilege.push({ flag: 'policy-widened', reason: `the policy lets more through: ${c.key} ${c.op} allows ${describeTriples(blamed)}` });
  }
  return changes;
}

/** The changes that widen privilege, in report order. */
export function privilegeChanges(diff: ModelDiff): Change[] {
  return diff.changes.filter((c) => c.privilege.length > 0);
}
