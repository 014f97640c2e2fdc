// What resolution makes of a virtual machine on a board (src/compile/resolve/guests.ts), for
// boards that the shipped boards/*.json do not cover.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findBoard, type Board } from '../../../src/compile/boards.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { loadSystem } from '../../../src/compile/load/index.js';
import { resolveSystem } from '../../../src/compile/resolve/index.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-resolve-'));

/** A one-guest systems.ts; its virtualMachine() call is on line 2. */
function oneGuest(): string {
  const file = path.join(work, 'one-guest.ts');
  writeFileSync(file, [
    "import { mib, system, virtualMachine } from 'sel4cp-synth';",
    "const v = virtualMachine('v', { kernel: 'Image', ram: mib(64) });",
    "export default system({ board: 'qemu_virt_aarch64', virtualMachines: [v] });",
    '',
  ].join('\n'));
  return file;
}

test("board-gic-incomplete: a GICv2 board without the virtual CPU interface or the guest's GICC address", async () => {
  const file = oneGuest();
  const system = await loadSystem(file, { cwd: work });
  const qemu = findBoard(loadBoards(), 'qemu_virt_aarch64')!;
  assert.is(qemu.gic.version, 2);
  // parseBoard accepts a board file without these (both are optional); guests on it need them.
  const boards: [string, Board][] = [
    ['no gic.virtualCpuInterface', { ...qemu, gic: { ...qemu.gic, virtualCpuInterface: undefined } }],
    ['no guest.gicCpuInterface', { ...qemu, guest: { ...qemu.guest, gicCpuInterface: undefined } }],
  ];
  for (const [what, board] of boards) {
    const { diagnostics } = resolveSystem({ system, file, board, images: new Map() });
    const found = diagnostics.filter((d) => d.id === 'board-gic-incomplete');
    assert.is(found.length, 1, `${what}: ${diagnostics.map((d) => `${d.id}: ${d.message}`).join('; ')}`);
    const d = found[0]!;
    assert.is(d.severity, 'error', what);
    assert.is(d.message, "board 'qemu_virt_aarch64' is GICv2 but does not give the virtual CPU interface and the guest's GICC address", what);
    assert.is(d.hint, 'add gic.virtualCpuInterface and guest.gicCpuInterface to boards/qemu_virt_aarch64.json', what);
    assert.is(d.location?.file, file, what);
    assert.is(d.location?.line, 2, what);
  }
  // The board as shipped has both.
  assert.not.ok(resolveSystem({ system, file, board: qemu, images: new Map() }).diagnostics.some((d) => d.id === 'board-gic-incomplete'));
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
