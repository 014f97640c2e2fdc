// The archive of an initramfs() declared in a systems.ts. Pure: the caller reads the host files
// and resolves the kernel modules (src/compile/load/initramfs-modules.ts).
import type { Initramfs } from '../../dsl/initramfs.js';
import { normaliseCpioPath, writeCpio, type CpioEntry } from './cpio.js';
import { DECLARED_INIT_PATH, formatModulesDep, moduleLoadingInit } from './kernel-modules.js';

/** One kernel module to pack, with the names of the modules it needs (from modules.dep). */
export interface PackedModule {
  /** Relative to `lib/modules/<release>/`, as modules.dep names it. */
  readonly path: string;
  readonly depends: readonly string[];
  readonly data: Uint8Array;
}

export interface DeclaredModules {
  /** The tree's directory name, `uname -r` of the kernel the modules were built for. */
  readonly release: string;
  /** In load order. */
  readonly modules: readonly PackedModule[];
  /** Names asked for that are built into the kernel. */
  readonly builtin: readonly string[];
}

export interface DeclaredInitramfsInputs {
  /** The /init program's bytes. */
  init: Uint8Array;
  busybox: Uint8Array | undefined;
  /** Guest path → the host file's bytes and whether it is executable. */
  files: ReadonlyMap<string, { data: Uint8Array; executable: boolean }>;
  /** The modules initramfs({ modules }) resolved to; absent or undefined when it names none. */
  modules?: DeclaredModules | undefined;
}

export function buildDeclaredInitramfs(ir: Initramfs, inputs: DeclaredInitramfsInputs): Uint8Array {
  const entries = new Map<string, CpioEntry>();
  const dir = (p: string): void => {
    const parts = p.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!entries.has(d)) entries.set(d, { kind: 'directory', path: d });
    }
  };
  const put = (p: string, content: Uint8Array | string, mode: number): void => {
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    if (parent) dir(parent);
    entries.set(p, { kind: 'file', path: p, content, mode });
  };
  for (const d of ['dev', 'proc', 'sys']) dir(d);
  // The kernel opens /dev/console for /init before anything can mount devtmpfs (devices.txt 5:1).
  entries.set('dev/console', { kind: 'char-device', path: 'dev/console', major: 5, minor: 1, mode: 0o600 });
  if (inputs.busybox) {
    dir('bin');
    entries.set('bin/busybox', { kind: 'file', path: 'bin/busybox', content: inputs.busybox, mode: 0o755 });
    for (const applet of ir.applets) entries.set(`bin/${applet}`, { kind: 'symlink', path: `bin/${applet}`, target: 'busybox' });
  }
  for (const [guestPath, f] of inputs.files) put(normaliseCpioPath(guestPath) ?? guestPath, f.data, f.executable ? 0o755 : 0o644);
  const mods = inputs.modules;
  if (mods && mods.modules.length > 0) {
    const root = `lib/modules/${mods.release}`;
    for (const m of mods.modules) put(`${root}/${m.path}`, m.data, 0o644);
    // Only the packed modules, so that modprobe in the guest finds them and nothing it lacks.
    put(`${root}/modules.dep`, formatModulesDep(mods.modules), 0o644);
    put(DECLARED_INIT_PATH, inputs.init, 0o755);
    put('init', moduleLoadingInit(mods.release, mods.modules.map((m) => m.path), mods.builtin), 0o755);
  } else {
    put('init', inputs.init, 0o755);
  }
  return writeCpio([...entries.values()]);
}
