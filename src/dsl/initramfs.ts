// An initial RAM disk declared in the systems.ts: an /init, optionally a static busybox with its
// applets, and further files. sel4cp-synth packs it as a newc cpio archive at synthesis time
// (src/compile/initramfs/cpio.ts), so the guest's userspace is part of the reviewed description.
import { captureLocation, type SourceLocation } from './location.js';
import { toFileRef, type FileRef } from './context.js';
import { checkFile, checkOptions, checkString } from './check.js';
import { DslError } from './errors.js';

export interface InitramfsOptions {
  /**
   * The /init program: the text of a script (starting with `#!`), or a file given with
   * `file()` / `contextFile()`.
   */
  init: string | FileRef;
  /** A static busybox (arm64), installed as /bin/busybox. A string is a path relative to this systems.ts. @default none */
  busybox?: string | FileRef;
  /** Busybox applets linked in /bin. @default ['sh', 'mount', 'echo', 'cat', 'sleep', 'poweroff'] when busybox is given */
  applets?: string[];
  /** Further files: path in the guest → file on the host (relative to this systems.ts). @default {} */
  files?: Record<string, string | FileRef>;
  /**
   * Kernel modules to load before /init runs, by name as modprobe takes them (`virtio-net` and
   * `virtio_net` are the same), e.g. `['virtio_mmio', 'virtio_net']`. What they need is found in
   * the tree's `modules.dep` and loaded first; modules built into the kernel (`modules.builtin`)
   * are skipped. They are packed under `lib/modules/<release>/`, and the archive's /init loads
   * them with busybox's insmod and then runs `init` (which is packed as `/init.declared`), so
   * `busybox` must be given. @default []
   */
  modules?: string[];
  /**
   * The modules tree: a `lib/modules/<release>` directory (holding `modules.dep`), or one that
   * holds a single such directory. A string is a path relative to this systems.ts.
   * @default the tree `sel4cp-synth guest` extracts from Debian's kernel package (its modules/<release>/)
   */
  modulesDir?: string | FileRef;
}

export interface Initramfs {
  readonly kind: 'initramfs';
  /** The script text, or the file holding /init. */
  readonly init: string | FileRef;
  readonly busybox: FileRef | undefined;
  readonly applets: readonly string[];
  readonly files: ReadonlyMap<string, FileRef>;
  /** As given (not yet resolved against a modules tree). */
  readonly modules: readonly string[];
  /** undefined: the one `sel4cp-synth guest` makes (the CLI knows where). */
  readonly modulesDir: FileRef | undefined;
  readonly loc: SourceLocation | undefined;
}

// For an init script that configures the guest's network from its kernel command line.
export { GUEST_BRIDGE_PARAM, GUEST_GW_PARAM, GUEST_IP_PARAM, NETWORK_APPLETS, networkSetupScript } from '../compile/initramfs/busybox-initramfs.js';

export const DEFAULT_APPLETS = ['sh', 'mount', 'echo', 'cat', 'sleep', 'poweroff'] as const;

/** An initramfs built from the description at synthesis time; use it as a VM's `initrd`. */
export function initramfs(options: InitramfsOptions): Initramfs {
  const loc = captureLocation();
  checkOptions('initramfs()', options, loc, false);
  if (typeof options.init === 'string') checkString('initramfs() init', options.init, loc, { nonEmpty: true });
  else checkFile('initramfs() init', options.init, loc, false);
  checkFile('initramfs() busybox', options.busybox, loc, true);
  if (options.applets !== undefined) {
    if (!Array.isArray(options.applets)) checkString('initramfs() applets', options.applets, loc);
    options.applets.forEach((a, i) => checkString(`initramfs() applets[${i}]`, a, loc, { nonEmpty: true }));
  }
  checkOptions('initramfs() files', options.files, loc, true);
  for (const [guestPath, f] of Object.entries(options.files ?? {})) checkFile(`initramfs() files[${JSON.stringify(guestPath)}]`, f, loc, false);
  checkModules(options, loc);
  const busybox = options.busybox === undefined ? undefined : toFileRef(options.busybox, loc);
  return {
    kind: 'initramfs',
    init: typeof options.init === 'string' ? options.init : options.init,
    busybox,
    applets: options.applets ?? (busybox ? [...DEFAULT_APPLETS] : []),
    files: new Map(Object.entries(options.files ?? {}).map(([guestPath, f]) => [guestPath, toFileRef(f, loc)])),
    modules: [...(options.modules ?? [])],
    modulesDir: options.modulesDir === undefined ? undefined : toFileRef(options.modulesDir, loc),
    loc,
  };
}

/** Module names are file names (modprobe's), and loading them takes busybox's sh and insmod. */
function checkModules(options: InitramfsOptions, loc: SourceLocation | undefined): void {
  checkFile('initramfs() modulesDir', options.modulesDir, loc, true);
  if (options.modules === undefined) return;
  if (!Array.isArray(options.modules)) {
    throw new DslError('bad-argument', 'initramfs() modules: must be an array of module names', "e.g. modules: ['virtio_mmio', 'virtio_net']", loc);
  }
  options.modules.forEach((m, i) => {
    checkString(`initramfs() modules[${i}]`, m, loc, { nonEmpty: true });
    if (!/^[\w-]+$/.test(m)) {
      throw new DslError('bad-argument', `initramfs() modules[${i}]: ${JSON.stringify(m)} is not a module name`,
        "give the name modprobe takes, e.g. 'virtio_net' (no path, no .ko, no parameters)", loc);
    }
  });
  if (options.modules.length > 0 && options.busybox === undefined) {
    throw new DslError('bad-argument', 'initramfs() modules: loading kernel modules needs busybox (its sh and insmod)',
      "give busybox: contextFile('busybox', '../.cache/guest/busybox'), or leave modules out", loc);
  }
}
