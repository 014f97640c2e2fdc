// An initial RAM disk declared in the systems.ts: an /init, optionally a static busybox with its
// applets, and further files. sel4cp-synth packs it as a newc cpio archive at synthesis time
// (src/compile/initramfs/cpio.ts), so the guest's userspace is part of the reviewed description.
import { captureLocation, type SourceLocation } from './location.js';
import { toFileRef, type FileRef } from './context.js';
import { checkFile, checkOptions, checkString } from './check.js';

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
}

export interface Initramfs {
  readonly kind: 'initramfs';
  /** The script text, or the file holding /init. */
  readonly init: string | FileRef;
  readonly busybox: FileRef | undefined;
  readonly applets: readonly string[];
  readonly files: ReadonlyMap<string, FileRef>;
  readonly loc: SourceLocation | undefined;
}

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
  const busybox = options.busybox === undefined ? undefined : toFileRef(options.busybox, loc);
  return {
    kind: 'initramfs',
    init: typeof options.init === 'string' ? options.init : options.init,
    busybox,
    applets: options.applets ?? (busybox ? [...DEFAULT_APPLETS] : []),
    files: new Map(Object.entries(options.files ?? {}).map(([guestPath, f]) => [guestPath, toFileRef(f, loc)])),
    loc,
  };
}
