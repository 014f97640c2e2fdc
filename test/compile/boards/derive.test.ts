// The shipped board files are the derivation's output: each is re-derived here from its overrides,
// its device tree (Debian's DTB in .cache/guest/dtbs/, or QEMU's dumpdtb) and seL4's platform row,
// and must come out byte for byte. The GIC of each board is then checked against its Linux device
// tree by the older, independent cross-check (src/compile/dtb/cross-check.ts), and the derivation
// must refuse a device tree whose GIC cannot host a guest.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBoard } from '../../../src/compile/boards.js';
import { crossCheckBoard } from '../../../src/compile/dtb/cross-check.js';
import { deleteProp, setProp, u32Value } from '../../../src/compile/dtb/props.js';
import { findNode } from '../../../src/compile/dtb/tree.js';
import { cloneFdt } from '../../../src/compile/dtb/fdt.js';
import { BoardDeriveError, deriveBoard } from '../../../src/compile/boards/derive.js';
import { sel4Platform } from '../../../src/compile/boards/platforms.js';
import { boardFileText, readOverrides, shippedBoardNames, shippedTree } from '../../../src/compile/boards/shipped.js';
import { missing, repoRoot, testIf } from '../../helpers.js';

const names = shippedBoardNames();

/** Why a board's device tree is not at hand here, or undefined. */
function treeMissing(name: string): string | undefined {
  const o = readOverrides(name);
  if ('debianPath' in o.dtb) return missing('board-dtbs') ?? (typeof shippedTree(o) === 'string' ? (shippedTree(o) as string) : undefined);
  return missing('qemu');
}

test('every board file in boards/ has an overrides file, and the reverse', () => {
  const files = readFileSync(join(repoRoot, 'boards', 'README.md'), 'utf8');
  assert.ok(files.length > 0);
  const json = names.map((n) => `${n}.json`);
  for (const f of json) assert.ok(readFileSync(join(repoRoot, 'boards', f), 'utf8').length > 0, `boards/${f}`);
});

for (const name of names) {
  testIf(treeMissing(name), `boards/${name}.json is what the derivation gives for its device tree and overrides`, () => {
    const o = readOverrides(name);
    const t = shippedTree(o);
    if (typeof t === 'string') throw new Error(t);
    const derived = deriveBoard({ ...t, overrides: o, platform: sel4Platform(o.microkitBoard ?? o.name) });
    assert.equal(derived.missing, [], 'a shipped board has every fact');
    assert.fixture(boardFileText(derived.json), readFileSync(join(repoRoot, 'boards', `${name}.json`), 'utf8'));
  });

  testIf(treeMissing(name), `${name}: the GIC (virtual CPU interface included), timer and devices agree with the Linux device tree`, () => {
    const o = readOverrides(name);
    const t = shippedTree(o);
    if (typeof t === 'string') throw new Error(t);
    const board = parseBoard(JSON.parse(readFileSync(join(repoRoot, 'boards', `${name}.json`), 'utf8')), `boards/${name}.json`);
    assert.equal(crossCheckBoard(t.tree, board).filter((f) => f.severity === 'error'), []);
    if (board.gic.version === 2) assert.ok(board.gic.virtualCpuInterface && board.guest.gicCpuInterface === board.gic.cpuInterface!.paddr);
  });
}

/** odroidc2's tree with a change made to its GIC node. */
function odroidc2With(change: (gic: ReturnType<typeof findNode>) => void): ReturnType<typeof deriveBoard> {
  const o = readOverrides('odroidc2');
  const t = shippedTree(o);
  if (typeof t === 'string') throw new Error(t);
  const tree = cloneFdt(t.tree);
  change(findNode(tree, '/soc/interrupt-controller@c4301000'));
  return deriveBoard({ tree, dtbName: t.dtbName, overrides: o, platform: sel4Platform('odroidc2') });
}

testIf(treeMissing('odroidc2'), 'a GICv2 without the GICH and GICV regions is refused, naming the virtual CPU interface', () => {
  try {
    // reg keeps GICD and GICC: <0 0xc4301000 0 0x1000 0 0xc4302000 0 0x2000>.
    odroidc2With((gic) => setProp(gic!.node, 'reg', u32Value(0, 0xc4301000, 0, 0x1000, 0, 0xc4302000, 0, 0x2000)));
  } catch (e) {
    assert.instance(e, BoardDeriveError);
    assert.is((e as BoardDeriveError).fact, 'gic.virtualCpuInterface');
    assert.match((e as Error).message, /no virtual CPU interface: its reg gives GICD, GICC but not GICH, GICV/);
    return;
  }
  assert.unreachable('derived a board from a GIC without GICV');
});

testIf(treeMissing('odroidc2'), 'a GIC without a maintenance interrupt is refused', () => {
  assert.throws(() => odroidc2With((gic) => deleteProp(gic!.node, 'interrupts')), (e: unknown) => e instanceof BoardDeriveError && e.fact === 'gic.maintenanceIrq');
});

testIf(treeMissing('odroidc2'), "a GIC version seL4's platform does not build is refused", () => {
  const o = readOverrides('odroidc2');
  const t = shippedTree(o);
  if (typeof t === 'string') throw new Error(t);
  assert.throws(() => deriveBoard({ ...t, overrides: o, platform: { ...sel4Platform('odroidc2')!, gic: 3 } }), (e: unknown) => e instanceof BoardDeriveError && e.fact === 'gic.version');
});

test.run();
