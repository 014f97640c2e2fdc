// What seL4 16.0.0 (the kernel Microkit 2.3.0 builds) knows about each board's platform and no
// Linux device tree says: the highest interrupt it accepts (MAX_IRQ), the generic timer's frequency
// (TIMER_FREQUENCY), the GIC driver it is built with, the RAM its own DTS and overlays describe
// (where the Linux DTB leaves the memory node to the boot loader, or describes a smaller variant),
// the RAM it reserves (no-map reserved-memory of its DTS and overlays) and the UART it prints on
// (the first entry of seL4,kernel-devices in its overlay). One row per Microkit board, citing the
// seL4 files; test/compile/boards/platforms.test.ts reads the numbers back from an seL4 source
// tree (SEL4_SRC) and from each Microkit SDK board's gen_config.json and platform_gen.json.

export interface Sel4Ram {
  base: bigint;
  size: bigint;
}

export interface Sel4Reservation extends Sel4Ram {
  /** The reserved-memory node and the file it is in. */
  node: string;
  /** The block is set aside for virtual-machine memory (seL4 overlay-reserve-vm-memory.dts). */
  forGuests?: true;
}

export interface Sel4PlatformRow {
  /** The Microkit board this row describes. */
  board: string;
  /** src/plat/<p>/config.cmake. */
  config: string;
  /** tools/dts/<file>.dts, or QEMU's dumpdtb for qemu-arm-virt. */
  dts: string;
  /** MAX_IRQ. */
  maxIrq: number;
  /** TIMER_FREQUENCY (Hz). */
  timerHz: number;
  /** INTERRUPT_CONTROLLER arch/machine/gic_v2.h or gic_v3.h. */
  gic: 2 | 3;
  /** seL4's memory node (DTS and overlays); undefined: the Linux DTB's (QEMU's -m). */
  ram?: readonly Sel4Ram[];
  /** Where `ram` comes from. */
  ramSource?: string;
  /** seL4's no-map reservations inside RAM. */
  reserved?: readonly Sel4Reservation[];
  /** seL4,kernel-devices' UART: the alias or path the overlay names and the UART's register address. */
  console?: { named: string; paddr: bigint; overlay: string };
}

const GIB = 0x40000000n;

const RPI4_LOW: Sel4Ram = { base: 0x0n, size: 0x3b400000n };
/** bcm2711: the RAM of each RPI4_MEMORY variant (src/plat/bcm2711/overlay-rpi4-<n>gb.dts). */
const RPI4_RAM: Record<number, readonly Sel4Ram[]> = {
  1024: [RPI4_LOW],
  2048: [RPI4_LOW, { base: 0x40000000n, size: 0x40000000n }],
  4096: [RPI4_LOW, { base: 0x40000000n, size: 0xbc000000n }],
  8192: [RPI4_LOW, { base: 0x40000000n, size: 0xbc000000n }, { base: 0x100000000n, size: 0x80000000n }, { base: 0x180000000n, size: 0x80000000n }],
};

function rpi4(board: string, mib: number): Sel4PlatformRow {
  return {
    board,
    config: 'src/plat/bcm2711/config.cmake',
    dts: 'tools/dts/rpi4.dts',
    maxIrq: 216,
    timerHz: 54000000,
    gic: 2,
    ram: RPI4_RAM[mib]!,
    ramSource: `src/plat/bcm2711/overlay-rpi4-${mib / 1024}gb.dts memory@0 (RPI4_MEMORY ${mib}; the Linux DTB's memory node is left to the firmware)`,
    reserved: [{ base: 0x0n, size: 0x1000n, node: 'reserved-memory@0 (src/plat/bcm2711/overlay-rpi4.dts: the armstub where the secondary cores spin)' }],
    console: { named: 'serial1', paddr: 0xfe215040n, overlay: 'src/plat/bcm2711/overlay-rpi4.dts' },
  };
}

