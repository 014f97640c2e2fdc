// The synthesis pipeline, in order: load the systems.ts and its inputs → resolve → validate →
// emit (.system, each guest's device tree and placement) → link (VMM runtime, VMMs, timer PD,
// Microkit tool → loader.img) → write. This module only sequences the stages; each lives in its
// own folder beside it, and the commands (src/cli) only map their flags onto these options.
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { hasErrors, type Diagnostic } from './diagnostics/index.js';
import { emitGuestTrees } from './emit/guest-trees.js';
import { emitManifest, type Artefact } from './emit/manifest.js';
import { emitSystemXml } from './emit/system-xml.js';
import type { GuestBoot } from './emit/guest-boot.js';
import { prefillDisks, prefillGuestImages, type GuestImageBytes, type PrefilledImages } from './guest/prefill.js';
import { loadKernel } from './load/images.js';
import { supports } from './releases.js';
import { checkGuestImages, makeImage, type Skipped } from './link/image.js';
import { loaderSpace, loaderSpaceNeeded, type LoaderSpace } from './link/loader-space.js';
import { buildUserPds, missingSources } from './link/pd-build.js';
import { checkDisksInElf, checkUncompressedImages } from './link/vmm-elf.js';
import { pickBoard } from './load/boards.js';
import { gatherImages } from './load/images.js';
import { loadSystem, unreadContextWarnings } from './load/index.js';
import { allProtectionDomains, type SystemModel } from './model/index.js';
import type { MicrokitRelease } from './releases.js';
import { kernelConfig, microkitRelease } from './model/sdk.js';
import { checkConfig, kernelLimits, type MicrokitConfig } from './model/target.js';
import { openOutput } from './output.js';
import { runtimeCacheDir, TOOL_VERSION } from './package.js';
import { resolveSystem } from './resolve/index.js';
import { timed, timedAsync, type StageTimings } from './timings.js';
import { validateSystem } from './validate/index.js';

export type { StageTimings } from './timings.js';

export interface ModelOptions {
  /** Receives the time each stage took. @default none */
  timings?: StageTimings | undefined;
  file: string;
  board?: string | undefined;
  context?: ReadonlyMap<string, string>;
  cwd?: string;
  /** For the room below the board's loader (the SDK's kernel, or an estimate). @default 'debug', MICROKIT_SDK */
  config?: MicrokitConfig;
  /** The Microkit release when no SDK says (--microkit). @default the SDK's VERSION, else DEFAULT_RELEASE */
  microkit?: MicrokitRelease | undefined;
  sdk?: string | undefined;
  /** Write the archives of initramfs() declarations into the cache (synthesis does; check does not). @default false */
  packInitramfs?: boolean;
  /** Type-check the systems.ts against the DSL before running it. @default true */
  typeCheck?: boolean;
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
  const board = pickBoard(options.board, system.board, system.loc, path.dirname(file));
  const contextWarnings = unreadContextWarnings(file, options.context ?? new Map());
  const sdk = options.sdk ?? process.env['MICROKIT_SDK'];
  const config = options.config ?? 'debug';
  const release = microkitRelease(sdk, options.microkit);
  checkConfig(release, config, board);
  const images = await timedAsync(t, 'load', () => gatherImages(system, options.packInitramfs ?? false));
  const kernel = board ? kernelConfig(sdk, board.microkitBoard, config) : undefined;
  const { numCores } = kernelLimits({ microkit: release, config, board, kernel });
  const resolved = timed(t, 'resolve', () => resolveSystem({ system, file, board, images: images.facts, initramfsPaths: images.initramfsPaths, microkit: release, numCores }));
  resolved.model.config = config;
  if (board) resolved.model.kernel = kernel;
  // The room below the board's Microkit loader: checked here, used again by the link step.
  const space = board ? loaderSpace({ board, sdk, config }) : undefined;
  const diagnostics = [...contextWarnings, ...resolved.diagnostics, ...(hasErrors(resolved.diagnostics) ? [] : timed(t, 'validate', () => validateSystem(resolved.model)))];
  if (!hasErrors(diagnostics) && board) {
    // Images that must stay uncompressed and cannot fit below the loader: known without linking.
    const guests = resolved.model.guests.map((g) => ({ vm: g.vm, compressImages: g.compressImages, sizes: [g.kernel.size ?? 0n, g.initrd?.size ?? 0n], loc: g.loc }));
    diagnostics.push(...checkUncompressedImages(guests, space));
    if (!supports(release, 'embedded-frames')) {
      const disks = resolved.model.guests.flatMap((g) => g.virtio.flatMap((d) => (d.disk?.size !== undefined ? [{ vm: g.vm, name: d.name, size: d.disk.size, loc: d.loc }] : [])));
      diagnostics.push(...checkDisksInElf(disks, space, release));
    }
  }
  return { model: resolved.model, diagnostics, loaderSpace: space };
}

