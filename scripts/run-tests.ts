/**
 * `npm test`: every compiled test file under dist/test run by uvu, its output passed through,
 * then one closing line over all files:
 *
 *   N passed, N failed, N skipped (M SKIP lines)
 *
 * uvu counts a test registered with `test.skip` (see `testIf` in test/helpers.ts) under "Skipped"
 * and leaves it out of "Total", so failed = Total - Passed; that also counts the tests a failing
 * `before` hook kept from running, which uvu itself does not report as failures. The SKIP lines
 * are counted apart: each skipped test prints one, so more SKIP lines than skips means a test
 * printed one and then passed.
 *
 * Arguments replace uvu's default directory and pattern: `npm test -- dist/test/compile peer`.
 * Without them, a compiled test whose source is gone (test/x.test.ts moved or deleted: tsc never
 * removes dist/test/x.test.js) is not run, and one line names it.
 * Exit status 1 when a test failed, uvu failed, or uvu ended without its summary.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface TestSummary {
  /** Tests that ran or should have run (uvu's "Total"; skipped tests are not in it). */
  total: number;
  passed: number;
  skipped: number;
  /** Lines of the output that begin with `SKIP ` (after uvu's pass and fail marks). */
  skipLines: number;
}

/** ANSI SGR sequences: uvu colours its output (it sets FORCE_COLOR). */
const ANSI = /\x1b\[[0-9;]*m/g;

/** uvu's closing counts and the SKIP lines in its output, or undefined when it printed no summary. */
export function summariseUvu(output: string): TestSummary | undefined {
  const text = output.replace(ANSI, '');
  // The last of each: the summary ends the output, whatever a test printed before it.
  const count = (label: string): number | undefined => {
    const all = [...text.matchAll(new RegExp(`^ *${label}: +(\\d+) *$`, 'gm'))];
    const last = all[all.length - 1];
    return last ? Number(last[1]) : undefined;
  };
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  if (total === undefined || passed === undefined || skipped === undefined) return undefined;
  // A SKIP printed while a test runs follows the marks of the tests before it on that line.
  const skipLines = text.split('\n').filter((l) => /^(?:[•✘] *)*SKIP /.test(l)).length;
  return { total, passed, skipped, skipLines };
}

/** The closing line: `N passed, N failed, N skipped (M SKIP lines)`. */
export function closingLine(s: TestSummary): string {
  return `${s.passed} passed, ${s.total - s.passed} failed, ${s.skipped} skipped (${s.skipLines} SKIP line${s.skipLines === 1 ? '' : 's'})`;
}

/**
 * The compiled tests under `distTest` (`dist/test`) whose source under `testDir` (`test`) is gone,
 * relative to `distTest` with `/` (`compile/synth.test.js` when test/compile/synth.test.ts moved).
 */
export function staleTests(distTest: string, testDir: string): string[] {
  if (!existsSync(distTest)) return [];
  return readdirSync(distTest, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => f.endsWith('.test.js') && !existsSync(path.join(testDir, f.replace(/\.js$/, '.ts'))))
    .sort();
}

/** An uvu --ignore pattern for exactly this file (relative to the directory uvu walks). */
export function ignoreExactly(relative: string): string {
  return `^${relative.split('/').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\\\/]')}$`;
}

/** The repository: the nearest ancestor of this file holding package.json and boards/. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'boards')))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

async function main(args: string[]): Promise<number> {
  const root = repoRoot();
  const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
  let uvuArgs = args;
  if (!args.length) {
    const stale = staleTests(path.join(root, 'dist', 'test'), path.join(root, 'test'));
    if (stale.length) process.stdout.write(`not run: ${stale.map((f) => `dist/test/${f}`).join(', ')} (no test/ source; left by an earlier build)\n`);
    uvuArgs = ['dist/test', '\\.test\\.js$', ...stale.flatMap((f) => ['--ignore', ignoreExactly(f)])];
  }
  const child = spawn(process.execPath, [uvu, ...uvuArgs], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'inherit'],
  });
  // Ctrl-C reaches uvu through the terminal too; a plain `kill` of this process must reach it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    process.stdout.write(chunk);
    output += chunk;
  });
  const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const summary = summariseUvu(output);
  if (!summary) {
    process.stdout.write(`uvu ended without its summary (${ended.signal ? `signal ${ended.signal}` : `exit status ${ended.code}`}): the tests did not all run\n`);
    return 1;
  }
  process.stdout.write(`${closingLine(summary)}\n`);
  return ended.code === 0 && summary.passed === summary.total ? 0 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
