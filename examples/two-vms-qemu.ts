// Two Linux guests on QEMU's virt machine, each with its own VMM and its own RAM. The machine
// has one PL011: the first guest owns it (passed through), the second gets an emulated one whose
// output its VMM prints, each line prefixed with the VM's name.
//
//   npx sel4cp-synth run examples/two-vms-qemu.ts
import { contextFile, emulated, mib, optionalContextFile, passthrough, system, virtualMachine } from 'sel4cp-synth';

const kernel = contextFile('kernel', '../.cache/guest/Image');
const initrd = contextFile('initrd', '../.cache/guest/initramfs.cpio');

const first = virtualMachine('first', {
  kernel,
  initrd,
  ram: mib(256),
  passthrough: [passthrough('uart0')],
  // -c first_dtb=PATH: a device tree of your own for the first guest.
  dtb: optionalContextFile('first_dtb'),
});

const second = virtualMachine('second', {
  kernel,
  initrd,
  ram: mib(256),
  emulated: [emulated('uart0')],
  // Below the first guest's VMM so that the console owner is served first.
  vmm: { priority: 250 },
  priority: 90,
});

export default system({
  board: 'qemu_virt_aarch64',
  virtualMachines: [first, second],
});
