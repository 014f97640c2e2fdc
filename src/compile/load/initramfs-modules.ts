// The kernel modules of an initramfs({ modules }): the tree found and read, the names resolved
// against its modules.dep (src/compile/initramfs/kernel-modules.ts), the files read for packing.
import path from 'node:path';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { Initramfs } from '../../dsl/initramfs.js';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import type { DeclaredModules, PackedModule } from '../initramfs/declared.js';
import { moduleCompression, moduleName, parseModulesBuiltin, parseModulesDep, resolveModules, type ModuleDepEntry } from '../initramfs/kernel-modules.js';
import { guestCacheDir } from '../package.js';

/** Where `sel4cp-synth guest` puts Debian's modules: one `<release>/` directory. */
export function defaultModulesDir(): string {
  return path.join(guestCacheDir(), 'modules');
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}

type TreeLookup = { root: string } | { missing: string } | { several: string[] };

/** `dir` when it holds modules.dep (a `lib/modules/<release>`), else its one subdirectory that does. */
async function findModulesTree(dir: string): Promise<TreeLookup> {
  if (await isFile(path.join(dir, 'modules.dep'))) return { root: dir };
  const names = await readdir(dir).catch(() => undefined);
  if (names === undefined) return { missing: dir };
  const trees: string[] = [];
  for (const n of names.sort()) if (await isFile(path.join(dir, n, 'modules.dep'))) trees.push(path.join(dir, n));
  if (trees.length === 1) return { root: trees[0]! };
  return trees.length === 0 ? { missing: path.join(dir, 'modules.dep') } : { several: trees };
}

/**
 * The modules `ir` declares, resolved and read; undefined when it declares none; a path when
 * an input is not there (the modules tree, as for a missing busybox: `check` goes on, synthesis
 * says what to fetch). A name the tree does not know, a module file that is missing or a tree
 * that cannot be used is a UserError at the initramfs() call, all of them at once.
 */
export async function readDeclaredModules(ir: Initramfs): Promise<DeclaredModules | string | undefined> {
  if (ir.modules.length === 0) return undefined;
  const dir = ir.modulesDir?.path ?? defaultModulesDir();
  const found = await findModulesTree(dir);
  if ('missing' in found) return found.missing;
  const diagnostics: Diagnostic[] = [];
  const fail = (id: Parameters<typeof error>[0], message: string, hint?: string): void => {
    diagnostics.push(error(id, message, ir.loc, hint ? { hint } : {}));
  };
  if ('several' in found) {
    fail('initramfs-modules-tree', `${dir} holds modules for several kernels: ${found.several.map((t) => path.basename(t)).join(', ')}`,
      `give the one the guest's kernel is: modulesDir: '${found.several[0]}'`);
    throw new UserError(diagnostics);
  }
  const depFile = path.join(found.root, 'modules.dep');
  const dep = parseModulesDep(await readFile(depFile, 'utf8'));
  const builtin = parseModulesBuiltin(await readFile(path.join(found.root, 'modules.builtin'), 'utf8').catch(() => ''));
  for (const p of dep.problems) fail('initramfs-modules-tree', `${depFile} ${p}`, "modules.dep as depmod writes it: 'kernel/path/name.ko: kernel/path/dependency.ko ...'");
  const resolved = resolveModules(ir.modules, dep, builtin);
  for (const c of resolved.cycles) fail('initramfs-modules-tree', `${depFile}: modules need each other: ${c}`);
  for (const u of resolved.unknown) {
    const subset = ir.modulesDir === undefined ? `; the tree 'sel4cp-synth guest' extracts keeps the modules a virtual guest uses, not every one of Debian's (give modulesDir a full /lib/modules/<release> for others)` : '';
    fail('initramfs-unknown-module', `initramfs() modules: no kernel module '${u.name}' in ${depFile}${moduleName(u.name) === u.name ? '' : ` (as '${moduleName(u.name)}')`}`,
      `${u.suggestions.length > 0 ? `did you mean ${u.suggestions.map((s) => `'${s}'`).join(', ')}?` : 'the names are the .ko files\' names'}${subset}`);
  }
  const modules = await readModuleFiles(found.root, depFile, resolved.modules, fail);
  if (diagnostics.length > 0) throw new UserError(diagnostics);
  return { release: path.basename(found.root), modules, builtin: resolved.builtin };
}

/** The resolved modules' files; a missing or unloadable one is reported through `fail`. */
async function readModuleFiles(
  root: string,
  depFile: string,
  entries: readonly ModuleDepEntry[],
  fail: (id: 'initramfs-module-missing' | 'initramfs-modules-tree', message: string, hint?: string) => void,
): Promise<PackedModule[]> {
  const out: PackedModule[] = [];
  for (const e of entries) {
    const file = path.join(root, e.path);
    if (moduleCompression(e.path) === 'zstd') {
      // busybox (1.35, Debian 12) has no zstd decoder and Node 20's zlib none either.
      fail('initramfs-modules-tree', `kernel module '${e.name}' is zstd-compressed (${file}), which busybox's insmod cannot load`,
        `decompress the tree's modules (zstd -d --rm on each .ko.zst) and run depmod on it again; .ko, .ko.gz and .ko.xz load`);
      continue;
    }
    const data = await readFile(file).catch(() => undefined);
    if (!data) {
      fail('initramfs-module-missing', `kernel module '${e.name}' is missing: ${file} (listed at ${depFile}:${e.line})`,
        'the modules tree is incomplete; extract it again (sel4cp-synth guest --force for the default one)');
      continue;
    }
    out.push({ path: e.path, depends: e.deps.map(moduleName), data: new Uint8Array(data) });
  }
  return out;
}
