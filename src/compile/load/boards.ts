// The board files: boards/*.json read once per process and parsed (src/compile/boards.ts), and
// the board a command works for picked by name (--board, or the systems.ts's own).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { findBoard, parseBoard, type Board } from '../boards.js';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import { packageRoot } from '../package.js';

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

export function pickBoard(requested: string | undefined, declared: string | undefined, loc: Diagnostic['location']): Board | undefined {
  const name = requested ?? declared;
  if (name === undefined) return undefined;
  const boards = loadBoards();
  const board = findBoard(boards, name);
  if (!board) {
    throw new UserError(error('unknown-board', `unknown board '${name}'`, requested ? undefined : loc, {
      hint: `known boards: ${boards.map((b) => [b.name, ...b.aliases].join(' / ')).join('; ')}`,
    }));
  }
  return board;
}
