// The synthesis pipeline as the commands run it: load → resolve → validate → emit → write.
// This is the one place that strings the pure stages together with the effects they need.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { existsSync } from 'node:fs';
import { findBoard, type Board } from '../compile/boards.js';
import { error, hasErrors, UserError, warning, type Diagnostic } from '../compile/diagnostics.js';
import { contextKeysRead } from '../dsl/context.js';
import { loadSystem } from '../compile/load.js';
import type { SystemModel } from '../compile/model.js';
import { resolveSystem, type ImageFacts } from '../compile/resolve/index.js';
import { validateSystem } from '../compile/validate/index.js';
import { emitSystemXml } from '../compile/emit/system-xml.js';
import { emitManifest, type Artefact, type GuestPlacement } from '../compile/emit/manifest.js';
import type { System } from '../dsl/system.js';
import { commitStaging, dumpQemuDtb, guestCacheDir, imageFacts, loadBoards, makeStaging, runtimeCacheDir } from './io.js';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { allProtectionDomains } from '../compile/model.js';
import type { LinuxPlacement } from '../compile/guest/placement.js';
import { readLinuxImage } from '../compile/guest/linux-image.js';
import { buildRuntime } from '../compile/link/runtime-build.js';
import { checkUncompressedImages, linkVmms, type VmmLinkRequest } from '../compile/link/vmm-elf.js';
import { elfPlacedSize, loaderSpace, runMicrokit, type LoaderSpace, type PlacedData } from '../compile/link/microkit-tool.js';
import { prepareGuestBoot } from '../compile/emit/guest-boot.js';
import { DtbError, type Fdt } from '../compile/dtb/fdt.js';
import { readFdt } from '../compile/dtb/fdt-read.js';
import { loadDeviceTree } from '../compile/dtb/dtc.js';
import type { GuestModel } from '../compile/model.js';
import { TOOL_VERSION } from './version.js';

/** Milliseconds per pipeline stage, filled in as the stages run (for benchmarks and --timings). */
export type StageTimings = Partial<Record<'load' | 'resolve' | 'validate' | 'emit' | 'link' | 'microkit' | 'write', number>>;

function timed<T>(timings: StageTimings | undefined, stage: keyof StageTimings, f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    if (timings) timings[stage] = (timings[stage] ?? 0) + (performance.now() - t0);
  }
}

async function timedAsync<T>(timings: StageTimings | undefined, stage: keyof StageTimings, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    if (timings) timings[stage] = (timings[stage] ?? 0) + (performance.now() - t0);
  }
}

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

export interface SynthOptions extends ModelOptions {
  config: 'debug' | 'release';
  outDir?: string | undefined;
  sdk?: string | undefined;
  /** One line per long step (runtime build, link, image). @default none */
  onProgress?: (line: string) => void;
}

export interface SynthResult {
  model: SystemModel;
  diagnostics: Diagnostic[];
  outDir: string;
  written: string[];
  skipped: { step: string; reason: string }[];
  /** Set when a loader.img was made. */
  loaderImage: string | undefined;
}

interface GuestBootArtefacts {
  dtb: Uint8Array;
  placement: LinuxPlacement;
}

