// Microkit and architecture facts, in one place: every stage that needs a limit or a frame size
// imports it from here. (What differs between Microkit releases is in ../releases.ts; the VMM
// runtime's own limits and layouts, which its C headers pin, are in ../abi/, and
// test/compile/abi/headers.test.ts compares them with the headers.)

/**
 * Microkit limits that are the same in every release here (2.0.1 and 2.3.0 sdf.rs, lib.rs). What
 * differs between releases (a PD's default stack, cap slots, reserved names, ...) is a row of
 * ../releases.ts; a limit a new release changes moves there.
 */
export interface MicrokitLimits {
  /** Channel ids 0..61: libmicrokit MICROKIT_MAX_CHANNELS = 62; badge bits 62 and 63 mark PPCs and faults. */
  maxChannelId: number;
  /** Child ids and vCPU ids are a fault badge's low 6 bits: the monitor masks them with 0x3f. */
  maxChildId: number;
  /** sdf.rs checks vCPU ids against PD_MAX_ID (61). */
  maxVcpuId: number;
  maxPriority: number;
  maxPds: number;
  maxVms: number;
  /** libmicrokit MICROKIT_PD_NAME_LENGTH: the monitor keeps 64 bytes of a PD's name. */
  maxNameLength: number;
  /** sdf.rs: stack sizes from 4 KiB to 16 MiB. */
  minStack: bigint;
  maxStack: bigint;
  /** sdf.rs PD defaults: budget 1000 µs, period = budget. */
  defaultBudget: number;
}

export const MICROKIT: MicrokitLimits = {
  maxChannelId: 61,
  maxChildId: 63,
  maxVcpuId: 61,
  maxPriority: 254,
  maxPds: 63,
  maxVms: 63,
  maxNameLength: 64,
  minStack: 0x1000n,
  maxStack: 16n * 1024n * 1024n,
  defaultBudget: 1000,
};

/** sdf.rs PD defaults: a budget of 1000 µs. */
export const DEFAULT_BUDGET = MICROKIT.defaultBudget;

/** AArch64 translation granule pages Microkit maps with (4 KiB granule: 4 KiB and 2 MiB). */
export const PAGE_4K = 0x1000n;
export const PAGE_2M = 0x200000n;
export const PAGE_SIZES = [PAGE_4K, PAGE_2M] as const;

/**
 * GIC frames as a guest sees them. GICv2: the distributor is 4 KiB, the CPU interface 8 KiB
 * (GICC_DIR at 0x1000; IHI0048B 4.1.2, 4.1.3). GICv3: a 64 KiB distributor and, per CPU, a
 * redistributor of two 64 KiB frames, RD_base and SGI_base (IHI0069 12.1, 12.10).
 */
export const GIC = {
  v2DistributorSize: 0x1000n,
  v2CpuInterfaceSize: 0x2000n,
  v3DistributorSize: 0x10000n,
  v3RedistributorStride: 0x20000n,
  v3FrameAlign: 0x10000n,
} as const;
