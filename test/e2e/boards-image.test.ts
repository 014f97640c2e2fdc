// Every board gets a loader.img from the Microkit tool: the QEMU boards from the example, the
// real boards (which cannot boot here) from systems/linux.ts with Debian's board DTBs. Needs
// MICROKIT_SDK, the cross compiler, `npm run guest` and (for the QEMU boards) QEMU; otherwise
// each board's test is skipped with one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { loadBoards } from '../../src/compile/load/boards.js';
import { missing, missingSdkBoard, repoRoot, testIf } from '../helpers.js';
import { sdk } from './requirements.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-boards-'));

for (const board of loadBoards()) {
  const file = board.qemu ? 'examples/linux-qemu.ts' : 'systems/linux.ts';
  // QEMU boards take their device tree from QEMU, the others Debian's from `npm run guest`.
  const needs = missing('microkit-sdk', 'cross-gcc', 'guest-kernel', 'guest-initrd', board.qemu ? 'qemu' : 'board-dtbs') ?? missingSdkBoard(board.microkitBoard, 'release');
  testIf(needs, `${board.name}: ${file} gives a loader.img`, async () => {
    const out = path.join(work, board.name);
    const r = await synthesise({ file: path.join(repoRoot, file), board: board.name, config: 'release', outDir: out, sdk });
    assert.equal(r.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
    assert.ok(r.loaderImage, r.skipped.map((s) => `${s.step}: ${s.reason}`).join('; '));
    assert.ok(statSync(r.loaderImage!).size > 1_000_000);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    assert.is(manifest.board.microkitBoard, board.microkitBoard);
    assert.ok(manifest.artefacts.some((a: { file: string }) => a.file === 'loader.img'));
    assert.ok(manifest.artefacts.some((a: { file: string }) => a.file === 'vmm-linux.elf'));
  });
}

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
