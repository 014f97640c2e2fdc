// End to end: from a systems.ts to Linux printing its marker under our VMM under seL4 on QEMU.
// Needs MICROKIT_SDK (with the qemu_virt_aarch64 and qemu_virt_aarch64_gicv3 boards),
// qemu-system-aarch64 and the guest images from `npm run guest`; otherwise each test is skipped
// with one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu, type QemuProcess } from '../../src/run/qemu.js';
import { GUEST_ECHO_PARAM, GUEST_ECHO_PREFIX, GUEST_MARKER } from '../../src/compile/initramfs/busybox-initramfs.js';
import { readFdt } from '../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../src/compile/dtb/fdt-write.js';
import { makeNode } from '../../src/compile/dtb/fdt.js';
import { cellsValue, stringListValue, u32Value, setProp } from '../../src/compile/dtb/props.js';
import { missing, repoRoot, runCli, testIf } from '../helpers.js';
import { BOOT_MS, missingForBoot, sdk } from './requirements.js';

const needs = missingForBoot();

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-e2e-'));

async function boot(file: string, board: string, out: string, context: Record<string, string> = {}): Promise<QemuProcess> {
  const result = await synthesise({ file: path.join(repoRoot, file), board, config: 'debug', outDir: path.join(work, out), sdk, context: new Map(Object.entries(context)) });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.map((d) => d.message), []);
  assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);
  return startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!) });
}

for (const [board, gic] of [['qemu_virt_aarch64', 'GICv2'], ['qemu_virt_aarch64_gicv3', 'GICv3']] as const) {
  testIf(needs, `${gic}: Linux reaches its init, and PSCI SYSTEM_OFF from the guest ends the VM cleanly`, async () => {
    const q = await boot('examples/linux-qemu.ts', board, `boot-${gic}`);
    try {
      const up = await q.waitFor(GUEST_MARKER, BOOT_MS);
      process.stdout.write(`${gic}: marker after ${(up.elapsedMs / 1000).toFixed(2)} s\n`);
      await q.waitFor("vmm: VM 'linux' stopped: PSCI SYSTEM_OFF", 60_000);
    } finally {
      await q.stop();
    }
  });

  testIf(needs, `${gic}: the passed-through UART interrupt reaches the guest (it reads a typed line)`, async () => {
    const q = await boot('examples/linux-qemu.ts', board, `echo-${gic}`, { bootargs: `console=ttyAMA0 ${GUEST_ECHO_PARAM}` });
    try {
      await q.waitFor(GUEST_MARKER, BOOT_MS);
      // /init is now blocked reading the console: only the UART's receive interrupt wakes it.
      q.send('typed-on-the-console\r');
      await q.waitFor(`${GUEST_ECHO_PREFIX}typed-on-the-console`, 60_000);
    } finally {
      await q.stop();
    }
  });
}

for (const [board, gic] of [['qemu_virt_aarch64', 'GICv2'], ['qemu_virt_aarch64_gicv3', 'GICv3']] as const) {
  testIf(needs, `${gic}: a guest with two vCPUs brings both up (PSCI CPU_ON, SGIs between vCPUs)`, async () => {
    const q = await boot('examples/linux-qemu.ts', board, `smp-${gic}`, { vcpus: '2' });
    try {
      await q.waitFor('smp: Brought up 1 node, 2 CPUs', BOOT_MS);
      await q.waitFor(GUEST_MARKER, BOOT_MS);
    } finally {
      await q.stop();
    }
  });
}

testIf(needs ?? missing('guest-busybox'), 'an initramfs declared in the systems.ts boots', async () => {
  const q = await boot('examples/initramfs-qemu.ts', 'qemu_virt_aarch64', 'initramfs');
  try {
    await q.waitFor('hello from a systems.ts initramfs: 1 CPU(s)', BOOT_MS);
  } finally {
    await q.stop();
  }
});

testIf(needs, 'two VMs: the owner of the UART and the one with an emulated UART both boot', async () => {
  const q = await boot('examples/two-vms-qemu.ts', 'qemu_virt_aarch64', 'two');
  try {
    await Promise.all([q.waitFor(GUEST_MARKER, BOOT_MS), q.waitFor(`second| ${GUEST_MARKER}`, BOOT_MS)]);
  } finally {
    await q.stop();
  }
});

