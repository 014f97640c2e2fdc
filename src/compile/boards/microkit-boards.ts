// The boards each Microkit release builds an SDK for, as the release's build_sdk.py lists them
// (SUPPORTED_BOARDS, BoardInfo): the seL4 platform, the CPU, where the loader is linked, the
// cores of its smp-* configs and the kernel options that decide whether a virtual machine can run
// there (KernelArmHypervisorSupport: 2.0.1 sets it per board, 2.3.0 in DEFAULT_KERNEL_OPTIONS_AARCH64
// unless the board turns it off) and whether user level gets the EL1 physical timer
// (KernelArmExportPTMRUser). test/compile/boards/microkit-boards.test.ts reads the rows back from
// build_sdk.py in MICROKIT_SRC / MICROKIT_SRC_2_3_0. Rows marked `local` are this machine's SDK
// variants (qemu_virt_aarch64_gicv3: qemu_virt_aarch64 with QEMU_GIC_VERSION 3), not upstream.
import { RELEASE_NAMES, type MicrokitRelease } from '../releases.js';

export interface MicrokitBoardRow {
  name: string;
  arch: 'aarch64' | 'riscv64' | 'x86_64';
  /** KernelPlatform (none for x86_64, whose build picks pc99). */
  platform?: string;
  /** KernelARMPlatform, where the seL4 platform has variants (zynqmp: zcu102, ultra96v2). */
  armPlatform?: string;
  /** gcc_cpu: the core the SDK's libraries are built for. */
  gccCpu?: string;
  /** loader_link_address. */
  loaderLinkAddress?: bigint;
  /** smp_cores: the smp-debug and smp-release configs run seL4 on this many cores. */
  smpCores?: number;
  /** KernelArmHypervisorSupport: seL4 runs at EL2 and can host virtual machines (AArch64 only). */
  hypervisor?: boolean;
  /** KernelArmExportPTMRUser. */
  exportPtmrUser?: boolean;
  /** RPI4_MEMORY (MiB): which seL4 overlay-rpi4-<n>gb.dts gives the RAM. */
  rpi4Memory?: number;
  /** QEMU_GIC_VERSION. */
  qemuGicVersion?: number;
  /** A board of this machine's patched build_sdk.py, not of the upstream release. */
  local?: true;
}

/** Microkit 2.0.1's build_sdk.py SUPPORTED_BOARDS, in its order (a row of releases.ts's RELEASES). */
export const BUILD_SDK_BOARDS_201: readonly MicrokitBoardRow[] = [
    { name: 'tqma8xqp1gb', arch: 'aarch64', platform: 'tqma8xqp1gb', gccCpu: 'cortex-a35', loaderLinkAddress: 0x80280000n, hypervisor: true, exportPtmrUser: false },
    { name: 'zcu102', arch: 'aarch64', platform: 'zynqmp', armPlatform: 'zcu102', gccCpu: 'cortex-a53', loaderLinkAddress: 0x40000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'maaxboard', arch: 'aarch64', platform: 'maaxboard', gccCpu: 'cortex-a53', loaderLinkAddress: 0x50000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mm_evk', arch: 'aarch64', platform: 'imx8mm-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x41000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mp_evk', arch: 'aarch64', platform: 'imx8mp-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x41000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mq_evk', arch: 'aarch64', platform: 'imx8mq-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x41000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'odroidc2', arch: 'aarch64', platform: 'odroidc2', gccCpu: 'cortex-a53', loaderLinkAddress: 0x20000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'odroidc4', arch: 'aarch64', platform: 'odroidc4', gccCpu: 'cortex-a55', loaderLinkAddress: 0x20000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'qemu_virt_aarch64', arch: 'aarch64', platform: 'qemu-arm-virt', gccCpu: 'cortex-a53', loaderLinkAddress: 0x70000000n, hypervisor: true, exportPtmrUser: true },
    { name: 'qemu_virt_aarch64_gicv3', arch: 'aarch64', platform: 'qemu-arm-virt', gccCpu: 'cortex-a53', loaderLinkAddress: 0x70000000n, hypervisor: true, exportPtmrUser: true, qemuGicVersion: 3, local: true },
    { name: 'qemu_virt_riscv64', arch: 'riscv64', platform: 'qemu-riscv-virt', loaderLinkAddress: 0x90000000n },
    { name: 'rpi4b_1gb', arch: 'aarch64', platform: 'bcm2711', gccCpu: 'cortex-a72', loaderLinkAddress: 0x10000000n, hypervisor: true, exportPtmrUser: false, rpi4Memory: 1024 },
    { name: 'rockpro64', arch: 'aarch64', platform: 'rockpro64', gccCpu: 'cortex-a53', loaderLinkAddress: 0x30000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'star64', arch: 'riscv64', platform: 'star64', loaderLinkAddress: 0x60000000n },
    { name: 'ariane', arch: 'riscv64', platform: 'ariane', loaderLinkAddress: 0x90000000n },
    { name: 'cheshire', arch: 'riscv64', platform: 'cheshire', loaderLinkAddress: 0x90000000n },
  ];

