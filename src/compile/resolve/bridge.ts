// A driver VM (virtualMachine({ bridge: true })): its network interfaces, the NICs QEMU attaches
// to its transports and its ends of network links, are named on its kernel command line by MAC
// (both assigned here: qemuAttachment in guests.ts, defaultMac in virtio.ts), and the /init's
// networkSetupScript() joins them in one Linux bridge.
import type { System } from '../../dsl/system.js';
import { error } from '../diagnostics/index.js';
import { GUEST_BRIDGE_PARAM } from '../initramfs/busybox-initramfs.js';
import type { Resolution } from './index.js';

/** After the links: appends GUEST_BRIDGE_PARAM=MAC,... to each bridging guest's bootargs. */
export function addBridges(r: Resolution, system: System): void {
  for (const vm of system.virtualMachines.filter((v) => v.bridge)) {
    const g = r.guests.find((x) => x.vm === vm.name);
    if (!g) continue;
    const macs = [
      ...g.passthrough.flatMap((p) => (p.qemu?.kind === 'nic' ? [p.qemu.mac] : [])),
      ...g.virtio.flatMap((d) => (d.net ? [d.net.mac] : [])),
    ];
    if (macs.length < 2) {
      r.diagnostics.push(error('vm-bridge-ports', `'${vm.name}' bridges its network interfaces, and it has ${macs.length === 0 ? 'none' : 'one'}; a bridge joins two or more`, vm.loc, {
        hint: "give it a network card (passthrough of a virtio-mmio transport with qemu: qemuNic()) and a netLink() to each VM it serves, or leave bridge out",
      }));
      continue;
    }
    g.bootargs = `${g.bootargs}${g.bootargs ? ' ' : ''}${GUEST_BRIDGE_PARAM}=${macs.join(',')}`;
  }
}
