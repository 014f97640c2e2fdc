// initramfs() in a systems.ts: the archive it becomes, checked with our reader and GNU cpio.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initramfs } from '../../../src/dsl/initramfs.js';
import { file } from '../../../src/dsl/context.js';
import { buildDeclaredInitramfs } from '../../../src/compile/initramfs/declared.js';
import { readCpio } from '../../../src/compile/initramfs/cpio.js';
import { missing, runCli, testIf } from '../../helpers.js';

const busybox = new TextEncoder().encode('\x7fELF pretend busybox');

function archive(): Uint8Array {
  const ir = initramfs({ busybox: file('/nonexistent/busybox'), applets: ['sh', 'echo'], init: '#!/bin/sh\necho hi\n', files: { '/etc/motd': file('/nonexistent/motd'), 'usr/bin/tool': file('/nonexistent/tool') } });
  return buildDeclaredInitramfs(ir, {
    init: new TextEncoder().encode('#!/bin/sh\necho hi\n'),
    busybox,
    files: new Map([
      ['/etc/motd', { data: new TextEncoder().encode('welcome\n'), executable: false }],
      ['usr/bin/tool', { data: new Uint8Array([1, 2, 3]), executable: true }],
    ]),
  });
}

test('the archive has /init, busybox and its applets, /dev/console and the files with their directories', () => {
  const records = readCpio(archive());
  const byName = new Map(records.map((r) => [r.name, r]));
  const names = [...byName.keys()].sort();
  assert.equal(names, ['bin', 'bin/busybox', 'bin/echo', 'bin/sh', 'dev', 'dev/console', 'etc', 'etc/motd', 'init', 'proc', 'sys', 'usr', 'usr/bin', 'usr/bin/tool']);
  assert.is(byName.get('init')!.mode & 0o777, 0o755);
  assert.is(byName.get('etc/motd')!.mode & 0o777, 0o644);
  assert.is(byName.get('usr/bin/tool')!.mode & 0o777, 0o755);
  assert.is(new TextDecoder().decode(byName.get('init')!.data), '#!/bin/sh\necho hi\n');
});

test('the same declaration gives the same bytes', () => {
  assert.equal(archive(), archive());
});

testIf(missing('cpio'), 'GNU cpio lists what we wrote', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-ir-'));
  try {
    const a = path.join(dir, 'a.cpio');
    writeFileSync(a, archive());
    const r = spawnSync('cpio', ['-it', '-F', a], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stdout.split('\n').includes('usr/bin/tool'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check writes nothing, not even the packed initramfs in the cache', () => {
  const cache = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-ircache-'));
  try {
    const r = runCli(['check', 'examples/initramfs-qemu.ts'], { env: { XDG_CACHE_HOME: cache } });
    assert.is(r.status, 0, r.stderr);
    assert.equal(readdirSync(cache), []);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test.run();