/** Microkit 2.3.0's build_sdk.py SUPPORTED_BOARDS, in its order (a row of releases.ts's RELEASES). */
export const BUILD_SDK_BOARDS_230: readonly MicrokitBoardRow[] = [
    { name: 'kria_k26', arch: 'aarch64', platform: 'zynqmp', armPlatform: 'zcu102', gccCpu: 'cortex-a53', loaderLinkAddress: 0x40000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'stm32mp2', arch: 'aarch64', platform: 'stm32mp2', armPlatform: 'stm32mp257f-ev1', gccCpu: 'cortex-a35', loaderLinkAddress: 0x88000000n, smpCores: 2, hypervisor: true, exportPtmrUser: false },
    { name: 'tqma8xqp1gb', arch: 'aarch64', platform: 'tqma8xqp1gb', gccCpu: 'cortex-a35', loaderLinkAddress: 0x90000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'zcu102', arch: 'aarch64', platform: 'zynqmp', armPlatform: 'zcu102', gccCpu: 'cortex-a53', loaderLinkAddress: 0x40000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'maaxboard', arch: 'aarch64', platform: 'maaxboard', gccCpu: 'cortex-a53', loaderLinkAddress: 0x50000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mm_evk', arch: 'aarch64', platform: 'imx8mm-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x41000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mp_evk', arch: 'aarch64', platform: 'imx8mp-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x41000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mq_evk', arch: 'aarch64', platform: 'imx8mq-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x41000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'imx8mp_iotgate', arch: 'aarch64', platform: 'imx8mp-evk', gccCpu: 'cortex-a53', loaderLinkAddress: 0x50000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'odroidc2', arch: 'aarch64', platform: 'odroidc2', gccCpu: 'cortex-a53', loaderLinkAddress: 0x20000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'odroidc4', arch: 'aarch64', platform: 'odroidc4', gccCpu: 'cortex-a55', loaderLinkAddress: 0x20000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'ultra96v2', arch: 'aarch64', platform: 'zynqmp', armPlatform: 'ultra96v2', gccCpu: 'cortex-a53', loaderLinkAddress: 0x40000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'qemu_virt_aarch64', arch: 'aarch64', platform: 'qemu-arm-virt', gccCpu: 'cortex-a53', loaderLinkAddress: 0x70000000n, smpCores: 4, hypervisor: true, exportPtmrUser: true },
    { name: 'qemu_virt_aarch64_gicv3', arch: 'aarch64', platform: 'qemu-arm-virt', gccCpu: 'cortex-a53', loaderLinkAddress: 0x70000000n, smpCores: 4, hypervisor: true, exportPtmrUser: true, qemuGicVersion: 3, local: true },
    { name: 'qemu_virt_aarch64_el1', arch: 'aarch64', platform: 'qemu-arm-virt', gccCpu: 'cortex-a53', loaderLinkAddress: 0x70000000n, smpCores: 4, hypervisor: false, exportPtmrUser: true },
    { name: 'qemu_virt_riscv64', arch: 'riscv64', platform: 'qemu-riscv-virt', loaderLinkAddress: 0x90000000n, smpCores: 4 },
    { name: 'rpi4b_1gb', arch: 'aarch64', platform: 'bcm2711', gccCpu: 'cortex-a72', loaderLinkAddress: 0x10000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false, rpi4Memory: 1024 },
    { name: 'rpi4b_2gb', arch: 'aarch64', platform: 'bcm2711', gccCpu: 'cortex-a72', loaderLinkAddress: 0x10000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false, rpi4Memory: 2048 },
    { name: 'rpi4b_4gb', arch: 'aarch64', platform: 'bcm2711', gccCpu: 'cortex-a72', loaderLinkAddress: 0x10000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false, rpi4Memory: 4096 },
    { name: 'rpi4b_8gb', arch: 'aarch64', platform: 'bcm2711', gccCpu: 'cortex-a72', loaderLinkAddress: 0x10000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false, rpi4Memory: 8192 },
    { name: 'rockpro64', arch: 'aarch64', platform: 'rockpro64', gccCpu: 'cortex-a53', loaderLinkAddress: 0x30000000n, smpCores: 4, hypervisor: true, exportPtmrUser: false },
    { name: 'rock3b', arch: 'aarch64', platform: 'rk3568', gccCpu: 'cortex-a55', loaderLinkAddress: 0x30000000n, hypervisor: true, exportPtmrUser: false },
    { name: 'hifive_p550', arch: 'riscv64', platform: 'hifive-p550', loaderLinkAddress: 0x90000000n, smpCores: 4 },
    { name: 'star64', arch: 'riscv64', platform: 'star64', loaderLinkAddress: 0x60000000n, smpCores: 4 },
    { name: 'ariane', arch: 'riscv64', platform: 'ariane', loaderLinkAddress: 0x90000000n },
    { name: 'cheshire', arch: 'riscv64', platform: 'cheshire', loaderLinkAddress: 0x90000000n },
    { name: 'serengeti', arch: 'riscv64', platform: 'cheshire', loaderLinkAddress: 0x90000000n },
    { name: 'x86_64_generic', arch: 'x86_64', gccCpu: 'generic' },
    { name: 'x86_64_generic_vtx', arch: 'x86_64', gccCpu: 'generic' },
  ];

