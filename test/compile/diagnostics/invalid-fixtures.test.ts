// One tiny invalid systems.ts (or .system) per error class, in test/fixtures/invalid/<family>/
// (fixtures.ts says how they are laid out). Each fixture marks the line the problem must be
// reported at with a comment `error[id]` (or `warning[id]`); the test asserts a diagnostic with that
// id, severity, file and line. That every id has a fixture or a test: rules.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { synthesise } from '../../../src/compile/synthesise.js';
import { pickBoard } from '../../../src/compile/load/boards.js';
import { UserError, type Diagnostic } from '../../../src/compile/diagnostics/index.js';
import { parseSystemXml } from '../../../src/compile/parse/system-xml.js';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { invalidFixtures, type InvalidFixture } from './fixtures.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-diag-'));

/** The whole synthesis (guest device trees and placement included), into a scratch directory. */
async function diagnosticsOfTs(f: InvalidFixture): Promise<Diagnostic[]> {
  try {
    return (await synthesise({ file: f.file, config: 'debug', outDir: path.join(scratch, f.name.replace(/\//g, '-')), sdk: '' })).diagnostics;
  } catch (e) {
    if (e instanceof UserError) return e.diagnostics;
    throw e;
  }
}

function diagnosticsOfXml(file: string): Diagnostic[] {
  const parsed = parseSystemXml(readFileSync(file, 'utf8'), file, pickBoard('qemu_virt_aarch64', undefined, undefined));
  return [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])];
}

function assertReported(f: InvalidFixture, diags: Diagnostic[]): void {
  const hit = diags.find((d) => d.id === f.id && d.severity === f.severity);
  const shown = diags.map((d) => `${d.severity}[${d.id}] @${d.location?.line}: ${d.message}`).join('\n  ');
  assert.ok(hit, `${f.name}: expected ${f.severity}[${f.id}], got:\n  ${shown}`);
  assert.is(hit!.location?.file, f.file, `${f.name}: reported in the wrong file`);
  assert.is(hit!.location?.line, f.line, `${f.name}: ${f.id} reported at line ${hit!.location?.line}, expected ${f.line}`);
  assert.ok(hit!.message.length > 0);
}

for (const f of invalidFixtures()) {
  test(`${f.kind === 'ts' ? 'systems.ts' : '.system'} fixture ${f.name}`, async () => {
    assertReported(f, f.kind === 'ts' ? await diagnosticsOfTs(f) : diagnosticsOfXml(f.file));
  });
}

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
