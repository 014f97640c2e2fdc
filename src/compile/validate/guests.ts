// Guests: what the VMM needs to boot Linux (the images are known and fit into guest RAM).
import { error, type Diagnostic } from '../diagnostics.js';
import type { SystemModel } from '../model.js';
import { humanSize } from '../../dsl/units.js';

export function checkGuests(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const g of system.guests) {
    if (g.kernel.size !== undefined && g.kernel.textOffset === undefined) {
      out.push(error('guest-kernel-not-image', `kernel of virtual machine '${g.vm}' is not an arm64 Linux Image (no 'ARM\\x64' magic in its header): ${g.kernel.path}`, g.loc, {
        hint: 'give the uncompressed Image (arch/arm64/boot/Image), not vmlinuz, an ELF vmlinux or a compressed file',
      }));
    }
    if (g.vcpus < 1) out.push(error('vm-missing-vcpu', `virtual machine '${g.vm}' has ${g.vcpus} vCPUs`, g.loc));
    if (g.ram.size < 0x200000n * 4n) {
      out.push(error('guest-ram-too-small', `guest RAM of '${g.vm}' is ${humanSize(g.ram.size)}; Linux needs at least 8 MiB`, g.loc));
    }
  }
  return out;
}
