// `sel4cp-synth board add`: a board from a device tree sel4cp-synth does not ship (Debian's
// rk3399-rockpro64-v2.dtb, the v2 RockPro64, named as Microkit's rockpro64) gives a board file
// in the project's boards/ with which systems/linux.ts synthesises; a GIC without its virtual CPU
// interface (Debian's ODROID-N2 DTB with the GICH and GICV regions cut off) is refused with exit 1.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFdt } from '../../src/compile/dtb/fdt-read.js';
import { writeFdt } from '../../src/compile/dtb/fdt-write.js';
import { setProp, u32Value } from '../../src/compile/dtb/props.js';
import { findNode } from '../../src/compile/dtb/tree.js';
import { guestDir, missing, repoRoot, runCli, testIf } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-board-add-'));
const deb = existsSync(path.join(guestDir, 'debs')) ? readdirSync(path.join(guestDir, 'debs')).find((f) => /^linux-image-.*arm64\.deb$/.test(f)) : undefined;
const debMissing = missing('guest-kernel', 'guest-initrd') ?? (deb ? undefined : ".cache/guest/debs/linux-image-*-arm64.deb missing (run 'npm run guest')");

/** A DTB from Debian's kernel package (dpkg-deb -x into the work folder once). */
function debianDtb(rel: string): string {
  const root = path.join(work, 'deb');
  if (!existsSync(root)) {
    const r = spawnSync('dpkg-deb', ['-x', path.join(guestDir, 'debs', deb!), root]);
    assert.is(r.status, 0, String(r.stderr));
  }
  const lib = path.join(root, 'usr', 'lib');
  const dir = readdirSync(lib).find((d) => d.startsWith('linux-image-'))!;
  return path.join(lib, dir, rel);
}

/** A project folder with systems/linux.ts in it. */
function project(name: string): string {
  const dir = path.join(work, name);
  spawnSync('mkdir', ['-p', dir]);
  copyFileSync(path.join(repoRoot, 'systems', 'linux.ts'), path.join(dir, 'linux.ts'));
  return dir;
}

testIf(debMissing, 'board add on a device tree we do not ship: a board file with every fact, and linux.ts synthesises with it', () => {
  const dir = project('rock-v2');
  const add = runCli(['board', 'add', 'rockpro64_v2', '--dtb', debianDtb('rockchip/rk3399-rockpro64-v2.dtb'), '--microkit-board', 'rockpro64', '--dir', dir]);
  assert.is(add.status, 0, add.stderr);
  assert.not.match(add.stderr, /not derived/);
  const board = JSON.parse(readFileSync(path.join(dir, 'boards', 'rockpro64_v2.json'), 'utf8'));
  assert.equal([board.microkitBoard, board.gic.version, board.maxIrq, board.loaderLinkAddress], ['rockpro64', 3, 181, '0x30000000']);
  assert.ok(existsSync(path.join(dir, 'boards', 'rockpro64_v2.dtb')));
  const out = path.join(dir, 'out');
  const synth = runCli([path.join(dir, 'linux.ts'), '--board', 'rockpro64_v2', '--out', out, '--quiet',
    '-c', `kernel=${path.join(guestDir, 'Image')}`, '-c', `initrd=${path.join(guestDir, 'initramfs.cpio')}`], { env: { MICROKIT_SDK: '' } });
  assert.is(synth.status, 0, synth.stderr);
  for (const f of ['linux.system', 'linux.dtb', 'manifest.json']) assert.ok(existsSync(path.join(out, f)), f);
  assert.match(readFileSync(path.join(out, 'linux.system'), 'utf8'), /phys_addr="0xff1a0000"/, 'the console UART of seL4\'s rockpro64 (serial2) is passed through');
  const boards = runCli(['boards'], { cwd: dir });
  assert.match(boards.stdout, /^rockpro64_v2\s/m, 'boards lists the project board');
});

testIf(debMissing, 'board add on a device tree of a board Microkit does not know names each fact it could not derive', () => {
  const dir = project('imx8mn');
  const r = runCli(['board', 'add', 'imx8mn_evk', '--dtb', debianDtb('freescale/imx8mn-evk.dtb'), '--dir', dir]);
  assert.is(r.status, 0, r.stderr);
  for (const fact of ['sel4Platform', 'loaderLinkAddress', 'maxIrq']) assert.match(r.stderr, new RegExp(`'${fact}' not derived: add `), fact);
});

testIf(debMissing, 'a GICv2 whose reg has no GICH and GICV regions is refused: exit 1, naming the virtual CPU interface', () => {
  const tree = readFdt(new Uint8Array(readFileSync(debianDtb('amlogic/meson-g12b-odroid-n2.dtb'))));
  const gic = findNode(tree, '/soc/interrupt-controller@ffc01000')!;
  setProp(gic.node, 'reg', u32Value(0, 0xffc01000, 0, 0x1000, 0, 0xffc02000, 0, 0x2000));
  const file = path.join(work, 'n2-no-gicv.dtb');
  writeFileSync(file, writeFdt(tree));
  const dir = project('n2');
  const r = runCli(['board', 'add', 'odroidn2', '--dtb', file, '--dir', dir]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error\[board-add-refused\]: board 'odroidn2' cannot host a virtual machine: missing gic\.virtualCpuInterface: .*GICH, GICV/);
  assert.not.ok(existsSync(path.join(dir, 'boards', 'odroidn2.json')), 'nothing written');
});

test('board add refuses a file that is not a device tree', () => {
  const file = path.join(work, 'not.dtb');
  writeFileSync(file, 'hello');
  const r = runCli(['board', 'add', 'x', '--dtb', file, '--dir', work]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /error\[board-add-refused\]: .*not a usable device tree blob/);
});

test.run();
