// npm test's closing line: uvu's counts read from its (coloured) output, and the runner on a
// directory of tiny test files that pass, skip, fail and print SKIP lines; the compiled tests an
// earlier build left behind, which it does not run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { closingLine, ignoreExactly, staleTests, summariseUvu } from '../../scripts/run-tests.js';
import { repoRoot } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-run-tests-'));
test.after(() => rmSync(work, { recursive: true, force: true }));

test('the counts come from the last summary, colours and all; SKIP lines after pass marks count', () => {
  const out = [
    '\x1b[1m\x1b[4m\x1b[37ma.test.js\x1b[22m\x1b[24m\x1b[39m',
    'SKIP one: qemu-system-aarch64 not installed (Debian package qemu-system-arm)',
    '\x1b[90m• \x1b[39m\x1b[90m• \x1b[39mSKIP two: printed inside a test',
    '  Total:     9 (a test printed this)',
    'not a SKIP line',
    '\x1b[90m• \x1b[39m\x1b[32m  (3 / 4)',
    '\x1b[39m',
    '  Total:     4\x1b[32m',
    '  Passed:    3\x1b[39m',
    '  Skipped:   \x1b[33m1\x1b[39m',
    '  Duration:  1.00ms',
    '',
  ].join('\n');
  const s = summariseUvu(out);
  assert.equal(s, { total: 4, passed: 3, skipped: 1, skipLines: 2 });
  assert.is(closingLine(s!), '3 passed, 1 failed, 1 skipped (2 SKIP lines)');
  assert.is(closingLine({ total: 1, passed: 1, skipped: 1, skipLines: 1 }), '1 passed, 0 failed, 1 skipped (1 SKIP line)');
  assert.is(summariseUvu('a.test.js\n• • \nExiting early before testing is finished.\n'), undefined);
});

/** Runs the runner on `files` (name → body; each imports uvu by the file URL the runner's uvu loads). */
function runOn(files: Record<string, string>): { status: number | null; last: string } {
  const dir = mkdtempSync(path.join(work, 'case-'));
  const uvu = pathToFileURL(path.join(repoRoot, 'node_modules', 'uvu', 'dist', 'index.mjs')).href;
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(dir, name), `import { test } from '${uvu}';\n${body}\ntest.run();\n`);
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'run-tests.js'), dir, '\\.test\\.mjs$'], { encoding: 'utf8' });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: r.status, last: lines[lines.length - 1]! };
}

test('the runner ends with one line over all files and its status says whether all passed', () => {
  const good = runOn({
    'a.test.mjs': "test('passes', () => {});\nprocess.stdout.write('SKIP skipped: absent\\n');\ntest.skip('skipped', () => {});",
    'b.test.mjs': "test('passes too', () => {});",
  });
  assert.is(good.last, '2 passed, 0 failed, 1 skipped (1 SKIP line)');
  assert.is(good.status, 0);
  const bad = runOn({ 'a.test.mjs': "test('fails', () => { throw new Error('no'); });\ntest('passes', () => {});" });
  assert.is(bad.last, '1 passed, 1 failed, 0 skipped (0 SKIP lines)');
  assert.is(bad.status, 1);
  // A before hook that throws keeps its tests from running; uvu itself reports no failure.
  const hook = runOn({ 'a.test.mjs': "test.before(() => { throw new Error('no'); });\ntest('never runs', () => {});" });
  assert.is(hook.last, '0 passed, 1 failed, 0 skipped (0 SKIP lines)');
  assert.is(hook.status, 1);
  const early = runOn({ 'a.test.mjs': "test('exits', () => { process.exit(0); });" });
  assert.match(early.last, /^uvu ended without its summary/);
  assert.is(early.status, 1);
});

test('a compiled test whose source is gone is stale, and ignored by exactly its name', () => {
  const root = mkdtempSync(path.join(work, 'stale-'));
  const files = ['test/a.test.ts', 'test/compile/b.test.ts', 'dist/test/a.test.js', 'dist/test/compile/b.test.js', 'dist/test/compile/b.test.js.map',
    'dist/test/compile/moved.test.js', 'dist/test/compile/moved.test.js.map', 'dist/test/gone.test.js', 'dist/test/helpers.js'];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), '');
  }
  assert.equal(staleTests(path.join(root, 'dist', 'test'), path.join(root, 'test')), ['compile/moved.test.js', 'gone.test.js']);
  assert.equal(staleTests(path.join(root, 'no-dist'), path.join(root, 'test')), []);
  // uvu tests each name relative to the directory it walks, case-insensitively.
  const ignores = new RegExp(ignoreExactly('compile/moved.test.js'), 'i');
  assert.ok(ignores.test('compile/moved.test.js'));
  assert.ok(ignores.test(path.join('compile', 'moved.test.js')));
  for (const other of ['compile/moved.test.js.map', 'compile/moved-2.test.js', 'x/compile/moved.test.js', 'compile', 'compileXmoved.test.js']) assert.not.ok(ignores.test(other), other);
});

test.run();
