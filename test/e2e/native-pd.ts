// Builds a one-file native Microkit protection domain with Debian's cross gcc against the SDK's
// libmicrokit: the test and benchmark systems' own PDs (the counter, the benchmark's minimal PD).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const CROSS_GCC = 'aarch64-linux-gnu-gcc';

/** Why native PDs cannot be built here, or undefined. */
export function missingCrossCompiler(): string | undefined {
  return spawnSync(CROSS_GCC, ['--version']).status === 0 ? undefined : `${CROSS_GCC} not found (Debian package gcc-aarch64-linux-gnu)`;
}

export interface NativePdBuild {
  sdk: string;
  board: string;
  config: 'debug' | 'release';
  /** The C source (one file). */
  source: string;
  /** The ELF to write. */
  out: string;
}

export function buildNativePd(b: NativePdBuild): string {
  const boardDir = path.join(b.sdk, 'board', b.board, b.config);
  const gccInclude = execFileSync(CROSS_GCC, ['-print-file-name=include'], { encoding: 'utf8' }).trim();
  mkdirSync(path.dirname(b.out), { recursive: true });
  const obj = `${b.out}.o`;
  execFileSync(CROSS_GCC, ['-mcpu=cortex-a53', '-mstrict-align', '-ffreestanding', '-nostdlib', '-nostdinc', '-isystem', gccInclude, '-O2',
    '-Wall', '-Werror', '-Wno-unused-function', '-I', path.join(boardDir, 'include'), '-c', b.source, '-o', obj]);
  execFileSync('aarch64-linux-gnu-ld', ['-L', path.join(boardDir, 'lib'), obj, '-lmicrokit', '-T', 'microkit.ld', '-o', b.out]);
  return b.out;
}
