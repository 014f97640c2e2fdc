// A driver VM (virtualMachine({ bridge: true })): its network interfaces, the NICs QEMU attaches
// to its transports and its ends of network links, are named on its kernel command line by MAC
// (both assigned here: qemuAttachment in guests.ts, defaultMac in virtio.ts), and the /init's
// networkSetupScript() joins them in one Linux bridge.
import type { System } from '../../dsl/system.js';
import type { VirtualMachine } from '../../dsl/vm.js';
import { error, warning } from '../diagnostics/index.js';
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
    checkBridgeInitramfs(r, vm);
  }
}

/** A declared initramfs that cannot build the bridge (no `bridge` module, no `brctl`): the guest would boot without forwarding. */
function checkBridgeInitramfs(r: Resolution, vm: VirtualMachine): void {
  const ir = vm.initrd?.kind === 'initramfs' ? vm.initrd : undefined;
  if (!ir) return;
  const lacks = [
    ...(ir.modules.some((m) => m.replace(/-/g, '_') === 'bridge') ? [] : ["the module 'bridge' (modules)"]),
    ...(ir.applets.includes('brctl') ? [] : ["busybox's 'brctl' (applets; NETWORK_APPLETS has it)"]),
  ];
  if (lacks.length === 0) return;
  r.diagnostics.push(warning('vm-bridge-initramfs', `'${vm.name}' bridges its network interfaces, but its initramfs lacks ${lacks.join(' and ')}: networkSetupScript() cannot build the bridge`, ir.loc ?? vm.loc, {
    hint: "add 'bridge' to its initramfs modules and ...NETWORK_APPLETS to its applets",
  }));
}