export interface SynthOptions extends ModelOptions {
  config: MicrokitConfig;
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
  skipped: Skipped[];
  /** Set when a loader.img was made. */
  loaderImage: string | undefined;
}

/** Build the model, then emit, link and write every output of a systems.ts into its out directory. */
export async function synthesise(options: SynthOptions): Promise<SynthResult> {
  const { model, diagnostics, loaderSpace: space } = await buildModel({ ...options, packInitramfs: true });
  const cwd = options.cwd ?? process.cwd();
  const outDir = path.resolve(cwd, options.outDir ?? path.join('build', model.name));
  const skipped: Skipped[] = [];
  const none = (): SynthResult => ({ model, diagnostics, outDir, written: [], skipped, loaderImage: undefined });
  if (hasErrors(diagnostics)) return none();
  const sdk = options.sdk ?? process.env['MICROKIT_SDK'];
  const images = checkGuestImages(model, sdk);
  diagnostics.push(...missingSources(model), ...images.diagnostics);
  skipped.push(...images.skipped);
  if (hasErrors(diagnostics)) return none();

  // Before anything is built: the outputs can go where --out says (a UserError otherwise).
  const output = await openOutput(outDir);
  try {
    const t = options.timings;
    const systemFile = `${model.name}.system`;
    const artefacts: Artefact[] = [];
    // Guest images are placed before the .system is written: where a release prefills regions,
    // the placement decides how guest RAM is cut (guest/prefill.ts).
    const trees = timed(t, 'emit', () => emitGuestTrees(model));
    artefacts.push(...trees.artefacts);
    diagnostics.push(...trees.diagnostics);
    skipped.push(...trees.skipped);
    if (hasErrors(diagnostics)) return none();
    const prefill = await timedAsync(t, 'emit', () => prefillStage(model, trees.boots, space));
    artefacts.push(...prefill.files);
    const emitted = prefill.model;
    timed(t, 'emit', () => artefacts.push({ file: systemFile, kind: 'microkit-system-description', content: emitSystemXml(emitted, { toolVersion: TOOL_VERSION }) }));

    // The user's own PDs, built from their sources: the Microkit tool finds them in staging.
    const pds = await timedAsync(t, 'link', () => buildUserPds(model, { sdk, config: options.config, cacheDir: runtimeCacheDir(), progress: options.onProgress ?? (() => undefined) }));
    artefacts.push(...pds.artefacts);
    skipped.push(...pds.skipped);
    for (const a of artefacts) await writeFile(path.join(output.staging, a.file), a.content);
    const image = await makeImage({
      model: emitted, config: options.config, sdk, systemFile, staging: output.staging, space, boots: trees.boots, placements: trees.placements, prefilled: prefill.guests,
      timings: t, progress: options.onProgress ?? (() => undefined),
    });
    artefacts.push(...image.artefacts);
    skipped.push(...image.skipped);
    const manifest = emitManifest({ toolVersion: TOOL_VERSION, system: emitted, config: options.config, outDir, artefacts, placements: trees.placements, skipped });
    await writeFile(path.join(output.staging, 'manifest.json'), manifest);
    const names = [...artefacts.map((a) => a.file), 'manifest.json'];
    await timedAsync(t, 'write', () => output.commit(names));
    if (image.made) options.onProgress?.(`image: ${path.relative(cwd, path.join(outDir, 'loader.img'))}`);
    return { model: emitted, diagnostics, outDir, written: names, skipped, loaderImage: image.made ? path.join(outDir, 'loader.img') : undefined };
  } finally {
    await output.discard();
  }
}

