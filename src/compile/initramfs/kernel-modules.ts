/**
 * Linux kernel modules for a declared initramfs: a `lib/modules/<release>` tree's `modules.dep`
 * read, the modules asked for resolved with what they need, and the `/init` that loads them.
 * Also what `npm run guest` needs to write such a tree from Debian's kernel package, which ships
 * the `.ko` files without `modules.dep` (its postinst runs depmod): each module's `.modinfo`
 * section names the modules it needs (`depends=`, written by modpost from the same symbol
 * resolution depmod does), which is enough to write one.
 *
 * Pure: file contents in, file contents out.
 */
import { readElf } from '../link/elf.js';

/** One line of `modules.dep`: the module's path in the tree and the paths of what it needs. */
export interface ModuleDepEntry {
  /** The name modprobe knows it by: the file name without `.ko[.gz|.xz|.zst]`, `-` as `_`. */
  readonly name: string;
  /** Relative to the tree, e.g. `kernel/drivers/net/virtio_net.ko`. */
  readonly path: string;
  /** Paths, as `modules.dep` lists them (depmod: every module needed, users before what they use). */
  readonly deps: readonly string[];
  /** 1-based line in `modules.dep`, for messages. */
  readonly line: number;
}

export interface ModulesDep {
  readonly byName: ReadonlyMap<string, ModuleDepEntry>;
  readonly byPath: ReadonlyMap<string, ModuleDepEntry>;
  /** Lines that are not `path: [path...]`, as messages. */
  readonly problems: readonly string[];
}

/** How a module file is compressed, from its name (depmod keeps the suffix in modules.dep). */
export type ModuleCompression = 'none' | 'gzip' | 'xz' | 'zstd';

const MODULE_FILE = /\.ko(\.gz|\.xz|\.zst)?$/;

export function moduleCompression(path: string): ModuleCompression {
  const suffix = MODULE_FILE.exec(path)?.[1];
  return suffix === '.gz' ? 'gzip' : suffix === '.xz' ? 'xz' : suffix === '.zst' ? 'zstd' : 'none';
}

/** modprobe's name for a module given by name or path: `-` and `_` are the same to it. */
export function moduleName(nameOrPath: string): string {
  const base = nameOrPath.slice(nameOrPath.lastIndexOf('/') + 1);
  return base.replace(MODULE_FILE, '').replace(/-/g, '_');
}

export function parseModulesDep(text: string): ModulesDep {
  const byName = new Map<string, ModuleDepEntry>();
  const byPath = new Map<string, ModuleDepEntry>();
  const problems: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+):((?:\s+\S+)*)$/.exec(line);
    const paths = m ? [m[1]!, ...m[2]!.trim().split(/\s+/).filter(Boolean)] : [];
    const bad = paths.find((p) => !MODULE_FILE.test(p) || p.startsWith('/') || p.split('/').includes('..'));
    if (!m || bad !== undefined) {
      problems.push(`line ${i + 1}: ${bad !== undefined ? `'${bad}' is not a module path inside the tree` : "not 'path.ko: [dependency.ko ...]'"}`);
      return;
    }
    const entry: ModuleDepEntry = { name: moduleName(paths[0]!), path: paths[0]!, deps: paths.slice(1), line: i + 1 };
    if (byName.has(entry.name)) {
      problems.push(`line ${i + 1}: module '${entry.name}' is listed twice (also line ${byName.get(entry.name)!.line})`);
      return;
    }
    byName.set(entry.name, entry);
    byPath.set(entry.path, entry);
  });
  return { byName, byPath, problems };
}

/** The names in `modules.builtin` (paths of modules built into the kernel image). */
export function parseModulesBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')).map(moduleName));
}

export interface ResolvedModules {
  /** Load order: each module after everything it needs, each once. */
  readonly modules: readonly ModuleDepEntry[];
  /** Names asked for that are built into the kernel: nothing to load. */
  readonly builtin: readonly string[];
  /** Names that are neither in modules.dep nor built in, with the closest known names. */
  readonly unknown: readonly { readonly name: string; readonly suggestions: readonly string[] }[];
  /** Dependency cycles found (depmod refuses them; a hand-written modules.dep may have one). */
  readonly cycles: readonly string[];
}

/**
 * The modules `names` need, in load order. Each module's list is walked in the order the file
 * gives it, each dependency's own dependencies first, as kmod's modprobe walks it: with depmod's
 * full lists that is the order depmod sorted, with a hand-written list of direct dependencies
 * it is still each module after what it needs. Deterministic: the same files and names give
 * the same order.
 */
