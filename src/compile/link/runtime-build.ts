/**
 * Builds the C VMM runtime (src/vmm-runtime) for one board, configuration and GIC flavour,
 * once: the ELF is cached under a key of (board, config, GIC version, SDK path and version,
 * hash of the runtime sources) and reused by every system on that board. The link step then
 * writes each VM's config blob and images into a copy; no C compiler runs per system.
 *
 * Effects: runs `make` and writes only below cacheDir, building into a temporary directory
 * that is renamed into place, so an interrupted build leaves no half-written cache entry.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { error, UserError, type RuleId } from '../diagnostics/index.js';
import { removeAtExit } from '../../cleanup.js';

export interface BuildRuntimeOptions {
  /** Microkit 2.0.1 SDK directory (usually `$MICROKIT_SDK`); undefined if not set. */
  sdk: string | undefined;
  /** Microkit board name, e.g. `qemu_virt_aarch64`. */
  board: string;
  /** Microkit configuration. */
  config: 'debug' | 'release' | 'benchmark' | 'smp-debug' | 'smp-release';
  gicVersion: 2 | 3;
  /** Which program of the runtime: the VMM, or the timer PD (GIC-independent). @default 'vmm' */
  program?: 'vmm' | 'timer';
  /** Cache root; the runtime goes to `<cacheDir>/vmm-runtime/<key>/<program>.elf`. */
  cacheDir: string;
  /** Receives one line per step (e.g. for `--quiet`-aware progress output). @default none */
  onProgress?: (line: string) => void;
  /** Cross-compiler prefix. @default 'aarch64-linux-gnu-' */
  cross?: string;
  /** Runtime sources (for tests). @default this package's src/vmm-runtime */
  runtimeDir?: string;
}

export interface RuntimeBuild {
  /** Path of the cached runtime ELF (zero-filled `.vmm_config` section). */
  elf: string;
  /** Whether the ELF came from the cache. */
  cached: boolean;
  /** The cache key (directory name). */
  key: string;
}

/** src/vmm-runtime of this package, from dist/src/compile/link or src/compile/link. */
export function defaultRuntimeDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../../../../src/vmm-runtime', '../../vmm-runtime']) {
    const dir = resolve(here, up);
    if (existsSync(join(dir, 'Makefile')) && existsSync(join(dir, 'vmm.c'))) return dir;
  }
  throw new Error(`runtime-build: cannot find src/vmm-runtime from ${here}`);
}

function fail(id: RuleId, message: string, hint: string): never {
  throw new UserError(error(id, message, undefined, { hint }));
}

/** Every runtime source file (not build outputs), sorted, for the cache key. */
function runtimeSources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name === 'build' || entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(c|h|S)$|^Makefile$/.test(entry.name)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** The cache key: readable prefix plus a hash of everything that affects the ELF. */
export function runtimeCacheKey(opts: BuildRuntimeOptions & { sdk: string }, runtimeDir: string): string {
  const h = createHash('sha256');
  const sdkReal = realpathSync(opts.sdk);
  const versionFile = join(sdkReal, 'VERSION');
  const sdkVersion = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : 'unknown';
  const program = opts.program ?? 'vmm';
  h.update(JSON.stringify([program, opts.board, opts.config, program === 'vmm' ? opts.gicVersion : 0, sdkReal, sdkVersion, opts.cross ?? '']));
  // The SDK's library and headers for this board may be rebuilt in place.
  const lib = join(sdkReal, 'board', opts.board, opts.config, 'lib', 'libmicrokit.a');
  if (existsSync(lib)) {
    const st = statSync(lib);
    h.update(`${st.size}:${st.mtimeMs}`);
  }
  for (const file of runtimeSources(runtimeDir)) {
    h.update(relative(runtimeDir, file));
    h.update('\0');
    h.update(readFileSync(file));
    h.update('\0');
  }
  const flavour = program === 'vmm' ? `gicv${opts.gicVersion}` : program;
  // One runtime per release: each is built against that SDK's libmicrokit and headers.
  return `${sdkVersion}-${opts.board}-${opts.config}-${flavour}-${h.digest('hex').slice(0, 16)}`;
}

function haveCommand(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The cross compiler builds a freestanding file with its own headers alone (no C library's). */
function crossCompilerWorks(cross: string): boolean {
  const r = spawnSync(`${cross}gcc`, ['-ffreestanding', '-nostdinc', '-isystem', spawnSync(`${cross}gcc`, ['-print-file-name=include'], { encoding: 'utf8' }).stdout.trim(),
    '-x', 'c', '-c', '-o', '/dev/null', '-'], { input: '#include <stdint.h>\n#include <stddef.h>\nuint64_t f(size_t n) { return n; }\n', encoding: 'utf8' });
  return r.status === 0;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, output }));
  });
}

