// Reads the facts a C header of the runtime pins: `#define NAME <integer>` (or NAME defined as
// another such name, also one from a header it includes), and
// `_Static_assert(offsetof(struct S, field) == N, ...)` / `_Static_assert(sizeof(struct S) == N, ...)`.
// Tests compare them with the TypeScript side, so that a layout shared by both is checked by
// reading both (one fact, one source), not by copying numbers into a test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './helpers.js';

export interface CHeaderFacts {
  /** Object-like `#define`s whose value is an integer (or `(1u << n)`). */
  defines: Map<string, number>;
  /** Every object-like `#define` with its value as written on its line, comment dropped (`".vmm_config"`, `vmm_config_blob`). */
  text: Map<string, string>;
  /** `struct S` → field → offset. */
  offsets: Map<string, Map<string, number>>;
  sizes: Map<string, number>;
}

function cInteger(text: string): number | undefined {
  const m = /^\(?\s*(0x[0-9a-fA-F]+|\d+)[uUlL]*\s*\)?$/.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** `#define NAME <integer>`, and `#define NAME OTHER` where OTHER is one of those here or in a
 * header this one includes (`#include "x.h"`, from the same directory): a limit defined once. */
function readDefines(file: string, seen: Set<string>): Map<string, number> {
  const defines = new Map<string, number>();
  if (seen.has(file)) return defines;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^#include "([\w.]+)"/gm)) {
    for (const [name, v] of readDefines(path.join(path.dirname(file), m[1]!), seen)) defines.set(name, v);
  }
  for (const m of text.matchAll(/^#define\s+([A-Z0-9_]+)\s+([^\n/]+)/gm)) {
    const value = m[2]!.trim();
    const v = cInteger(value) ?? defines.get(value);
    if (v !== undefined) defines.set(m[1]!, v);
  }
  return defines;
}

export function readCHeader(relative: string): CHeaderFacts {
  const file = path.join(repoRoot, relative);
  const text = readFileSync(file, 'utf8');
  const defines = readDefines(file, new Set());
  // (1u << n) flags
  for (const m of text.matchAll(/^#define\s+([A-Z0-9_]+)\s+\(1u << (\d+)\)/gm)) defines.set(m[1]!, 2 ** Number(m[2]));
  const written = new Map<string, string>();
  for (const m of text.matchAll(/^#define\s+([A-Za-z0-9_]+)[ \t]+([^\n]*)/gm)) written.set(m[1]!, m[2]!.replace(/\/\*.*$/, '').trim());
  const offsets = new Map<string, Map<string, number>>();
  for (const m of text.matchAll(/_Static_assert\(offsetof\(struct (\w+), (\w+)\) == (0x[0-9a-fA-F]+|\d+)/g)) {
    let fields = offsets.get(m[1]!);
    if (!fields) offsets.set(m[1]!, (fields = new Map()));
    fields.set(m[2]!, Number(m[3]));
  }
  const sizes = new Map<string, number>();
  for (const m of text.matchAll(/_Static_assert\(sizeof\(struct (\w+)\) == (0x[0-9a-fA-F]+|\d+)/g)) sizes.set(m[1]!, Number(m[2]));
  return { defines, text: written, offsets, sizes };
}

/** camelCase → snake_case, as the TypeScript offset tables name the C fields. */
export function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
