// The tiny invalid inputs of test/fixtures/invalid/: one systems.ts (or .system) per diagnostic,
// in a folder named after what reports it (src/compile/validate/<family>.ts → <family>/, another
// stage by its name: load/, resolve/, parse/, emit/, link/, dsl/), named after its id
// (`<id>.ts`, or `<id>-<variant>.ts` when an id has several). A comment `error[id]` (or
// `warning[id]`) marks the line the problem must be reported at. The files directly in
// test/fixtures/invalid/ (stub-Image, tiny-program.elf, not-an-image.txt) are inputs the
// fixtures name.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fixtures } from '../../helpers.js';

export const invalidDir = path.join(fixtures, 'invalid');

export interface InvalidFixture {
  /** Absolute path. */
  file: string;
  /** Relative to test/fixtures/invalid/, with `/` (`maps/map-overlap.ts`). */
  name: string;
  /** The folder it sits in (`maps`), or '' when it sits loose in test/fixtures/invalid/. */
  family: string;
  kind: 'ts' | 'system';
  severity: 'error' | 'warning';
  id: string;
  /** The line of the marker, from 1. */
  line: number;
}

function marker(file: string): Pick<InvalidFixture, 'severity' | 'id' | 'line'> {
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /(error|warning)\[([a-z0-9.-]+)\]/.exec(lines[i]!);
    if (m) return { severity: m[1] as 'error' | 'warning', id: m[2]!, line: i + 1 };
  }
  throw new Error(`${file} has no error[id] marker`);
}

/** Every .ts and .system file under test/fixtures/invalid/, sorted by name. */
export function invalidFixtures(): InvalidFixture[] {
  return readdirSync(invalidDir, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => /\.(ts|system)$/.test(f))
    .sort()
    .map((name) => {
      const file = path.join(invalidDir, name);
      const family = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : '';
      return { file, name, family, kind: name.endsWith('.ts') ? 'ts' : 'system', ...marker(file) };
    });
}

/**
 * The folder a fixture for a diagnostic reported in `source` (`src/compile/validate/maps.ts`)
 * sits in: the validator family for validate/, else the stage (the first folder under src/compile/,
 * or under src/).
 */
export function familyOf(source: string): string {
  const rel = source.replace(/^src\//, '').replace(/^compile\//, '');
  if (rel.startsWith('validate/')) return path.basename(rel, '.ts');
  return rel.split('/')[0]!.replace(/\.ts$/, '');
}
