// One typical config blob input (a Linux guest on QEMU's virt machine, GICv2), shared by the
// TypeScript encoder tests and the C checker tests.
import type { VmmConfig } from '../../../src/compile/emit/vmm-config.js';

export const sampleVmmConfig = (): VmmConfig => ({
  vmName: 'linux',
  gicVersion: 2,
  vcpuIds: [0],
  gicdBase: 0x0800_0000n,
  giccBase: 0x0801_0000n,
  ram: { guestBase: 0x4000_0000n, size: 0x1000_0000n, vmmVaddr: 0x2000_0000n },
  kernel: { vmmVaddr: 0x1000_0000n, size: 0x200_0000n, guestAddr: 0x4000_0000n },
  dtb: { vmmVaddr: 0x1200_0000n, size: 0x1_0000n, guestAddr: 0x4f00_0000n },
  initrd: { vmmVaddr: 0x1201_0000n, size: 0x40_0000n, guestAddr: 0x4d00_0000n },
  entry: 0x4000_0000n,
  irqs: [{ channel: 1, intid: 33, trigger: 'level' }],
  devices: [],
});
