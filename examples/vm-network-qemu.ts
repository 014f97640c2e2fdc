// Two Linux guests on one Ethernet link: each VM gets a virtio-net device (eth0), and frames
// cross between their VMMs through two shared rings (one per direction) and one channel —
// no device passed through, nothing else on the path. Each guest's address is in its bootargs
// (sel4cp_synth.ip=...), read by the /init below; the guest at 10.0.0.1 pings the other.
//
//   npx sel4cp-synth run examples/vm-network-qemu.ts --expect 'SEL4CP-SYNTH: ping ok'
//
// -c kernel=PATH / -c initrd=PATH replace Debian's kernel and the declared initramfs (a cpio of
// your own must load virtio_mmio and virtio_net itself).
import {
  contextFile, emulated, initramfs, mib, netLink, NETWORK_APPLETS, networkSetupScript, optionalContextFile,
  passthrough, system, virtualMachine,
} from 'sel4cp-synth';

const kernel = contextFile('kernel', '../.cache/guest/Image');
const rootfs = optionalContextFile('initrd') ?? initramfs({
  busybox: contextFile('busybox', '../.cache/guest/busybox'),
  applets: ['sh', 'mount', 'cat', 'ping', 'seq', 'poweroff', ...NETWORK_APPLETS],
  modules: ['virtio_mmio', 'virtio_net'],
  init: `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
${networkSetupScript()}
case " $(cat /proc/cmdline) " in
  *" sel4cp_synth.ip=10.0.0.1/24 "*)
    # The peer's driver may come up a little later: a few tries.
    for try in $(seq 1 30); do
      if ping -c 3 -W 2 10.0.0.2; then echo "SEL4CP-SYNTH: ping ok"; break; fi
    done ;;
esac
exec sh
`,
});

const left = virtualMachine('left', {
  kernel,
  initrd: rootfs,
  ram: mib(256),
  passthrough: [passthrough('uart0')],
  bootargs: 'console=ttyAMA0 sel4cp_synth.ip=10.0.0.1/24',
});

const right = virtualMachine('right', {
  kernel,
  initrd: rootfs,
  ram: mib(256),
  emulated: [emulated('uart0')],
  bootargs: 'console=ttyAMA0 sel4cp_synth.ip=10.0.0.2/24',
  vmm: { priority: 250 },
  priority: 90,
});

export default system({
  board: 'qemu_virt_aarch64',
  virtualMachines: [left, right],
  links: [netLink('lan', left, right)],
});
