// The image stage: whether an image can be made at all, then build (or reuse) the VMM runtime,
// link one VMM per guest and the timer PD that wakes their idle vCPUs, and run the Microkit tool
// for loader.img. Everything is written into the outputs' staging directory (../output.ts).
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { error, type Diagnostic } from '../diagnostics/index.js';
import type { GuestBoot } from '../emit/guest-boot.js';
import type { Artefact, GuestPlacement } from '../emit/manifest.js';
import { loadKernel } from '../load/images.js';
import { allProtectionDomains, type ProtectionDomainModel, type SystemModel } from '../model/index.js';
import { releaseFacts } from '../releases.js';
import { definedSymbols } from './elf.js';
import type { MicrokitConfig } from '../model/target.js';
import { runtimeCacheDir } from '../package.js';
import { timedAsync, type StageTimings } from '../timings.js';
import { elfPlacedSize, type LoaderSpace, type PlacedData } from './loader-space.js';
import { runMicrokit } from './microkit-tool.js';
import { buildRuntime } from './runtime-build.js';
import { linkTimer, wakeRouteOf } from './timer-elf.js';
import { linkVmms, type VmmLinkRequest } from './vmm-elf.js';
import type { PrefilledImages } from '../guest/prefill.js';

/** The control page (as the VMM maps it) and the VMM's end of the channel, when a PD controls `vm`. */
function controlRouteOf(model: SystemModel, vm: string): { vaddr: bigint; channel: number } | undefined {
  const c = model.controls?.find((x) => x.vm === vm);
  return c ? { vaddr: c.vmmMap.vaddr, channel: c.channel.a.id } : undefined;
}

/** A step that was left out, and why (listed in the manifest and printed). */
export interface Skipped {
  step: string;
  reason: string;
}

/**
 * Without an SDK the main command goes as far as its inputs allow; with one, a missing guest
 * image or program image means the image that was asked for cannot be made: an error at the
 * construct that names the file, never a skipped step behind exit 0.
 */
export function checkGuestImages(model: SystemModel, sdk: string | undefined): { diagnostics: Diagnostic[]; skipped: Skipped[] } {
  const out: { diagnostics: Diagnostic[]; skipped: Skipped[] } = { diagnostics: [], skipped: [] };
  const haveSdk = sdk !== undefined && sdk !== '' && existsSync(path.join(sdk, 'bin', 'microkit'));
  checkProgramImages(model, haveSdk, out);
  for (const g of model.guests) {
    const missing: [string, string, string][] = [];
    if (g.kernel.size === undefined) missing.push(['kernel', 'kernel', g.kernel.path]);
    if (g.initrd && g.initrd.size === undefined) missing.push(['initrd (or an input of its initramfs)', 'initrd', g.initrd.path]);
    for (const [what, key, file] of missing) {
      if (haveSdk) {
        out.diagnostics.push(error('guest-image-missing', `the ${what} of '${g.vm}' is not there: ${file}; with the Microkit SDK present, the image cannot be built without it`, g.loc, {
          hint: `run 'sel4cp-synth guest', or give -c ${key}=PATH`,
        }));
      } else {
        out.skipped.push({ step: `images of '${g.vm}'`, reason: `${what} not found: ${file} (run 'sel4cp-synth guest', or give -c ${key}=PATH)` });
      }
    }
  }
  return out;
}

/** Every program a PD names (VMMs and the timer PD are built here, not named). */
function checkProgramImages(model: SystemModel, haveSdk: boolean, out: { diagnostics: Diagnostic[]; skipped: Skipped[] }): void {
  for (const pd of allProtectionDomains(model)) {
    if (pd.vmmOf !== undefined || pd.vmmTimer || pd.programPath === undefined) continue;
    if (existsSync(pd.programPath)) {
      out.diagnostics.push(...programRelease(model, pd));
      continue;
    }
    if (haveSdk) {
      out.diagnostics.push(error('program-missing', `the program image of protection domain '${pd.name}' is not there: ${pd.programPath}; with the Microkit SDK present, the image cannot be built without it`, pd.loc, {
        hint: `build it first, or give its path: protectionDomain('${pd.name}', { program: ... }) is relative to the systems.ts`,
      }));
    } else {
      out.skipped.push({ step: `program of '${pd.name}'`, reason: `program image not found: ${pd.programPath}` });
    }
  }
}

