import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileDts, loadDeviceTree } from '../../../src/compile/dtb/dtc.js';
import { DtbError } from '../../../src/compile/dtb/fdt.js';
import { writeFdt } from '../../../src/compile/dtb/fdt-write.js';
import { missing, testIf } from '../../helpers.js';
import { bytesEqual, fixtureDir } from './helpers.js';

function errorOf(fn: () => unknown): DtbError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DtbError) return e;
    throw e;
  }
  throw new Error('expected a DtbError');
}

testIf(missing('dtc'), '.dts and .dtb load to the same tree; magic beats the extension', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sel4cp-dtc-'));
  try {
    const dts = join(fixtureDir, 'features.dts');
    const blob = compileDts(dts);
    writeFileSync(join(dir, 'a.dtb'), blob);
    writeFileSync(join(dir, 'a.bin'), blob);
    copyFileSync(dts, join(dir, 'a.txt'));
    for (const f of ['a.dtb', 'a.bin', 'a.txt']) assert.ok(bytesEqual(writeFdt(loadDeviceTree(join(dir, f)), { layout: 'compact' }), blob), f);
    writeFileSync(join(dir, 'bad.dtb'), 'not a blob');
    const bad = errorOf(() => loadDeviceTree(join(dir, 'bad.dtb')));
    assert.is(bad.code, 'dtb-bad-magic');
    assert.ok(bad.message.startsWith(join(dir, 'bad.dtb')));
    writeFileSync(join(dir, 'syntax.dts'), '/dts-v1/;\n/ { a = <1>; \n');
    assert.is(errorOf(() => loadDeviceTree(join(dir, 'syntax.dts'))).code, 'dtc-failed');
    writeFileSync(join(dir, 'cpp.dts'), '/dts-v1/;\n#include <dt-bindings/gpio/gpio.h>\n/ { a = <GPIO_ACTIVE_LOW>; };\n');
    assert.match(errorOf(() => loadDeviceTree(join(dir, 'cpp.dts'))).message, /cpp -nostdinc/);
    assert.is(errorOf(() => loadDeviceTree(join(dir, 'missing.dtb'))).code, 'dt-unreadable');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing dtc names the Debian package', () => {
  const saved = process.env['PATH'];
  process.env['PATH'] = '/nonexistent';
  try {
    const e = errorOf(() => compileDts(join(fixtureDir, 'features.dts')));
    assert.is(e.code, 'dtc-missing');
    assert.match(e.message, /device-tree-compiler/);
  } finally {
    process.env['PATH'] = saved;
  }
});

test.run();
