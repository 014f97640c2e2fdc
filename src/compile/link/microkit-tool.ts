// Run the Microkit tool on a synthesised system. Its own errors become our user errors (the
// message it printed, with the .system it read), and its report is kept beside the image.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { error, UserError } from '../diagnostics.js';

export interface MicrokitRun {
  sdk: string;
  board: string;
  config: string;
  systemFile: string;
  searchPaths: string[];
  output: string;
  report: string;
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
    throw new UserError(error('microkit-tool-failed', `the Microkit tool rejected ${path.basename(run.systemFile)} (exit ${code}): ${lines.slice(-12).join('\n  ') || 'no output'}`, undefined, {
      hint: 'sel4cp-synth validated this system; a rejection here is worth reporting as a missing check',
    }));
  }
}
