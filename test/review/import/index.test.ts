// import: a .system file becomes a systems.ts whose synthesis means the same system. The round
// trip runs on every example of Microkit 2.0.1 (MICROKIT_SRC) and on the .system files our own
// examples synthesise; the comparison is of parsed models, so formatting does not matter.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSystemXml } from '../../../src/compile/parse/system-xml.js';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';
import type { SystemModel } from '../../../src/compile/model/index.js';
import { buildModel } from '../../../src/compile/synthesise.js';
import { identifierFor, importSystemXml } from '../../../src/review/import/index.js';
import { readXmlComments } from '../../../src/review/import/xml-comments.js';
import { resolvePrefills } from '../../../src/compile/parse/prefill.js';
import { missing, repoRoot, runCli, shippedSystemContext, testIf } from '../../helpers.js';

/**
 * What a model means as a .system file: no source locations or file names, none of what only
 * sel4cp-synth knows (roles, shared declarations, program paths on disk, board, guests), and not
 * the system's name (it comes from the file name).
 */
function meaning(model: SystemModel): unknown {
  // vmmTimer: a generated file's timer PD is recognised as infrastructure; imported, it is the
  // user's own PD (judged like any other, which never lets more through).
  const drop = new Set(['loc', 'file', 'source', 'programPath', 'shared', 'role', 'board', 'guests', 'config', 'vmmTimer']);
  const json = JSON.parse(JSON.stringify(model, (k, v: unknown) => (drop.has(k) ? undefined : typeof v === 'bigint' ? `0x${v.toString(16)}` : v))) as Record<string, unknown>;
  delete json['name'];
  return json;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-import-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

async function roundTrip(xml: string, name: string, at?: { file: string; release: '2.3.0' }): Promise<string> {
  const where = at?.file ?? `/virtual/${name}.system`;
  const original = parseSystemXml(xml, where, undefined, { release: at?.release });
  assert.ok(original.model, `${name}: ${JSON.stringify(original.diagnostics)}`);
  resolvePrefills(original.model!, [path.dirname(where)]);
  const imported = importSystemXml(xml, { file: at?.file ?? `${name}.system`, release: at?.release, outDir: tmp });
  assert.ok(imported.text, JSON.stringify(imported.diagnostics));
  const file = path.join(tmp, `${name}.ts`);
  writeFileSync(file, imported.text!);
  const { model, diagnostics } = await buildModel({ file, microkit: at?.release, sdk: '' });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  assert.equal(errors.map((d) => `${d.id}: ${d.message}`), [], `${name}: the imported systems.ts is valid`);
  assert.equal(meaning(model), meaning(original.model!), `${name}: same elements and values`);
  return imported.text!;
}

testIf(missing('microkit-src'), 'import: round trip of every Microkit 2.0.1 example', async () => {
  const src = process.env['MICROKIT_SRC']!;
  const files = readdirSync(path.join(src, 'example')).flatMap((d) => {
    const dir = path.join(src, 'example', d);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.system')).map((f) => path.join(dir, f)) : [];
  }).sort();
  assert.ok(files.length >= 6, `found ${files.length} example .system files`);
  for (const f of files) await roundTrip(readFileSync(f, 'utf8'), path.basename(f, '.system'));
});

testIf(missing('microkit-src-2.3.0'), 'import: round trip of every Microkit 2.3.0 ARM example (prefill, domains, cspace, setvar ids)', async () => {
  const src = process.env['MICROKIT_SRC_2_3_0']!;
  const files = readdirSync(path.join(src, 'example')).flatMap((d) => {
    const dir = path.join(src, 'example', d);
    return readdirSync(dir).filter((f) => f.endsWith('.system')).map((f) => path.join(dir, f));
  }).filter((f) => !/<ioport\b|<io_address_space\b|prefill_bootinfo="x86_/.test(readFileSync(f, 'utf8'))).sort();
  assert.ok(files.length >= 10, `found ${files.length} ARM example .system files`);
  for (const f of files) {
    const text = await roundTrip(readFileSync(f, 'utf8'), `mk230-${path.basename(f, '.system')}`, { file: f, release: '2.3.0' });
    assert.match(text, /Microkit 2\.3\.0 format/);
  }
});

test('import: round trip of the .system files our examples synthesise', async () => {
  const inputs: [string, string | undefined][] = [
    ...readdirSync(path.join(repoRoot, 'examples')).filter((f) => f.endsWith('.ts')).sort().map((f): [string, undefined] => [path.join('examples', f), undefined]),
    ['systems/linux.ts', 'imx8mm_evk'],
    ['systems/linux.ts', 'odroidc2'],
    ['test/fixtures/valid/features.ts', undefined],
  ];
  for (const [file, board] of inputs) {
    const context = new Map(Object.entries(shippedSystemContext[file] ?? {}));
    const { model, diagnostics } = await buildModel({ file: path.join(repoRoot, file), board, context });
    assert.equal(diagnostics.filter((d) => d.severity === 'error'), [], file);
    const xml = emitSystemXml(model, { toolVersion: 'test' });
    const text = await roundTrip(xml, `${path.basename(file, '.ts')}-${board ?? 'default'}`.replace(/[^A-Za-z0-9_-]/g, '_'));
    // The comments our emitter writes come back as comments.
    if (model.guests.length) assert.match(text, /\/\/ VMM of virtual machine '/);
    assert.not.match(text, /Do not edit/, 'our "generated" header is not carried into a file meant for editing');
  }
});

test('import: idiomatic output (names, units, comments, board)', () => {
  const xml = `<?xml version="1.0"?>
<!-- A header. -->
<system>
    <!-- The UART. -->
    <memory_region name="uart" size="0x1_000" phys_addr="0x0900_0000" />
    <memory_region name="2nd-buffer" size="0x200000" page_size="0x200000" />
    <protection_domain name="uart" priority="200" budget="500" period="100_000" stack_size="0x4000">
        <program_image path="uart.elf" />
        <map mr="uart" vaddr="0x2000000" perms="rw" cached="false" setvar_vaddr="uart_base" /> <!-- registers -->
        <irq irq="33" id="0" trigger="edge" />
    </protection_domain>
    <protection_domain name="vmm" priority="150">
        <program_image path="vmm.elf" />
        <virtual_machine name="linux" priority="100">
            <vcpu id="0" />
            <map mr="2nd-buffer" vaddr="0x40000000" perms="rwx" />
        </virtual_machine>
    </protection_domain>
    <channel>
        <end pd="uart" id="1" notify="false" />
        <end pd="vmm" id="1" pp="true" />
    </channel>
</system>
`;
  // (Valid, as import requires: the pp caller 'vmm' is below 'uart'.)
  const text = importSystemXml(xml, { file: 'x.system', board: 'qemu_virt_aarch64' }).text!;
  for (const expected of [
    "// A header.",
    "import { addr, bareVirtualMachine, channel, end, irq, kib, map, memoryRegion, mib, protectionDomain, system } from 'sel4cp-synth';",
    "// The UART.\nconst uartRegion = memoryRegion('uart', { size: kib(4), physAddr: addr(0x900_0000) });",
    "const _2ndBuffer = memoryRegion('2nd-buffer', { size: mib(2), pageSize: mib(2) });",
    "const uartPd = protectionDomain('uart', {",
    'budget: 500,', 'period: 100_000,', 'stackSize: kib(16),',
    "    // registers\n    map(uartRegion, { vaddr: addr(0x200_0000), cached: false, setvarVaddr: 'uart_base' }),",
    "irqs: [irq(33, { id: 0, trigger: 'edge' })],",
    "const linux = bareVirtualMachine('linux', {",
    "vcpus: [0],",
    "map(_2ndBuffer, { vaddr: addr(0x4000_0000), perms: 'rwx' })",
    'virtualMachine: linux',
    "board: 'qemu_virt_aarch64',",
    "channel(end(uartPd, { id: 1, notify: false }), end(vmm, { id: 1, pp: true }))",
  ]) {
    assert.ok(text.includes(expected), `expected in output:\n${expected}\n---\n${text}`);
  }
  assert.ok(text.indexOf('const linux') < text.indexOf('const vmm'), 'a VM is declared before its VMM');
});

test('import: identifiers and comments', () => {
  assert.is(identifierFor('eth_outer_output'), 'ethOuterOutput');
  assert.is(identifierFor('LSIO-gpt0'), 'lsioGpt0');
  assert.is(identifierFor('9p'), '_9p');
  const c = readXmlComments('<!-- head -->\n<system>\n  <!-- a\n       b -->\n  <memory_region name="x" size="0x1000"/> <!-- same line -->\n  <!-- tail -->\n</system>\n<!-- after -->\n');
  assert.equal(c.header, ['head']);
  assert.equal(c.byElement.get('5:3'), ['a', 'b', 'same line']);
  assert.equal(c.footer, ['tail', 'after']);
});

test('import: the command writes -o once, refuses to overwrite without --force, reports bad input', () => {
  const src = path.join(tmp, 'cli.system');
  writeFileSync(src, '<system><protection_domain name="hello" priority="254"><program_image path="hello.elf" /></protection_domain></system>\n');
  const out = path.join(tmp, 'cli.ts');
  const r = runCli(['import', src, '-o', out]);
  assert.is(r.status, 0, r.stderr);
  assert.match(readFileSync(out, 'utf8'), /protectionDomain\('hello', \{ program: 'hello\.elf', priority: 254 \}\)/);
  const again = runCli(['import', src, '-o', out]);
  assert.is(again.status, 1);
  assert.match(again.stderr, /exists; pass --force/);
  assert.is(runCli(['import', src, '-o', out, '--force']).status, 0);
  const bad = path.join(tmp, 'bad.system');
  writeFileSync(bad, '<system><protection_domain name="x"></system>');
  const failed = runCli(['import', bad]);
  assert.is(failed.status, 1);
  assert.match(failed.stderr, /error\[xml-malformed\]/);
  assert.not.match(failed.stderr, /internal error/);
});

test.run();