/** Builds (or reuses) the VMM runtime ELF for a board/config/GIC flavour. */
export async function buildRuntime(opts: BuildRuntimeOptions): Promise<RuntimeBuild> {
  const progress = opts.onProgress ?? (() => {});
  const cross = opts.cross ?? 'aarch64-linux-gnu-';
  const runtimeDir = opts.runtimeDir ?? defaultRuntimeDir();

  if (opts.sdk === undefined || opts.sdk === '') {
    fail('microkit-sdk-missing', 'MICROKIT_SDK is not set: the VMM runtime is built against a Microkit SDK (2.0.1 or 2.3.0)',
      'set MICROKIT_SDK to the SDK directory (the one with bin/microkit and board/)');
  }
  if (!existsSync(join(opts.sdk, 'board'))) {
    fail('microkit-sdk-missing', `MICROKIT_SDK=${opts.sdk} is not a Microkit SDK (no board/ directory)`,
      'set MICROKIT_SDK to the SDK directory (the one with bin/microkit and board/)');
  }
  const boardDir = join(opts.sdk, 'board', opts.board, opts.config);
  if (!existsSync(join(boardDir, 'lib', 'libmicrokit.a'))) {
    const boards = readdirSync(join(opts.sdk, 'board')).sort().join(', ');
    fail('microkit-sdk-board', `the Microkit SDK at ${opts.sdk} has no board '${opts.board}' in configuration '${opts.config}'`,
      `boards in this SDK: ${boards || 'none'}`);
  }
  if (!haveCommand(`${cross}gcc`)) {
    fail('cross-compiler-missing', `${cross}gcc not found: it builds the VMM runtime`,
      "install Debian's gcc-aarch64-linux-gnu and binutils-aarch64-linux-gnu (apt-get install gcc-aarch64-linux-gnu)");
  }
  if (!haveCommand(`${cross}ld`)) {
    fail('cross-compiler-missing', `${cross}ld not found: it links the VMM runtime`,
      "install Debian's binutils-aarch64-linux-gnu (apt-get install binutils-aarch64-linux-gnu)");
  }
  if (!crossCompilerWorks(cross)) {
    fail('cross-compiler-broken', `${cross}gcc cannot compile a freestanding C file (it needs only its own headers, stddef.h and stdint.h)`,
      "reinstall Debian's gcc-aarch64-linux-gnu (apt-get install --reinstall gcc-aarch64-linux-gnu)");
  }
  if (!haveCommand('make')) {
    fail('make-missing', 'make not found: it builds the VMM runtime', "install Debian's make");
  }

  const program = opts.program ?? 'vmm';
  const key = runtimeCacheKey({ ...opts, sdk: opts.sdk }, runtimeDir);
  const finalDir = join(opts.cacheDir, 'vmm-runtime', key);
  const elf = join(finalDir, `${program}.elf`);
  const what = program === 'vmm' ? `the VMM for ${opts.board} (${opts.config}, GICv${opts.gicVersion})` : `the timer PD for ${opts.board} (${opts.config})`;
  if (existsSync(elf)) {
    progress(`runtime: reusing ${key}`);
    return { elf, cached: true, key };
  }

  mkdirSync(join(opts.cacheDir, 'vmm-runtime'), { recursive: true });
  const tmpDir = `${finalDir}.tmp-${process.pid}-${Date.now()}`;
  const release = removeAtExit(tmpDir);
  progress(`runtime: building ${what}`);
  try {
    const r = await run('make', [
      '-s', '-C', runtimeDir, program,
      `MICROKIT_SDK=${resolve(opts.sdk)}`, `BOARD=${opts.board}`, `CONFIG=${opts.config}`,
      `GIC=v${opts.gicVersion}`, `BUILD_DIR=${tmpDir}`, `CROSS=${cross}`,
    ], runtimeDir);
    if (r.code !== 0 || !existsSync(join(tmpDir, `${program}.elf`))) {
      const tail = r.output.trim().split('\n').slice(-15).join('\n');
      throw new Error(`runtime-build: make ${program} failed for ${opts.board}/${opts.config}${program === 'vmm' ? `/GICv${opts.gicVersion}` : ''}:\n${tail}`);
    }
    rmSync(join(tmpDir, 'obj'), { recursive: true, force: true });
    try {
      renameSync(tmpDir, finalDir);
    } catch (e) {
      // Another build finished the same key first: theirs is as good as ours.
      if (!existsSync(elf)) throw e;
    }
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
    release();
  }
  progress(`runtime: built ${key}`);
  return { elf, cached: false, key };
}
