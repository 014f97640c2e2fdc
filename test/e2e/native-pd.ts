// Builds a native Microkit protection domain with Debian's cross gcc against the SDK's
// libmicrokit: the test and benchmark systems' own PDs (the counter, the benchmark's minimal PD,
// the link responder, which also links the VMM runtime's freestanding net_link.c).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
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
  /** The C source with init() and notified(). */
  source: string;
  /** More C sources linked in (e.g. src/vmm-runtime/virtio/net_link.c). @default [] */
  sources?: string[];
  /** Include directories for all sources. @default [] */
  includes?: string[];
  /** The ELF to write. */
  out: string;
}

/**
 * A freestanding Linux program for the test guest (raw system calls, no libc, so no arm64 libc
 * is needed): examples/doorbell/client.c, test/e2e/guest/udp-send.c. Built once per `out`.
 */
export function buildGuestProgram(source: string, out: string): string {
  if (!existsSync(out)) {
    mkdirSync(path.dirname(out), { recursive: true });
    execFileSync(CROSS_GCC, ['-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-O2', '-Wall', '-Wextra', '-Werror',
      '-o', out, source], { stdio: 'pipe' });
  }
  return out;
}

export function buildNativePd(b: NativePdBuild): string {
  const boardDir = path.join(b.sdk, 'board', b.board, b.config);
  const gccInclude = execFileSync(CROSS_GCC, ['-print-file-name=include'], { encoding: 'utf8' }).trim();
  mkdirSync(path.dirname(b.out), { recursive: true });
  const includes = [...(b.includes ?? []), path.join(boardDir, 'include')].flatMap((d) => ['-I', d]);
  // -fno-tree-loop-distribute-patterns: a memset/memcpy loop (the runtime's lib/string.c) must
  // not be turned into a call to itself.
  const objs = [b.source, ...(b.sources ?? [])].map((source, i) => {
    const obj = i === 0 ? `${b.out}.o` : `${b.out}.${i}-${path.basename(source, '.c')}.o`;
    execFileSync(CROSS_GCC, ['-mcpu=cortex-a53', '-mstrict-align', '-ffreestanding', '-nostdlib', '-nostdinc', '-isystem', gccInclude, '-O2',
      '-fno-tree-loop-distribute-patterns', '-Wall', '-Werror', '-Wno-unused-function', ...includes, '-c', source, '-o', obj]);
    return obj;
  });
  execFileSync('aarch64-linux-gnu-ld', ['-L', path.join(boardDir, 'lib'), ...objs, '-lmicrokit', '-T', 'microkit.ld', '-o', b.out]);
  return b.out;
}
