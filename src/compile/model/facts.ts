// Microkit and architecture facts, in one place: every stage that needs a limit or a frame size
// imports it from here. (The VMM runtime's own limits and layouts, which its C headers pin, are
// in ../abi/; test/compile/abi/headers.test.ts compares them with the headers.)

/** The Microkit releases sel4cp-synth targets; the SDK's VERSION file names one. */
export const MICROKIT_RELEASE_NAMES = ['2.0.1', '2.3.0'] as const;
export type MicrokitRelease = (typeof MICROKIT_RELEASE_NAMES)[number];
export const DEFAULT_MICROKIT_RELEASE: MicrokitRelease = '2.0.1';

export interface MicrokitFacts {
  release: MicrokitRelease;
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
  /** sdf.rs PD_DEFAULT_STACK_SIZE. */
  defaultStack: bigint;
  /**
   * What sits above a PD's stack at the top of its address space (sel4.rs pd_stack_top): nothing
   * in 2.0.1 (the stack ends at user_top); in 2.3.0 the IPC buffer page and a guard page.
   */
  aboveStack: bigint;
  /** cspace cap_* slots 1 .. maxCapSlot - 1 (sdf.rs CAP_MAP_MAX_SLOT); 0 is the Microkit CNode. */
  maxCapSlot: number;
  /** A PD name the tool reserves (sdf.rs MONITOR_PD_NAME). */
  reservedPdNames: readonly string[];
  /**
   * Symbols the tool writes into every PD's program image, so a program must define them: its
   * libmicrokit's. 2.0.1 tool/microkit/src/main.rs (write_symbol calls, SYMBOL_IPC_BUFFER);
   * 2.3.0 tool/microkit/src/symbols.rs (adds microkit_ioports).
   */
  pdSymbols: readonly string[];
}

const MICROKIT_2_0_1: MicrokitFacts = {
  release: '2.0.1',
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
  defaultStack: 0x1000n,
  aboveStack: 0n,
  maxCapSlot: 0,
  reservedPdNames: [],
  pdSymbols: ['microkit_name', 'microkit_passive', 'microkit_irqs', 'microkit_notifications', 'microkit_pps', '__sel4_ipc_buffer_obj'],
};

/** Microkit 2.3.0: tool/microkit/src/sdf.rs (PD_DEFAULT_STACK_SIZE 0x2000, CAP_MAP_MAX_SLOT 128, MONITOR_PD_NAME), sel4.rs, lib.rs MAX_PDS. */
const MICROKIT_2_3_0: MicrokitFacts = {
  ...MICROKIT_2_0_1,
  release: '2.3.0',
  defaultStack: 0x2000n,
  aboveStack: 0x2000n,
  maxCapSlot: 128,
  reservedPdNames: ['monitor'],
  pdSymbols: [...MICROKIT_2_0_1.pdSymbols, 'microkit_ioports'],
};

export const MICROKIT_RELEASES: Record<MicrokitRelease, MicrokitFacts> = { '2.0.1': MICROKIT_2_0_1, '2.3.0': MICROKIT_2_3_0 };

export function microkitFacts(release: MicrokitRelease | undefined): MicrokitFacts {
  return MICROKIT_RELEASES[release ?? DEFAULT_MICROKIT_RELEASE];
}

/** Limits that are the same in every release (ids, priorities, counts). */
export const MICROKIT = MICROKIT_2_0_1;

/** sdf.rs PD defaults: a budget of 1000 µs (the same in every release). */
export const DEFAULT_BUDGET = MICROKIT.defaultBudget;
/** Microkit 2.0.1's PD_DEFAULT_STACK_SIZE (2.3.0's is `microkitFacts('2.3.0').defaultStack`). */
export const DEFAULT_STACK_SIZE = MICROKIT.defaultStack;

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
