// VM-to-VM networking over a netLink() (issue: guests that talk): ping round trip in both
// directions and TCP throughput of a 16 MiB busybox nc transfer, as the guests measure them
// (their own clocks), median of the rounds (BENCH_NET_ROUNDS, default 5). Each VMM copies each
// frame once (guest buffer -> ring, ring -> guest buffer): 16 MiB of payload is 16 MiB copied
// per side, plus headers.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runNetLink, type NetRun } from '../test/e2e/net-link-run.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function benchNet(sdk: string): Promise<void> {
  const rounds = Number(process.env['BENCH_NET_ROUNDS'] ?? 5);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bench-net-'));
  const runs: NetRun[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const r = await runNetLink(path.join(work, `r${i}`), sdk);
      if (r.receivedMd5 !== r.sentMd5) throw new Error(`round ${i + 1}: the 16 MiB arrived corrupted (${r.sentMd5} sent, ${r.receivedMd5} received)`);
      runs.push(r);
      console.log(`  round ${i + 1}: ping ${r.pingAvgMs} ms, back ${r.pingBackAvgMs} ms, 16 MiB in ${r.transferSeconds.toFixed(2)} s`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const mibs = runs.map((r) => 16 / r.transferSeconds);
  console.log(`VM-to-VM link (QEMU TCG, guest clocks, median of ${rounds}): ping ${median(runs.map((r) => r.pingAvgMs)).toFixed(2)} ms (left->right), ${median(runs.map((r) => r.pingBackAvgMs)).toFixed(2)} ms (right->left); TCP ${median(mibs).toFixed(2)} MiB/s (runs: ${mibs.map((x) => x.toFixed(2)).join(', ')})`);
}
