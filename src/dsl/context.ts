// CDK-style context: values given on the command line (`-c key=value`) and read in systems.ts with
// a default, so one description can be pointed at other guest images without editing it.
import path from 'node:path';
import { captureLocation, type SourceLocation } from './location.js';
import { DslError } from './errors.js';

interface ContextStore {
  values: ReadonlyMap<string, string>;
  /** Directory that command-line paths are relative to (the user's working directory). */
  cwd: string;
  /** Where guestImage() looks: the guest images `sel4cp-synth guest` fetched. */
  guestDir: string;
  read: Set<string>;
}

// One store per process: the loader sets it before it imports the user's module, which imports
// this very module instance (the loader resolves 'sel4cp-synth' to it).
let store: ContextStore = { values: new Map(), cwd: '', guestDir: '', read: new Set() };

/** Set by the loader before the user's file runs. Not for systems.ts. */
export function setContext(values: ReadonlyMap<string, string>, cwd: string, guestDir = ''): void {
  store = { values, cwd, guestDir, read: new Set() };
}

/** Records keys read where the user's file ran (the loader's worker thread). Not for systems.ts. */
export function markContextRead(keys: Iterable<string>): void {
  for (const k of keys) store.read.add(k);
}

/** Keys that the user's file asked for: the CLI warns about `-c` keys nobody read. */
export function contextKeysRead(): ReadonlySet<string> {
  return store.read;
}

/**
 * A value from the command line (`-c key=value`), or `defaultValue` when none was given.
 */
export function context(key: string, defaultValue: string): string {
  store.read.add(key);
  return store.values.get(key) ?? defaultValue;
}

/** A reference to a file on disk, resolved to an absolute path when it is made. */
export interface FileRef {
  readonly kind: 'file';
  /** Absolute path. */
  readonly path: string;
  /** The path as the user wrote it. */
  readonly given: string;
  readonly loc: SourceLocation | undefined;
}

function resolveFrom(base: string, p: string): string {
  return path.isAbsolute(p) ? path.normalize(p) : path.resolve(base, p);
}

/** A file path relative to the systems.ts that says it (not to the working directory). */
export function file(p: string): FileRef {
  const loc = captureLocation();
  const base = loc ? path.dirname(loc.file) : process.cwd();
  return { kind: 'file', path: resolveFrom(base, p), given: p, loc };
}

/**
 * A file of the test guest that `sel4cp-synth guest` fetches from Debian into the user's cache:
 * `'Image'` (the arm64 kernel), `'initramfs.cpio'` (busybox; /init prints
 * `SEL4CP-SYNTH: guest up`), `'initramfs-idle.cpio'`, `'busybox'`, `'dtbs/<board>.dtb'`.
 *
 * @example kernel: contextFile('kernel', guestImage('Image'))
 */
export function guestImage(name: string): FileRef {
  const loc = captureLocation();
  if (typeof name !== 'string' || name === '' || name.split(/[\\/]/).includes('..')) {
    throw new DslError('bad-argument', `guestImage(${JSON.stringify(name)}): a file of the guest cache, e.g. 'Image' or 'initramfs.cpio'`, undefined, loc);
  }
  if (!store.guestDir) throw new DslError('bad-argument', 'guestImage() works in a systems.ts that sel4cp-synth loads', undefined, loc);
  return { kind: 'file', path: path.join(store.guestDir, name), given: `guest cache: ${name}`, loc };
}

/**
 * A file named on the command line (`-c key=PATH`, relative to the working directory), or
 * `defaultPath` (relative to this systems.ts, or a `guestImage()`) when none was given.
 */
export function contextFile(key: string, defaultPath: string | FileRef): FileRef {
  const loc = captureLocation();
  store.read.add(key);
  const fromCli = store.values.get(key);
  if (fromCli === '') {
    throw new DslError('bad-argument', `-c ${key}= is empty: contextFile('${key}') needs a path`, `give -c ${key}=PATH, or leave -c ${key} out for the default (${typeof defaultPath === 'string' ? defaultPath : defaultPath.given})`, loc);
  }
  if (fromCli !== undefined) {
    return { kind: 'file', path: resolveFrom(store.cwd || process.cwd(), fromCli), given: fromCli, loc };
  }
  if (typeof defaultPath !== 'string') return { ...defaultPath, loc };
  const base = loc ? path.dirname(loc.file) : process.cwd();
  return { kind: 'file', path: resolveFrom(base, defaultPath), given: defaultPath, loc };
}

/** Turn a string or FileRef option into a FileRef; strings are relative to the construct's file. */
export function toFileRef(p: string | FileRef, loc: SourceLocation | undefined): FileRef {
  if (typeof p !== 'string') return p;
  const base = loc ? path.dirname(loc.file) : process.cwd();
  return { kind: 'file', path: resolveFrom(base, p), given: p, loc };
}

/** A file named on the command line (`-c key=PATH`), or undefined when none was given. */
export function optionalContextFile(key: string): FileRef | undefined {
  const loc = captureLocation();
  store.read.add(key);
  const fromCli = store.values.get(key);
  if (fromCli === undefined || fromCli === '') return undefined;
  return { kind: 'file', path: resolveFrom(store.cwd || process.cwd(), fromCli), given: fromCli, loc };
}
