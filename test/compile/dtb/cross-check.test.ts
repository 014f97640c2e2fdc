import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseBoard, type Board } from '../../../src/compile/boards.js';
import { crossCheckBoard, type BoardFacts } from '../../../src/compile/dtb/cross-check.js';
import { makeNode, type Fdt, type FdtProp } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { setProp, stringListValue, u32Value } from '../../../src/compile/dtb/props.js';
import { getNode } from '../../../src/compile/dtb/tree.js';
import { missing, testIf } from '../../helpers.js';
import { debianDtbs, qemuVirtDtb, repoRoot } from './helpers.js';

function boards(): Board[] {
  const dir = join(repoRoot, 'boards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseBoard(JSON.parse(readFileSync(join(dir, f), 'utf8')), `boards/${f}`));
}

/** What the board's own DTB needs here: QEMU to dump it, or Debian's from `npm run guest`. */
function missingDtb(board: Board): string | undefined {
  if (board.dtb?.qemuDumpdtb) return missing('qemu');
  const name = board.dtb?.debianPath ? basename(board.dtb.debianPath) : '';
  return missing('board-dtbs') ?? (debianDtbs().has(name) ? undefined : `.cache/guest/dtbs/${name} missing (run 'npm run guest')`);
}

/** The board's own DTB (see `missingDtb`). */
function boardDtb(board: Board): Uint8Array {
  if (board.dtb?.qemuDumpdtb) return qemuVirtDtb(board.gic.version);
  const name = board.dtb?.debianPath ? basename(board.dtb.debianPath) : '';
  const dtb = debianDtbs().get(name);
  assert.ok(dtb, `${board.name}: no Debian board DTB '${name}' in .cache/guest/dtbs`);
  return dtb!;
}

for (const board of boards()) {
  testIf(missingDtb(board), `${board.file} agrees with its own DTB`, () => {
    const findings = crossCheckBoard(readFdt(boardDtb(board)), board);
    assert.equal(findings, [], `${board.name}: ${findings.map((f) => f.message).join('; ')}`);
  });
}

testIf(missing('qemu'), 'disagreements are reported as data, naming the fact', () => {
  const board = boards().find((b) => b.name === 'qemu_virt_aarch64');
  assert.ok(board, 'boards/qemu_virt_aarch64.json missing');
  const dtb = boardDtb(board);
  const wrong: Board = {
    ...board,
    gic: { ...board.gic, distributor: { paddr: 0x0800_1000n, size: board.gic.distributor.size } },
    timer: { ...board.timer, virtualIrq: 28 },
    devices: board.devices.map((d, i) =>
      i === 0 ? { ...d, paddr: d.paddr + 0x1000n, irqs: [{ irq: d.irqs[0]!.irq + 1, trigger: 'edge' as const }] } : d,
    ),
  };
  wrong.devices.push({ ...board.devices[0]!, name: 'ghost', dtPath: '/no/such' });
  const facts = crossCheckBoard(readFdt(dtb), wrong).map((f) => `${f.id} ${f.fact}`);
  assert.equal(facts, [
    'board-dt-address gic.distributor',
    'board-dt-timer-irq timer.virtualIrq',
    'board-dt-address devices[0].paddr',
    'board-dt-irqs devices[0].irqs',
    `board-dt-no-node devices[${wrong.devices.length - 1}].dtPath`,
  ]);
});

// Small trees built here, so that every finding has a test that runs without QEMU or dtc.

const prop = (name: string, value: Uint8Array): FdtProp => ({ name, value });

/** A QEMU-virt-like board tree (#address-cells = #size-cells = 2): a GICv2, the timer, a PL011. */
function smallBoardTree(): Fdt {
  return {
    bootCpuidPhys: 0,
    memReserve: [],
    root: makeNode('', [prop('#address-cells', u32Value(2)), prop('#size-cells', u32Value(2)), prop('interrupt-parent', u32Value(1))], [
      makeNode('intc@8000000', [
        prop('compatible', stringListValue(['arm,cortex-a15-gic'])),
        prop('#interrupt-cells', u32Value(3)),
        prop('interrupt-controller', new Uint8Array()),
        // GICD, GICC, GICH, GICV.
        prop('reg', u32Value(0, 0x800_0000, 0, 0x1_0000, 0, 0x801_0000, 0, 0x1_0000, 0, 0x803_0000, 0, 0x1_0000, 0, 0x804_0000, 0, 0x1_0000)),
        // The maintenance interrupt: PPI 9, INTID 25.
        prop('interrupts', u32Value(1, 9, 4)),
        prop('phandle', u32Value(1)),
      ]),
      makeNode('timer', [prop('compatible', stringListValue(['arm,armv8-timer'])), prop('interrupts', u32Value(1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4))]),
      makeNode('pl011@9000000', [
        prop('compatible', stringListValue(['arm,pl011', 'arm,primecell'])),
        prop('reg', u32Value(0, 0x900_0000, 0, 0x1000)),
        // SPI 1, level-high: INTID 33.
        prop('interrupts', u32Value(0, 1, 4)),
      ]),
    ]),
  };
}

/** The facts `smallBoardTree()` agrees with. */
function smallBoardFacts(): BoardFacts {
  return {
    gic: {
      version: 2,
      distributor: { paddr: 0x800_0000n, size: 0x1_0000n },
      cpuInterface: { paddr: 0x801_0000n, size: 0x1_0000n },
      hypervisorInterface: { paddr: 0x803_0000n, size: 0x1_0000n },
      virtualCpuInterface: { paddr: 0x804_0000n, size: 0x1_0000n },
      maintenanceIrq: 25,
    },
    timer: { virtualIrq: 27, nonSecureIrq: 30 },
    devices: [{ name: 'uart0', paddr: 0x900_0000n, size: 0x1000n, irqs: [{ irq: 33, trigger: 'level' }], dtPath: '/pl011@9000000', compatible: ['arm,pl011', 'arm,primecell'] }],
  };
}

test('a small board tree and the facts that describe it agree (the baseline of the tests below)', () => {
  assert.equal(crossCheckBoard(smallBoardTree(), smallBoardFacts()), []);
});

test('board-dt-gic-version: the board says GICv3, the DTB has a GICv2', () => {
  const facts = smallBoardFacts();
  facts.gic.version = 3;
  assert.equal(crossCheckBoard(smallBoardTree(), facts), [
    { id: 'board-dt-gic-version', severity: 'error', fact: 'gic.version', dtPath: '/intc@8000000', message: "gic.version is 3, the DTB's /intc@8000000 is a GICv2" },
  ]);
});

test('board-dt-missing-reg: a GIC frame or a device the DTB gives no reg for', () => {
  const tree = smallBoardTree();
  const gic = getNode(tree, '/intc@8000000').node;
  // GICD and GICC only: no GICH or GICV entry.
  setProp(gic, 'reg', u32Value(0, 0x800_0000, 0, 0x1_0000, 0, 0x801_0000, 0, 0x1_0000));
  const uart = getNode(tree, '/pl011@9000000').node;
  uart.props = uart.props.filter((p) => p.name !== 'reg');
  assert.equal(crossCheckBoard(tree, smallBoardFacts()), [
    { id: 'board-dt-missing-reg', severity: 'error', fact: 'gic.hypervisorInterface', dtPath: '/intc@8000000', message: 'gic.hypervisorInterface is 0x8030000, but /intc@8000000 has no such reg entry' },
    { id: 'board-dt-missing-reg', severity: 'error', fact: 'gic.virtualCpuInterface', dtPath: '/intc@8000000', message: 'gic.virtualCpuInterface is 0x8040000, but /intc@8000000 has no such reg entry' },
    { id: 'board-dt-missing-reg', severity: 'error', fact: 'devices[0]', dtPath: '/pl011@9000000', message: "device 'uart0': /pl011@9000000 has no reg" },
  ]);
});

test('board-dt-size: a GIC frame at the right address with another size is a warning', () => {
  const facts = smallBoardFacts();
  facts.gic.distributor = { paddr: 0x800_0000n, size: 0x2_0000n };
  assert.equal(crossCheckBoard(smallBoardTree(), facts), [
    { id: 'board-dt-size', severity: 'warning', fact: 'gic.distributor', dtPath: '/intc@8000000', message: "gic.distributor is 0x20000 bytes, the DTB's /intc@8000000 says 0x10000" },
  ]);
});

test("board-dt-gic-maintenance-irq: the board's maintenance interrupt is not the GIC node's", () => {
  const facts = smallBoardFacts();
  facts.gic.maintenanceIrq = 26;
  assert.equal(crossCheckBoard(smallBoardTree(), facts), [
    { id: 'board-dt-gic-maintenance-irq', severity: 'error', fact: 'gic.maintenanceIrq', dtPath: '/intc@8000000', message: "gic.maintenanceIrq is 26, the DTB's /intc@8000000 gives 25" },
  ]);
  // A GIC node without interrupts gives none.
  const tree = smallBoardTree();
  const gic = getNode(tree, '/intc@8000000').node;
  gic.props = gic.props.filter((p) => p.name !== 'interrupts');
  assert.equal(crossCheckBoard(tree, smallBoardFacts()).map((f) => [f.id, f.message]), [
    ['board-dt-gic-maintenance-irq', "gic.maintenanceIrq is 25, the DTB's /intc@8000000 gives none"],
  ]);
});

test('board-dt-trigger: the same IRQs with another trigger are a warning (an unspecified one is not)', () => {
  const facts = smallBoardFacts();
  facts.devices[0]!.irqs = [{ irq: 33, trigger: 'edge' }];
  assert.equal(crossCheckBoard(smallBoardTree(), facts), [
    { id: 'board-dt-trigger', severity: 'warning', fact: 'devices[0].irqs', dtPath: '/pl011@9000000', message: "device 'uart0': the board lists triggers 33 (edge), the DTB gives 33 (level)" },
  ]);
  const tree = smallBoardTree();
  setProp(getNode(tree, '/pl011@9000000').node, 'interrupts', u32Value(0, 1, 0));
  assert.equal(crossCheckBoard(tree, facts), []);
});

test("board-dt-compatible: the board's compatible list is not the DTB node's", () => {
  const facts = smallBoardFacts();
  facts.devices[0]!.compatible = ['arm,pl011'];
  assert.equal(crossCheckBoard(smallBoardTree(), facts), [
    {
      id: 'board-dt-compatible',
      severity: 'warning',
      fact: 'devices[0].compatible',
      dtPath: '/pl011@9000000',
      message: `device 'uart0': the board says compatible ["arm,pl011"], the DTB ["arm,pl011","arm,primecell"]`,
    },
  ]);
});

test.run();
