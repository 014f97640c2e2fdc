// The model stage: load the systems.ts, pick the board, learn the image files' facts, resolve
// and validate.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { Initramfs } from '../../dsl/initramfs.js';
import type { MemoryRegion, ProtectionDomain } from '../../dsl/constructs.js';
import { readElf, PT_LOAD } from '../../compile/link/elf.js';
import { buildDeclaredInitramfs } from '../../compile/initramfs/declared.js';
import { readDeclaredModules } from './initramfs-modules.js';
import { findBoard, type Board } from '../../compile/boards.js';
import { error, hasErrors, UserError, warning, type Diagnostic } from '../../compile/diagnostics.js';
import { contextKeysRead } from '../../dsl/context.js';
import { loadSystem } from '../../compile/load.js';
import type { SystemModel } from '../../compile/model.js';
import { resolveSystem, type ImageFacts } from '../../compile/resolve/index.js';
import { validateSystem } from '../../compile/validate/index.js';
import type { System } from '../../dsl/system.js';
import { checkUncompressedImages } from '../../compile/link/vmm-elf.js';
import { loaderSpace, type LoaderSpace } from '../../compile/link/loader-space.js';
import { imageFacts, kernelConfig, loadBoards, microkitRelease, runtimeCacheDir } from '../io.js';
import { timed, timedAsync, type StageTimings } from './timings.js';
import { configsFor, kernelLimits, type MicrokitConfig } from '../../compile/target.js';
import type { MicrokitRelease } from '../../compile/facts.js';

export interface ModelOptions {
  /** Receives the time each stage took. @default none */
  timings?: StageTimings | undefined;
  file: string;
  board?: string | undefined;
  context?: ReadonlyMap<string, string>;
  cwd?: string;
  /** For the room below the board's loader (the SDK's kernel, or an estimate). @default 'debug', MICROKIT_SDK */
  config?: MicrokitConfig;
  /** The Microkit release when no SDK says (--microkit). @default the SDK's VERSION, else '2.0.1' */
  microkit?: MicrokitRelease | undefined;
  sdk?: string | undefined;
  /** Write the archives of initramfs() declarations into the cache (synthesis does; check does not). @default false */
  packInitramfs?: boolean;
  /** Type-check the systems.ts against the DSL before running it. @default true */
  typeCheck?: boolean;
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

interface GatheredImages {
  facts: Map<string, ImageFacts>;
  initramfsPaths: Map<object, string>;
}

/** Read a host file, or undefined when it is not there. */
async function readIfThere(file: string): Promise<{ data: Uint8Array; executable: boolean } | undefined> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    return { data: new Uint8Array(await readFile(file)), executable: (st.mode & 0o111) !== 0 };
  } catch {
    return undefined;
  }
}

/**
 * Pack an initramfs() into a content-addressed file in the cache (written only when `write`, so
 * that `check` writes nothing). Returns its path, or the path of the first input that is missing.
 */
async function packInitramfs(ir: Initramfs, write: boolean, facts: Map<string, ImageFacts>): Promise<string> {
  // First, so that a misspelt module is reported even where busybox has not been fetched.
  const modules = await readDeclaredModules(ir);
  if (typeof modules === 'string') return modules;
  const init = typeof ir.init === 'string' ? { data: new TextEncoder().encode(ir.init), executable: true } : await readIfThere(ir.init.path);
  if (!init) return (ir.init as { path: string }).path;
  const busybox = ir.busybox ? await readIfThere(ir.busybox.path) : undefined;
  if (ir.busybox && !busybox) return ir.busybox.path;
  const files = new Map<string, { data: Uint8Array; executable: boolean }>();
  for (const [guestPath, ref] of ir.files) {
    const f = await readIfThere(ref.path);
    if (!f) return ref.path;
    files.set(guestPath, f);
  }
  const archive = buildDeclaredInitramfs(ir, { init: init.data, busybox: busybox?.data, files, modules });
  const file = path.join(runtimeCacheDir(), 'initramfs', `${createHash('sha256').update(archive).digest('hex').slice(0, 24)}.cpio`);
  if (write && !existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, archive);
    await rename(tmp, file);
  }
  facts.set(file, { size: BigInt(archive.length) });
  return file;
}

/** Regions the system maps without listing them (system({ memoryRegions }) need not name them all). */
function regionsInMaps(system: System): MemoryRegion[] {
  const out = new Set<MemoryRegion>();
  const seen = new Set<ProtectionDomain>();
  const walk = (pd: ProtectionDomain): void => {
    if (seen.has(pd)) return;
    seen.add(pd);
    for (const m of pd.maps) out.add(m.mr);
    for (const m of pd.virtualMachine?.maps ?? []) out.add(m.mr);
    pd.children.forEach((c) => walk(c.pd));
  };
  system.protectionDomains.forEach(walk);
  for (const vm of system.virtualMachines) vm.maps.forEach((m) => out.add(m.mr));
  return [...out];
}

/** The program images of every PD in the system, children included. */
function programImages(system: System): string[] {
  const out = new Set<string>();
  const seen = new Set<ProtectionDomain>();
  const walk = (pd: ProtectionDomain): void => {
    // A PD listed twice is the resolver's to report (pd-listed-twice); walk it once.
    if (seen.has(pd)) return;
    seen.add(pd);
    if (pd.program) out.add(pd.program.path);
    pd.children.forEach((c) => walk(c.pd));
  };
  system.protectionDomains.forEach(walk);
  return [...out];
}

