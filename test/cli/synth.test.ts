// Synthesis of every example and system: golden .system files compared byte for byte
// (regenerate on purpose with UPDATE_GOLDEN=1 and review the diff), determinism, and the CLI's
// behaviour on success and on user errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fixtures, missing, repoRoot, runCli, shippedSystemContext, testIf } from '../helpers.js';
import { readFdt } from '../../src/compile/dtb/fdt-read.js';
import { findNode } from '../../src/compile/dtb/tree.js';
import { propNumber } from '../../src/compile/dtb/props.js';

const goldenDir = path.join(fixtures, 'golden');
const update = process.env['UPDATE_GOLDEN'] === '1';

/** Every systems.ts we ship, with the boards it is synthesised for. */
function shippedSystems(): { file: string; board: string | undefined; tag: string }[] {
  const out: { file: string; board: string | undefined; tag: string }[] = [];
  for (const dir of ['examples', 'systems']) {
    const abs = path.join(repoRoot, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).filter((n) => n.endsWith('.ts')).sort()) {
      const text = readFileSync(path.join(abs, f), 'utf8');
      // A file may list the boards it is meant for: `// boards: imx8mm_evk odroidc2`.
      const boards = /\/\/ boards: (.+)/.exec(text)?.[1]?.trim().split(/\s+/) ?? [undefined];
      for (const board of boards) out.push({ file: path.join(dir, f), board, tag: `${f.replace(/\.ts$/, '')}${board ? `.${board}` : ''}` });
    }
  }
  return out;
}

function synth(file: string, board: string | undefined, out: string) {
  const context = Object.entries(shippedSystemContext[file] ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
  return runCli([file, '--out', out, '--quiet', ...(board ? ['--board', board] : []), ...context], { env: { MICROKIT_SDK: '' } });
}

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-test-'));

for (const s of shippedSystems()) {
  test(`golden .system for ${s.tag}`, () => {
    const out = path.join(work, s.tag);
    const r = synth(s.file, s.board, out);
    assert.is(r.status, 0, r.stderr);
    const name = path.basename(s.file, '.ts');
    const xml = readFileSync(path.join(out, `${name}.system`), 'utf8');
    const golden = path.join(goldenDir, `${s.tag}.system`);
    if (update || !existsSync(golden)) {
      mkdirSync(goldenDir, { recursive: true });
      writeFileSync(golden, xml);
      if (!update) assert.unreachable(`no golden file yet: wrote ${path.relative(repoRoot, golden)}; review and commit it`);
    }
    assert.fixture(xml, readFileSync(golden, 'utf8'));
  });

  test(`synthesis of ${s.tag} is deterministic`, () => {
    const a = path.join(work, `${s.tag}-a`);
    const b = path.join(work, `${s.tag}-b`);
    assert.is(synth(s.file, s.board, a).status, 0);
    assert.is(synth(s.file, s.board, b).status, 0);
    const files = readdirSync(a).sort();
    assert.equal(files, readdirSync(b).sort());
    for (const f of files) assert.ok(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), `${f} differs between two runs`);
  });
}

test('the manifest describes the .system file and the guest', () => {
  const out = path.join(work, 'manifest');
  assert.is(synth('examples/linux-qemu.ts', undefined, out).status, 0);
  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.is(m.system, 'linux-qemu');
  assert.is(m.board.microkitBoard, 'qemu_virt_aarch64');
  assert.ok(m.artefacts.some((a: { file: string }) => a.file === 'linux-qemu.system'));
  const vm = m.virtualMachines[0];
  assert.is(vm.name, 'linux');
  assert.is(vm.ram.gpa, '0x40000000');
  assert.is(vm.ram.size, '0x10000000');
  assert.is(vm.passthrough[0].irqs[0].irq, 33);
  assert.ok(m.skipped.some((s: { reason: string }) => s.reason.includes('MICROKIT_SDK')), 'says that the SDK steps were skipped');
});

