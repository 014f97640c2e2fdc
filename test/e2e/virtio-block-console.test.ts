// End to end: a guest whose only console is a virtio console (hvc0; the VMM drives uart0 and
// prefixes each line of guest output with the VM's name) and which has a virtio block device
// backed by an ext2 image made here with mke2fs (test/fixtures/systems/block-console.ts). The
// oracles are the guest's own reads: a random secret put in the image shows up in the guest, a
// file it writes comes back through the device after its caches are dropped, writes to a
// read-only disk fail in the guest while the VM keeps running, and a line typed on QEMU's
// serial comes back from hvc0. Needs MICROKIT_SDK, QEMU, the guest images with their modules and
// mke2fs (e2fsprogs); otherwise each test prints one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise, type SynthResult } from '../../src/compile/synthesise.js';
import { GUEST_IMAGES_VADDR } from '../../src/compile/link/vmm-elf.js';
import { PT_LOAD, readElf } from '../../src/compile/link/elf.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu, type QemuProcess } from '../../src/run/qemu.js';
import { allProtectionDomains } from '../../src/compile/model/index.js';
import { commandPath, missing, repoRoot, testIf } from '../helpers.js';
import { BOOT_MS, missingForBoot, sdk } from './requirements.js';

const forImage = missing('mke2fs', 'guest-kernel', 'guest-busybox', 'guest-modules');
const forBoot = missingForBoot() ?? forImage;
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-blk-'));
const M = 'SEL4CP-SYNTH:';

/** An ext2 image of 4 MiB holding `files` (name → content), made by mke2fs -d (no root needed). */
function ext2Image(name: string, files: Record<string, string>): string {
  const root = path.join(work, `${name}-root`);
  mkdirSync(root, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(root, file), content);
  const image = path.join(work, `${name}.img`);
  const r = spawnSync(commandPath('mke2fs')!, ['-q', '-t', 'ext2', '-d', root, '-F', image, '4M'], { encoding: 'utf8' });
  assert.is(r.status, 0, `mke2fs failed: ${r.stderr}`);
  return image;
}

/** A fresh image with a random secret.txt, and the secret. */
function secretImage(name: string): { image: string; secret: string } {
  const secret = randomBytes(32).toString('hex');
  return { image: ext2Image(name, { 'secret.txt': `${secret}\n` }), secret };
}

async function build(kase: string, disk: string, withSdk = sdk, out = kase): Promise<SynthResult> {
  const result = await synthesise({
    file: path.join(repoRoot, 'test/fixtures/systems/block-console.ts'), board: 'qemu_virt_aarch64', config: 'debug',
    outDir: path.join(work, out), sdk: withSdk, context: new Map([['case', kase], ['disk', disk]]),
  });
  assert.equal(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);
  return result;
}

async function boot(kase: string, disk: string, withSdk = sdk, out = kase): Promise<QemuProcess> {
  const result = await build(kase, disk, withSdk, out);
  return startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!, result.model) });
}

/** The guest's lines come from its VMM, prefixed with the VM's name. */
const guestLine = (text: string): RegExp => new RegExp(`^guest\\| ${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r?$`, 'm');
const stoppedLines = (out: string): string[] => out.match(/vmm: VM 'guest' stopped: .*/g) ?? [];
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

testIf(forImage, 'examples/console-block-qemu.ts synthesises: a virtio console on uart0 as its only console, a block device of the image given', async () => {
  const disk = ext2Image('example', { 'hello.txt': 'hello from the disk\n' });
  const result = await synthesise({
    file: path.join(repoRoot, 'examples/console-block-qemu.ts'), config: 'debug', outDir: path.join(work, 'example'),
    sdk: sdk ?? '', context: new Map([['disk', disk]]),
  });
  assert.equal(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  const guest = result.model.guests.find((g) => g.vm === 'storage')!;
  assert.is(guest.bootargs, 'console=hvc0');
  assert.equal([guest.passthrough.length, guest.emulated.length], [0, 0], 'no UART passed through or emulated');
  assert.equal(guest.virtio.map((d) => [d.kind, d.name, d.input?.device ?? d.disk?.readOnly]), [['console', 'console', 'uart0'], ['block', 'data', false]]);
  const region = result.model.memoryRegions.find((m) => m.name === 'storage_data_disk')!;
  assert.is(region.size, BigInt(statSync(disk).size));
  // The disk and the UART are the VMM's alone; the guest maps neither.
  const vmm = allProtectionDomains(result.model).find((p) => p.name === guest.vmm)!;
  for (const mr of ['storage_data_disk', 'uart0']) {
    assert.ok(vmm.maps.some((m) => m.mr === mr), `${mr} is mapped into the VMM`);
    assert.not.ok(vmm.virtualMachine!.maps.some((m) => m.mr === mr), `${mr} is not mapped into the guest`);
  }
  if (sdk && !missingForBoot()) assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);
});

