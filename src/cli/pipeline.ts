// The synthesis pipeline as the commands run it: model → guest device trees and placement →
// emit → link → Microkit tool → write. This is the one place that strings the pure stages
// together with the effects they need; each stage's effects live in src/cli/stages/.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFile, writeFile } from 'node:fs/promises';
import { error, hasErrors, type Diagnostic } from '../compile/diagnostics/index.js';
import { existsSync } from 'node:fs';
import type { SystemModel } from '../compile/model/index.js';
import { emitSystemXml } from '../compile/emit/system-xml.js';
import { emitManifest, type Artefact, type GuestPlacement } from '../compile/emit/manifest.js';
import { boardTreeFindings, prepareGuestBoot } from '../compile/emit/guest-boot.js';
import type { Fdt } from '../compile/dtb/fdt.js';
import { runMicrokit } from '../compile/link/microkit-tool.js';
import { openOutput } from './output.js';
import type { LoaderSpace } from '../compile/link/loader-space.js';
import { TOOL_VERSION } from './version.js';
import { buildModel, type ModelOptions } from './stages/model.js';
import { guestTrees } from './stages/guest-trees.js';
import { imageBlocker, linkGuests, programDirs, type GuestBootArtefacts } from './stages/image.js';
import { timedAsync } from './stages/timings.js';
import type { MicrokitConfig } from '../compile/model/target.js';

export { buildModel, pickBoard, type ModelOptions } from './stages/model.js';
export type { StageTimings } from './stages/timings.js';

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
  skipped: { step: string; reason: string }[];
  /** Set when a loader.img was made. */
  loaderImage: string | undefined;
}

/** What a run gathers as it goes: the files of the set, where guests go, what it skipped and why. */
interface Gathered {
  artefacts: Artefact[];
  placements: Map<string, GuestPlacement>;
  boots: Map<string, GuestBootArtefacts>;
  diagnostics: Diagnostic[];
  skipped: { step: string; reason: string }[];
}

export async function synthesise(options: SynthOptions): Promise<SynthResult> {
  const { model, diagnostics, loaderSpace: space } = await buildModel({ ...options, packInitramfs: true });
  const cwd = options.cwd ?? process.cwd();
  const outDir = path.resolve(cwd, options.outDir ?? path.join('build', model.name));
  const run: Gathered = { artefacts: [], placements: new Map(), boots: new Map(), diagnostics, skipped: [] };
  const none = (): SynthResult => ({ model, diagnostics, outDir, written: [], skipped: run.skipped, loaderImage: undefined });
  if (hasErrors(diagnostics)) return none();
  const sdk = options.sdk ?? process.env['MICROKIT_SDK'];
  checkGuestImages(model, sdk, run);
  if (hasErrors(diagnostics)) return none();

  // Before anything is built: the outputs can go where --out says (a UserError otherwise).
  const output = await openOutput(outDir);
  try {
    const t = options.timings;
    const emitStart = performance.now();
    const systemFile = `${model.name}.system`;
    run.artefacts.push({ file: systemFile, kind: 'microkit-system-description', content: emitSystemXml(model, { toolVersion: TOOL_VERSION }) });
    makeGuestTrees(model, run);
    if (t) t.emit = performance.now() - emitStart;
    if (hasErrors(diagnostics)) return none();

    for (const a of run.artefacts) await writeFile(path.join(output.staging, a.file), a.content);
    const loaderImage = await makeImage(options, model, systemFile, space, output.staging, run);
    const manifest = emitManifest({ toolVersion: TOOL_VERSION, system: model, config: options.config, outDir, artefacts: run.artefacts, placements: run.placements, skipped: run.skipped });
    await writeFile(path.join(output.staging, 'manifest.json'), manifest);
    const names = [...run.artefacts.map((a) => a.file), 'manifest.json'];
    await timedAsync(t, 'write', () => output.commit(names));
    if (loaderImage) options.onProgress?.(`image: ${path.relative(cwd, path.join(outDir, 'loader.img'))}`);
    return { model, diagnostics, outDir, written: names, skipped: run.skipped, loaderImage: loaderImage ? path.join(outDir, 'loader.img') : undefined };
  } finally {
    await output.discard();
  }
}

/**
 * Without an SDK the main command goes as far as its inputs allow; with one, a missing guest
 * image means the image that was asked for cannot be made.
 */
