// The synthesis pipeline as the commands run it: model → guest device trees and placement →
// emit → link → Microkit tool → write. This is the one place that strings the pure stages
// together with the effects they need; each stage's effects live in src/cli/stages/.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { hasErrors, type Diagnostic } from '../compile/diagnostics.js';
import type { SystemModel } from '../compile/model.js';
import { emitSystemXml } from '../compile/emit/system-xml.js';
import { emitManifest, type Artefact, type GuestPlacement } from '../compile/emit/manifest.js';
import { boardTreeFindings, prepareGuestBoot } from '../compile/emit/guest-boot.js';
import type { Fdt } from '../compile/dtb/fdt.js';
import { runMicrokit } from '../compile/link/microkit-tool.js';
import { commitStaging, makeStaging } from './io.js';
import { TOOL_VERSION } from './version.js';
import { buildModel, type ModelOptions } from './stages/model.js';
import { guestTrees } from './stages/guest-trees.js';
import { imageBlocker, linkGuests, programDirs, type GuestBootArtefacts } from './stages/image.js';
import { timedAsync } from './stages/timings.js';

export { buildModel, pickBoard, type ModelOptions } from './stages/model.js';
export type { StageTimings } from './stages/timings.js';

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

export async function synthesise(options: SynthOptions): Promise<SynthResult> {
  const { model, diagnostics, loaderSpace: space } = await buildModel({ ...options, packInitramfs: true });
  const cwd = options.cwd ?? process.cwd();
  const progress = options.onProgress ?? (() => undefined);
  const outDir = path.resolve(cwd, options.outDir ?? path.join('build', model.name));
  const none = (): SynthResult => ({ model, diagnostics, outDir, written: [], skipped, loaderImage: undefined });
  const skipped: { step: string; reason: string }[] = [];
  if (hasErrors(diagnostics)) return none();

  for (const g of model.guests) {
    if (g.kernel.size === undefined) skipped.push({ step: `images of '${g.vm}'`, reason: `kernel not found: ${g.kernel.path} (run 'npm run guest', or give -c kernel=PATH)` });
    if (g.initrd && g.initrd.size === undefined) skipped.push({ step: `images of '${g.vm}'`, reason: `initrd (or an input of its initramfs) not found: ${g.initrd.path} (run 'npm run guest', or give -c initrd=PATH)` });
  }

  const systemFile = `${model.name}.system`;
  const t = options.timings;
  const emitStart = performance.now();
  const artefacts: Artefact[] = [{ file: systemFile, kind: 'microkit-system-description', content: emitSystemXml(model, { toolVersion: TOOL_VERSION }) }];
  const placements = new Map<string, GuestPlacement>();
  const boots = new Map<string, GuestBootArtefacts>();
  const boardTrees = new Map<string, Fdt | string>();
  const crossChecked = new Set<Fdt>();
  for (const g of model.guests) {
    const inputs = guestTrees(g, model.board!, boardTrees);
    if (typeof inputs === 'string') {
      skipped.push({ step: `guest device tree of '${g.vm}'`, reason: inputs });
      continue;
    }
    if (inputs.boardTree && !crossChecked.has(inputs.boardTree)) {
      crossChecked.add(inputs.boardTree);
      diagnostics.push(...boardTreeFindings(model.board!, inputs.boardTree));
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