/**
 * A program built against another release's libmicrokit lacks a symbol this release's tool
 * writes, and the tool panics on it ("no symbol named 'microkit_ioports' found"): say so at the
 * PD, before the tool runs.
 */
function programRelease(model: SystemModel, pd: ProtectionDomainModel): Diagnostic[] {
  let symbols: Set<string>;
  try {
    symbols = definedSymbols(readFileSync(pd.programPath!));
  } catch {
    return []; // Not an ELF file (or no symbols): the Microkit tool says so in its own words.
  }
  const release = model.microkit;
  const facts = releaseFacts(release);
  const needed = [...facts.pdSymbolsWritten, ...(facts.ipcBufferSymbol ? [facts.ipcBufferSymbol] : [])];
  const lacking = needed.filter((s) => !symbols.has(s));
  if (!lacking.length || symbols.size === 0) return [];
  return [error('program-wrong-release', `the program image of protection domain '${pd.name}' (${pd.programPath}) was not built against Microkit ${release}'s libmicrokit: it lacks ${lacking.map((s) => `'${s}'`).join(', ')}, which the ${release} tool writes into every program`, pd.loc, {
    hint: `rebuild it with the Microkit ${release} SDK, or give its C sources (protectionDomain('${pd.name}', { sources: [...] })) and sel4cp-synth builds it for the release`,
  })];
}

export interface ImageInput {
  model: SystemModel;
  config: MicrokitConfig;
  sdk: string | undefined;
  /** The .system file's name in `staging`. */
  systemFile: string;
  /** The outputs' staging directory: the linked programs go there, and the Microkit tool runs on it. */
  staging: string;
  space: LoaderSpace | undefined;
  boots: ReadonlyMap<string, GuestBoot>;
  /** Each guest's placement; how its images are stored is added here. */
  placements: Map<string, GuestPlacement>;
  /** The guests whose images are prefilled in guest RAM (../guest/prefill.ts). @default none */
  prefilled?: ReadonlyMap<string, PrefilledImages>;
  timings: StageTimings | undefined;
  progress: (line: string) => void;
}

export interface ImageResult {
  /** The linked programs, then loader.img and report.txt (all written into `staging`). */
  artefacts: Artefact[];
  skipped: Skipped[];
  /** Whether a loader.img was made. */
  made: boolean;
}

/** The runtime, the linked VMMs and timer, and loader.img, into `staging`. */
export async function makeImage(input: ImageInput): Promise<ImageResult> {
  const { model, staging, progress } = input;
  const t = input.timings;
  const out: ImageResult = { artefacts: [], skipped: [], made: false };
  const blocker = imageBlocker(model, input.boots, input.sdk);
  if (blocker) {
    out.skipped.push({ step: 'vmm runtime, link and loader.img', reason: blocker });
    return out;
  }
  const sdk = input.sdk!;
  for (const a of await timedAsync(t, 'link', () => linkGuests(model, input.boots, sdk, input.config, progress, input.space, input.placements, input.prefilled ?? new Map()))) {
    await writeFile(path.join(staging, a.file), a.content);
    out.artefacts.push(a);
  }
  const board = model.board;
  if (!board && model.guests.length > 0) return out;
  if (!board) {
    out.skipped.push({ step: 'loader.img', reason: 'no board: pass --board' });
    return out;
  }
  progress(`image: microkit ${input.systemFile} --board ${board.microkitBoard} --config ${input.config}`);
  await timedAsync(t, 'microkit', () => runMicrokit({
    sdk,
    board: board.microkitBoard,
    config: input.config,
    systemFile: path.join(staging, input.systemFile),
    searchPaths: [staging, ...programDirs(model)],
    output: path.join(staging, 'loader.img'),
    report: path.join(staging, 'report.txt'),
    loaderSpace: input.space,
    loc: model.guests[0]?.loc,
  }));
  for (const [file, kind] of [['loader.img', 'loader-image'], ['report.txt', 'microkit-report']] as const) {
    out.artefacts.push({ file, kind, content: await readFile(path.join(staging, file)) });
  }
  out.made = true;
  return out;
}

