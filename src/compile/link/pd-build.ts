/**
 * Builds a user's protection domain from its C sources against the chosen Microkit SDK's
 * libmicrokit for one board and configuration, as the SDK's own examples do (example/hello's
 * Makefile: `-mstrict-align -nostdlib -ffreestanding -I$(BOARD_DIR)/include`, linked with
 * `-L$(BOARD_DIR)/lib -lmicrokit -Tmicrokit.ld`), with Debian's cross gcc: `-fno-pie` (its
 * default is PIE), only the compiler's own headers (no target C library needed) and libgcc for
 * the helpers gcc may call. The ELF is cached by content: the sources, every header under the
 * include directories, the flags, and the SDK (path, VERSION, the board's libmicrokit), so a new
 * SDK or an edited header rebuilds it and nothing else does.
 *
 * Effects: runs the cross compiler and writes only below cacheDir, building in a temporary
 * directory that is renamed into place.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import type { RuleId } from '../diagnostics/rules.js';
import type { Artefact } from '../emit/manifest.js';
import { allProtectionDomains, type SystemModel } from '../model/index.js';

export interface PdBuildRequest {
  /** The protection domain: its name names the ELF (`<name>.elf`). */
  name: string;
  /** Absolute paths of the C (or assembler, `.S`) sources. */
  sources: readonly string[];
  /** Absolute include directories, searched before the SDK's. */
  include: readonly string[];
  /** Extra compiler flags, after ours (e.g. `-DDEBUG`, `-Werror`). */
  cflags: readonly string[];
  /** Where the construct is, for errors. */
  loc: Diagnostic['location'];
}

export interface PdBuildOptions {
  sdk: string;
  /** Microkit board name. */
  board: string;
  config: string;
  /** Cache root; the ELF goes to `<cacheDir>/pds/<key>/<name>.elf`. */
  cacheDir: string;
  /** GCC's -mcpu for the board. @default 'cortex-a53' */
  cpu?: string;
  /** @default 'aarch64-linux-gnu-' */
  cross?: string;
  onProgress?: (line: string) => void;
}

export interface PdBuild {
  elf: string;
  cached: boolean;
  key: string;
}

/** Compiler flags of every user PD (see the header comment for where each comes from). */
export const PD_CFLAGS: readonly string[] = [
  '-std=gnu11', '-O2', '-g', '-ffreestanding', '-nostdlib', '-fno-pie', '-fno-stack-protector',
  '-mstrict-align', '-Wall', '-Wno-unused-function',
];

function headersUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(h|inc)$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The cache key: everything that can change the ELF. */
export function pdCacheKey(req: PdBuildRequest, opts: PdBuildOptions): string {
  const h = createHash('sha256');
  const sdk = realpathSync(opts.sdk);
  const versionFile = join(sdk, 'VERSION');
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : 'unknown';
  h.update(JSON.stringify([req.name, sdk, version, opts.board, opts.config, opts.cpu ?? '', opts.cross ?? '', PD_CFLAGS, req.cflags, req.include]));
  const lib = join(sdk, 'board', opts.board, opts.config, 'lib', 'libmicrokit.a');
  if (existsSync(lib)) h.update(readFileSync(lib));
  for (const f of [...req.sources, ...req.include.flatMap(headersUnder)]) h.update(f).update('\0').update(readFileSync(f)).update('\0');
  return `${version}-${opts.board}-${opts.config}-${req.name}-${h.digest('hex').slice(0, 16)}`;
}

