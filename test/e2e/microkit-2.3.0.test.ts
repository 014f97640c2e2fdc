// End to end on Microkit 2.3.0 (its SDK in MICROKIT_SDK_2_3_0): the QEMU example boots in debug
// and release, on GICv3 (its kernel, DTB and initrd prefilled in guest RAM: the debug VMM says it
// copied 0 bytes of them), two VMs boot side by side, and a 2-vCPU guest on the smp-debug
// configuration has 2 CPUs online that run on 2 cores. The cores are seL4's word: the tool's
// report gives each vCPU thread its affinity, and the kernel's scheduler dump (which the debug
// VMM asks for when it starts a vCPU) lists the threads of the VMM's core: the second vCPU is
// not among them when spread (cpus 0,1), and is, on core 0, when both are put there (cpus 0,0).
// The guest also times the same work on one vCPU and on both (printed; the host's own load makes
// it a figure, not a check). Needs QEMU, the cross compiler and the guest images too; otherwise
// each test is skipped with one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu, type QemuProcess } from '../../src/run/qemu.js';
import { GUEST_MARKER } from '../../src/compile/initramfs/busybox-initramfs.js';
import type { MicrokitConfig } from '../../src/compile/model/target.js';
import { missing, repoRoot, testIf } from '../helpers.js';
import { BOOT_MS } from './requirements.js';

const sdk = process.env['MICROKIT_SDK_2_3_0'] ?? '';
const needs = (!sdk || !existsSync(path.join(sdk, 'bin', 'microkit')) ? 'MICROKIT_SDK_2_3_0 is not set to a Microkit 2.3.0 SDK' : undefined)
  ?? missing('cross-gcc', 'qemu', 'guest-kernel', 'guest-initrd');
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-e2e-230-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

async function boot(file: string, board: string, config: MicrokitConfig, out: string, context: Record<string, string> = {}): Promise<QemuProcess> {
  const result = await synthesise({ file: path.join(repoRoot, file), board, config, outDir: path.join(work, out), sdk, context: new Map(Object.entries(context)) });
  assert.equal(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.is(result.model.microkit, '2.3.0', "the SDK's VERSION decides the release");
  assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);
  return startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!, result.model) });
}

for (const [board, config] of [['qemu_virt_aarch64', 'debug'], ['qemu_virt_aarch64', 'release'], ['qemu_virt_aarch64_gicv3', 'debug']] as const) {
  testIf(needs, `Microkit 2.3.0, ${board} ${config}: examples/linux-qemu.ts boots to its marker`, async () => {
    const q = await boot('examples/linux-qemu.ts', board, config, `linux-${board}-${config}`);
    try {
      const up = await q.waitFor(GUEST_MARKER, BOOT_MS);
      process.stdout.write(`2.3.0 ${board} ${config}: marker after ${(up.elapsedMs / 1000).toFixed(2)} s\n`);
      if (config === 'debug') {
        // Kernel, DTB and initrd were prefilled in guest RAM: the VMM's own count (vmm.c log_image_load).
        const line = /vmm: VM 'linux' images: copied (\d+) bytes \(kernel (\d+), DTB (\d+), initrd (\d+) prefilled in place;/.exec(q.output);
        assert.ok(line, `no prefilled image line in:\n${q.output.slice(0, 4000)}`);
        assert.is(line[1], '0', 'the VMM copied no byte of kernel, DTB or initrd');
        assert.ok(Number(line[2]) > 1 << 20 && Number(line[4]) > 0, line[0]);
      }
    } finally {
      await q.stop();
    }
  });
}

testIf(needs, 'Microkit 2.3.0: two VMs boot side by side', async () => {
  const q = await boot('examples/two-vms-qemu.ts', 'qemu_virt_aarch64', 'debug', 'two-vms');
  try {
    await q.waitFor(new RegExp(`(^|\\n)${GUEST_MARKER}`), BOOT_MS);
    await q.waitFor(`second| ${GUEST_MARKER}`, BOOT_MS);
  } finally {
    await q.stop();
  }
});

interface SmpRun {
  online: number;
  /** The tool's report: each vCPU thread's affinity (tcb_linux_<n>). */
  affinity: number[];
  /**
   * The kernel's list of the VMM core's threads once vCPU 1 is up: name and core. The
   * initialiser names a VM's vCPU threads all after the VM ('linux'), its VMM '<vm>_vmm'.
   */
  onVmmCore: { name: string; core: number }[];
  ratio: number;
  alone: number;
  parallel: number;
}

function reportAffinity(report: string): number[] {
  return [...report.matchAll(/- TCB: 'tcb_linux_(\d+)'[\s\S]*?CPU Affinity: (\d+)/g)].sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => Number(m[2]));
}

