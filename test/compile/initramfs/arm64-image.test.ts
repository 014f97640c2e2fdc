import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  ARM64_IMAGE_MAGIC_OFFSET,
  KernelImageError,
  missingKernelConfig,
  parseArm64ImageHeader,
  unpackVmlinuz,
} from '../../../src/compile/initramfs/arm64-image.js';

/** A fake Image: a 64-byte arm64 header (booting.rst) with an EFI "MZ" stub, then a body. */
function fakeImage(body = 4096): Uint8Array {
  const b = Buffer.alloc(64 + body);
  b.write('MZ', 0, 'ascii');
  b.writeBigUInt64LE(0n, 8); // text_offset
  b.writeBigUInt64LE(0x200_0000n, 16); // image_size
  b.writeBigUInt64LE(0b1010n, 24); // flags: 4K pages, anywhere in memory
  b.write('ARM\x64', ARM64_IMAGE_MAGIC_OFFSET, 'latin1');
  for (let i = 64; i < b.length; i++) b[i] = (i * 13) & 0xff;
  return b;
}

/** An EFI zboot wrapper (drivers/firmware/efi/libstub/zboot-header.S) around `payload`. */
function fakeZboot(payload: Uint8Array, compression: string): Uint8Array {
  const offset = 0x1000;
  const b = Buffer.alloc(offset + payload.length + 4);
  b.writeUInt32LE(0x5a4d, 0);
  b.write('zimg', 4, 'ascii');
  b.writeUInt32LE(offset, 8);
  b.writeUInt32LE(payload.length, 12);
  b.write(`${compression}\0`, 24, 'ascii');
  b.writeUInt32LE(0x40, 0x3c);
  Buffer.from(payload).copy(b, offset);
  return b;
}

test('header fields of a raw Image', () => {
  const h = parseArm64ImageHeader(fakeImage())!;
  assert.ok(h);
  assert.is(h.imageSize, 0x200_0000n);
  assert.is(h.textOffset, 0n);
  assert.is(h.pageSizeKiB, 4);
  assert.is(h.bigEndian, false);
  assert.is(h.efiStub, true);
  assert.is(parseArm64ImageHeader(new Uint8Array(64)), undefined);
  assert.is(parseArm64ImageHeader(new Uint8Array(10)), undefined);
});

test('raw, gzip and EFI zboot (gzip) vmlinuz unpack to the same Image', () => {
  const image = fakeImage();
  for (const [input, format] of [
    [image, 'raw'],
    [gzipSync(image), 'gzip'],
    [fakeZboot(gzipSync(image), 'gzip'), 'zboot-gzip'],
  ] as const) {
    const r = unpackVmlinuz(input);
    assert.is(r.format, format);
    assert.ok(Buffer.from(r.image).equals(Buffer.from(image)), format);
  }
});

test('unusable vmlinuz files give KernelImageError with the reason', () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(100), /neither a raw arm64 Image/],
    [gzipSync(Buffer.from('not a kernel')), /does not unpack to an arm64 Image/],
    [gzipSync(fakeImage()).subarray(0, 50), /cannot decompress/],
    [fakeZboot(new Uint8Array(8), 'zstd'), /compressed with 'zstd'/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => unpackVmlinuz(input), (e: unknown) => e instanceof KernelImageError && re.test(e.message));
  }
});

test('kernel config check wants built-in (=y) options', () => {
  const config = [
    'CONFIG_SERIAL_AMBA_PL011=y',
    'CONFIG_SERIAL_AMBA_PL011_CONSOLE=y',
    'CONFIG_BLK_DEV_INITRD=y',
    'CONFIG_DEVTMPFS=m',
    '# CONFIG_PROC_FS is not set',
    'CONFIG_SYSFS=y',
    'CONFIG_BINFMT_SCRIPT=y',
    'CONFIG_ARM_PSCI_FW=y',
  ].join('\n');
  assert.equal(missingKernelConfig(config), [
    { option: 'CONFIG_DEVTMPFS', value: 'm' },
    { option: 'CONFIG_PROC_FS', value: 'not set' },
  ]);
});

test.run();
