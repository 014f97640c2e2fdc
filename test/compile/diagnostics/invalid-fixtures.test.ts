// One tiny invalid systems.ts (or .system) per error class. Each fixture marks the line the
// problem must be reported at with a comment `error[id]` (or `warning[id]`); the test asserts a
// diagnostic with that id, severity, file and line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { synthesise } from '../../../src/compile/synthesise.js';
import { pickBoard } from '../../../src/compile/load/boards.js';
import { UserError, type Diagnostic } from '../../../src/compile/diagnostics/index.js';
import { parseSystemXml } from '../../../src/compile/parse/system-xml.js';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { fixtures, repoRoot } from '../../helpers.js';
import { RULES, type RuleInfo } from '../../../src/compile/diagnostics/rules.js';
import type { RuleId } from '../../../src/compile/diagnostics/index.js';

interface Expectation { severity: string; id: string; line: number }

function expectation(file: string): Expectation {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /(error|warning)\[([a-z0-9-]+)\]/.exec(lines[i]!);
    if (m) return { severity: m[1]!, id: m[2]!, line: i + 1 };
  }
  throw new Error(`${file} has no error[id] marker`);
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-diag-'));

/** The whole synthesis (guest device trees and placement included), into a scratch directory. */
async function diagnosticsOfTs(file: string): Promise<Diagnostic[]> {
  try {
    return (await synthesise({ file, config: 'debug', outDir: path.join(scratch, path.basename(file)), sdk: '' })).diagnostics;
  } catch (e) {
    if (e instanceof UserError) return e.diagnostics;
    throw e;
  }
}

function diagnosticsOfXml(file: string): Diagnostic[] {
  const parsed = parseSystemXml(readFileSync(file, 'utf8'), file, pickBoard('qemu_virt_aarch64', undefined, undefined));
  return [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])];
}

function assertReported(file: string, diags: Diagnostic[]): void {
  const want = expectation(file);
  const hit = diags.find((d) => d.id === want.id && d.severity === want.severity);
  const shown = diags.map((d) => `${d.severity}[${d.id}] @${d.location?.line}: ${d.message}`).join('\n  ');
  assert.ok(hit, `${path.basename(file)}: expected ${want.severity}[${want.id}], got:\n  ${shown}`);
  assert.is(hit!.location?.file, file, `${path.basename(file)}: reported in the wrong file`);
  assert.is(hit!.location?.line, want.line, `${path.basename(file)}: ${want.id} reported at line ${hit!.location?.line}, expected ${want.line}`);
  assert.ok(hit!.message.length > 0);
}

const tsDir = path.join(fixtures, 'invalid');
for (const name of readdirSync(tsDir).filter((f) => f.endsWith('.ts')).sort()) {
  test(`systems.ts fixture ${name}`, async () => {
    const file = path.join(tsDir, name);
    assertReported(file, await diagnosticsOfTs(file));
  });
}

const xmlDir = path.join(fixtures, 'invalid-xml');
for (const name of readdirSync(xmlDir).filter((f) => f.endsWith('.system')).sort()) {
  test(`.system fixture ${name}`, () => {
    const file = path.join(xmlDir, name);
    assertReported(file, diagnosticsOfXml(file));
  });
}

test('every rule id has its fixture or names the test that exercises it (src/compile/diagnostics/rules.ts)', () => {
  const fixtureIds = new Set<string>();
  for (const dir of [tsDir, xmlDir]) {
    for (const f of readdirSync(dir)) if (/\.(ts|system)$/.test(f)) fixtureIds.add(expectation(path.join(dir, f)).id);
  }
  const unknown = [...fixtureIds].filter((id) => !(id in RULES)).sort();
  assert.equal(unknown, [], `fixtures expect ids no rule has: ${unknown.join(', ')}`);
  const problems: string[] = [];
  const untested: string[] = [];
  for (const [id, rule] of Object.entries(RULES) as [RuleId, RuleInfo][]) {
    if (!readFileSync(path.join(repoRoot, rule.source), 'utf8').includes(`'${id}'`)) problems.push(`${id}: not reported in ${rule.source}`);
    if (rule.covered === 'fixture') {
      if (!fixtureIds.has(id)) problems.push(`${id}: no fixture marks it`);
    } else if (rule.covered === 'untested') {
      untested.push(id);
    } else if (!existsSync(path.join(repoRoot, rule.covered)) || !readFileSync(path.join(repoRoot, rule.covered), 'utf8').includes(id)) {
      problems.push(`${id}: ${rule.covered} does not name it`);
    }
  }
  assert.equal(problems, []);
  process.stdout.write(`rule ids: ${Object.keys(RULES).length}, ${fixtureIds.size} with fixtures, ${untested.length} not yet exercised by a test: ${untested.join(', ')}\n`);
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
