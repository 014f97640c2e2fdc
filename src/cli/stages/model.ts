// The model stage: load the systems.ts, pick the board, learn the image files' facts, resolve
// and validate.
import path from 'node:path';
import { findBoard, type Board } from '../../compile/boards.js';
import { error, hasErrors, UserError, warning, type Diagnostic } from '../../compile/diagnostics.js';
import { contextKeysRead } from '../../dsl/context.js';
import { loadSystem } from '../../compile/load.js';
import type { SystemModel } from '../../compile/model.js';
import { resolveSystem, type ImageFacts } from '../../compile/resolve/index.js';
import { validateSystem } from '../../compile/validate/index.js';
import type { System } from '../../dsl/system.js';
import { checkUncompressedImages } from '../../compile/link/vmm-elf.js';
import { loaderSpace } from '../../compile/link/microkit-tool.js';
import { imageFacts, loadBoards } from '../io.js';
import { timed, timedAsync, type StageTimings } from './timings.js';

export interface ModelOptions {
  /** Receives the time each stage took. @default none */
  timings?: StageTimings | undefined;
  file: string;
  board?: string | undefined;
  context?: ReadonlyMap<string, string>;
  cwd?: string;
  /** For the room below the board's loader (the SDK's kernel, or an estimate). @default 'debug', MICROKIT_SDK */
  config?: 'debug' | 'release';
  sdk?: string | undefined;
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

async function gatherImages(system: System): Promise<Map<string, ImageFacts>> {
  const facts = new Map<string, ImageFacts>();
  for (const vm of system.virtualMachines) {
    for (const [ref, kind] of [[vm.kernel, 'kernel'], [vm.initrd, 'initrd']] as const) {
      if (!ref || facts.has(ref.path)) continue;
      const f = await imageFacts(ref.path, kind);
      if (f) facts.set(ref.path, f);
    }
  }
  return facts;
}

/** Load a systems.ts and build its model; diagnostics include resolution and validation. */
export async function buildModel(options: ModelOptions): Promise<{ model: SystemModel; diagnostics: Diagnostic[] }> {
  const file = path.resolve(options.cwd ?? process.cwd(), options.file);
  const t = options.timings;
  const system = await timedAsync(t, 'load', () => loadSystem(file, { context: options.context ?? new Map(), cwd: options.cwd ?? process.cwd() }));
  const board = pickBoard(options.board, system.board, system.loc);
  const unread = [...(options.context ?? new Map()).keys()].filter((k) => !contextKeysRead().has(k));
  const contextWarnings = unread.map((k) => warning('context-unused', `-c ${k}=... was given, but ${path.basename(file)} never reads '${k}'`, undefined, {
    hint: `a systems.ts reads it with context('${k}', default) or contextFile('${k}', default); check the spelling`,
  }));
  const images = await timedAsync(t, 'load', () => gatherImages(system));
  const resolved = timed(t, 'resolve', () => resolveSystem({ system, file, board, images }));
  const diagnostics = [...contextWarnings, ...resolved.diagnostics, ...(hasErrors(resolved.diagnostics) ? [] : timed(t, 'validate', () => validateSystem(resolved.model)))];
  if (!hasErrors(diagnostics) && board) {
    // Images that must stay uncompressed and cannot fit below the loader: known without linking.
    const space = loaderSpace({ board, sdk: options.sdk ?? process.env['MICROKIT_SDK'], config: options.config ?? 'debug' });
    const guests = resolved.model.guests.map((g) => ({ vm: g.vm, compressImages: g.compressImages, sizes: [g.kernel.size ?? 0n, g.initrd?.size ?? 0n], loc: g.loc }));
    diagnostics.push(...checkUncompressedImages(guests, space));
  }
  return { model: resolved.model, diagnostics };
}
