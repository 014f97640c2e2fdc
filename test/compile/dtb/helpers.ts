/**
 * Shared test helpers for the device tree tests: the repository root, the external oracles
 * (`dtc`, `qemu-system-aarch64`) and the DTBs they give us.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDts } from '../../../src/compile/dtb/dtc.js';

/** Tests run from dist/test/compile/dtb; the repository is four levels up. */
export const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));
export const fixtureDir = join(repoRoot, 'test', 'fixtures', 'dtb');
export const guestCacheDir = join(repoRoot, '.cache', 'guest');

export function have(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The fixture .dts files, compiled with dtc; name → blob. */
export function fixtureDtbs(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const f of readdirSync(fixtureDir).filter((f) => f.endsWith('.dts')).sort()) {
    out.set(f, compileDts(join(fixtureDir, f)));
  }
  return out;
}

const qemuCache = new Map<string, Uint8Array>();

/** QEMU's own virt DTB (GICv2 or GICv3), dumped with `-machine virt,...,dumpdtb=`. */
export function qemuVirtDtb(gic: 2 | 3): Uint8Array {
  const key = `v${gic}`;
  const cached = qemuCache.get(key);
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'sel4cp-dtb-'));
  try {
    const file = join(dir, 'virt.dtb');
    const machine = `virt,virtualization=on,gic-version=${gic},dumpdtb=${file}`;
    const r = spawnSync('qemu-system-aarch64', ['-machine', machine, '-cpu', 'cortex-a53', '-m', '2G', '-nographic'], {
      stdio: 'pipe',
      timeout: 30_000,
    });
    if (!existsSync(file)) throw new Error(`qemu did not dump a DTB: ${r.stderr?.toString()}`);
    const bytes = new Uint8Array(readFileSync(file));
    qemuCache.set(key, bytes);
    return bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Debian's board DTBs, when `npm run guest` has put them in .cache/guest/dtbs. */
export function debianDtbs(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const dir = join(guestCacheDir, 'dtbs');
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.dtb')).sort()) out.set(name, new Uint8Array(readFileSync(join(dir, name))));
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
