// One run of the two-guest link fixture (test/fixtures/systems/net-e2e.ts), shared by
// test/e2e/virtio-net.test.ts and bench/net.ts: what the guests printed, parsed.
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
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
  /** What the VMMs printed at the guests' counters markers: vm -> label -> key -> count. */
  counters: VmmCounters;
  /** The whole console log. */
  console: string;
}

/** vm -> marker label -> counter -> value; a virtio device's keys are prefixed, e.g. "net0.kicks". */
export type VmmCounters = Record<string, Record<string, Record<string, number>>>;

/** The counters lines (src/vmm-runtime/include/vmm.h, vmm_counters_log) in a console log. */
export function parseCounters(out: string): VmmCounters {
  const all: VmmCounters = {};
  for (const m of out.matchAll(/VM '([^']+)'(?: virtio-(\w+) (\d+))? counters '([\w-]+)': ([^\r\n]*)/g)) {
    const [, vm, kind, index, label, pairs] = m;
    const at = ((all[vm!] ??= {})[label!] ??= {});
    for (const p of pairs!.matchAll(/(\w+)=(\d+)/g)) at[kind ? `${kind}${index}.${p[1]}` : p[1]!] = Number(p[2]);
  }
  return all;
}

/** counters[vm][to] - counters[vm][from], key by key (the cost of what happened in between). */
export function counterDelta(c: VmmCounters, vm: string, from: string, to: string): Record<string, number> {
  const a = c[vm]?.[from];
  const b = c[vm]?.[to];
  if (!a || !b) throw new Error(`no counters '${from}' and '${to}' from VM '${vm}' in the console`);
  return Object.fromEntries(Object.keys(b).map((k) => [k, b[k]! - (a[k] ?? 0)]));
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
    await q.waitFor(/VM 'right' virtio-net \d+ counters 'ping-end'.*\r?\n/, timeoutMs);
    await q.waitFor(/VM 'left' virtio-net \d+ counters 'after-ping-back'.*\r?\n/, timeoutMs);
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
      counters: parseCounters(out),
      console: out,
    };
  } finally {
    await q.stop();
  }
}