/**
 * A guest device tree that claims a PL061 GPIO at 0x9030000, which nothing maps: Linux's
 * driver probes it and faults.
 */
async function faultingDtb(): Promise<string> {
  const first = await synthesise({ file: path.join(repoRoot, 'examples/linux-qemu.ts'), config: 'debug', outDir: path.join(work, 'dtb-src'), sdk: '' });
  assert.ok(first.written.includes('linux.dtb'));
  const tree = readFdt(new Uint8Array(readFileSync(path.join(work, 'dtb-src', 'linux.dtb'))));
  const gpio = makeNode('pl061@9030000');
  setProp(gpio, 'compatible', stringListValue(['arm,pl061', 'arm,primecell']));
  setProp(gpio, 'reg', cellsValue([[0x9030000n, 2], [0x1000n, 2]]));
  setProp(gpio, 'interrupts', u32Value(0, 7, 4));
  setProp(gpio, 'gpio-controller', new Uint8Array(0));
  setProp(gpio, '#gpio-cells', u32Value(2));
  const apb = tree.root.children.find((n) => n.name === 'apb-pclk');
  const phandle = apb?.props.find((p) => p.name === 'phandle');
  if (phandle) {
    setProp(gpio, 'clocks', phandle.value);
    setProp(gpio, 'clock-names', stringListValue(['apb_pclk']));
  }
  tree.root.children.push(gpio);
  const dtb = path.join(work, 'with-gpio.dtb');
  writeFileSync(dtb, writeFdt(tree, { layout: 'compact' }));
  return dtb;
}

testIf(needs, 'a guest that touches an unmapped address gets a one-line decoded report and is stopped', async () => {
  const q = await boot('examples/linux-qemu.ts', 'qemu_virt_aarch64', 'fault', { dtb: await faultingDtb() });
  try {
    const report = await q.waitFor(/vmm: VM 'linux'[^\n]*unmapped[^\n]*\n/, BOOT_MS);
    // One line: who stopped, the decoded fault, and the raw values.
    assert.match(report.text, /VM 'linux' vCPU 0 stopped/);
    assert.match(report.text, /DABT_LOW/);
    assert.match(report.text, /address 0x903[0-9a-f]{4}/);
    assert.match(report.text, /PC 0x[0-9a-f]+/);
    assert.match(report.text, /ESR 0x[0-9a-f]+/);
  } finally {
    await q.stop();
  }
});

testIf(needs, 'a faulting guest stops alone: the other VM of the system still boots', async () => {
  const q = await boot('examples/two-vms-qemu.ts', 'qemu_virt_aarch64', 'fault-two', { first_dtb: await faultingDtb() });
  try {
    await Promise.all([
      q.waitFor(/vmm: VM 'first' vCPU 0 stopped: unhandled[^\n]*unmapped/, BOOT_MS),
      q.waitFor(`second| ${GUEST_MARKER}`, BOOT_MS),
    ]);
  } finally {
    await q.stop();
  }
});

testIf(needs, "the README's main command boots: sel4cp-synth run examples/linux-qemu.ts --expect <marker>", () => {
  const r = runCli(['run', 'examples/linux-qemu.ts', '--out', path.join(work, 'cli'), '--expect', GUEST_MARKER, '--timeout', '180']);
  assert.is(r.status, 0, r.stderr.slice(-2000));
  assert.match(r.stderr, /boot: saw 'SEL4CP-SYNTH: guest up' after/);
});

testIf(needs, 'run --send types a line once --send-after has appeared; piped standard input is typed too', () => {
  const common = ['run', 'examples/linux-qemu.ts', '-c', `bootargs=console=ttyAMA0 ${GUEST_ECHO_PARAM}`, '--timeout', '180'];
  const sent = runCli([...common, '--out', path.join(work, 'send'), '--send', 'typed-by-send', '--send-after', GUEST_MARKER, '--expect', `${GUEST_ECHO_PREFIX}typed-by-send`]);
  assert.is(sent.status, 0, sent.stderr.slice(-2000));
  // Piped input is held back, like --send, until the marker: the guest reads the line after it.
  const piped = runCli([...common, '--out', path.join(work, 'piped'), '--send-after', GUEST_MARKER, '--expect', `${GUEST_ECHO_PREFIX}typed-from-a-pipe`], { input: 'typed-from-a-pipe\n' });
  assert.is(piped.status, 0, piped.stderr.slice(-2000));
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
