import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseBoard, type Board } from '../../../src/compile/boards.js';
import { crossCheckBoard } from '../../../src/compile/dtb/cross-check.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
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
  return board.dtb?.qemuDumpdtb ? missing('qemu') : missing('board-dtbs');
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

test.run();
