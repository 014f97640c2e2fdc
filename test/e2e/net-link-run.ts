// One run of the two-guest link fixture (test/fixtures/systems/net-e2e.ts), shared by
// test/e2e/virtio-net.test.ts and bench/net.ts: what the guests printed, parsed.
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/cli/commands/run.js';
import { startQemu } from '../../src/run/qemu.js';
import { repoRoot } from '../helpers.js';
import { BOOT_MS } from './requirements.js';

/** What one run of the fixture measured (guest clocks; both from the guests' own output). */
export interface NetRun {
  pingAvgMs: number;
  pingBackAvgMs: number;
  transferSeconds: number;
  sentMd5: string;
  receivedMd5: string;
  bootMs: number;
}

const num = (m: RegExpMatchArray | null, what: string): number => {
  if (!m) throw new Error(`no ${what} in the console`);
  return Number(m[1]);
};

/** Synthesise and boot the two-guest link fixture; returns when `right` has pinged back. */
export async function runNetLink(outDir: string, sdkDir: string, timeoutMs = BOOT_MS * 2): Promise<NetRun> {
  const result = await synthesise({ file: path.join(repoRoot, 'test/fixtures/systems/net-e2e.ts'), board: 'qemu_virt_aarch64', config: 'debug', outDir, sdk: sdkDir, context: new Map() });
  const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  if (errors.length > 0 || !result.loaderImage) throw new Error(`no loader.img: ${[...errors, ...result.skipped.map((s) => s.reason)].join('; ')}`);
  const q = await startQemu({ args: qemuArgs(result.model.board!, result.loaderImage) });
  try {
    const up = await q.waitFor('SEL4CP-SYNTH: net up eth0 10.0.0.1/24', timeoutMs);
    await q.waitFor(/right\| SEL4CP-SYNTH: ping back ok .*\r?\n/, timeoutMs);
    const out = q.output;
    const stopped = /VM '(left|right)' stopped: .*/.exec(out);
    if (stopped) throw new Error(`a VMM stopped its VM: ${stopped[0]}`);
    const sent = /SEL4CP-SYNTH: sent 16 MiB from ([\d.]+) to ([\d.]+)/.exec(out);
    return {
      pingAvgMs: num(/SEL4CP-SYNTH: ping ok round-trip min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out), 'ping figure'),
      pingBackAvgMs: num(/SEL4CP-SYNTH: ping back ok round-trip min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out), 'ping-back figure'),
      transferSeconds: sent ? Number(sent[2]) - Number(sent[1]) : NaN,
      sentMd5: /SEL4CP-SYNTH: sent md5 ([0-9a-f]{32})/.exec(out)?.[1] ?? '',
      receivedMd5: /SEL4CP-SYNTH: received md5 ([0-9a-f]{32})/.exec(out)?.[1] ?? '',
      bootMs: up.elapsedMs,
    };
  } finally {
    await q.stop();
  }
}

