// Shared by the tests: where the repository is, how to run the real command line, and what a
// test needs that this machine may not have.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { test, type Callback } from 'uvu';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!(existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'boards')))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

export const repoRoot = findRoot();
export const fixtures = path.join(repoRoot, 'test', 'fixtures');
export const cliPath = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/**
 * Context values for the shipped systems that read an input their user makes (each one's header
 * says how): a stand-in that synthesises, so the tests that go over every example need none.
 */
export const shippedSystemContext: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // Any image of whole sectors: only its size reaches the .system file.
  'examples/console-block-qemu.ts': { disk: path.join(fixtures, 'virtio', 'disk.img') },
};

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run `sel4cp-synth args...` as a user would, from `cwd` (default the repository root). */
export function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    ...(options.input !== undefined ? { input: options.input } : {}),
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Why the Microkit SDK in MICROKIT_SDK (or `sdk`) cannot build for `board` in `config`: an SDK is
 * built per board, and one built for QEMU alone has no real boards. Undefined when it can.
 */
export function missingSdkBoard(board: string, config: string, sdk = process.env['MICROKIT_SDK']): string | undefined {
  if (!sdk) return undefined;
  return existsSync(path.join(sdk, 'board', board, config, 'lib', 'libmicrokit.a'))
    ? undefined
    : `the Microkit SDK at ${sdk} was not built for board ${board} (${config})`;
}

/** Print the one line a test prints when what it needs is absent. */
export function skip(reason: string): void {
  process.stdout.write(`SKIP ${reason}\n`);
}

/**
 * Register a test that needs something this machine may not have. With `missing` set (why it
 * cannot run, from `missing(...)`), the test is registered as skipped, so that uvu counts it under
 * "Skipped" and never as a pass, and it prints one `SKIP <name>: <reason>` line when its file
 * runs; otherwise it is an ordinary test.
 */
export function testIf(missing: string | undefined, name: string, fn: Callback): void {
  if (missing === undefined) {
    test(name, fn);
    return;
  }
  // A before hook, so that the line is printed under its file's name rather than at import.
  test.before(() => skip(`${name}: ${missing}`));
  test.skip(name, fn);
}

/** What a test may need; `missing()` says why one is absent. */
export type Need =
  | 'microkit-sdk' | 'microkit-src' | 'microkit-src-2.3.0' | 'sel4cp-src'
  | 'qemu' | 'dtc' | 'cross-gcc' | 'cross-binutils' | 'cpio' | 'chromium' | 'graphviz' | 'git' | 'gzip' | 'host-cc' | 'make' | 'mke2fs' | 'debugfs'
  | 'guest-kernel' | 'guest-initrd' | 'guest-busybox' | 'guest-manifest' | 'guest-modules' | 'board-dtbs';

/** Where `npm run guest` puts the guest images and Debian's board DTBs. */
export const guestDir = path.join(repoRoot, '.cache', 'guest');

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether PATH holds an executable `name`, as a shell would find it. */
export function onPath(name: string): boolean {
  return (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean).some((dir) => executable(path.join(dir, name)));
}

/**
 * The command (or any of its alternative names) and the Debian package that installs it;
 * `sbin`: also looked for in /usr/sbin and /sbin, which a user's PATH may lack on Debian.
 */
const commands: Partial<Record<Need, { names: string[]; debianPackage: string; sbin?: boolean }>> = {
  'qemu': { names: ['qemu-system-aarch64'], debianPackage: 'qemu-system-arm' },
  'dtc': { names: ['dtc'], debianPackage: 'device-tree-compiler' },
  'cross-gcc': { names: ['aarch64-linux-gnu-gcc'], debianPackage: 'gcc-aarch64-linux-gnu' },
  // readelf stands for the package's ld and nm too.
  'cross-binutils': { names: ['aarch64-linux-gnu-readelf'], debianPackage: 'binutils-aarch64-linux-gnu' },
  'cpio': { names: ['cpio'], debianPackage: 'cpio' },
  'chromium': { names: ['chromium', 'chromium-browser'], debianPackage: 'chromium' },
  'graphviz': { names: ['dot'], debianPackage: 'graphviz' },
  'git': { names: ['git'], debianPackage: 'git' },
  'gzip': { names: ['gzip'], debianPackage: 'gzip' },
  'host-cc': { names: ['cc'], debianPackage: 'gcc' },
  'make': { names: ['make'], debianPackage: 'make' },
  'mke2fs': { names: ['mke2fs'], debianPackage: 'e2fsprogs', sbin: true },
  'debugfs': { names: ['debugfs'], debianPackage: 'e2fsprogs', sbin: true },
};