function imx8m(board: string, dts: string, maxIrq: number, timerHz: number, ram: readonly Sel4Ram[], console: { named: string; paddr: bigint }, reserved: readonly Sel4Reservation[]): Sel4PlatformRow {
  return {
    board, config: 'src/plat/imx8m-evk/config.cmake', dts: `tools/dts/${dts}.dts`, maxIrq, timerHz, gic: 3, ram, ramSource: `tools/dts/${dts}.dts memory@40000000`, reserved,
    console: { ...console, overlay: `src/plat/imx8m-evk/overlay-${dts}.dts` },
  };
}

const RPMSG = (dts: string): Sel4Reservation => ({ base: 0xb8000000n, size: 0x400000n, node: `rpmsg@0xb8000000 (tools/dts/${dts}.dts, from NXP's vendor kernel: shared memory with the Cortex-M4)` });

/** Every Microkit 2.3.0 AArch64 hypervisor board. */
export const SEL4_PLATFORMS: readonly Sel4PlatformRow[] = [
  ...['qemu_virt_aarch64', 'qemu_virt_aarch64_gicv3'].map((board): Sel4PlatformRow => ({
    board,
    config: 'src/plat/qemu-arm-virt/config.cmake',
    dts: "QEMU's dumpdtb",
    maxIrq: 159,
    timerHz: 62500000,
    gic: board.endsWith('gicv3') ? 3 : 2,
    reserved: [{
      base: 0x40000000n, size: 0x20000000n, forGuests: true,
      node: 'vm-memory@40000000 (src/plat/qemu-arm-virt/overlay-reserve-vm-memory.dts, added by config.cmake with KernelArmHypervisorSupport: RAM set aside for virtual machines; seL4 treats it as device memory and never clears it, and QEMU starts it zeroed)',
    }],
    console: { named: '/pl011@9000000', paddr: 0x09000000n, overlay: 'src/plat/qemu-arm-virt/overlay-qemu-arm-virt.dts' },
  })),
  {
    board: 'odroidc2', config: 'src/plat/odroidc2/config.cmake', dts: 'tools/dts/odroidc2.dts', maxIrq: 250, timerHz: 24000000, gic: 2,
    ram: [{ base: 0x0n, size: 2n * GIB }], ramSource: 'tools/dts/odroidc2.dts memory@0',
    reserved: [
      { base: 0x0n, size: 0x1000000n, node: 'hwrom@0 (tools/dts/odroidc2.dts)' },
      { base: 0x05000000n, size: 0x300000n, node: 'secmon@5000000 (tools/dts/odroidc2.dts)' },
      { base: 0x10000000n, size: 0x200000n, node: 'secmon@10000000 (tools/dts/odroidc2.dts)' },
    ],
    console: { named: 'serial0', paddr: 0xc81004c0n, overlay: 'src/plat/odroidc2/overlay-odroidc2.dts' },
  },
  {
    board: 'odroidc4', config: 'src/plat/odroidc4/config.cmake', dts: 'tools/dts/odroidc4.dts', maxIrq: 255, timerHz: 24000000, gic: 2,
    ram: [{ base: 0x0n, size: 0xf5800000n }], ramSource: 'tools/dts/odroidc4.dts memory@0 (the 4 GiB board; the Linux DTB says 1 GiB and leaves the size to U-Boot)',
    reserved: [{ base: 0x05000000n, size: 0x300000n, node: 'secmon@5000000 (tools/dts/odroidc4.dts)' }],
    console: { named: 'serial0', paddr: 0xff803000n, overlay: 'src/plat/odroidc4/overlay-odroidc4.dts' },
  },
  imx8m('imx8mm_evk', 'imx8mm-evk', 160, 8000000, [{ base: GIB, size: 2n * GIB }], { named: 'serial1', paddr: 0x30890000n }, [RPMSG('imx8mm-evk')]),
  imx8m('imx8mq_evk', 'imx8mq-evk', 160, 8333333, [{ base: GIB, size: 3n * GIB }], { named: 'serial0', paddr: 0x30860000n }, [RPMSG('imx8mq-evk')]),
  // The overlay deletes dsp@92400000 and the vdev0* rings ("Linux specific"): seL4 reserves nothing.
  imx8m('imx8mp_evk', 'imx8mp-evk', 192, 8000000, [{ base: GIB, size: 3n * GIB }, { base: 0x100000000n, size: 3n * GIB }], { named: 'serial1', paddr: 0x30890000n }, []),
  {
    board: 'zcu102', config: 'src/plat/zynqmp/config.cmake', dts: 'tools/dts/zynqmp.dts', maxIrq: 187, timerHz: 100000000, gic: 2,
    ram: [{ base: 0x0n, size: 2n * GIB }, { base: 0x800000000n, size: 2n * GIB }], ramSource: 'tools/dts/zynqmp.dts memory',
    reserved: [],
    console: { named: 'serial0', paddr: 0xff000000n, overlay: 'src/plat/zynqmp/overlay-zynqmp.dts' },
  },
  {
    board: 'ultra96v2', config: 'src/plat/zynqmp/config.cmake', dts: 'tools/dts/ultra96v2.dts', maxIrq: 187, timerHz: 100000000, gic: 2,
    ram: [{ base: 0x0n, size: 0x7ff00000n }], ramSource: 'tools/dts/ultra96v2.dts memory (the top 1 MiB of the 2 GiB left out)',
    reserved: [{ base: 0x3ed00000n, size: 0x1000000n, node: 'rproc@3ed000000 (tools/dts/ultra96v2.dts: the Cortex-R5 firmware window)' }],
    console: { named: 'serial0', paddr: 0xff010000n, overlay: 'src/plat/zynqmp/overlay-zynqmp.dts' },
  },
  rpi4('rpi4b_1gb', 1024),
  rpi4('rpi4b_2gb', 2048),
  rpi4('rpi4b_4gb', 4096),
  rpi4('rpi4b_8gb', 8192),
  {
    board: 'rockpro64', config: 'src/plat/rockpro64/config.cmake', dts: 'tools/dts/rockpro64.dts', maxIrq: 181, timerHz: 24000000, gic: 3,
    ram: [{ base: 0x10000000n, size: 0xe8000000n }], ramSource: 'tools/dts/rockpro64.dts memory@00000000 (the Linux DTB leaves the memory node to U-Boot)',
    reserved: [],
    console: { named: 'serial2', paddr: 0xff1a0000n, overlay: 'src/plat/rockpro64/overlay-rockpro64.dts' },
  },
  // Boards whose device tree Debian does not ship: what `board add --microkit-board` takes from here.
  { board: 'maaxboard', config: 'src/plat/maaxboard/config.cmake', dts: 'tools/dts/maaxboard.dts', maxIrq: 160, timerHz: 8333333, gic: 3 },
  { board: 'kria_k26', config: 'src/plat/zynqmp/config.cmake', dts: 'tools/dts/zynqmp.dts', maxIrq: 187, timerHz: 100000000, gic: 2 },
  { board: 'tqma8xqp1gb', config: 'src/plat/tqma8xqp1gb/config.cmake', dts: 'tools/dts/tqma8xqp1gb.dts', maxIrq: 511, timerHz: 8000000, gic: 3 },
  { board: 'stm32mp2', config: 'src/plat/stm32mp2/config.cmake', dts: 'tools/dts/stm32mp257f-ev1.dts', maxIrq: 415, timerHz: 40000000, gic: 2 },
  { board: 'rock3b', config: 'src/plat/rk3568/config.cmake', dts: 'tools/dts/rock3b.dts', maxIrq: 283, timerHz: 24000000, gic: 3 },
  { board: 'imx8mp_iotgate', config: 'src/plat/imx8m-evk/config.cmake', dts: 'custom_dts/iot-gate.dts (Microkit 2.3.0)', maxIrq: 192, timerHz: 8000000, gic: 3 },
];

/** seL4 16.0.0 src/arch/arm/config.cmake: KernelArmPASizeBits40/44 by core. */
export const PADDR_BITS: Readonly<Record<string, number>> = {
  'cortex-a35': 40,
  'cortex-a53': 40,
  'cortex-a55': 40,
  'cortex-a57': 44,
  'cortex-a72': 44,
  'cortex-a76': 40,
};

export function sel4Platform(board: string): Sel4PlatformRow | undefined {
  return SEL4_PLATFORMS.find((p) => p.board === board);
}
