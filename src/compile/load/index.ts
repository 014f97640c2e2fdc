// Load: run the user's systems.ts and take the system it exports. esbuild bundles it (TypeScript
// in, one ES module out, with an inline source map so locations name the user's .ts lines), and
// 'sel4cp-synth' resolves to this very package so the file uses the same DSL instance as we do.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as esbuild from 'esbuild';
import { contextKeysRead, markContextRead, setContext } from '../../dsl/context.js';
import { guestCacheDir } from '../package.js';
import type { System } from '../../dsl/system.js';
import type { Policy } from '../../dsl/policy.js';
import { error, UserError, warning, type Diagnostic } from '../diagnostics/index.js';
import { typeCheck } from './typecheck.js';
import { removeAtExit } from '../../cleanup.js';
import type { LoadWorkerInput, LoadWorkerResult } from './worker.js';

const dslEntry = fileURLToPath(new URL('../../index.js', import.meta.url));
const workerFile = new URL('./worker.js', import.meta.url);

export interface LoadOptions {
  /** `-c key=value` pairs. */
  context?: ReadonlyMap<string, string>;
  /** Directory that command-line paths are relative to. */
  cwd?: string;
  /**
   * Type-check the user's files against the DSL before running them (type errors are user
   * errors at their line); `cacheDir` remembers files that passed. @default off
   */
  typeCheck?: { cacheDir?: string | undefined; writeCache?: boolean } | undefined;
  /** How long the file may run. @default LOAD_TIMEOUT_MS */
  timeoutMs?: number;
  /** Where guestImage() looks. @default guestCacheDir() */
  guestDir?: string;
  /** @internal what the default export must be (loadPolicy asks for a policy). @default 'system' */
  expect?: 'system' | 'policy';
}

