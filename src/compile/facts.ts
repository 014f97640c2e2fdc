// Microkit and architecture facts, in one place: every stage that needs a limit or a frame size
// imports it from here. (The VMM runtime's own limits, which its C header pins, live with the
// blob layout in emit/vmm-config.ts; test/compile/emit/*.test.ts compares both with the header.)

/** Microkit 2.0.1 (tool/microkit/src/sdf.rs and libmicrokit). */
export const MICROKIT = {
  /** Channel ids 0..61: libmicrokit MICROKIT_MAX_CHANNELS = 62; badge bits 62 and 63 mark PPCs and faults. */
  maxChannelId: 61,
  /** Child ids and vCPU ids are a fault badge's low 6 bits: the monitor masks them with 0x3f. */
  maxChildId: 63,
  /** sdf.rs checks vCPU ids against PD_MAX_ID (61). */
  maxVcpuId: 61,
  maxPriority: 254,
  maxPds: 63,
  maxVms: 63,
  /** libmicrokit MICROKIT_PD_NAME_LENGTH: the monitor keeps 64 bytes of a PD's name. */
  maxNameLength: 64,
  /** sdf.rs: stack sizes from 4 KiB to 16 MiB. */
  minStack: 0x1000n,
  maxStack: 16n * 1024n * 1024n,
  /** sdf.rs PD defaults: budget 1000 µs, period = budget, stack 4 KiB. */
  defaultBudget: 1000,
  defaultStack: 0x1000n,
} as const;

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
