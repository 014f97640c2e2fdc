// Runs the C runtime's host unit tests, and checks that what the TypeScript encoder writes is
// what the C start-up check accepts (and that corrupted blobs are rejected with its message).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeVmmConfig, type VmmConfig } from '../../src/compile/emit/vmm-config.js';
import { VMM_CONFIG_DOORBELL_OFFSETS, VMM_CONFIG_DOORBELL_SIZE, VMM_CONFIG_OFFSETS, VMM_CONFIG_RESERVED_SIZE } from '../../src/compile/abi/vmm-config.js';
import { crc32 } from '../../src/compile/abi/crc32.js';
import { sampleVmmConfig } from '../compile/emit/sample-vmm-config.js';
import { missing, testIf } from '../helpers.js';
import { encodeTimerConfig } from '../../src/compile/emit/timer-config.js';
import { TIMER_CONFIG_OFFSETS, TIMER_CONFIG_RESERVED_SIZE } from '../../src/compile/abi/timer-config.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const runtime = join(root, 'src/vmm-runtime');
const hostBuild = join(runtime, 'build/host');

/** Every test here builds or runs the host build of the C runtime (make host-test). */
const needs = missing('host-cc', 'make');

const sampleConfig = sampleVmmConfig;

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

function check(blob: Uint8Array, gic: number | 'timer'): { status: number | null; out: string } {
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

testIf(needs, 'make host-test: the C unit tests pass (GICv2 and GICv3)', () => {
  const r = spawnSync('make', ['-s', '-C', runtime, 'host-test'], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  assert.is(r.status, 0, out);
  assert.match(out, /host-test-v2: \d+ tests, \d+ checks, 0 failed tests/);
  assert.match(out, /host-test-v3: \d+ tests, \d+ checks, 0 failed tests/);
});

testIf(needs, 'the C start-up check accepts what encodeVmmConfig writes', () => {
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

testIf(needs, 'the C start-up check accepts doorbells as encodeVmmConfig writes them, and refuses a line the encoder would not share', () => {
  const cfg: VmmConfig = {
    ...sampleConfig(),
    devices: [{ kind: 'pl011', guestBase: 0x0900_0000n, size: 0x1000n, intid: 34 }, { kind: 'pl061', guestBase: 0x5000_1000n, size: 0x1000n, intid: 41 }],
    doorbells: [{ channel: 4, device: 1, ringLine: 0, notifyLine: 1 }, { channel: 6, device: 1, notifyLine: 3 }],
  };
  assert.is(check(section(encodeVmmConfig(cfg)), 2).out.trim(), 'ok');
  const shared = section(encodeVmmConfig(cfg));
  new DataView(shared.buffer).setUint8(VMM_CONFIG_OFFSETS.doorbells + VMM_CONFIG_DOORBELL_SIZE + VMM_CONFIG_DOORBELL_OFFSETS.notifyLine, 1);
  assert.match(check(reseal(shared), 2).out, /doorbell 1: lines \d+\/1 shared/);
});

testIf(needs, 'the C start-up check accepts a restart policy and a control page as encodeVmmConfig writes them (version 7)', () => {
  const cfg: VmmConfig = {
    ...sampleConfig(),
    wake: { slotVaddr: 0x30_0000_0000n, timerChannel: 5 },
    restart: { policy: 'on-failure', maxRestarts: 5, backoffMs: 1500 },
    control: { vaddr: 0x30_0000_1000n, channel: 6 },
  };
  assert.is(check(section(encodeVmmConfig(cfg)), 2).out.trim(), 'ok');
  // The C check reads the policy and the control channel where the encoder wrote them.
  const bad = section(encodeVmmConfig(cfg));
  new DataView(bad.buffer).setUint8(VMM_CONFIG_OFFSETS.restartPolicy, 7);
  assert.match(check(reseal(bad), 2).out, /restart policy 7 is unknown/);
  const clash = section(encodeVmmConfig(cfg));
  new DataView(clash.buffer).setUint8(VMM_CONFIG_OFFSETS.controlChannel, 5);
  assert.match(check(reseal(clash), 2).out, /control channel 5 is above 61 or already in use/);
});

testIf(needs, 'the C start-up check accepts compressed images as encodeVmmConfig writes them', () => {
  const cfg = sampleConfig();
  cfg.kernel = { ...cfg.kernel, size: 0x80_0000n, unpackedSize: 0x200_0000n };
  cfg.initrd = { ...cfg.initrd!, size: 0x1_0000n, unpackedSize: 0x40_0000n };
  const r = check(section(encodeVmmConfig(cfg)), 2);
  assert.is(r.out.trim(), 'ok');
  // The C check reads the unpacked sizes at the offsets the encoder wrote them to.
  const tooBig = section(encodeVmmConfig(cfg));
  new DataView(tooBig.buffer).setBigUint64(VMM_CONFIG_OFFSETS.kernelUnpackedSize, 0x1000_0001n, true);
  const r2 = check(reseal(tooBig), 2);
  assert.match(r2.out, /kernel image \[0x40000000\.\.\+0x10000001\) is outside guest RAM/);
});

testIf(needs, 'the C start-up checks accept a VMM with a wake route and the timer PD blob as the encoders write them', () => {
  const vmm = check(section(encodeVmmConfig({ ...sampleConfig(), wake: { slotVaddr: 0x30_0000_0000n, timerChannel: 5 } })), 2);
  assert.is(vmm.out.trim(), 'ok');
  const timerSection = (b: Uint8Array): Uint8Array => {
    const out = new Uint8Array(TIMER_CONFIG_RESERVED_SIZE);
    out.set(b);
    return out;
  };
  const tick = encodeTimerConfig({ source: 'sched-tick', tickUs: 1000, clients: [{ channel: 0, slotVaddr: 0x20_0000_0000n }, { channel: 1, slotVaddr: 0x20_0000_1000n }] });
  assert.is(check(timerSection(tick), 'timer').out.trim(), 'ok');
  const ptimer = encodeTimerConfig({ source: 'arm-ptimer', irqChannel: 0, clients: [{ channel: 1, slotVaddr: 0x20_0000_0000n }] });
  assert.is(check(timerSection(ptimer), 'timer').out.trim(), 'ok');
  // The C check reads the client table where the encoder wrote it.
  const clash = timerSection(ptimer);
  clash[TIMER_CONFIG_OFFSETS.clients + 8] = 0;
  const view = new DataView(clash.buffer);
  view.setUint32(TIMER_CONFIG_OFFSETS.crc32, 0, true);
  view.setUint32(TIMER_CONFIG_OFFSETS.crc32, crc32(clash.subarray(0, view.getUint32(TIMER_CONFIG_OFFSETS.totalSize, true))), true);
  assert.match(check(clash, 'timer').out, /vmm_timer: config blob rejected: client 0 shares channel 0 with the timer interrupt/);
});

/** Deterministic pseudo-random bytes of a given compressibility. */
function sampleBytes(size: number, seed: number, alphabet: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    // Runs and repeats so the encoder uses long matches and far distances.
    out[i] = i > 40000 && x % 7 === 0 ? out[i - 32768 + (x % 1000)]! : x % alphabet;
  }
  return out;
}

function inflateTool(kind: 'gzip' | 'zlib' | 'raw', input: Uint8Array, capacity: number): { status: number | null; out: string; data: Uint8Array | undefined } {
  const dir = mkdtempSync(join(tmpdir(), 'inflate-'));
  try {
    writeFileSync(join(dir, 'in'), input);
    const r = spawnSync(join(hostBuild, 'inflate-tool'), [kind, join(dir, 'in'), join(dir, 'out'), String(capacity)], { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr, data: r.status === 0 ? new Uint8Array(readFileSync(join(dir, 'out'))) : undefined };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

testIf(needs, 'inflate: round trips of data compressed by the host zlib (every level and strategy, three wrappers)', () => {
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['text', new TextEncoder().encode('sel4cp-synth '.repeat(5000))],
    ['random', sampleBytes(300_000, 7, 256)],
    ['skewed', sampleBytes(400_000, 11, 5)],
    ['zeros', new Uint8Array(1_000_000)],
  ];
  const { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED } = zlib.constants;
  let runs = 0;
  for (const [name, data] of inputs) {
    for (const level of [0, 1, 6, 9]) {
      for (const strategy of [Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE, Z_FIXED]) {
        if (level === 0 && strategy !== Z_DEFAULT_STRATEGY) continue;
        const opts = { level, strategy };
        const kind = (['gzip', 'zlib', 'raw'] as const)[runs % 3]!;
        const packed = kind === 'gzip' ? zlib.gzipSync(data, opts) : kind === 'zlib' ? zlib.deflateSync(data, opts) : zlib.deflateRawSync(data, opts);
        const r = inflateTool(kind, packed, data.length);
        const label = `${name} level ${level} strategy ${strategy} ${kind}`;
        assert.is(r.status, 0, `${label}: ${r.out}`);
        assert.is(sha(r.data!), sha(data), label);
        runs++;
      }
    }
  }
  // A capacity one byte short is an overflow, reported, never written past.
  const text = inputs[1]![1];
  const short = inflateTool('gzip', zlib.gzipSync(text), text.length - 1);
  assert.is(short.status, 1);
  assert.match(short.out, /more than the space given/);
});

testIf(needs ?? missing('gzip'), 'inflate: a large gzip member from the command-line gzip, if present', () => {
  const data = sampleBytes(3_000_000, 3, 40);
  const r = spawnSync('gzip', ['-9', '-n', '-c'], { input: data, maxBuffer: 64 << 20 });
  assert.is(r.status, 0);
  const out = inflateTool('gzip', new Uint8Array(r.stdout), data.length);
  assert.is(out.status, 0, out.out);
  assert.is(sha(out.data!), sha(data));
});

testIf(needs, 'the C start-up check rejects corrupted blobs with one clear line', () => {
  const good = () => section(encodeVmmConfig(sampleConfig()));
  const cases: [string, (b: Uint8Array) => Uint8Array, number, RegExp][] = [
    ['unwritten section', () => new Uint8Array(VMM_CONFIG_RESERVED_SIZE), 2, /bad magic 0x00000000/],
    ['bad magic', (b) => { b[0] = 0x58; return reseal(b); }, 2, /bad magic 0x4d563458/],
    ['bad CRC', (b) => { b[0x100] = (b[0x100] ?? 0) ^ 0xff; return b; }, 2, /checksum mismatch/],
    ['wrong version', (b) => { b[VMM_CONFIG_OFFSETS.version] = 99; return reseal(b); }, 2, /unsupported version 99/],
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
