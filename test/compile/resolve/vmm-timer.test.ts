// The timer PD that wakes idle vCPUs: what resolution (src/compile/resolve/vmm-timer.ts) adds to a
// system. The checks that need the SDK's kernel configuration: test/compile/validate/vmm-timer.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { allProtectionDomains } from '../../../src/compile/model/index.js';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';
import { timerConfigOf, wakeRouteOf } from '../../../src/compile/link/timer-elf.js';
import { resolvedModel } from '../resolved-model.js';

const model = resolvedModel;

test('two blocking guests get one timer PD: a slot each (VMM rw, timer r), a channel each, a sporadic tick', async () => {
  const m = await model('examples/two-vms-qemu.ts');
  const t = m.vmmTimer!;
  assert.ok(t);
  assert.is(t.source, 'sched-tick');
  assert.is(t.tickUs, 1000);
  assert.equal(t.clients.map((c) => [c.vm, c.vmm, c.slotMr]), [['first', 'first_vmm', 'first_wake_slot'], ['second', 'second_vmm', 'second_wake_slot']]);
  const pd = allProtectionDomains(m).find((p) => p.name === 'vmm_timer')!;
  assert.equal([pd.priority, pd.budget, pd.period, pd.programImage], [254, 100, 1000, 'vmm_timer.elf']);
  assert.equal(pd.maps.map((x) => [x.mr, x.perms]), [['first_wake_slot', 'r'], ['second_wake_slot', 'r']]);
  for (const c of t.clients) {
    const vmm = allProtectionDomains(m).find((p) => p.name === c.vmm)!;
    assert.equal(vmm.maps.filter((x) => x.mr === c.slotMr).map((x) => x.perms), ['rw']);
    assert.is(c.channel.a.pd, c.vmm);
    assert.is(c.channel.b.pd, 'vmm_timer');
  }
  // The ids: first_vmm's 0 is its UART's interrupt, so its timer channel is 1; second_vmm (an
  // emulated UART, no interrupt) gets 0; the timer PD numbers its clients 0 and 1. These are the
  // ids the .system file gives the channels, each VMM's wake route names and the timer PD's
  // client table holds.
  assert.equal(t.clients.map((c) => [c.channel.a.id, c.channel.b.id]), [[1, 0], [0, 1]]);
  assert.equal(t.clients.map((c) => wakeRouteOf(t, c.vm)?.timerChannel), [1, 0]);
  assert.equal(timerConfigOf(t).clients.map((c) => c.channel), [0, 1]);
  assert.equal(validateSystem(m).filter((d) => d.severity === 'error'), []);
  const xml = emitSystemXml(m, { toolVersion: 'test' });
  assert.match(xml, /<protection_domain name="vmm_timer" priority="254" budget="100" period="1000">/);
  assert.match(xml, /<map mr="second_wake_slot" vaddr="0x[0-9a-f]+" perms="r"\/>/);
  assert.match(xml, /<channel>\s*<end pd="first_vmm" id="1"\/>\s*<end pd="vmm_timer" id="0"\/>\s*<\/channel>/);
  assert.match(xml, /<channel>\s*<end pd="second_vmm" id="0"\/>\s*<end pd="vmm_timer" id="1"\/>\s*<\/channel>/);
});

test("no timer PD when every guest spins; the physical timer's PPI when asked for", async () => {
  const spin = await model('test/fixtures/systems/idle-counter.ts', { idle: 'spin' });
  assert.is(spin.vmmTimer, undefined);
  assert.not.ok(allProtectionDomains(spin).some((p) => p.name === 'vmm_timer'));
  const ptimer = await model('test/fixtures/systems/idle-counter.ts', { timer: 'arm-ptimer' });
  assert.is(ptimer.vmmTimer!.source, 'arm-ptimer');
  assert.equal(ptimer.vmmTimer!.irq && [ptimer.vmmTimer!.irq.irq, ptimer.vmmTimer!.irq.trigger], [30, 'level']);
  const pd = allProtectionDomains(ptimer).find((p) => p.name === 'vmm_timer')!;
  assert.equal([pd.budget, pd.period], [1000, 1000]);
  // The PPI comes from the board's data: no irq-not-spi warning for it.
  assert.equal(validateSystem(ptimer).map((d) => d.id), []);
});

test.run();
