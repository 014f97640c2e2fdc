// Guests: what the VMM needs to boot Linux (the images are known and fit into guest RAM).
import { error, type Diagnostic } from '../diagnostics.js';
import { allProtectionDomains, type SystemModel } from '../model.js';
import { overlaps, range } from './common.js';
import { humanSize } from '../../dsl/units.js';

export function checkGuests(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const g of system.guests) {
    if (g.kernel.problem !== undefined) {
      out.push(error('guest-kernel-not-image', `kernel of virtual machine '${g.vm}' (${g.kernel.path}): ${g.kernel.problem}`, g.loc, {
        hint: 'give an arm64 Linux Image (arch/arm64/boot/Image), or a vmlinuz that is gzip or EFI zboot around one',
      }));
    }
    const vm = allProtectionDomains(system).find((pd) => pd.name === g.vmm)?.virtualMachine;
    for (const e of g.emulated) {
      if (g.passthrough.some((p) => p.device === e.device)) {
        out.push(error('emulated-and-passed-through', `device '${e.device}' is both passed through to and emulated for '${g.vm}'`, e.loc, {
          hint: 'a VM gets either the real device or the VMM\'s emulation of it',
        }));
        continue;
      }
      for (const m of vm?.maps ?? []) {
        const mr = system.memoryRegions.find((r) => r.name === m.mr);
        if (mr && overlaps(m.vaddr, mr.size, e.gpa, e.size)) {
          out.push(error('vm-map-over-emulated-device', `'${g.vm}' maps '${m.mr}' ${range(m.vaddr, mr.size)} over the emulated device '${e.device}' ${range(e.gpa, e.size)}`, e.loc, {
            hint: 'the guest-physical window of an emulated device must stay unmapped so that accesses reach the VMM',
          }));
        }
      }
    }
    if (g.vcpus < 1) out.push(error('vm-missing-vcpu', `virtual machine '${g.vm}' has ${g.vcpus} vCPUs`, g.loc));
    if (g.ram.size < 0x200000n * 4n) {
      out.push(error('guest-ram-too-small', `guest RAM of '${g.vm}' is ${humanSize(g.ram.size)}; Linux needs at least 8 MiB`, g.loc));
    }
  }
  return out;
}
