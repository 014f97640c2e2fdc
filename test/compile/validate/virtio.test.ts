// virtio devices and network links: each mistake validation (src/compile/validate/virtio.ts) finds in
// them, reported at its line, on the variants of test/fixtures/systems/virtio.ts. What resolution
// makes of them, and the mistakes it finds: test/compile/resolve/virtio.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { statSync } from 'node:fs';
import { loadSystem } from '../../../src/compile/load/index.js';
import { resolveSystem } from '../../../src/compile/resolve/index.js';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { findBoard } from '../../../src/compile/boards.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import type { Diagnostic } from '../../../src/compile/diagnostics/index.js';
import type { SystemModel } from '../../../src/compile/model/index.js';
import { repoRoot } from '../../helpers.js';

const file = 'test/fixtures/systems/virtio.ts';

async function build(kase: string): Promise<{ model: SystemModel; diagnostics: Diagnostic[] }> {
  const abs = path.join(repoRoot, file);
  const system = await loadSystem(abs, { context: new Map([['case', kase]]), cwd: repoRoot });
  const disk = path.join(repoRoot, 'test/fixtures/virtio', kase === 'odd-disk' ? 'odd.img' : 'disk.img');
  const images = new Map(kase === 'no-disk' ? [] : [[disk, { size: BigInt(statSync(disk).size) }]]);
  const r = resolveSystem({ system, file: abs, board: findBoard(loadBoards(), 'qemu_virt_aarch64'), images });
  return { model: r.model, diagnostics: [...r.diagnostics, ...validateSystem(r.model)] };
}

const errorsOf = (d: Diagnostic[]): [string, number | undefined][] => d.filter((x) => x.severity === 'error').map((x) => [x.id, x.location?.line]);

const cases: [string, string, number][] = [
  ['dup-link', 'net-link-duplicate-name', 29],
  ['dup-virtio', 'virtio-duplicate-name', 10],
  ['map-over', 'vm-map-over-virtio', 11],
  ['input-taken', 'virtio-console-input-taken', 15],
  ['no-disk', 'virtio-disk-missing', 10],
  ['too-many', 'virtio-too-many', 19],
];
for (const [kase, id, line] of cases) {
  test(`${id} at its line (${kase})`, async () => {
    const { diagnostics } = await build(kase);
    const hit = diagnostics.find((d) => d.id === id);
    assert.ok(hit, `expected ${id}, got ${JSON.stringify(errorsOf(diagnostics))}`);
    assert.is(hit!.location?.line, line);
  });
}

test.run();
