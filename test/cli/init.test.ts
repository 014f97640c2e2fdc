// `sel4cp-synth init`: a new project that checks, type-checks in an editor's way (tsc on its
// tsconfig.json, with sel4cp-synth installed as npm would), and is never written over.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, runCli } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-init-'));

for (const board of ['qemu', 'imx8mm']) {
  test(`init --board ${board}: package.json, tsconfig.json, systems.ts, README; it checks and type-checks`, () => {
    const dir = path.join(work, `proj-${board}`);
    const r = runCli(['init', dir, '--board', board]);
    assert.is(r.status, 0, r.stderr);
    for (const f of ['package.json', 'tsconfig.json', 'systems.ts', 'README.md', '.gitignore']) assert.ok(existsSync(path.join(dir, f)), f);
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string>; type: string };
    assert.is(pkg.type, 'module');
    assert.is(pkg.dependencies['sel4cp-synth'], `file:${repoRoot.replace(/\/$/, '')}`);
    assert.is(pkg.scripts['check'], 'sel4cp-synth check systems.ts');
    // The systems.ts is valid for its board (the kernel file need not exist to check it).
    const check = runCli(['check', path.join(dir, 'systems.ts')], { env: { MICROKIT_SDK: '' } });
    assert.is(check.status, 0, check.stderr);
    // An editor's check: tsc on the project's tsconfig.json, sel4cp-synth in node_modules as npm puts it.
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(repoRoot, path.join(dir, 'node_modules', 'sel4cp-synth'), 'dir');
    const tsc = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    assert.is(tsc.status, 0, tsc.stdout + tsc.stderr);
    // ...which does catch a type error.
    writeFileSync(path.join(dir, 'systems.ts'), readFileSync(path.join(dir, 'systems.ts'), 'utf8').replace('ram: mib(256)', "ram: '256M'"));
    const bad = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
    assert.is(bad.status, 2, bad.stdout);
    assert.match(bad.stdout, /systems\.ts\(\d+,\d+\): error TS2322/);
  });
}

test('output folder: the outputs go where the init README says, named after the project (a folder name with a space too)', () => {
  const dir = path.join(work, 'My Proj');
  assert.is(runCli(['init', dir]).status, 0);
  const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
  assert.match(readme, /Outputs go to `build\/my-proj\/`/);
  const r = runCli(['systems.ts', '-c', `kernel=${path.join(repoRoot, 'test', 'fixtures', 'invalid', 'stub-Image')}`], { cwd: dir, env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(path.join(dir, 'build', 'my-proj', 'my-proj.system')), r.stdout);
  const graph = runCli(['graph', 'systems.ts', '--format', 'dot'], { cwd: dir });
  assert.match(graph.stdout, /label="my-proj \(qemu_virt_aarch64\)"/);
});

test('init does not overwrite a project', () => {
  const dir = path.join(work, 'proj-qemu');
  const r = runCli(['init', dir]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error\[init-not-empty\]: .* already has package\.json, tsconfig\.json, systems\.ts, pds\/hello\.c, README\.md, \.gitignore; init does not overwrite/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
