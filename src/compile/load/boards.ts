// The board files: boards/*.json read once per process and parsed (src/compile/boards.ts), and
// the board a command works for picked by name (--board, or the systems.ts's own). A project's
// own boards (`sel4cp-synth board add` writes them into a boards/ folder beside its systems.ts)
// come after the shipped ones; one of the same name replaces the shipped board.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { findBoard, parseBoard, type Board } from '../boards.js';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import { packageRoot } from '../package.js';

let boardCache: Board[] | undefined;
const projectCache = new Map<string, Board[]>();

/** The shipped boards; with `projectDir`, also the project's boards/*.json (a project board replaces a shipped one of its name). */
export function loadBoards(projectDir?: string): Board[] {
  if (!boardCache) boardCache = readBoardDir(path.join(packageRoot(), 'boards'), 'boards');
  if (projectDir === undefined) return boardCache;
  const dir = path.resolve(projectDir, 'boards');
  if (dir === path.join(packageRoot(), 'boards') || !existsSync(dir)) return boardCache;
  let own = projectCache.get(dir);
  if (!own) {
    own = readBoardDir(dir, dir);
    projectCache.set(dir, own);
  }
  const names = new Set(own.map((b) => b.name));
  return [...boardCache.filter((b) => !names.has(b.name)), ...own];
}

/** Every *.json of a directory, parsed; `shown` is how the files are named in messages. */
function readBoardDir(dir: string, shown: string): Board[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseBoard(JSON.parse(readFileSync(path.join(dir, f), 'utf8')), path.join(shown, f)));
}

/** The board named on the command line or in the systems.ts; `projectDir`: the systems.ts's folder, whose boards/ is searched too. */
export function pickBoard(requested: string | undefined, declared: string | undefined, loc: Diagnostic['location'], projectDir?: string): Board | undefined {
  const name = requested ?? declared;
  if (name === undefined) return undefined;
  const boards = loadBoards(projectDir);
  const board = findBoard(boards, name);
  if (!board) {
    const guess = nearestBoardName(boards, name);
    throw new UserError(error('unknown-board', `unknown board '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, requested ? undefined : propertyLocation(loc, 'board'), {
      // With a guess, one short line; without, the names (a user who typed something else entirely).
      hint: guess
        ? `'sel4cp-synth boards' lists the ${boards.length} known boards with their aliases; for another: sel4cp-synth board add <name> --dtb FILE`
        : `known boards: ${boards.map((b) => b.name).join(', ')}; for another: sel4cp-synth board add <name> --dtb FILE`,
    }));
  }
  return board;
}

/** The board name or alias closest to a mistyped one, when one is close enough to be a typo. */
function nearestBoardName(boards: readonly Board[], name: string): string | undefined {
  const want = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const b of boards) {
    for (const n of [b.name, ...b.aliases]) {
      const d = editDistance(want, n.toLowerCase());
      if (!best || d < best.distance) best = { name: b.name, distance: d };
    }
  }
  return best && best.distance <= Math.max(2, Math.floor(want.length / 4)) ? best.name : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length]!;
}

/**
 * Where `key:` stands in the call at `loc` (the DSL records where a constructor was called, not
 * each property): the first `key:` after the call in the user's file, or the call itself.
 */
function propertyLocation(loc: Diagnostic['location'], key: string): Diagnostic['location'] {
  if (!loc) return loc;
  let text: string;
  try {
    text = readFileSync(loc.file, 'utf8');
  } catch {
    return loc;
  }
  const lines = text.split('\n');
  const pattern = new RegExp(`\\b${key}\\s*:`);
  for (let i = loc.line - 1; i < Math.min(lines.length, loc.line + 40); i++) {
    const from = i === loc.line - 1 ? Math.max(0, loc.column - 1) : 0;
    const m = pattern.exec(lines[i]!.slice(from));
    if (m) return { file: loc.file, line: i + 1, column: from + m.index + 1 };
  }
  return loc;
}
