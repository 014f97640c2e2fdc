// The image pipeline and the boot: time of each stage for examples/linux-qemu.ts (median of 5),
// boot time to the guest's marker under our VMM and natively (same kernel, initramfs and QEMU,
// no seL4), VM exits per class during boot, and the size of the runtime ELF.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise, type StageTimings } from '../src/compile/synthesise.js';
import { qemuArgs } from '../src/run/machine.js';
import { directKernelBootArgs, findExecutable, startQemu } from '../src/run/qemu.js';
import { GUEST_MARKER } from '../src/compile/initramfs/busybox-initramfs.js';
import { loadBoards } from '../src/compile/load/boards.js';
import { runtimeCacheDir } from '../src/compile/package.js';
import { findBoard } from '../src/compile/boards.js';

const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** QEMU start to the marker, in ms; also the VMM's exit counters when it prints them. */
async function bootOnce(args: string[]): Promise<{ ms: number; guestMs: number | undefined; exits: string | undefined }> {
  const q = startQemu({ args });
  try {
    // The debug VMM says when it starts the guest: the time after that is Linux's own boot.
    const started = q.waitFor(/vmm: VM '[^']+' started/, 300_000).then((m) => m.elapsedMs, () => undefined);
    const m = await q.waitFor(GUEST_MARKER, 300_000);
    const vmStart = await Promise.race([started, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10))]);
    let exits: string | undefined;
    try {
      exits = (await q.waitFor(/exits: [^\n]*\n/, 20_000)).text.trim();
    } catch {
      exits = undefined;
    }
    return { ms: m.elapsedMs, guestMs: vmStart === undefined ? undefined : m.elapsedMs - vmStart, exits };
  } finally {
    await q.stop();
  }
}

export async function benchBoot(root: string): Promise<void> {
  const sdk = process.env['MICROKIT_SDK'];
  const guest = path.join(root, '.cache', 'guest');
  if (!sdk || !existsSync(path.join(sdk, 'bin', 'microkit'))) return void console.log('SKIP stage timings and boot: MICROKIT_SDK is not set');
  if (!findExecutable('qemu-system-aarch64')) return void console.log('SKIP stage timings and boot: qemu-system-aarch64 missing');
  if (!existsSync(path.join(guest, 'Image'))) return void console.log("SKIP stage timings and boot: no guest images (run 'npm run guest')");

  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bench-boot-'));
  try {
    const runtimes = new Set<string>();
    const onProgress = (line: string): void => {
      const key = /runtime: (?:reusing|built) (\S+)/.exec(line)?.[1];
      if (key) runtimes.add(key);
    };
    const config = (process.env['BENCH_CONFIG'] ?? 'debug') as 'debug' | 'release';
    for (const [board, label] of [['qemu_virt_aarch64', 'GICv2'], ['qemu_virt_aarch64_gicv3', 'GICv3']] as const) {
      const stages: Record<string, number[]> = {};
      const boots: number[] = [];
      const guestBoots: number[] = [];
      let exits: string | undefined;
      let loader = '';
      for (let i = 0; i < RUNS; i++) {
        const timings: StageTimings = {};
        const r = await synthesise({ file: path.join(root, 'examples', 'linux-qemu.ts'), board, config, outDir: path.join(work, label), sdk, timings, onProgress });
        if (!r.loaderImage) throw new Error(`no loader.img: ${r.skipped.map((s) => s.reason).join('; ')}`);
        loader = r.loaderImage;
        const boot = await bootOnce(qemuArgs(r.model.board!, r.loaderImage));
        boots.push(boot.ms);
        if (boot.guestMs !== undefined) guestBoots.push(boot.guestMs);
        exits = boot.exits ?? exits;
        for (const [k, v] of Object.entries(timings)) (stages[k] ??= []).push(v);
        (stages['boot'] ??= []).push(boot.ms);
      }
      console.log(`examples/linux-qemu.ts on ${board} (${label}, Microkit ${config}), median of ${RUNS}:`);
      const medians = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)]));
      const total = Object.values(medians).reduce((a, b) => a + b, 0);
      const ours = ['load', 'resolve', 'validate', 'emit', 'link', 'write'].reduce((a, k) => a + (medians[k] ?? 0), 0);
      for (const [k, v] of Object.entries(medians)) console.log(`  ${k.padEnd(9)} ${v.toFixed(1).padStart(8)} ms`);
      console.log(`  our stages: ${ours.toFixed(0)} ms of ${total.toFixed(0)} ms (${((ours / total) * 100).toFixed(1)}%); Microkit tool ${((medians['microkit'] ?? 0) / total * 100).toFixed(1)}%; boot ${((medians['boot'] ?? 0) / total * 100).toFixed(1)}%`);
      console.log(`  loader.img ${(statSync(loader).size / 1048576).toFixed(1)} MiB; VM exits during boot: ${exits ?? 'not reported'}`);

      const native: number[] = [];
      // The QEMU machine as the board file gives it (one parser for every consumer).
      const q = findBoard(loadBoards(), board)!.qemu!;
      const machine = q.machine;
      for (let i = 0; i < RUNS; i++) {
        native.push((await bootOnce(directKernelBootArgs({ kernel: path.join(guest, 'Image'), initrd: path.join(guest, 'initramfs.cpio'), append: 'console=ttyAMA0', machine, memory: q.memory }))).ms);
      }
      const ratio = median(boots) / median(native);
      if (guestBoots.length) {
        console.log(`  from the VMM starting the guest to the marker: ${(median(guestBoots) / 1000).toFixed(2)} s, ratio ${(median(guestBoots) / median(native)).toFixed(2)} to native (the rest is seL4, the Microkit monitor and the image copy)`);
      }
      console.log(`  boot to marker: under our VMM ${(median(boots) / 1000).toFixed(2)} s (runs ${boots.map((b) => (b / 1000).toFixed(2)).join(', ')}), natively ${(median(native) / 1000).toFixed(2)} s (runs ${native.map((b) => (b / 1000).toFixed(2)).join(', ')}): ratio ${ratio.toFixed(2)} (target <= 1.15)`);
    }
    const cache = path.join(runtimeCacheDir(), 'vmm-runtime');
    for (const key of readdirSync(cache).filter((k) => runtimes.has(k)).sort()) {
      const elf = path.join(cache, key, 'vmm.elf');
      if (!existsSync(elf)) continue;
      const size = execFileSync('aarch64-linux-gnu-size', [elf], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/);
      console.log(`runtime ${key}: text ${size[0]}, data ${size[1]}, bss ${size[2]} bytes (ELF file ${statSync(elf).size} bytes, without guest images)`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