test('a user error exits 1 with a located message, no stack trace and no output files', () => {
  const out = path.join(work, 'bad');
  const r = runCli([path.join('test', 'fixtures', 'invalid', 'maps', 'map-overlap.ts'), '--out', out]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /test\/fixtures\/invalid\/maps\/map-overlap\.ts:\d+:\d+: error\[map-overlap\]/);
  assert.not.match(r.stderr, /\n\s+at .*\(.*:\d+:\d+\)/, 'no stack trace');
  assert.not.ok(existsSync(out), 'nothing written');
});

test('-c context values reach the systems.ts', () => {
  const out = path.join(work, 'ctx');
  const r = runCli(['examples/linux-qemu.ts', '--out', out, '-c', 'kernel=test/fixtures/invalid/not-an-image.txt']);
  assert.is(r.status, 1, 'the named file is not a kernel image');
  assert.match(r.stderr, /guest-kernel-not-image/);
  assert.match(r.stderr, /not-an-image\.txt/);
});

test('a -c key that the systems.ts never reads is reported', () => {
  const r = runCli(['check', 'examples/linux-qemu.ts', '-c', 'kernal=/tmp/Image']);
  assert.is(r.status, 0);
  assert.match(r.stderr, /warning\[context-unused\]: -c kernal=\.\.\. was given, but linux-qemu\.ts never reads 'kernal'/);
});

test('an unknown board on the command line is a user error naming the known boards', () => {
  const r = runCli(['check', 'examples/linux-qemu.ts', '--board', 'pdp11']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /unknown board 'pdp11'/);
  assert.match(r.stderr, /imx8mm_evk/);
});

test('boards lists every board with its aliases and GIC', () => {
  const r = runCli(['boards']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^imx8mm_evk\s+imx8mm, [^\n]*GICv3/m);
  assert.match(r.stdout, /^odroidc2\s+[^\n]*GICv2/m);
  assert.match(r.stdout, /^qemu_virt_aarch64\s+qemu, [^\n]*GICv2[^\n]*uart0 @ 0x9000000, IRQ 33/m);
});

test('boards <board> lists its devices: registers, the page mapped, interrupts, whether a bus master', () => {
  const r = runCli(['boards', 'qemu']);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^qemu_virt_aarch64: /);
  assert.match(r.stdout, /^uart0\s+uart \(console\)\s+0x9000000 \+0x1000\s+33 level\s+-\s+okay\s+\/pl011@9000000$/m);
  assert.match(r.stdout, /^virtio_mmio_a000200\s+virtio\s+0xa000200 \+0x200 \(mapped: 0xa000000 \+0x1000\)\s+49 edge\s+yes\s+okay\s+\/virtio_mmio@a000200$/m);
  const bad = runCli(['boards', 'qemu_vrt']);
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /error\[unknown-board\]: unknown board 'qemu_vrt'; did you mean 'qemu_virt_aarch64'\?/);
});

