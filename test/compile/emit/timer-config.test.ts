// The timer PD's config blob as the encoder writes it (its layout against timer_config.h: test/compile/abi/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeTimerConfig, encodeTimerConfig, type TimerConfig } from '../../../src/compile/emit/timer-config.js';
import { TIMER_CONFIG_HEADER_SIZE } from '../../../src/compile/abi/timer-config.js';

const tick: TimerConfig = { source: 'sched-tick', tickUs: 1000, clients: [{ channel: 0, slotVaddr: 0x20_0000_0000n }, { channel: 3, slotVaddr: 0x20_0000_1000n }] };

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