/** Where the command a need names is (a path to run it by), or undefined when it is not installed. */
export function commandPath(need: Need): string | undefined {
  const command = commands[need];
  if (!command) return undefined;
  for (const name of command.names) {
    if (onPath(name)) return name;
    const found = (command.sbin ? ['/usr/sbin', '/sbin'] : []).map((d) => path.join(d, name)).find(executable);
    if (found) return found;
  }
  return undefined;
}

const guestFiles: Partial<Record<Need, string[]>> = {
  'guest-kernel': ['Image'],
  'guest-initrd': ['initramfs.cpio'],
  'guest-busybox': ['busybox'],
  'guest-manifest': ['manifest.json'],
  // The kernel modules tree (modules/<release>/); older runs of 'npm run guest' made none.
  'guest-modules': ['modules'],
  'board-dtbs': ['dtbs/imx8mm-evk.dtb', 'dtbs/meson-gxbb-odroidc2.dtb'],
};

function whyMissing(need: Need): string | undefined {
  if (need === 'microkit-sdk') {
    const sdk = process.env['MICROKIT_SDK'];
    if (!sdk) return 'MICROKIT_SDK is not set (the Microkit 2.0.1 SDK)';
    return existsSync(path.join(sdk, 'bin', 'microkit')) ? undefined : `MICROKIT_SDK (${sdk}) is not a Microkit SDK: no bin/microkit`;
  }
  if (need === 'microkit-src') {
    const src = process.env['MICROKIT_SRC'];
    if (!src) return 'MICROKIT_SRC is not set (a checkout of seL4/microkit at tag 2.0.1)';
    return existsSync(path.join(src, 'tool', 'microkit', 'tests', 'sdf')) && existsSync(path.join(src, 'example'))
      ? undefined
      : `MICROKIT_SRC (${src}) is not a checkout of seL4/microkit 2.0.1: no tool/microkit/tests/sdf or example/`;
  }
  if (need === 'microkit-src-2.3.0') {
    const src = process.env['MICROKIT_SRC_2_3_0'];
    if (!src) return 'MICROKIT_SRC_2_3_0 is not set (a checkout of seL4/microkit at tag 2.3.0)';
    const version = existsSync(path.join(src, 'VERSION')) ? readFileSync(path.join(src, 'VERSION'), 'utf8').trim() : undefined;
    return version === '2.3.0' && existsSync(path.join(src, 'tool', 'microkit', 'tests', 'test.rs'))
      ? undefined
      : `MICROKIT_SRC_2_3_0 (${src}) is not a checkout of seL4/microkit 2.3.0 (VERSION ${version ?? 'missing'}, or no tool/microkit/tests/test.rs)`;
  }
  if (need === 'sel4cp-src') {
    const src = process.env['SEL4CP_SRC'];
    if (!src) return 'SEL4CP_SRC is not set (a checkout of au-ts/libvmm at commit 10d0f1c5, the 2023 seL4CP VMM)';
    return existsSync(path.join(src, 'board', 'qemu_arm_virt_hyp', 'systems'))
      ? undefined
      : `SEL4CP_SRC (${src}) is not a checkout of the 2023 seL4CP VMM: no board/qemu_arm_virt_hyp/systems`;
  }
  const command = commands[need];
  if (command) {
    return commandPath(need) !== undefined ? undefined : `${command.names.join(' or ')} not installed (Debian package ${command.debianPackage})`;
  }
  const absent = (guestFiles[need] ?? []).filter((f) => !existsSync(path.join(guestDir, f)));
  return absent.length ? `${absent.map((f) => `.cache/guest/${f}`).join(', ')} missing (run 'npm run guest')` : undefined;
}

const known = new Map<Need, string | undefined>();

/** Why a test needing all of `needs` cannot run here (the first absent one), or undefined. */
export function missing(...needs: Need[]): string | undefined {
  for (const need of needs) {
    if (!known.has(need)) known.set(need, whyMissing(need));
    const why = known.get(need);
    if (why !== undefined) return why;
  }
  return undefined;
}

/** A port on 127.0.0.1 that was free a moment ago (for QEMU's host forwards and test servers). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
