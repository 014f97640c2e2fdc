// The image step's error paths: a missing or broken SDK, missing guest images and a failing
// Microkit tool each give a clear message, and no partial output is left behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-image-'));

/** A one-PD system in a scratch directory, with a (dummy) program image beside it. */
function scratchSystem(): string {
  const dir = path.join(work, 'sys');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'pd.elf'), 'not really an ELF; the fake Microkit tool never reads it\n');
  writeFileSync(path.join(dir, 'one.ts'), [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    "export default system({ board: 'qemu_virt_aarch64', protectionDomains: [protectionDomain('pd', { program: 'pd.elf' })] });",
    '',
  ].join('\n'));
  return path.join(dir, 'one.ts');
}

/** An SDK whose bin/microkit fails the way the real one does. */
function failingSdk(): string {
  const sdk = path.join(work, 'fake-sdk');
  mkdirSync(path.join(sdk, 'bin'), { recursive: true });
  mkdirSync(path.join(sdk, 'board'), { recursive: true });
  const tool = path.join(sdk, 'bin', 'microkit');
  writeFileSync(tool, '#!/bin/sh\necho "ERROR: the fake tool refuses this system" >&2\nexit 1\n');
  chmodSync(tool, 0o755);
  return sdk;
}

test('a failing Microkit tool is a user error with its message, and nothing is written', () => {
  const out = path.join(work, 'out-fail');
  const r = runCli([scratchSystem(), '--out', out, '--sdk', failingSdk()]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error\[microkit-tool-failed\]/);
  assert.match(r.stderr, /the fake tool refuses this system/);
  assert.not.match(r.stderr, /internal error/);
  assert.not.ok(existsSync(out), 'no output directory');
  assert.equal(readdirSync(work).filter((f) => f.includes('.tmp-')), [], 'no staging directory left');
});

test('an SDK path without a Microkit SDK is a user error naming MICROKIT_SDK', () => {
  const out = path.join(work, 'out-nosdk');
  const r = runCli(['examples/linux-qemu.ts', '--out', out, '--sdk', path.join(work, 'no-such-sdk')]);
  // Without the guest images this run stops before the SDK is needed; with them it must fail.
  if (r.status === 0) {
    assert.match(r.stdout, /skipped/);
  } else {
    assert.is(r.status, 1);
    assert.match(r.stderr, /MICROKIT_SDK|Microkit SDK/);
    assert.not.ok(existsSync(out));
  }
});

test('missing guest images: without an SDK the image step is skipped with the reason, the rest is written', () => {
  const out = path.join(work, 'out-noimages');
  const r = runCli(['examples/linux-qemu.ts', '--out', out, '-c', `kernel=${path.join(work, 'no-Image')}`], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /skipped .*kernel not found: .*no-Image/);
  assert.ok(existsSync(path.join(out, 'linux-qemu.system')));
  assert.not.ok(existsSync(path.join(out, 'loader.img')));
});

test('missing guest images: with an SDK the image cannot be made, which is an error at the VM, and nothing is written', () => {
  const out = path.join(work, 'out-noimages-sdk');
  const r = runCli(['examples/linux-qemu.ts', '--out', out, '-c', `kernel=${path.join(work, 'no-Image')}`, '--sdk', failingSdk()]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /linux-qemu\.ts:\d+:\d+: error\[guest-image-missing\]: the kernel of 'linux' is not there: .*no-Image; with the Microkit SDK present, the image cannot be built without it/);
  assert.not.ok(existsSync(out));
});

test('a missing program image: with an SDK an error at the protection domain\'s line, exit 1, nothing written; without one a skipped step', () => {
  const dir = mkdtempSync(path.join(work, 'program-'));
  const file = path.join(dir, 'systems.ts');
  writeFileSync(file, [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    '',
    "const monitor = protectionDomain('monitor', { program: 'monitor.elf' });",
    "export default system({ board: 'qemu_virt_aarch64', protectionDomains: [monitor] });",
    '',
  ].join('\n'));
  const out = path.join(dir, 'out');
  const r = runCli([file, '--out', out, '--sdk', failingSdk()]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /systems\.ts:3:\d+: error\[program-missing\]: the program image of protection domain 'monitor' is not there: .*monitor\.elf/);
  assert.not.ok(existsSync(out));
  const noSdk = runCli([file, '--out', out], { env: { MICROKIT_SDK: '' } });
  assert.is(noSdk.status, 0, noSdk.stderr);
  assert.match(noSdk.stdout, /program image not found: .*monitor\.elf/);
});

test('a run that skips the image removes the loader.img an earlier run left', () => {
  const out = path.join(work, 'out-stale');
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'loader.img'), 'stale');
  writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ artefacts: [{ file: 'loader.img' }] }));
  const r = runCli(['examples/linux-qemu.ts', '--out', out], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(existsSync(path.join(out, 'loader.img')), 'the stale image is gone');
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
