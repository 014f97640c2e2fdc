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

/** Where `sel4cp-synth guest` puts the guest images by default: the user's cache. */
export function userGuestDir(): string {
  return path.join(runtimeCacheDir(), 'guest');
}

/**
 * The guest images synthesis reads when a systems.ts names none of its own (initramfs modules,
 * board DTBs, guestImage()): the user's cache that `sel4cp-synth guest` fills, or else a checkout
 * of this repository's `.cache/guest` (`npm run guest`); the user's when neither has them yet.
 */
export function guestCacheDir(): string {
  const user = userGuestDir();
  if (existsSync(path.join(user, 'manifest.json'))) return user;
  const checkout = path.join(packageRoot(), '.cache', 'guest');
  return existsSync(path.join(checkout, 'manifest.json')) ? checkout : user;
}

/** Where built VMM runtimes are kept between runs ($XDG_CACHE_HOME or ~/.cache). */
export function runtimeCacheDir(): string {
  const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
  return path.join(base, 'sel4cp-synth');
}
