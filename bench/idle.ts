// Idle guests and the rest of the machine (issue: WFI/WFE that block).
//
//  - Share of the core that a lowest-priority native PD, counting in a loop, gets beside two
//    idle guests, against its rate alone: timer PD on the scheduling tick, on the physical
//    timer, and guests that spin instead of blocking. Interleaved A B C D per round, median of
//    the rounds, each as a ratio to "alone".
//  - VM exits per second of one idle guest, from the VMM's exit counters: a guest that idles 12
//    seconds minus one that idles 2, over the 10 seconds between (counts, not times).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../src/compile/synthesise.js';
import { qemuArgs } from '../src/run/machine.js';
import { startQemu, type QemuProcess } from '../src/run/qemu.js';
import { GUEST_IDLE_FOR_PARAM, GUEST_IDLE_PREFIX } from '../src/compile/initramfs/busybox-initramfs.js';
import { buildNativePd, missingCrossCompiler } from '../test/e2e/native-pd.js';

const ROUNDS = 5;
const WINDOW_MS = 6000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Ctx { root: string; sdk: string; work: string; counter: string }

async function bootSystem(c: Ctx, out: string, context: Record<string, string>): Promise<QemuProcess> {
  const r = await synthesise({
    file: path.join(c.root, 'test', 'fixtures', 'systems', 'idle-counter.ts'), board: 'qemu_virt_aarch64', config: 'debug',
    outDir: path.join(c.work, out), sdk: c.sdk, context: new Map(Object.entries({ counter: c.counter, ...context })),
  });
  if (!r.loaderImage) throw new Error(`no loader.img: ${r.skipped.map((s) => s.reason).join('; ')}`);
  return startQemu({ args: qemuArgs(r.model.board!, r.loaderImage) });
}

/** Counter iterations per second over a window that starts once `ready` has been printed. */
async function counterRate(c: Ctx, label: string, context: Record<string, string>, ready: string): Promise<number> {
  const q = await bootSystem(c, label, context);
  try {
    await q.waitFor(ready, 300_000);
    const from = q.position;
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const buffered = q.output.slice(Math.max(0, from - (q.position - q.output.length)));
    const rates = [...buffered.matchAll(/counter: (\d+) per s/g)].map((m) => Number(m[1]));
    // A starved counter prints nothing: count that as zero, not as a missing sample.
    return rates.length >= 3 ? median(rates) : rates.reduce((a, b) => a + b, 0) / (WINDOW_MS / 1000);
  } finally {
    await q.stop();
  }
}

const EXIT_CLASSES = ['mmio', 'smc/hvc', 'wfx', 'sysreg', 'maintenance', 'vppi', 'irq', 'vCPU suspensions'] as const;

/** One guest that idles `seconds` and powers off: its VMM's exit counters. */
async function idleExits(c: Ctx, seconds: number, idle: 'block' | 'spin'): Promise<Record<string, number>> {
  const q = await bootSystem(c, `exits-${idle}-${seconds}`, { vms: '1', idle, bootargs: `console=ttyAMA0 ${GUEST_IDLE_FOR_PARAM}=${seconds}` });
  try {
    const line = (await q.waitFor(/exits: [^\n]*\n/, 300_000)).text;
    const out: Record<string, number> = {};
    for (const k of EXIT_CLASSES) out[k] = Number(new RegExp(`${k.replace('/', '\\/')}=(\\d+)`).exec(line)?.[1] ?? NaN);
    return out;
  } finally {
    await q.stop();
  }
}

export async function benchIdle(root: string, sdk: string): Promise<void> {
  const noCc = missingCrossCompiler();
  if (noCc) return void console.log(`SKIP idle guests: ${noCc}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bench-idle-'));
  try {
    const counter = buildNativePd({ sdk, board: 'qemu_virt_aarch64', config: 'debug', source: path.join(root, 'test', 'e2e', 'pds', 'counter.c'), out: path.join(work, 'counter.elf') });
    const c: Ctx = { root, sdk, work, counter };
    const ready = `second| ${GUEST_IDLE_PREFIX}2`;
    const variants: [string, Record<string, string>, string][] = [
      ['alone', { vms: '0' }, 'counter: '],
      ['two idle guests, timer PD on the scheduling tick (default)', {}, ready],
      ['two idle guests, timer PD on the physical timer', { timer: 'arm-ptimer' }, ready],
      // Spinning guests starve even each other: wait for the first guest only.
      ['two idle guests that spin (idle: spin)', { idle: 'spin' }, GUEST_IDLE_PREFIX + '2'],
    ];
    const rates = variants.map(() => [] as number[]);
    const modes = ['block', 'spin'] as const;
    const exits = modes.map(() => [[], []] as Record<string, number>[][]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, context, until]] of variants.entries()) rates[i]!.push(await counterRate(c, `v${i}`, context, until));
      for (const [m, mode] of modes.entries()) {
        exits[m]![0]!.push(await idleExits(c, 2, mode));
        exits[m]![1]!.push(await idleExits(c, 12, mode));
      }
    }
    const alone = median(rates[0]!);
    console.log(`idle guests: a lowest-priority counting PD's rate, interleaved, median of ${ROUNDS} rounds (${WINDOW_MS / 1000} s windows):`);
    variants.forEach(([label], i) => {
      const m = median(rates[i]!);
      console.log(`  ${label.padEnd(58)} ${(m / 1e6).toFixed(1).padStart(7)} M/s  ${(m / alone * 100).toFixed(1).padStart(5)}% of alone`);
    });
    console.log(`idle guests: VM exits per second of one idle guest (exits after 12 s idle minus after 2 s, / 10 s; median of ${ROUNDS}):`);
    for (const [m, mode] of modes.entries()) {
      const [short, long] = exits[m]!;
      const perSecond = EXIT_CLASSES.map((k) => `${k}=${(median(long!.map((e, i) => e[k]! - short![i]![k]!)) / 10).toFixed(1)}`);
      console.log(`  idle: ${mode.padEnd(5)} ${perSecond.join(' ')}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
