// A Linux guest whose userspace is declared here too: sel4cp-synth packs the initramfs (busybox,
// its applets and /init) at synthesis time, so a reviewer sees what the guest runs.
//
//   npx sel4cp-synth run examples/initramfs-qemu.ts --expect 'hello from a systems.ts initramfs'
//
// The kernel and busybox are the ones `npm run guest` fetches from Debian.
import { contextFile, initramfs, mib, passthrough, system, virtualMachine } from 'sel4cp-synth';

const rootfs = initramfs({
  busybox: contextFile('busybox', '../.cache/guest/busybox'),
  applets: ['sh', 'mount', 'cat', 'grep', 'poweroff'],
  init: `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
echo "hello from a systems.ts initramfs: $(grep -c processor /proc/cpuinfo) CPU(s)"
poweroff -f
`,
});

const linux = virtualMachine('linux', {
  kernel: contextFile('kernel', '../.cache/guest/Image'),
  initrd: rootfs,
  ram: mib(128),
  passthrough: [passthrough('uart0')],
});

export default system({
  board: 'qemu_virt_aarch64',
  virtualMachines: [linux],
});