/** Room kept below the loader per PD for its own ELF data when guests' images are prefilled. */
const PD_DATA_RESERVE = 0x10_0000n;
/** The DTB is prefilled as the whole 2 MiB block it sits in (guest/prefill.ts). */
const DTB_BLOCK = 0x20_0000n;

/** Bytes a guest's prefilled images take, twice with pristine copies (a restart places them again). */
function prefilledBytes(i: GuestImageBytes, pristine: boolean): bigint {
  const once = BigInt(i.kernel.length) + BigInt(i.initrd?.length ?? 0) + DTB_BLOCK;
  return pristine ? 2n * once : once;
}

/**
 * On a release whose 4 KiB frames with data are embedded (releases.ts 'embedded-frames'): each
 * guest whose boot images are all here gets them prefilled in place, and every virtioBlock disk
 * its region prefilled (guest/prefill.ts); the model the .system and the link step see is the
 * result. On other releases, the model as it was: the VMM carries and copies the images.
 */
async function prefillStage(model: SystemModel, boots: ReadonlyMap<string, GuestBoot>, space: LoaderSpace | undefined): Promise<{ model: SystemModel; files: Artefact[]; guests: Map<string, PrefilledImages> }> {
  if (!supports(model.microkit, 'embedded-frames') || !supports(model.microkit, 'prefill')) return { model, files: [], guests: new Map() };
  const inputs = new Map<string, GuestImageBytes>();
  // What the other PDs' data may take below the loader: a VMM's code and tables, a timer, a PD.
  let budget = space ? space.space - PD_DATA_RESERVE * BigInt(allProtectionDomains(model).length) : undefined;
  for (const g of model.guests) {
    const boot = boots.get(g.vm);
    // A guest with a bus master keeps its RAM whole at guest-physical = physical (resolve/
    // dma-ram.ts): prefilled regions have no physical address of their own, so its VMM copies.
    const dma = g.passthrough.some((p) => p.dma);
    if (!boot || dma) continue;
    const input: GuestImageBytes = {
      placement: boot.placement,
      kernel: (await loadKernel(g.kernel.path)).image,
      dtb: boot.dtb,
      dtbFile: `${g.vm}.dtb`,
      initrd: g.initrd ? new Uint8Array(await readFile(g.initrd.path)) : undefined,
    };
    // Prefilled frames are data the loader copies below itself, like a VMM's ELF: a guest whose
    // uncompressed images would not fit there keeps the copy path, where compressImages applies.
    const need = loaderSpaceNeeded(prefilledBytes(input, g.restart !== undefined || (model.controls ?? []).some((c) => c.vm === g.vm)));
    if (budget !== undefined && need > budget) continue;
    if (budget !== undefined) budget -= need;
    inputs.set(g.vm, input);
  }
  const guests = prefillGuestImages(model, inputs);
  const disks = new Map<string, Uint8Array>();
  for (const d of model.guests.flatMap((g) => g.virtio)) {
    if (d.disk?.size !== undefined) disks.set(d.disk.mr, new Uint8Array(await readFile(d.disk.path)));
  }
  const withDisks = prefillDisks(guests.model, disks);
  return { model: withDisks.model, files: [...guests.files, ...withDisks.files], guests: guests.guests };
}
