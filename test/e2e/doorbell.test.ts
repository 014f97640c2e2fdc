// End to end: a guest program and a native PD exchange 1,000 messages through a shared page and
// the VM's doorbell (docs/doorbell.md), on each Microkit release whose SDK is given. The system
// is the example users read (examples/doorbell-qemu.ts): the PD is built from its C source by
// sel4cp-synth; the guest program (examples/doorbell/client.c) is built here with the cross
// compiler, freestanding. The oracles: Linux's gpio-pl061 driver and GPIO character device
// (the guest finds its lines by name and waits for edges on them), and both sides' checks of
// every message's sequence number and value, each in its own address space.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { missing, repoRoot, testIf } from '../helpers.js';
import { buildGuestProgram, missingCrossCompiler } from './native-pd.js';
import { BOOT_MS } from './requirements.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-doorbell-'));
const example = path.join(repoRoot, 'examples', 'doorbell-qemu.ts');
const MESSAGES = 1000;

/** The guest program, as examples/doorbell-qemu.ts says to build it. */
const buildClient = (): string => buildGuestProgram(path.join(repoRoot, 'examples', 'doorbell', 'client.c'), path.join(work, 'doorbell-client'));

const releases = [['2.0.1', process.env['MICROKIT_SDK'], 'MICROKIT_SDK'], ['2.3.0', process.env['MICROKIT_SDK_2_3_0'], 'MICROKIT_SDK_2_3_0']] as const;
for (const [release, sdk, variable] of releases) {
  const why = (sdk ? undefined : `no Microkit ${release} SDK (${variable})`) ?? missingCrossCompiler()
    ?? missing('qemu', 'guest-kernel', 'guest-busybox');
  testIf(why, `doorbell on Microkit ${release}: a guest program and a PD exchange ${MESSAGES} messages in order, notifications both ways`, async () => {
    const result = await synthesise({
      file: example, board: 'qemu_virt_aarch64', config: 'debug', outDir: path.join(work, `out-${release}`), sdk,
      context: new Map([['client', buildClient()], ['messages', String(MESSAGES)]]),
    });
    assert.equal(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
    assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);
    const q = await startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!, result.model) });
    try {
      await q.waitFor('echo: ready', BOOT_MS);
      const start = await q.waitFor('SEL4CP-SYNTH: doorbell start', BOOT_MS);
      const done = await q.waitFor(/SEL4CP-SYNTH: doorbell done \d+/, BOOT_MS);
      const out = q.output;
      assert.match(out, `doorbell-client: ${MESSAGES} messages exchanged in order with echo`);
      assert.match(out, 'SEL4CP-SYNTH: doorbell done 0');
      // The PD saw every request in order and answered it (it reports every 250th).
      assert.match(out, `echo: answered in order up to at sequence ${MESSAGES}`);
      assert.not.match(out, /echo: request (out of order|with a wrong value)/);
      assert.not.match(out, /doorbell-client: FAILED/);
      assert.not.match(out, /VM 'guest' stopped/);
      // Each reply was an edge the guest waited for (the requests alternate with the replies,
      // so no two notifications can merge into one edge).
      assert.match(out, `with echo (${MESSAGES} notify edges)`);
      console.log(`doorbell on ${release}: ${MESSAGES} round trips in ${((done.elapsedMs - start.elapsedMs) / 1000).toFixed(1)} s (host clock, QEMU TCG)`);
    } finally {
      await q.stop();
    }
  });
}

test.run();
