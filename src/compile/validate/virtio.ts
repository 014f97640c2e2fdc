// virtio devices and network links: what the VMM can serve, and windows no mapping covers.
import { error, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type SystemModel } from '../model/index.js';
import { overlaps, range } from './common.js';
import { VMM_CONFIG_MAX_VIRTIO } from '../abi/vmm-config.js';

function checkGuestVirtio(system: SystemModel, out: Diagnostic[]): void {
  const pds = allProtectionDomains(system);
  for (const g of system.guests) {
    const devices = g.virtio ?? [];
    const seen = new Set<string>();
    for (const d of devices) {
      if (seen.has(d.name)) out.push(error('virtio-duplicate-name', `virtual machine '${g.vm}' has two virtio devices named '${d.name}'`, d.loc, { hint: 'give each virtioBlock() and netLink() of a VM its own name' }));
      seen.add(d.name);
      if (d.disk && d.disk.size === undefined) {
        out.push(error('virtio-disk-missing', `disk image of virtioBlock('${d.name}') in '${g.vm}' not found: ${d.disk.path}`, d.loc, { hint: 'create it (e.g. mkfs.ext2 on a file) or fix the path; a relative path is relative to the systems.ts' }));
      }
      const vm = pds.find((p) => p.name === g.vmm)?.virtualMachine;
      for (const m of vm?.maps ?? []) {
        const mr = system.memoryRegions.find((r) => r.name === m.mr);
        if (mr && overlaps(m.vaddr, mr.size, d.gpa, d.size)) {
          out.push(error('vm-map-over-virtio', `'${g.vm}' maps '${m.mr}' ${range(m.vaddr, mr.size)} over its virtio device '${d.name}' ${range(d.gpa, d.size)}`, m.loc, {
            hint: 'virtio windows follow guest RAM; map the region elsewhere in guest-physical space',
          }));
        }
      }
    }
    const db = g.doorbells;
    const vm = pds.find((p) => p.name === g.vmm)?.virtualMachine;
    for (const m of db ? vm?.maps ?? [] : []) {
      const mr = system.memoryRegions.find((r) => r.name === m.mr);
      if (mr && db && overlaps(m.vaddr, mr.size, db.gpa, db.size)) {
        out.push(error('vm-map-over-virtio', `'${g.vm}' maps '${m.mr}' ${range(m.vaddr, mr.size)} over its doorbells (an emulated PL061) ${range(db.gpa, db.size)}`, m.loc, {
          hint: 'the doorbells follow the virtio windows after guest RAM; map the region elsewhere in guest-physical space',
        }));
      }
    }
    if (devices.length > VMM_CONFIG_MAX_VIRTIO) {
      out.push(error('virtio-too-many', `virtual machine '${g.vm}' has ${devices.length} virtio devices (console, disks and links); its VMM serves at most ${VMM_CONFIG_MAX_VIRTIO}`, devices[VMM_CONFIG_MAX_VIRTIO]!.loc));
    }
  }
}

/** A UART the VMM reads for a virtio console is that VMM's alone. */
function checkConsoleInputs(system: SystemModel, out: Diagnostic[]): void {
  for (const g of system.guests) {
    for (const d of g.virtio ?? []) {
      if (!d.input) continue;
      const input = d.input;
      const other = system.guests.find((o) => o.passthrough.some((p) => p.device === input.device))
        ?? system.guests.find((o) => o !== g && (o.virtio ?? []).some((x) => x.input?.device === input.device));
      if (other) {
        out.push(error('virtio-console-input-taken', `virtioConsole() of '${g.vm}' reads UART '${input.device}', which '${other.vm}' ${other.passthrough.some((p) => p.device === input.device) ? 'has passed through' : 'reads too'}`, d.loc, {
          notes: [{ message: `'${other.vm}' is declared here`, location: other.loc }],
          hint: `give '${other.vm}' an emulated('${input.device}') or a virtioConsole() without input, or read another UART`,
        }));
      }
    }
  }
}

function checkLinkNames(system: SystemModel, out: Diagnostic[]): void {
  const seen = new Map<string, unknown>();
  for (const l of system.links ?? []) {
    if (seen.has(l.name)) out.push(error('net-link-duplicate-name', `two network links are named '${l.name}'`, l.loc, { hint: 'link names name their regions: give each netLink() its own' }));
    seen.set(l.name, l);
  }
}

export function checkVirtio(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  checkGuestVirtio(system, out);
  checkConsoleInputs(system, out);
  checkLinkNames(system, out);
  return out;
}
