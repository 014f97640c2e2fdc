// The resolved model of a systems.ts on a board, without errors: what the resolve and validate
// tests of one construct start from.
import * as assert from 'uvu/assert';
import path from 'node:path';
import { findBoard } from '../../src/compile/boards.js';
import { loadBoards } from '../../src/compile/load/boards.js';
import { loadSystem } from '../../src/compile/load/index.js';
import type { SystemModel } from '../../src/compile/model/index.js';
import { resolveSystem } from '../../src/compile/resolve/index.js';
import { repoRoot } from '../helpers.js';

export async function resolvedModel(file: string, context: Record<string, string> = {}, boardName = 'qemu_virt_aarch64'): Promise<SystemModel> {
  const system = await loadSystem(path.join(repoRoot, file), { context: new Map(Object.entries(context)), cwd: repoRoot });
  const board = findBoard(loadBoards(), boardName)!;
  const r = resolveSystem({ system, file: path.join(repoRoot, file), board, images: new Map() });
  assert.equal(r.diagnostics.filter((d) => d.severity === 'error'), []);
  return r.model;
}
