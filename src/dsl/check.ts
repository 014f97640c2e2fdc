// Checks at the call for what types cannot catch: a systems.ts may be plain JavaScript, cast its
// way past the checker, or compute a NaN. A constructor that gets a value of the wrong kind
// throws a `bad-argument` DslError at the user's line rather than letting it end, later and far
// away, as an internal error (a string where a bigint size is expected, say). Ranges and
// relations between values stay with validation, which reports them all at once.
import { DslError } from './errors.js';
import type { SourceLocation } from './location.js';
import type { FileRef } from './context.js';

type Loc = SourceLocation | undefined;

function shown(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  return 'an object';
}

function bad(what: string, message: string, hint: string | undefined, loc: Loc): never {
  throw new DslError('bad-argument', `${what}: ${message}`, hint, loc);
}

/** A Size or Address (a bigint from bytes()/kib()/mib()/gib()/addr()), or undefined when optional. */
export function checkBigint(what: string, v: unknown, loc: Loc, optional: boolean, maker: string): void {
  if (v === undefined && optional) return;
  if (typeof v === 'bigint') return;
  const hint = typeof v === 'number' ? `write ${maker}(${v})` : typeof v === 'string' ? `write ${maker}(...) with a number, e.g. ${maker === 'addr' ? "addr(0x4000_0000)" : 'mib(256)'}` : undefined;
  bad(what, `${v === undefined ? 'is missing' : `must be made with ${maker}(), not ${shown(v)}`}`, hint, loc);
}

/** A finite number; `integer` also requires a whole one. */
export function checkNumber(what: string, v: unknown, loc: Loc, opts: { optional?: boolean; integer?: boolean; min?: number; max?: number } = {}): void {
  if (v === undefined && opts.optional) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what, `must be a number, not ${shown(v)}`, undefined, loc);
  if (opts.integer && !Number.isInteger(v)) bad(what, `must be a whole number, not ${v}`, undefined, loc);
  if ((opts.min !== undefined && v < opts.min) || (opts.max !== undefined && v > opts.max)) {
    bad(what, `must be between ${opts.min ?? '-inf'} and ${opts.max ?? 'inf'}, not ${v}`, undefined, loc);
  }
}

export function checkBoolean(what: string, v: unknown, loc: Loc, optional = true): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'boolean') bad(what, `must be true or false, not ${shown(v)}`, undefined, loc);
}

/** A string; `nul` false forbids NUL characters (they end C strings and XML cannot hold them). */
export function checkString(what: string, v: unknown, loc: Loc, opts: { optional?: boolean; nonEmpty?: boolean } = {}): void {
  if (v === undefined && opts.optional) return;
  if (typeof v !== 'string') bad(what, `must be a string, not ${shown(v)}`, undefined, loc);
  if (opts.nonEmpty && v === '') bad(what, 'must not be empty', undefined, loc);
  if (v.includes('\0')) bad(what, 'contains a NUL character', undefined, loc);
}

/** A path string or a FileRef (file(), contextFile()). */
export function checkFile(what: string, v: unknown, loc: Loc, optional: boolean): void {
  if (v === undefined && optional) return;
  if (typeof v === 'string') {
    if (v === '') bad(what, 'is an empty path', 'give the file, or leave the option out', loc);
    if (v.includes('\0')) bad(what, 'contains a NUL character', undefined, loc);
    return;
  }
  if (typeof v === 'object' && v !== null && (v as FileRef).kind === 'file' && typeof (v as FileRef).path === 'string') return;
  bad(what, `${v === undefined ? 'is missing' : `must be a path or file(...), not ${shown(v)}`}`, undefined, loc);
}

export function checkOneOf<T extends string>(what: string, v: unknown, allowed: readonly T[], loc: Loc, optional = true): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    bad(what, `must be ${allowed.map((a) => `'${a}'`).join(' or ')}, not ${shown(v)}`, undefined, loc);
  }
}

/** An array whose elements are constructs of `kind` (as made by the named constructor). */
export function checkConstructs(what: string, v: unknown, kinds: readonly string[], maker: string, loc: Loc): void {
  if (v === undefined) return;
  if (!Array.isArray(v)) bad(what, `must be an array, not ${shown(v)}`, undefined, loc);
  v.forEach((x: unknown, i) => {
    const kind = typeof x === 'object' && x !== null ? (x as { kind?: unknown }).kind : undefined;
    if (typeof kind !== 'string' || !kinds.includes(kind)) bad(`${what}[${i}]`, `must be made with ${maker}, not ${shown(x)}`, undefined, loc);
  });
}

/** The options argument is an object (or absent when allowed). */
export function checkOptions(what: string, v: unknown, loc: Loc, optional: boolean): void {
  if (v === undefined && optional) return;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, `takes an options object, not ${shown(v)}`, undefined, loc);
}
