// The system's input files, read for what resolution needs of them: program images' loadable
// segments, each kernel's arm64 header (unpacked once per run when compressed), the sizes of
// initrds, disks and prefill files, and the initramfs() declarations packed into archives.
import path from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import type { Initramfs } from '../../dsl/initramfs.js';
import type { MemoryRegion, ProtectionDomain } from '../../dsl/constructs.js';
import type { System } from '../../dsl/system.js';
import { readElf, PT_LOAD } from '../link/elf.js';
import { buildDeclaredInitramfs } from '../initramfs/declared.js';
import { LinuxImageError, readLinuxImage, type LinuxImage } from '../guest/linux-image.js';
import type { ImageFacts } from '../resolve/index.js';
import { runtimeCacheDir } from '../package.js';
import { readDeclaredModules } from './initramfs-modules.js';

/** Facts about a guest image file; undefined when it does not exist. */
export async function imageFacts(file: string, kind: 'kernel' | 'initrd'): Promise<ImageFacts | undefined> {
  let size: bigint;
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    size = BigInt(st.size);
  } catch {
    return undefined;
  }
  if (kind === 'initrd') return { size };
  try {
    const image = await loadKernel(file);
    return { size: image.fileSize, linux: { textOffset: image.textOffset, imageSize: image.imageSize } };
  } catch (e) {
    if (e instanceof LinuxImageError) return { size, problem: e.message };
    throw e;
  }
}

const kernels = new Map<string, { stamp: string; image: Promise<LinuxImage> }>();

/**
 * The arm64 kernel at `file`, unpacked when it is compressed. Read once per run: the model
 * stage needs its header and the link step its bytes (a distribution kernel is some 30 MB).
 */
export async function loadKernel(file: string): Promise<LinuxImage> {
  const st = await stat(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  let entry = kernels.get(file);
  if (!entry || entry.stamp !== stamp) {
    entry = { stamp, image: readFile(file).then((b) => readLinuxImage(new Uint8Array(b))) };
    kernels.set(file, entry);
  }
  return entry.image;
}

export interface GatheredImages {
  facts: Map<string, ImageFacts>;
  initramfsPaths: Map<object, string>;
}

/** Read a host file, or undefined when it is not there. */
async function readIfThere(file: string): Promise<{ data: Uint8Array; executable: boolean } | undefined> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    return { data: new Uint8Array(await readFile(file)), executable: (st.mode & 0o111) !== 0 };
  } catch {
    return undefined;
  }
}

/**
 * Pack an initramfs() into a content-addressed file in the cache (written only when `write`, so
 * that `check` writes nothing). Returns its path, or the path of the first input that is missing.
 */
async function packInitramfs(ir: Initramfs, write: boolean, facts: Map<string, ImageFacts>): Promise<string> {
  // First, so that a misspelt module is reported even where busybox has not been fetched.
  const modules = await readDeclaredModules(ir);
  if (typeof modules === 'string') return modules;
  const init = typeof ir.init === 'string' ? { data: new TextEncoder().encode(ir.init), executable: true } : await readIfThere(ir.init.path);
  if (!init) return (ir.init as { path: string }).path;
  const busybox = ir.busybox ? await readIfThere(ir.busybox.path) : undefined;
  if (ir.busybox && !busybox) return ir.busybox.path;
  const files = new Map<string, { data: Uint8Array; executable: boolean }>();
  for (const [guestPath, ref] of ir.files) {
    const f = await readIfThere(ref.path);
    if (!f) return ref.path;
    files.set(guestPath, f);
  }
  const archive = buildDeclaredInitramfs(ir, { init: init.data, busybox: busybox?.data, files, modules });
  const file = path.join(runtimeCacheDir(), 'initramfs', `${createHash('sha256').update(archive).digest('hex').slice(0, 24)}.cpio`);
  if (write && !existsSync(file)) {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, archive);
    await rename(tmp, file);
  }
  facts.set(file, { size: BigInt(archive.length) });
  return file;
}

