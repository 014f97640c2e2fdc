// The release table (src/compile/releases.ts): one row per difference, values that follow from
// the rows, no release compared anywhere else in src/, and, with MICROKIT_SRC and
// MICROKIT_SRC_2_3_0, each row read back from the release's own tool source.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  addedAttributes, addedElements, DEFAULT_RELEASE, FEATURE_ROWS, featureSince, laterAttribute, laterElement, RELEASE_NAMES,
  releaseFacts, supports, type MicrokitRelease,
} from '../../src/compile/releases.js';
import { missing, repoRoot, testIf } from '../helpers.js';

const [first, ...later] = RELEASE_NAMES as [MicrokitRelease, ...MicrokitRelease[]];

test('one row per difference: features are unique, each comes with a later release', () => {
  const names = FEATURE_ROWS.map((r) => r.feature);
  assert.equal(names.length, new Set(names).size, 'a feature named twice');
  for (const row of FEATURE_ROWS) {
    assert.ok(later.includes(row.since), `${row.feature}: since ${row.since} is not a release after the first`);
    if (row.until !== undefined) assert.ok(RELEASE_NAMES.indexOf(row.until) > RELEASE_NAMES.indexOf(row.since), `${row.feature}: until before since`);
    assert.is(featureSince(row.feature as never), row.since);
  }
  assert.ok(RELEASE_NAMES.includes(DEFAULT_RELEASE));
});

test('supports() and the values: the first release has none of the rows, each later one what came up to it', () => {
  for (const row of FEATURE_ROWS) {
    assert.not.ok(supports(first, row.feature as never), `${first} has ${row.feature}`);
    assert.ok(supports(row.since, row.feature as never), `${row.since} lacks ${row.feature}`);
  }
  assert.is(releaseFacts(first).defaultStack, 0x1000n);
  assert.is(releaseFacts(first).maxCapSlot, 0);
  assert.equal(releaseFacts(first).reservedPdNames, []);
  const f = releaseFacts(featureSince('default-stack-8k'));
  assert.is(f.defaultStack, 0x2000n);
  assert.is(f.aboveStack, 0x2000n);
  assert.is(f.ipcBufferSymbol, undefined);
  assert.ok(f.pdSymbolsWritten.includes('microkit_ioports'));
  assert.equal(f.smpKernelDomains, { numDomains: 1, numDomainSchedules: 2 });
});

test('the format: attributes and elements a later release added, and which release has them', () => {
  const since = featureSince('cpu');
  assert.equal(addedAttributes(first, 'protection_domain'), []);
  assert.equal(addedAttributes(since, 'protection_domain'), ['cpu', 'domain', 'fpu']);
  assert.equal(addedAttributes(since, 'child protection_domain'), ['setvar_id']);
  assert.equal(addedAttributes(since, 'vcpu'), ['setvar_id', 'cpu']);
  assert.equal(addedElements(since, 'system'), ['domains']);
  assert.equal(addedElements(since, 'protection_domain'), ['cspace']);
  assert.is(laterAttribute(first, 'protection_domain', 'setvar_id'), since);
  assert.is(laterAttribute(first, 'map', 'setvar_prefill_size'), since);
  assert.is(laterAttribute(first, 'map', 'setvar_vaddr'), undefined);
  assert.is(laterAttribute(since, 'protection_domain', 'cpu'), undefined);
  assert.is(laterElement(first, 'protection_domain', 'cspace'), since);
  assert.is(laterElement(since, 'system', 'domains'), undefined);
});

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('no release is written as a string anywhere in src/ but the table', () => {
  const table = path.join(repoRoot, 'src', 'compile', 'releases.ts');
  const quoted = new RegExp(`['"\`](${RELEASE_NAMES.map((r) => r.replace(/\./g, '\\.')).join('|')})['"\`]`);
  const found = sources(path.join(repoRoot, 'src')).filter((f) => f !== table).flatMap((f) =>
    readFileSync(f, 'utf8').split('\n').flatMap((line, i) => (quoted.test(line) ? [`${path.relative(repoRoot, f)}:${i + 1}: ${line.trim()}`] : [])));
  assert.equal(found, [], `releases compared or defaulted outside src/compile/releases.ts:\n${found.join('\n')}`);
});

