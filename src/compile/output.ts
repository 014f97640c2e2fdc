// The output directory: checked before anything is built, written all at once or not at all.
//
// Everything is written to a staging directory on the same file system as the outputs will be
// (inside `--out` when it exists, so a mount point works; beside it when it does not). Then:
//   - a new `--out` is the staging directory renamed into place: one atomic rename;
//   - an existing one gets each file swapped in by rename, the files it replaces set aside, and
//     if any rename fails the new files are taken out again and the old ones put back.
// The manifest goes last and lists the set. A staging directory the process leaves behind when
// it ends or is interrupted is removed (src/cleanup.ts).
import { constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { error, UserError } from './diagnostics/index.js';
import { removeAtExit } from '../cleanup.js';

export interface Output {
  dir: string;
  /** Where to write every file of the set. */
  staging: string;
  /** Moves the staged `names` into `dir` (manifest.json last) and removes what the old manifest listed that this set lacks. */
  commit(names: readonly string[]): Promise<void>;
  /** Removes the staging directory (after an error, or after commit). */
  discard(): Promise<void>;
}

const EXPLAIN: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'not permitted',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  ENOENT: 'a part of the path does not exist',
  ENOSPC: 'no space left on the device',
  EEXIST: 'it exists and is not a directory',
};

function unusable(dir: string, why: string): UserError {
  return new UserError(error('out-unusable', `cannot write the outputs to ${dir}: ${why}`, undefined, {
    hint: 'give --out a directory you can write (it is created if missing)',
  }));
}

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return EXPLAIN[code] ?? (e instanceof Error ? e.message : String(e));
}

async function existingKind(p: string): Promise<'dir' | 'other' | 'none'> {
  try {
    return (await stat(p)).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw unusable(p, reason(e));
  }
}

/**
 * Before the work: a single output file (graph -o, import -o) can be written at `file` — not a
 * directory, its directory creatable and writable. A UserError naming the problem otherwise.
 */
export async function checkOutputFile(file: string): Promise<void> {
  const abs = path.resolve(file);
  if ((await existingKind(abs)) === 'dir') {
    throw new UserError(error('out-unusable', `cannot write ${file}: it is a directory`, undefined, { hint: 'give -o the name of a file' }));
  }
  let dir = path.dirname(abs);
  while ((await existingKind(dir)) === 'none') dir = path.dirname(dir);
  if ((await existingKind(dir)) !== 'dir') throw new UserError(error('out-unusable', `cannot write ${file}: ${dir} is a file, not a directory`, undefined));
  try {
    await access(dir, constants.W_OK);
  } catch (e) {
    throw new UserError(error('out-unusable', `cannot write ${file}: ${reason(e)} (${dir})`, undefined));
  }
}

/** Checks `dir` and makes the staging directory; a UserError when the outputs cannot go there. */
export async function openOutput(dir: string): Promise<Output> {
  const kind = await existingKind(dir);
  if (kind === 'other') throw unusable(dir, 'it is a file, not a directory');
  let staging: string;
  try {
    if (kind === 'dir') {
      await access(dir, constants.W_OK);
      staging = await mkdtemp(path.join(dir, '.sel4cp-synth.tmp-'));
    } else {
      await mkdir(path.dirname(dir), { recursive: true });
      staging = await mkdtemp(path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-`));
    }
  } catch (e) {
    throw unusable(dir, reason(e));
  }
  const release = removeAtExit(staging);
  const discard = async (): Promise<void> => {
    await rm(staging, { recursive: true, force: true });
    release();
  };
  return {
    dir,
    staging,
    discard,
    commit: async (names) => {
      if (kind === 'none') await commitNew(staging, dir);
      else await commitInto(staging, dir, names);
      await discard();
    },
  };
}

/** A directory that did not exist: the staging directory becomes it, in one rename. */
async function commitNew(staging: string, dir: string): Promise<void> {
  // mkdtemp made it 0700; an output directory is an ordinary one (the umask still applies).
  await chmod(staging, 0o755 & ~process.umask());
  try {
    await rename(staging, dir);
  } catch (e) {
    throw unusable(dir, reason(e));
  }
}

/** Files an earlier run's manifest listed (plain names only: never a path out of `dir`). */
async function previousSet(dir: string): Promise<string[]> {
  try {
    const old = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { artefacts?: { file?: unknown }[] };
    return (old.artefacts ?? []).map((a) => a.file).filter((f): f is string => typeof f === 'string' && path.basename(f) === f && f !== '..' && f !== '.');
  } catch {
    return [];
  }
}

/** An existing directory: swap the files in one by one; on a failure, undo what was done. */
async function commitInto(staging: string, dir: string, names: readonly string[]): Promise<void> {
  const aside = path.join(staging, '.previous');
  await mkdir(aside);
  const stale = (await previousSet(dir)).filter((f) => !names.includes(f));
  // The manifest first out and last in: while the set changes, no manifest vouches for it.
  const order = [...names.filter((n) => n !== 'manifest.json'), ...(names.includes('manifest.json') ? ['manifest.json'] : [])];
  const moved: string[] = [];
  const setAside: string[] = [];
  try {
    for (const f of ['manifest.json', ...order.filter((n) => n !== 'manifest.json'), ...stale]) {
      if (setAside.includes(f)) continue;
      if ((await existingKind(path.join(dir, f))) !== 'none') {
        await rename(path.join(dir, f), path.join(aside, f));
        setAside.push(f);
      }
    }
    for (const f of order) {
      await rename(path.join(staging, f), path.join(dir, f));
      moved.push(f);
    }
  } catch (e) {
    for (const f of moved.reverse()) await rename(path.join(dir, f), path.join(staging, f)).catch(() => undefined);
    for (const f of setAside) await rename(path.join(aside, f), path.join(dir, f)).catch(() => undefined);
    throw unusable(dir, reason(e));
  }
}