export function resolveModules(names: readonly string[], dep: ModulesDep, builtin: ReadonlySet<string>): ResolvedModules {
  const order: ModuleDepEntry[] = [];
  const done = new Set<string>();
  const active = new Set<string>();
  const cycles: string[] = [];
  const visit = (e: ModuleDepEntry, chain: readonly string[]): void => {
    if (done.has(e.path)) return;
    if (active.has(e.path)) {
      cycles.push([...chain, e.name].join(' -> '));
      return;
    }
    active.add(e.path);
    for (const p of e.deps) visit(dep.byPath.get(p) ?? { name: moduleName(p), path: p, deps: [], line: e.line }, [...chain, e.name]);
    active.delete(e.path);
    done.add(e.path);
    order.push(e);
  };
  const builtinAsked: string[] = [];
  const unknown: { name: string; suggestions: string[] }[] = [];
  for (const asked of names) {
    const name = moduleName(asked);
    const e = dep.byName.get(name);
    if (e) visit(e, []);
    else if (builtin.has(name)) {
      if (!builtinAsked.includes(name)) builtinAsked.push(name);
    } else unknown.push({ name: asked, suggestions: closestNames(name, [...dep.byName.keys(), ...builtin]) });
  }
  return { modules: order, builtin: builtinAsked, unknown, cycles };
}

/** Up to `max` of `candidates` nearest `name` by edit distance, for "did you mean". */
export function closestNames(name: string, candidates: readonly string[], max = 3): string[] {
  const limit = Math.max(2, Math.floor(name.length / 3));
  return [...new Set(candidates)]
    .map((c) => ({ c, d: editDistance(name, c) }))
    .filter(({ c, d }) => d <= limit || (name.length >= 4 && c.includes(name)))
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
    .slice(0, max)
    .map(({ c }) => c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * `modules.dep` in depmod's form for `modules` (each with the names of the modules it needs
 * directly): one line per module in path order, listing everything it needs, transitively,
 * users before what they use (the reverse of the load order), so that kmod and busybox
 * modprobe read it as they read depmod's. Names that no module has are dropped: they are
 * built in (modpost leaves built-in modules out of `depends=`, so this only covers a partial tree).
 */
export function formatModulesDep(modules: readonly { path: string; depends: readonly string[] }[]): string {
  const byName = new Map(modules.map((m) => [moduleName(m.path), m]));
  const lines = [...modules].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((m) => {
    const order: string[] = [];
    const seen = new Set<string>([m.path]);
    const visit = (name: string): void => {
      const d = byName.get(moduleName(name));
      if (!d || seen.has(d.path)) return;
      seen.add(d.path);
      d.depends.forEach(visit);
      order.push(d.path);
    };
    m.depends.forEach(visit);
    return `${m.path}:${order.reverse().map((p) => ` ${p}`).join('')}\n`;
  });
  return lines.join('');
}

/**
 * The `.modinfo` section of a `.ko` (NUL-separated `key=value` strings): key → values in file
 * order (a key such as `alias` appears many times). Undefined when it is not an ELF module.
 */
export function readModinfo(ko: Uint8Array): Map<string, string[]> | undefined {
  let section;
  try {
    section = readElf(ko).sections.find((s) => s.name === '.modinfo');
  } catch {
    return undefined;
  }
  if (!section) return undefined;
  const start = Number(section.offset);
  const text = new TextDecoder().decode(ko.subarray(start, start + Number(section.size)));
  const info = new Map<string, string[]>();
  for (const item of text.split('\0')) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq);
    info.set(key, [...(info.get(key) ?? []), item.slice(eq + 1)]);
  }
  return info;
}

/** The names in a module's `depends=` (empty for a module that needs nothing outside the kernel). */
export function modinfoDepends(info: ReadonlyMap<string, readonly string[]>): string[] {
  return (info.get('depends') ?? []).flatMap((v) => v.split(',')).filter(Boolean).map(moduleName);
}

/** Where initramfs() puts the declared /init when it loads modules first (the new /init execs it). */
export const DECLARED_INIT_PATH = 'init.declared';

/**
 * The /init that loads `modules` (paths in the tree, in load order) with busybox's insmod, then
 * execs the declared /init as PID 1 with the kernel's arguments. busybox is called by path so
 * that no applet need be linked for it; its insmod tries finit_module and falls back to reading
 * the file itself, which decompresses `.ko.gz` and `.ko.xz` (so the kernel logs "Invalid ELF
 * header magic" once per compressed module, harmlessly). A module that fails to load is
 * reported by insmod and the declared /init still runs: it is the one to decide what to do.
 */
export function moduleLoadingInit(release: string, modules: readonly string[], builtin: readonly string[]): string {
  const lines = [
    '#!/bin/busybox sh',
    '# sel4cp-synth: load the kernel modules initramfs() declares, each after what it needs,',
    `# then run the declared /init (/${DECLARED_INIT_PATH}) as PID 1.`,
    ...builtin.map((name) => `# ${name}: built into the kernel`),
    ...modules.map((p) => `/bin/busybox insmod ${shellWord(`/lib/modules/${release}/${p}`)}`),
    `exec /${DECLARED_INIT_PATH} "$@"`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `word` as one shell word: as it is when plain, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w./+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
