import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTimerConfig, encodeTimerConfig, type TimerConfig } from '../../../src/compile/emit/timer-config.js';
import { TIMER_CONFIG_CLIENT_SIZE, TIMER_CONFIG_HEADER_SIZE, TIMER_CONFIG_MAGIC, TIMER_CONFIG_MAX_CLIENTS, TIMER_CONFIG_NO_CHANNEL, TIMER_CONFIG_OFFSETS, TIMER_CONFIG_RESERVED_SIZE, TIMER_CONFIG_VERSION } from '../../../src/compile/abi/timer-config.js';
import { readCHeader, snake } from '../../c-header.js';

const tick: TimerConfig = { source: 'sched-tick', tickUs: 1000, clients: [{ channel: 0, slotVaddr: 0x20_0000_0000n }, { channel: 3, slotVaddr: 0x20_0000_1000n }] };

test('constants and offsets are those timer_config.h and vmm_wake.h pin (read from the headers)', () => {
  const h = readCHeader('src/vmm-runtime/include/timer_config.h');
  const wake = readCHeader('src/vmm-runtime/include/vmm_wake.h');
  assert.is(h.defines.get('TIMER_CONFIG_MAGIC'), TIMER_CONFIG_MAGIC);
  assert.is(h.defines.get('TIMER_CONFIG_VERSION'), TIMER_CONFIG_VERSION);
  assert.is(h.defines.get('TIMER_CONFIG_RESERVED_SIZE'), TIMER_CONFIG_RESERVED_SIZE);
  assert.is(h.defines.get('TIMER_CONFIG_NO_CHANNEL'), TIMER_CONFIG_NO_CHANNEL);
  assert.is(h.defines.get('TIMER_SOURCE_ARM_PTIMER'), 1);
  assert.is(h.defines.get('TIMER_SOURCE_SCHED_TICK'), 2);
  assert.is(wake.defines.get('WAKE_MAX_CLIENTS'), TIMER_CONFIG_MAX_CLIENTS);
  assert.is(h.sizes.get('timer_config'), TIMER_CONFIG_HEADER_SIZE);
  assert.is(h.sizes.get('timer_config_client'), TIMER_CONFIG_CLIENT_SIZE);
  const c = h.offsets.get('timer_config')!;
  for (const [field, offset] of Object.entries(TIMER_CONFIG_OFFSETS)) assert.is(c.get(snake(field)), offset, `offset of ${snake(field)}`);
});

test('encode is deterministic, decode inverts it', () => {
  const a = encodeTimerConfig(tick);
  assert.equal(a, encodeTimerConfig(tick));
  assert.is(a.length, TIMER_CONFIG_HEADER_SIZE);
  assert.equal([...a.subarray(0, 4)], [0x53, 0x34, 0x54, 0x4d]);
  assert.equal(decodeTimerConfig(a), tick);
  const ptimer: TimerConfig = { source: 'arm-ptimer', irqChannel: 2, clients: [{ channel: 0, slotVaddr: 0x1000n }] };
  assert.equal(decodeTimerConfig(encodeTimerConfig(ptimer)), ptimer);
  const bad = a.slice();
  bad[40] = bad[40]! ^ 1;
  assert.throws(() => decodeTimerConfig(bad), /checksum/);
});

test('encode throws on our own bugs', () => {
  assert.throws(() => encodeTimerConfig({ ...tick, clients: [] }), /0 clients/);
  assert.throws(() => encodeTimerConfig({ ...tick, irqChannel: 1 }), /no IRQ channel/);
  assert.throws(() => encodeTimerConfig({ source: 'arm-ptimer', clients: tick.clients }), /IRQ channel/);
  assert.throws(() => encodeTimerConfig({ ...tick, clients: [{ channel: 0, slotVaddr: 0x1000n }, { channel: 0, slotVaddr: 0x2000n }] }), /shares/);
  assert.throws(() => encodeTimerConfig({ ...tick, clients: [{ channel: 62, slotVaddr: 0x1000n }] }), /channel 62/);
  assert.throws(() => encodeTimerConfig({ ...tick, clients: [{ channel: 1, slotVaddr: 0x1008n }] }), /slot address/);
});

test.run();
