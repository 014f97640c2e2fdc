// The effects the pipeline needs, kept at the edge: reading board files and image facts, and
// writing outputs atomically (temp name, then rename) so a failed run leaves nothing half-written.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { open, rename, rm, mkdir, writeFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBoard, type Board } from '../compile/boards.js';
import type { ImageFacts } from '../compile/resolve/index.js';

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

/** arm64 Image header (Linux Documentation/arch/arm64/booting.rst): magic "ARM\x64" at 56. */
const ARM64_MAGIC = 0x644d5241;

export async function imageFacts(file: string): Promise<ImageFacts | undefined> {
  let size: bigint;
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    size = BigInt(st.size);
  } catch {
    return undefined;
  }
  const fh = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    const { bytesRead } = await fh.read(header, 0, 64, 0);
    if (bytesRead === 64 && header.readUInt32LE(56) === ARM64_MAGIC) {
      return { size, linux: { textOffset: header.readBigUInt64LE(8), imageSize: header.readBigUInt64LE(16) } };
    }
    return { size };
  } finally {
    await fh.close();
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
