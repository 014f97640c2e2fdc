// The semantic diff: one case per kind of change, each asserting the change reported and whether
// it is flagged as widening privilege; equal inputs; the command's exit codes and formats; --base
// on a temporary git repository.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSystemXml } from '../../src/compile/parse/system-xml.js';
import type { SystemModel } from '../../src/compile/model/index.js';
import { diffModels, type Change } from '../../src/review/diff.js';
import { formatDiffMarkdown, formatDiffText } from '../../src/review/diff-format.js';
import { emitSystemXml } from '../../src/compile/emit/system-xml.js';
import { buildModel } from '../../src/compile/synthesise.js';
import { loadBoards } from '../../src/compile/load/boards.js';
import { fixtures, missing, runCli, testIf } from '../helpers.js';

const BASE = `<?xml version="1.0" encoding="UTF-8"?>
<system>
    <memory_region name="buf" size="0x1000" />
    <memory_region name="dev" size="0x1000" phys_addr="0x9000000" />
    <memory_region name="ram" size="0x200000" page_size="0x200000" />
    <protection_domain name="a" priority="10">
        <program_image path="a.elf" />
        <map mr="buf" vaddr="0x2000000" perms="r" setvar_vaddr="buf_vaddr" />
        <map mr="dev" vaddr="0x3000000" perms="rw" cached="false" />
        <irq irq="40" id="1" />
        <setvar symbol="ram_paddr" region_paddr="ram" />
    </protection_domain>
    <protection_domain name="b" priority="20">
        <program_image path="b.elf" />
        <protection_domain name="c" priority="5" id="1">
            <program_image path="c.elf" />
        </protection_domain>
    </protection_domain>
    <protection_domain name="vmm" priority="200">
        <program_image path="vmm.elf" />
        <map mr="ram" vaddr="0x10000000" perms="rw" />
        <virtual_machine name="guest" priority="100">
            <vcpu id="0" />
            <map mr="ram" vaddr="0x40000000" perms="rwx" />
        </virtual_machine>
    </protection_domain>
    <channel>
        <end pd="a" id="0" />
        <end pd="b" id="0" />
    </channel>
</system>
`;

function model(xml: string): SystemModel {
  const r = parseSystemXml(xml, '/virtual/test.system', undefined);
  assert.ok(r.model, JSON.stringify(r.diagnostics));
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error'), []);
  return r.model!;
}

function edit(from: string, to: string): string {
  assert.ok(BASE.includes(from), `fixture text not found: ${from}`);
  return BASE.replace(from, to);
}

interface Expect {
  kind: Change['kind'];
  op: Change['op'];
  key: string;
  field?: [name: string, old: string | undefined, now: string | undefined];
  flags: string[];
}

