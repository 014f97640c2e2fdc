// The ELF writer, checked by an oracle nobody here wrote: binutils' readelf. Test inputs are
// built with Debian's aarch64 cross gcc (installed by .ci/run); without it, each test is skipped
// with one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addLoadSegment, patchSection, readElf, ElfError, PF_R, PT_LOAD } from '../../../src/compile/link/elf.js';
import { missing, testIf } from '../../helpers.js';

const CC = 'aarch64-linux-gnu-gcc';
const READELF = 'aarch64-linux-gnu-readelf';
const needs = missing('cross-gcc', 'cross-binutils');
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-elf-'));

/** Build a small AArch64 executable with a 4 KiB `.vmm_config` section. */
function build(name: string, extra: string[]): Uint8Array {
  const src = path.join(work, 'prog.c');
  writeFileSync(src, '__attribute__((section(".vmm_config"), used)) unsigned char blob[4096];\nvoid _start(void) { for (;;) {} }\n');
  const out = path.join(work, name);
  execFileSync(CC, ['-ffreestanding', '-nostdlib', '-static', '-O2', '-Wl,--no-warn-rwx-segments', ...extra, src, '-o', out]);
  return new Uint8Array(readFileSync(out));
}

function readelf(bytes: Uint8Array, flags: string[]): string {
  const file = path.join(work, `check-${Math.random().toString(36).slice(2)}.elf`);
  writeFileSync(file, bytes);
  const r = spawnSync(READELF, ['-W', ...flags, file], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.not.match(r.stderr, /warning|error/i, `readelf complained: ${r.stderr}`);
  return r.stdout;
}

const layouts: [string, string[]][] = [
  // Like the runtime (microkit.ld): headers outside every segment, room after the table.
  ['headers outside the segments', ['-T', 'LDSCRIPT']],
  // The usual static link: the first segment covers the headers, so the table must move.
  ['headers inside the first segment', []],
  // -N: text packed right after the program headers.
  ['text right after the headers', ['-Wl,-N']],
];

for (const [name, flags] of layouts) {
  testIf(needs, `adds a loadable segment and readelf agrees (${name})`, () => {
    const script = path.join(work, 'prog.ld');
    writeFileSync(script, 'SECTIONS { . = 0x200000; .text : { *(.text*) } . = ALIGN(0x1000); .vmm_config : { *(.vmm_config) } /DISCARD/ : { *(.note*) } }\n');
    const input = build(`in-${flags.length}.elf`, flags.map((f) => (f === 'LDSCRIPT' ? script : f)));
    const before = readElf(input);
    const data = new Uint8Array(0x3456).map((_, i) => (i * 7) & 0xff);
    const out = addLoadSegment(input, { vaddr: 0x1_0000_0000n, data, flags: PF_R });
    const after = readElf(out);
    assert.is(after.segments.length, before.segments.length + 1);
    const added = after.segments[after.segments.length - 1]!;
    assert.is(added.type, PT_LOAD);
    assert.is(added.vaddr, 0x1_0000_0000n);
    assert.is(added.filesz, BigInt(data.length));
    assert.equal(out.subarray(Number(added.offset), Number(added.offset) + data.length), data);
    // The original segments and sections are untouched.
    for (const s of before.segments) assert.equal(after.segments[s.index], s);
    assert.equal(after.sections, before.sections);

    const lines = readelf(out, ['-l']).split('\n').filter((l) => /^\s+LOAD\s/.test(l));
    assert.is(lines.length, before.segments.filter((s) => s.type === PT_LOAD).length + 1);
    assert.match(lines[lines.length - 1]!, /0x0000000100000000 0x0000000100000000 0x003456 0x003456 R\s+0x1000/);
    assert.match(readelf(out, ['-S']), /\.vmm_config\s+PROGBITS/);
  });
}

testIf(needs, 'patches the config section in place and readelf shows the bytes', () => {
  const input = build('patch.elf', []);
  const blob = new Uint8Array([0x53, 0x34, 0x56, 0x4d, 1, 0, 0x20, 2]);
  const out = patchSection(input, '.vmm_config', blob);
  assert.is(out.length, input.length);
  const hexdump = readelf(out, ['-x', '.vmm_config']);
  assert.match(hexdump, /53345[6]4d 01002002/);
  assert.throws(() => patchSection(input, '.vmm_config', new Uint8Array(4097)), (e: unknown) => e instanceof ElfError && /do not fit/.test((e as Error).message));
  assert.throws(() => patchSection(input, '.nope', blob), (e: unknown) => e instanceof ElfError);
});

testIf(needs, 'refuses a segment that overlaps an existing one', () => {
  const input = build('overlap.elf', []);
  const text = readElf(input).segments.find((s) => s.type === PT_LOAD)!;
  assert.throws(() => addLoadSegment(input, { vaddr: text.vaddr, data: new Uint8Array(16), flags: PF_R }), (e: unknown) => e instanceof ElfError && /overlaps/.test((e as Error).message));
});

testIf(needs, 'rejects files that are not 64-bit ELF, without crashing', () => {
  for (const bad of [new Uint8Array(0), new Uint8Array(10), new TextEncoder().encode('not an elf at all, just text........................................................')]) {
    assert.throws(() => readElf(bad), (e: unknown) => e instanceof ElfError);
  }
  const input = build('trunc.elf', []);
  assert.throws(() => readElf(input.subarray(0, 100)), (e: unknown) => e instanceof ElfError);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
