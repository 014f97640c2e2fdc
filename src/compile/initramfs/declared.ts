// The archive of an initramfs() declared in a systems.ts. Pure: the caller reads the host files.
import type { Initramfs } from '../../dsl/initramfs.js';
import { normaliseCpioPath, writeCpio, type CpioEntry } from './cpio.js';

export interface DeclaredInitramfsInputs {
  /** The /init program's bytes. */
  init: Uint8Array;
  busybox: Uint8Array | undefined;
  /** Guest path → the host file's bytes and whether it is executable. */
  files: ReadonlyMap<string, { data: Uint8Array; executable: boolean }>;
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
  for (const d of ['dev', 'proc', 'sys']) dir(d);
  // The kernel opens /dev/console for /init before anything can mount devtmpfs (devices.txt 5:1).
  entries.set('dev/console', { kind: 'char-device', path: 'dev/console', major: 5, minor: 1, mode: 0o600 });
  if (inputs.busybox) {
    dir('bin');
    entries.set('bin/busybox', { kind: 'file', path: 'bin/busybox', content: inputs.busybox, mode: 0o755 });
    for (const applet of ir.applets) entries.set(`bin/${applet}`, { kind: 'symlink', path: `bin/${applet}`, target: 'busybox' });
  }
  for (const [guestPath, f] of inputs.files) {
    const p = normaliseCpioPath(guestPath) ?? guestPath;
    const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
    if (parent) dir(parent);
    entries.set(p, { kind: 'file', path: p, content: f.data, mode: f.executable ? 0o755 : 0o644 });
  }
  entries.set('init', { kind: 'file', path: 'init', content: inputs.init, mode: 0o755 });
  return writeCpio([...entries.values()]);
}
