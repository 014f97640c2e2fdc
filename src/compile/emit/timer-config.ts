/**
 * The timer PD's configuration blob: the bytes the link step writes into the `.timer_config`
 * section of `timer.elf`. Its layout is the runtime's (src/vmm-runtime/include/timer_config.h),
 * taken field by field from ../abi/timer-config.ts, which a test compares with the C header.
 *
 * Pure. Invalid input is our own bug (validation runs before emit), so the encoder throws.
 */
import { crc32 } from '../abi/crc32.js';
import {
  TIMER_CONFIG_CLIENT_OFFSETS, TIMER_CONFIG_CLIENT_SIZE, TIMER_CONFIG_HEADER_SIZE, TIMER_CONFIG_MAGIC, TIMER_CONFIG_MAX_CHANNEL,
  TIMER_CONFIG_MAX_CLIENTS, TIMER_CONFIG_NO_CHANNEL, TIMER_CONFIG_OFFSETS, TIMER_CONFIG_SOURCES, TIMER_CONFIG_VERSION,
} from '../abi/timer-config.js';

const MAX_CHANNEL = TIMER_CONFIG_MAX_CHANNEL;

/**
 * Where the timer PD's time comes from.
 * - `arm-ptimer`: the EL1 physical timer (CNTP) and its interrupt; exact deadlines; needs a
 *   kernel built with KernelArmExportPTMRUser, which also lets guests at EL1 reach that timer.
 * - `sched-tick`: no device; the PD sleeps a scheduling period at a time (seL4_Yield on a
 *   sporadic MCS scheduling context); deadlines are met within one period.
 */
export type TimerSource = keyof typeof TIMER_CONFIG_SOURCES;
const SOURCE_CODE: Record<TimerSource, number> = TIMER_CONFIG_SOURCES;

export interface TimerConfigClient {
  /** The channel id, in the timer PD, of its channel to that VMM. */
  channel: number;
  /** Where that VMM's wake slot is mapped (read-only) in the timer PD. */
  slotVaddr: bigint;
}

export interface TimerConfig {
  source: TimerSource;
  /** arm-ptimer: the timer PPI's channel id in the timer PD. */
  irqChannel?: number;
  /** sched-tick: the PD's scheduling period in µs. */
  tickUs?: number;
  clients: TimerConfigClient[];
}

function bug(message: string): never {
  throw new Error(`encodeTimerConfig: ${message}`);
}

function validate(cfg: TimerConfig): void {
  if (!(cfg.source in SOURCE_CODE)) bug(`unknown source ${String(cfg.source)}`);
  if (cfg.source === 'arm-ptimer') {
    if (cfg.irqChannel === undefined || !Number.isInteger(cfg.irqChannel) || cfg.irqChannel < 0 || cfg.irqChannel > MAX_CHANNEL) bug('arm-ptimer needs an IRQ channel 0..61');
  } else {
    if (cfg.irqChannel !== undefined) bug('sched-tick has no IRQ channel');
    if (cfg.tickUs === undefined || !Number.isInteger(cfg.tickUs) || cfg.tickUs <= 0 || cfg.tickUs > 0xffff_ffff) bug('sched-tick needs its period in µs');
  }
  if (cfg.clients.length === 0 || cfg.clients.length > TIMER_CONFIG_MAX_CLIENTS) bug(`${cfg.clients.length} clients`);
  cfg.clients.forEach((c, i) => {
    if (!Number.isInteger(c.channel) || c.channel < 0 || c.channel > MAX_CHANNEL || c.channel === cfg.irqChannel) bug(`client ${i} channel ${c.channel}`);
    if (c.slotVaddr <= 0n || c.slotVaddr % 0x1000n !== 0n || c.slotVaddr >= 1n << 64n) bug(`client ${i} slot address 0x${c.slotVaddr.toString(16)}`);
    if (cfg.clients.findIndex((o) => o.channel === c.channel || o.slotVaddr === c.slotVaddr) !== i) bug(`client ${i} shares a channel or slot`);
  });
}

export function encodeTimerConfig(cfg: TimerConfig): Uint8Array {
  validate(cfg);
  const O = TIMER_CONFIG_OFFSETS;
  const bytes = new Uint8Array(TIMER_CONFIG_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(O.magic, TIMER_CONFIG_MAGIC, true);
  view.setUint16(O.version, TIMER_CONFIG_VERSION, true);
  view.setUint16(O.headerSize, TIMER_CONFIG_HEADER_SIZE, true);
  view.setUint32(O.totalSize, TIMER_CONFIG_HEADER_SIZE, true);
  view.setUint8(O.source, SOURCE_CODE[cfg.source]);
  view.setUint8(O.irqChannel, cfg.irqChannel ?? TIMER_CONFIG_NO_CHANNEL);
  view.setUint8(O.clientCount, cfg.clients.length);
  view.setUint32(O.tickUs, cfg.tickUs ?? 0, true);
  const C = TIMER_CONFIG_CLIENT_OFFSETS;
  cfg.clients.forEach((c, i) => {
    const off = O.clients + i * TIMER_CONFIG_CLIENT_SIZE;
    view.setBigUint64(off + C.slotVaddr, c.slotVaddr, true);
    view.setUint8(off + C.channel, c.channel);
  });
  view.setUint32(O.crc32, crc32(bytes), true);
  return bytes;
}

/** Decodes a blob (for tests and tools); throws with a one-line reason on a bad preamble. */
export function decodeTimerConfig(blob: Uint8Array): TimerConfig {
  const O = TIMER_CONFIG_OFFSETS;
  if (blob.length < TIMER_CONFIG_HEADER_SIZE) throw new Error(`timer config blob of ${blob.length} bytes is too short`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(O.magic, true) !== TIMER_CONFIG_MAGIC) throw new Error('timer config blob has bad magic');
  if (view.getUint16(O.version, true) !== TIMER_CONFIG_VERSION) throw new Error('timer config blob has an unsupported version');
  const copy = blob.slice(0, TIMER_CONFIG_HEADER_SIZE);
  copy.fill(0, O.crc32, O.crc32 + 4);
  if (crc32(copy) !== view.getUint32(O.crc32, true)) throw new Error('timer config blob has a bad checksum');
  const code = view.getUint8(O.source);
  const source = (Object.keys(SOURCE_CODE) as TimerSource[]).find((k) => SOURCE_CODE[k] === code);
  if (!source) throw new Error(`timer config blob has source ${code}`);
  const count = view.getUint8(O.clientCount);
  const irq = view.getUint8(O.irqChannel);
  return {
    source,
    ...(irq !== TIMER_CONFIG_NO_CHANNEL ? { irqChannel: irq } : {}),
    ...(source === 'sched-tick' ? { tickUs: view.getUint32(O.tickUs, true) } : {}),
    clients: Array.from({ length: Math.min(count, TIMER_CONFIG_MAX_CLIENTS) }, (_, i) => {
      const off = O.clients + i * TIMER_CONFIG_CLIENT_SIZE;
      return { slotVaddr: view.getBigUint64(off + TIMER_CONFIG_CLIENT_OFFSETS.slotVaddr, true), channel: view.getUint8(off + TIMER_CONFIG_CLIENT_OFFSETS.channel) };
    }),
  };
}
