// The real Microkit 2.0.1 tool must accept what we emit. Needs MICROKIT_SDK and Debian's
// gcc-aarch64-linux-gnu (to build a small PD program image); otherwise one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, repoRoot, runCli, skip } from '../helpers.js';

const sdk = process.env['MICROKIT_SDK'];
const haveCc = spawnSync('aarch64-linux-gnu-gcc', ['--version']).status === 0;
const board = 'qemu_virt_aarch64';

if (!sdk || !existsSync(path.join(sdk, 'bin', 'microkit'))) {
  test('Microkit tool accepts our output', () => skip('Microkit tool acceptance: MICROKIT_SDK is not set'));
} else if (!haveCc) {
  test('Microkit tool accepts our output', () => skip('Microkit tool acceptance: aarch64-linux-gnu-gcc missing (Debian package gcc-aarch64-linux-gnu)'));
} else {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-mk-'));
  const boardDir = path.join(sdk, 'board', board, 'debug');

  test.before(() => {
    execFileSync('aarch64-linux-gnu-gcc', ['-mcpu=cortex-a53', '-mstrict-align', '-ffreestanding', '-nostdlib', '-O2',
      '-I', path.join(boardDir, 'include'), '-c', path.join(fixtures, 'valid', 'pd.c'), '-o', path.join(work, 'pd.o')]);
    execFileSync('aarch64-linux-gnu-ld', ['-L', path.join(boardDir, 'lib'), path.join(work, 'pd.o'), '-lmicrokit',
      '-T', path.join(boardDir, 'lib', 'microkit.ld'), '-o', path.join(work, 'pd.elf')]);
  });

  for (const [name, file] of [['features', path.join('test', 'fixtures', 'valid', 'features.ts')], ['largest', path.join('bench', 'systems', 'largest.ts')]] as const) {
    test(`the Microkit tool builds a loader image from our ${name} system`, () => {
      const out = path.join(work, name);
      const r = runCli([file, '--out', out, '--board', board, '--quiet'], { env: { MICROKIT_SDK: '' } });
      assert.is(r.status, 0, r.stderr);
      const mk = spawnSync(path.join(sdk, 'bin', 'microkit'), [path.join(out, `${name}.system`), '--search-path', work, '--board', board,
        '--config', 'debug', '-o', path.join(out, 'loader.img'), '-r', path.join(out, 'report.txt')], { encoding: 'utf8', cwd: repoRoot });
      assert.is(mk.status, 0, `microkit rejected ${name}.system:\n${mk.stdout}${mk.stderr}`);
      assert.ok(readFileSync(path.join(out, 'report.txt'), 'utf8').length > 0);
    });
  }

  test("smc: true is an error when the SDK's kernel for the board is built without SMC calls", () => {
    const r = runCli(['check', path.join('test', 'fixtures', 'invalid', 'pd-smc.ts')], { env: { MICROKIT_SDK: sdk } });
    assert.is(r.status, 1, r.stderr);
    assert.match(r.stderr, /pd-smc\.ts:2:\d+: error\[pd-smc-not-allowed\]/);
    assert.match(r.stderr, /gen_config\.json/);
  });

  test.after(() => rmSync(work, { recursive: true, force: true }));
}

test.run();
