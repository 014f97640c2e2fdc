// One run of the lifecycle fixture (test/fixtures/systems/lifecycle.ts), shared by
// test/e2e/lifecycle.test.ts and bench/lifecycle.ts: boots it on QEMU with an SDK and waits until
// 'web' runs its third incarnation (after a panic the policy restarted, and a power-off its
// controller restarted), returning the console and when each step was seen.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { repoRoot } from '../helpers.js';
import { BOOT_MS } from './requirements.js';

const M = 'SEL4CP-SYNTH:';

export interface LifecycleRun {
  output: string;
  /** Host milliseconds since QEMU started, at each step. */
  at: {
    vmmStarted: number; firstUp: number; panics: number; failureSeen: number; secondUp: number;
    poweroff: number; thirdUp: number; thirdReaches: number;
  };
  release: string;
}

export async function runLifecycle(sdkDir: string, options: { backoffMs?: number; timeoutMs?: number } = {}): Promise<LifecycleRun> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-lifecycle-'));
  const timeout = options.timeoutMs ?? BOOT_MS * 2;
  try {
    // web's only memory across incarnations: a disk of zeros (a restart keeps what a disk holds).
    const disk = path.join(work, 'disk.img');
    writeFileSync(disk, new Uint8Array(64 * 1024));
    const context = new Map([['disk', disk], ['backoff', String(options.backoffMs ?? 1500)]]);
    const result = await synthesise({ file: path.join(repoRoot, 'test/fixtures/systems/lifecycle.ts'), board: 'qemu_virt_aarch64', config: 'debug', outDir: path.join(work, 'out'), sdk: sdkDir, context });
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    if (errors.length > 0 || !result.loaderImage) throw new Error(`no loader.img: ${[...errors, ...result.skipped.map((s) => s.reason)].join('; ')}`);
    const q = await startQemu({ args: qemuArgs(result.model.board!, result.loaderImage, result.model) });
    try {
      const step = async (pattern: string | RegExp): Promise<number> => (await q.waitFor(pattern, timeout)).elapsedMs;
      const at = {
        vmmStarted: await step('[web] running after boot'),
        firstUp: await step(`${M} web up incarnation 1`),
        panics: await step(`${M} web panics`),
        failureSeen: await step("VM 'web' stopped: PSCI SYSTEM_RESET"),
        secondUp: await step(`${M} web up incarnation 2`),
        poweroff: await step(`${M} web powers off`),
        thirdUp: await step(`${M} web up incarnation 3`),
        thirdReaches: await step(`${M} web reaches peer (incarnation 3)`),
      };
      // peer keeps pinging: let it see web once more after the third start.
      await q.waitFor(/peer reaches web yes[\s\S]*web up incarnation 3|web up incarnation 3[\s\S]*peer reaches web yes/, timeout).catch(() => undefined);
      return { output: q.output, at, release: result.model.microkit };
    } finally {
      await q.stop();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