/** The lists above, one per release in the order of releases.ts's RELEASE_NAMES (oldest first). */
const BUILD_SDK_BOARDS = [BUILD_SDK_BOARDS_201, BUILD_SDK_BOARDS_230] as const;

/**
 * Each release's build_sdk.py SUPPORTED_BOARDS, in its order, by release. A release added to
 * releases.ts without its board list here fails at load (and test/compile/boards/
 * microkit-boards.test.ts compares each list with the release's build_sdk.py).
 */
export const MICROKIT_BOARDS: Readonly<Record<MicrokitRelease, readonly MicrokitBoardRow[]>> = (() => {
  if (BUILD_SDK_BOARDS.length !== RELEASE_NAMES.length) throw new Error(`microkit-boards.ts: ${BUILD_SDK_BOARDS.length} board lists for ${RELEASE_NAMES.length} releases`);
  return Object.fromEntries(RELEASE_NAMES.map((r, i) => [r, BUILD_SDK_BOARDS[i]!])) as Record<MicrokitRelease, readonly MicrokitBoardRow[]>;
})();

/** The row of `board` in `release`'s build_sdk.py, if the release builds it. */
export function microkitBoard(release: MicrokitRelease, board: string): MicrokitBoardRow | undefined {
  return MICROKIT_BOARDS[release].find((b) => b.name === board);
}

/** Boards of `release` that can host a virtual machine: AArch64 with KernelArmHypervisorSupport. */
export function hypervisorBoards(release: MicrokitRelease): readonly MicrokitBoardRow[] {
  return MICROKIT_BOARDS[release].filter((b) => b.arch === 'aarch64' && b.hypervisor === true);
}
