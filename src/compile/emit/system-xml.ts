// Emit the Microkit system description (.system XML) of the model's release: the first release's
// format, and what a later one added (cpu, fpu, domain, setvar_id, prefill, cspace, domains) where
// the model uses it. Validation has refused what the release lacks; an element or attribute the
// release does not have (../releases.ts) is our bug and throws. Deterministic: elements in model
// order, attributes in a fixed order, addresses in hex, defaults left out, and a comment on each
// element sel4cp-synth generated, naming the construct in the user's file it came from.
import path from 'node:path';
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { hex } from '../../format.js';
import type { Loc, MapModel, MemoryRegionModel, ProtectionDomainModel, SystemModel } from '../model/index.js';
import { DEFAULT_BUDGET } from '../model/facts.js';
import { laterAttribute, laterElement, releaseFacts, type MicrokitRelease } from '../releases.js';

export interface EmitOptions {
  /** Tool version for the header comment. */
  toolVersion: string;
}

function comment(text: string): string {
  // XML comments may not contain "--".
  return ` ${text.replace(/-{2,}/g, (m) => m.split('').join(' '))} `;
}

function where(system: SystemModel, loc: Loc): string {
  if (!loc) return '';
  const rel = path.relative(path.dirname(system.file), loc.file) || path.basename(loc.file);
  return ` (${rel.split(path.sep).join('/')}:${loc.line})`;
}

function regionComment(system: SystemModel, mr: MemoryRegionModel): string | undefined {
  switch (mr.role.kind) {
    case 'guest-ram': {
      const { vm, image, pristine } = mr.role;
      if (pristine) return `pristine copy of the ${image} of virtual machine '${vm}', read-only in its VMM, to place it again on a restart${where(system, mr.loc)}`;
      return `guest RAM of virtual machine '${vm}'${image ? `, prefilled with its ${image} where it boots from` : ''}${where(system, mr.loc)}`;
    }
    case 'gic-vcpu': return `GIC virtual CPU interface, mapped into each virtual machine where the guest expects its CPU interface${where(system, mr.loc)}`;
    case 'device': {
      const how = !mr.role.vm ? '' : mr.role.virtioConsoleInput
        ? ` driven by the VMM of '${mr.role.vm}': the input of its virtio console` : ` passed through to '${mr.role.vm}'`;
      return `device '${mr.role.device}'${how}${where(system, mr.loc)}`;
    }
    case 'wake-slot': return `wake slot of virtual machine '${mr.role.vm}': its VMM writes when an idle vCPU must run again, the timer PD reads it${where(system, mr.loc)}`;
    case 'net-link': return `network link '${mr.role.link}' from '${mr.role.from}' to '${mr.role.to}': frames and free buffers (docs/net-link.md)${where(system, mr.loc)}`;
    case 'vm-control': return `control page of virtual machine '${mr.role.vm}': '${mr.role.by}' may stop, start and restart it (vmm_control.h)${where(system, mr.loc)}`;
    case 'virtio-disk': return `disk of virtio block device '${mr.role.device}' of virtual machine '${mr.role.vm}', filled by its VMM at boot${where(system, mr.loc)}`;
    default: return undefined;
  }
}

/** `parent.ele(name, attrs)` in `parentName`, after asking the table that `release` has the element and each attribute. */
function ele(release: MicrokitRelease, parent: XMLBuilder, parentName: string, name: string, attrs: Record<string, string> = {}): XMLBuilder {
  const later = laterElement(release, parentName, name) ?? Object.keys(attrs).map((a) => laterAttribute(release, name, a)).find((r) => r !== undefined);
  if (later !== undefined) throw new Error(`internal error: <${name}> as written needs Microkit ${later}, but the model is for ${release} and was not refused`);
  return parent.ele(name, attrs);
}

