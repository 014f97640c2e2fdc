// Link one VMM: the cached runtime ELF for the board's GIC flavour, plus this guest's kernel,
// device tree and initrd in one extra read-only segment, plus the config blob that tells the
// runtime where they are and where they go. No C compiler runs per system: the runtime is built
// once per (board, config, SDK), and everything that differs between systems is data.
import { encodeVmmConfig, VMM_CONFIG_SECTION, type VmmConfig } from '../emit/vmm-config.js';
import type { LinuxPlacement } from '../guest/placement.js';
import type { Board } from '../boards.js';
import type { GuestModel } from '../model.js';
import { addLoadSegment, patchSection, PF_R } from './elf.js';

/**
 * Where guest images live in every VMM's address space: above the runtime (linked at 0x200000)
 * and below the automatic mappings (guest RAM, from 0x20_0000_0000; resolve/ids.ts).
 */
export const GUEST_IMAGES_VADDR = 0x1_0000_0000n;
const PAGE = 0x1000n;

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

export interface VmmLinkInput {
  runtimeElf: Uint8Array;
  guest: GuestModel;
  board: Board;
  /** vCPU ids as the .system gives them (the VM's `<vcpu id>`), vCPU 0 first. */
  vcpuIds: number[];
  placement: LinuxPlacement;
  kernel: Uint8Array;
  dtb: Uint8Array;
  initrd: Uint8Array | undefined;
}

export interface VmmLinkOutput {
  elf: Uint8Array;
  config: VmmConfig;
}

export function linkVmm(input: VmmLinkInput): VmmLinkOutput {
  const { guest, board, placement } = input;
  const kernelAt = 0n;
  const dtbAt = alignUp(BigInt(input.kernel.length), PAGE);
  const initrdAt = alignUp(dtbAt + BigInt(input.dtb.length), PAGE);
  const total = input.initrd ? initrdAt + BigInt(input.initrd.length) : dtbAt + BigInt(input.dtb.length);
  const images = new Uint8Array(Number(total));
  images.set(input.kernel, Number(kernelAt));
  images.set(input.dtb, Number(dtbAt));
  if (input.initrd) images.set(input.initrd, Number(initrdAt));

  const config: VmmConfig = {
    vmName: guest.vm,
    gicVersion: guest.gicVersion,
    vcpuIds: input.vcpuIds,
    gicdBase: board.guest.gicDistributor,
    ...(guest.gicVersion === 3 ? { gicrBase: board.guest.gicRedistributor! } : { giccBase: board.guest.gicCpuInterface! }),
    ram: { guestBase: guest.ram.gpa, size: guest.ram.size, vmmVaddr: guest.ram.vmmVaddr },
    kernel: { vmmVaddr: GUEST_IMAGES_VADDR + kernelAt, size: BigInt(input.kernel.length), guestAddr: placement.kernel.gpa },
    dtb: { vmmVaddr: GUEST_IMAGES_VADDR + dtbAt, size: BigInt(input.dtb.length), guestAddr: placement.dtb.gpa },
    ...(input.initrd && placement.initrd
      ? { initrd: { vmmVaddr: GUEST_IMAGES_VADDR + initrdAt, size: BigInt(input.initrd.length), guestAddr: placement.initrd.gpa } }
      : {}),
    entry: placement.entry,
    irqs: guest.passthrough.flatMap((p) => p.irqs.map((q) => ({ channel: q.channel, intid: q.irq, trigger: q.trigger }))),
    devices: guest.emulated.map((e) => ({ kind: e.kind, guestBase: e.gpa, size: e.size, ...(e.irq !== undefined ? { intid: e.irq } : {}) })),
  };
  const withConfig = patchSection(input.runtimeElf, VMM_CONFIG_SECTION, encodeVmmConfig(config));
  const elf = addLoadSegment(withConfig, { vaddr: GUEST_IMAGES_VADDR, data: images, flags: PF_R });
  return { elf, config };
}
