// A Linux guest on QEMU's virt machine, with the PL011 UART passed through.
//
//   npx sel4cp-synth examples/linux-qemu.ts
//   npx sel4cp-synth examples/linux-qemu.ts -c kernel=path/to/Image -c initrd=path/to/initrd
//   npx sel4cp-synth run examples/linux-qemu.ts --expect 'SEL4CP-SYNTH: guest up'
//
// The default images are the ones `npm run guest` builds from Debian's packages.
import { context, contextFile, mib, optionalContextFile, passthrough, system, virtualMachine } from 'sel4cp-synth';

const linux = virtualMachine('linux', {
  kernel: contextFile('kernel', '../.cache/guest/Image'),
  initrd: contextFile('initrd', '../.cache/guest/initramfs.cpio'),
  dtb: optionalContextFile('dtb'),
  // Empty means the default: a console on the UART passed through (console=ttyAMA0).
  bootargs: context('bootargs', '') || undefined,
  ram: mib(256),
  passthrough: [passthrough('uart0')],
  // 'auto': the kernel and initrd go into the VMM compressed only when they would not fit below
  // the board's Microkit loader (on QEMU they fit); -c compress=true|false decides.
  compressImages: compressSetting(context('compress', 'auto')),
  vcpus: Number(context('vcpus', '1')),
});

export default system({
  board: 'qemu_virt_aarch64',
  virtualMachines: [linux],
});

function compressSetting(value: string): boolean | 'auto' {
  return value === 'auto' ? 'auto' : value === 'true';
}
