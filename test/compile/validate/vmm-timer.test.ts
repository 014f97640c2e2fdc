// The timer PD that wakes idle vCPUs: the checks (src/compile/validate/vmm-timer.ts) that need the
// SDK's kernel configuration, given here as facts so that they run everywhere. What resolution adds
// to a system: test/compile/resolve/vmm-timer.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { validateSystem } from '../../../src/compile/validate/index.js';
import type { KernelFacts } from '../../../src/compile/model/index.js';
import { resolvedModel } from '../resolved-model.js';

const model = resolvedModel;

const kernel = (over: Partial<KernelFacts>): KernelFacts => ({ allowSmc: false, exportPtimer: true, vtimerUpdateVoffset: false, source: 'gen_config.json', ...over });

test("the kernel's configuration decides: no exported physical timer, or a VOFFSET that stops guest time", async () => {
  const ptimer = await model('test/fixtures/systems/idle-counter.ts', { timer: 'arm-ptimer' });
  ptimer.kernel = kernel({ exportPtimer: false });
  assert.equal(validateSystem(ptimer).map((d) => d.id), ['vmm-timer-source-unavailable']);
  ptimer.kernel = kernel({});
  assert.equal(validateSystem(ptimer).map((d) => d.id), []);
  const tick = await model('examples/two-vms-qemu.ts');
  tick.kernel = kernel({ exportPtimer: false, vtimerUpdateVoffset: true });
  const diags = validateSystem(tick);
  assert.equal(diags.map((d) => d.id), ['vmm-timer-voffset']);
  assert.match(diags[0]!.message, /VTIMER_UPDATE_VOFFSET/);
  assert.is(path.basename(diags[0]!.location!.file), 'two-vms-qemu.ts');
});

test.run();