export async function synthesise(options: SynthOptions): Promise<SynthResult> {
  const { model, diagnostics } = await buildModel(options);
  const cwd = options.cwd ?? process.cwd();
  const progress = options.onProgress ?? (() => undefined);
  const outDir = path.resolve(cwd, options.outDir ?? path.join('build', model.name));
  const none = (): SynthResult => ({ model, diagnostics, outDir, written: [], skipped, loaderImage: undefined });
  const skipped: { step: string; reason: string }[] = [];
  const space = model.board ? loaderSpace({ board: model.board, sdk: options.sdk ?? process.env['MICROKIT_SDK'], config: options.config }) : undefined;
  if (hasErrors(diagnostics)) return none();

  for (const g of model.guests) {
    if (g.kernel.size === undefined) skipped.push({ step: `images of '${g.vm}'`, reason: `kernel not found: ${g.kernel.path} (run 'npm run guest', or give -c kernel=PATH)` });
    if (g.initrd && g.initrd.size === undefined) skipped.push({ step: `images of '${g.vm}'`, reason: `initrd not found: ${g.initrd.path} (run 'npm run guest', or give -c initrd=PATH)` });
  }

  const systemFile = `${model.name}.system`;
  const t = options.timings;
  const emitStart = performance.now();
  const artefacts: Artefact[] = [{ file: systemFile, kind: 'microkit-system-description', content: emitSystemXml(model, { toolVersion: TOOL_VERSION }) }];
  const placements = new Map<string, GuestPlacement>();
  const boots = new Map<string, GuestBootArtefacts>();
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
      boots.set(g.vm, result.boot);
    }
  }
  if (t) t.emit = performance.now() - emitStart;
  if (hasErrors(diagnostics)) return none();

  const staging = await makeStaging(outDir);
  let loaderImage: string | undefined;
  try {
    for (const a of artefacts) await writeFile(path.join(staging, a.file), a.content);
    const blocker = imageBlocker(model, boots, options.sdk ?? process.env['MICROKIT_SDK']);
    if (blocker) {
      skipped.push({ step: 'vmm runtime, link and loader.img', reason: blocker });
    } else {
      const sdk = (options.sdk ?? process.env['MICROKIT_SDK'])!;
      const board = model.board;
      for (const a of await timedAsync(t, 'link', () => linkGuests(model, boots, sdk, options.config, progress, space, placements))) {
        await writeFile(path.join(staging, a.file), a.content);
        artefacts.push(a);
      }
      if (board || model.guests.length === 0) {
        const microkitBoard = board?.microkitBoard;
        if (!microkitBoard) {
          skipped.push({ step: 'loader.img', reason: 'no board: pass --board' });
        } else {
          progress(`image: microkit ${systemFile} --board ${microkitBoard} --config ${options.config}`);
          await timedAsync(t, 'microkit', () => runMicrokit({
            sdk,
            board: microkitBoard,
            config: options.config,
            systemFile: path.join(staging, systemFile),
            searchPaths: [staging, ...programDirs(model)],
            output: path.join(staging, 'loader.img'),
            report: path.join(staging, 'report.txt'),
            loaderSpace: space,
            loc: model.guests[0]?.loc,
          }));
          for (const [file, kind] of [['loader.img', 'loader-image'], ['report.txt', 'microkit-report']] as const) {
            artefacts.push({ file, kind, content: await readFile(path.join(staging, file)) });
          }
          loaderImage = path.join(outDir, 'loader.img');
          progress(`image: ${path.relative(cwd, loaderImage)}`);
        }
      }
    }
    const manifest = emitManifest({ toolVersion: TOOL_VERSION, system: model, config: options.config, outDir, artefacts, placements, skipped });
    await writeFile(path.join(staging, 'manifest.json'), manifest);
    const names = [...artefacts.map((a) => a.file), 'manifest.json'];
    await timedAsync(t, 'write', () => commitStaging(staging, outDir, names));
    return { model, diagnostics, outDir, written: names, skipped, loaderImage };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Why no image can be made, or undefined when everything it needs is here. */
function imageBlocker(model: SystemModel, boots: ReadonlyMap<string, GuestBootArtefacts>, sdk: string | undefined): string | undefined {
  if (!sdk) return 'no Microkit SDK: set MICROKIT_SDK or pass --sdk PATH';
  const missingGuest = model.guests.find((g) => !boots.has(g.vm));
  if (missingGuest) return `the boot images of '${missingGuest.vm}' are not all available (see above)`;
  for (const pd of allProtectionDomains(model)) {
    if (pd.vmmOf === undefined && pd.programPath !== undefined && !existsSync(pd.programPath)) {
      return `program image of '${pd.name}' not found: ${pd.programPath}`;
    }
  }
  return undefined;
}

function programDirs(model: SystemModel): string[] {
  const dirs = new Set<string>();
  for (const pd of allProtectionDomains(model)) if (pd.programPath) dirs.add(path.dirname(pd.programPath));
  return [...dirs].sort();
}

/** Build (or reuse) the runtime for each GIC flavour in use and link one VMM per guest. */
async function linkGuests(model: SystemModel, boots: ReadonlyMap<string, GuestBootArtefacts>, sdk: string, config: 'debug' | 'release', progress: (line: string) => void,
  space: LoaderSpace | undefined, placements: Map<string, GuestPlacement>): Promise<Artefact[]> {
  const requests: VmmLinkRequest[] = [];
  const runtimes = new Map<number, Uint8Array>();
  const pds = allProtectionDomains(model);
  for (const g of model.guests) {
    const board = model.board!;
    let runtime = runtimes.get(g.gicVersion);
    if (!runtime) {
      const built = await buildRuntime({ sdk, board: board.microkitBoard, config, gicVersion: g.gicVersion, cacheDir: runtimeCacheDir(), onProgress: progress });
      runtime = new Uint8Array(await readFile(built.elf));
      runtimes.set(g.gicVersion, runtime);
    }
    progress(`link: vmm-${g.vm}.elf (kernel, device tree${g.initrd ? ', initrd' : ''} and config)`);
    const boot = boots.get(g.vm)!;
    const kernel = readLinuxImage(new Uint8Array(await readFile(g.kernel.path))).image;
    const initrd = g.initrd ? new Uint8Array(await readFile(g.initrd.path)) : undefined;
    const vm = pds.find((p) => p.name === g.vmm)?.virtualMachine;
    requests.push({ runtimeElf: runtime, guest: g, board, vcpuIds: vm?.vcpus.map((v) => v.id) ?? [0], placement: boot.placement, kernel, dtb: boot.dtb, initrd, compressImages: g.compressImages });
  }
  // The other programs share the room below the loader with the VMMs.
  const otherData: PlacedData[] = [];
  for (const pd of pds) {
    if (pd.vmmOf !== undefined || pd.programPath === undefined) continue;
    try {
      otherData.push({ what: path.basename(pd.programPath), size: elfPlacedSize(new Uint8Array(await readFile(pd.programPath))) });
    } catch {
      // Not an ELF the tool can load: the Microkit tool reports it.
    }
  }
  const linked = linkVmms(requests, { space, otherData, loc: model.guests[0]?.loc });
  return linked.map((l, i) => {
    const g = requests[i]!.guest;
    const p = placements.get(g.vm);
    if (p) p.stored = { kernel: l.stored.kernel, initrd: l.stored.initrd };
    if (l.stored.kernel.compressed) progress(`link: vmm-${g.vm}.elf carries its kernel${l.stored.initrd ? ' and initrd' : ''} compressed`);
    return { file: `vmm-${g.vm}.elf`, kind: 'vmm-program-image', content: l.elf };
  });
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
