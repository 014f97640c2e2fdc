// Every systems.ts we ship type-checks against the DSL's own types (strict mode): the typed
// options, units and TSDoc are what users see in their editor, so the examples must be honest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { repoRoot } from '../helpers.js';

const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');

test('examples, systems and the benchmark system type-check', () => {
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(repoRoot, 'tsconfig.examples.json')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stdout + r.stderr);
});

test('a type mistake in a systems.ts is caught by the types (size given where an address belongs)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-types-'));
  try {
    const file = path.join(dir, 'wrong.ts');
    writeFileSync(file, [
      "import { kib, map, memoryRegion, protectionDomain, system } from 'sel4cp-synth';",
      "const buf = memoryRegion('buf', { size: kib(4) });",
      "export default system({ protectionDomains: [protectionDomain('pd', { program: 'pd.elf', maps: [map(buf, { vaddr: kib(4) })] })] });",
      '',
    ].join('\n'));
    const config = path.join(dir, 'tsconfig.json');
    writeFileSync(config, JSON.stringify({
      extends: path.join(repoRoot, 'tsconfig.json'),
      compilerOptions: { noEmit: true, rootDir: '/', paths: { 'sel4cp-synth': [path.join(repoRoot, 'src', 'index.ts')] }, typeRoots: [path.join(repoRoot, 'node_modules', '@types')] },
      include: [file],
    }));
    const r = spawnSync(process.execPath, [tsc, '-p', config], { encoding: 'utf8' });
    assert.is.not(r.status, 0);
    assert.match(r.stdout, /wrong\.ts\(3,\d+\): error TS2322/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
