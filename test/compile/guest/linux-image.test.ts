import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LinuxImageError, readLinuxImage } from '../../../src/compile/guest/linux-image.js';
import { missing, testIf } from '../../helpers.js';
import { bytesEqual, guestCacheDir } from '../dtb/helpers.js';

/** A minimal Image: the 64-byte header of booting.rst §4 and some body. */
function image(fields: { textOffset?: bigint; imageSize?: bigint; flags?: bigint; magic?: number } = {}): Uint8Array {
  const out = new Uint8Array(4096);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x91005a4d, true);
  dv.setBigUint64(8, fields.textOffset ?? 0n, true);
  dv.setBigUint64(16, fields.imageSize ?? 0x20_0000n, true);
  dv.setBigUint64(24, fields.flags ?? 0xan, true);
  dv.setUint32(56, fields.magic ?? 0x644d5241, true);
  return out;
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof LinuxImageError ? e.code : `not a LinuxImageError: ${String(e)}`;
  }
  return undefined;
}

test('header fields of a raw Image', () => {
  const k = readLinuxImage(image({ textOffset: 0x8_0000n, imageSize: 0x123_0000n, flags: 0xan }));
  assert.is(k.format, 'raw');
  assert.is(k.textOffset, 0x8_0000n);
  assert.is(k.imageSize, 0x123_0000n);
  assert.is(k.fileSize, 4096n);
  assert.is(k.placeAnywhere, true);
  assert.is(k.pageSizeKiB, 4);
});

test('a gzip-compressed kernel is unpacked', () => {
  const raw = image();
  const k = readLinuxImage(gzipSync(raw));
  assert.is(k.format, 'gzip');
  assert.ok(bytesEqual(k.image, raw));
});

test('unusable kernels are LinuxImageErrors with a code', () => {
  assert.is(code(() => readLinuxImage(image({ magic: 0 }))), 'linux-image-not-arm64');
  assert.is(code(() => readLinuxImage(new Uint8Array(10))), 'linux-image-not-arm64');
  assert.is(code(() => readLinuxImage(gzipSync(new Uint8Array(100)))), 'linux-image-not-arm64');
  assert.is(code(() => readLinuxImage(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2]))), 'linux-image-not-arm64');
  assert.is(code(() => readLinuxImage(image({ flags: 0xbn }))), 'linux-image-big-endian');
  assert.is(code(() => readLinuxImage(image({ imageSize: 0n }))), 'linux-image-too-old');
});

testIf(missing('guest-kernel'), "Debian's kernel Image, when present", () => {
  const file = join(guestCacheDir, 'Image');
  const k = readLinuxImage(new Uint8Array(readFileSync(file)));
  assert.is(k.textOffset, 0n);
  assert.ok(k.imageSize >= k.fileSize);
});

test.run();
