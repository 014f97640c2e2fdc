// The room Microkit 2.0.1 leaves for program images below its loader, the gzip the link step
// writes, the 'auto' choice on a real board, and the Microkit tool's "Overlapping regions"
// panic turned into an explanation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { findBoard } from '../../../src/compile/boards.js';
import { UserError } from '../../../src/compile/diagnostics/index.js';
import { runMicrokit } from '../../../src/compile/link/microkit-tool.js';
import { loaderSpace, loaderSpaceNeeded } from '../../../src/compile/link/loader-space.js';
import { gzipImage } from '../../../src/compile/link/vmm-elf.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { synthesise } from '../../../src/compile/synthesise.js';
import { missing, missingSdkBoard, repoRoot, testIf } from '../../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-loader-space-'));
const sdk = process.env['MICROKIT_SDK'];
const board = (name: string) => findBoard(loadBoards(), name)!;

test('gzipImage: one deterministic gzip member that zlib unpacks', () => {
  const data = new TextEncoder().encode('a Linux kernel, more or less '.repeat(10_000));
  const a = gzipImage(data);
  assert.equal(a, gzipImage(data));
  assert.equal([...a.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff], 'no name, MTIME 0, OS unknown');
  assert.equal(new Uint8Array(gunzipSync(a)), data);
  assert.ok(a.length < data.length / 20);
  assert.equal(new Uint8Array(gunzipSync(gzipImage(new Uint8Array(0)))), new Uint8Array(0));
});

test('loaderSpace without the SDK: estimated from the board file, after the RAM seL4 does not get', () => {
  const imx = loaderSpace({ board: board('imx8mm'), config: 'debug' })!;
  assert.is(imx.source, 'board-file');
  assert.is(imx.loaderAddress, 0x4100_0000n);
  assert.is(imx.kernelEnd, 0x4023_0000n, 'RAM base + the smallest 2.0.1 kernel');
  assert.is(imx.room, 0x4100_0000n - 0x4023_0000n - 0xa000n);
  assert.is(imx.space, imx.room - 0x8_0000n);
  // QEMU: seL4 gets RAM from 0x60000000 (kernelReservedRam carves out 512 MiB for VMs).
  assert.is(loaderSpace({ board: board('qemu_virt_aarch64'), config: 'debug' })!.kernelEnd, 0x6023_0000n);
  // ODROID-C2: the first 16 MiB are the hardware ROM.
  assert.is(loaderSpace({ board: board('odroidc2'), config: 'debug' })!.kernelEnd, 0x0123_0000n);
  assert.ok(loaderSpaceNeeded(48n << 20n) === 49n << 20n);
});

testIf(missing('microkit-sdk') ?? missingSdkBoard('imx8mm_evk', 'debug'), 'loaderSpace with the SDK: the kernel end and the monitor from its ELFs', () => {
  const imx = loaderSpace({ board: board('imx8mm'), sdk, config: 'debug' })!;
  assert.is(imx.source, 'sdk');
  assert.is(imx.kernelEnd, 0x4024_a000n, 'sel4.elf PT_LOAD end (ki_end)');
  assert.is(imx.monitorSize, 0xa000n);
  assert.is(imx.room, 0x4100_0000n - 0x4024_a000n - 0xa000n);
  assert.ok(imx.space > 13n << 20n && imx.space < 14n << 20n, String(imx.space));
});

test('the Microkit tool\'s "Overlapping regions" panic becomes images-exceed-loader-space', async () => {
  const fake = path.join(work, 'fake-sdk');
  mkdirSync(path.join(fake, 'bin'), { recursive: true });
  const tool = path.join(fake, 'bin', 'microkit');
  writeFileSync(tool, [
    '#!/bin/sh',
    "echo \"thread 'main' panicked at src/loader.rs:91:21:\" >&2",
    'echo "Overlapping regions: [41000000..4100d000) overlaps [402f2000..424243a0)" >&2',
    'exit 101',
    '',
  ].join('\n'));
  chmodSync(tool, 0o755);
  const space = loaderSpace({ board: board('imx8mm'), config: 'debug' });
  try {
    await runMicrokit({ sdk: fake, board: 'imx8mm_evk', config: 'debug', systemFile: path.join(work, 'x.system'), searchPaths: [], output: path.join(work, 'loader.img'), report: path.join(work, 'r.txt'), loaderSpace: space });
    assert.unreachable('the tool failed');
  } catch (e) {
    assert.instance(e, UserError);
    const d = (e as UserError).diagnostics[0]!;
    assert.is(d.id, 'images-exceed-loader-space');
    assert.match(d.message, /board 'imx8mm_evk', loader at 0x41000000/);
    assert.match(d.message, /\[0x402f2000\.\.0x424243a0\) overlaps \[0x41000000\.\.0x4100d000\)/);
    assert.match(d.hint ?? '', /compressImages/);
  }
});

testIf(missing('microkit-sdk', 'cross-gcc', 'guest-kernel', 'guest-initrd', 'board-dtbs') ?? missingSdkBoard('imx8mm_evk', 'debug'), "imx8mm: 'auto' compresses the Debian kernel and initrd and the Microkit tool makes loader.img", async () => {
  const out = path.join(work, 'imx8mm');
  const r = await synthesise({ file: path.join(repoRoot, 'systems/linux.ts'), board: 'imx8mm', config: 'debug', outDir: out, sdk });
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.ok(r.loaderImage && existsSync(r.loaderImage), r.skipped.map((s) => s.reason).join('; '));
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { virtualMachines: { kernel: { stored: { compressed: boolean } } }[] };
  assert.is(m.virtualMachines[0]!.kernel.stored.compressed, true);
  // The same system on QEMU has room to spare: 'auto' leaves the images as they are.
  const q = await synthesise({ file: path.join(repoRoot, 'examples/linux-qemu.ts'), config: 'debug', outDir: path.join(work, 'qemu'), sdk });
  if (q.loaderImage) {
    const mq = JSON.parse(readFileSync(path.join(q.outDir, 'manifest.json'), 'utf8')) as typeof m;
    assert.is(mq.virtualMachines[0]!.kernel.stored.compressed, false);
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
