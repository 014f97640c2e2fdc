// The package entry point (src/index.ts): what a systems.ts gets from `import ... from
// 'sel4cp-synth'`. The name resolves through package.json's "exports" to the build of src/index.ts;
// it exports exactly the values src/dsl/index.ts lists (read with the TypeScript parser), so
// nothing of the compiler leaks out and nothing listed is missing; and those values build a system.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ts } from 'ts-morph';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers.js';

/** The names src/dsl/index.ts exports as values (`type` exports left out). */
function listedValues(relative: string): string[] {
  const file = path.join(repoRoot, relative);
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names: string[] = [];
  for (const s of sf.statements) {
    if (!ts.isExportDeclaration(s) || s.isTypeOnly) continue;
    assert.ok(s.exportClause && ts.isNamedExports(s.exportClause), `${relative}: every export names what it exports (no export *)`);
    for (const e of (s.exportClause as ts.NamedExports).elements) if (!e.isTypeOnly) names.push(e.name.text);
  }
  return names.sort();
}

const entry = import.meta.resolve('sel4cp-synth');
/** The package as a systems.ts gets it: the build, typed by its source. */
const sdk = (await import(entry)) as typeof import('../src/index.js');

test("'sel4cp-synth' resolves, through package.json's exports, to the build of src/index.ts", () => {
  assert.is(entry, pathToFileURL(path.join(repoRoot, 'dist', 'src', 'index.js')).href);
});

test('it exports exactly the values src/dsl/index.ts lists', () => {
  const listed = listedValues('src/dsl/index.ts');
  assert.ok(listed.length > 30, `${listed.length} values listed`);
  assert.equal(Object.keys(sdk).sort(), listed);
});

test('its constructors build a system, and a bad argument is its DslError', () => {
  const { addr, channel, DslError, end, irq, kib, map, memoryRegion, mib, passthrough, policy, allow, protectionDomain, system, virtualMachine } = sdk;
  assert.is(kib(4), 4096n);
  assert.is(addr('0x4000_0000'), 0x4000_0000n);
  const buf = memoryRegion('buf', { size: kib(4) });
  const a = protectionDomain('a', { program: 'a.elf', priority: 100, maps: [map(buf, { vaddr: addr(0x2000_0000) })], irqs: [irq(40)] });
  const b = protectionDomain('b', { program: 'b.elf', priority: 50, maps: [map(buf, { perms: 'r' })] });
  const linux = virtualMachine('linux', { kernel: 'Image', ram: mib(64), passthrough: [passthrough('uart0')] });
  const s = system({
    board: 'qemu_virt_aarch64',
    protectionDomains: [a, b],
    virtualMachines: [linux],
    channels: [channel(end(a), end(b))],
    policy: policy({ rules: [allow(a, b)] }),
  });
  assert.is(s.kind, 'system');
  assert.equal(s.protectionDomains.map((p) => p.name), ['a', 'b']);
  assert.equal(s.virtualMachines.map((v) => v.name), ['linux']);
  assert.is(s.channels.length, 1);
  assert.throws(() => kib(-1), (e: unknown) => e instanceof DslError && e.id === 'bad-number');
});

test.run();
