// Load: run the user's systems.ts and take the system it exports. esbuild bundles it (TypeScript
// in, one ES module out, with an inline source map so locations name the user's .ts lines), and
// 'sel4cp-synth' resolves to this very package so the file uses the same DSL instance as we do.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { DslError } from '../dsl/errors.js';
import { setContext } from '../dsl/context.js';
import type { System } from '../dsl/system.js';
import { error, UserError } from './diagnostics.js';

const dslEntry = fileURLToPath(new URL('../index.js', import.meta.url));

export interface LoadOptions {
  /** `-c key=value` pairs. */
  context?: ReadonlyMap<string, string>;
  /** Directory that command-line paths are relative to. */
  cwd?: string;
}

/** The first frame of an error's stack that is in the user's file. */
function userFrame(err: unknown, file: string): { file: string; line: number; column: number } | undefined {
  const stack = err instanceof Error ? err.stack ?? '' : '';
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

  const bundle = result.outputFiles[0]!;
  // The source map's paths are relative to the bundle's directory: keep the bundle beside the
  // user's file in spirit by rewriting them to absolute paths, then write it to a temp dir.
  const text = rewriteSourceMap(bundle.text, path.dirname(abs));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sel4cp-synth-'));
  const out = path.join(dir, 'system.mjs');
  process.setSourceMapsEnabled(true);
  setContext(options.context ?? new Map(), options.cwd ?? process.cwd());
  let mod: Record<string, unknown>;
  try {
    await writeFile(out, text);
    mod = await import(pathToFileURL(out).href) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof DslError) {
      throw new UserError(error(e.id, e.message, e.location ?? userFrame(e, abs), { hint: e.hint }));
    }
    const message = e instanceof Error ? e.message : String(e);
    throw new UserError(error('systems-file-threw', `${path.basename(abs)} threw an error while running: ${message}`, userFrame(e, abs) ?? { file: abs, line: 1, column: 1 }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const system = mod['default'];
  if (!system || typeof system !== 'object' || (system as { kind?: unknown }).kind !== 'system') {
    throw new UserError(error('no-default-system', `${path.basename(abs)} does not export a system as its default export`, { file: abs, line: 1, column: 1 }, {
      hint: "end the file with: export default system({ ... });",
    }));
  }
  return system as System;
}

function rewriteSourceMap(code: string, userDir: string): string {
  const marker = '//# sourceMappingURL=data:application/json;base64,';
  const at = code.lastIndexOf(marker);
  if (at < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(at + marker.length).trim(), 'base64').toString('utf8')) as { sources: string[] };
  map.sources = map.sources.map((s) => pathToFileURL(path.resolve(userDir, s)).href);
  return code.slice(0, at) + marker + Buffer.from(JSON.stringify(map)).toString('base64') + '\n';
}
