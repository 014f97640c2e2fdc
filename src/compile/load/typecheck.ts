// Type-check the user's systems.ts against the DSL's own declarations before any of it runs.
// esbuild (the loader) strips types without looking at them, so without this `ram: '256M'` or a
// misspelt option would only fail later, far from its line, or not at all. The TypeScript
// compiler is the one ts-morph carries (a dependency already, for `import`); its standard
// library declarations come embedded in it, so nothing else needs installing.
//
// A pass costs a compiler start and a check of the DSL's declarations; a systems.ts (and its
// local imports) that passed once is remembered by content hash in the cache directory, so
// synthesising an unchanged file again costs only the hash. The compiler itself (3 s to load on a
// busy machine) is loaded only when a check has to run, so a cached check, and every command that
// loads no systems.ts, never pays for it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Project, ts } from 'ts-morph';
import { error, type Diagnostic } from '../diagnostics/index.js';

/** The DSL's declarations: dist/src/index.d.ts beside the index.js a systems.ts imports. */
const dslTypes = fileURLToPath(new URL('../../index.d.ts', import.meta.url));

/** Diagnostics that only say the host's Node.js declarations are not installed (not the user's mistake). */
const MISSING_NODE_TYPES = new Set([2580, 2591, 2592, 2503]);

type TsMorph = typeof import('ts-morph');
let tsMorph: TsMorph | undefined;

async function loadTsMorph(): Promise<TsMorph> {
  return (tsMorph ??= await import('ts-morph'));
}

/** ts-morph's version, which pins the compiler it carries: read from its package.json, not by loading it. */
function tsMorphVersion(): string {
  const entry = createRequire(import.meta.url).resolve('ts-morph');
  for (let d = path.dirname(entry); path.dirname(d) !== d; d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (existsSync(pkg)) {
      const json = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string; version?: string };
      if (json.name === 'ts-morph') return json.version ?? 'unknown';
    }
  }
  return 'unknown';
}

let dslHash: string | undefined;

/** Hash of everything the check depends on besides the user's files: the compiler and the DSL's declarations. */
function environmentHash(): string {
  if (dslHash) return dslHash;
  const h = createHash('sha256').update(tsMorphVersion());
  const dir = path.dirname(dslTypes);
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.d.ts')) h.update(path.relative(dir, p)).update(readFileSync(p));
    }
  };
  if (existsSync(dir)) walk(dir);
  return (dslHash = h.digest('hex'));
}

function cacheKey(files: readonly string[]): string {
  const h = createHash('sha256').update(environmentHash());
  for (const f of [...files].sort()) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 32);
}

function nodeTypesRoot(from: string): string | undefined {
  for (let d = path.dirname(from); ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules', '@types', 'node', 'package.json'))) return path.join(d, 'node_modules', '@types');
    if (path.dirname(d) === d) return undefined;
  }
}

function toDiagnostic(ts: TsMorph['ts'], d: ts.Diagnostic): Diagnostic {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
  const file = d.file;
  const at = file && d.start !== undefined ? file.getLineAndCharacterOfPosition(d.start) : undefined;
  const location = file && at ? { file: path.resolve(file.fileName), line: at.line + 1, column: at.character + 1 } : undefined;
  return error('type', `${message} (TS${d.code})`, location, { hint: typedValueHint(message, file && d.start !== undefined ? file.text.slice(d.start, d.start + 80) : '') });
}

/**
 * Sizes and addresses are typed values, not numbers: say how to write one, with the user's own
 * number (`ram: 256` → `mib(256)`), rather than leave them with "not assignable to 'Size'".
 */
function typedValueHint(message: string, source: string): string | undefined {
  const to = /^Type '(?:number|string|`[^`]*`|"[^"]*"|\d[\d_]*)' is not assignable to type '(Size|Address)'/.exec(message)?.[1];
  if (!to) return undefined;
  // The error stands at the property (`ram: 256`) or at the value itself.
  const n = /^(?:[A-Za-z_$][\w$]*\s*:\s*)?(0x[0-9a-fA-F_]+|[0-9][0-9_]*)\b/.exec(source)?.[1];
  if (to === 'Address') return `addresses are typed: write addr(${n ?? '0x4000_0000'}) (import addr from 'sel4cp-synth')`;
  // A small plain number was meant in MiB (`ram: 256`); anything else is a byte count.
  const value = n !== undefined && !n.startsWith('0x') ? Number(n.replace(/_/g, '')) : undefined;
  const example = value !== undefined && value < 4096 ? `mib(${value})` : n !== undefined ? `bytes(${n})` : 'mib(256)';
  return `sizes are typed: write ${example} (or kib(), gib(), bytes(); import them from 'sel4cp-synth')`;
}

/** One compiler project per process (and per @types root): the library and DSL declarations are parsed once. */
const projects = new Map<string, Project>();

function projectFor({ Project, ts }: TsMorph, typeRoot: string | undefined): Project {
  const key = typeRoot ?? '';
  let project = projects.get(key);
  if (!project) {
    project = new Project({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ['lib.es2022.d.ts'],
        allowJs: true,
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        types: typeRoot ? ['node'] : [],
        ...(typeRoot ? { typeRoots: [typeRoot] } : {}),
        paths: { 'sel4cp-synth': [dslTypes] },
      },
      skipAddingFilesFromTsConfig: true,
    });
    projects.set(key, project);
  }
  return project;
}

export interface TypeCheckOptions {
  /** The user's own files: the systems.ts and the local files it imports (not packages). */
  files: readonly string[];
  /** Where a passing check is remembered. @default none (always check) */
  cacheDir?: string | undefined;
  /** Remember a pass there (synthesis does; `check`, which writes nothing, only reads). @default false */
  writeCache?: boolean;
}

export interface TypeCheckResult {
  diagnostics: Diagnostic[];
  /** The result came from the cache. */
  cached: boolean;
}

/** Type-checks the user's files; diagnostics are reported in those files only. */
export async function typeCheck(options: TypeCheckOptions): Promise<TypeCheckResult> {
  const files = options.files.map((f) => path.resolve(f));
  const key = cacheKey(files);
  const marker = options.cacheDir ? path.join(options.cacheDir, 'typecheck', key) : undefined;
  if (marker && existsSync(marker)) return { diagnostics: [], cached: true };

  const typeRoot = nodeTypesRoot(files[0]!) ?? nodeTypesRoot(dslTypes);
  const morph = await loadTsMorph();
  const { ts } = morph;
  const project = projectFor(morph, typeRoot);
  for (const f of files) project.addSourceFileAtPath(f);
  let diagnostics: Diagnostic[];
  try {
    project.resolveSourceFileDependencies();
    const own = new Set(files);
    diagnostics = ts.getPreEmitDiagnostics(project.getProgram().compilerObject)
      .filter((d) => d.file !== undefined && own.has(path.resolve(d.file.fileName)))
      .filter((d) => typeRoot !== undefined || !MISSING_NODE_TYPES.has(d.code))
      .filter((d) => d.category === ts.DiagnosticCategory.Error)
      .map((d) => toDiagnostic(ts, d));
  } finally {
    // The next check (another fixture, another file) starts from the standard library and the
    // DSL's declarations alone, already parsed.
    for (const sf of project.getSourceFiles()) if (!sf.isDeclarationFile()) project.removeSourceFile(sf);
  }
  if (marker && options.writeCache && diagnostics.length === 0) {
    mkdirSync(path.dirname(marker), { recursive: true });
    const tmp = `${marker}.tmp-${process.pid}`;
    writeFileSync(tmp, 'ok\n');
    renameSync(tmp, marker);
  }
  return { diagnostics, cached: false };
}
