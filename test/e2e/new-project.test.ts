// A new user's project, outside this repository (issue 17): `init`, then `sel4cp-synth guest`
// into the user's cache, then `run` of the template reaches the guest's marker and the native PD
// that init wrote (built from its C source) prints its line — with no path into this repository.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GUEST_MARKER } from '../../src/compile/initramfs/busybox-initramfs.js';
import { missing, repoRoot, runCli, testIf } from '../helpers.js';
import { guestDir, missingForBoot, sdk } from './requirements.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-new-project-'));
const needs = missingForBoot() ?? missing('guest-manifest') ?? (process.getuid?.() === 0 ? undefined : 'apt-get download as root (sel4cp-synth guest)');

testIf(needs, 'new project: init, sel4cp-synth guest, run reaches the marker and the PD from its source', () => {
  const dir = path.join(work, 'my system');
  const cache = path.join(work, 'cache');
  // The .deb files this machine already downloaded, so that `guest` resolves and checks them
  // with apt but does not download 70 MB again.
  mkdirSync(path.join(cache, 'sel4cp-synth', 'guest', 'debs'), { recursive: true });
  cpSync(path.join(guestDir, 'debs'), path.join(cache, 'sel4cp-synth', 'guest', 'debs'), { recursive: true });
  const env = { XDG_CACHE_HOME: cache, MICROKIT_SDK: sdk! };
  assert.is(runCli(['init', dir], { env }).status, 0);
  mkdirSync(path.join(dir, 'node_modules'));
  symlinkSync(repoRoot, path.join(dir, 'node_modules', 'sel4cp-synth'), 'dir');
  const guest = runCli(['guest'], { cwd: dir, env });
  assert.is(guest.status, 0, guest.stderr.slice(-2000));
  assert.ok(existsSync(path.join(cache, 'sel4cp-synth', 'guest', 'Image')));
  const r = runCli(['run', 'systems.ts', '--expect', GUEST_MARKER, '--expect', 'hello: a native protection domain is up', '--timeout', '240'], { cwd: dir, env });
  assert.is(r.status, 0, r.stderr.slice(-3000));
  // Nothing the project used came from this repository's own cache.
  const manifest = readFileSync(path.join(dir, 'build', 'my-system', 'manifest.json'), 'utf8');
  assert.not.match(manifest, new RegExp(path.join(repoRoot, '.cache').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
