// The effects the pipeline needs, kept at the edge: reading board files and image facts, and
// writing outputs atomically (temp name, then rename) so a failed run leaves nothing half-written.
import { readFileSync, readdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { readFile, rename, rm, mkdir, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBoard, type Board } from '../compile/boards.js';
import type { ImageFacts } from '../compile/resolve/index.js';
import { LinuxImageError, readLinuxImage } from '../compile/guest/linux-image.js';

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
  let bytes: Uint8Array;
  try {
    if (!(await stat(file)).isFile()) return undefined;
    bytes = new Uint8Array(await readFile(file));
  } catch {
    return undefined;
  }
  if (kind === 'initrd') return { size: BigInt(bytes.length) };
  try {
    const image = readLinuxImage(bytes);
    return { size: image.fileSize, linux: { textOffset: image.textOffset, imageSize: image.imageSize } };
  } catch (e) {
    if (e instanceof LinuxImageError) return { size: BigInt(bytes.length), problem: e.message };
    throw e;
  }
}

/** Write files into `dir` atomically: each to a temp name first, then all renamed. */
export async function writeOutputs(dir: string, files: ReadonlyMap<string, string | Uint8Array>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temps: [string, string][] = [];
  try {
    for (const [name, content] of files) {
      const final = path.join(dir, name);
      const temp = `${final}.tmp-${process.pid}`;
      await writeFile(temp, content);
      temps.push([temp, final]);
    }
    for (const [temp, final] of temps) await rename(temp, final);
  } catch (e) {
    await Promise.all(temps.map(([t]) => rm(t, { force: true })));
    throw e;
  }
}

/**
 * QEMU's own device tree for a QEMU board (`-machine ...,dumpdtb=FILE`): what the guest would see
 * if QEMU booted it directly. A string says why it could not be had.
 */
export function dumpQemuDtb(board: Board): Uint8Array | string {
  if (!board.qemu) return `board '${board.name}' is not a QEMU machine`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-dtb-'));
  try {
    const out = path.join(dir, 'board.dtb');
    const r = spawnSync('qemu-system-aarch64', ['-machine', `${board.qemu.machine},dumpdtb=${out}`, '-cpu', board.qemu.cpu, '-m', board.qemu.memory,
      '-smp', String(board.cpus.count), '-nographic', '-nodefaults'], { encoding: 'utf8', timeout: 30_000 });
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