function emitMap(release: MicrokitRelease, parent: XMLBuilder, parentName: string, m: MapModel): void {
  const attrs: Record<string, string> = { mr: m.mr, vaddr: hex(m.vaddr), perms: m.perms };
  if (!m.cached) attrs['cached'] = 'false';
  if (m.setvarVaddr !== undefined) attrs['setvar_vaddr'] = m.setvarVaddr;
  if (m.setvarSize !== undefined) attrs['setvar_size'] = m.setvarSize;
  if (m.setvarPrefillSize !== undefined) attrs['setvar_prefill_size'] = m.setvarPrefillSize;
  ele(release, parent, parentName, 'map', attrs);
}

function scheduling(attrs: Record<string, string>, s: { priority: number; budget: number; period: number }): void {
  attrs['priority'] = String(s.priority);
  if (s.budget !== DEFAULT_BUDGET || s.period !== s.budget) {
    attrs['budget'] = String(s.budget);
    attrs['period'] = String(s.period);
  }
}

function timerSourceText(system: SystemModel): string {
  const t = system.vmmTimer;
  if (!t) return 'source unknown';
  return t.source === 'sched-tick' ? `scheduling tick every ${t.tickUs ?? '?'} us` : 'EL1 physical timer';
}

function emitPd(system: SystemModel, parent: XMLBuilder, parentName: string, pd: ProtectionDomainModel): void {
  const release = system.microkit;
  if (pd.vmmOf !== undefined) parent.com(comment(`VMM of virtual machine '${pd.vmmOf}', generated by sel4cp-synth${where(system, pd.loc)}`));
  if (pd.vmmTimer) parent.com(comment(`timer that wakes idle vCPUs (${timerSourceText(system)}), generated by sel4cp-synth${where(system, pd.loc)}`));
  const attrs: Record<string, string> = { name: pd.name };
  if (pd.childId !== undefined) attrs['id'] = String(pd.childId);
  if (pd.setvarId !== undefined) attrs['setvar_id'] = pd.setvarId;
  scheduling(attrs, pd);
  if (pd.passive) attrs['passive'] = 'true';
  if (pd.stackSize !== releaseFacts(release).defaultStack) attrs['stack_size'] = hex(pd.stackSize);
  if (pd.smc) attrs['smc'] = 'true';
  if (pd.cpu !== undefined) attrs['cpu'] = String(pd.cpu);
  if (pd.fpu === false) attrs['fpu'] = 'false';
  if (pd.domain !== undefined) attrs['domain'] = pd.domain;
  const el = ele(release, parent, parentName, 'protection_domain', attrs);
  ele(release, el, 'protection_domain', 'program_image', { path: pd.programImage, ...(pd.programForSymbols !== undefined ? { path_for_symbols: pd.programForSymbols } : {}) });
  pd.maps.forEach((m) => emitMap(release, el, 'protection_domain', m));
  for (const q of pd.irqs) {
    const qa: Record<string, string> = { irq: String(q.irq), id: String(q.id) };
    if (q.trigger !== 'level') qa['trigger'] = q.trigger;
    if (q.setvarId !== undefined) qa['setvar_id'] = q.setvarId;
    if (q.device !== undefined) el.com(comment(`interrupt of device '${q.device}'`));
    ele(release, el, 'protection_domain', 'irq', qa);
  }
  for (const sv of pd.setvars) el.ele('setvar', { symbol: sv.symbol, region_paddr: sv.regionPaddr });
  if (pd.capMaps) {
    const cs = ele(release, el, 'protection_domain', 'cspace');
    for (const c of pd.capMaps) cs.ele(`cap_${c.type}`, { slot: String(c.slot), pd: c.pd });
  }
  for (const child of pd.children) emitPd(system, el, 'protection_domain', child);
  const vm = pd.virtualMachine;
  if (vm) {
    const va: Record<string, string> = { name: vm.name };
    scheduling(va, vm);
    const vel = el.ele('virtual_machine', va);
    for (const v of vm.vcpus) {
      ele(release, vel, 'virtual_machine', 'vcpu', { id: String(v.id), ...(v.setvarId !== undefined ? { setvar_id: v.setvarId } : {}), ...(v.cpu !== undefined ? { cpu: String(v.cpu) } : {}) });
    }
    vm.maps.forEach((m) => emitMap(release, vel, 'virtual_machine', m));
    const guest = system.guests.find((g) => g.vm === vm.name);
    for (const e of guest?.emulated ?? []) {
      vel.com(comment(`device '${e.device}' is emulated by the VMM: [${hex(e.gpa)}..${hex(e.gpa + e.size)}) stays unmapped so that guest accesses reach it`));
    }
    const db = guest?.doorbells;
    if (db) {
      const lines = db.lines.map((l) => `channel ${l.end.id} to '${l.peer}' = line${l.ring !== undefined ? `s ${l.ring} (ring) and` : ''} ${l.notify} (notify)`).join(', ');
      vel.com(comment(`doorbells (docs/doorbell.md): a PL061 the VMM emulates at [${hex(db.gpa)}..${hex(db.gpa + db.size)}), SPI ${db.intid}; ${lines}`));
    }
  }
}