/** Regions the system maps without listing them (system({ memoryRegions }) need not name them all). */
function regionsInMaps(system: System): MemoryRegion[] {
  const out = new Set<MemoryRegion>();
  const seen = new Set<ProtectionDomain>();
  const walk = (pd: ProtectionDomain): void => {
    if (seen.has(pd)) return;
    seen.add(pd);
    for (const m of pd.maps) out.add(m.mr);
    for (const m of pd.virtualMachine?.maps ?? []) out.add(m.mr);
    pd.children.forEach((c) => walk(c.pd));
  };
  system.protectionDomains.forEach(walk);
  for (const vm of system.virtualMachines) vm.maps.forEach((m) => out.add(m.mr));
  return [...out];
}

/** The program images of every PD in the system, children included. */
function programImages(system: System): string[] {
  const out = new Set<string>();
  const seen = new Set<ProtectionDomain>();
  const walk = (pd: ProtectionDomain): void => {
    // A PD that is its own ancestor is the resolver's to report (pd-listed-twice); walk it once.
    if (seen.has(pd)) return;
    seen.add(pd);
    if (pd.program) out.add(pd.program.path);
    pd.children.forEach((c) => walk(c.pd));
  };
  system.protectionDomains.forEach(walk);
  return [...out];
}

/**
 * What resolution needs to know of the files a system names (it reads none itself): program ELFs'
 * segments, kernels' headers, sizes; initramfs() declarations packed into the cache (written only
 * when `write`).
 */
export async function gatherImages(system: System, write: boolean): Promise<GatheredImages> {
  const facts = new Map<string, ImageFacts>();
  const initramfsPaths = new Map<object, string>();
  for (const file of programImages(system)) {
    const elf = await readIfThere(file);
    if (!elf) continue;
    try {
      const segments = readElf(elf.data).segments.filter((s) => s.type === PT_LOAD && s.memsz > 0n).map((s) => ({ vaddr: s.vaddr, size: s.memsz }));
      facts.set(file, { size: BigInt(elf.data.length), segments });
    } catch {
      // Not an ELF file: the Microkit tool says so when it loads it.
    }
  }
  for (const mr of system.memoryRegions.concat(regionsInMaps(system))) {
    if (!mr.prefill || facts.has(mr.prefill.path)) continue;
    const st = await stat(mr.prefill.path).catch(() => undefined);
    if (st?.isFile()) facts.set(mr.prefill.path, { size: BigInt(st.size) });
  }
  for (const vm of system.virtualMachines) {
    if (!facts.has(vm.kernel.path)) {
      const f = await imageFacts(vm.kernel.path, 'kernel');
      if (f) facts.set(vm.kernel.path, f);
    }
    if (vm.initrd?.kind === 'initramfs') {
      if (!initramfsPaths.has(vm.initrd)) initramfsPaths.set(vm.initrd, await packInitramfs(vm.initrd, write, facts));
    } else if (vm.initrd && !facts.has(vm.initrd.path)) {
      const f = await imageFacts(vm.initrd.path, 'initrd');
      if (f) facts.set(vm.initrd.path, f);
    }
    // Disk images of virtioBlock(): their sizes decide the disk regions.
    for (const d of vm.virtio) {
      if (d.kind !== 'virtioBlock' || facts.has(d.image.path)) continue;
      const f = await imageFacts(d.image.path, 'initrd');
      if (f) facts.set(d.image.path, f);
    }
    // Disk files QEMU attaches to a transport: validation reports one that is not there.
    for (const p of vm.passthrough) {
      if (p.qemu?.kind !== 'qemu-disk' || facts.has(p.qemu.file.path)) continue;
      const st = await stat(p.qemu.file.path).catch(() => undefined);
      if (st?.isFile()) facts.set(p.qemu.file.path, { size: BigInt(st.size) });
    }
  }
  return { facts, initramfsPaths };
}
