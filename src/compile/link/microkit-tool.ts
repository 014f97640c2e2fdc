// Run the Microkit tool on a synthesised system. Its own errors become our user errors (the
// message it printed, with the .system it read), and its report is kept beside the image.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { hex } from '../../format.js';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import type { Loc } from '../model/index.js';
import { mib, type LoaderSpace } from './loader-space.js';

export interface MicrokitRun {
  sdk: string;
  board: string;
  config: string;
  systemFile: string;
  searchPaths: string[];
  output: string;
  report: string;
  /** Explains an "Overlapping regions" panic. @default a generic explanation */
  loaderSpace?: LoaderSpace | undefined;
  /** Where to point such an error (the first virtual machine). @default none */
  loc?: Loc;
}

export function microkitTool(sdk: string): string {
  return path.join(sdk, 'bin', 'microkit');
}

export async function runMicrokit(run: MicrokitRun): Promise<void> {
  const tool = microkitTool(run.sdk);
  if (!existsSync(tool)) {
    throw new UserError(error('microkit-sdk-missing', `${run.sdk} has no bin/microkit: it is not a Microkit SDK`, undefined, {
      hint: 'set MICROKIT_SDK (or --sdk) to the SDK directory, the one with bin/microkit and board/',
    }));
  }
  const args = [run.systemFile, '--board', run.board, '--config', run.config, '-o', run.output, '-r', run.report];
  for (const p of run.searchPaths) args.push('--search-path', p);
  const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(tool, args, { cwd: path.dirname(run.systemFile), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MICROKIT_SDK: run.sdk } });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c ?? 1, output: text }));
  });
  if (code !== 0) {
    const lines = output.trim().split('\n').filter((l) => l.trim() !== '');
    const overlap = /Overlapping regions: \[([0-9a-f]+)\.\.([0-9a-f]+)\) overlaps \[([0-9a-f]+)\.\.([0-9a-f]+)\)/.exec(output);
    if (overlap) throw new UserError(overlapError(run, overlap.slice(1, 5).map((h) => BigInt(`0x${h}`)) as [bigint, bigint, bigint, bigint]));
    throw new UserError(error('microkit-tool-failed', `the Microkit tool rejected ${path.basename(run.systemFile)} (exit ${code}): ${lines.slice(-12).join('\n  ') || 'no output'}`, undefined, {
      hint: 'sel4cp-synth validated this system; a rejection here is worth reporting as a missing check',
    }));
  }
}

/**
 * loader.rs check_non_overlapping: the last region it adds is the loader itself, so "[a..b)
 * overlaps [c..d)" with a at the loader address means the PD data [c..d) runs into the loader.
 */
function overlapError(run: MicrokitRun, [a, b, c, d]: [bigint, bigint, bigint, bigint]): Diagnostic {
  const space = run.loaderSpace;
  const where = space ? `board '${space.board}', loader at ${hex(space.loaderAddress)}, ${mib(space.space)} for PD data` : `board '${run.board}'`;
  return error('images-exceed-loader-space',
    `the Microkit tool could not place the system (${where}): the data it copies into RAM [${hex(c)}..${hex(d)}) overlaps [${hex(a)}..${hex(b)}) (Microkit 2.0.1 "Overlapping regions": all PD ELF data goes between the seL4 kernel and the loader)`,
    run.loc, {
      hint: "compress the guest images (compressImages: true or 'auto' in virtualMachine()), or use smaller images or fewer guests on this board (upstream: seL4/microkit issue #477)",
    });
}
