// The timer PD's configuration blob as the C runtime reads it
// (src/vmm-runtime/include/timer_config.h): section and symbol, preamble, record offsets and
// sizes, source codes and limits. The encoder (emit/timer-config.ts) takes them from here, and
// test/compile/abi/headers.test.ts reads the header and compares each one.
import { MICROKIT } from '../model/facts.js';
import { WAKE_MAX_CLIENTS } from './wake.js';

export const TIMER_CONFIG_SECTION = '.timer_config';
export const TIMER_CONFIG_SYMBOL = 'timer_config_blob';
export const TIMER_CONFIG_RESERVED_SIZE = 4096;
/** 'S4TM' in memory order, read as a little-endian u32. */
export const TIMER_CONFIG_MAGIC = 0x4d543453;
export const TIMER_CONFIG_VERSION = 1;
/** `sizeof(struct timer_config)`. */
export const TIMER_CONFIG_HEADER_SIZE = 0x3e8;
/** One client per VMM the timer PD wakes (vmm_wake.h WAKE_MAX_CLIENTS). */
export const TIMER_CONFIG_MAX_CLIENTS = WAKE_MAX_CLIENTS;
/** `irq_channel` for a source without an interrupt. */
export const TIMER_CONFIG_NO_CHANNEL = 0xff;
/** Microkit 2.0.1: channel ids 0..61. */
export const TIMER_CONFIG_MAX_CHANNEL = MICROKIT.maxChannelId;

/** `source` values (TIMER_SOURCE_*). */
export const TIMER_CONFIG_SOURCES = { 'arm-ptimer': 1, 'sched-tick': 2 } as const;

/** Field offsets of `struct timer_config`. */
export const TIMER_CONFIG_OFFSETS = {
  magic: 0x00,
  version: 0x04,
  headerSize: 0x06,
  totalSize: 0x08,
  crc32: 0x0c,
  source: 0x10,
  irqChannel: 0x11,
  clientCount: 0x12,
  tickUs: 0x14,
  clients: 0x18,
} as const;

/** Field offsets of `struct timer_config_client` (one of `clients[]`). */
export const TIMER_CONFIG_CLIENT_OFFSETS = { slotVaddr: 0x0, channel: 0x8 } as const;
export const TIMER_CONFIG_CLIENT_SIZE = 0x10;
