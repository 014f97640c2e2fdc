// initramfs({ modules }): modules.dep resolution (src/compile/initramfs/kernel-modules.ts), the DSL,
// the archive and its /init. The tree is test/fixtures/kernel-modules/6.1.0-test (its README says
// what it holds); reading it from disk: test/compile/load/initramfs-modules.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { initramfs } from '../../../src/dsl/initramfs.js';
import { file } from '../../../src/dsl/context.js';
import { DslError } from '../../../src/dsl/errors.js';
import { readCpio } from '../../../src/compile/initramfs/cpio.js';
import { buildDeclaredInitramfs } from '../../../src/compile/initramfs/declared.js';
import {
  DECLARED_INIT_PATH, closestNames, formatModulesDep, modinfoDepends, moduleCompression, moduleName, parseModulesBuiltin,
  parseModulesDep, readModinfo, resolveModules,
} from '../../../src/compile/initramfs/kernel-modules.js';
import { readDeclaredModules } from '../../../src/compile/load/initramfs-modules.js';
import { fixtures, runCli } from '../../helpers.js';

const treeParent = path.join(fixtures, 'kernel-modules');
const tree = path.join(treeParent, '6.1.0-test');
const dep = parseModulesDep(readFileSync(path.join(tree, 'modules.dep'), 'utf8'));
const builtin = parseModulesBuiltin(readFileSync(path.join(tree, 'modules.builtin'), 'utf8'));
const order = (names: string[]): string[] => resolveModules(names, dep, builtin).modules.map((m) => m.name);

test('names: - and _ are one, the file suffix goes; compression from the suffix', () => {
  assert.is(moduleName('kernel/drivers/char/hw_random/virtio-rng.ko'), 'virtio_rng');
  assert.is(moduleName('virtio-net'), 'virtio_net');
  assert.is(moduleName('kernel/fs/ext4/ext4.ko.xz'), 'ext4');
  assert.equal(['a.ko', 'a.ko.gz', 'a.ko.xz', 'a.ko.zst'].map(moduleCompression), ['none', 'gzip', 'xz', 'zstd']);
  assert.equal(dep.problems, []);
  assert.is(dep.byName.get('virtio_rng')!.line, 7);
});

test('dependencies first, depth first, in the order asked; depmod\'s full lists and direct ones', () => {
  assert.equal(order(['virtio_mmio', 'virtio_net', 'virtio_blk', 'virtio_console']),
    ['virtio_mmio', 'failover', 'net_failover', 'virtio_net', 'virtio_blk', 'virtio_console']);
  // top: left right; left and right both need bottom.
  assert.equal(order(['top']), ['bottom', 'left', 'right', 'top']);
  assert.equal(order(['right', 'top']), ['bottom', 'right', 'left', 'top']);
});

test('each module once, whoever asks for it and however it is spelt', () => {
  assert.equal(order(['left', 'top', 'left', 'bottom']), ['bottom', 'left', 'right', 'top']);
  assert.equal(order(['virtio-rng', 'virtio_rng', 'rng_core']), ['rng_core', 'virtio_rng']);
  assert.equal(order(['virtio_net', 'net-failover']), ['failover', 'net_failover', 'virtio_net']);
});

test('modules built into the kernel are skipped without an error', () => {
  const r = resolveModules(['virtio', 'virtio_mmio', 'virtio-ring', 'virtio'], dep, builtin);
  assert.equal(r.modules.map((m) => m.name), ['virtio_mmio']);
  assert.equal(r.builtin, ['virtio', 'virtio_ring']);
  assert.equal(r.unknown, []);
});

test('an unknown name comes back with the closest known ones', () => {
  const r = resolveModules(['virtio_nett', 'zzzzzz'], dep, builtin);
  assert.equal(r.unknown.map((u) => u.name), ['virtio_nett', 'zzzzzz']);
  assert.is(r.unknown[0]!.suggestions[0], 'virtio_net');
  assert.equal(r.unknown[1]!.suggestions, []);
  assert.equal(closestNames('virtio', ['virtio_blk', 'virtio_net', 'ext4']), ['virtio_blk', 'virtio_net']);
});