/** Each case edits BASE and names every change it must produce (and nothing else). */
const CASES: [name: string, xml: string, expected: Expect[]][] = [
  ['region size', edit('name="buf" size="0x1000"', 'name="buf" size="0x2000"'),
    [{ kind: 'memory-region', op: 'changed', key: 'buf', field: ['size', '0x1000', '0x2000'], flags: [] }]],
  ['region page size', edit('size="0x200000" page_size="0x200000"', 'size="0x200000"'),
    [{ kind: 'memory-region', op: 'changed', key: 'ram', field: ['page_size', '0x200000', undefined], flags: [] }]],
  ['region added', edit('<memory_region name="buf"', '<memory_region name="spare" size="0x1000" />\n<memory_region name="buf"'),
    [{ kind: 'memory-region', op: 'added', key: 'spare', field: ['size', undefined, '0x1000'], flags: [] }]],
  ['region becomes a device while mapped', edit('name="buf" size="0x1000"', 'name="buf" size="0x1000" phys_addr="0xa000000"'),
    [{ kind: 'memory-region', op: 'changed', key: 'buf', field: ['phys_addr', undefined, '0xa000000'], flags: ['device-reachable'] }]],
  ['priority raised', edit('name="b" priority="20"', 'name="b" priority="30"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['priority', '20', '30'], flags: ['priority-raised'] }]],
  ['priority lowered', edit('name="b" priority="20"', 'name="b" priority="15"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['priority', '20', '15'], flags: [] }]],
  ['budget and period', edit('name="b" priority="20"', 'name="b" priority="20" budget="500" period="2000"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['budget', '1000', '500'], flags: [] }]],
  ['stack size', edit('name="b" priority="20"', 'name="b" priority="20" stack_size="0x4000"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['stack_size', '0x1000', '0x4000'], flags: [] }]],
  ['passive', edit('name="b" priority="20"', 'name="b" priority="20" passive="true"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['passive', 'false', 'true'], flags: [] }]],
  ['smc enabled', edit('name="b" priority="20"', 'name="b" priority="20" smc="true"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['smc', 'false', 'true'], flags: ['smc-enabled'] }]],
  ['program image', edit('path="b.elf"', 'path="b2.elf"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'b', field: ['program_image', 'b.elf', 'b2.elf'], flags: [] }]],
  ['child id', edit('priority="5" id="1"', 'priority="5" id="3"'),
    [{ kind: 'protection-domain', op: 'changed', key: 'c', field: ['child_id', '1', '3'], flags: [] }]],
  ['PD renamed is removed and added', edit('name="c" priority="5"', 'name="d" priority="5"'),
    [{ kind: 'protection-domain', op: 'added', key: 'd', flags: [] }, { kind: 'protection-domain', op: 'removed', key: 'c', field: ['parent', 'b', undefined], flags: [] }]],
  ['VM priority raised', edit('name="guest" priority="100"', 'name="guest" priority="120"'),
    [{ kind: 'virtual-machine', op: 'changed', key: 'guest', field: ['priority', '100', '120'], flags: ['priority-raised'] }]],
  ['VM vCPUs', edit('<vcpu id="0" />', '<vcpu id="0" /><vcpu id="1" />'),
    [{ kind: 'virtual-machine', op: 'changed', key: 'guest', field: ['vcpus', '0', '0, 1'], flags: [] }]],
  ['map made writable', edit('perms="r" setvar_vaddr', 'perms="rw" setvar_vaddr'),
    [{ kind: 'map', op: 'changed', key: 'a/buf', field: ['perms', 'r', 'rw'], flags: ['writable-mapping'] }]],
  ['map made executable', edit('perms="r" setvar_vaddr', 'perms="rx" setvar_vaddr'),
    [{ kind: 'map', op: 'changed', key: 'a/buf', field: ['perms', 'r', 'rx'], flags: ['executable-mapping'] }]],
  ['map rights reduced', edit('vaddr="0x3000000" perms="rw"', 'vaddr="0x3000000" perms="r"'),
    [{ kind: 'map', op: 'changed', key: 'a/dev', field: ['perms', 'rw', 'r'], flags: [] }]],
  ['map moved', edit('vaddr="0x3000000"', 'vaddr="0x4000000"'),
    [{ kind: 'map', op: 'changed', key: 'a/dev', field: ['vaddr', '0x3000000', '0x4000000'], flags: [] }]],
  ['map cached', edit('perms="rw" cached="false"', 'perms="rw"'),
    [{ kind: 'map', op: 'changed', key: 'a/dev', field: ['cached', 'false', 'true'], flags: [] }]],
  ['map setvar', edit('setvar_vaddr="buf_vaddr"', 'setvar_vaddr="buffer"'),
    [{ kind: 'map', op: 'changed', key: 'a/buf', field: ['setvar_vaddr', 'buf_vaddr', 'buffer'], flags: [] }]],
  ['device mapped into a second PD', edit('<program_image path="b.elf" />', '<program_image path="b.elf" /><map mr="dev" vaddr="0x3000000" perms="rw" cached="false" />'),
    [{ kind: 'map', op: 'added', key: 'b/dev', field: ['perms', undefined, 'rw'], flags: ['writable-mapping', 'device-reachable', 'region-shared'] }]],
  ['buffer shared read-only', edit('<program_image path="b.elf" />', '<program_image path="b.elf" /><map mr="buf" vaddr="0x3000000" perms="r" />'),
    [{ kind: 'map', op: 'added', key: 'b/buf', flags: ['region-shared'] }]],
  ['map removed', edit('<map mr="dev" vaddr="0x3000000" perms="rw" cached="false" />', ''),
    [{ kind: 'map', op: 'removed', key: 'a/dev', field: ['perms', 'rw', undefined], flags: [] }]],
  ['VM gets a device', edit('<vcpu id="0" />', '<vcpu id="0" /><map mr="dev" vaddr="0x9000000" perms="r" cached="false" />'),
    [{ kind: 'map', op: 'added', key: 'guest/dev', flags: ['device-reachable', 'region-shared'] }]],
  ['VMM maps its own guest RAM: not sharing', edit('<map mr="ram" vaddr="0x10000000" perms="rw" />', ''),
    [{ kind: 'map', op: 'removed', key: 'vmm/ram', flags: [] }]],
  ['IRQ moved', edit('<irq irq="40" id="1" />', '').replace('<program_image path="b.elf" />', '<program_image path="b.elf" /><irq irq="40" id="1" />'),
    [{ kind: 'irq', op: 'changed', key: '40', field: ['pd', 'a', 'b'], flags: ['irq-moved'] }]],
  ['IRQ granted', edit('<irq irq="40" id="1" />', '<irq irq="40" id="1" /><irq irq="41" id="2" trigger="edge" />'),
    [{ kind: 'irq', op: 'added', key: '41', field: ['trigger', undefined, 'edge'], flags: ['irq-granted'] }]],
  ['IRQ trigger and id', edit('<irq irq="40" id="1" />', '<irq irq="40" id="2" trigger="edge" />'),
    [{ kind: 'irq', op: 'changed', key: '40', field: ['trigger', 'level', 'edge'], flags: [] }]],
  ['IRQ removed', edit('<irq irq="40" id="1" />', ''),
    [{ kind: 'irq', op: 'removed', key: '40', flags: [] }]],
  ['channel end becomes pp', edit('<end pd="a" id="0" />', '<end pd="a" id="0" pp="true" />'),
    [{ kind: 'channel', op: 'changed', key: 'a:0 <-> b:0', field: ['a:0.pp', 'false', 'true'], flags: ['pp-channel'] }]],
  ['channel notify', edit('<end pd="b" id="0" />', '<end pd="b" id="0" notify="false" />'),
    [{ kind: 'channel', op: 'changed', key: 'a:0 <-> b:0', field: ['b:0.notify', 'true', 'false'], flags: [] }]],
  ['channel ends swapped are the same channel', edit('<end pd="a" id="0" />\n        <end pd="b" id="0" />', '<end pd="b" id="0" />\n        <end pd="a" id="0" />'), []],
  ['new pp channel', edit('</system>', '<channel><end pd="vmm" id="0" pp="true" /><end pd="b" id="1" /></channel></system>'),
    [{ kind: 'channel', op: 'added', key: 'b:1 <-> vmm:0', field: ['vmm:0.pp', undefined, 'true'], flags: ['pp-channel'] }]],
  ['new channel without pp', edit('</system>', '<channel><end pd="vmm" id="0" /><end pd="b" id="1" /></channel></system>'),
    [{ kind: 'channel', op: 'added', key: 'b:1 <-> vmm:0', flags: [] }]],
  ['channel id changed is removed and added', edit('<end pd="a" id="0" />', '<end pd="a" id="2" />'),
    [{ kind: 'channel', op: 'added', key: 'a:2 <-> b:0', flags: [] }, { kind: 'channel', op: 'removed', key: 'a:0 <-> b:0', flags: [] }]],
  ['setvar region', edit('region_paddr="ram"', 'region_paddr="buf"'),
    [{ kind: 'setvar', op: 'changed', key: 'a/ram_paddr', field: ['region_paddr', 'ram', 'buf'], flags: [] }]],
  ['child moved to another parent', edit('<protection_domain name="c" priority="5" id="1">\n            <program_image path="c.elf" />\n        </protection_domain>', '')
    .replace('<program_image path="a.elf" />', '<program_image path="a.elf" /><protection_domain name="c" priority="5" id="1"><program_image path="c.elf" /></protection_domain>'),
  [{ kind: 'protection-domain', op: 'changed', key: 'c', field: ['parent', 'b', 'a'], flags: [] }]],
];

for (const [name, xml, expected] of CASES) {
  test(`diff: ${name}`, () => {
    // The elements; the flows they add or remove have tests of their own below.
    const all = diffModels(model(BASE), model(xml));
    const diff = { ...all, changes: all.changes.filter((c) => c.kind !== 'flow') };
    assert.equal(diff.changes.map((c) => `${c.kind} ${c.op} ${c.key}`), expected.map((e) => `${e.kind} ${e.op} ${e.key}`));
    for (const [i, e] of expected.entries()) {
      const c = diff.changes[i]!;
      if (e.field) {
        const f = c.fields.find((x) => x.field === e.field![0]);
        assert.ok(f, `field ${e.field[0]} in ${JSON.stringify(c.fields)}`);
        assert.equal([f!.old, f!.new], [e.field[1], e.field[2]]);
      }
      assert.equal(c.privilege.map((p) => p.flag).sort(), [...e.flags].sort(), `flags of ${c.kind} ${c.key}`);
    }
  });
}

test('diff: equal models have no changes; privilege-flagged changes come first in the text', () => {
  assert.equal(diffModels(model(BASE), model(BASE)).changes, []);
  const r = runCli(['diff', path.join(fixtures, 'review', 'guest-a.ts'), path.join(fixtures, 'review', 'guest-a.ts')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /no changes/);
});

test('diff: guests and passthrough devices (systems.ts on both sides)', () => {
  const r = runCli(['diff', 'test/fixtures/review/guest-a.ts', 'test/fixtures/review/guest-b.ts', '--format', 'json']);
  assert.is(r.status, 1, r.stderr);
  const json = JSON.parse(r.stdout) as { format: string; version: number; equal: boolean; changes: { kind: string; op: string; key: string; privilege: { flag: string }[] }[] };
  assert.is(json.format, 'sel4cp-synth-diff');
  assert.is(json.version, 1);
  assert.is(json.equal, false);
  const find = (kind: string, key: string) => json.changes.find((c) => c.kind === kind && c.key === key);
  assert.equal(find('passthrough', 'linux/rtc')?.privilege.map((p) => p.flag), ['device-reachable']);
  assert.equal(find('irq', '34')?.privilege.map((p) => p.flag), ['irq-granted']);
  assert.is(find('guest', 'linux')?.op, 'changed');
  assert.is(find('memory-region', 'linux_guest_ram')?.op, 'changed');
});

test('diff: a systems.ts against the .system it synthesises is equal; what XML cannot say is noted, not reported', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-diff-'));
  try {
    const ts = path.join(fixtures, 'review', 'guest-a.ts');
    const { model } = await buildModel({ file: ts });
    const xml = path.join(dir, 'guest-a.system');
    writeFileSync(xml, emitSystemXml(model, { toolVersion: 'test' }));
    const r = runCli(['diff', xml, ts, '--format', 'json']);
    assert.is(r.status, 0, r.stdout + r.stderr);
    const json = JSON.parse(r.stdout) as { equal: boolean; notes: string[] };
    assert.is(json.equal, true);
    assert.match(json.notes.join('\n'), /one side is a \.system file/);
    // The generated file names its board in its header, so both sides name one.
    assert.not.match(json.notes.join('\n'), /only one side names a board/);
    assert.is(runCli(['diff', xml, ts, '--board', 'qemu_virt_aarch64']).status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diff: a change of board', () => {
  const boards = loadBoards();
  const at = (name: string): SystemModel => parseSystemXml(BASE, '/virtual/test.system', boards.find((b) => b.name === name)).model!;
  const diff = diffModels(at('qemu_virt_aarch64'), at('odroidc2'));
  assert.equal(diff.changes.map((c) => [c.kind, c.op, c.fields[0]?.old, c.fields[0]?.new]), [['system', 'changed', 'qemu_virt_aarch64', 'odroidc2']]);
});

test('diff: text is coloured only when asked', () => {
  const diff = diffModels(model(BASE), model(edit('name="b" priority="20"', 'name="b" priority="30"')));
  const sides = { old: 'a', new: 'b' };
  assert.match(formatDiffText(diff, sides, { colour: true, prefix: 'p:' }), /\x1b\[31m/);
  const plain = formatDiffText(diff, sides, { colour: false, prefix: 'p:' });
  assert.not.match(plain, /\x1b/);
  assert.match(plain, /^p: 1 change between a and b; 1 of them widens privilege\n\nPrivilege changes\n  ! priority of 'b' raised from 20 to 30/);
});

test('diff: an invalid systems.ts is an error (exit 2), printed like a compiler', () => {
  const r = runCli(['diff', 'test/fixtures/invalid/protection-domains/budget-gt-period.ts', 'test/fixtures/review/guest-a.ts']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /budget-gt-period\.ts:\d+:\d+: error\[budget-gt-period\]/);
});

test('diff: exit 2 with a message and no stack for user errors', () => {
  const missing = runCli(['diff', 'no/such.system', 'test/fixtures/review/guest-a.ts']);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /cannot read no\/such\.system/);
  assert.not.match(missing.stderr, /at .*\.js:\d+/);
  const usage = runCli(['diff']);
  assert.is(usage.status, 2);
  const both = runCli(['diff', 'a.ts', 'b.ts', '--base', 'HEAD']);
  assert.is(both.status, 2);
  assert.match(both.stderr, /either <new> or --base/);
});

test('diff: markdown for a pull request (golden file)', () => {
  const text = BASE
    .replace('name="b" priority="20"', 'name="b" priority="30"')
    .replace('<program_image path="b.elf" />', '<program_image path="b.elf" /><map mr="dev" vaddr="0x3000000" perms="rw" cached="false" />')
    .replace('<irq irq="40" id="1" />', '<irq irq="40" id="1" /><irq irq="41" id="2" />')
    .replace('name="buf" size="0x1000"', 'name="buf" size="0x2000"')
    .replace('<end pd="a" id="0" />', '<end pd="a" id="0" pp="true" />');
  const md = formatDiffMarkdown(diffModels(model(BASE), model(text)), { old: 'before.system', new: 'after.system' });
  const golden = path.join(fixtures, 'review', 'diff.md');
  if (process.env['UPDATE_GOLDEN'] || !existsSync(golden)) writeFileSync(golden, md);
  assert.fixture(md, readFileSync(golden, 'utf8'));
  assert.ok(md.indexOf('### Privilege changes') < md.indexOf('### Memory regions'));
});

testIf(missing('git'), 'diff --base: the file as it was at a commit of a temporary repository', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-diff-'));
  try {
    const run = (...args: string[]): void => {
      const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
      assert.is(r.status, 0, r.stderr);
    };
    run('init', '-q');
    run('config', 'user.email', 'test@example.invalid');
    run('config', 'user.name', 'test');
    mkdirSync(path.join(dir, 'sys'));
    // The system imports a sibling file: --base must see the whole tree as it was.
    writeFileSync(path.join(dir, 'sys', 'regions.ts'), "import { kib, memoryRegion } from 'sel4cp-synth';\nexport const buf = memoryRegion('buf', { size: kib(4) });\n");
    const systemTs = (prio: number, perms: string): string => `import { map, protectionDomain, system } from 'sel4cp-synth';
import { buf } from './regions';
const a = protectionDomain('a', { program: 'a.elf', priority: ${prio}, maps: [map(buf, { perms: '${perms}' })] });
const b = protectionDomain('b', { program: 'b.elf', maps: [map(buf, { perms: 'r' })] });
export default system({ protectionDomains: [a, b] });
`;
    writeFileSync(path.join(dir, 'sys', 'systems.ts'), systemTs(10, 'r'));
    run('add', '.');
    run('commit', '-q', '-m', 'first');
    writeFileSync(path.join(dir, 'sys', 'systems.ts'), systemTs(50, 'rw'));

    const r = runCli(['diff', 'sys/systems.ts', '--base', 'HEAD', '--format', 'json'], { cwd: dir });
    assert.is(r.status, 1, r.stderr);
    const json = JSON.parse(r.stdout) as { old: string; changes: { kind: string; key: string; privilege: { flag: string }[] }[] };
    assert.is(json.old, 'sys/systems.ts@HEAD');
    assert.equal(json.changes.map((c) => `${c.kind} ${c.key} ${c.privilege.map((p) => p.flag).join(',')}`), [
      'flow a -> b (memory) flow-added',
      'protection-domain a priority-raised',
      'map a/buf writable-mapping',
    ]);
    const same = runCli(['diff', 'sys/systems.ts', '--base', 'HEAD'], { cwd: dir });
    assert.is(same.status, 1);
    run('commit', '-q', '-am', 'second');
    assert.is(runCli(['diff', 'sys/systems.ts', '--base', 'HEAD'], { cwd: dir }).status, 0);
    const bad = runCli(['diff', 'sys/systems.ts', '--base', 'no-such-ref'], { cwd: dir });
    assert.is(bad.status, 2);
    assert.match(bad.stderr, /unknown git revision 'no-such-ref'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