/** The tool source of a release, from its checkout; undefined for a release without one here. */
const checkouts: Partial<Record<MicrokitRelease, string | undefined>> = {
  [first]: process.env['MICROKIT_SRC'],
  [RELEASE_NAMES[1]!]: process.env['MICROKIT_SRC_2_3_0'],
};
const need = missing('microkit-src', 'microkit-src-2.3.0');

function toolSource(release: MicrokitRelease, file: string): string {
  const p = path.join(checkouts[release]!, 'tool', 'microkit', 'src', file);
  return existsSync(p) ? readFileSync(p, 'utf8') : '';
}

testIf(need, "each row against the release's tool source: constants, symbols, attributes, elements", () => {
  for (const r of RELEASE_NAMES.filter((x) => checkouts[x] !== undefined)) {
    const sdf = toolSource(r, 'sdf.rs');
    const facts = releaseFacts(r);
    assert.is(BigInt(/const PD_DEFAULT_STACK_SIZE: u64 = (0x[0-9a-f]+);/.exec(sdf)![1]!), facts.defaultStack, `${r} PD_DEFAULT_STACK_SIZE`);
    const slots = /const CAP_MAP_MAX_SLOT: u64 = (\d+);/.exec(sdf);
    assert.is(slots ? Number(slots[1]) : 0, facts.maxCapSlot, `${r} CAP_MAP_MAX_SLOT`);
    const monitor = /const MONITOR_PD_NAME: &str = "(\w+)";/.exec(sdf);
    assert.equal(monitor ? [monitor[1]] : [], facts.reservedPdNames, `${r} MONITOR_PD_NAME`);
    // 2.0.1 writes a PD's symbols in main.rs; 2.3.0 in symbols.rs.
    const writer = toolSource(r, 'symbols.rs') || toolSource(r, 'main.rs');
    const written = [...new Set([...writer.matchAll(/write_symbol\(\s*"(microkit_\w+)"/g)].map((m) => m[1]!))];
    assert.equal(written, facts.pdSymbolsWritten, `${r}: the symbols written into every PD`);
    const ipc = /const SYMBOL_IPC_BUFFER: &str = "(\w+)";/.exec(toolSource(r, 'main.rs'));
    assert.is(ipc?.[1], facts.ipcBufferSymbol, `${r} SYMBOL_IPC_BUFFER`);
  }
  // An attribute or element a row adds is in its release's sdf.rs and not in the one before.
  for (const row of FEATURE_ROWS) {
    const names = [...Object.values(row.attributes ?? {}), ...Object.values(row.elements ?? {})].flat();
    const before = RELEASE_NAMES[RELEASE_NAMES.indexOf(row.since) - 1]!;
    for (const name of new Set(names)) {
      assert.ok(toolSource(row.since, 'sdf.rs').includes(`"${name}"`), `${row.feature}: "${name}" is not in ${row.since}'s sdf.rs`);
      assert.not.ok(toolSource(before, 'sdf.rs').includes(`"${name}"`), `${row.feature}: "${name}" is already in ${before}'s sdf.rs`);
    }
  }
  // embedded-frames: the release's tool packs frames embedded (guest/prefill.ts relies on it).
  const packaging = toolSource(featureSince('embedded-frames'), path.join('capdl', 'packaging.rs'));
  assert.match(packaging, /let embed_frames = true;/, 'capdl/packaging.rs embeds the frames it can');
  assert.not.ok(existsSync(path.join(checkouts[RELEASE_NAMES[0]!]!, 'tool', 'microkit', 'src', 'capdl')), 'the first release has no capDL initialiser');
  const buildSdk = readFileSync(path.join(checkouts[featureSince('domains')]!, 'build_sdk.py'), 'utf8');
  const { numDomains, numDomainSchedules } = releaseFacts(featureSince('domains')).kernelDomains;
  assert.match(buildSdk, new RegExp(`"KernelNumDomains": ${numDomains},`));
  assert.match(buildSdk, new RegExp(`"KernelNumDomainSchedules": ${numDomainSchedules},`));
});

test.run();
