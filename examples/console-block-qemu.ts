// A Linux guest whose only devices are virtio ones its VMM plays: a console (Linux `hvc0`) and a
// block device (`/dev/vda`) backed by a disk image named here. No UART is passed through or
// emulated for the VM: the VMM drives the board's uart0 itself, printing what the guest writes to
// hvc0 (each line prefixed `storage| `) and handing what is typed on uart0 to hvc0. The /init
// below mounts the disk, prints its `hello.txt`, and leaves a shell on hvc0 to type into.
//
// The disk is an ext2 file system image, made from a directory with e2fsprogs (Debian package
// e2fsprogs; no root needed):
//
//   mkdir -p build/disk && echo 'hello from the disk' > build/disk/hello.txt
//   mke2fs -q -t ext2 -d build/disk -F build/console-block-disk.img 4M
//   npx sel4cp-synth run examples/console-block-qemu.ts --expect 'SEL4CP-SYNTH: disk says hello from the disk'
//
// -c disk=PATH takes another image (a raw file, a multiple of 512 bytes; it is carried in the VMM's
// image, and what the guest writes lasts until the machine stops). -c kernel=PATH / -c initrd=PATH
// replace Debian's kernel and the declared initramfs; a cpio of your own must load virtio_mmio,
// virtio_console and virtio_blk (and ext4 with what it needs) itself, and open /dev/hvc0 for its
// output: the kernel finds no console for /init before virtio_console is loaded.
import { contextFile, initramfs, mib, optionalContextFile, system, virtioBlock, virtioConsole, virtualMachine } from 'sel4cp-synth';

const rootfs = optionalContextFile('initrd') ?? initramfs({
  busybox: contextFile('busybox', '../.cache/guest/busybox'),
  applets: ['sh', 'mount', 'mkdir', 'cat', 'ls', 'sleep', 'poweroff'],
  // ext4 (which also mounts ext2) brings crc16, mbcache and jbd2 from modules.dep; crc32c_generic
  // is ext4's soft dependency (modules.softdep), which insmod does not follow.
  modules: ['virtio_mmio', 'virtio_console', 'virtio_blk', 'crc32c_generic', 'ext4'],
  init: `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /mnt
# No console existed when the kernel started /init: take hvc0 for input and output.
n=0
while [ ! -e /dev/hvc0 ] && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
exec < /dev/hvc0 > /dev/hvc0 2>&1
echo "SEL4CP-SYNTH: console up"
if mount -t ext2 /dev/vda /mnt; then
  echo "SEL4CP-SYNTH: disk says $(cat /mnt/hello.txt)"
  ls -l /mnt
else
  echo "SEL4CP-SYNTH: could not mount /dev/vda"
fi
echo "a shell on hvc0 (the disk is at /mnt; poweroff -f ends the machine)"
exec sh
`,
});

const storage = virtualMachine('storage', {
  kernel: contextFile('kernel', '../.cache/guest/Image'),
  initrd: rootfs,
  ram: mib(256),
  bootargs: 'console=hvc0',
  virtio: [
    virtioConsole({ input: 'uart0' }),
    virtioBlock('data', { image: contextFile('disk', '../build/console-block-disk.img') }),
  ],
});

export default system({
  board: 'qemu_virt_aarch64',
  virtualMachines: [storage],
});
