// Bounded, seeded fuzzing through the command line: mutated .system files (check, graph,
// import) and mutated device trees (a guest's own dtb, and the board's tree it is cut from, in a
// whole synthesis). Every run must end in exit 0 or 1 — never 2, an internal error — and quickly.
// The command line runs in-process (src/cli/app.ts), so thousands of inputs take seconds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { main } from '../../src/cli/app.js';
import { makeNode, type Fdt } from '../../src/compile/dtb/fdt.js';
import { writeFdt } from '../../src/compile/dtb/fdt-write.js';
import { stringListValue, stringValue, u32Value } from '../../src/compile/dtb/props.js';
import { fixtures } from '../helpers.js';

const SYSTEM_CASES = 2000;
const DTB_CASES = 300;
const PER_CASE_MS = 10_000;

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-fuzz-'));

/** mulberry32: a seeded PRNG, so every run tries the same inputs. */
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

/** Runs the command line in-process with its output captured. */
async function cli(args: string[]): Promise<{ code: number; out: string; ms: number }> {
  const out: string[] = [];
  const write = (s: string | Uint8Array): boolean => {
    out.push(typeof s === 'string' ? s : Buffer.from(s).toString());
    return true;
  };
  const [o, e] = [process.stdout.write, process.stderr.write];
  process.stdout.write = write as typeof process.stdout.write;
  process.stderr.write = write as typeof process.stderr.write;
  const t0 = performance.now();
  try {
    const code = await main(args);
    return { code, out: out.join(''), ms: performance.now() - t0 };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

const TAGS = ['<system>', '</system>', '<protection_domain name="x" priority="1">', '</protection_domain>', '<memory_region name="m" size="0x1000"/>',
  '<map mr="m" vaddr="0x1000" perms="rw"/>', '<irq irq="33" id="1"/>', '<channel><end pd="x" id="0"/><end pd="y" id="0"/></channel>',
  '<virtual_machine name="v"><vcpu id="0"/></virtual_machine>', '<program_image path="a.elf"/>', '<!--', '-->', '<![CDATA[', ']]>', '&amp;', '&#0;', '"', "'", '<', '>'];
const VALUES = ['0x', '-1', '0x_1', '99999999999999999999', '', 'rwx', 'true', '64', '62', '0xfffffffffffffffff', '\u0000', '\uffff', 'é'];

function mutateText(src: string, rnd: () => number): string {
  const pick = (n: number): number => Math.floor(rnd() * n);
  let s = src;
  for (let k = 1 + pick(3); k > 0; k--) {
    const p = pick(s.length + 1);
    switch (pick(6)) {
      case 0: s = s.slice(0, p) + s.slice(p + 1 + pick(40)); break;
      case 1: s = s.slice(0, p) + TAGS[pick(TAGS.length)]! + s.slice(p); break;
      case 2: {
        // An attribute value replaced.
        const q = s.indexOf('"', p);
        const r = q < 0 ? -1 : s.indexOf('"', q + 1);
        if (r > q) s = s.slice(0, q + 1) + VALUES[pick(VALUES.length)]! + s.slice(r);
        break;
      }
      case 3: s = s.slice(0, p); break;
      case 4: {
        const q = p + pick(200);
        s = s.slice(0, q) + s.slice(p, q) + s.slice(q);
        break;
      }
      default: s = s.slice(0, p) + String.fromCharCode(pick(0x80)) + s.slice(p);
    }
  }
  return s;
}

/** A guest-capable board tree made here, so the DTB cases need no dtc or QEMU. */
function boardTree(): Uint8Array {
  const cells = (a: number, s: number) => [{ name: '#address-cells', value: u32Value(a) }, { name: '#size-cells', value: u32Value(s) }];
  const gic = makeNode('intc@8000000', [
    { name: 'compatible', value: stringListValue(['arm,cortex-a15-gic']) },
    { name: '#interrupt-cells', value: u32Value(3) },
    { name: 'interrupt-controller', value: new Uint8Array() },
    { name: 'reg', value: u32Value(0, 0x800_0000, 0, 0x1_0000, 0, 0x801_0000, 0, 0x1_0000) },
    { name: 'phandle', value: u32Value(1) },
  ]);
  const cpu = makeNode('cpu@0', [
    { name: 'device_type', value: stringValue('cpu') }, { name: 'compatible', value: stringValue('arm,cortex-a53') },
    { name: 'reg', value: u32Value(0) }, { name: 'enable-method', value: stringValue('psci') },
  ]);
  const fdt: Fdt = {
    bootCpuidPhys: 0,
    memReserve: [],
    root: makeNode('', [...cells(2, 2), { name: 'interrupt-parent', value: u32Value(1) }, { name: 'compatible', value: stringValue('linux,dummy-virt') }], [
      makeNode('cpus', cells(1, 0), [cpu]),
      makeNode('psci', [{ name: 'compatible', value: stringListValue(['arm,psci-1.0', 'arm,psci-0.2']) }, { name: 'method', value: stringValue('hvc') }]),
      makeNode('timer', [{ name: 'compatible', value: stringValue('arm,armv8-timer') }, { name: 'interrupts', value: u32Value(1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4) }]),
      gic,
      makeNode('memory@40000000', [{ name: 'device_type', value: stringValue('memory') }, { name: 'reg', value: u32Value(0, 0x4000_0000, 0, 0x8000_0000) }]),
      makeNode('pl011@9000000', [{ name: 'compatible', value: stringListValue(['arm,pl011', 'arm,primecell']) }, { name: 'reg', value: u32Value(0, 0x900_0000, 0, 0x1000) }, { name: 'interrupts', value: u32Value(0, 1, 4) }]),
      makeNode('chosen', [{ name: 'bootargs', value: stringValue('console=ttyAMA0') }]),
    ]),
  };
  return writeFdt(fdt);
}

function mutateBytes(src: Uint8Array, rnd: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(rnd() * n);
  const b = src.slice();
  const dv = new DataView(b.buffer);
  switch (pick(4)) {
    case 0: for (let i = 0; i < 1 + pick(6); i++) { const p = pick(b.length); b[p] = b[p]! ^ (1 << pick(8)); } return b;
    case 1: return b.slice(0, pick(b.length));
    case 2: { const p = pick(b.length >> 2) * 4; dv.setUint32(p, [0, 1, 2, 3, 4, 9, 0x41414141, 0xffffffff][pick(8)]!); return b; }
    default: { const p = pick(b.length); for (let i = 0; i < 16 && p + i < b.length; i++) b[p + i] = pick(256); return b; }
  }
}

test(`${SYSTEM_CASES} mutated .system files through check, graph and import: exit 0 or 1, never 2`, async () => {
  const seeds = [
    ...readdirSync(path.join(fixtures, 'golden')).filter((f) => f.endsWith('.system')).map((f) => path.join(fixtures, 'golden', f)),
    ...readdirSync(path.join(fixtures, 'invalid'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.system')).sort().map((f) => path.join(fixtures, 'invalid', f)),
  ].map((f) => readFileSync(f, 'utf8'));
  const rnd = prng(0x5e14c9);
  const codes = new Map<number, number>();
  let slowest = 0;
  for (let i = 0; i < SYSTEM_CASES; i++) {
    const file = path.join(work, `case-${i % 8}.system`);
    writeFileSync(file, mutateText(seeds[i % seeds.length]!, rnd));
    const cmd = [['check', file, '--board', 'qemu'], ['graph', file, '--format', 'dot'], ['import', file], ['check', file]][i % 4]!;
    const r = await cli([...cmd, '--quiet']);
    codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
    slowest = Math.max(slowest, r.ms);
    assert.ok(r.code === 0 || r.code === 1, `case ${i} (${cmd[0]}) exited ${r.code}:\n${readFileSync(file, 'utf8').slice(0, 400)}\n${r.out.slice(0, 2000)}`);
    assert.ok(r.ms < PER_CASE_MS, `case ${i} took ${r.ms} ms`);
  }
  process.stdout.write(`fuzz .system: ${SYSTEM_CASES} cases, exit 0: ${codes.get(0) ?? 0}, exit 1: ${codes.get(1) ?? 0}, slowest ${slowest.toFixed(0)} ms\n`);
});

test(`${DTB_CASES} mutated device trees through a whole synthesis (as the guest's dtb and as the board's): exit 0 or 1, never 2`, async () => {
  const seed = boardTree();
  const stub = path.join(fixtures, 'invalid', 'stub-Image');
  const sys = path.join(work, 'dtb-system.ts');
  writeFileSync(sys, [
    "import { contextFile, mib, optionalContextFile, passthrough, system, virtualMachine } from 'sel4cp-synth';",
    `const linux = virtualMachine('linux', { kernel: ${JSON.stringify(stub)}, ram: mib(64), dtb: optionalContextFile('dtb'), boardDtb: optionalContextFile('board'), passthrough: [passthrough('uart0')] });`,
    "export default system({ board: 'qemu_virt_aarch64', virtualMachines: [linux] });",
    '',
  ].join('\n'));
  const rnd = prng(0xd7b);
  const codes = new Map<number, number>();
  let slowest = 0;
  for (let i = 0; i < DTB_CASES; i++) {
    const file = path.join(work, 'case.dtb');
    writeFileSync(file, mutateBytes(seed, rnd));
    const r = await cli([sys, '-c', `${i % 2 ? 'dtb' : 'board'}=${file}`, '--out', path.join(work, 'out'), '--sdk', '', '--quiet']);
    codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
    slowest = Math.max(slowest, r.ms);
    assert.ok(r.code === 0 || r.code === 1, `case ${i} exited ${r.code}:\n${r.out.slice(0, 2000)}`);
    assert.ok(r.ms < PER_CASE_MS, `case ${i} took ${r.ms} ms`);
  }
  process.stdout.write(`fuzz DTB: ${DTB_CASES} cases, exit 0: ${codes.get(0) ?? 0}, exit 1: ${codes.get(1) ?? 0}, slowest ${slowest.toFixed(0)} ms\n`);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
