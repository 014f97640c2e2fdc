/**
 * `sel4cp-synth guest` (and, in this repository, `npm run guest`): the test guest from Debian's
 * arm64 packages, into the user's cache (`$XDG_CACHE_HOME/sel4cp-synth/guest`, or the
 * repository's `.cache/guest/` for `npm run guest`):
 *
 *   Image                       raw arm64 kernel Image (Linux arm64 boot protocol)
 *   initramfs.cpio              uncompressed newc initramfs: busybox + /init (see busybox-initramfs.ts)
 *   initramfs-idle.cpio         the same with the /init that stays up and idles (idleInitScript)
 *   busybox                     the static arm64 busybox, for initramfs() in a systems.ts
 *   modules/<release>/          the kernel's modules a virtual guest uses (KEPT_MODULE_DIRS and what
 *                               they need), with a modules.dep, for initramfs({ modules })
 *   dtbs/imx8mm-evk.dtb         Debian's board device trees, for the real-board systems
 *   dtbs/meson-gxbb-odroidc2.dtb
 *   manifest.json               package names and versions, sha256 of every output
 *   debs/                       the downloaded .deb files, kept so a rerun does not download
 *
 * Steps: `dpkg --add-architecture arm64` if needed; resolve the versioned kernel package behind
 * the `linux-image-arm64` metapackage; `apt-get download` it and `busybox-static:arm64`
 * (`apt-get update` only when that fails, e.g. no arm64 package lists yet); `dpkg-deb -x`;
 * unpack vmlinuz; check the kernel config; build the initramfs; write the modules tree (Debian
 * ships no modules.dep, its postinst runs depmod: it is written from each module's .modinfo);
 * write to temp names and rename.
 *
 * The pure parts (parsing apt output, file names, the manifest check) are exported apart from
 * the parts that run processes, so tests can call both.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';

import { KernelImageError, missingKernelConfig, parseArm64ImageHeader, unpackVmlinuz, type VmlinuzFormat } from '../compile/initramfs/arm64-image.js';
import { buildBusyboxInitramfs, idleInitScript, initScript } from '../compile/initramfs/busybox-initramfs.js';
import { formatModulesDep, modinfoDepends, moduleCompression, moduleName, readModinfo } from '../compile/initramfs/kernel-modules.js';
import { loadBoards } from '../compile/load/boards.js';
import { userGuestDir } from '../compile/package.js';
import { findExecutable } from '../run/qemu.js';

// ---------------------------------------------------------------------------------------------
// Pure parts

export const GUEST_ARCH = 'arm64';
export const KERNEL_METAPACKAGE = 'linux-image-arm64';
export const BUSYBOX_PACKAGE = 'busybox-static';
export const MANIFEST_NAME = 'manifest.json';
/** Bumped when the manifest's shape changes; an older manifest means "rebuild". */
/** 2: the static busybox is kept too, for initramfs() in a systems.ts. 3: the modules tree. */
export const MANIFEST_FORMAT = 3;

/**
 * Board device trees copied from the kernel package's /usr/lib/linux-image-<release>/: every
 * board whose boards/*.json names one (`dtb.debianPath`), read with the one board parser.
 */
export const BOARD_DTBS = [...new Set(loadBoards().flatMap((b) => (b.dtb?.debianPath ? [b.dtb.debianPath] : [])))]
  .sort()
  .map((source) => ({ source, output: `dtbs/${source.split('/').pop()!}` }));

/** Every output named in the manifest, relative to the output directory. */
export const OUTPUT_FILES = ['Image', 'initramfs.cpio', 'initramfs-idle.cpio', 'busybox', ...BOARD_DTBS.map((d) => d.output)] as const;

/** Where the modules trees go: `modules/<release>/`, one release at a time. */
export const MODULES_DIR = 'modules';

/**
 * The parts of the kernel's modules tree kept, each with every module it needs (wherever that
 * is): the virtio drivers, block and character devices (virtio_blk, virtio_console, hw_random),
 * the virtual network drivers at the top of drivers/net (virtio_net, tun, veth, ...; not the NIC
 * drivers below it), the network stack, the file systems, and the libraries and ciphers they use.
 * For Debian's 6.1.0-57-arm64 that is 824 of its 3685 modules, 71 of 292 MB: the whole tree
 * would be four times the rest of .cache/guest for modules a virtual guest never loads (GPUs,
 * sound, media, wireless and wired NICs).
 */