test('malformed lines, a module listed twice and cycles are reported with their lines', () => {
  const bad = parseModulesDep('a.ko:\nnot a line\nb.ko: /abs/c.ko\na.ko: d.ko\n\n# comment\nx.ko: ../y.ko\n');
  assert.equal(bad.problems, [
    "line 2: not 'path.ko: [dependency.ko ...]'",
    "line 3: '/abs/c.ko' is not a module path inside the tree",
    "line 4: module 'a' is listed twice (also line 1)",
    "line 7: '../y.ko' is not a module path inside the tree",
  ]);
  const cyclic = parseModulesDep('p.ko: q.ko\nq.ko: p.ko\n');
  const r = resolveModules(['p'], cyclic, new Set());
  assert.equal(r.cycles, ['p -> q -> p']);
});

test('modules.dep written in depmod\'s form reads back to the same load order', () => {
  const mods = [
    { path: 'kernel/drivers/net/virtio_net.ko', depends: ['net_failover'] },
    { path: 'kernel/net/core/failover.ko', depends: [] },
    { path: 'kernel/drivers/net/net_failover.ko', depends: ['failover'] },
    { path: 'kernel/drivers/virtio/virtio_mmio.ko', depends: ['virtio', 'virtio_ring'] },
  ];
  const text = formatModulesDep(mods);
  assert.is(text, [
    'kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko',
    'kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko',
    'kernel/drivers/virtio/virtio_mmio.ko:',
    'kernel/net/core/failover.ko:',
    '',
  ].join('\n'));
  const back = resolveModules(['virtio_net', 'virtio_mmio'], parseModulesDep(text), new Set()).modules.map((m) => m.name);
  assert.equal(back, ['failover', 'net_failover', 'virtio_net', 'virtio_mmio']);
});

