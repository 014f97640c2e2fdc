// The synthesis pipeline as the commands run it: load → resolve → validate → emit → write.
// This is the one place that strings the pure stages together with the effects they need.
import path from 'node:path';
import { existsSync } from 'node:fs';
import { findBoard, type Board } from '../compile/boards.js';
import { error, hasErrors, UserError, type Diagnostic } from '../compile/diagnostics.js';
import { loadSystem } from '../compile/load.js';
import type { SystemModel } from '../compile/model.js';
import { resolveSystem, type ImageFacts } from '../compile/resolve/index.js';
import { validateSystem } from '../compile/validate/index.js';
import { emitSystemXml } from '../compile/emit/system-xml.js';
import { emitManifest, type Artefact, type GuestPlacement } from '../compile/emit/manifest.js';
import type { System } from '../dsl/system.js';
import { dumpQemuDtb, guestCacheDir, imageFacts, loadBoards, writeOutputs } from './io.js';
import { prepareGuestBoot } from '../compile/emit/guest-boot.js';
import { DtbError, type Fdt } from '../compile/dtb/fdt.js';
import { readFdt } from '../compile/dtb/fdt-read.js';
import { loadDeviceTree } from '../compile/dtb/dtc.js';
import type { GuestModel } from '../compile/model.js';
import { TOOL_VERSION } from './version.js';

export interface ModelOptions {
  file: string;
  board?: string | undefined;
  context?: ReadonlyMap<string, string>;
  cwd?: string;
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
  const system = await loadSystem(file, { context: options.context ?? new Map(), cwd: options.cwd ?? process.cwd() });
  const board = pickBoard(options.board, system.board, system.loc);
  const images = await gatherImages(system);
  const resolved = resolveSystem({ system, file, board, images });
  const diagnostics = [...resolved.diagnostics, ...(hasErrors(resolved.diagnostics) ? [] : validateSystem(resolved.model))];
  return { model: resolved.model, diagnostics };
}

export interface SynthOptions extends ModelOptions {
  config: 'debug' | 'release';
  outDir?: string | undefined;
  sdk?: string | undefined;
}

export interface SynthResult {
  model: SystemModel;
  diagnostics: Diagnostic[];
  outDir: string;
  written: string[];
  skipped: { step: string; reason: string }[];
}

export async function synthesise(options: SynthOptions): Promise<SynthResult> {
  const { model, diagnostics } = await buildModel(options);
  const cwd = options.cwd ?? process.cwd();
  const outDir = path.resolve(cwd, options.outDir ?? path.join('build', model.name));
  if (hasErrors(diagnostics)) return { model, diagnostics, outDir, written: [], skipped: [] };

  const skipped: { step: string; reason: string }[] = [];
  for (const g of model.guests) {
    if (g.kernel.size === undefined) skipped.push({ step: `images of '${g.vm}'`, reason: `kernel not found: ${g.kernel.path} (run 'npm run guest', or give -c kernel=PATH)` });
    if (g.initrd && g.initrd.size === undefined) skipped.push({ step: `images of '${g.vm}'`, reason: `initrd not found: ${g.initrd.path} (run 'npm run guest', or give -c initrd=PATH)` });
  }
  const sdk = options.sdk ?? process.env['MICROKIT_SDK'];
  if (!sdk) {
    skipped.push({ step: 'vmm runtime, link and loader.img', reason: 'no Microkit SDK: set MICROKIT_SDK or pass --sdk PATH' });
  }

  const systemFile = `${model.name}.system`;
  const artefacts: Artefact[] = [{ file: systemFile, kind: 'microkit-system-description', content: emitSystemXml(model, { toolVersion: TOOL_VERSION }) }];
  const placements = new Map<string, GuestPlacement>();
  const boardTrees = new Map<string, Fdt | string>();
  for (const g of model.guests) {
    const inputs = guestTrees(g, model.board!, boardTrees);
    if (typeof inputs === 'string') {
      skipped.push({ step: `guest device tree of '${g.vm}'`, reason: inputs });
      continue;
    }
    const result = prepareGuestBoot({ guest: g, board: model.board!, ...inputs });
    diagnostics.push(...result.diagnostics);
    if (result.skipped) skipped.push({ step: `guest device tree of '${g.vm}'`, reason: result.skipped });
    if (result.boot) {
      const p = result.boot.placement;
      artefacts.push({ file: `${g.vm}.dtb`, kind: 'guest-device-tree', content: result.boot.dtb });
      placements.set(g.vm, { kernel: p.kernel, dtb: p.dtb, initrd: p.initrd, entry: p.entry });
    }
  }
  if (hasErrors(diagnostics)) return { model, diagnostics, outDir, written: [], skipped };
  const manifest = emitManifest({ toolVersion: TOOL_VERSION, system: model, config: options.config, outDir, artefacts, placements, skipped });
  const files = new Map<string, string | Uint8Array>(artefacts.map((a) => [a.file, a.content]));
  files.set('manifest.json', manifest);
  await writeOutputs(outDir, files);
  return { model, diagnostics, outDir, written: [...files.keys()], skipped };
}

/** The device trees a guest's DTB is made from; a string says why there are none. */
function guestTrees(g: GuestModel, board: Board, cache: Map<string, Fdt | string>): { userTree: Fdt | undefined; boardTree: Fdt | undefined } | string {
  const load = (file: string, what: string): Fdt => {
    try {
      return loadDeviceTree(file);
    } catch (e) {
      if (e instanceof DtbError) throw new UserError(error('guest-dtb-invalid', `${what} of '${g.vm}' cannot be used: ${e.message}`, g.loc));
      throw e;
    }
  };
  if (g.dtb) return { userTree: load(g.dtb.path, 'the guest device tree'), boardTree: undefined };
  if (g.boardDtb) return { userTree: undefined, boardTree: load(g.boardDtb.path, 'the board device tree') };
  let tree = cache.get(board.name);
  if (tree === undefined) {
    if (board.dtb?.qemuDumpdtb) {
      const dumped = dumpQemuDtb(board);
      tree = typeof dumped === 'string' ? dumped : readFdt(dumped);
    } else if (board.dtb?.debianPath) {
      const file = path.join(guestCacheDir(), 'dtbs', path.basename(board.dtb.debianPath));
      tree = existsSync(file) ? load(file, 'the board device tree') : `Debian's board device tree is not in ${file} (run 'npm run guest', or give boardDtb in the systems.ts)`;
    } else {
      tree = `board '${board.name}' names no device tree; give dtb or boardDtb in the systems.ts`;
    }
    cache.set(board.name, tree);
  }
  return typeof tree === 'string' ? tree : { userTree: undefined, boardTree: tree };
}