/** <domains>: before the PDs that name them (the tool reads a PD's domain against those already declared). */
function emitDomains(release: MicrokitRelease, root: XMLBuilder, d: NonNullable<SystemModel['domains']>): void {
  const el = ele(release, root, 'system', 'domains');
  for (const dom of d.domains) el.ele('domain', { name: dom.name, ...(dom.id !== undefined ? { id: String(dom.id) } : {}) });
  const s = d.schedule;
  if (!s) return;
  const sa: Record<string, string> = {};
  if (s.startIndex !== undefined) sa['start_index'] = String(s.startIndex);
  if (s.indexShift !== undefined) sa['index_shift'] = String(s.indexShift);
  const sel = el.ele('domain_schedule', sa);
  for (const e of s.entries) {
    if (e.kind === 'end-marker') sel.ele('schedule_end_marker');
    else sel.ele('schedule_entry', { domain: e.domain, duration: `${e.duration} ${e.unit}` });
  }
}

export function emitSystemXml(system: SystemModel, options: EmitOptions): string {
  const doc = create({ version: '1.0', encoding: 'UTF-8' });
  const boardText = system.board ? ` for board ${system.board.microkitBoard}` : '';
  doc.com(comment(`Generated by sel4cp-synth ${options.toolVersion} from ${path.basename(system.file)}${boardText}. Do not edit: change the TypeScript and synthesise again.`));
  const root = doc.ele('system');
  for (const mr of system.memoryRegions) {
    const note = regionComment(system, mr);
    if (note) root.com(comment(note));
    const attrs: Record<string, string> = { name: mr.name };
    if (!mr.sizeFromPrefill) attrs['size'] = hex(mr.size);
    if (mr.pageSize !== undefined) attrs['page_size'] = hex(mr.pageSize);
    if (mr.physAddr !== undefined) attrs['phys_addr'] = hex(mr.physAddr);
    if (mr.prefill) attrs['prefill_path'] = mr.prefill.path;
    if (mr.prefillBootinfo !== undefined) attrs['prefill_bootinfo'] = mr.prefillBootinfo;
    ele(system.microkit, root, 'system', 'memory_region', attrs);
  }
  if (system.domains) emitDomains(system.microkit, root, system.domains);
  for (const pd of system.protectionDomains) emitPd(system, root, 'system', pd);
  for (const ch of system.channels) {
    const el = root.ele('channel');
    for (const e of [ch.a, ch.b]) {
      const attrs: Record<string, string> = { pd: e.pd, id: String(e.id) };
      if (e.pp) attrs['pp'] = 'true';
      if (!e.notify) attrs['notify'] = 'false';
      if (e.setvarId !== undefined) attrs['setvar_id'] = e.setvarId;
      ele(system.microkit, el, 'channel', 'end', attrs);
    }
  }
  return doc.end({ prettyPrint: true, indent: '    ' }) + '\n';
}
