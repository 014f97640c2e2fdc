// End to end: VMs that recover (virtualMachine({ restart }), control(); docs/lifecycle.md), on
// QEMU with Linux as the oracle, on Microkit 2.0.1 (MICROKIT_SDK) and 2.3.0 (MICROKIT_SDK_2_3_0).
// One boot of test/fixtures/systems/lifecycle.ts (test/e2e/lifecycle-run.ts) shows:
//  - a guest with 'on-failure' that panics (sysrq c, panic=1: PSCI SYSTEM_RESET) comes back: its
//    marker seen twice, the restart counted ("1 of 5");
//  - the pattern it wrote at a guest-physical address before the restart reads zero after it
//    (Linux's /dev/mem, busybox devmem);
//  - its link peer sees the link go down and come back (its VMM's line, its guest's carrier)
//    and keeps running: booted once, answering web's pings after each restart;
//  - a power-off stays off under 'on-failure'; the controlling PD sees it stopped, restarts the
//    VM with a command and is told when it runs again.
// Without an SDK, QEMU or the guest images: one SKIP line per release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { missing, testIf } from '../helpers.js';
import { runLifecycle, type LifecycleRun } from './lifecycle-run.js';
import { missingForBoot, sdk } from './requirements.js';

const M = 'SEL4CP-SYNTH:';
const sdk230 = process.env['MICROKIT_SDK_2_3_0'] ?? '';
const needs201 = missingForBoot() ?? missing('guest-busybox', 'guest-modules');
const needs230 = (!sdk230 || !existsSync(path.join(sdk230, 'bin', 'microkit')) ? 'MICROKIT_SDK_2_3_0 is not set to a Microkit 2.3.0 SDK' : undefined)
  ?? missing('cross-gcc', 'qemu', 'guest-kernel', 'guest-busybox', 'guest-modules');

const count = (out: string, text: string): number => out.split(text).length - 1;

/** The index of each text in order; fails naming the first missing or out of order. */
function inOrder(out: string, texts: string[]): void {
  let from = 0;
  for (const t of texts) {
    const at = out.indexOf(t, from);
    assert.ok(at >= 0, `'${t}' does not follow '${out.slice(Math.max(0, from - 120), from).trim()}' in the console:\n${out.slice(-3000)}`);
    from = at + t.length;
  }
}

function check(run: LifecycleRun): void {
  const out = run.output;
  // The panic, and the policy's restart with its count; the marker twice by then.
  inOrder(out, [
    '[web] running after boot', `${M} web up incarnation 1`, `${M} web wrote pattern 0x5A5AA5A5`, `${M} web panics`,
    "VM 'web' stopped: PSCI SYSTEM_RESET", '[web] restarting after guest reset (PSCI SYSTEM_RESET) in 1500 ms: 1 of 5',
    '[web] restarted after guest reset (PSCI SYSTEM_RESET): 1 of 5', `${M} web up incarnation 2`,
  ]);
  // Nothing of the first incarnation's RAM is readable by the second.
  assert.match(out, `${M} web reads after restart 0x00000000`);
  // The peer: its VMM and its guest see the link go down and come back; it runs on.
  inOrder(out, [`${M} web panics`, "VM 'peer' virtio-net 0: link down (the peer's side)", "VM 'peer' virtio-net 0: link up (the peer's side)"]);
  inOrder(out, [`${M} peer carrier 1`, `${M} peer carrier 0`, `${M} peer carrier 1`]);
  assert.is(count(out, `${M} peer up`), 1, 'peer booted once');
  assert.is(count(out, '[peer] '), 1, 'peer never changed state after its boot');
  inOrder(out, [`${M} web up incarnation 2`, `${M} web reaches peer (incarnation 2)`]);
  inOrder(out, [`${M} web up incarnation 3`, `${M} web reaches peer (incarnation 3)`]);
  // A power-off stays off under 'on-failure': no restart by the policy, only by the PD's command.
  inOrder(out, [
    `${M} web powers off`, "[web] stopped after guest power-off (PSCI SYSTEM_OFF): restart policy 'on-failure'",
    `${M} ctl saw web stopped cause 4 restarts 1 incarnation 2`, `${M} ctl: web powered off; restarting it`,
    '[web] started by a command of its controller', `${M} ctl: web runs again after my restart, incarnation 3`,
    `${M} web up incarnation 3`,
  ]);
  assert.not.match(out, 'restarted after guest power-off');
  assert.match(out, `${M} ctl: command 1 done`);
  // Only web's VMM touched web: no other VM changed state, no link error anywhere.
  assert.not.match(out, /link stopped/);
  process.stdout.write(`lifecycle ${run.release}: cold boot ${((run.at.firstUp - run.at.vmmStarted) / 1000).toFixed(2)} s, ` +
    `panic to marker ${((run.at.secondUp - run.at.panics) / 1000).toFixed(2)} s (1.5 s backoff), ` +
    `power-off to marker (PD restart) ${((run.at.thirdUp - run.at.poweroff) / 1000).toFixed(2)} s\n`);
}

testIf(needs201, 'Microkit 2.0.1: a panicking guest comes back under on-failure, its RAM cleared, its peer running; a PD restarts it after a power-off', async () => {
  check(await runLifecycle(sdk!));
});

testIf(needs230, 'Microkit 2.3.0: the same, on the 2.3.0 SDK', async () => {
  const run = await runLifecycle(sdk230);
  assert.is(run.release, '2.3.0');
  check(run);
});

test.run();
