// End to end with compressed guest images: the link step stores kernel and initrd gzip-compressed
// in the VMM, the VMM unpacks them into guest RAM (lib/inflate.c) and Linux boots on QEMU; a
// damaged stream stops the VM with one line instead of starting a broken guest. Needs
// MICROKIT_SDK, qemu-system-aarch64 and the guest images (`npm run guest`); otherwise each test is
// skipped with one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise, type SynthResult } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { GUEST_MARKER } from '../../src/compile/initramfs/busybox-initramfs.js';
import { readElf } from '../../src/compile/link/elf.js';
import { runMicrokit } from '../../src/compile/link/microkit-tool.js';
import { GUEST_IMAGES_VADDR } from '../../src/compile/link/vmm-elf.js';
import { repoRoot, testIf } from '../helpers.js';
import { BOOT_MS, missingForBoot, sdk } from './requirements.js';

const needs = missingForBoot();

const BOARD = 'qemu_virt_aarch64';
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-compressed-'));

async function synth(out: string, compress: 'true' | 'false'): Promise<SynthResult> {
  const result = await synthesise({
    file: path.join(repoRoot, 'examples/linux-qemu.ts'), board: BOARD, config: 'debug', outDir: path.join(work, out), sdk,
    context: new Map([['compress', compress]]),
  });
  assert.equal(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);
  return result;
}

/** Seconds from starting QEMU to the guest's marker. */
async function bootSeconds(result: SynthResult): Promise<number> {
  const q = startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!) });
  try {
    const up = await q.waitFor(GUEST_MARKER, BOOT_MS);
    return up.elapsedMs / 1000;
  } finally {
    await q.stop();
  }
}

interface ManifestImage { stored?: { compressed: boolean; size: string; unpackedSize: string } }

testIf(needs, 'Linux boots from compressed images (and the boot time with and without)', async () => {
  const packed = await synth('packed', 'true');
  const plain = await synth('plain', 'false');
  const manifest = JSON.parse(readFileSync(path.join(packed.outDir, 'manifest.json'), 'utf8')) as { virtualMachines: { kernel: ManifestImage; initrd: ManifestImage }[] };
  const vm = manifest.virtualMachines[0]!;
  assert.is(vm.kernel.stored?.compressed, true);
  assert.is(vm.initrd.stored?.compressed, true);
  assert.ok(BigInt(vm.kernel.stored!.size) < BigInt(vm.kernel.stored!.unpackedSize) / 2n, 'the kernel shrinks by more than half');
  const packedElf = readFileSync(path.join(packed.outDir, 'vmm-linux.elf')).length;
  const plainElf = readFileSync(path.join(plain.outDir, 'vmm-linux.elf')).length;
  assert.ok(packedElf < plainElf / 2, `vmm-linux.elf ${packedElf} vs ${plainElf} bytes`);
  // Same input, same bytes.
  const again = await synth('packed-again', 'true');
  assert.ok(readFileSync(path.join(again.outDir, 'vmm-linux.elf')).equals(readFileSync(path.join(packed.outDir, 'vmm-linux.elf'))));

  const tPacked = await bootSeconds(packed);
  const tPlain = await bootSeconds(plain);
  process.stdout.write(`compressed images: marker after ${tPacked.toFixed(2)} s (loader.img ${(readFileSync(packed.loaderImage!).length / 1e6).toFixed(1)} MB); `
    + `uncompressed: ${tPlain.toFixed(2)} s (loader.img ${(readFileSync(plain.loaderImage!).length / 1e6).toFixed(1)} MB)\n`);
});

testIf(needs, 'a damaged compressed kernel stops the VM with one line, before the guest runs', async () => {
  const packed = await synth('damaged', 'true');
  const dir = path.join(work, 'damaged-copy');
  cpSync(packed.outDir, dir, { recursive: true });
  const elfFile = path.join(dir, 'vmm-linux.elf');
  const elf = new Uint8Array(readFileSync(elfFile));
  const seg = readElf(elf).segments.find((s) => s.vaddr === GUEST_IMAGES_VADDR)!;
  // The kernel's gzip member starts the segment; flip a byte well inside its DEFLATE data.
  const at = Number(seg.offset) + 0x40000;
  elf[at] = elf[at]! ^ 0x55;
  writeFileSync(elfFile, elf);
  const loader = path.join(dir, 'loader.img');
  await runMicrokit({ sdk: sdk!, board: BOARD, config: 'debug', systemFile: path.join(dir, 'linux-qemu.system'), searchPaths: [dir], output: loader, report: path.join(dir, 'report.txt') });
  const q = startQemu({ args: qemuArgs(packed.model.board!, loader) });
  try {
    const line = await q.waitFor(/vmm: VM 'linux' not started: compressed kernel image [^\n]*\n/, BOOT_MS);
    assert.match(line.text, /is corrupt|unpacks to/);
    assert.not.match(q.output, new RegExp(GUEST_MARKER));
  } finally {
    await q.stop();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
