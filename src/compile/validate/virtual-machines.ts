// Virtual machines: vCPUs, scheduling, and what a guest on this board needs from its mappings:
// the GIC virtual CPU interface where it expects its CPU interface (GICv2), and nothing mapped
// over the GIC registers the VMM must emulate (a guest access there has to fault to the VMM).
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type SystemModel, type VirtualMachineModel } from '../model/index.js';
import { hex } from '../../format.js';
import { checkScheduling } from './protection-domains.js';
import { LIMITS, overlaps, range } from './common.js';

export function checkVirtualMachines(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const regions = new Map(system.memoryRegions.map((m) => [m.name, m] as const));
  for (const pd of allProtectionDomains(system)) {
    const vm = pd.virtualMachine;
    if (!vm) continue;
    checkScheduling(out, 'virtual machine', vm.name, vm);
    if (vm.vcpus.length === 0) {
      out.push(error('vm-missing-vcpu', `virtual machine '${vm.name}' has no vCPU`, vm.loc, { hint: 'give it at least one vcpu' }));
    }
    const seen = new Set<number>();
    for (const v of vm.vcpus) {
      if (!Number.isInteger(v.id) || v.id < 0 || v.id > LIMITS.maxVcpuId) {
        out.push(error('vm-vcpu-id-out-of-range', `vCPU id ${v.id} of virtual machine '${vm.name}' must be between 0 and ${LIMITS.maxVcpuId}`, v.loc));
      }
      if (seen.has(v.id)) out.push(error('vm-duplicate-vcpu-id', `virtual machine '${vm.name}' has vCPU id ${v.id} twice`, v.loc));
      seen.add(v.id);
    }
    if (vm.priority >= pd.priority && Number.isInteger(vm.priority) && vm.priority <= LIMITS.maxPriority) {
      out.push(warning('vm-priority-not-below-vmm', `virtual machine '${vm.name}' (priority ${vm.priority}) does not run below its VMM '${pd.name}' (priority ${pd.priority})`, vm.loc, {
        hint: 'a busy guest can then delay its own VMM\'s fault handling; give the VMM the higher priority',
      }));
    }
    out.push(...checkGuestGic(system, vm, regions));
  }
  return out;
}

function checkGuestGic(system: SystemModel, vm: VirtualMachineModel, regions: Map<string, SystemModel['memoryRegions'][number]>): Diagnostic[] {
  const board = system.board;
  if (!board) return [];
  const out: Diagnostic[] = [];
  const gic = board.gic;
  const mapped = vm.maps.map((m) => ({ m, mr: regions.get(m.mr) })).filter((x) => x.mr !== undefined);

  if (gic.version === 2 && gic.virtualCpuInterface && board.guest.gicCpuInterface !== undefined) {
    const gicv = gic.virtualCpuInterface.paddr;
    const want = board.guest.gicCpuInterface;
    const vcpuMap = mapped.find((x) => x.mr!.physAddr === gicv);
    if (!vcpuMap) {
      out.push(error('vm-gic-vcpu-unmapped', `virtual machine '${vm.name}' does not map the GIC virtual CPU interface (${hex(gicv)} on '${board.name}')`, vm.loc, {
        hint: `map a region with phys_addr ${hex(gicv)} at ${hex(want)}, where the guest expects its GIC CPU interface; virtualMachine() does this for you`,
      }));
    } else if (vcpuMap.m.vaddr !== want) {
      out.push(error('vm-gic-vcpu-misplaced', `virtual machine '${vm.name}' maps the GIC virtual CPU interface at ${hex(vcpuMap.m.vaddr)}, but the guest expects its CPU interface at ${hex(want)}`, vcpuMap.m.loc));
    }
    if (gic.cpuInterface) {
      const physical = mapped.find((x) => x.mr!.physAddr !== undefined && overlaps(x.mr!.physAddr, x.mr!.size, gic.cpuInterface!.paddr, gic.cpuInterface!.size));
      if (physical) {
        out.push(error('vm-maps-physical-gic', `virtual machine '${vm.name}' maps the physical GIC CPU interface (region '${physical.m.mr}')`, physical.m.loc, {
          hint: `a guest gets the virtual CPU interface (${hex(gicv)}), never the physical one`,
        }));
      }
    }
  }
  // The distributor (and GICv3 redistributors) are emulated: guest accesses must fault to the VMM.
  const emulated: [string, bigint, bigint][] = [['GIC distributor', board.guest.gicDistributor, gic.distributor.size]];
  if (gic.version === 3 && board.guest.gicRedistributor !== undefined && gic.redistributor) {
    emulated.push(['GIC redistributors', board.guest.gicRedistributor, gic.redistributor.size]);
  }
  for (const [what, base, size] of emulated) {
    for (const { m, mr } of mapped) {
      if (overlaps(m.vaddr, mr!.size, base, size)) {
        out.push(error('vm-map-over-emulated-gic', `virtual machine '${vm.name}' maps '${m.mr}' ${range(m.vaddr, mr!.size)} over the ${what} ${range(base, size)}, which the VMM emulates`, m.loc, {
          hint: 'leave that guest-physical range unmapped so that guest accesses reach the VMM',
        }));
      }
    }
  }
  return out;
}
