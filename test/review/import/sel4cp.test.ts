// import --from sel4cp: a seL4 Core Platform (2023) .system becomes a systems.ts with
// virtualMachine() + passthrough(), each change of meaning a note and a comment at its line. The
// generated files are synthesised by our pipeline (its validation is the oracle that they are
// well-formed systems); the 2023 VMM's own files are read where SEL4CP_SRC points at a checkout
// of au-ts/libvmm 10d0f1c5; and the guide's system boots Linux on QEMU when the SDK is here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildModel } from '../../../src/compile/synthesise.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { findBoard } from '../../../src/compile/boards.js';
import { importSel4cpXml, SEL4CP_NOTE_KINDS, type Sel4cpNote, type Sel4cpNoteKind } from '../../../src/review/import/sel4cp.js';
import { fixtures, guestDir, missing, runCli, testIf } from '../../helpers.js';
import { missingForBoot } from '../../e2e/requirements.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-import-sel4cp-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** The seL4CP VMM guide's example, as issue 14 quotes it, in its <system>. */
const GUIDE = `<?xml version="1.0" encoding="UTF-8"?>
<system>
    <memory_region name="guest_ram" size="0x10_000_000" />
    <memory_region name="serial" size="0x1_000" phys_addr="0x9000000" />
    <memory_region name="gic_vcpu" size="0x1_000" phys_addr="0x8040000" />
    <protection_domain name="VMM" priority="254">
        <program_image path="vmm.elf" />
        <map mr="guest_ram" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr" />
        <virtual_machine name="linux" vm_id="1">
            <map mr="guest_ram" vaddr="0x40000000" perms="rwx" />
            <map mr="serial" vaddr="0x9000000" perms="rw" />
            <map mr="gic_vcpu" vaddr="0x8010000" perms="rw" />
        </virtual_machine>
    </protection_domain>
</system>
`;

const boards = loadBoards();
const board = (name: string) => findBoard(boards, name)!;

interface Imported {
  text: string;
  notes: Sel4cpNote[];
  file: string;
}

/** Import `xml` (written to `name`) and check the systems.ts it gives loads and validates. */
async function importAndBuild(xml: string, name: string, boardName?: string): Promise<Imported> {
  const file = path.join(tmp, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, xml);
  const result = importSel4cpXml(xml, { file, board: boardName ? board(boardName) : undefined, boards, outDir: path.dirname(file) });
  assert.equal(result.diagnostics.map((d) => `${d.id}: ${d.message}`), [], `${name}: imported`);
  const ts = file.replace(/\.system$/, '.ts');
  writeFileSync(ts, result.text!);
  const { diagnostics } = await buildModel({ file: ts });
  assert.equal(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.id}: ${d.message}`), [], `${name}: the systems.ts is valid`);
  return { text: result.text!, notes: result.notes, file: ts };
}

/** The comment lines right above the first line of `text` that matches `code`. */
function commentAbove(text: string, code: RegExp): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => code.test(l) && !/^\s*\/\//.test(l));
  assert.ok(at >= 0, `no line matches ${code}`);
  const out: string[] = [];
  for (let i = at - 1; i >= 0 && /^\s*\/\//.test(lines[i]!); i--) out.unshift(lines[i]!.trim());
  return out.join('\n');
}

/** A note of `kind` was made, and its comment sits above the line matching `code`. */
function noted(r: Imported, kind: Sel4cpNoteKind, code: RegExp | undefined, seen: Set<string>): void {
  const note = r.notes.find((n) => n.kind === kind);
  assert.ok(note, `a ${kind} note (have: ${[...new Set(r.notes.map((n) => n.kind))].join(', ')})`);
  seen.add(kind);
  if (code) {
    const comment = commentAbove(r.text, code).replace(/\n\/\/ {3}/g, ' ');
    assert.ok(comment.includes(`// now: ${note!.now}`.slice(0, 60)), `${kind}: its comment is above ${code}:\n${comment}`);
  }
}

const seen = new Set<string>();

