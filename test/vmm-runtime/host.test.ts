// Runs the C runtime's host unit tests, and checks that what the TypeScript encoder writes is
// what the C start-up check accepts (and that corrupted blobs are rejected with its message).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  encodeVmmConfig,
  VMM_CONFIG_OFFSETS,
  VMM_CONFIG_RESERVED_SIZE,
  crc32,
  type VmmConfig,
} from '../../src/compile/emit/vmm-config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const runtime = join(root, 'src/vmm-runtime');
const hostBuild = join(runtime, 'build/host');

function missingTool(): string | undefined {
  for (const tool of ['cc', 'make']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no host ${tool}`;
  }
  return undefined;
}
const skip = missingTool();

export const sampleConfig = (): VmmConfig => ({
  vmName: 'linux',
  gicVersion: 2,
  vcpuIds: [0],
  gicdBase: 0x0800_0000n,
  giccBase: 0x0801_0000n,
  ram: { guestBase: 0x4000_0000n, size: 0x1000_0000n, vmmVaddr: 0x2000_0000n },
  kernel: { vmmVaddr: 0x1000_0000n, size: 0x200_0000n, guestAddr: 0x4000_0000n },
  dtb: { vmmVaddr: 0x1200_0000n, size: 0x1_0000n, guestAddr: 0x4f00_0000n },
  initrd: { vmmVaddr: 0x1201_0000n, size: 0x40_0000n, guestAddr: 0x4d00_0000n },
  entry: 0x4000_0000n,
  irqs: [{ channel: 1, intid: 33, trigger: 'level' }],
});

/** Pads a blob to the section size, as the link step writes it. */
function section(blob: Uint8Array): Uint8Array {
  const out = new Uint8Array(VMM_CONFIG_RESERVED_SIZE);
  out.set(blob);
  return out;
}

function reseal(blob: Uint8Array): Uint8Array {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  view.setUint32(VMM_CONFIG_OFFSETS.crc32, 0, true);
  const total = view.getUint32(VMM_CONFIG_OFFSETS.totalSize, true);
  view.setUint32(VMM_CONFIG_OFFSETS.crc32, crc32(blob.subarray(0, total)), true);
  return blob;
}

function check(blob: Uint8Array, gic: number): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-config-'));
  try {
    const file = join(dir, 'blob.bin');
    writeFileSync(file, blob);
    const r = spawnSync(join(hostBuild, 'vmm-config-check'), [file, String(gic)], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('make host-test: the C unit tests pass (GICv2 and GICv3)', () => {
  if (skip) {
    console.log(`SKIP C host tests: ${skip}`);
    return;
  }
  const r = spawnSync('make', ['-s', '-C', runtime, 'host-test'], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  assert.is(r.status, 0, out);
  assert.match(out, /host-test-v2: \d+ tests, \d+ checks, 0 failed tests/);
  assert.match(out, /host-test-v3: \d+ tests, \d+ checks, 0 failed tests/);
});

test('the C start-up check accepts what encodeVmmConfig writes', () => {
  if (skip) return;
  const v2 = check(section(encodeVmmConfig(sampleConfig())), 2);
  assert.is(v2.out.trim(), 'ok');
  assert.is(v2.status, 0);
  const cfg3: VmmConfig = {
    ...sampleConfig(),
    gicVersion: 3,
    vcpuIds: [0, 1],
    giccBase: undefined,
    gicrBase: 0x080a_0000n,
    devices: [{ kind: 'pl011', guestBase: 0x0900_0000n, size: 0x1000n, intid: 33 }],
    irqs: [{ channel: 3, intid: 40, trigger: 'edge' }],
  };
  delete cfg3.giccBase;
  const v3 = check(section(encodeVmmConfig(cfg3)), 3);
  assert.is(v3.out.trim(), 'ok');
});

test('the C start-up check rejects corrupted blobs with one clear line', () => {
  if (skip) return;
  const good = () => section(encodeVmmConfig(sampleConfig()));
  const cases: [string, (b: Uint8Array) => Uint8Array, number, RegExp][] = [
    ['unwritten section', () => new Uint8Array(VMM_CONFIG_RESERVED_SIZE), 2, /bad magic 0x00000000/],
    ['bad magic', (b) => { b[0] = 0x58; return reseal(b); }, 2, /bad magic 0x4d563458/],
    ['bad CRC', (b) => { b[0x100] = (b[0x100] ?? 0) ^ 0xff; return b; }, 2, /checksum mismatch/],
    ['wrong version', (b) => { b[VMM_CONFIG_OFFSETS.version] = 7; return reseal(b); }, 2, /unsupported version 7/],
    ['image outside RAM', (b) => {
      new DataView(b.buffer).setBigUint64(VMM_CONFIG_OFFSETS.kernel + 16, 0x3000_0000n, true);
      return reseal(b);
    }, 2, /kernel image \[0x30000000\.\.\+0x2000000\) is outside guest RAM/],
    ['GIC mismatch', (b) => b, 3, /built for GICv3/],
  ];
  for (const [what, corrupt, gic, message] of cases) {
    const r = check(corrupt(good()), gic);
    assert.is(r.status, 1, `${what}: ${r.out}`);
    assert.match(r.out, /^vmm: config blob rejected: /, what);
    assert.match(r.out, message, what);
    assert.is(r.out.trim().split('\n').length, 1, `${what}: one line`);
  }
});

test.run();
