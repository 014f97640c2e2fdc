// This package as installed: where it is (boards/ and the guest cache beside it), where it keeps
// what it builds between runs, and its version (written into every .system and manifest).
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where boards/ lives), from dist/src/compile/ or src/compile/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'boards'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('sel4cp-synth: cannot find the package root (boards/)');
    dir = up;
  }
  return dir;
}

export const TOOL_VERSION: string = (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;

/** Where `npm run guest` puts Debian's board DTBs. */
export function guestCacheDir(): string {
  return path.join(packageRoot(), '.cache', 'guest');
}

/** Where built VMM runtimes are kept between runs ($XDG_CACHE_HOME or ~/.cache). */
export function runtimeCacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'sel4cp-synth');
}
