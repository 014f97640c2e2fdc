// initramfs({ modules }): the kernel's module tree read from disk (src/compile/load/initramfs-modules.ts)
// and each mistake in it a user error with its id. The tree is test/fixtures/kernel-modules/6.1.0-test
// (its README says what it holds); modules.dep resolution and the archive: test/compile/initramfs/kernel-modules.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initramfs } from '../../../src/dsl/initramfs.js';
import { file } from '../../../src/dsl/context.js';
import { UserError } from '../../../src/compile/diagnostics/index.js';
import { readDeclaredModules } from '../../../src/compile/load/initramfs-modules.js';
import { fixtures } from '../../helpers.js';

const treeParent = path.join(fixtures, 'kernel-modules');
const tree = path.join(treeParent, '6.1.0-test');
const busybox = file('/nonexistent/busybox');

async function userErrors(p: Promise<unknown>): Promise<{ id: string; message: string; hint: string | undefined; line: number | undefined }[]> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e.diagnostics.map((d) => ({ id: d.id, message: d.message, hint: d.hint, line: d.location?.line }));
    throw e;
  }
  throw new Error('expected a UserError');
}

test('the tree: a release directory, or the directory holding one; files read in load order', async () => {
  for (const modulesDir of [tree, treeParent]) {
    const m = await readDeclaredModules(initramfs({ busybox, init: '#!/bin/sh\n', modules: ['virtio_net', 'virtio', 'virtio_mmio'], modulesDir }));
    assert.ok(m && typeof m === 'object');
    assert.is(m.release, '6.1.0-test');
    assert.equal(m.modules.map((x) => x.path), ['kernel/net/core/failover.ko', 'kernel/drivers/net/net_failover.ko', 'kernel/drivers/net/virtio_net.ko', 'kernel/drivers/virtio/virtio_mmio.ko']);
    assert.equal(m.modules[2]!.depends, ['net_failover', 'failover']);
    assert.is(new TextDecoder().decode(m.modules[0]!.data), 'fake module failover.ko\n');
    assert.equal(m.builtin, ['virtio']);
  }
  assert.is(await readDeclaredModules(initramfs({ busybox, init: '#!/bin/sh\n' })), undefined);
});

test('a tree that is not there is a missing input, as a missing busybox is', async () => {
  const got = await readDeclaredModules(initramfs({ busybox, init: '#!/bin/sh\n', modules: ['x'], modulesDir: '/nonexistent/modules' }));
  assert.is(got, '/nonexistent/modules');
});

test('initramfs-unknown-module: at the initramfs() line, with "did you mean"', async () => {
  const line = Number(new Error().stack!.split('\n')[1]!.split(':').at(-2)) + 1;
  const ir = initramfs({ busybox, init: '#!/bin/sh\n', modules: ['virtio_mmio', 'virtio-nett', 'ghostt'], modulesDir: tree });
  const errs = await userErrors(readDeclaredModules(ir));
  assert.equal(errs.map((e) => e.id), ['initramfs-unknown-module', 'initramfs-unknown-module']);
  assert.match(errs[0]!.message, `no kernel module 'virtio-nett' in ${path.join(tree, 'modules.dep')} (as 'virtio_nett')`);
  assert.match(errs[0]!.hint!, "did you mean 'virtio_net'");
  assert.match(errs[1]!.hint!, "'ghost'");
  assert.is(errs[0]!.line, line);
});

test('initramfs-module-missing: a module modules.dep lists whose file is absent names the path', async () => {
  const errs = await userErrors(readDeclaredModules(initramfs({ busybox, init: '#!/bin/sh\n', modules: ['ghost'], modulesDir: tree })));
  assert.equal(errs.map((e) => e.id), ['initramfs-module-missing']);
  assert.match(errs[0]!.message, `kernel module 'ghost' is missing: ${path.join(tree, 'kernel/fs/ghost.ko')} (listed at ${path.join(tree, 'modules.dep')}:9)`);
});

test('initramfs-modules-tree: malformed modules.dep, zstd modules, several releases', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-kmod-'));
  try {
    const rel = path.join(dir, '6.12.0-zst');
    mkdirSync(path.join(rel, 'kernel'), { recursive: true });
    writeFileSync(path.join(rel, 'modules.dep'), 'kernel/a.ko.zst:\nkernel/b.ko: what\n');
    writeFileSync(path.join(rel, 'kernel', 'a.ko.zst'), 'zstd');
    const errs = await userErrors(readDeclaredModules(initramfs({ busybox, init: '#!/bin/sh\n', modules: ['a'], modulesDir: dir })));
    assert.equal(errs.map((e) => e.id), ['initramfs-modules-tree', 'initramfs-modules-tree']);
    assert.match(errs[0]!.message, "modules.dep line 2: 'what' is not a module path inside the tree");
    assert.match(errs[1]!.message, "kernel module 'a' is zstd-compressed");
    cpSync(tree, path.join(dir, '6.1.0-test'), { recursive: true });
    const several = await userErrors(readDeclaredModules(initramfs({ busybox, init: '#!/bin/sh\n', modules: ['a'], modulesDir: dir })));
    assert.equal(several.map((e) => e.id), ['initramfs-modules-tree']);
    assert.match(several[0]!.message, 'holds modules for several kernels: 6.1.0-test, 6.12.0-zst');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