function checkGuestImages(model: SystemModel, sdk: string | undefined, run: Gathered): void {
  const haveSdk = sdk !== undefined && sdk !== '' && existsSync(path.join(sdk, 'bin', 'microkit'));
  for (const g of model.guests) {
    const missing: [string, string, string][] = [];
    if (g.kernel.size === undefined) missing.push(['kernel', 'kernel', g.kernel.path]);
    if (g.initrd && g.initrd.size === undefined) missing.push(['initrd (or an input of its initramfs)', 'initrd', g.initrd.path]);
    for (const [what, key, file] of missing) {
      if (haveSdk) {
        run.diagnostics.push(error('guest-image-missing', `the ${what} of '${g.vm}' is not there: ${file}; with the Microkit SDK present, the image cannot be built without it`, g.loc, {
          hint: `run 'npm run guest', or give -c ${key}=PATH`,
        }));
      } else {
        run.skipped.push({ step: `images of '${g.vm}'`, reason: `${what} not found: ${file} (run 'npm run guest', or give -c ${key}=PATH)` });
      }
    }
  }
}

/** Each guest's device tree and placement (board trees read and cross-checked once each). */
function makeGuestTrees(model: SystemModel, run: Gathered): void {
  const boardTrees = new Map<string, Fdt | string>();
  const crossChecked = new Set<Fdt>();
  for (const g of model.guests) {
    const inputs = guestTrees(g, model.board!, boardTrees);
    if (typeof inputs === 'string') {
      run.skipped.push({ step: `guest device tree of '${g.vm}'`, reason: inputs });
      continue;
    }
    if (inputs.boardTree && !crossChecked.has(inputs.boardTree)) {
      crossChecked.add(inputs.boardTree);
      run.diagnostics.push(...boardTreeFindings(model.board!, inputs.boardTree));
    }
    const result = prepareGuestBoot({ guest: g, board: model.board!, ...inputs });
    run.diagnostics.push(...result.diagnostics);
    if (result.skipped) run.skipped.push({ step: `guest device tree of '${g.vm}'`, reason: result.skipped });
    if (result.boot) {
      const p = result.boot.placement;
      run.artefacts.push({ file: `${g.vm}.dtb`, kind: 'guest-device-tree', content: result.boot.dtb });
      run.placements.set(g.vm, { kernel: p.kernel, dtb: p.dtb, initrd: p.initrd, entry: p.entry });
      run.boots.set(g.vm, result.boot);
    }
  }
}

/** The runtime, the linked VMMs and timer, and loader.img, into `staging`; whether an image was made. */
async function makeImage(options: SynthOptions, model: SystemModel, systemFile: string, space: LoaderSpace | undefined, staging: string, run: Gathered): Promise<boolean> {
  const progress = options.onProgress ?? (() => undefined);
  const t = options.timings;
  const sdkOption = options.sdk ?? process.env['MICROKIT_SDK'];
  const blocker = imageBlocker(model, run.boots, sdkOption);
  if (blocker) {
    run.skipped.push({ step: 'vmm runtime, link and loader.img', reason: blocker });
    return false;
  }
  const sdk = sdkOption!;
  for (const a of await timedAsync(t, 'link', () => linkGuests(model, run.boots, sdk, options.config, progress, space, run.placements))) {
    await writeFile(path.join(staging, a.file), a.content);
    run.artefacts.push(a);
  }
  const board = model.board;
  if (!board && model.guests.length > 0) return false;
  if (!board) {
    run.skipped.push({ step: 'loader.img', reason: 'no board: pass --board' });
    return false;
  }
  progress(`image: microkit ${systemFile} --board ${board.microkitBoard} --config ${options.config}`);
  await timedAsync(t, 'microkit', () => runMicrokit({
    sdk,
    board: board.microkitBoard,
    config: options.config,
    systemFile: path.join(staging, systemFile),
    searchPaths: [staging, ...programDirs(model)],
    output: path.join(staging, 'loader.img'),
    report: path.join(staging, 'report.txt'),
    loaderSpace: space,
    loc: model.guests[0]?.loc,
  }));
  for (const [file, kind] of [['loader.img', 'loader-image'], ['report.txt', 'microkit-report']] as const) {
    run.artefacts.push({ file, kind, content: await readFile(path.join(staging, file)) });
  }
  return true;
}
