// What a new user hit (issue 17), each through the CLI as they met it: the test names say which.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-new-user-'));

function systemsFile(name: string, lines: string[]): string {
  const file = path.join(work, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('board edges: a wrong board name is reported at the board: property, with a short list and a "did you mean"', () => {
  const file = systemsFile('typo-board.ts', [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    '',
    'export default system({',
    "  protectionDomains: [protectionDomain('pd', { program: 'pd.elf' })],",
    "  board: 'qemu_virt_arch64',",
    '});',
  ]);
  const r = runCli(['check', file]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /typo-board\.ts:5:3: error\[unknown-board\]: unknown board 'qemu_virt_arch64'; did you mean 'qemu_virt_aarch64'\?/);
  const hint = r.stderr.split('\n').find((l) => l.includes('hint:'))!;
  assert.ok(hint.length < 200, `a short hint, not every alias: ${hint}`);
  assert.match(hint, /sel4cp-synth boards/);
});

test('board edges: a PD named monitor is a warning on 2.0.1 (reserved from 2.3.0 on), an error on 2.3.0', () => {
  const file = systemsFile('monitor.ts', [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    "const monitor = protectionDomain('monitor', { program: 'monitor.elf' });",
    'export default system({ protectionDomains: [monitor] });',
  ]);
  const old = runCli(['check', file, '--microkit', '2.0.1'], { env: { MICROKIT_SDK: '' } });
  assert.is(old.status, 0, old.stderr);
  assert.match(old.stderr, /monitor\.ts:2:\d+: warning\[pd-name-reserved-later\]: .*reserved for the Microkit monitor from Microkit 2\.3\.0 on/);
  const later = runCli(['check', file, '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
  assert.is(later.status, 1, later.stderr);
  assert.match(later.stderr, /monitor\.ts:2:\d+: error\[pd-reserved-name\]/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
