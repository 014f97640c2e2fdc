/**
 * Bounded, deterministic fuzzing of the reader (and of the tree API on whatever it accepts):
 * every mutated blob must end in a tree or a DtbError, quickly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { performance } from 'node:perf_hooks';
import { DtbError, makeNode, type Fdt } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { readInterrupts } from '../../../src/compile/dtb/interrupts.js';
import { stringValue, u32Value } from '../../../src/compile/dtb/props.js';
import { phandleReferences } from '../../../src/compile/dtb/references.js';
import { phandleIndex, readRegPhysical, walkNodes } from '../../../src/compile/dtb/tree.js';
import { debianDtbs, fixtureDtbs, have, qemuVirtDtb } from './helpers.js';

const MUTATIONS = 3000;
const TOTAL_BUDGET_MS = 30_000;
const PER_INPUT_BUDGET_MS = 500;

/** mulberry32: a small seeded PRNG, so every run tries the same inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A blob that needs no external tool, so the fuzz test always runs. */
function builtIn(): Uint8Array {
  const gic = makeNode('intc@8000000', [
    { name: 'compatible', value: stringValue('arm,gic-400') },
    { name: '#interrupt-cells', value: u32Value(3) },
    { name: 'interrupt-controller', value: new Uint8Array() },
    { name: 'reg', value: u32Value(0, 0x800_0000, 0, 0x1000) },
    { name: 'phandle', value: u32Value(1) },
  ]);
  const uart = makeNode('serial@9000000', [
    { name: 'reg', value: u32Value(0, 0x900_0000, 0, 0x1000) },
    { name: 'interrupts', value: u32Value(0, 1, 4) },
    { name: 'clocks', value: u32Value(2) },
  ]);
  const bus = makeNode('soc', [
    { name: '#address-cells', value: u32Value(2) },
    { name: '#size-cells', value: u32Value(2) },
    { name: 'ranges', value: new Uint8Array() },
  ], [uart]);
  const clk = makeNode('clk', [{ name: '#clock-cells', value: u32Value(0) }, { name: 'phandle', value: u32Value(2) }]);
  const fdt: Fdt = {
    bootCpuidPhys: 0,
    memReserve: [{ address: 0x1000n, size: 0x1000n }],
    root: makeNode('', [
      { name: '#address-cells', value: u32Value(2) },
      { name: '#size-cells', value: u32Value(2) },
      { name: 'interrupt-parent', value: u32Value(1) },
    ], [gic, bus, clk, makeNode('chosen', [{ name: 'bootargs', value: stringValue('x') }])]),
  };
  return writeFdt(fdt);
}

function corpus(): Uint8Array[] {
  const out = [builtIn(), ...debianDtbs().values()];
  if (have('dtc')) out.push(...fixtureDtbs().values());
  if (have('qemu-system-aarch64')) out.push(qemuVirtDtb(2), qemuVirtDtb(3));
  return out;
}

const INTERESTING = [0, 1, 3, 4, 8, 16, 17, 40, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
  // Most DTBs are larger than the interesting parts: bias positions towards the header and struct.
  const pos = (b: Uint8Array): number => (rnd() < 0.5 ? pick(Math.min(b.length, 512)) : pick(b.length));
  const kind = pick(7);
  const b = src.slice();
  switch (kind) {
    case 0: {
      const n = 1 + pick(8);
      for (let i = 0; i < n; i++) {
        const p = pos(b);
        b[p] = b[p]! ^ (1 << pick(8));
      }
      return b;
    }
    case 1:
      return b.slice(0, pick(b.length));
    case 2: {
      const field = pick(10) * 4;
      const v = rnd() < 0.5 ? INTERESTING[pick(INTERESTING.length)]! : (dv(b).getUint32(field) + pick(64) - 32) >>> 0;
      dv(b).setUint32(field, v);
      return b;
    }
    case 3: {
      // A token-sized word in the structure block set to a token or a small number.
      const off = dv(b).getUint32(8);
      const size = dv(b).getUint32(36);
      if (off + size > b.length || size < 4) return b;
      const p = off + 4 * pick(size / 4);
      dv(b).setUint32(p, rnd() < 0.6 ? [1, 2, 3, 4, 9][pick(5)]! : INTERESTING[pick(INTERESTING.length)]!);
      return b;
    }
    case 4: {
      const p = pos(b);
      const n = 1 + pick(32);
      for (let i = 0; i < n && p + i < b.length; i++) b[p + i] = pick(256);
      return b;
    }
    case 5: {
      // Splice: remove or duplicate a run of bytes.
      const p = pos(b);
      const n = 1 + pick(64);
      const cut = Math.min(n, b.length - p);
      if (rnd() < 0.5) {
        const out = new Uint8Array(b.length - cut);
        out.set(b.subarray(0, p));
        out.set(b.subarray(p + cut), p);
        return out;
      }
      const out = new Uint8Array(b.length + cut);
      out.set(b.subarray(0, p + cut));
      out.set(b.subarray(p), p + cut);
      return out;
    }
    default: {
      // A property length or name offset in the structure block.
      const off = dv(b).getUint32(8);
      const size = dv(b).getUint32(36);
      if (off + size > b.length) return b;
      for (let p = off + 4 * pick(Math.max(1, size / 4)); p + 12 <= off + size; p += 4) {
        if (dv(b).getUint32(p) === 3) {
          dv(b).setUint32(p + 4 + 4 * pick(2), INTERESTING[pick(INTERESTING.length)]!);
          break;
        }
      }
      return b;
    }
  }
}

/** Uses the tree API on an accepted tree; DtbErrors are fine, anything else is a bug. */
function exercise(fdt: Fdt): void {
  const again = readFdt(writeFdt(fdt));
  writeFdt(again, { layout: 'compact' });
  let index;
  try {
    index = phandleIndex(fdt);
  } catch (e) {
    if (!(e instanceof DtbError)) throw e;
    index = new Map();
  }
  for (const ref of walkNodes(fdt)) {
    for (const fn of [() => readRegPhysical(ref), () => readInterrupts(fdt, ref), () => phandleReferences(ref.node, index)]) {
      try {
        fn();
      } catch (e) {
        if (!(e instanceof DtbError)) throw e;
      }
    }
  }
}

test(`${MUTATIONS} seeded mutations end in a tree or a DtbError, in bounded time`, () => {
  const inputs = corpus();
  const rnd = prng(0x5e14c9);
  let parsed = 0;
  let rejected = 0;
  let slowest = 0;
  const codes = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < MUTATIONS; i++) {
    const src = inputs[i % inputs.length]!;
    const blob = mutate(src, rnd);
    const t0 = performance.now();
    try {
      exercise(readFdt(blob));
      parsed++;
    } catch (e) {
      if (!(e instanceof DtbError)) {
        throw new Error(`mutation ${i} of input ${i % inputs.length} did not end in a DtbError: ${(e as Error).stack}`);
      }
      rejected++;
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
    const dt = performance.now() - t0;
    slowest = Math.max(slowest, dt);
    assert.ok(dt < PER_INPUT_BUDGET_MS, `mutation ${i} took ${dt.toFixed(0)} ms`);
  }
  const total = performance.now() - start;
  assert.ok(total < TOTAL_BUDGET_MS, `fuzzing took ${total.toFixed(0)} ms`);
  assert.is(parsed + rejected, MUTATIONS);
  console.log(
    `fuzz: ${MUTATIONS} mutations of ${inputs.length} DTBs: ${parsed} parsed, ${rejected} DtbError (${codes.size} codes) in ${total.toFixed(0)} ms, slowest ${slowest.toFixed(1)} ms`,
  );
});

test.run();
