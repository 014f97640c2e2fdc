// The elements and PD attributes later releases added to the system description format (which
// release has which: ../releases.ts), as the tool reads them (tool/microkit/src/sdf.rs at 2.3.0):
// PD cpu, fpu and domain, a child's setvar_id, <cspace> with cap_tcb, cap_sc and cap_vspace, and
// <domains> with the domain schedule. The x86 elements (ioport, io_address_space) are rejected:
// every board here is AArch64.
import type { CapMapModel, DomainsModel, ProtectionDomainModel, SystemModel } from '../model/index.js';
import type { Reader } from './system-xml.js';
import type { XmlElement } from './xml-tree.js';

/** The PD attributes the file's release added: the core, the FPU, the scheduling domain, and a child's setvar_id. */
export function readAddedPdAttributes(r: Reader, el: XmlElement, pd: ProtectionDomainModel): void {
  if (r.has('cpu')) {
    const cpu = r.number(el, 'cpu', el.attrs.get('cpu'));
    if (cpu !== undefined) pd.cpu = Number(cpu);
  }
  if (r.has('fpu') && el.attrs.has('fpu')) pd.fpu = r.bool(el, 'fpu', true);
  if (r.has('domains') && el.attrs.has('domain')) pd.domain = el.attrs.get('domain');
  if (r.has('setvar-id') && el.attrs.has('setvar_id')) pd.setvarId = el.attrs.get('setvar_id');
}

const CAP_TYPES: Record<string, CapMapModel['type']> = { cap_tcb: 'tcb', cap_sc: 'sc', cap_vspace: 'vspace' };

/** A PD child element the file's release added; false when `c` is none of them (the caller reports it). */
export function readAddedPdChild(r: Reader, c: XmlElement, pd: ProtectionDomainModel): boolean {
  if (r.has('x86') && c.name === 'ioport') {
    r.fail('x86-only', "<ioport> is an x86 I/O port; every board here is AArch64", c, 'map the device\'s registers with a memory_region and <map> instead');
    return true;
  }
  if (!(r.has('cspace') && c.name === 'cspace')) return false;
  if (pd.capMaps) r.fail('pd-duplicate-cspace', `protection domain '${pd.name}' has more than one cspace`, c);
  r.attributes(c, []);
  r.noText(c);
  const maps: CapMapModel[] = pd.capMaps ?? [];
  for (const m of c.children) {
    const type = CAP_TYPES[m.name];
    if (!type) {
      r.fail('xml-invalid-element', m.name.startsWith('cap_')
        ? `cap type '${m.name.slice(4)}' is not supported in a cspace`
        : `invalid element '${m.name}' in 'cspace'`, m, "'cspace' may contain: cap_tcb, cap_sc, cap_vspace");
      continue;
    }
    r.attributes(m, ['slot', 'pd']);
    const slot = r.number(m, 'slot', r.required(m, 'slot'));
    const target = r.required(m, 'pd');
    if (slot !== undefined && target !== undefined) maps.push({ type, pd: target, slot: Number(slot), loc: r.loc(m) });
  }
  pd.capMaps = maps;
  return true;
}

/** A <system> child the file's release added; false when `c` is none of them. */
export function readAddedSystemChild(r: Reader, c: XmlElement, model: SystemModel): boolean {
  if (r.has('x86') && c.name === 'io_address_space') {
    r.fail('x86-only', '<io_address_space> is an x86 IOMMU (VT-d) address space; every board here is AArch64', c);
    return true;
  }
  if (!(r.has('domains') && c.name === 'domains')) return false;
  if (model.domains) {
    r.fail('domains-twice', 'domains must only be specified once', c);
    return true;
  }
  model.domains = readDomains(r, c);
  return true;
}

function readDomains(r: Reader, el: XmlElement): DomainsModel {
  r.attributes(el, []);
  r.noText(el);
  const out: DomainsModel = { domains: [], schedule: undefined, loc: r.loc(el) };
  for (const c of el.children) {
    if (c.name === 'domain') {
      r.attributes(c, ['name', 'id']);
      const name = r.required(c, 'name');
      const id = r.number(c, 'id', c.attrs.get('id'));
      if (name !== undefined) out.domains.push({ name, id: id === undefined ? undefined : Number(id), loc: r.loc(c) });
    } else if (c.name === 'domain_schedule') {
      if (out.schedule) r.fail('domain-schedule-twice', 'the <domain_schedule> element can only appear once', c);
      else out.schedule = readSchedule(r, c);
    } else {
      r.unknown(c, 'domains', 'domain, domain_schedule');
    }
  }
  if (!out.schedule) r.fail('domain-schedule-missing', 'the <domain_schedule> element must appear once in <domains>', el);
  return out;
}

function readSchedule(r: Reader, el: XmlElement): NonNullable<DomainsModel['schedule']> {
  r.attributes(el, ['index_shift', 'start_index']);
  const schedule: NonNullable<DomainsModel['schedule']> = {
    entries: [],
    startIndex: r.number(el, 'start_index', el.attrs.get('start_index')),
    indexShift: r.number(el, 'index_shift', el.attrs.get('index_shift')),
    loc: r.loc(el),
  };
  for (const c of el.children) {
    if (c.name === 'schedule_end_marker') {
      r.attributes(c, []);
      schedule.entries.push({ kind: 'end-marker', loc: r.loc(c) });
    } else if (c.name === 'schedule_entry') {
      r.attributes(c, ['domain', 'duration']);
      const domain = r.required(c, 'domain');
      const duration = r.required(c, 'duration');
      const parsed = duration !== undefined ? readDuration(r, c, duration) : undefined;
      if (domain !== undefined && parsed) schedule.entries.push({ kind: 'entry', domain, ...parsed, loc: r.loc(c) });
    } else {
      r.unknown(c, 'domain_schedule', 'schedule_entry, schedule_end_marker');
    }
  }
  return schedule;
}

/** "1000 us" or "5 ticks" (sdf.rs schedule_entry_from_xml): a non-zero number, one space, a unit. */
function readDuration(r: Reader, el: XmlElement, text: string): { duration: bigint; unit: 'us' | 'ticks' } | undefined {
  const at = text.indexOf(' ');
  if (at < 0) {
    r.fail('domain-duration-invalid', `the duration '${text}' must contain a value and a unit, e.g. '1000 us'`, el);
    return undefined;
  }
  const value = r.number(el, 'duration', text.slice(0, at));
  const unit = text.slice(at + 1);
  if (value === undefined) return undefined;
  if (value === 0n) {
    r.fail('domain-duration-invalid', `the duration '${text}' must be non-zero`, el);
    return undefined;
  }
  if (unit !== 'us' && unit !== 'ticks') {
    r.fail('domain-duration-invalid', `the duration '${text}' must be in either 'ticks' or 'us'`, el);
    return undefined;
  }
  return { duration: value, unit };
}