/** The rows of seL4's "Dumping all tcbs!" table after the VMM's line (name, state, IP, priority, core, ...). */
function scheduledThreads(text: string): { name: string; core: number }[] {
  const out: { name: string; core: number }[] = [];
  const table = text.slice(text.indexOf('Dumping all tcbs!'));
  for (const line of table.split('\n').slice(3)) {
    const cols = line.replace(/\r$/, '').split('\t').map((c) => c.trim());
    if (cols.length < 5 || !/^\d+$/.test(cols[4] ?? '')) break;
    out.push({ name: cols[0]!, core: Number(cols[4]) });
  }
  return out;
}

/** The guest's alone and parallel times (its own clock, /proc/uptime), its CPUs online, and where seL4 runs its vCPUs. */
async function smpRun(cpus: string): Promise<SmpRun> {
  const out = `smp-${cpus.replace(',', '-')}`;
  const q = await boot('test/fixtures/systems/smp-cores.ts', 'qemu_virt_aarch64', 'smp-debug', out, { cpus });
  try {
    const dumped = await q.waitFor(/vCPU 1: started; the threads on the VMM's core:[\s\S]*?Dumping all tcbs![\s\S]*?\n(?=[^\n]*(vmm:|\[ ))/, BOOT_MS);
    const onVmmCore = scheduledThreads(dumped.text);
    const online = Number(/cpus online (\d+)/.exec((await q.waitFor(/SEL4CP-SYNTH: cpus online \d+/, BOOT_MS)).text)![1]);
    const span = (m: { text: string }): number => {
      const [, a, b] = /([0-9.]+) ([0-9.]+)/.exec(m.text)!;
      return Number(b) - Number(a);
    };
    const alone = span(await q.waitFor(/SEL4CP-SYNTH: alone [0-9.]+ [0-9.]+/, 120_000));
    const parallel = span(await q.waitFor(/SEL4CP-SYNTH: parallel [0-9.]+ [0-9.]+/, 120_000));
    const affinity = reportAffinity(readFileSync(path.join(work, out, 'report.txt'), 'utf8'));
    return { online, affinity, onVmmCore, ratio: parallel / alone, alone, parallel };
  } finally {
    await q.stop();
  }
}

testIf(needs, 'Microkit 2.3.0 smp-debug: a 2-vCPU guest has 2 CPUs online, running on 2 cores', async () => {
  const spread = await smpRun('0,1');
  const shared = await smpRun('0,0');
  process.stdout.write(`smp: vCPUs on cores 0,1: parallel/alone ${spread.ratio.toFixed(2)} (${spread.parallel.toFixed(2)} s / ${spread.alone.toFixed(2)} s); `
    + `both on core 0: ${shared.ratio.toFixed(2)} (${shared.parallel.toFixed(2)} s / ${shared.alone.toFixed(2)} s)\n`);
  assert.is(spread.online, 2);
  assert.is(shared.online, 2);
  // The default spreads the vCPUs; seL4 runs vCPU 1 elsewhere than the VMM's core.
  assert.equal(spread.affinity, [0, 1]);
  const vcpusOnVmmCore = (r: SmpRun): number => r.onVmmCore.filter((x) => x.name === 'linux' && x.core === 0).length;
  assert.ok(spread.onVmmCore.some((x) => x.name === 'linux_vmm' && x.core === 0), `the dump lists the VMM: ${spread.onVmmCore.map((x) => x.name).join(', ')}`);
  assert.is(vcpusOnVmmCore(spread), 1, 'only vCPU 0 shares the VMM\'s core');
  // Both put on core 0: there they are.
  assert.equal(shared.affinity, [0, 0]);
  assert.is(vcpusOnVmmCore(shared), 2, 'both vCPUs on the VMM\'s core');
});

test.run();
