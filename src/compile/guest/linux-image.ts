/**
 * The arm64 Linux kernel a guest boots, as the placement needs it (Linux
 * Documentation/arch/arm64/booting.rst §4, "Call the kernel image"):
 *
 *     u32 code0; u32 code1; u64 text_offset; u64 image_size; u64 flags;
 *     u64 res2; u64 res3; u64 res4; u32 magic = 0x644d5241 ("ARM\x64"); u32 res5;
 *
 * all little-endian. Compressed kernels are unpacked here rather than refused: Debian's unsigned
 * `vmlinuz` is a gzip stream and newer kernels may be EFI zboot images, while the VMM can only
 * copy a raw Image into guest RAM. Unpacking and header reading are shared with the guest-image
 * tooling (`src/compile/initramfs/arm64-image.ts`); this module adds the checks a boot needs.
 */
import { KernelImageError, parseArm64ImageHeader, unpackVmlinuz, type VmlinuzFormat } from '../initramfs/arm64-image.js';

export class LinuxImageError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'LinuxImageError';
    this.code = code;
  }
}

export interface LinuxImage {
  /** The raw Image to copy into guest RAM. */
  image: Uint8Array;
  /** How the input was stored. */
  format: VmlinuzFormat;
  /** Offset of the Image above its 2 MiB-aligned base. */
  textOffset: bigint;
  /** Bytes the kernel uses from its start, BSS included: what placement must reserve. */
  imageSize: bigint;
  /** Size of the raw Image file. */
  fileSize: bigint;
  flags: bigint;
  /** flags bit 3: the 2 MiB-aligned base may be anywhere in RAM, not only near its start. */
  placeAnywhere: boolean;
  pageSizeKiB: 4 | 16 | 64 | undefined;
}

/** Reads (and unpacks if needed) an arm64 Linux kernel; a `LinuxImageError` with a `code` otherwise. */
export function readLinuxImage(bytes: Uint8Array): LinuxImage {
  let unpacked: { image: Uint8Array; format: VmlinuzFormat };
  try {
    unpacked = unpackVmlinuz(bytes);
  } catch (err) {
    if (err instanceof KernelImageError) {
      throw new LinuxImageError(
        'linux-image-not-arm64',
        `not an arm64 Linux kernel: ${err.message}. Give the kernel's Image (arch/arm64/boot/Image), ` +
          'or a vmlinuz that is a gzip stream or an EFI zboot image around one',
      );
    }
    throw err;
  }
  const header = parseArm64ImageHeader(unpacked.image);
  if (!header) throw new LinuxImageError('linux-image-not-arm64', 'the kernel has no "ARM\\x64" magic at offset 56');
  if (header.bigEndian) {
    throw new LinuxImageError('linux-image-big-endian', 'the kernel is built big-endian (header flags bit 0); the VMM boots little-endian guests only');
  }
  if (header.imageSize === 0n) {
    // booting.rst: image_size is zero only before Linux 3.17, whose text_offset endianness is
    // unknown and whose BSS size is not recorded, so no safe placement can be computed.
    throw new LinuxImageError('linux-image-too-old', 'the kernel header has image_size 0 (Linux before 3.17); a newer kernel is needed');
  }
  checkComplete(unpacked.image, header.imageSize);
  return {
    image: unpacked.image,
    format: unpacked.format,
    textOffset: header.textOffset,
    imageSize: header.imageSize,
    fileSize: BigInt(unpacked.image.length),
    flags: header.flags,
    placeAnywhere: (header.flags & 8n) !== 0n,
    pageSizeKiB: header.pageSizeKiB,
  };
}

function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/**
 * A cut-off Image (a partial download, a header alone) would boot into garbage. The header's
 * image_size bounds the file from above; and a kernel with an EFI stub (CONFIG_EFI_STUB, every
 * distribution's arm64 kernel) is a PE/COFF file whose section table says where its raw data
 * ends (PE/COFF spec, "Section Table": PointerToRawData + SizeOfRawData), which bounds it from
 * below. booting.rst: the "MZ" magic at offset 0 and the PE header offset at 0x3c mark the stub.
 */
function checkComplete(image: Uint8Array, imageSize: bigint): void {
  const size = image.length;
  const cut = (why: string): never => {
    throw new LinuxImageError('linux-image-truncated', `the kernel Image is ${size} bytes but ${why}: the file is cut short (a partial download or copy?)`);
  };
  if (BigInt(size) > imageSize) {
    throw new LinuxImageError('linux-image-truncated', `the kernel Image is ${size} bytes, more than the ${imageSize} bytes its header's image_size says it occupies`);
  }
  if (image[0] !== 0x4d || image[1] !== 0x5a) return;
  const pe = u32(image, 0x3c);
  if (pe + 24 > size) cut(`its PE header would start at byte ${pe}`);
  if (u32(image, pe) !== 0x00004550) return; // "PE\0\0": not a PE image after all; nothing more to check
  const sections = u16(image, pe + 6);
  const table = pe + 24 + u16(image, pe + 20);
  if (table + sections * 40 > size) cut('its PE section table extends beyond that');
  let end = 0;
  for (let i = 0; i < sections; i++) {
    const at = table + i * 40;
    end = Math.max(end, u32(image, at + 20) + u32(image, at + 16));
  }
  if (end > size) cut(`its PE sections' raw data extends to byte ${end}`);
}
