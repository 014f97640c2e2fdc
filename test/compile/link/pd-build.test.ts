// User PDs built by the tool (issue 17, item 3): C sources compiled and linked against the
// chosen SDK's libmicrokit for the board and config, cached by content; a prebuilt program from
// another release stopped before the Microkit tool panics on it; a missing source at its line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, missing, runCli, testIf } from '../../helpers.js';
import { definedSymbols } from '../../../src/compile/link/elf.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-pd-build-'));
const sdk201 = process.env['MICROKIT_SDK'];
const sdk230 = process.env['MICROKIT_SDK_2_3_0'];
const prebuilt201 = path.join(fixtures, 'programs', 'symbols-2.0.1.elf');

function project(name: string, pd: string): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'pds'), { recursive: true });
  writeFileSync(path.join(dir, 'pds', 'hello.c'), [
    '#include <microkit.h>',
    '#include "greeting.h"',
    'void init(void) { microkit_dbg_puts(GREETING); }',
    'void notified(microkit_channel ch) { (void)ch; }',
    '',
  ].join('\n'));
  mkdirSync(path.join(dir, 'include'), { recursive: true });
  writeFileSync(path.join(dir, 'include', 'greeting.h'), '#define GREETING "hello-pd: built from sources\\n"\n');
  writeFileSync(path.join(dir, 'systems.ts'), [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    pd,
    "export default system({ board: 'qemu_virt_aarch64', protectionDomains: [hello] });",
    '',
  ].join('\n'));
  return dir;
}

const fromSources = "const hello = protectionDomain('hello', { sources: ['pds/hello.c'], include: ['include'], priority: 100 });";

test('program release: a program built against 2.0.1\'s libmicrokit is refused for 2.3.0 at its line, before the Microkit tool', () => {
  assert.ok(definedSymbols(readFileSync(prebuilt201)).has('microkit_pps'));
  assert.not.ok(definedSymbols(readFileSync(prebuilt201)).has('microkit_ioports'));
  const dir = project('release', `const hello = protectionDomain('hello', { program: '${prebuilt201}' });`);
  const r = runCli(['systems.ts', '--microkit', '2.3.0', '--out', 'out'], { cwd: dir, env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /systems\.ts:2:\d+: error\[program-wrong-release\]: the program image of protection domain 'hello' .* was not built against Microkit 2\.3\.0's libmicrokit: it lacks 'microkit_ioports'/);
  assert.not.ok(existsSync(path.join(dir, 'out')));
  const ok = runCli(['systems.ts', '--microkit', '2.0.1', '--out', 'out'], { cwd: dir, env: { MICROKIT_SDK: '' } });
  assert.is(ok.status, 0, ok.stderr);
});

test('sources: a missing source is an error at the PD\'s line, with or without an SDK', () => {
  const dir = project('missing', "const hello = protectionDomain('hello', { sources: ['pds/nothere.c'] });");
  const r = runCli(['systems.ts', '--out', 'out'], { cwd: dir, env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 1, r.stdout);
  assert.match(r.stderr, /systems\.ts:2:\d+: error\[pd-source-missing\]: source of protection domain 'hello' not found: .*nothere\.c/);
});

test('sources: without an SDK the build is a skipped step that says why', () => {
  const dir = project('nosdk', fromSources);
  const r = runCli(['systems.ts', '--out', 'out'], { cwd: dir, env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /build of protection domain 'hello'.*MICROKIT_SDK is not set/);
});

testIf(missing('microkit-sdk', 'cross-gcc'), 'sources: built against the SDK, cached by content, rebuilt when a header changes; a compile error is the user\'s', () => {
  const dir = project('build', fromSources);
  const env = { MICROKIT_SDK: sdk201!, XDG_CACHE_HOME: path.join(work, 'cache') };
  const first = runCli(['systems.ts', '--out', 'out'], { cwd: dir, env });
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /pd: building hello for qemu_virt_aarch64 \(debug\)/);
  const elf = readFileSync(path.join(dir, 'out', 'hello.elf'));
  const symbols = definedSymbols(elf);
  for (const s of ['init', 'notified', 'microkit_name', 'microkit_pps', '__sel4_ipc_buffer_obj']) assert.ok(symbols.has(s), s);
  assert.ok(existsSync(path.join(dir, 'out', 'loader.img')));
  const readelf = spawnSync('aarch64-linux-gnu-readelf', ['-h', path.join(dir, 'out', 'hello.elf')], { encoding: 'utf8' });
  if (readelf.status === 0) assert.match(readelf.stdout, /Machine:\s+AArch64/);
  const again = runCli(['systems.ts', '--out', 'out'], { cwd: dir, env });
  assert.match(again.stderr, /pd: reusing hello/);
  writeFileSync(path.join(dir, 'include', 'greeting.h'), '#define GREETING "changed\\n"\n');
  const changed = runCli(['systems.ts', '--out', 'out'], { cwd: dir, env });
  assert.match(changed.stderr, /pd: building hello/);
  writeFileSync(path.join(dir, 'pds', 'hello.c'), 'void init(void) { undefined_thing(); }\n');
  const broken = runCli(['systems.ts', '--out', 'out2'], { cwd: dir, env });
  assert.is(broken.status, 1, broken.stderr);
  assert.match(broken.stderr, /systems\.ts:2:\d+: error\[pd-build-failed\]: protection domain 'hello' does not (compile|link)/);
  assert.not.ok(existsSync(path.join(dir, 'out2')));
});

for (const [release, sdk] of [['2.0.1', sdk201], ['2.3.0', sdk230]] as const) {
  const why = missing('qemu', 'cross-gcc') ?? (sdk ? undefined : `no Microkit ${release} SDK (${release === '2.0.1' ? 'MICROKIT_SDK' : 'MICROKIT_SDK_2_3_0'})`);
  testIf(why, `sources: the same systems.ts builds and runs its PD on Microkit ${release}`, () => {
    const dir = project(`run-${release}`, fromSources);
    const r = runCli(['run', 'systems.ts', '--sdk', sdk!, '--out', 'out', '--expect', 'hello-pd: built from sources', '--timeout', '120'], { cwd: dir, env: { MICROKIT_SDK: sdk!, XDG_CACHE_HOME: path.join(work, 'cache') } });
    assert.is(r.status, 0, r.stderr.slice(-2000));
    assert.match(r.stderr, /boot: saw 'hello-pd: built from sources'/);
  });
}

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
