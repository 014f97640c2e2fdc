// VMs that recover (docs/lifecycle.md): how long a restart takes, from the moment the VMM sees
// the failure (the guest's PSCI SYSTEM_RESET after a panic) to the guest's marker, beside a cold
// boot of the same guest (its VMM starting it at system start-up, to the same marker), on the
// lifecycle fixture without backoff. The restart includes clearing the 256 MiB of guest RAM and
// placing the images again; the VMM's own share of it is its "images:" line. Host clock, QEMU
// TCG; median of BENCH_LIFECYCLE_ROUNDS (default 3).
import { runLifecycle } from '../test/e2e/lifecycle-run.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchLifecycle(sdk: string): Promise<void> {
  const rounds = Number(process.env['BENCH_LIFECYCLE_ROUNDS'] ?? 3);
  const cold: number[] = [];
  const restart: number[] = [];
  const loads: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const r = await runLifecycle(sdk, { backoffMs: 0 });
    cold.push(r.at.firstUp - r.at.vmmStarted);
    restart.push(r.at.secondUp - r.at.failureSeen);
    const images = [...r.output.matchAll(/VM 'web' images: copied (\d+) bytes .* in (\d+) us/g)].map((m) => `${(Number(m[2]) / 1000).toFixed(1)} ms`);
    const cleared = /VM 'web' RAM cleared: (\d+) MiB in (\d+) us/.exec(r.output);
    loads.push(`images placed at boot / restart ${images.slice(0, 2).join(' / ')}${cleared ? `; ${cleared[1]} MiB of RAM cleared in ${(Number(cleared[2]) / 1000).toFixed(1)} ms` : ''}`);
    console.log(`  round ${i + 1}: cold boot ${(cold[i]! / 1000).toFixed(2)} s, restart ${(restart[i]! / 1000).toFixed(2)} s (${loads[i]})`);
  }
  console.log(`VM restart (QEMU TCG, host clock, median of ${rounds}): failure -> marker ${(median(restart) / 1000).toFixed(2)} s; cold boot of the same guest (VMM start -> marker) ${(median(cold) / 1000).toFixed(2)} s`);
}
