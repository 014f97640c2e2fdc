// Which Microkit release a command works for: the SDK's VERSION when there is an SDK, --microkit
// without one, 2.0.1 by default; a contradiction or an unknown release is a clear error; the smp
// configurations exist only where 2.3.0 builds them; the manifest records the release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fixtures, repoRoot, runCli } from '../helpers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-release-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory that looks like an SDK of `version` to the release check (bin/microkit and VERSION). */
function fakeSdk(version: string): string {
  const dir = path.join(tmp, `sdk-${version}`);
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'bin', 'microkit'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  writeFileSync(path.join(dir, 'VERSION'), `${version}\n`);
  return dir;
}

const system = path.join(tmp, 'cpu.system');
writeFileSync(system, '<system><protection_domain name="p" cpu="0"><program_image path="p.elf" /></protection_domain></system>');
const hello = path.join(repoRoot, 'examples', 'linux-qemu.ts');

test('without an SDK: 2.0.1 by default, --microkit 2.3.0 reads the 2.3.0 format', () => {
  const as201 = runCli(['check', system], { env: { MICROKIT_SDK: '' } });
  assert.is(as201.status, 1);
  assert.match(as201.stderr, /error\[xml-invalid-attribute\]: invalid attribute 'cpu'/);
  const as230 = runCli(['check', system, '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
  assert.is(as230.status, 0, as230.stderr);
  assert.match(as230.stdout, /valid for Microkit 2\.3\.0/);
});

test("the SDK's VERSION decides, and --microkit may not contradict it", () => {
  const sdk = fakeSdk('2.3.0');
  const fromSdk = runCli(['check', system], { env: { MICROKIT_SDK: sdk } });
  assert.is(fromSdk.status, 0, fromSdk.stderr);
  const mismatch = runCli(['check', system, '--microkit', '2.0.1'], { env: { MICROKIT_SDK: sdk } });
  assert.is(mismatch.status, 1);
  assert.match(mismatch.stderr, /error\[microkit-release-mismatch\]: --microkit 2\.0\.1 was given, but the Microkit SDK at .* is release 2\.3\.0/);
  const old = runCli(['check', system], { env: { MICROKIT_SDK: fakeSdk('1.4.1') } });
  assert.is(old.status, 1);
  assert.match(old.stderr, /error\[microkit-release-unsupported\]: the Microkit SDK at .* is release 1\.4\.1/);
  assert.not.match(old.stderr, /\n\s+at /, 'no stack trace');
});

test('smp configurations: Microkit 2.3.0 on boards with several cores only', () => {
  const on201 = runCli(['check', hello, '--config', 'smp-debug'], { env: { MICROKIT_SDK: '' } });
  assert.is(on201.status, 1);
  assert.match(on201.stderr, /error\[microkit-config-unavailable\]: Microkit 2\.0\.1 has no 'smp-debug' configuration for board 'qemu_virt_aarch64'/);
  assert.match(on201.stderr, /smp-\* ones come with Microkit 2\.3\.0/);
  const gicv3 = runCli(['check', hello, '--board', 'qemu_virt_aarch64_gicv3', '--config', 'smp-debug', '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
  assert.is(gicv3.status, 0, gicv3.stderr);
  const on230 = runCli(['check', hello, '--config', 'smp-debug', '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
  assert.is(on230.status, 0, on230.stderr);
});

test('the manifest records the release', () => {
  const out = path.join(tmp, 'out');
  const r = runCli([path.join(fixtures, 'valid', 'features.ts'), '--out', out, '--microkit', '2.3.0', '--quiet'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { microkit: string; config: string };
  assert.is(manifest.microkit, '2.3.0');
  assert.is(manifest.config, 'debug');
});

test.run();
