// Guests: what the VMM needs to boot Linux (the images are known and fit into guest RAM).
import { error, type Diagnostic } from '../diagnostics.js';
import type { SystemModel } from '../model.js';
import { humanSize } from '../../dsl/units.js';

export function checkGuests(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const g of system.guests) {
    if (g.kernel.problem !== undefined) {
      out.push(error('guest-kernel-not-image', `kernel of virtual machine '${g.vm}' (${g.kernel.path}): ${g.kernel.problem}`, g.loc, {
        hint: 'give an arm64 Linux Image (arch/arm64/boot/Image), or a vmlinuz that is gzip or EFI zboot around one',
      }));
    }
    if (g.vcpus < 1) out.push(error('vm-missing-vcpu', `virtual machine '${g.vm}' has ${g.vcpus} vCPUs`, g.loc));
    if (g.ram.size < 0x200000n * 4n) {
      out.push(error('guest-ram-too-small', `guest RAM of '${g.vm}' is ${humanSize(g.ram.size)}; Linux needs at least 8 MiB`, g.loc));
    }
  }
  return out;
}
