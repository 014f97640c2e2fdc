// End to end: a disk on real storage. QEMU attaches a raw disk file, made here with
// `mke2fs -t ext2 -d`, to the virtio-mmio transport passed through to the guest
// (test/fixtures/systems/disk-passthrough.ts: passthrough('virtio_mmio_a000000', { qemu:
// qemuDisk(file) })); the guest drives QEMU's virtio-blk itself, DMA included (its RAM at
// guest-physical = physical), mounts the file system, reads what the host put there, writes a
// file, syncs, unmounts and powers off. The oracles: Linux (virtio_blk, ext4), and afterwards
// e2fsprogs' debugfs reading the written file out of the disk file on the host. On Microkit 2.0.1
// (MICROKIT_SDK) and 2.3.0 (MICROKIT_SDK_2_3_0); without an SDK, QEMU, e2fsprogs or the guest
// images: one SKIP line per release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { commandPath, missing, repoRoot, runCli, testIf } from '../helpers.js';
import { BOOT_MS, missingForBoot, sdk } from './requirements.js';

const sdk230 = process.env['MICROKIT_SDK_2_3_0'] ?? '';
const tools = missing('mke2fs', 'debugfs', 'guest-busybox', 'guest-modules');
const needs201 = missingForBoot() ?? tools;
const needs230 = (!sdk230 || !existsSync(path.join(sdk230, 'bin', 'microkit')) ? 'MICROKIT_SDK_2_3_0 is not set to a Microkit 2.3.0 SDK' : undefined)
  ?? missing('cross-gcc', 'qemu', 'guest-kernel') ?? tools;

async function writeThroughGuest(sdkDir: string, release: string): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-disk-'));
  try {
    const started = performance.now();
    const files = path.join(work, 'files');
    mkdirSync(files);
    const hello = `from the host ${process.pid}-${Date.now()}`;
    writeFileSync(path.join(files, 'hello.txt'), `${hello}\n`);
    const disk = path.join(work, 'disk.img');
    execFileSync(commandPath('mke2fs')!, ['-q', '-t', 'ext2', '-d', files, '-F', disk, '8M']);
    const note = `n${Date.now().toString(36)}`;
    const result = await synthesise({
      file: path.join(repoRoot, 'test/fixtures/systems/disk-passthrough.ts'), board: 'qemu_virt_aarch64', config: 'debug',
      outDir: path.join(work, 'out'), sdk: sdkDir, context: new Map([['disk', disk], ['note', note]]),
    });
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    if (errors.length > 0 || !result.loaderImage) throw new Error(`no loader.img: ${[...errors, ...result.skipped.map((s) => s.reason)].join('; ')}`);
    assert.is(result.model.microkit, release);
    // The manifest records what QEMU attaches, as run starts it.
    const manifest = JSON.parse(readFileSync(path.join(work, 'out', 'manifest.json'), 'utf8')) as { virtualMachines: { passthrough: { device: string; qemu?: unknown }[] }[] };
    assert.equal(manifest.virtualMachines[0]!.passthrough.find((p) => p.device === 'virtio_mmio_a000000')?.qemu,
      { kind: 'disk', bus: 'virtio-mmio-bus.0', file: '../disk.img', readOnly: false });
    const args = qemuArgs(result.model.board!, result.loaderImage, result.model);
    assert.ok(args.includes('virtio-blk-device,drive=disk0,bus=virtio-mmio-bus.0'), `the disk on transport 0: ${args.join(' ')}`);
    const q = startQemu({ args });
    try {
      await q.waitFor('[storage] stopped after guest power-off', BOOT_MS);
    } finally {
      await q.stop();
    }
    const out = q.output;
    assert.match(out, `SEL4CP-SYNTH: disk had ${hello}`, 'the guest read what mke2fs put on the disk');
    assert.match(out, 'SEL4CP-SYNTH: disk written');
    const back = execFileSync(commandPath('debugfs')!, ['-R', 'cat /guest.txt', disk], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.is(back, `written by the guest: ${note}\n`, 'debugfs reads what the guest wrote out of the disk file');
    process.stdout.write(`disk passthrough ${release}: synthesis, boot, write and power-off in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

testIf(needs201, 'Microkit 2.0.1: a guest mounts the ext2 disk file QEMU attaches to its transport, and what it writes is in the file afterwards', async () => {
  await writeThroughGuest(sdk!, '2.0.1');
});

testIf(needs230, 'Microkit 2.3.0: the same, on the 2.3.0 SDK', async () => {
  await writeThroughGuest(sdk230, '2.3.0');
});

testIf(needs230, '`sel4cp-synth run` prints the disk in its QEMU command line and boots with it', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-disk-run-'));
  try {
    const files = path.join(work, 'files');
    mkdirSync(files);
    writeFileSync(path.join(files, 'hello.txt'), 'typed by run\n');
    const disk = path.join(work, 'a disk.img');
    execFileSync(commandPath('mke2fs')!, ['-q', '-t', 'ext2', '-d', files, '-F', disk, '4M']);
    const r = runCli(['run', 'test/fixtures/systems/disk-passthrough.ts', '--out', path.join(work, 'out'), '--sdk', sdk230,
      '-c', `disk=${disk}`, '-c', 'note=by-run', '--expect', 'SEL4CP-SYNTH: disk written', '--timeout', '180'], { cwd: repoRoot });
    assert.is(r.status, 0, r.stderr.slice(-2000));
    // The boot line is a shell command: the path with a space is quoted, and it is the one QEMU got.
    assert.match(r.stderr, `boot: qemu-system-aarch64 -machine virt,virtualization=on`);
    assert.match(r.stderr, ` -drive 'if=none,id=disk0,format=raw,file=${disk}' -device virtio-blk-device,drive=disk0,bus=virtio-mmio-bus.0`);
    assert.match(r.stdout, 'SEL4CP-SYNTH: disk had typed by run');
    const back = execFileSync(commandPath('debugfs')!, ['-R', 'cat /guest.txt', disk], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.is(back, 'written by the guest: by-run\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