testIf(forBoot, 'virtio-blk: the guest mounts the ext2 image, reads a file of it, and what it writes comes back through the device', async () => {
  const { image, secret } = secretImage('rw');
  const q = await boot('rw', image);
  try {
    const read = await q.waitFor(guestLine(`${M} file ${secret}`), BOOT_MS);
    await q.waitFor(guestLine(`${M} read back written-${secret}`), 60_000);
    await q.waitFor("vmm: VM 'guest' stopped: PSCI SYSTEM_OFF", 60_000);
    const stats = await q.waitFor(/vmm: VM 'guest' virtio-blk \d+: (\d+) reads, (\d+) writes, (\d+) errors/, 10_000);
    const [, reads, writes, errors] = /(\d+) reads, (\d+) writes, (\d+) errors/.exec(stats.text)!;
    assert.ok(Number(reads) > 0 && Number(writes) > 0, `the device served reads and writes: ${stats.text}`);
    assert.is(errors, '0', stats.text);
    assert.equal(stoppedLines(q.output), ["vmm: VM 'guest' stopped: PSCI SYSTEM_OFF"]);
    process.stdout.write(`rw: secret read after ${seconds(read.elapsedMs)}; ${stats.text}\n`);
  } finally {
    await q.stop();
  }
});

testIf(forBoot, 'virtio-blk read-only: writes fail in the guest (remount rw, a file, the raw device) and the VM keeps running', async () => {
  const { image, secret } = secretImage('ro');
  const q = await boot('ro', image);
  try {
    const read = await q.waitFor(guestLine(`${M} file ${secret}`), BOOT_MS);
    const last = await q.waitFor(guestLine(`${M} still running, file ${secret}`), 60_000);
    const out = q.output;
    assert.match(out, /^guest\| \/dev\/vda \/mnt ext2 ro[,\s]/m);
    for (const marker of ['remount rw refused', 'file write refused', 'raw write refused', 'disk unchanged']) {
      assert.match(out, guestLine(`${M} ${marker}`));
    }
    // The guest keeps running: a moment later its VMM still has not stopped it.
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(stoppedLines(q.output), [], 'the VMM stopped the VM');
    process.stdout.write(`ro: secret read after ${seconds(read.elapsedMs)}, writes refused by ${seconds(last.elapsedMs)}\n`);
  } finally {
    await q.stop();
  }
});

testIf(forBoot, 'virtio-console: a line typed on uart0 reaches the guest through hvc0 and comes back', async () => {
  const { image } = secretImage('echo');
  const q = await boot('echo', image);
  try {
    const ready = await q.waitFor(guestLine(`${M} ready for input`), BOOT_MS);
    // Longer than the PL011's receive FIFO and the VMM's 64-byte read per interrupt.
    const line = randomBytes(60).toString('hex');
    q.send(`${line}\r`);
    const echo = await q.waitFor(guestLine(`${M} echo [${line}]`), 60_000);
    await q.waitFor("vmm: VM 'guest' stopped: PSCI SYSTEM_OFF", 60_000);
    process.stdout.write(`echo: ready after ${seconds(ready.elapsedMs)}, ${line.length} characters echoed ${seconds(echo.elapsedMs - ready.elapsedMs)} later\n`);
  } finally {
    await q.stop();
  }
});

const sdk230 = process.env['MICROKIT_SDK_2_3_0'] ?? '';
const forBoot230 = (!sdk230 || !existsSync(path.join(sdk230, 'bin', 'microkit')) ? 'MICROKIT_SDK_2_3_0 is not set to a Microkit 2.3.0 SDK' : undefined) ?? forBoot;

/** Bytes of the VMM ELF's segment at GUEST_IMAGES_VADDR (what the link step adds to the runtime). */
function imageSegment(elfFile: string): bigint {
  return readElf(readFileSync(elfFile)).segments.filter((g) => g.type === PT_LOAD && g.vaddr === GUEST_IMAGES_VADDR).reduce((n, g) => n + g.filesz, 0n);
}

testIf(forBoot230, 'virtio-blk on Microkit 2.3.0: the disk is a prefilled region, not in the VMM ELF; the guest reads it and its writes come back', async () => {
  const { image, secret } = secretImage('rw230');
  const result = await build('rw', image, sdk230, 'rw-2.3.0');
  const disk = result.model.memoryRegions.find((m) => m.name === 'guest_data_disk')!;
  assert.equal(disk.prefill?.path, 'guest-data.disk');
  assert.equal(readFileSync(path.join(result.outDir, 'guest-data.disk')), readFileSync(image), 'the prefill file is the image');
  const elf = path.join(result.outDir, 'vmm-guest.elf');
  assert.is(imageSegment(elf), 0n, 'the VMM ELF carries no disk and no guest image');
  process.stdout.write(`2.3.0: vmm-guest.elf is ${statSync(elf).size} bytes with a ${statSync(image).size}-byte disk\n`);
  const q = startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!, result.model) });
  try {
    await q.waitFor(guestLine(`${M} file ${secret}`), BOOT_MS);
    await q.waitFor(guestLine(`${M} read back written-${secret}`), 60_000);
    assert.match(q.output, /vmm: VM 'guest' images: copied 0 bytes \([^)]*prefilled in place; disks copied 0;/);
  } finally {
    await q.stop();
  }
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
