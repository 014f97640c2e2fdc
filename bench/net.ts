// Networking over links (issue: at speed), in one interleaved run of BENCH_NET_ROUNDS rounds
// (default 5), medians reported:
//   - VM-to-VM (test/fixtures/systems/net-e2e.ts): ping both ways, a 16 MiB busybox nc transfer;
//   - VM-to-PD (test/fixtures/systems/vm-pd-link.ts, the PD test/e2e/pds/link-responder.c):
//     ping, and 16 MiB of UDP to the PD's discard port (the PD counts it and times it with its own
//     clock; it has no TCP);
//   - the anchor: the same kernel and initramfs booted by QEMU itself, no seL4 (-kernel), ping
//     and a 16 MiB transfer over loopback.
// Times are the guests' own clocks (/proc/uptime, 10 ms steps; ping's microseconds), so a loaded
// host inflates them; each link figure is also given as a ratio to the anchor of the same round.
// Counts come from the VMMs' counters lines (src/vmm-runtime/include/vmm.h) at the guests'
// markers and do not drift: exits (the console's own excluded), notifications and vCPU
// resumptions, per MiB of the transfer (both VMMs) and per ping (at the pinging VM's VMM).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runNetLink, counterDelta, parseCounters, type NetRun } from '../test/e2e/net-link-run.js';
import { buildGuestProgram, buildNativePd, missingCrossCompiler } from '../test/e2e/native-pd.js';
import { BOOT_MS } from '../test/e2e/requirements.js';
import { loadSystem } from '../src/compile/load/index.js';
import { gatherImages } from '../src/compile/load/images.js';
import { synthesise } from '../src/compile/synthesise.js';
import { qemuArgs } from '../src/run/machine.js';
import { directKernelBootArgs, startQemu } from '../src/run/qemu.js';
import { findBoard } from '../src/compile/boards.js';
import { loadBoards } from '../src/compile/load/boards.js';

const BOARD = 'qemu_virt_aarch64';

function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

interface PdRun { pingAvgMs: number; perPing: Record<string, number>; udpMibPerS: number; udpBytes: number }
interface AnchorRun { pingAvgMs: number; mibPerS: number }

/** The anchor: the fixture's kernel and initramfs under QEMU's -kernel, no seL4. */
export async function anchorArgs(root: string): Promise<string[]> {
  const file = path.join(root, 'test', 'fixtures', 'systems', 'net-e2e.ts');
  const system = await loadSystem(file);
  const vm = system.virtualMachines[0]!;
  const { initramfsPaths } = await gatherImages(system, true);
  const initrd = initramfsPaths.get(vm.initrd as object);
  if (!initrd) throw new Error('the fixture has no initramfs() to pack');
  const q = findBoard(loadBoards(), BOARD)!.qemu!;
  return directKernelBootArgs({ kernel: vm.kernel.path, initrd, append: 'console=ttyAMA0 sel4cp_synth.anchor', machine: q.machine, cpu: q.cpu, memory: q.memory });
}

export async function runAnchor(args: string[]): Promise<AnchorRun> {
  const q = startQemu({ args });
  try {
    await q.waitFor(/SEL4CP-SYNTH: anchor sent 16 MiB from .*\r?\n/, BOOT_MS * 2);
    const out = q.output;
    const sent = /anchor sent md5 ([0-9a-f]{32})/.exec(out)?.[1];
    const got = /anchor received md5 ([0-9a-f]{32})/.exec(out)?.[1];
    if (!sent || sent !== got) throw new Error(`anchor: the 16 MiB arrived corrupted (${sent} sent, ${got} received):\n${out.slice(-1500)}`);
    const t = /anchor sent 16 MiB from ([\d.]+) to ([\d.]+)/.exec(out)!;
    const ping = /anchor ping ok round-trip min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out);
    return { pingAvgMs: ping ? Number(ping[1]) : NaN, mibPerS: 16 / Math.max(Number(t[2]) - Number(t[1]), 0.01) };
  } finally {
    await q.stop();
  }
}

