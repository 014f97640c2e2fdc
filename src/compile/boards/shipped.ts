// The boards shipped in boards/: each is deriveBoard's output for its overrides
// (boards/overrides/<name>.json), its device tree (Debian's DTB as `npm run guest` extracts it to
// .cache/guest/dtbs/, or QEMU's dumpdtb) and seL4's platform row. `npm run boards` writes them;
// test/compile/boards/derive.test.ts re-derives each and compares.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readFdt } from '../dtb/fdt-read.js';
import type { Fdt } from '../dtb/fdt.js';
import { dumpQemuDtb } from '../emit/guest-trees.js';
import { guestCacheDir, packageRoot } from '../package.js';
import { deriveBoard, type BoardOverrides, type DerivedBoard } from './derive.js';
import { sel4Platform } from './platforms.js';

export function overridesDir(): string {
  return path.join(packageRoot(), 'boards', 'overrides');
}

/** The names of the shipped boards: one overrides file each. */
export function shippedBoardNames(): string[] {
  return readdirSync(overridesDir()).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
}

export function readOverrides(name: string): BoardOverrides {
  return JSON.parse(readFileSync(path.join(overridesDir(), `${name}.json`), 'utf8')) as BoardOverrides;
}

/** The board's device tree and how sources name it, or why it is not at hand. */
export function shippedTree(o: BoardOverrides): { tree: Fdt; dtbName: string } | string {
  if ('debianPath' in o.dtb) {
    const file = path.join(guestCacheDir(), 'dtbs', path.basename(o.dtb.debianPath));
    if (!existsSync(file)) return `Debian's ${o.dtb.debianPath} is not in ${file} (npm run guest extracts it)`;
    return { tree: readFdt(new Uint8Array(readFileSync(file))), dtbName: `Debian DTB ${o.dtb.debianPath}` };
  }
  if ('file' in o.dtb) return `${o.name}: a shipped board's device tree is Debian's or QEMU's`;
  if (!o.qemu) return `${o.name}: a QEMU board's overrides need qemu settings`;
  const dumped = dumpQemuDtb({ name: o.name, qemu: o.qemu }, 1);
  if (typeof dumped === 'string') return dumped;
  return { tree: readFdt(dumped), dtbName: `QEMU ${o.dtb.qemuVersion} dumpdtb (-machine ${o.qemu.machine} -cpu ${o.qemu.cpu} -m ${o.qemu.memory})` };
}

/** A shipped board derived afresh, or why its device tree is not at hand. */
export function deriveShipped(name: string): DerivedBoard | string {
  const o = readOverrides(name);
  const t = shippedTree(o);
  if (typeof t === 'string') return t;
  return deriveBoard({ ...t, overrides: o, platform: sel4Platform(o.microkitBoard ?? o.name) });
}

/** The board file's text: what boards/<name>.json holds. */
export function boardFileText(json: Record<string, unknown>): string {
  return JSON.stringify(json, null, 2) + '\n';
}