async function gatherImages(system: System, write: boolean): Promise<GatheredImages> {
  const facts = new Map<string, ImageFacts>();
  const initramfsPaths = new Map<object, string>();
  for (const file of programImages(system)) {
    const elf = await readIfThere(file);
    if (!elf) continue;
    try {
      const segments = readElf(elf.data).segments.filter((s) => s.type === PT_LOAD && s.memsz > 0n).map((s) => ({ vaddr: s.vaddr, size: s.memsz }));
      facts.set(file, { size: BigInt(elf.data.length), segments });
    } catch {
      // Not an ELF file: the Microkit tool says so when it loads it.
    }
  }
  for (const mr of system.memoryRegions.concat(regionsInMaps(system))) {
    if (!mr.prefill || facts.has(mr.prefill.path)) continue;
    const st = await stat(mr.prefill.path).catch(() => undefined);
    if (st?.isFile()) facts.set(mr.prefill.path, { size: BigInt(st.size) });
  }
  for (const vm of system.virtualMachines) {
    if (!facts.has(vm.kernel.path)) {
      const f = await imageFacts(vm.kernel.path, 'kernel');
      if (f) facts.set(vm.kernel.path, f);
    }
    if (vm.initrd?.kind === 'initramfs') {
      if (!initramfsPaths.has(vm.initrd)) initramfsPaths.set(vm.initrd, await packInitramfs(vm.initrd, write, facts));
    } else if (vm.initrd && !facts.has(vm.initrd.path)) {
      const f = await imageFacts(vm.initrd.path, 'initrd');
      if (f) facts.set(vm.initrd.path, f);
    }
    // Disk images of virtioBlock(): their sizes decide the disk regions.
    for (const d of vm.virtio) {
      if (d.kind !== 'virtioBlock' || facts.has(d.image.path)) continue;
      const f = await imageFacts(d.image.path, 'initrd');
      if (f) facts.set(d.image.path, f);
    }
  }
  return { facts, initramfsPaths };
}

/** A configuration the release builds for the board (smp-*: Microkit 2.3.0, boards with smp_cores). */
export function checkConfig(release: MicrokitRelease, config: MicrokitConfig, board: Board | undefined): void {
  const configs = configsFor(release, board);
  if (board && !configs.includes(config)) {
    throw new UserError(error('microkit-config-unavailable', `Microkit ${release} has no '${config}' configuration for board '${board.name}'`, undefined, {
      hint: `its configurations are ${configs.join(', ')}${release === '2.0.1' && config.startsWith('smp-') ? '; the smp-* ones come with Microkit 2.3.0 (--microkit 2.3.0 or a 2.3.0 SDK)' : ''}`,
    }));
  }
}

/** Load a systems.ts and build its model; diagnostics include resolution and validation. */
export async function buildModel(options: ModelOptions): Promise<{ model: SystemModel; diagnostics: Diagnostic[]; loaderSpace: LoaderSpace | undefined }> {
  const file = path.resolve(options.cwd ?? process.cwd(), options.file);
  const t = options.timings;
  const system = await timedAsync(t, 'load', () => loadSystem(file, {
    context: options.context ?? new Map(),
    cwd: options.cwd ?? process.cwd(),
    typeCheck: options.typeCheck === false ? undefined : { cacheDir: runtimeCacheDir(), writeCache: options.packInitramfs ?? false },
  }));
  const board = pickBoard(options.board, system.board, system.loc);
  const unread = [...(options.context ?? new Map()).keys()].filter((k) => !contextKeysRead().has(k));
  const contextWarnings = unread.map((k) => warning('context-unused', `-c ${k}=... was given, but ${path.basename(file)} never reads '${k}'`, undefined, {
    hint: `a systems.ts reads it with context('${k}', default) or contextFile('${k}', default); check the spelling`,
  }));
  const sdk = options.sdk ?? process.env['MICROKIT_SDK'];
  const config = options.config ?? 'debug';
  const release = microkitRelease(sdk, options.microkit);
  checkConfig(release, config, board);
  const images = await timedAsync(t, 'load', () => gatherImages(system, options.packInitramfs ?? false));
  const kernel = board ? kernelConfig(sdk, board.microkitBoard, config) : undefined;
  const { numCores } = kernelLimits({ microkit: release, config, board, kernel });
  const resolved = timed(t, 'resolve', () => resolveSystem({ system, file, board, images: images.facts, initramfsPaths: images.initramfsPaths, microkit: release, numCores }));
  resolved.model.microkit = release;
  resolved.model.config = config;
  if (board) resolved.model.kernel = kernel;
  // The room below the board's Microkit loader: checked here, used again by the link step.
  const space = board ? loaderSpace({ board, sdk, config }) : undefined;
  const diagnostics = [...contextWarnings, ...resolved.diagnostics, ...(hasErrors(resolved.diagnostics) ? [] : timed(t, 'validate', () => validateSystem(resolved.model)))];
  if (!hasErrors(diagnostics) && board) {
    // Images that must stay uncompressed and cannot fit below the loader: known without linking.
    const guests = resolved.model.guests.map((g) => ({ vm: g.vm, compressImages: g.compressImages, sizes: [g.kernel.size ?? 0n, g.initrd?.size ?? 0n], loc: g.loc }));
    diagnostics.push(...checkUncompressedImages(guests, space));
  }
  return { model: resolved.model, diagnostics, loaderSpace: space };
}