async function runPdLink(root: string, sdk: string, programs: { responder: string; sender: string }, outDir: string): Promise<PdRun> {
  const result = await synthesise({ file: path.join(root, 'test/fixtures/systems/vm-pd-link.ts'), board: BOARD, config: 'debug', outDir, sdk, context: new Map(Object.entries(programs)) });
  if (!result.loaderImage) throw new Error(`VM-to-PD: no loader.img: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  const q = startQemu({ args: qemuArgs(result.model.board!, result.loaderImage, result.model) });
  try {
    await q.waitFor(/VM 'guest' virtio-net \d+ counters 'pd-ping-end'.*\r?\n/, BOOT_MS * 2);
    const out = q.output;
    const rtt = /pd ping rtt round-trip min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(out);
    const d = counterDelta(parseCounters(out), 'guest', 'pd-ping-start', 'pd-ping-end');
    // 16 MiB of UDP to the PD's discard port: the PD's own count and clock (first to last frame).
    const udp = await q.waitFor(/link-responder: discarded (\d+) UDP bytes in \d+ datagrams \(\d+ frames\), (\d+) us.*\r?\n/, BOOT_MS * 2);
    const [, bytes, us] = /discarded (\d+) UDP bytes in \d+ datagrams \(\d+ frames\), (\d+) us/.exec(udp.text)!;
    const udpMibPerS = Number(bytes) / 1048576 / Math.max(Number(us) / 1e6, 1e-3);
    return { pingAvgMs: rtt ? Number(rtt[1]) : NaN, perPing: perPing(d, 10), udpMibPerS, udpBytes: Number(bytes) };
  } finally {
    await q.stop();
  }
}

/** Exits without the console's, notifications each way, resumptions: per `n` (pings or MiB). */
function perPing(d: Record<string, number>, n: number): Record<string, number> {
  const timer = (d['vppi'] ?? 0) + (d['maintenance_vtimer'] ?? 0);
  return { exits: ((d['exits'] ?? 0) - (d['console'] ?? 0)) / n, untimed: ((d['exits'] ?? 0) - (d['console'] ?? 0) - timer) / n, notifyOut: (d['notify_out'] ?? 0) / n, notifyIn: (d['notify_in'] ?? 0) / n, resumes: (d['resumes'] ?? 0) / n };
}

/** Exits by kind and notifications by cause, per `n`: what the counters line splits. */
function byKind(d: Record<string, number>, n: number): Record<string, number> {
  const g = (k: string): number => d[k] ?? 0;
  const dev = (k: string): number => Object.keys(d).filter((x) => x.endsWith(`.${k}`)).reduce((t, x) => t + d[x]!, 0);
  return {
    kicks: dev('kicks') / n,
    virtioMmio: (dev('mmio') - dev('kicks')) / n,
    otherMmio: (g('mmio') - g('console') - dev('mmio')) / n,
    maintenance: (g('maintenance') - g('maintenance_vtimer')) / n,
    vtimer: (g('vppi') + g('maintenance_vtimer')) / n,
    wfx: g('wfx') / n,
    psciSysreg: (g('smc_hvc') + g('sysreg')) / n,
    irqs: dev('irqs') / n,
    toPeer: dev('peer_notify') / n,
    toTimer: g('notify_out_timer') / n,
    fromTimer: g('notify_in_timer') / n,
    fromPeer: (g('notify_in') - g('notify_in_timer')) / n,
  };
}

function kindsLine(c: Record<string, number>): string {
  return `exits: virtio kicks ${f1(c['kicks']!)}, other virtio MMIO (interrupt status/ack) ${f1(c['virtioMmio']!)}, `
    + `other MMIO ${f1(c['otherMmio']!)}, EOI maintenance ${f1(c['maintenance']!)}, virtual timer (VPPI + its EOI) ${f1(c['vtimer']!)}, `
    + `WFI/WFE ${f1(c['wfx']!)}, PSCI/sysreg ${f1(c['psciSysreg']!)} (virtio interrupts raised ${f1(c['irqs']!)}); `
    + `notifications sent to link peers ${f1(c['toPeer']!)} / the timer PD ${f1(c['toTimer']!)}, received from the timer PD ${f1(c['fromTimer']!)} / others ${f1(c['fromPeer']!)}`;
}

function sum(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(a).map((k) => [k, a[k]! + (b[k] ?? 0)]));
}

function counts(c: Record<string, number>): string {
  return `exits ${f1(c['exits']!)} (${f1(c['untimed']!)} without the virtual timer's ticks, whose count grows with the time taken), notifications sent ${f1(c['notifyOut']!)} / received ${f1(c['notifyIn']!)}, vCPU resumptions ${f1(c['resumes']!)}`;
}

function medianOf(rs: Record<string, number>[]): Record<string, number> {
  return Object.fromEntries(Object.keys(rs[0] ?? {}).map((k) => [k, median(rs.map((r) => r[k]!))]));
}

export async function benchNet(root: string, sdk: string): Promise<void> {
  const rounds = Number(process.env['BENCH_NET_ROUNDS'] ?? 5);
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bench-net-'));
  const vms: NetRun[] = [];
  const pds: PdRun[] = [];
  const anchors: AnchorRun[] = [];
  try {
    const noCc = missingCrossCompiler();
    const programs = noCc ? undefined : {
      responder: buildNativePd({
        sdk, board: BOARD, config: 'debug', source: path.join(root, 'test', 'e2e', 'pds', 'link-responder.c'),
        sources: ['virtio/net_link.c', 'lib/fmt.c', 'lib/string.c'].map((f) => path.join(root, 'src', 'vmm-runtime', f)),
        includes: [path.join(root, 'src', 'vmm-runtime', 'include')], out: path.join(work, 'link-responder.elf'),
      }),
      sender: buildGuestProgram(path.join(root, 'test', 'e2e', 'guest', 'udp-send.c'), path.join(work, 'udp-send')),
    };
    if (noCc) console.log(`SKIP VM-to-PD: ${noCc}`);
    const anchor = await anchorArgs(root);
    for (let i = 0; i < rounds; i++) {
      const r = await runNetLink(path.join(work, `vm${i}`), sdk);
      if (r.receivedMd5 !== r.sentMd5) throw new Error(`round ${i + 1}: the 16 MiB arrived corrupted (${r.sentMd5} sent, ${r.receivedMd5} received)`);
      vms.push(r);
      if (programs) pds.push(await runPdLink(root, sdk, programs, path.join(work, `pd${i}`)));
      anchors.push(await runAnchor(anchor));
      const a = anchors[i]!;
      console.log(`  round ${i + 1}: VM-to-VM ping ${r.pingAvgMs} / ${r.pingBackAvgMs} ms, 16 MiB in ${r.transferSeconds.toFixed(2)} s; VM-to-PD ping ${f2(pds[i]?.pingAvgMs ?? NaN)} ms, UDP ${f1(pds[i]?.udpMibPerS ?? NaN)} MiB/s; anchor ping ${f2(a.pingAvgMs)} ms, ${f1(a.mibPerS)} MiB/s`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  report(vms, pds, anchors);
}

function report(vms: NetRun[], pds: PdRun[], anchors: AnchorRun[]): void {
  const n = vms.length;
  const mibs = vms.map((r) => 16 / r.transferSeconds);
  const ratio = (xs: number[], ys: number[]): number => median(xs.map((x, i) => x / ys[i]!));
  const aMib = anchors.map((a) => a.mibPerS);
  const aPing = anchors.map((a) => a.pingAvgMs);
  console.log(`networking over links (QEMU TCG, Microkit debug, guest clocks; median of ${n} interleaved rounds):`);
  console.log(`  anchor (same kernel over loopback in one native QEMU): TCP ${f1(median(aMib))} MiB/s, ping ${f2(median(aPing))} ms`);
  console.log(`  VM-to-VM TCP ${f2(median(mibs))} MiB/s = ${f2(ratio(mibs, aMib) * 100)} % of the anchor (runs: ${mibs.map(f2).join(', ')})`);
  const ping = vms.map((r) => r.pingAvgMs);
  const back = vms.map((r) => r.pingBackAvgMs);
  console.log(`  VM-to-VM ping ${f2(median(ping))} ms left->right, ${f2(median(back))} ms right->left (${f1(ratio(ping, aPing))}x, ${f1(ratio(back, aPing))}x the anchor)`);
  if (pds.length) {
    const p = pds.map((r) => r.pingAvgMs);
    console.log(`  VM-to-PD ping ${f2(median(p))} ms (${f1(ratio(p, aPing))}x the anchor)`);
    const u = pds.map((r) => r.udpMibPerS);
    console.log(`  VM-to-PD UDP (16 MiB to the PD's discard port; the PD has no TCP): ${f2(median(u))} MiB/s taken off the link by the PD `
      + `= ${f1(ratio(u, anchors.map((a) => a.mibPerS)) * 100)} % of the anchor's TCP (runs: ${u.map(f2).join(', ')}; bytes counted: ${pds.map((r) => r.udpBytes).join(', ')})`);
  }
  const perMib = vms.map((r) => sum(perPing(counterDelta(r.counters, 'left', 'tcp-start', 'tcp-end'), 16), perPing(counterDelta(r.counters, 'right', 'tcp-start', 'tcp-end'), 16)));
  console.log(`  per MiB of the VM-to-VM transfer (both VMMs): ${counts(medianOf(perMib))}`);
  const kindsMib = vms.map((r) => sum(byKind(counterDelta(r.counters, 'left', 'tcp-start', 'tcp-end'), 16), byKind(counterDelta(r.counters, 'right', 'tcp-start', 'tcp-end'), 16)));
  console.log(`    by kind: ${kindsLine(medianOf(kindsMib))}`);
  const there = vms.map((r) => perPing(counterDelta(r.counters, 'left', 'ping-start', 'ping-end'), 10));
  const backC = vms.map((r) => perPing(counterDelta(r.counters, 'right', 'ping-start', 'ping-end'), 10));
  const answer = vms.map((r) => perPing(counterDelta(r.counters, 'left', 'tcp-end', 'after-ping-back'), 10));
  console.log(`  per VM-to-VM ping at the pinging VMM: ${counts(medianOf(there))} (left->right); ${counts(medianOf(backC))} (right->left)`);
  console.log(`  per VM-to-VM ping at the answering VMM (left, for right's pings; includes the end of the transfer): ${counts(medianOf(answer))}`);
  console.log(`    by kind (left->right, pinging VMM): ${kindsLine(medianOf(vms.map((r) => byKind(counterDelta(r.counters, 'left', 'ping-start', 'ping-end'), 10))))}`);
  if (pds.length) console.log(`  per VM-to-PD ping at the VMM: ${counts(medianOf(pds.map((p) => p.perPing)))}`);
  if (process.env['BENCH_NET_VERBOSE']) {
    for (const [i, r] of vms.entries()) {
      for (const vm of ['left', 'right']) console.log(`  round ${i + 1} ${vm} transfer: ${JSON.stringify(counterDelta(r.counters, vm, 'tcp-start', 'tcp-end'))}`);
    }
  }
}