/** Why no image can be made, or undefined when everything it needs is here. */
function imageBlocker(model: SystemModel, boots: ReadonlyMap<string, GuestBoot>, sdk: string | undefined): string | undefined {
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
  // Microkit 2.3.0 finds prefill files on the same search path.
  for (const mr of model.memoryRegions) if (mr.prefill?.file) dirs.add(path.dirname(mr.prefill.file));
  return [...dirs].sort();
}

/** The timer PD's program, when the system has one. */
async function linkTimerPd(model: SystemModel, sdk: string, config: MicrokitConfig, progress: (line: string) => void): Promise<(Artefact & { content: Uint8Array }) | undefined> {
  const timer = model.vmmTimer;
  if (!timer) return undefined;
  const board = model.board!;
  const built = await buildRuntime({ sdk, board: board.microkitBoard, config, gicVersion: board.gic.version, program: 'timer', cacheDir: runtimeCacheDir(), onProgress: progress });
  progress(`link: ${timer.pd}.elf (${timer.source}, ${timer.clients.length} VMM${timer.clients.length === 1 ? '' : 's'})`);
  return { file: `${timer.pd}.elf`, kind: 'timer-program-image', content: linkTimer(new Uint8Array(await readFile(built.elf)), timer) };
}

/** Build (or reuse) the runtime for each GIC flavour in use, link one VMM per guest and the timer PD. */
async function linkGuests(model: SystemModel, boots: ReadonlyMap<string, GuestBoot>, sdk: string, config: MicrokitConfig, progress: (line: string) => void,
  space: LoaderSpace | undefined, placements: Map<string, GuestPlacement>, prefilled: ReadonlyMap<string, PrefilledImages>): Promise<Artefact[]> {
  const timerArtefact = await linkTimerPd(model, sdk, config, progress);
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
    const inPlace = prefilled.get(g.vm);
    progress(`link: vmm-${g.vm}.elf (${inPlace ? 'config; kernel, device tree and initrd are prefilled in guest RAM' : `kernel, device tree${g.initrd ? ', initrd' : ''} and config`})`);
    const boot = boots.get(g.vm)!;
    const kernel = (await loadKernel(g.kernel.path)).image;
    const initrd = g.initrd ? new Uint8Array(await readFile(g.initrd.path)) : undefined;
    const vm = pds.find((p) => p.name === g.vmm)?.virtualMachine;
    const disks = new Map<string, Uint8Array>();
    // A disk whose region is prefilled does not travel in the ELF.
    const inElf = (mr: string): boolean => !model.memoryRegions.find((m) => m.name === mr)?.prefill;
    for (const d of g.virtio ?? []) if (d.disk && inElf(d.disk.mr)) disks.set(d.name, new Uint8Array(await readFile(d.disk.path)));
    requests.push({
      runtimeElf: runtime, guest: g, board, vcpuIds: vm?.vcpus.map((v) => v.id) ?? [0], placement: boot.placement, kernel, dtb: boot.dtb, initrd,
      compressImages: g.compressImages, wake: wakeRouteOf(model.vmmTimer, g.vm), control: controlRouteOf(model, g.vm), disks, prefilled: inPlace,
    });
  }
  // The other programs share the room below the loader with the VMMs.
  const otherData: PlacedData[] = timerArtefact ? [{ what: timerArtefact.file, size: elfPlacedSize(timerArtefact.content) }] : [];
  for (const pd of pds) {
    if (pd.vmmOf !== undefined || pd.programPath === undefined) continue;
    try {
      otherData.push({ what: path.basename(pd.programPath), size: elfPlacedSize(new Uint8Array(await readFile(pd.programPath))) });
    } catch {
      // Not an ELF the tool can load: the Microkit tool reports it.
    }
  }
  const linked = linkVmms(requests, { space, otherData, loc: model.guests[0]?.loc });
  const vmms = linked.map((l, i): Artefact => {
    const g = requests[i]!.guest;
    const p = placements.get(g.vm);
    if (p) p.stored = { kernel: l.stored.kernel, initrd: l.stored.initrd };
    if (p && requests[i]!.prefilled) p.prefilled = true;
    if (l.stored.kernel.compressed) progress(`link: vmm-${g.vm}.elf carries its kernel${l.stored.initrd ? ' and initrd' : ''} compressed`);
    return { file: `vmm-${g.vm}.elf`, kind: 'vmm-program-image', content: l.elf };
  });
  return timerArtefact ? [...vmms, timerArtefact] : vmms;
}
