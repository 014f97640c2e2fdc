// Guests: what the VMM needs to boot Linux (the images are known and fit into guest RAM).
import { error, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type SystemModel } from '../model/index.js';
import { overlaps, range } from './common.js';
import { humanSize } from '../../format.js';
import { VMM_CONFIG_MAX_DEVICES, VMM_CONFIG_MAX_IRQS, VMM_CONFIG_MAX_VCPUS, VMM_CONFIG_NAME_SIZE } from '../abi/vmm-config.js';

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
    // (No vCPU at all is vm-missing-vcpu, reported once with the VM's own checks.)
    out.push(...runtimeLimits(g));
    if (g.ram.size < 0x200000n * 4n) {
      out.push(error('guest-ram-too-small', `guest RAM of '${g.vm}' is ${humanSize(g.ram.size)}; Linux needs at least 8 MiB`, g.loc));
    }
  }
  return out;
}

/** What one VMM can serve (its config blob's tables: src/vmm-runtime/include/vmm_config.h). */
function runtimeLimits(g: SystemModel['guests'][number]): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (g.vcpus > VMM_CONFIG_MAX_VCPUS) {
    out.push(error('vm-too-many-vcpus', `virtual machine '${g.vm}' has ${g.vcpus} vCPUs; the VMM runs at most ${VMM_CONFIG_MAX_VCPUS}`, g.loc));
  }
  const irqs = g.passthrough.reduce((n, p) => n + p.irqs.length, 0);
  if (irqs > VMM_CONFIG_MAX_IRQS) {
    out.push(error('vm-too-many-irqs', `virtual machine '${g.vm}' has ${irqs} passed-through interrupts; the VMM routes at most ${VMM_CONFIG_MAX_IRQS}`, g.loc, {
      hint: 'pass fewer devices through, or pass some with passthrough(name, { irqs: false })',
    }));
  }
  if (g.emulated.length > VMM_CONFIG_MAX_DEVICES) {
    out.push(error('vm-too-many-emulated', `virtual machine '${g.vm}' has ${g.emulated.length} emulated devices; the VMM plays at most ${VMM_CONFIG_MAX_DEVICES}`, g.emulated[VMM_CONFIG_MAX_DEVICES]!.loc));
  }
  const bytes = new TextEncoder().encode(g.vm).length;
  if (bytes >= VMM_CONFIG_NAME_SIZE) {
    out.push(error('vm-name-too-long', `virtual machine name '${g.vm.length > 40 ? `${g.vm.slice(0, 37)}...` : g.vm}' is ${bytes} bytes; its VMM prints it in every line and keeps at most ${VMM_CONFIG_NAME_SIZE - 1}`, g.loc));
  }
  return out;
}
