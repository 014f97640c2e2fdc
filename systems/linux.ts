// boards: imx8mm_evk odroidc2
// A Linux guest on a real board, with the board's console UART passed through.
//
//   npx sel4cp-synth systems/linux.ts --board=imx8mm
//   npx sel4cp-synth systems/linux.ts --board=odroidc2 -c kernel=path/to/Image
//
// The board decides the addresses: guest RAM, the GIC (GICv3 on i.MX8MM, GICv2 on ODROID-C2)
// and the console UART with its interrupt.
import { context, contextFile, mib, optionalContextFile, passthrough, system, virtualMachine } from 'sel4cp-synth';

const linux = virtualMachine('linux', {
  kernel: contextFile('kernel', '../.cache/guest/Image'),
  initrd: contextFile('initrd', '../.cache/guest/initramfs.cpio'),
  dtb: optionalContextFile('dtb'),
  ram: mib(256),
  passthrough: [passthrough('console')],
  // 'auto': the kernel and initrd go into the VMM compressed only when they would not fit below
  // the board's Microkit loader (on imx8mm_evk they must); -c compress=true|false decides.
  compressImages: compressSetting(context('compress', 'auto')),
});

export default system({ virtualMachines: [linux] });

function compressSetting(value: string): boolean | 'auto' {
  return value === 'auto' ? 'auto' : value === 'true';
}