test('devices sharing a page: one VM gets one region and one mapping, and a node each; two VMs are an error naming the page', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-pages-'));
  try {
    const r = runCli(['test/fixtures/systems/two-transports.ts', '--out', out, '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 0, r.stderr);
    const xml = readFileSync(path.join(out, 'two-transports.system'), 'utf8');
    assert.equal(xml.match(/<memory_region name="virtio_mmio_[^"]*"[^>]*>/g), ['<memory_region name="virtio_mmio_a000000" size="0x1000" phys_addr="0xa000000"/>']);
    assert.equal(xml.match(/<map mr="virtio_mmio_[^"]*"[^>]*>/g), ['<map mr="virtio_mmio_a000000" vaddr="0xa000000" perms="rw" cached="false"/>']);
    // Another page: a region of its own.
    const other = runCli(['test/fixtures/systems/two-transports.ts', '-c', 'second=virtio_mmio_a001000', '--out', path.join(out, 'b'), '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(other.status, 0, other.stderr);
    assert.is(readFileSync(path.join(out, 'b', 'two-transports.system'), 'utf8').match(/<memory_region name="virtio_mmio_/g)?.length, 2);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

testIf(missing('qemu', 'guest-kernel'), 'devices sharing a page: the guest device tree (from QEMU\'s own) has a node for each', () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-pages-'));
  try {
    const r = runCli(['test/fixtures/systems/two-transports.ts', '--out', out, '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 0, r.stderr);
    const dt = readFdt(new Uint8Array(readFileSync(path.join(out, 'a.dtb'))));
    assert.ok(findNode(dt.root, '/virtio_mmio@a000000'), 'node of the first transport');
    assert.ok(findNode(dt.root, '/virtio_mmio@a000200'), 'node of the second transport');
    assert.not.ok(findNode(dt.root, '/virtio_mmio@a000400'), 'no node of a transport not given');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('a missing systems file is a user error', () => {
  const r = runCli(['check', 'no/such/file.ts']);
  assert.is(r.status, 1);
  assert.not.match(r.stderr, /internal error/);
});

test('check exits 0 on a valid system and 1 on an invalid .system', () => {
  assert.is(runCli(['check', 'examples/linux-qemu.ts']).status, 0);
  const r = runCli(['check', path.join('test', 'fixtures', 'invalid', 'parse', 'xml-id-not-decimal-irq-hex.system')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /xml-id-not-decimal-irq-hex\.system:5:\d+: error\[xml-id-not-decimal\]/);
});

/** A stand-in arm64 Image: a valid header (text_offset 0, image_size 32 MiB) and little else. */
function stubKernel(file: string): void {
  const b = Buffer.alloc(4096);
  b.writeBigUInt64LE(0n, 8);
  b.writeBigUInt64LE(0x200_0000n, 16);
  b.writeBigUInt64LE(0xan, 24);
  b.writeUInt32LE(0x644d5241, 56);
  writeFileSync(file, b);
}

testIf(missing('dtc', 'qemu'), 'golden guest device tree for linux-qemu, with the initrd range injected as placed', () => {
  const kernel = path.join(work, 'Image.stub');
  const initrd = path.join(work, 'initrd.stub');
  stubKernel(kernel);
  writeFileSync(initrd, Buffer.alloc(123_457, 7));
  const out = path.join(work, 'dtb');
  const r = runCli(['examples/linux-qemu.ts', '--out', out, '--quiet', '-c', `kernel=${kernel}`, '-c', `initrd=${initrd}`], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  const dtb = readFileSync(path.join(out, 'linux.dtb'));
  const dts = spawnSync('dtc', ['-q', '-I', 'dtb', '-O', 'dts', '-'], { input: dtb, encoding: 'utf8' }).stdout;
  const golden = path.join(goldenDir, 'linux-qemu.linux.dts');
  if (update || !existsSync(golden)) {
    writeFileSync(golden, dts);
    if (!update) assert.unreachable(`no golden file yet: wrote ${path.relative(repoRoot, golden)}; review and commit it`);
  }
  assert.fixture(dts, readFileSync(golden, 'utf8'));

  const m = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const vm = m.virtualMachines[0];
  const chosen = findNode(readFdt(new Uint8Array(dtb)), '/chosen')!.node;
  const start = propNumber(chosen, 'linux,initrd-start')!;
  const end = propNumber(chosen, 'linux,initrd-end')!;
  assert.is(`0x${start.toString(16)}`, vm.initrd.gpa);
  assert.is(end - start, 123_457n, 'the range is the initrd file size');
  assert.is(`0x${(end - start).toString(16)}`, vm.initrd.size);
  assert.is(vm.dtb.size, `0x${dtb.length.toString(16)}`);
  assert.ok(m.artefacts.some((a: { file: string }) => a.file === 'linux.dtb'));
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