/** A relocatable ELF64 with a .modinfo section holding `info` (what modpost writes into a .ko). */
function fakeKo(info: string[]): Uint8Array {
  const modinfo = Buffer.from(info.map((s) => `${s}\0`).join(''));
  const shstrtab = Buffer.from('\0.modinfo\0.shstrtab\0');
  const shoff = 64 + modinfo.length + shstrtab.length;
  const out = Buffer.alloc(shoff + 3 * 64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(out);
  out.writeUInt16LE(1, 16); // ET_REL
  out.writeUInt16LE(183, 18); // EM_AARCH64
  out.writeBigUInt64LE(BigInt(shoff), 40);
  out.writeUInt16LE(64, 52);
  out.writeUInt16LE(64, 58);
  out.writeUInt16LE(3, 60);
  out.writeUInt16LE(2, 62);
  modinfo.copy(out, 64);
  shstrtab.copy(out, 64 + modinfo.length);
  const section = (i: number, name: number, offset: number, size: number): void => {
    const o = shoff + i * 64;
    out.writeUInt32LE(name, o);
    out.writeUInt32LE(i === 2 ? 3 : 1, o + 4);
    out.writeBigUInt64LE(BigInt(offset), o + 24);
    out.writeBigUInt64LE(BigInt(size), o + 32);
  };
  section(1, 1, 64, modinfo.length);
  section(2, 10, 64 + modinfo.length, shstrtab.length);
  return out;
}

test('.modinfo: depends= gives the names a module needs', () => {
  const info = readModinfo(fakeKo(['license=GPL', 'depends=net_failover,crc-itu-t', 'alias=virtio:d00000001v*', 'alias=x', 'depends=']))!;
  assert.equal(info.get('alias'), ['virtio:d00000001v*', 'x']);
  assert.equal(modinfoDepends(info), ['net_failover', 'crc_itu_t']);
  assert.equal(modinfoDepends(readModinfo(fakeKo(['depends=']))!), []);
  assert.is(readModinfo(new TextEncoder().encode('not an ELF file')), undefined);
});

const busybox = file('/nonexistent/busybox');

test('the DSL: names only, and busybox to load them with', () => {
  assert.throws(() => initramfs({ init: '#!/bin/sh\n', modules: ['virtio_net'] }), (e: unknown) => e instanceof DslError && /needs busybox/.test(e.message));
  assert.throws(() => initramfs({ busybox, init: '#!/bin/sh\n', modules: ['virtio_net.ko'] }), (e: unknown) => e instanceof DslError && /not a module name/.test(e.message));
  assert.throws(() => initramfs({ busybox, init: '#!/bin/sh\n', modules: 'virtio_net' as unknown as string[] }), (e: unknown) => e instanceof DslError);
  const ir = initramfs({ busybox, init: '#!/bin/sh\n', modules: ['virtio-net'], modulesDir: 'mods' });
  assert.equal(ir.modules, ['virtio-net']);
  assert.is(ir.modulesDir!.path, path.resolve(path.dirname(new URL(import.meta.url).pathname), 'mods'));
});

async function archiveWith(modules: string[]): Promise<Map<string, Uint8Array>> {
  const ir = initramfs({ busybox, applets: ['sh'], init: '#!/bin/sh\necho hi\n', modules, modulesDir: tree });
  const m = await readDeclaredModules(ir);
  assert.ok(typeof m !== 'string');
  const bytes = buildDeclaredInitramfs(ir, { init: new TextEncoder().encode('#!/bin/sh\necho hi\n'), busybox: new Uint8Array([1]), files: new Map(), modules: m });
  return new Map(readCpio(bytes).map((r) => [r.name, r.data]));
}

test('the archive: modules under lib/modules/<release>, their modules.dep, an /init that loads them in order', async () => {
  const files = await archiveWith(['virtio_mmio', 'virtio_net', 'virtio_blk', 'virtio_console', 'virtio_ring']);
  const text = (name: string): string => new TextDecoder().decode(files.get(name));
  const root = 'lib/modules/6.1.0-test';
  assert.equal([...files.keys()].filter((n) => n.endsWith('.ko')).sort(), [
    'kernel/drivers/block/virtio_blk.ko', 'kernel/drivers/char/virtio_console.ko', 'kernel/drivers/net/net_failover.ko',
    'kernel/drivers/net/virtio_net.ko', 'kernel/drivers/virtio/virtio_mmio.ko', 'kernel/net/core/failover.ko',
  ].map((p) => `${root}/${p}`));
  assert.is(text(`${root}/kernel/drivers/net/virtio_net.ko`), 'fake module virtio_net.ko\n');
  assert.is(text(DECLARED_INIT_PATH), '#!/bin/sh\necho hi\n');
  assert.is(text('init'), [
    '#!/bin/busybox sh',
    '# sel4cp-synth: load the kernel modules initramfs() declares, each after what it needs,',
    '# then run the declared /init (/init.declared) as PID 1.',
    '# virtio_ring: built into the kernel',
    ...['kernel/drivers/virtio/virtio_mmio.ko', 'kernel/net/core/failover.ko', 'kernel/drivers/net/net_failover.ko', 'kernel/drivers/net/virtio_net.ko',
      'kernel/drivers/block/virtio_blk.ko', 'kernel/drivers/char/virtio_console.ko'].map((p) => `/bin/busybox insmod /${root}/${p}`),
    'exec /init.declared "$@"',
    '',
  ].join('\n'));
  const packedDep = parseModulesDep(text(`${root}/modules.dep`));
  assert.equal([...packedDep.byName.keys()].sort(), ['failover', 'net_failover', 'virtio_blk', 'virtio_console', 'virtio_mmio', 'virtio_net']);
  assert.equal(packedDep.byName.get('virtio_net')!.deps, ['kernel/drivers/net/net_failover.ko', 'kernel/net/core/failover.ko']);
});

test('only built-in modules asked for: nothing to load, the declared /init stays /init', async () => {
  const files = await archiveWith(['virtio']);
  assert.is(new TextDecoder().decode(files.get('init')), '#!/bin/sh\necho hi\n');
  assert.not.ok(files.has(DECLARED_INIT_PATH));
  assert.not.ok([...files.keys()].some((n) => n.startsWith('lib/')));
});

test('check reports an unknown module like a compiler: file, line, did you mean', () => {
  const r = runCli(['check', 'test/fixtures/invalid/load/initramfs-unknown-module.ts']);
  assert.is(r.status, 1, r.stderr + r.stdout);
  const out = r.stderr + r.stdout;
  assert.match(out, /initramfs-unknown-module\.ts:2:\d+/);
  assert.match(out, "error[initramfs-unknown-module]");
  assert.match(out, "did you mean 'virtio_net'");
});

test.run();