export const KEPT_MODULE_DIRS = ['kernel/drivers/virtio/', 'kernel/drivers/block/', 'kernel/drivers/char/', 'kernel/net/', 'kernel/fs/', 'kernel/lib/', 'kernel/crypto/'] as const;
/** Directories whose own modules are kept, not their subdirectories'. */
export const KEPT_MODULE_FILES_IN = ['kernel/drivers/net/'] as const;

export function isKeptModule(path: string): boolean {
  return KEPT_MODULE_DIRS.some((d) => path.startsWith(d)) || KEPT_MODULE_FILES_IN.some((d) => path.startsWith(d) && !path.slice(d.length).includes('/'));
}

/** The kept modules and everything they need, in path order. */
export function selectModules<M extends { path: string; depends: readonly string[] }>(all: readonly M[]): M[] {
  const byName = new Map(all.map((m) => [moduleName(m.path), m]));
  const chosen = new Set<M>();
  const add = (m: M): void => {
    if (chosen.has(m)) return;
    chosen.add(m);
    // A name with no module is built into the kernel (modpost lists only modules, but be lenient).
    for (const d of m.depends) if (byName.has(d)) add(byName.get(d)!);
  };
  all.filter((m) => isKeptModule(m.path)).forEach(add);
  return [...chosen].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One digest for a directory tree: sha256 over `sha256  path` lines in path order (sha256sum's form). */
export function treeSha256(files: ReadonlyMap<string, string>): string {
  return sha256([...files.keys()].sort().map((p) => `${files.get(p)}  ${p}\n`).join(''));
}

/** What the manifest's initScriptSha256 covers: both /init scripts, so a change to either rebuilds. */
export function initScriptsSha256(): string {
  return sha256(initScript() + '\0' + idleInitScript());
}

/** Where `sel4cp-synth guest` writes by default: the user's cache, which synthesis reads too. */
export function defaultGuestDir(): string {
  return userGuestDir();
}

/**
 * The versioned kernel package from `apt-cache depends linux-image-arm64:arm64`, e.g.
 * `linux-image-6.1.0-56-arm64` (or its `-unsigned` twin on releases that ship one).
 */
export function parseKernelDependency(aptCacheDependsOutput: string): string | undefined {
  for (const line of aptCacheDependsOutput.split('\n')) {
    const m = /^\s*\|?Depends:\s*(linux-image-\d\S*-arm64(?:-unsigned)?)(?::arm64)?\s*$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** The fields of the first stanza of `apt-cache show` output (continuation lines joined). */
export function parseAptStanza(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (fields.size > 0) break;
      continue;
    }
    if (/^\s/.test(line) && last !== undefined) {
      fields.set(last, `${fields.get(last)}\n${line.trim()}`);
      continue;
    }
    const m = /^([\w.-]+):\s?(.*)$/.exec(line);
    if (m) {
      last = m[1]!;
      fields.set(last, m[2]!);
    }
  }
  return fields;
}

/** One Debian binary package as apt describes it. */
export interface DebPackage {
  readonly name: string;
  readonly version: string;
  readonly architecture: string;
  /** sha256 of the .deb, from the archive's signed package index. */
  readonly sha256: string;
  readonly size: number;
}

export function packageFromStanza(fields: Map<string, string>): DebPackage | undefined {
  const name = fields.get('Package');
  const version = fields.get('Version');
  const architecture = fields.get('Architecture');
  const sha256 = fields.get('SHA256');
  const size = Number(fields.get('Size'));
  if (!name || !version || !architecture || !sha256 || !Number.isFinite(size)) return undefined;
  return { name, version, architecture, sha256, size };
}

/** The file name `apt-get download` gives a package: `name_version_arch.deb`, ':' as `%3a`. */
export function debFileName(p: Pick<DebPackage, 'name' | 'version' | 'architecture'>): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.architecture}.deb`;
}

/** The kernel release from a `/boot/vmlinuz-<release>` file name. */
export function kernelRelease(vmlinuzName: string): string | undefined {
  return /^vmlinuz-(.+)$/.exec(vmlinuzName)?.[1];
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface GuestManifest {
  readonly format: number;
  readonly packages: { readonly kernel: DebPackage; readonly busybox: DebPackage };
  readonly kernel: {
    readonly release: string;
    readonly vmlinuz: VmlinuzFormat;
    readonly imageSize: number;
  };
  /** sha256 of the /init scripts (initScriptsSha256), so a change to either rebuilds the initramfs. */
  readonly initScriptSha256: string;
  readonly files: Readonly<Record<string, { readonly sha256: string; readonly size: number }>>;
  readonly modules: ModulesTreeManifest;
}

export interface ModulesTreeManifest {
  /** Relative to the output directory: `modules/<release>`. */
  readonly dir: string;
  /** Modules kept, and how many the package has. */
  readonly count: number;
  readonly of: number;
  /** Bytes of the .ko files kept. */
  readonly size: number;
  /** treeSha256 of every file under `dir`. */
  readonly sha256: string;
}

/**
 * Why the outputs on disk do not match `manifest` (empty when they do). `actual` maps each
 * output name to the sha256 of the file present, or undefined when it is missing;
 * `actualModules` is the treeSha256 of the modules tree the manifest names, or undefined.
 */
export function manifestMismatches(
  manifest: unknown,
  actual: ReadonlyMap<string, string | undefined>,
  currentInitScriptSha256: string,
  actualModules: string | undefined,
): string[] {
  const m = manifest as Partial<GuestManifest> | undefined;
  if (!m || typeof m !== 'object' || m.format !== MANIFEST_FORMAT || !m.files || !m.modules) {
    return [`${MANIFEST_NAME} is missing or of another format`];
  }
  const reasons: string[] = [];
  if (m.initScriptSha256 !== currentInitScriptSha256) reasons.push('the /init script has changed');
  for (const name of OUTPUT_FILES) {
    const want = m.files[name]?.sha256;
    const have = actual.get(name);
    if (have === undefined) reasons.push(`${name} is missing`);
    else if (want !== have) reasons.push(`${name} does not match ${MANIFEST_NAME}`);
  }
  if (actualModules === undefined) reasons.push(`${m.modules.dir} is missing`);
  else if (actualModules !== m.modules.sha256) reasons.push(`${m.modules.dir} does not match ${MANIFEST_NAME}`);
  return reasons;
}

// ---------------------------------------------------------------------------------------------
// Parts that run processes and touch files

/** A problem the user can fix (not root, apt failing, a tool missing): message, no stack. */
export class GuestImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GuestImageError';
  }
}

/** Which Debian package provides each tool we run, for "not found" messages. */
const TOOL_PACKAGES: Record<string, string> = {
  dpkg: 'dpkg',
  'dpkg-deb': 'dpkg',
  'apt-get': 'apt',
  'apt-cache': 'apt',
};

/** Every tool we run is there, before anything is written: the first missing one, named with its package. */
function requireTools(): void {
  for (const [tool, pkg] of Object.entries(TOOL_PACKAGES)) {
    if (!findExecutable(tool)) throw new GuestImageError(`${tool} not found (Debian package ${pkg}); this script needs a Debian-based system`);
  }
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cmd args`, collecting output. Rejects only when it cannot start. */
export function runCommand(cmd: string, args: readonly string[], options: { cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        const pkg = TOOL_PACKAGES[cmd];
        reject(new GuestImageError(`${cmd} not found${pkg ? ` (Debian package ${pkg})` : ''}; this script needs a Debian-based system`));
      } else {
        reject(new GuestImageError(`cannot run ${cmd}: ${e.message}`));
      }
    });
    child.on('close', (code) =>
      resolvePromise({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
  });
}

