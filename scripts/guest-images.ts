/**
 * `npm run guest` in this repository: `sel4cp-synth guest` (src/cli/guest-images.ts) into the
 * repository's own `.cache/guest/`, which the tests and the examples' default paths read.
 */
import { realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { guestScriptMain } from '../src/cli/guest-images.js';

export * from '../src/cli/guest-images.js';

/** `<repo>/.cache/guest`, from this file's place in `dist/scripts/` or `scripts/`. */
export function repoGuestDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = here.split(/[\\/]/).includes('dist') ? resolve(here, '../..') : resolve(here, '..');
  return join(repo, '.cache', 'guest');
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) process.exitCode = await guestScriptMain(process.argv.slice(2), repoGuestDir());
