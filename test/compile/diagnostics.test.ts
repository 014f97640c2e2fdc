// One tiny invalid systems.ts (or .system) per error class. Each fixture marks the line the
// problem must be reported at with a comment `error[id]` (or `warning[id]`); the test asserts a
// diagnostic with that id, severity, file and line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { pickBoard, synthesise } from '../../src/cli/pipeline.js';
import { UserError, type Diagnostic } from '../../src/compile/diagnostics.js';
import { parseSystemXml } from '../../src/compile/parse/system-xml.js';
import { validateSystem } from '../../src/compile/validate/index.js';
import { fixtures } from '../helpers.js';

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

test('every rule id that validation can report has a fixture', () => {
  const ids = new Set<string>();
  for (const dir of [tsDir, xmlDir]) {
    for (const f of readdirSync(dir)) if (/\.(ts|system)$/.test(f)) ids.add(expectation(path.join(dir, f)).id);
  }
  const sources = path.join(fixtures, '..', '..', 'src', 'compile');
  const reported = new Set<string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.includes(`${path.sep}dtb${path.sep}`)) {
        for (const m of readFileSync(p, 'utf8').matchAll(/(?:error|warning)\('([a-z0-9-]+)'/g)) reported.add(m[1]!);
      }
    }
  };
  walk(sources);
  const missing = [...reported].filter((id) => !ids.has(id) && !NOT_REACHABLE_BY_FIXTURE.has(id)).sort();
  assert.equal(missing, [], `rule ids without a fixture: ${missing.join(', ')}`);
});

/**
 * Ids no systems.ts fixture can reach: a board file without GIC facts, an unreadable file (CLI
 * test), and the environment's failures around the Microkit tool (test/compile/link tests).
 */
const NOT_REACHABLE_BY_FIXTURE = new Set(['board-gic-incomplete', 'file-unreadable', 'microkit-sdk-missing', 'microkit-tool-failed',
  // Needs the SDK's kernel configuration: test/compile/microkit-tool.test.ts.
  'pd-smc-not-allowed',
  // Needs a kernel built with VTIMER_UPDATE_VOFFSET, which no Microkit SDK is: test/compile/validate-vmm-timer.test.ts.
  'vmm-timer-voffset',
  // Needs a file that runs longer than the load bound: test/cli/hardening.test.ts (with a 1 s bound).
  'systems-file-timeout']);

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test.run();
