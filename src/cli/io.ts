// The effects the pipeline needs, kept at the edge: reading board files and image facts, and
// writing outputs atomically (temp name, then rename) so a failed run leaves nothing half-written.
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBoard, type Board } from '../compile/boards.js';
import type { ImageFacts } from '../compile/resolve/index.js';
import type { KernelFacts } from '../compile/model/index.js';
import { LinuxImageError, readLinuxImage, type LinuxImage } from '../compile/guest/linux-image.js';
import { error, UserError } from '../compile/diagnostics/index.js';
import { DEFAULT_MICROKIT_RELEASE, MICROKIT_RELEASE_NAMES, type MicrokitRelease } from '../compile/model/facts.js';
import { isMicrokitRelease } from '../compile/model/target.js';

/** The package root (where boards/ lives), from dist/src/cli/ or src/cli/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'boards'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('sel4cp-synth: cannot find the package root (boards/)');
    dir = up;
  }
  return dir;
}

let boardCache: Board[] | undefined;
export function loadBoards(): Board[] {
  if (!boardCache) {
    const dir = path.join(packageRoot(), 'boards');
    boardCache = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => parseBoard(JSON.parse(readFileSync(path.join(dir, f), 'utf8')), path.join('boards', f)));
  }
  return boardCache;
}

/** Facts about a guest image file; undefined when it does not exist. */
export async function imageFacts(file: string, kind: 'kernel' | 'initrd'): Promise<ImageFacts | undefined> {
  let size: bigint;
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    size = BigInt(st.size);
  } catch {
    return undefined;
  }
  if (kind === 'initrd') return { size };
  try {
    const image = await loadKernel(file);
    return { size: image.fileSize, linux: { textOffset: image.textOffset, imageSize: image.imageSize } };
  } catch (e) {
    if (e instanceof LinuxImageError) return { size, problem: e.message };
    throw e;
  }
}

const kernels = new Map<string, { stamp: string; image: Promise<LinuxImage> }>();

/**
 * The arm64 kernel at `file`, unpacked when it is compressed. Read once per run: the model
 * stage needs its header and the link step its bytes (a distribution kernel is some 30 MB).
 */
export async function loadKernel(file: string): Promise<LinuxImage> {
  const st = await stat(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  let entry = kernels.get(file);
  if (!entry || entry.stamp !== stamp) {
    entry = { stamp, image: readFile(file).then((b) => readLinuxImage(new Uint8Array(b))) };
    kernels.set(file, entry);
  }
  return entry.image;
}

/**
 * QEMU's own device tree for a QEMU board (`-machine ...,dumpdtb=FILE`): what the guest would see
 * if QEMU booted it directly, with `cpus` CPU nodes (as many as the guest has vCPUs). A string
 * says why it could not be had.
 */
export function dumpQemuDtb(board: Board, cpus: number): Uint8Array | string {
  if (!board.qemu) return `board '${board.name}' is not a QEMU machine`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-dtb-'));
  try {
    const out = path.join(dir, 'board.dtb');
    const r = spawnSync('qemu-system-aarch64', ['-machine', `${board.qemu.machine},dumpdtb=${out}`, '-cpu', board.qemu.cpu, '-m', board.qemu.memory,
      '-smp', String(cpus), '-nographic', '-nodefaults'], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) return 'qemu-system-aarch64 is not installed (Debian package qemu-system-arm)';
    if (!existsSync(out)) return `qemu-system-aarch64 did not dump its device tree: ${(r.stderr || '').trim().split('\n')[0]}`;
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where `npm run guest` puts Debian's board DTBs. */
export function guestCacheDir(): string {
  return path.join(packageRoot(), '.cache', 'guest');
}

/** Where built VMM runtimes are kept between runs ($XDG_CACHE_HOME or ~/.cache). */
export function runtimeCacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'sel4cp-synth');
}

/** What the SDK's seL4 kernel for a board allows (its include/kernel/gen_config.json), if readable. */
export function kernelConfig(sdk: string | undefined, microkitBoard: string, config: string): KernelFacts | undefined {
  if (!sdk) return undefined;
  const file = path.join(sdk, 'board', microkitBoard, config, 'include', 'kernel', 'gen_config.json');
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const num = (key: string): number | undefined => (typeof json[key] === 'number' ? json[key] as number : typeof json[key] === 'string' && /^\d+$/.test(json[key] as string) ? Number(json[key]) : undefined);
    return {
      allowSmc: json['ALLOW_SMC_CALLS'] === true,
      exportPtimer: json['EXPORT_PTMR_USER'] === true,
      vtimerUpdateVoffset: json['VTIMER_UPDATE_VOFFSET'] === true,
      // Microkit 2.3.0 main.rs: num_cores is MAX_NUM_NODES when ENABLE_SMP_SUPPORT, else 1.
      numCores: json['ENABLE_SMP_SUPPORT'] === true ? num('MAX_NUM_NODES') : 1,
      numDomains: num('NUM_DOMAINS'),
      numDomainSchedules: num('NUM_DOMAIN_SCHEDULES'),
      source: file,
    };
  } catch {
    return undefined;
  }
}

/** An SDK's release, from its VERSION file (undefined when the file is missing). */
export function sdkVersion(sdk: string): string | undefined {
  try {
    return readFileSync(path.join(sdk, 'VERSION'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The Microkit release a command works for: the SDK's VERSION when there is an SDK (which
 * --microkit may confirm but not contradict), else --microkit, else 2.0.1.
 */
export function microkitRelease(sdk: string | undefined, requested: MicrokitRelease | undefined): MicrokitRelease {
  const version = sdk && existsSync(path.join(sdk, 'bin', 'microkit')) ? sdkVersion(sdk) : undefined;
  if (version === undefined) return requested ?? DEFAULT_MICROKIT_RELEASE;
  if (!isMicrokitRelease(version)) {
    throw new UserError(error('microkit-release-unsupported', `the Microkit SDK at ${sdk} is release ${version}; sel4cp-synth builds for ${MICROKIT_RELEASE_NAMES.join(' and ')}`, undefined, {
      hint: `use an SDK of ${MICROKIT_RELEASE_NAMES.join(' or ')} (MICROKIT_SDK or --sdk)`,
    }));
  }
  if (requested !== undefined && requested !== version) {
    throw new UserError(error('microkit-release-mismatch', `--microkit ${requested} was given, but the Microkit SDK at ${sdk} is release ${version}`, undefined, {
      hint: `leave --microkit out (the SDK decides), or point MICROKIT_SDK / --sdk at a ${requested} SDK`,
    }));
  }
  return version;
}
