// The real Microkit 2.0.1 tool must accept what we emit. Needs MICROKIT_SDK and Debian's
// gcc-aarch64-linux-gnu (to build a small PD program image); otherwise each test is skipped with
// one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, missing, missingSdkBoard, repoRoot, runCli, testIf } from '../helpers.js';

const sdk = process.env['MICROKIT_SDK'] ?? '';
const board = 'qemu_virt_aarch64';
/** The loader image tests build a small PD with Debian's cross compiler and linker. */
const needs = missing('microkit-sdk', 'cross-gcc', 'cross-binutils');
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-mk-'));
const boardDir = path.join(sdk, 'board', board, 'debug');

if (!needs) {
  test.before(() => {
    execFileSync('aarch64-linux-gnu-gcc', ['-mcpu=cortex-a53', '-mstrict-align', '-ffreestanding', '-nostdlib', '-O2',
      '-I', path.join(boardDir, 'include'), '-c', path.join(fixtures, 'valid', 'pd.c'), '-o', path.join(work, 'pd.o')]);
    execFileSync('aarch64-linux-gnu-ld', ['-L', path.join(boardDir, 'lib'), path.join(work, 'pd.o'), '-lmicrokit',
      '-T', path.join(boardDir, 'lib', 'microkit.ld'), '-o', path.join(work, 'pd.elf')]);
  });
}

for (const [name, file] of [['features', path.join('test', 'fixtures', 'valid', 'features.ts')], ['largest', path.join('bench', 'systems', 'largest.ts')]] as const) {
  testIf(needs, `the Microkit tool builds a loader image from our ${name} system`, () => {
    const out = path.join(work, name);
    const r = runCli([file, '--out', out, '--board', board, '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 0, r.stderr);
    const mk = spawnSync(path.join(sdk, 'bin', 'microkit'), [path.join(out, `${name}.system`), '--search-path', work, '--board', board,
      '--config', 'debug', '-o', path.join(out, 'loader.img'), '-r', path.join(out, 'report.txt')], { encoding: 'utf8', cwd: repoRoot });
    assert.is(mk.status, 0, `microkit rejected ${name}.system:\n${mk.stdout}${mk.stderr}`);
    assert.ok(readFileSync(path.join(out, 'report.txt'), 'utf8').length > 0);
  });
}

testIf(missing('microkit-sdk') ?? missingSdkBoard('imx8mm_evk', 'debug'), "smc: true is an error when the SDK's kernel for the board is built without SMC calls", () => {
  const r = runCli(['check', path.join('test', 'fixtures', 'invalid', 'protection-domains', 'pd-smc.ts')], { env: { MICROKIT_SDK: sdk } });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /pd-smc\.ts:2:\d+: error\[pd-smc-not-allowed\]/);
  assert.match(r.stderr, /gen_config\.json/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
