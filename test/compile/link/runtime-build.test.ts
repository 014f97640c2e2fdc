import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRuntime } from '../../../src/compile/link/runtime-build.js';
import { UserError } from '../../../src/compile/diagnostics/index.js';
import { VMM_CONFIG_RESERVED_SIZE, VMM_CONFIG_SECTION, VMM_CONFIG_SYMBOL } from '../../../src/compile/abi/vmm-config.js';
import { missing, testIf } from '../../helpers.js';

const sdk = process.env['MICROKIT_SDK'];

async function rejects(p: Promise<unknown>, id: string, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, UserError);
    const err = e as UserError;
    assert.is(err.diagnostics[0]?.id, id);
    assert.match(err.message, message);
    return;
  }
  assert.unreachable('expected a UserError');
}

test('a missing SDK is a user error naming MICROKIT_SDK', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'rt-'));
  try {
    await rejects(buildRuntime({ sdk: undefined, board: 'qemu_virt_aarch64', config: 'debug', gicVersion: 2, cacheDir }),
      'microkit-sdk-missing', /MICROKIT_SDK is not set/);
    await rejects(buildRuntime({ sdk: cacheDir, board: 'qemu_virt_aarch64', config: 'debug', gicVersion: 2, cacheDir }),
      'microkit-sdk-missing', /is not a Microkit SDK/);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

testIf(missing('microkit-sdk'), 'a missing cross-compiler names gcc-aarch64-linux-gnu; an unknown board lists the boards', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'rt-'));
  try {
    await rejects(buildRuntime({ sdk, board: 'qemu_virt_aarch64', config: 'debug', gicVersion: 2, cacheDir, cross: 'no-such-prefix-' }),
      'cross-compiler-missing', /no-such-prefix-gcc not found/);
    try {
      await buildRuntime({ sdk, board: 'qemu_virt_aarch64', config: 'debug', gicVersion: 2, cacheDir, cross: 'no-such-prefix-' });
    } catch (e) {
      assert.match((e as UserError).diagnostics[0]?.hint ?? '', /gcc-aarch64-linux-gnu/);
    }
    await rejects(buildRuntime({ sdk, board: 'no_such_board', config: 'debug', gicVersion: 2, cacheDir }),
      'microkit-sdk-board', /no board 'no_such_board'/);
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

testIf(missing('microkit-sdk', 'cross-gcc'), 'builds vmm.elf once per key, with a zero-filled config section, then reuses it', async () => {
  const cacheDir = mkdtempSync(join(tmpdir(), 'rt-'));
  try {
    const lines: string[] = [];
    const first = await buildRuntime({ sdk, board: 'qemu_virt_aarch64', config: 'debug', gicVersion: 2, cacheDir, onProgress: (l) => lines.push(l) });
    assert.not(first.cached);
    assert.match(first.key, /^2\.0\.1-qemu_virt_aarch64-debug-gicv2-[0-9a-f]{16}$/);
    assert.ok(lines.some((l) => l.startsWith('runtime: building')));
    const second = await buildRuntime({ sdk, board: 'qemu_virt_aarch64', config: 'debug', gicVersion: 2, cacheDir, onProgress: (l) => lines.push(l) });
    assert.ok(second.cached);
    assert.is(second.elf, first.elf);
    const v3 = await buildRuntime({ sdk, board: 'qemu_virt_aarch64_gicv3', config: 'debug', gicVersion: 3, cacheDir });
    assert.is.not(v3.key, first.key);

    // readelf (an oracle we did not write) sees the section and the symbol.
    const sections = spawnSync('aarch64-linux-gnu-readelf', ['-SW', first.elf], { encoding: 'utf8' });
    if (sections.status === 0) {
      const line = sections.stdout.split('\n').find((l) => l.includes(VMM_CONFIG_SECTION));
      assert.ok(line, 'section present');
      const cols = line!.replace(/^.*\]\s*/, '').split(/\s+/);
      assert.is(cols[1], 'PROGBITS');
      const offset = parseInt(cols[3]!, 16);
      assert.is(parseInt(cols[4]!, 16), VMM_CONFIG_RESERVED_SIZE);
      const bytes = readFileSync(first.elf).subarray(offset, offset + VMM_CONFIG_RESERVED_SIZE);
      assert.ok(bytes.every((b) => b === 0), 'zero-filled');
      const syms = spawnSync('aarch64-linux-gnu-nm', [first.elf], { encoding: 'utf8' });
      assert.match(syms.stdout, new RegExp(`\\b${VMM_CONFIG_SYMBOL}\\b`));
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});

test.run();
