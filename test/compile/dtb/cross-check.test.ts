import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseBoard, type Board } from '../../../src/compile/boards.js';
import { crossCheckBoard } from '../../../src/compile/dtb/cross-check.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { debianDtbs, have, qemuVirtDtb, repoRoot, skip } from './helpers.js';

function boards(): Board[] {
  const dir = join(repoRoot, 'boards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => parseBoard(JSON.parse(readFileSync(join(dir, f), 'utf8')), `boards/${f}`));
}

/** The board's own DTB, or undefined (with a SKIP line) when it is not available here. */
function boardDtb(board: Board): Uint8Array | undefined {
  if (board.dtb?.qemuDumpdtb) {
    if (!have('qemu-system-aarch64')) {
      skip('qemu-system-aarch64 not installed (Debian package qemu-system-arm)');
      return undefined;
    }
    return qemuVirtDtb(board.gic.version);
  }
  const name = board.dtb?.debianPath ? basename(board.dtb.debianPath) : undefined;
  const dtb = name ? debianDtbs().get(name) : undefined;
  if (!dtb) skip('Debian board DTBs not in .cache/guest/dtbs (run npm run guest)');
  return dtb;
}

test('every boards/*.json agrees with its own DTB', () => {
  let checked = 0;
  for (const board of boards()) {
    const dtb = boardDtb(board);
    if (!dtb) continue;
    const findings = crossCheckBoard(readFdt(dtb), board);
    assert.equal(findings, [], `${board.name}: ${findings.map((f) => f.message).join('; ')}`);
    checked++;
  }
  console.log(`cross-checked ${checked} board files against their DTBs`);
});

test('disagreements are reported as data, naming the fact', () => {
  const board = boards().find((b) => b.name === 'qemu_virt_aarch64');
  if (!board) return skip('boards/qemu_virt_aarch64.json missing');
  const dtb = boardDtb(board);
  if (!dtb) return;
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