test('the guide\'s simple.system: virtualMachine() + passthrough(), the board from its GIC, the UART interrupt recognised', async () => {
  const r = await importAndBuild(GUIDE, 'guide/simple.system');
  assert.match(r.text, /import \{[^}]*virtualMachine[^}]*\} from 'sel4cp-synth'/);
  assert.match(r.text, /board: 'qemu_virt_aarch64'/);
  assert.match(r.text, /ram: mib\(256\)/);
  const code = r.text.split('\n').filter((l) => !/^\s*\/\//.test(l)).join('\n');
  assert.not.match(code, /protectionDomain\(|memoryRegion\(|vm_id|guest_ram_vaddr|vmm\.elf/, 'nothing of the old VMM is left as low-level constructs');
  noted(r, 'board-detected', undefined, seen);
  noted(r, 'vm-id', /^\s*vcpus: 1,/, seen);
  noted(r, 'vmm-program', /^\s*vmm: \{ name: 'VMM' \}/, seen);
  noted(r, 'vmm-ram-map', /^const linux = /, seen);
  noted(r, 'gic-vcpu', /^const linux = /, seen);
  noted(r, 'guest-ram', /^\s*ram: mib\(256\)/, seen);
  noted(r, 'device', /^\s*passthrough\('uart0'\),/, seen);
  noted(r, 'device-irq-added', /^\s*passthrough\('uart0'\),/, seen);
  noted(r, 'images-built-in', /^\s*kernel: contextFile\('kernel', 'Image'\)/, seen);
  noted(r, 'dtb-generated', /^\s*dtb: optionalContextFile\('dtb'\)/, seen);
  noted(r, 'priority', /^\s*priority: 100,/, seen);
  noted(r, 'idle', /^\s*idle: 'block',/, seen);
  // The UART's interrupt is the board's, on a channel of the generated VMM.
  const { model } = await buildModel({ file: r.file });
  const vmm = model.protectionDomains.find((p) => p.name === 'VMM')!;
  assert.equal(vmm.irqs.map((q) => q.irq), [33]);
  assert.equal(vmm.virtualMachine!.vcpus.length, 1);
});

test('images the VM names, interrupts with ids, uncached RAM', async () => {
  const xml = `<system>
    <memory_region name="serial" size="0x1_000" phys_addr="0x9000000" />
    <memory_region name="guest_ram" size="0x10_000_000" />
    <memory_region name="gic_vcpu" size="0x1_000" phys_addr="0x8040000" />
    <protection_domain name="VMM" priority="254">
        <program_image path="vmm.elf" />
        <irq irq="33" id="1" />
        <virtual_machine name="linux" vm_id="1" priority="50">
            <program_image path="new/linux" vaddr="0x40080000" />
            <device_tree path="linux.dtb" vaddr="0x4f000000" />
            <init_ram_disk path="rootfs.cpio.gz" vaddr="0x4d700000" />
            <map mr="serial" vaddr="0x9000000" perms="rw" cached="false" />
            <map mr="gic_vcpu" vaddr="0x8010000" perms="rw" cached="false" />
            <map mr="guest_ram" vaddr="0x40000000" perms="rwx" cached="false" />
        </virtual_machine>
    </protection_domain>
</system>`;
  const r = await importAndBuild(xml, 'images/board/qemu_arm_virt_hyp/systems/simple_new.system');
  noted(r, 'image-file', /^\s*kernel: contextFile\('kernel', 'new\/linux'\)/, seen);
  noted(r, 'image-address', /^\s*kernel: contextFile/, seen);
  noted(r, 'irq-channel', /^\s*passthrough\('uart0'\),/, seen);
  assert.match(r.text, /initrd: contextFile\('initrd', 'rootfs\.cpio\.gz'\)/);
  assert.match(r.text, /priority: 50,/, 'a priority the file gave is kept');
  assert.ok(r.notes.some((n) => n.kind === 'guest-ram' && /mapped cached/.test(n.now)), 'uncached RAM becomes cached, said so');
  assert.ok(r.notes.some((n) => n.kind === 'board-detected' && /qemu_arm_virt_hyp\/systems/.test(n.was)), 'the board from the path');
});

test('two VMs with one name and one UART: renamed, the second UART emulated, a VMM priority filled in', async () => {
  const vm = (n: number, irq: string, prio: string): string => `
    <protection_domain name="VMM-${n}"${prio}>
        <program_image path="vmm.elf" />
        <map mr="guest_ram-${n}" vaddr="0x40000000" perms="rw" setvar_vaddr="guest_ram_vaddr" />
        <virtual_machine name="linux" vm_id="1">
            <map mr="guest_ram-${n}" vaddr="0x40000000" perms="rwx" />
            <map mr="serial" vaddr="0x9000000" perms="rw" />
            <map mr="gic_vcpu" vaddr="0x8010000" perms="rw" />
        </virtual_machine>${irq}
    </protection_domain>`;
  const xml = `<system>
    <memory_region name="serial" size="0x1_000" phys_addr="0x9000000" />
    <memory_region name="guest_ram-1" size="0x10_000_000" page_size="0x200_000" />
    <memory_region name="guest_ram-2" size="0x10_000_000" page_size="0x200_000" />
    <memory_region name="gic_vcpu" size="0x1_000" phys_addr="0x8040000" />${vm(1, '\n        <irq irq="33" id="1" />', ' priority="254"')}${vm(2, '', '')}
</system>`;
  const r = await importAndBuild(xml, 'two/two_vms.system', 'qemu_arm_virt_hyp');
  noted(r, 'vm-renamed', undefined, seen);
  noted(r, 'device-shared', /^\s*emulated\('uart0'\),/, seen);
  assert.match(r.text, /virtualMachine\('linux-2'/);
  assert.ok(r.notes.some((n) => n.kind === 'priority' && /'VMM-2' had no priority/.test(n.was)));
  const { model } = await buildModel({ file: r.file });
  assert.equal(model.guests.map((g) => [g.vm, g.passthrough.map((p) => p.device), g.emulated.map((e) => e.device)]), [['linux', ['uart0'], []], ['linux-2', [], ['uart0']]]);
});

test('odroidc2: triggers, devices without interrupts, devices the board does not list, shared memory, channels, an unrecognised VMM', async () => {
  const xml = `<system>
    <memory_region name="guest_ram" size="0x10_000_000" />
    <memory_region name="serial" size="0x1_000" phys_addr="0xc8100000" />
    <memory_region name="gic_vcpu" size="0x1_000" phys_addr="0xc4306000" />
    <memory_region name="eth" size="0x10_000" phys_addr="0xc9410000" />
    <memory_region name="mystery" size="0x1_000" phys_addr="0xc1100000" />
    <memory_region name="shared" size="0x1_000" />
    <memory_region name="ram2" size="0x100_000" />
    <protection_domain name="VMM" priority="200">
        <program_image path="vmm.elf" />
        <irq irq="225" id="1" trigger="level" />
        <irq irq="100" id="2" />
        <virtual_machine name="linux" vm_id="1">
            <map mr="guest_ram" vaddr="0x20000000" perms="rwx" />
            <map mr="serial" vaddr="0xc8100000" perms="rw" cached="false" />
            <map mr="gic_vcpu" vaddr="0xc4302000" perms="rw" cached="false" />
            <map mr="eth" vaddr="0xc9410000" perms="rw" cached="false" />
            <map mr="mystery" vaddr="0xc1100000" perms="rw" cached="false" />
            <map mr="shared" vaddr="0x30000000" perms="rw" />
        </virtual_machine>
    </protection_domain>
    <protection_domain name="client" priority="100">
        <program_image path="client.elf" />
        <map mr="shared" vaddr="0x4000000" perms="rw" />
    </protection_domain>
    <protection_domain name="other_vmm" priority="254">
        <program_image path="other_vmm.elf" />
        <map mr="ram2" vaddr="0x10000000" perms="rw" />
        <map mr="shared" vaddr="0x4000000" perms="r" />
        <virtual_machine name="other" vm_id="1">
            <map mr="ram2" vaddr="0x20000000" perms="rwx" />
            <map mr="gic_vcpu" vaddr="0xc4302000" perms="rw" cached="false" />
        </virtual_machine>
    </protection_domain>
    <channel>
        <end pd="client" id="1" />
        <end pd="VMM" id="5" />
    </channel>
</system>`;
  const r = await importAndBuild(xml, 'odroid/linux.system', 'odroidc2_hyp');
  noted(r, 'irq-trigger', /^\s*passthrough\('uart_AO'\),/, seen);
  noted(r, 'device-no-irq', /^\s*passthrough\('ethmac', \{ irqs: false \}\),/, seen);
  noted(r, 'device-described', /passthrough\(\{ name: 'mystery'/, seen);
  noted(r, 'irq-unmatched', /^const linux = /, seen);
  noted(r, 'map-kept', /^\s*map\(shared, /, seen);
  noted(r, 'vmm-channel', undefined, seen);
  noted(r, 'not-recognised', undefined, seen);
  assert.match(r.text, /ramBase: addr\(0x2000_0000\)|virtualMachine\('linux'/);
  assert.match(r.text, /bareVirtualMachine\('other'/, 'the unrecognised VMM stays low-level');
  assert.match(r.text, /end\(linux, \{ id: 5 \}\)/, 'a channel to the VMM names the guest');
  assert.match(r.text, /vmm: \{ name: 'VMM', priority: 200 \}/);
});

test('GICv3 (imx8mm): the GIC region is not needed', async () => {
  const xml = `<system>
    <memory_region name="serial" size="0x1_000" phys_addr="0x30890000" />
    <memory_region name="guest_ram" size="0x10_000_000" />
    <memory_region name="gic_vcpu" size="0x1_000" phys_addr="0x38820000" />
    <protection_domain name="VMM" priority="254">
        <program_image path="vmm.elf" />
        <virtual_machine name="linux" vm_id="1">
            <map mr="guest_ram" vaddr="0x40000000" perms="rwx" cached="true" />
            <map mr="serial" vaddr="0x30890000" perms="rw" cached="false" />
            <map mr="gic_vcpu" vaddr="0x38802000" perms="rw" cached="false" />
        </virtual_machine>
    </protection_domain>
</system>`;
  const r = await importAndBuild(xml, 'imx/board/imx8mm_evk_hyp/systems/simple.system');
  const gic = r.notes.find((n) => n.kind === 'gic-vcpu')!;
  assert.match(gic.now, /GICv3/);
  assert.match(r.text, /board: 'imx8mm_evk'/);
  assert.match(r.text, /passthrough\('uart2'\)/);
});

test('every kind of note is made by some file above, or by the CLI (format-detected)', () => {
  seen.add('format-detected'); // asserted through the CLI below
  assert.equal([...seen].sort(), Object.keys(SEL4CP_NOTE_KINDS).sort());
});

test('CLI: import detects the format with a note, check --from sel4cp gives the same messages as check', () => {
  const file = path.join(tmp, 'cli', 'simple.system');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, GUIDE);
  const imported = runCli(['import', file]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.match(imported.stderr, /simple\.system:1:1: note\[format-detected\]/);
  assert.match(imported.stderr, /note\[device-irq-added\]: passthrough\('uart0'\) passes the board's interrupt 33/);
  assert.match(imported.stdout, /virtualMachine\('linux'/);
  // As Microkit 2.0.1, the file is wrong exactly where the issue says.
  const asMicrokit = runCli(['check', file, '--from', 'microkit']);
  assert.equal(asMicrokit.status, 1);
  assert.match(asMicrokit.stderr, /invalid attribute 'vm_id'/);
  const ok = runCli(['check', file, '--from', 'sel4cp']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /is valid/);
  assert.not.match(ok.stdout, /board-specific checks .* were not run/, 'the board was recognised');
  // A mistake in a seL4CP file: the message Microkit's rules give for it.
  const broken = path.join(tmp, 'cli', 'broken.system');
  writeFileSync(broken, GUIDE.replace('<map mr="serial"', '<map mr="seriall"'));
  const bad = runCli(['check', broken]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /broken\.system:11:13: error\[map-unknown-region\]/);
  assert.not.match(bad.stderr, /invalid attribute 'vm_id'/);
  const imp = runCli(['import', broken]);
  assert.equal(imp.status, 1);
  assert.match(imp.stderr, /error\[map-unknown-region\]/);
  assert.not.match(imp.stderr, /at .*\n\s+at /, 'no stack trace');
});

test('import-needs-board: a file whose board cannot be told', () => {
  const file = path.join(tmp, 'noboard', 'board', 'rpi4b_hyp', 'systems', 'simple.system');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, GUIDE.replace(/0x8040000/g, '0xff846000'));
  const r = runCli(['import', file, '--from', 'sel4cp']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error\[import-needs-board\]/);
  assert.match(r.stderr, /no board file for the seL4CP board rpi4b_hyp; pass --board/);
});

test("a file out of its board folder: the board from its devices' addresses, or an error at the region that cannot tell", () => {
  const fixture = path.join(fixtures, 'review', 'sel4cp-imx8mm.system');
  const out = path.join(tmp, 'by-address', 'imx8mm.ts');
  mkdirSync(path.dirname(out), { recursive: true });
  const imported = runCli(['import', fixture, '-o', out]);
  assert.equal(imported.status, 0, imported.stderr);
  assert.match(imported.stderr, /sel4cp-imx8mm\.system:6:5: note\[board-detected\]: board: 'imx8mm_evk' \(pass --board to choose another\)\n {2}seL4CP: region 'uart' at 0x30890000 is imx8mm_evk's uart2/);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /board: 'imx8mm_evk'/);
  assert.match(text, /passthrough\('uart2'\)/);
  // check tells the board the same way, and so runs the board's checks (the old GIC region is
  // over the distributor the VMM emulates: what import replaces).
  const checked = runCli(['check', fixture]);
  assert.match(checked.stderr, /sel4cp-imx8mm\.system:6:5: note\[board-detected\]: board: 'imx8mm_evk'/);
  assert.match(checked.stderr, /sel4cp-imx8mm\.system:15:13: error\[vm-map-over-emulated-gic\]/);
  // The QEMU boards share their devices' addresses; the seL4CP VMM ran on the GICv2 one only
  // (board/qemu_arm_virt_hyp), so that is the board (and the i.MX8M boards that share imx8mm's
  // addresses are not candidates either).
  const qemu = path.join(tmp, 'by-address', 'qemu.system');
  writeFileSync(qemu, readFileSync(fixture, 'utf8').replace(/0x30890000/g, '0x9000000').replace('0x38820000', '0x9010000'));
  const tie = runCli(['import', qemu]);
  assert.equal(tie.status, 0, tie.stderr);
  assert.match(tie.stderr, /qemu\.system:6:5: note\[board-detected\]: board: 'qemu_virt_aarch64'/);
  // At no board's devices: the error is at the <system>.
  const nowhere = path.join(tmp, 'by-address', 'nowhere.system');
  writeFileSync(nowhere, readFileSync(fixture, 'utf8').replace(/0x30890000/g, '0x70000000').replace('0x38820000', '0x71000000'));
  const none = runCli(['import', nowhere]);
  assert.equal(none.status, 1, none.stderr);
  assert.match(none.stderr, /nowhere\.system:4:1: error\[import-needs-board\]/);
  assert.match(none.stderr, /hint: no region's physical address is at a device or GIC frame of a board sel4cp-synth knows; pass --board: imx8mm_evk, /);
  assert.not.match(tie.stderr + none.stderr, /internal error|^\s+at /m);
});

test('the seL4CP board names are aliases of ours', () => {
  assert.equal(board('qemu_arm_virt_hyp').name, 'qemu_virt_aarch64');
  assert.equal(board('odroidc2_hyp').name, 'odroidc2');
  assert.equal(board('imx8mm_evk_hyp').name, 'imx8mm_evk');
});

const LIBVMM_SYSTEMS = [
  'qemu_arm_virt_hyp/systems/simple', 'qemu_arm_virt_hyp/systems/simple_new', 'qemu_arm_virt_hyp/systems/two_vms',
  'qemu_arm_virt_hyp/systems/many_vms', 'odroidc2_hyp/systems/simple', 'odroidc2_hyp/systems/linux_v5.18', 'imx8mm_evk_hyp/systems/simple',
];

testIf(missing('sel4cp-src'), 'the 2023 seL4CP VMM\'s .system files (QEMU, Odroid-C2, i.MX8MM) import and synthesise without errors', () => {
  const src = process.env['SEL4CP_SRC']!;
  // With the test guest, synthesis goes on to the guest device trees; without it, it stops before them.
  const images = missing('guest-kernel', 'guest-initrd') ? [] : ['-c', `kernel=${path.join(guestDir, 'Image')}`, '-c', `initrd=${path.join(guestDir, 'initramfs.cpio')}`];
  for (const name of LIBVMM_SYSTEMS) {
    const out = path.join(tmp, 'libvmm', `${name.replace(/\//g, '-')}.ts`);
    mkdirSync(path.dirname(out), { recursive: true });
    const imported = runCli(['import', path.join(src, 'board', `${name}.system`), '-o', out, '--force']);
    assert.equal(imported.status, 0, `${name}: ${imported.stderr}`);
    assert.match(imported.stderr, /note\[vm-id\]/, `${name}: its notes are printed`);
    const built = runCli([out, '--out', path.join(tmp, 'libvmm-out', name), '--quiet', ...images], { env: { MICROKIT_SDK: '' } });
    assert.equal(built.status, 0, `${name}: ${built.stderr}`);
    assert.not.match(built.stderr, /error\[/, `${name}: no errors`);
  }
});

testIf(missingForBoot(), 'the guide\'s simple.system, imported, boots Linux to its marker under `run`', () => {
  const file = path.join(tmp, 'boot', 'simple.system');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, GUIDE);
  const ts = path.join(tmp, 'boot', 'simple.ts');
  const imported = runCli(['import', file, '-o', ts, '--quiet']);
  assert.equal(imported.status, 0, imported.stderr);
  const run = runCli(['run', ts, '--out', path.join(tmp, 'boot', 'out'), '--quiet', '--timeout', '240',
    '-c', `kernel=${path.join(guestDir, 'Image')}`, '-c', `initrd=${path.join(guestDir, 'initramfs.cpio')}`, '--expect', 'SEL4CP-SYNTH: guest up']);
  assert.equal(run.status, 0, `${run.stdout.slice(-2000)}\n${run.stderr}`);
  assert.match(run.stdout + run.stderr, /SEL4CP-SYNTH: guest up/);
});

test.run();