function run(cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

function userError(req: PdBuildRequest, id: RuleId, message: string, hint: string): UserError {
  return new UserError(error(id, message, req.loc, { hint }));
}

/** What the build needs from the SDK and the machine, checked before anything runs. */
function checkInputs(req: PdBuildRequest, opts: PdBuildOptions, cross: string): string {
  const boardDir = join(opts.sdk, 'board', opts.board, opts.config);
  if (!existsSync(join(boardDir, 'lib', 'libmicrokit.a'))) {
    throw userError(req, 'pd-build-failed', `cannot build protection domain '${req.name}': the Microkit SDK at ${opts.sdk} has no board '${opts.board}' in configuration '${opts.config}'`,
      'build the SDK for that board, or choose another --config');
  }
  for (const s of req.sources) {
    if (!existsSync(s) || !statSync(s).isFile()) throw userError(req, 'pd-source-missing', `source of protection domain '${req.name}' not found: ${s}`, 'sources are relative to the systems.ts that names them');
  }
  if (spawnSync(`${cross}gcc`, ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw userError(req, 'pd-build-failed', `${cross}gcc not found: it builds protection domain '${req.name}' from its sources`,
      "install Debian's gcc-aarch64-linux-gnu and binutils-aarch64-linux-gnu");
  }
  return boardDir;
}

/** Compile and link one PD into `dir`; a compiler error is the user's, with the compiler's words. */
async function compileAndLink(req: PdBuildRequest, opts: PdBuildOptions, cross: string, boardDir: string, dir: string): Promise<string> {
  const gccInclude = spawnSync(`${cross}gcc`, ['-print-file-name=include'], { encoding: 'utf8' }).stdout.trim();
  const cflags = [...PD_CFLAGS, `-mcpu=${opts.cpu ?? 'cortex-a53'}`, '-nostdinc', '-isystem', gccInclude,
    ...req.include.map((d) => `-I${d}`), `-I${join(boardDir, 'include')}`, ...req.cflags];
  const objects: string[] = [];
  for (const [i, src] of req.sources.entries()) {
    const obj = join(dir, `${i}-${basename(src).replace(/\.[cS]$/, '')}.o`);
    const r = await run(`${cross}gcc`, [...cflags, '-c', src, '-o', obj]);
    if (r.code !== 0) throw userError(req, 'pd-build-failed', `protection domain '${req.name}' does not compile (${basename(src)}):\n${r.output.trim().split('\n').slice(0, 20).join('\n')}`, 'fix the source; the compiler\'s words are above');
    objects.push(obj);
  }
  const libgcc = spawnSync(`${cross}gcc`, ['-print-libgcc-file-name'], { encoding: 'utf8' }).stdout.trim();
  const elf = join(dir, `${req.name}.elf`);
  const r = await run(`${cross}ld`, [`-L${join(boardDir, 'lib')}`, ...objects, '-lmicrokit', '-Tmicrokit.ld', libgcc, '-o', elf]);
  if (r.code !== 0) throw userError(req, 'pd-build-failed', `protection domain '${req.name}' does not link:\n${r.output.trim().split('\n').slice(0, 20).join('\n')}`, 'a PD defines init() and notified() (and protected() if it is called); libmicrokit gives the rest');
  for (const o of objects) rmSync(o, { force: true });
  return elf;
}

/** Builds (or reuses) a user's PD; the ELF's path. */
export async function buildProtectionDomain(req: PdBuildRequest, opts: PdBuildOptions): Promise<PdBuild> {
  const cross = opts.cross ?? 'aarch64-linux-gnu-';
  const boardDir = checkInputs(req, opts, cross);
  const key = pdCacheKey(req, opts);
  const finalDir = join(opts.cacheDir, 'pds', key);
  const elf = join(finalDir, `${req.name}.elf`);
  if (existsSync(elf)) {
    opts.onProgress?.(`pd: reusing ${req.name} (${key})`);
    return { elf, cached: true, key };
  }
  opts.onProgress?.(`pd: building ${req.name} for ${opts.board} (${opts.config})`);
  mkdirSync(join(opts.cacheDir, 'pds'), { recursive: true });
  const tmp = `${finalDir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp);
  try {
    await compileAndLink(req, opts, cross, boardDir, tmp);
    try {
      renameSync(tmp, finalDir);
    } catch (e) {
      if (!existsSync(elf)) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { elf, cached: false, key };
}

/** Every source a PD built by sel4cp-synth names must be there, SDK or not: an error at its line. */
export function missingSources(model: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const pd of allProtectionDomains(model)) {
    for (const s of pd.programBuild?.sources ?? []) {
      if (!existsSync(s) || !statSync(s).isFile()) {
        out.push(error('pd-source-missing', `source of protection domain '${pd.name}' not found: ${s}`, pd.loc, { hint: 'sources are relative to the systems.ts that names them' }));
      }
    }
  }
  return out;
}

export interface UserPdsResult {
  artefacts: Artefact[];
  skipped: { step: string; reason: string }[];
}

/**
 * Build every PD given as sources for the model's board and configuration, then point the model
 * at the ELFs (their directory joins the Microkit tool's search path) and add each to the
 * outputs. Without an SDK each is a skipped step.
 */
export async function buildUserPds(model: SystemModel, opts: { sdk: string | undefined; config: string; cacheDir: string; progress: (line: string) => void }): Promise<UserPdsResult> {
  const out: UserPdsResult = { artefacts: [], skipped: [] };
  const pds = allProtectionDomains(model).filter((pd) => pd.programBuild);
  if (!pds.length) return out;
  const board = model.board;
  if (!opts.sdk || !board) {
    for (const pd of pds) out.skipped.push({ step: `build of protection domain '${pd.name}'`, reason: !board ? 'no board: pass --board' : 'MICROKIT_SDK is not set (its libmicrokit is what the PD links against)' });
    return out;
  }
  for (const pd of pds) {
    const b = pd.programBuild!;
    const built = await buildProtectionDomain(
      { name: pd.name, sources: b.sources, include: b.include, cflags: b.cflags, loc: pd.loc },
      { sdk: opts.sdk, board: board.microkitBoard, config: opts.config, cacheDir: opts.cacheDir, cpu: board.cpus.model, onProgress: opts.progress },
    );
    pd.programPath = built.elf;
    out.artefacts.push({ file: pd.programImage, kind: 'program-image', content: readFileSync(built.elf) });
  }
  return out;
}
