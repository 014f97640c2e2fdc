// Microkit 2.3.0's constructs through the DSL: synthesised with --microkit 2.3.0 they become the
// 2.3.0 attributes and elements; for 2.0.1 each is refused at its line; with the 2.3.0 SDK
// (MICROKIT_SDK_2_3_0) the real tool builds a loader image from the XML we emit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, missing, runCli, testIf } from '../helpers.js';

const file = path.join(fixtures, 'valid', 'features-2.3.0.ts');
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-230-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

test('--microkit 2.3.0: the 2.3.0 attributes and elements in the emitted .system', () => {
  const out = path.join(work, 'xml');
  const r = runCli([file, '--out', out, '--board', 'qemu_virt_aarch64', '--microkit', '2.3.0', '--quiet'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  const xml = readFileSync(path.join(out, 'features-2.3.0.system'), 'utf8');
  for (const want of [
    /<memory_region name="table" prefill_path="table.bin"\/>/,
    /<domains>\s*<domain name="fast"\/>\s*<domain name="slow" id="3"\/>\s*<domain_schedule>\s*<schedule_entry domain="fast" duration="2000 us"\/>\s*<schedule_entry domain="slow" duration="5 ticks"\/>/,
    /<protection_domain name="worker" priority="50" cpu="0" fpu="false" domain="fast">/,
    /<map mr="table" vaddr="0x[0-9a-f]+" perms="r" setvar_vaddr="table_vaddr" setvar_prefill_size="table_size"\/>/,
    /<irq irq="40" id="0" setvar_id="tick_irq"\/>/,
    /<cspace>\s*<cap_tcb slot="1" pd="child"\/>\s*<cap_sc slot="2" pd="child"\/>\s*<cap_vspace slot="3" pd="worker"\/>\s*<\/cspace>/,
    /<protection_domain name="child" id="1" setvar_id="child_id" priority="60" domain="slow">/,
    /<end pd="worker" id="1" setvar_id="to_server"\/>/,
  ]) assert.match(xml, want);
  assert.not.match(xml, /stack_size/, 'the 2.3.0 default stack (8 KiB) is left out');
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { microkit: string };
  assert.is(manifest.microkit, '2.3.0');
});

test('for Microkit 2.0.1, each 2.3.0 construct is refused at its line', () => {
  const r = runCli(['check', file, '--board', 'qemu_virt_aarch64'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 1);
  const lines = [...r.stderr.matchAll(/features-2\.3\.0\.ts:(\d+):\d+: error\[microkit-2\.3\.0-only\]: (.*)/g)].map((m) => `${m[1]}: ${m[2]!.split(' is a ')[0]}`);
  for (const want of ['12: a prefill file on memory region \'table\'', '15: domain on protection domain \'child\'', '16: cpu on protection domain \'worker\'',
    '16: fpu on protection domain \'worker\'', '23: setvar_id on irq 40', '25: a cspace on protection domain \'worker\'', '31: setvar_id on the channel end', '32: a domain schedule']) {
    assert.ok(lines.some((l) => l.startsWith(want.split(':')[0]!) && l.includes(want.split(': ')[1]!)), `${want} in:\n${lines.join('\n')}`);
  }
  assert.match(r.stderr, /hint: build with a Microkit 2\.3\.0 SDK/);
});

const sdk = process.env['MICROKIT_SDK_2_3_0'] ?? '';
const needs = sdk ? missing('cross-gcc', 'cross-binutils') : 'MICROKIT_SDK_2_3_0 is not set (the Microkit 2.3.0 SDK)';

testIf(needs, 'the Microkit 2.3.0 tool builds a loader image from what we emit', () => {
  const boardDir = path.join(sdk, 'board', 'qemu_virt_aarch64', 'debug');
  execFileSync('aarch64-linux-gnu-gcc', ['-mcpu=cortex-a53', '-mstrict-align', '-ffreestanding', '-nostdlib', '-O2',
    '-I', path.join(boardDir, 'include'), '-c', path.join(fixtures, 'valid', 'pd.c'), '-o', path.join(work, 'pd.o')]);
  execFileSync('aarch64-linux-gnu-ld', ['-L', path.join(boardDir, 'lib'), path.join(work, 'pd.o'), '-lmicrokit',
    '-T', path.join(boardDir, 'lib', 'microkit.ld'), '-o', path.join(work, 'pd.elf')]);
  const out = path.join(work, 'tool');
  // Our .system only (no SDK: the fixture's pd.elf is the one built above, beside it, which the
  // tool below finds on its search path); the 2.3.0 tool then builds the image from it.
  const r = runCli([file, '--out', out, '--board', 'qemu_virt_aarch64', '--quiet', '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  const mk = spawnSync(path.join(sdk, 'bin', 'microkit'), [path.join(out, 'features-2.3.0.system'), '--search-path', work, path.join(fixtures, 'valid'),
    '--board', 'qemu_virt_aarch64', '--config', 'debug', '-o', path.join(out, 'loader.img'), '-r', path.join(out, 'report.txt')],
    // The tool finds its SDK through MICROKIT_SDK before its own location: a 2.0.1 SDK in the
    // environment would make the 2.3.0 tool look for 2.0.1's (absent) initialiser.
    { encoding: 'utf8', env: { ...process.env, MICROKIT_SDK: sdk } });
  assert.is(mk.status, 0, `microkit 2.3.0 rejected it:\n${mk.stdout}${mk.stderr}`);
});

testIf(missing('qemu', 'guest-kernel', 'guest-initrd'), '--microkit 2.3.0 with guest images: the prefill files and the .system are byte-identical from two runs', () => {
  const outs = ['a', 'b'].map((n) => {
    const out = path.join(work, `prefill-${n}`);
    const r = runCli(['examples/linux-qemu.ts', '--out', out, '--microkit', '2.3.0', '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 0, r.stderr);
    return out;
  });
  const xml = readFileSync(path.join(outs[0]!, 'linux-qemu.system'), 'utf8');
  for (const [mr, file] of [['linux_guest_ram_kernel', 'linux-kernel.img'], ['linux_guest_ram_initrd', 'linux-initrd.img'], ['linux_guest_ram_dtb', 'linux.dtb']]) {
    assert.match(xml, new RegExp(`<memory_region name="${mr}" size="0x[0-9a-f]+"( page_size="0x200000")? prefill_path="${file}"/>`));
  }
  for (const f of ['linux-qemu.system', 'linux-kernel.img', 'linux-initrd.img', 'linux.dtb', 'manifest.json']) {
    assert.ok(readFileSync(path.join(outs[0]!, f)).equals(readFileSync(path.join(outs[1]!, f))), `${f} differs between two runs`);
  }
  assert.ok(readFileSync(path.join(outs[0]!, 'linux-kernel.img')).equals(readFileSync('.cache/guest/Image')), 'the kernel is prefilled as it is');
});

testIf(missing('qemu', 'guest-kernel', 'guest-initrd'), '--microkit 2.3.0: a guest with a bus master keeps its RAM whole at its physical address (no prefilled image regions), another guest gets them', () => {
  const dir = mkdtempSync(path.join(work, 'dma-'));
  const guestDir = path.join(fixtures, '..', '..', '.cache', 'guest');
  writeFileSync(path.join(dir, 'dma.ts'), `import { mib, passthrough, system, virtualMachine } from 'sel4cp-synth';
const vm = (name: string, devices: string[]) => virtualMachine(name, { kernel: '${guestDir}/Image', initrd: '${guestDir}/initramfs.cpio', ram: mib(256), passthrough: devices.map((d) => passthrough(d)) });
export default system({ board: 'qemu_virt_aarch64', virtualMachines: [vm('dev', ['uart0', 'virtio_mmio_a000000']), vm('plain', [])] });
`);
  const out = path.join(dir, 'out');
  const r = runCli([path.join(dir, 'dma.ts'), '--out', out, '--microkit', '2.3.0', '--quiet'], { env: { MICROKIT_SDK: '', MICROKIT_SDK_2_3_0: '' } });
  assert.is(r.status, 0, r.stderr);
  const xml = readFileSync(path.join(out, 'dma.system'), 'utf8');
  const ram = [...xml.matchAll(/<memory_region name="(dev|plain)_[^"]*" [^>]*>/g)].map((m) => m[0]);
  assert.ok(ram.some((m) => m.startsWith('<memory_region name="plain_') && m.includes('prefill_path')), `plain is prefilled:\n${ram.join('\n')}`);
  const dev = ram.filter((m) => m.startsWith('<memory_region name="dev_') && !m.includes('wake_slot'));
  assert.is(dev.length, 1, `dev's RAM is one region:\n${dev.join('\n')}`);
  assert.not.match(dev[0]!, /prefill_path/);
  const paddr = /phys_addr="(0x[0-9a-f]+)"/.exec(dev[0]!)?.[1];
  assert.ok(paddr, dev[0]);
  assert.match(xml, new RegExp(`<map mr="dev_[a-z_]*ram" vaddr="${paddr}"`), 'guest-physical = physical');
});

test.run();
