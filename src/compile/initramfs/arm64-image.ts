/**
 * Turning a distribution's arm64 `vmlinuz` into the raw `Image` that the Linux arm64 boot
 * protocol (Documentation/arch/arm64/booting.rst) loads, and reading that Image's header.
 * Pure: bytes in, bytes out (node:zlib is synchronous and touches nothing outside).
 */
import { gunzipSync } from 'node:zlib';

/** "ARM\x64", little-endian u32 at offset 56 of the Image header (booting.rst §4). */
export const ARM64_IMAGE_MAGIC = 0x644d5241;
export const ARM64_IMAGE_MAGIC_OFFSET = 56;
const ARM64_HEADER_SIZE = 64;

export interface Arm64ImageHeader {
  /** Where the image wants to sit above a 2 MiB-aligned base (0 since Linux 3.17 with KASLR). */
  readonly textOffset: bigint;
  /** Bytes the kernel needs from its load address, including BSS; 0 on kernels before 3.17. */
  readonly imageSize: bigint;
  /** Bit 0 big-endian, bits 1-2 page size, bit 3 physical placement (booting.rst). */
  readonly flags: bigint;
  readonly bigEndian: boolean;
  /** 4, 16 or 64 (KiB); undefined when the header leaves it unspecified. */
  readonly pageSizeKiB: 4 | 16 | 64 | undefined;
  /** Image starts with "MZ": it carries an EFI stub (a PE/COFF header) as well. */
  readonly efiStub: boolean;
}

/** The header of a raw arm64 Image, or undefined when the magic is absent. */
export function parseArm64ImageHeader(image: Uint8Array): Arm64ImageHeader | undefined {
  if (image.length < ARM64_HEADER_SIZE) return undefined;
  const v = new DataView(image.buffer, image.byteOffset, image.byteLength);
  if (v.getUint32(ARM64_IMAGE_MAGIC_OFFSET, true) !== ARM64_IMAGE_MAGIC) return undefined;
  const flags = v.getBigUint64(24, true);
  const page = Number((flags >> 1n) & 3n);
  return {
    textOffset: v.getBigUint64(8, true),
    imageSize: v.getBigUint64(16, true),
    flags,
    bigEndian: (flags & 1n) === 1n,
    pageSizeKiB: ([undefined, 4, 16, 64] as const)[page],
    efiStub: image[0] === 0x4d && image[1] === 0x5a,
  };
}

/** How a `vmlinuz` was stored; recorded in the guest-image manifest. */
export type VmlinuzFormat = 'raw' | 'gzip' | 'zboot-gzip';

export class KernelImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelImageError';
  }
}

/**
 * The raw Image inside `vmlinuz`. Three layouts are in use for arm64:
 * - a raw Image (Debian's signed kernels: the EFI stub must be signed as-is, so it is not
 *   compressed);
 * - a gzip stream around the Image (Debian's unsigned kernels and older releases);
 * - an EFI zboot image (CONFIG_EFI_ZBOOT, Linux >= 6.1): a small PE decompressor whose header
 *   (drivers/firmware/efi/libstub/zboot-header.S) has "zimg" at offset 4, the payload offset and
 *   size at 8 and 12 and the compression name at 24. Only gzip is handled there, because it is
 *   the one node:zlib decodes.
 * Throws KernelImageError when the result does not carry the arm64 Image magic.
 */
export function unpackVmlinuz(vmlinuz: Uint8Array): { image: Uint8Array; format: VmlinuzFormat } {
  let image: Uint8Array;
  let format: VmlinuzFormat;
  if (parseArm64ImageHeader(vmlinuz) !== undefined) {
    image = vmlinuz;
    format = 'raw';
  } else if (vmlinuz[0] === 0x1f && vmlinuz[1] === 0x8b) {
    image = gunzip(vmlinuz, 'gzip-compressed vmlinuz');
    format = 'gzip';
  } else if (isZboot(vmlinuz)) {
    const v = new DataView(vmlinuz.buffer, vmlinuz.byteOffset, vmlinuz.byteLength);
    const offset = v.getUint32(8, true);
    const size = v.getUint32(12, true);
    const nameEnd = vmlinuz.indexOf(0, 24);
    // The name is NUL-terminated and ends before the PE header offset field at 0x3c.
    const compression = Buffer.from(vmlinuz.subarray(24, nameEnd < 0 || nameEnd > 0x3c ? 0x3c : nameEnd)).toString('ascii');
    if (compression !== 'gzip') {
      throw new KernelImageError(`EFI zboot vmlinuz compressed with '${compression}'; only gzip can be unpacked (node:zlib)`);
    }
    if (offset + size > vmlinuz.length) {
      throw new KernelImageError(`EFI zboot payload [${offset}, +${size}) runs past the end of the ${vmlinuz.length}-byte file`);
    }
    image = gunzip(vmlinuz.subarray(offset, offset + size), 'EFI zboot payload');
    format = 'zboot-gzip';
  } else {
    throw new KernelImageError('vmlinuz is neither a raw arm64 Image, a gzip stream nor an EFI zboot image');
  }
  if (parseArm64ImageHeader(image) === undefined) {
    throw new KernelImageError(`the ${format} vmlinuz does not unpack to an arm64 Image (no "ARM\\x64" magic at offset ${ARM64_IMAGE_MAGIC_OFFSET})`);
  }
  return { image, format };
}

function isZboot(b: Uint8Array): boolean {
  return b.length >= 64 && b[0] === 0x4d && b[1] === 0x5a && Buffer.from(b.subarray(4, 8)).toString('ascii') === 'zimg';
}

function gunzip(data: Uint8Array, what: string): Uint8Array {
  try {
    return gunzipSync(data);
  } catch (e) {
    throw new KernelImageError(`cannot decompress the ${what}: ${(e as Error).message}`);
  }
}

/**
 * Kernel options the test guest needs built in (`=y`; a module cannot help before the
 * initramfs runs): the QEMU virt console (PL011 `ttyAMA0`), the initramfs itself, the file
 * systems /init mounts, `#!` scripts for /init, and PSCI for power-off.
 */
export const REQUIRED_KERNEL_CONFIG = [
  'CONFIG_SERIAL_AMBA_PL011',
  'CONFIG_SERIAL_AMBA_PL011_CONSOLE',
  'CONFIG_BLK_DEV_INITRD',
  'CONFIG_DEVTMPFS',
  'CONFIG_PROC_FS',
  'CONFIG_SYSFS',
  'CONFIG_BINFMT_SCRIPT',
  'CONFIG_ARM_PSCI_FW',
] as const;

/** Options of `required` that the kernel `.config` text does not set to `y`, with their value. */
export function missingKernelConfig(
  configText: string,
  required: readonly string[] = REQUIRED_KERNEL_CONFIG,
): { option: string; value: string }[] {
  const values = new Map<string, string>();
  for (const line of configText.split('\n')) {
    const set = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (set) values.set(set[1]!, set[2]!);
  }
  return required
    .filter((opt) => values.get(opt) !== 'y')
    .map((opt) => ({ option: opt, value: values.get(opt) ?? 'not set' }));
}