/** Like runCommand, but a non-zero exit becomes a GuestImageError quoting the tool's errors. */
export async function mustRun(cmd: string, args: readonly string[], options: { cwd?: string } = {}): Promise<CommandResult> {
  const r = await runCommand(cmd, args, options);
  if (r.code !== 0) throw new GuestImageError(`\`${[cmd, ...args].join(' ')}\` failed (exit ${r.code}):\n${explainToolError(r.stderr || r.stdout)}`);
  return r;
}

function explainToolError(text: string): string {
  const lines = text.trim().split('\n').filter((l) => !/^W: Download is performed unsandboxed/.test(l));
  const quoted = lines.slice(-8).map((l) => `  ${l}`).join('\n');
  if (/Could not get lock|Unable to acquire the dpkg frontend lock|Unable to lock/.test(text)) {
    return `${quoted}\n  (another apt or dpkg is running; wait for it and run again)`;
  }
  if (/Permission denied|are you root/i.test(text)) return `${quoted}\n  (run as root)`;
  return quoted;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function needRoot(what: string): GuestImageError {
  return new GuestImageError(`${what} needs root; run \`npm run guest\` as root (or run that step once by hand with sudo)`);
}

export type Log = (line: string) => void;

/** Adds arm64 to dpkg's foreign architectures unless it is there (or native). */
export async function ensureArchitecture(log: Log): Promise<void> {
  const native = (await mustRun('dpkg', ['--print-architecture'])).stdout.trim();
  const foreign = (await mustRun('dpkg', ['--print-foreign-architectures'])).stdout.split(/\s+/);
  if (native === GUEST_ARCH || foreign.includes(GUEST_ARCH)) return;
  if (!isRoot()) throw needRoot(`\`dpkg --add-architecture ${GUEST_ARCH}\``);
  log(`adding dpkg architecture ${GUEST_ARCH}`);
  await mustRun('dpkg', ['--add-architecture', GUEST_ARCH]);
}

export async function aptUpdate(log: Log): Promise<void> {
  if (!isRoot()) throw needRoot('`apt-get update` (for the arm64 package lists)');
  log('apt-get update (arm64 package lists missing or out of date)');
  await mustRun('apt-get', ['update', '-q']);
}

async function showPackage(name: string): Promise<DebPackage> {
  const r = await mustRun('apt-cache', ['show', '--no-all-versions', `${name}:${GUEST_ARCH}`]);
  const p = packageFromStanza(parseAptStanza(r.stdout));
  if (!p) throw new GuestImageError(`\`apt-cache show ${name}:${GUEST_ARCH}\` gave no usable package record`);
  return p;
}

/** The kernel and busybox packages apt would install for arm64 now. */
export async function resolvePackages(): Promise<{ kernel: DebPackage; busybox: DebPackage }> {
  const depends = await mustRun('apt-cache', ['depends', `${KERNEL_METAPACKAGE}:${GUEST_ARCH}`]);
  const kernelName = parseKernelDependency(depends.stdout);
  if (!kernelName) {
    throw new GuestImageError(`cannot find the versioned kernel package in \`apt-cache depends ${KERNEL_METAPACKAGE}:${GUEST_ARCH}\`:\n${depends.stdout.trim()}`);
  }
  return { kernel: await showPackage(kernelName), busybox: await showPackage(BUSYBOX_PACKAGE) };
}

async function fileSha256(path: string): Promise<string | undefined> {
  try {
    return sha256(await readFile(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * `debsDir/<apt file name>` for `p`, downloading it unless a file with the index's sha256 is
 * already there. Downloads go to a private subdirectory and are renamed in once verified.
 */
export async function fetchDeb(p: DebPackage, debsDir: string, log: Log): Promise<string> {
  const path = join(debsDir, debFileName(p));
  if ((await fileSha256(path)) === p.sha256) {
    log(`using cached ${relative(process.cwd(), path)}`);
    return path;
  }
  log(`downloading ${p.name} ${p.version} (${(p.size / 1e6).toFixed(1)} MB)`);
  const partial = await mkdtemp(join(debsDir, '.download-'));
  try {
    // As root, apt drops privileges to _apt for downloads, which cannot write here.
    const sandbox = isRoot() ? ['-o', 'APT::Sandbox::User=root'] : [];
    await mustRun('apt-get', ['download', '-q', ...sandbox, `${p.name}:${p.architecture}=${p.version}`], { cwd: partial });
    const got = join(partial, debFileName(p));
    const sum = await fileSha256(got);
    if (sum === undefined) throw new GuestImageError(`apt-get download did not produce ${debFileName(p)}`);
    if (sum !== p.sha256) throw new GuestImageError(`${debFileName(p)} has sha256 ${sum}, the package index says ${p.sha256}`);
    await rename(got, path);
    return path;
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/** Resolves and downloads both packages, running `apt-get update` once if the first try fails. */
async function resolveAndFetch(debsDir: string, log: Log): Promise<{ kernel: DebPackage; busybox: DebPackage; kernelDeb: string; busyboxDeb: string }> {
  const attempt = async () => {
    const { kernel, busybox } = await resolvePackages();
    log(`kernel ${kernel.name} ${kernel.version}, ${busybox.name} ${busybox.version}`);
    return { kernel, busybox, kernelDeb: await fetchDeb(kernel, debsDir, log), busyboxDeb: await fetchDeb(busybox, debsDir, log) };
  };
  try {
    return await attempt();
  } catch (e) {
    if (!(e instanceof GuestImageError) || / not found \(Debian package /.test(e.message)) throw e;
    const why = e.message.split('\n').map((l) => l.trim()).find((l) => /^E:/.test(l)) ?? e.message.split('\n')[0];
    log(`apt could not provide the packages (${why}); updating its lists and trying again`);
    await aptUpdate(log);
    return attempt();
  }
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Leftovers of a run that was killed: partial downloads and unrenamed outputs. */
async function removeLeftovers(outDir: string, debsDir: string): Promise<void> {
  for (const dir of [outDir, join(outDir, 'dtbs'), join(outDir, MODULES_DIR), debsDir]) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      if (/^\.download-/.test(n) || /\.tmp-\d+$/.test(n)) await rm(join(dir, n), { recursive: true, force: true });
    }
  }
}

/** Every file under `dir` (relative path → sha256), or undefined when `dir` is not a directory. */
async function hashTree(dir: string): Promise<Map<string, string> | undefined> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => undefined);
  if (!entries) return undefined;
  const out = new Map<string, string>();
  for (const e of entries) {
    if (!e.isFile()) continue;
    const full = join(e.parentPath ?? e.path, e.name);
    out.set(relative(dir, full).split(sep).join('/'), sha256(await readFile(full)));
  }
  return out;
}

/** A module's bytes as the ELF file, for its .modinfo: gzip with zlib, xz and zstd with their tools. */
function uncompressedModule(file: string, data: Buffer): Buffer {
  const kind = moduleCompression(file);
  if (kind === 'none') return data;
  if (kind === 'gzip') return gunzipSync(data);
  const [tool, pkg] = kind === 'xz' ? ['xz', 'xz-utils'] : ['zstd', 'zstd'];
  try {
    return execFileSync(tool, ['-dc', '--', file], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? `${tool} not found (Debian package ${pkg})` : (e as Error).message.split('\n')[0];
    throw new GuestImageError(`cannot decompress ${file} to read what it depends on: ${why}`);
  }
}

/** Every module under `root/kernel` with its `depends=`, in path order. */
async function readModules(root: string): Promise<{ path: string; depends: string[]; data: Buffer }[]> {
  const entries = await readdir(join(root, 'kernel'), { recursive: true, withFileTypes: true }).catch(() => {
    throw new GuestImageError(`the kernel package has no ${root}/kernel`);
  });
  const out: { path: string; depends: string[]; data: Buffer }[] = [];
  for (const e of entries) {
    if (!e.isFile() || !/\.ko(\.gz|\.xz|\.zst)?$/.test(e.name)) continue;
    const full = join(e.parentPath ?? e.path, e.name);
    const data = await readFile(full);
    const info = readModinfo(uncompressedModule(full, data));
    if (!info) throw new GuestImageError(`${full} is not a kernel module (no .modinfo section)`);
    out.push({ path: relative(root, full).split(sep).join('/'), depends: modinfoDepends(info), data });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The kept part of the package's `lib/modules/<release>` (selectModules), with a modules.dep
 * written from the modules' .modinfo and the package's modules.builtin, written to a temporary
 * directory in `modules/` that installModules renames into place.
 */
async function stageModules(kroot: string, release: string, outDir: string, log: Log): Promise<{ staged: string; entry: ModulesTreeManifest }> {
  const root = join(kroot, 'lib', 'modules', release);
  const all = await readModules(root);
  const kept = selectModules(all);
  const staged = join(outDir, MODULES_DIR, `${release}.tmp-${process.pid}`);
  await rm(staged, { recursive: true, force: true });
  const hashes = new Map<string, string>();
  const put = async (path: string, data: Uint8Array | string): Promise<void> => {
    await mkdir(dirname(join(staged, path)), { recursive: true });
    await writeFile(join(staged, path), data);
    hashes.set(path, sha256(data));
  };
  for (const m of kept) await put(m.path, m.data);
  await put('modules.dep', formatModulesDep(kept));
  await put('modules.builtin', await readFile(join(root, 'modules.builtin'), 'utf8').catch(() => ''));
  const size = kept.reduce((n, m) => n + m.data.length, 0);
  log(`${MODULES_DIR}/${release}: ${kept.length} of the package's ${all.length} modules (${(size / 1e6).toFixed(1)} MB), with a modules.dep`);
  return { staged, entry: { dir: `${MODULES_DIR}/${release}`, count: kept.length, of: all.length, size, sha256: treeSha256(hashes) } };
}

/** `modules/` holds the staged tree as `<release>` and nothing else (an older release goes). */
async function installModules(outDir: string, staged: string, release: string): Promise<void> {
  const dir = join(outDir, MODULES_DIR);
  for (const n of await readdir(dir)) if (join(dir, n) !== staged) await rm(join(dir, n), { recursive: true, force: true });
  await rename(staged, join(dir, release));
}

/** Reads the manifest and hashes the outputs; returns the manifest and why it does not match. */
export async function checkGuestDir(outDir: string): Promise<{ manifest: GuestManifest | undefined; mismatches: string[] }> {
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(join(outDir, MANIFEST_NAME), 'utf8'));
  } catch {
    manifest = undefined;
  }
  const actual = new Map<string, string | undefined>();
  for (const name of OUTPUT_FILES) actual.set(name, await fileSha256(join(outDir, name)));
  const modulesDir = (manifest as Partial<GuestManifest> | undefined)?.modules?.dir;
  const tree = typeof modulesDir === 'string' ? await hashTree(join(outDir, modulesDir)) : undefined;
  const mismatches = manifestMismatches(manifest, actual, initScriptsSha256(), tree && treeSha256(tree));
  return { manifest: mismatches.length === 0 ? (manifest as GuestManifest) : undefined, mismatches };
}

/**
 * Puts the outputs and the staged modules tree in place and writes the manifest. The manifest
 * goes first and last: removed before the outputs change, written after they are all in place,
 * so it never vouches for a half-written set.
 */
async function commitOutputs(
  outDir: string,
  outputs: ReadonlyMap<string, Uint8Array>,
  modules: { staged: string; entry: ModulesTreeManifest },
  rest: Pick<GuestManifest, 'packages' | 'kernel'>,
): Promise<GuestManifest> {
  await rm(join(outDir, MANIFEST_NAME), { force: true });
  const files: Record<string, { sha256: string; size: number }> = {};
  for (const [name, data] of outputs) {
    await writeAtomically(join(outDir, name), data);
    files[name] = { sha256: sha256(data), size: data.length };
  }
  await installModules(outDir, modules.staged, rest.kernel.release);
  const manifest: GuestManifest = { format: MANIFEST_FORMAT, ...rest, initScriptSha256: initScriptsSha256(), files, modules: modules.entry };
  await writeAtomically(join(outDir, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

export interface BuildGuestImagesOptions {
  /** @default defaultGuestDir() */
  readonly outDir?: string;
  /** Rebuild even when the outputs match the manifest. */
  readonly force?: boolean;
  readonly log?: Log;
}

/** The kernel and busybox packages unpacked at `kroot` and `broot`, made into the outputs. */
async function unpackGuest(kroot: string, broot: string, kernel: DebPackage, busybox: DebPackage, outDir: string, log: Log) {
    const vmlinuzName = (await readdir(join(kroot, 'boot'))).find((n) => kernelRelease(n) !== undefined);
    const release = vmlinuzName && kernelRelease(vmlinuzName);
    if (!vmlinuzName || !release) throw new GuestImageError(`${kernel.name} has no /boot/vmlinuz-*`);

    const config = await readFile(join(kroot, 'boot', `config-${release}`), 'utf8').catch(() => {
      throw new GuestImageError(`${kernel.name} has no /boot/config-${release}`);
    });
    const missing = missingKernelConfig(config);
    if (missing.length > 0) {
      throw new GuestImageError(
        `kernel ${release} lacks built-in support the test guest needs:\n${missing.map((m) => `  ${m.option}=${m.value} (need y)`).join('\n')}`,
      );
    }

    log(`unpacking vmlinuz-${release}`);
    const { image, format } = unpackVmlinuz(await readFile(join(kroot, 'boot', vmlinuzName)));
    const header = parseArm64ImageHeader(image)!;
    log(`vmlinuz was ${format === 'raw' ? 'already a raw Image' : `${format}-compressed`}; Image is ${(image.length / 1e6).toFixed(1)} MB`);

    const modules = await stageModules(kroot, release, outDir, log);

    const bb = await readFile(join(broot, 'bin', 'busybox')).catch(() => {
      throw new GuestImageError(`${busybox.name} has no /bin/busybox`);
    });
    log('building initramfs.cpio and initramfs-idle.cpio');
    const outputs = new Map<string, Uint8Array>([
      ['Image', image],
      ['initramfs.cpio', buildBusyboxInitramfs(bb)],
      ['initramfs-idle.cpio', buildBusyboxInitramfs(bb, 'idle')],
      // For systems.ts files that build their own initramfs with initramfs({ busybox }).
      ['busybox', new Uint8Array(bb)],
    ]);
    for (const d of BOARD_DTBS) {
      const src = join(kroot, 'usr', 'lib', `linux-image-${release}`, d.source);
      outputs.set(d.output, await readFile(src).catch(() => {
        throw new GuestImageError(`${kernel.name} has no ${relative(kroot, src)}`);
      }));
    }

  return { outputs, modules, release, format, header };
}

/** Everything `sel4cp-synth guest` does; returns the manifest of the outputs. */
export async function buildGuestImages(options: BuildGuestImagesOptions = {}): Promise<GuestManifest> {
  const outDir = options.outDir ?? defaultGuestDir();
  const log = options.log ?? (() => undefined);
  const shown = relative(process.cwd(), outDir) || '.';

  if (!options.force) {
    const { manifest, mismatches } = await checkGuestDir(outDir);
    if (manifest) {
      log(`${shown} is up to date (${manifest.packages.kernel.name} ${manifest.packages.kernel.version}, ${manifest.packages.busybox.name} ${manifest.packages.busybox.version}); nothing to do`);
      return manifest;
    }
    if (existsSync(join(outDir, MANIFEST_NAME))) log(`rebuilding: ${mismatches.join('; ')}`);
  }

  requireTools();
  const debsDir = join(outDir, 'debs');
  await mkdir(debsDir, { recursive: true });
  await removeLeftovers(outDir, debsDir);
  await ensureArchitecture(log);
  const { kernel, busybox, kernelDeb, busyboxDeb } = await resolveAndFetch(debsDir, log);

  const work = await mkdtemp(join(tmpdir(), 'sel4cp-synth-guest-'));
  try {
    log(`extracting ${debFileName(kernel)}`);
    const kroot = join(work, 'kernel');
    await mustRun('dpkg-deb', ['-x', kernelDeb, kroot]);
    const broot = join(work, 'busybox');
    log(`extracting ${debFileName(busybox)}`);
    await mustRun('dpkg-deb', ['-x', busyboxDeb, broot]);

    const { outputs, modules, release, format, header } = await unpackGuest(kroot, broot, kernel, busybox, outDir, log);
    const manifest = await commitOutputs(outDir, outputs, modules, {
      packages: { kernel, busybox },
      kernel: { release, vmlinuz: format, imageSize: Number(header.imageSize) },
    });
    // Older package versions are of no further use once the new outputs are in place.
    const keep = new Set([debFileName(kernel), debFileName(busybox)]);
    for (const n of await readdir(debsDir)) {
      if (n.endsWith('.deb') && !keep.has(n)) await rm(join(debsDir, n), { force: true });
    }
    log(`wrote ${OUTPUT_FILES.join(', ')}, ${modules.entry.dir}/ and ${MANIFEST_NAME} to ${shown}`);
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const PREFIX = 'sel4cp-synth guest:';

/** `npm run guest [-- --force]` in this repository: the same, into its own `.cache/guest`. */
export async function guestScriptMain(argv: readonly string[], outDir: string): Promise<number> {
  const unknown = argv.filter((a) => a !== '--force' && a !== '--help');
  if (argv.includes('--help') || unknown.length > 0) {
    const usage = 'usage: npm run guest [-- --force]\n  Builds .cache/guest/{Image,initramfs.cpio,busybox,dtbs/*,modules/<release>/,manifest.json} from Debian arm64 packages.';
    (unknown.length > 0 ? console.error : console.log)(unknown.length > 0 ? `${PREFIX} error: unknown argument ${unknown[0]}\n${usage}` : usage);
    return unknown.length > 0 ? 1 : 0;
  }
  try {
    await buildGuestImages({ outDir, force: argv.includes('--force'), log: (l) => console.log(`${PREFIX} ${l}`) });
    return 0;
  } catch (e) {
    if (e instanceof GuestImageError || e instanceof KernelImageError) {
      console.error(`${PREFIX} error: ${e.message}`);
      return 1;
    }
    console.error(`${PREFIX} internal error (a bug in sel4cp-synth):`);
    console.error(e);
    return 2;
  }
}
