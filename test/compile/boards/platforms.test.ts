// seL4's platform facts (src/compile/boards/platforms.ts) against their sources: the seL4 16.0.0
// tree (SEL4_SRC: src/plat/<p>/config.cmake MAX_IRQ, TIMER_FREQUENCY, the GIC header) and every
// board a Microkit 2.3.0 SDK was built for (MICROKIT_SDK_2_3_0: the kernel's gen_config.json and
// platform_gen.json, whose RAM must be the row's RAM less seL4's reservations).
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SEL4_PLATFORMS, PADDR_BITS } from '../../../src/compile/boards/platforms.js';
import { microkitBoard } from '../../../src/compile/boards/microkit-boards.js';
import { readSdkBoard, sdkBoardDir } from '../../../src/compile/boards/sdk.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { testIf } from '../../helpers.js';
import { test } from 'uvu';

const sel4 = process.env['SEL4_SRC'];
const noSel4 = sel4 && existsSync(join(sel4, 'src', 'plat')) ? undefined : 'SEL4_SRC does not name an seL4 16.0.0 source tree';
const sdk = process.env['MICROKIT_SDK_2_3_0'];

/** The value of `key` in a config.cmake: `KEY value` in declare_default_headers, or IMX8M_<KEY> set() for imx8m-evk. */
function cmakeValue(text: string, key: string, board: string): number | undefined {
  if (board.startsWith('imx8m')) {
    const variant = board === 'imx8mp_evk' || board === 'imx8mp_iotgate' ? 'Imx8mp-evk' : board === 'imx8mq_evk' ? 'Imx8mq-evk' : undefined;
    const blocks = [...text.matchAll(new RegExp(`set\\(IMX8M_${key}\\s+(\\d+)`, 'g'))].map((m) => Number(m[1]));
    // The file sets the 8M Plus (MAX_IRQ) or 8M Quad (TIMER_FREQUENCY) value first, the others' second.
    const first = key === 'MAX_IRQ' ? variant === 'Imx8mp-evk' : variant === 'Imx8mq-evk';
    return first ? blocks[0] : blocks[1];
  }
  const m = new RegExp(`\\b${key}\\s+(\\d+)`).exec(text);
  return m ? Number(m[1]) : undefined;
}

for (const row of SEL4_PLATFORMS) {
  testIf(noSel4, `${row.board}: MAX_IRQ, TIMER_FREQUENCY and the GIC are those of seL4's ${row.config}`, () => {
    const text = readFileSync(join(sel4!, row.config), 'utf8');
    assert.is(cmakeValue(text, 'MAX_IRQ', row.board), row.maxIrq, 'MAX_IRQ');
    assert.is(cmakeValue(text, 'TIMER_FREQUENCY', row.board), row.timerHz, 'TIMER_FREQUENCY');
    const gicV3 = /gic_v3\.h/.test(text) && (!/gic_v2\.h/.test(text) || row.board.endsWith('gicv3'));
    assert.is(gicV3 ? 3 : 2, row.gic, 'the GIC driver');
  });

  const dir = sdk ? sdkBoardDir(sdk, row.board) : undefined;
  testIf(dir ? undefined : `the Microkit 2.3.0 SDK${sdk ? ` at ${sdk}` : ''} was not built for board ${row.board}`, `${row.board}: the Microkit 2.3.0 SDK's kernel agrees (timer, GIC, PA bits, hypervisor, RAM less seL4's reservations)`, () => {
    const facts = readSdkBoard(dir!);
    assert.is(facts.timerHz, row.timerHz);
    assert.is(facts.gicVersion, row.gic);
    assert.ok(facts.hypervisor, 'ARM_HYPERVISOR_SUPPORT');
    assert.is(facts.paddrBits, PADDR_BITS[microkitBoard('2.3.0', row.board)!.gccCpu!]);
    const board = loadBoards().find((b) => b.microkitBoard === row.board);
    const ram = row.ram ?? board?.ram.map((r) => ({ base: r.base, size: r.size })) ?? [];
    if (ram.length === 0) return; // a board shipped without a board file: no RAM to compare
    const expected = merge(subtract(ram.map((r) => ({ start: r.base, end: r.base + r.size })), (row.reserved ?? []).map((r) => ({ start: r.base, end: r.base + r.size }))));
    assert.equal(facts.memory, expected, 'platform_gen.json memory = RAM less the reservations');
  });
}

/** Adjacent ranges as one, as seL4's hardware_gen.py writes them. */
function merge(ranges: { start: bigint; end: bigint }[]): { start: bigint; end: bigint }[] {
  const out: { start: bigint; end: bigint }[] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && last.end === r.start) last.end = r.end;
    else out.push({ ...r });
  }
  return out;
}

function subtract(ranges: { start: bigint; end: bigint }[], holes: { start: bigint; end: bigint }[]): { start: bigint; end: bigint }[] {
  let out = ranges;
  for (const h of holes) {
    out = out.flatMap((r) => (h.end <= r.start || h.start >= r.end ? [r] : [
      ...(h.start > r.start ? [{ start: r.start, end: h.start }] : []),
      ...(h.end < r.end ? [{ start: h.end, end: r.end }] : []),
    ]));
  }
  return out;
}

test('every Microkit 2.3.0 hypervisor board has a row', () => {
  for (const b of ['odroidc2', 'odroidc4', 'imx8mm_evk', 'imx8mq_evk', 'imx8mp_evk', 'zcu102', 'ultra96v2', 'rpi4b_1gb', 'rockpro64', 'maaxboard', 'kria_k26', 'rock3b', 'stm32mp2', 'tqma8xqp1gb', 'imx8mp_iotgate']) {
    assert.ok(SEL4_PLATFORMS.some((r) => r.board === b), b);
  }
});

test.run();