/** The first frame of an error's stack that is in the user's file. */
function userFrame(stack: string, file: string): { file: string; line: number; column: number } | undefined {
  for (const line of stack.split('\n')) {
    const m = /\(?((?:file:\/\/)?[^\s()]+?):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const f = m[1]!.startsWith('file://') ? fileURLToPath(m[1]!) : m[1]!;
    if (f === file) return { file: f, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

export async function loadSystem(file: string, options: LoadOptions = {}): Promise<System> {
  const abs = path.resolve(file);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  try {
    result = await esbuild.build({
      entryPoints: [abs],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'inline',
      sourcesContent: false,
      metafile: true,
      logLevel: 'silent',
      outfile: path.join(path.dirname(abs), '__sel4cp_synth_bundle.mjs'),
      plugins: [{
        name: 'sel4cp-synth-self',
        setup(build) {
          build.onResolve({ filter: /^sel4cp-synth$/ }, () => ({ path: pathToFileURL(dslEntry).href, external: true }));
        },
      }],
    });
  } catch (e) {
    const failure = e as esbuild.BuildFailure;
    if (!failure.errors) throw e;
    throw new UserError(failure.errors.map((m) => error('load-failed', m.text, m.location
      ? { file: path.resolve(m.location.file), line: m.location.line, column: m.location.column + 1 }
      : { file: abs, line: 1, column: 1 }, {
      hint: m.text.startsWith('Could not resolve') ? 'check the import path; systems.ts imports the DSL from \'sel4cp-synth\'' : undefined,
    })));
  }

  if (options.typeCheck) {
    const cwd = process.cwd();
    const own = Object.keys(result.metafile?.inputs ?? {}).map((f) => path.resolve(cwd, f))
      .filter((f) => !f.split(path.sep).includes('node_modules') && /\.[cm]?[jt]s$/.test(f));
    const files = [abs, ...own.filter((f) => f !== abs)];
    const checked = await typeCheck({ files, cacheDir: options.typeCheck.cacheDir, writeCache: options.typeCheck.writeCache ?? false });
    if (checked.diagnostics.length > 0) throw new UserError(checked.diagnostics);
  }

  const bundle = result.outputFiles[0]!;
  // The source map's paths are relative to the bundle's directory: keep the bundle beside the
  // user's file in spirit by rewriting them to absolute paths, then write it to a temp dir.
  const text = rewriteSourceMap(bundle.text, path.dirname(abs));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sel4cp-synth-'));
  const release = removeAtExit(dir);
  const out = path.join(dir, 'system.mjs');
  const guestDir = options.guestDir ?? guestCacheDir();
  setContext(options.context ?? new Map(), options.cwd ?? process.cwd(), guestDir);
  let outcome: LoadWorkerResult;
  try {
    await writeFile(out, text);
    outcome = await runInWorker({ bundle: out, context: [...(options.context ?? new Map())], cwd: options.cwd ?? process.cwd(), guestDir, expect: options.expect ?? 'system' }, options.timeoutMs ?? LOAD_TIMEOUT_MS, abs);
  } finally {
    await rm(dir, { recursive: true, force: true });
    release();
  }
  return systemOf(outcome, abs, options.expect ?? 'system') as System;
}

/** A policy file (`export default policy({...})`), loaded as a systems.ts is: type-checked, bounded. */
export async function loadPolicy(file: string, options: LoadOptions = {}): Promise<Policy> {
  return await loadSystem(file, { ...options, expect: 'policy' }) as unknown as Policy;
}

/** A warning for each `-c key=value` the systems.ts at `file` never read (after loadSystem). */
export function unreadContextWarnings(file: string, context: ReadonlyMap<string, string>): Diagnostic[] {
  const unread = [...context.keys()].filter((k) => !contextKeysRead().has(k));
  return unread.map((k) => warning('context-unused', `-c ${k}=... was given, but ${path.basename(file)} never reads '${k}'`, undefined, {
    hint: `a systems.ts reads it with context('${k}', default) or contextFile('${k}', default); check the spelling`,
  }));
}

/** How long a systems.ts may run before it is stopped and reported: 30 s, or SEL4CP_SYNTH_LOAD_TIMEOUT seconds. */
export const LOAD_TIMEOUT_MS = Number(process.env['SEL4CP_SYNTH_LOAD_TIMEOUT'] ?? '') * 1000 || 30_000;

function runInWorker(input: LoadWorkerInput, timeoutMs: number, file: string): Promise<LoadWorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: input, stdout: false, stderr: false });
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const timer = setTimeout(() => finish(() => {
      void worker.terminate();
      reject(new UserError(error('systems-file-timeout', `${path.basename(file)} did not finish within ${timeoutMs / 1000} s`, { file, line: 1, column: 1 }, {
        hint: 'a systems.ts describes the system and returns: look for a loop that never ends or an await that never settles',
      })));
    }), timeoutMs);
    worker.on('message', (m: LoadWorkerResult) => finish(() => {
      resolve(m);
      void worker.terminate();
    }));
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new UserError(error('systems-file-unfinished',
      `${path.basename(file)} stopped before exporting a system (exit code ${code})`, { file, line: 1, column: 1 }, {
        hint: code === 0 || code === 13 ? 'a top-level await never settled: every promise it waits for must resolve' : 'does it call process.exit()?',
      })))));
  });
}

function systemOf(outcome: LoadWorkerResult, abs: string, expect: 'system' | 'policy'): unknown {
  if (outcome.ok) {
    markContextRead(outcome.contextRead);
    return outcome.system;
  }
  if (outcome.kind === 'dsl') {
    throw new UserError(error(outcome.id, outcome.message, outcome.location ?? userFrame(outcome.stack, abs) ?? { file: abs, line: 1, column: 1 }, { hint: outcome.hint }));
  }
  if (outcome.kind === 'not-a-system') {
    throw new UserError(error('no-default-system', `${path.basename(abs)} does not export a ${expect} as its default export (it exports ${outcome.what})`, { file: abs, line: 1, column: 1 }, {
      hint: `end the file with: export default ${expect}({ ... });`,
    }));
  }
  throw new UserError(error('systems-file-threw', `${path.basename(abs)} threw an error while running: ${outcome.message}`, userFrame(outcome.stack, abs) ?? { file: abs, line: 1, column: 1 }));
}

function rewriteSourceMap(code: string, userDir: string): string {
  const marker = '//# sourceMappingURL=data:application/json;base64,';
  const at = code.lastIndexOf(marker);
  if (at < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(at + marker.length).trim(), 'base64').toString('utf8')) as { sources: string[] };
  map.sources = map.sources.map((s) => pathToFileURL(path.resolve(userDir, s)).href);
  return code.slice(0, at) + marker + Buffer.from(JSON.stringify(map)).toString('base64') + '\n';
}
