// Names and counts: what the Microkit tool checks across the whole system, plus duplicate VM
// names (its comparison is of whole VMs, so two VMs with one name but other differences pass).
import { error, warning, type Diagnostic, type RuleId } from '../diagnostics/index.js';
import { allProtectionDomains, type Loc, type SystemModel } from '../model/index.js';
import { LIMITS } from './common.js';

function duplicates<T extends { name: string; loc: Loc }>(items: T[], id: RuleId, what: string, hint: string): Diagnostic[] {
  const seen = new Map<string, T>();
  const out: Diagnostic[] = [];
  for (const item of items) {
    const prev = seen.get(item.name);
    if (prev) {
      out.push(error(id, `duplicate ${what} name '${item.name}'`, item.loc, {
        notes: [{ message: `'${item.name}' is first declared here`, location: prev.loc }],
        hint,
      }));
    } else {
      seen.set(item.name, item);
    }
  }
  return out;
}

export function checkNames(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const pds = allProtectionDomains(system);
  const vms = pds.flatMap((pd) => (pd.virtualMachine ? [pd.virtualMachine] : []));

  if (pds.length === 0) {
    out.push(error('no-protection-domains', 'the system has no protection domains', system.loc, {
      hint: 'a Microkit system needs at least one protection domain',
    }));
  }
  if (pds.length > LIMITS.maxPds) {
    out.push(error('too-many-pds', `too many protection domains: ${pds.length}, Microkit allows ${LIMITS.maxPds}`, pds[LIMITS.maxPds]?.loc));
  }
  if (vms.length > LIMITS.maxVms) {
    out.push(error('too-many-vms', `too many virtual machines: ${vms.length}, Microkit allows ${LIMITS.maxVms}`, vms[LIMITS.maxVms]?.loc));
  }
  out.push(...duplicates(pds, 'duplicate-pd-name', 'protection domain', 'protection domain names must be unique'));
  out.push(...duplicates(system.memoryRegions, 'duplicate-mr-name', 'memory region', 'memory region names must be unique; two regions with one name are two different regions to sel4cp-synth'));
  out.push(...duplicates(vms, 'duplicate-vm-name', 'virtual machine', 'virtual machine names must be unique (the Microkit tool only notices when the whole VMs are identical)'));

  for (const item of [...pds, ...vms, ...system.memoryRegions]) {
    if (item.name === '') {
      out.push(error('empty-name', 'a name must not be empty', item.loc));
    }
  }
  out.push(...fileNames(system, pds));
  for (const item of [...pds, ...vms, ...system.memoryRegions]) {
    // XML 1.0 Char: no control characters but tab, LF and CR (and those make poor names too).
    if (/[\u0000-\u001f\u007f]/.test(item.name)) {
      out.push(error('name-invalid-characters', `name ${JSON.stringify(item.name)} contains control characters`, item.loc, {
        hint: 'use letters, digits, _ - and .',
      }));
    }
  }
  for (const item of [...pds, ...vms]) {
    if (item.name.length > LIMITS.maxNameLength) {
      out.push(warning('name-too-long', `name '${item.name}' is ${item.name.length} characters; the Microkit monitor keeps only the first ${LIMITS.maxNameLength} in its fault reports`, item.loc));
    }
  }
  return out;
}

/** A name that becomes a file in --out (<system>.system, <vm>.dtb, vmm-<vm>.elf, <timer>.elf). */
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Names sel4cp-synth turns into file names: the system's, each guest's, the timer PD's. */
function fileNames(system: SystemModel, pds: ReturnType<typeof allProtectionDomains>): Diagnostic[] {
  if (system.source !== 'typescript') return [];
  const named: { what: string; name: string; file: string; loc: Loc }[] = [
    { what: 'system', name: system.name, file: `${system.name}.system`, loc: system.loc },
    ...system.guests.map((g) => ({ what: 'virtual machine', name: g.vm, file: `vmm-${g.vm}.elf`, loc: g.loc })),
    ...pds.filter((p) => p.vmmTimer).map((p) => ({ what: 'timer PD', name: p.name, file: p.programImage, loc: p.loc })),
  ];
  const out: Diagnostic[] = [];
  for (const n of named) {
    if (n.name === '') continue; // empty-name says it
    if (!FILE_NAME.test(n.name) || n.name.length > LIMITS.maxNameLength) {
      const shown = n.name.length > 40 ? `${n.name.slice(0, 37)}...` : n.name;
      out.push(error('name-not-a-file-name', `${n.what} name ${JSON.stringify(shown)} becomes the file name '${n.file.length > 60 ? `${n.file.slice(0, 57)}...` : n.file}', so it must be at most ${LIMITS.maxNameLength} letters, digits, '_', '-' or '.', not starting with '.' or '-'`, n.loc));
    }
  }
  return out;
}
