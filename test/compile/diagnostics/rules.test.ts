// The rule registry (src/compile/diagnostics/rules.ts) against the sources and the tests: every id
// is reported where the registry says, by a real report (reports.ts: an error()/warning() call or
// a wrapper of one, read with the TypeScript parser; an id in a comment does not count); every id
// has a fixture in test/fixtures/invalid/ or names a test that exercises it; every fixture is
// named after its id and sits in the folder of a source that reports it. The fixtures themselves
// run in invalid-fixtures.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RULES, type RuleInfo } from '../../../src/compile/diagnostics/rules.js';
import { repoRoot } from '../../helpers.js';
import { familyOf, invalidFixtures } from './fixtures.js';
import { reportSites } from './reports.js';

function sources(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((e) => {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const rules = Object.entries(RULES) as [string, RuleInfo][];
const sites = reportSites(sources('src').map((file) => ({ file, text: readFileSync(path.join(repoRoot, file), 'utf8') })));
const fixtures = invalidFixtures();

test('the report finder counts calls, wrappers, aliases and findings; not comments, strings or look-alikes', () => {
  const a = [
    "import { error, warning, type RuleId } from './diagnostics/index.js';",
    "// error('in-a-comment', 'm', loc)",
    "const s = 'a-plain-string';",
    'export function f(x: boolean) {',
    '  const make = x ? error : warning;',
    "  error('direct', 'm', loc);",
    "  make('via-make', 'm', loc);",
    "  fail('via-wrapper', 'm');",
    "  duplicates([], 'second-argument', 'm');",
    "  failCode('not-an-id-parameter');",
    "  notAReporter('look-alike');",
    "  out.push({ id: 'a-finding', severity: 'warning', message: '' }, { id: 'no-severity' });",
    '}',
    'function fail(id: RuleId, message: string): void { out.push(error(id, message, loc)); }',
    'function duplicates(items: unknown[], id: RuleId, what: string) { return [warning(id, what, loc)]; }',
    "function failCode(code: string): void { out.push(error('coded', code, loc)); }",
    'class Reader { fail(id: RuleId, m: string) { this.out.push(warning(id, m, loc)); } }',
  ].join('\n');
  const b = "new Reader().fail('via-method', 'm'); fail('a-wrapper-of-another-file', 'm'); throw new DslError('dsl', 'm');";
  const found = reportSites([{ file: 'a.ts', text: a }, { file: 'b.ts', text: b }]);
  const where = Object.fromEntries([...found].map(([id, files]) => [id, [...files].sort().join(' ')]));
  assert.equal(where, {
    'direct': 'a.ts', 'via-make': 'a.ts', 'via-wrapper': 'a.ts', 'second-argument': 'a.ts', 'coded': 'a.ts', 'a-finding': 'a.ts',
    'via-method': 'b.ts', 'dsl': 'b.ts',
  });
});

test('every rule id is reported in its source by an error()/warning() call or a wrapper of one, not only named there', () => {
  const problems = rules
    .filter(([id, rule]) => !sites.get(id)?.has(rule.source))
    .map(([id, rule]) => `${id}: no report in ${rule.source}${sites.has(id) ? ` (reported in ${[...sites.get(id)!].join(', ')})` : ''}`);
  assert.equal(problems, []);
});

test('every rule id has its fixture or names the test that exercises it (src/compile/diagnostics/rules.ts)', () => {
  const fixtureIds = new Set(fixtures.map((f) => f.id));
  const problems: string[] = [];
  const untested: string[] = [];
  for (const [id, rule] of rules) {
    if (rule.covered === 'fixture') {
      if (!fixtureIds.has(id)) problems.push(`${id}: no fixture marks it`);
    } else if (rule.covered === 'untested') {
      untested.push(id);
    } else if (!existsSync(path.join(repoRoot, rule.covered)) || !readFileSync(path.join(repoRoot, rule.covered), 'utf8').includes(id)) {
      problems.push(`${id}: ${rule.covered} does not name it`);
    }
  }
  assert.equal(problems, []);
  process.stdout.write(`rule ids: ${rules.length}, ${fixtureIds.size} with fixtures, ${untested.length} not yet exercised by a test: ${untested.join(', ')}\n`);
});

test('each fixture is named after its id and sits in the folder of a source that reports it', () => {
  const problems: string[] = [];
  for (const f of fixtures) {
    const stem = path.basename(f.name).replace(/\.(ts|system)$/, '');
    if (!(f.id in RULES)) problems.push(`${f.name}: no rule has the id ${f.id}`);
    if (stem !== f.id && !stem.startsWith(`${f.id}-`)) problems.push(`${f.name}: named ${stem}, not ${f.id} or ${f.id}-<variant>`);
    const families = [...(sites.get(f.id) ?? [])].map(familyOf);
    if (!families.includes(f.family)) problems.push(`${f.name}: in ${f.family || 'test/fixtures/invalid/ itself'}/, but ${f.id} is reported in ${families.map((x) => `${x}/`).join(' or ') || 'no source'}`);
  }
  assert.equal(problems, []);
});

test.run();
