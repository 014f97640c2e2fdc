/**
 * Where a Linux guest's kernel, device tree and initrd go in its RAM, following the arm64 boot
 * protocol (Linux Documentation/arch/arm64/booting.rst):
 *
 * - 3. "The device tree blob (dtb) must be placed on an 8-byte boundary and must not exceed
 *   2 megabytes in size. Since the dtb will be mapped cacheable using blocks of up to 2 megabytes
 *   in size, it must not be placed within any 2M region which must be mapped with any specific
 *   attributes."
 * - 4. The initrd "must reside entirely within a 1 GB aligned physical memory window of up to
 *   32 GB in size that fully covers the kernel Image as well."
 * - 4. "The Image must be placed text_offset bytes from a 2MB aligned base address anywhere in
 *   usable system RAM and called there. [...] At least image_size bytes from the start of the
 *   image must be free for use by the kernel." With flags bit 3 clear the base should be as close
 *   as possible to the start of RAM, since older kernels cannot use memory below it.
 *
 * The layout chosen here:
 *
 *     ramBase                                                                    ramTop
 *     | kernel (2 MiB-aligned base + text_offset, image_size) | free ... | initrd | DTB |
 *
 * The kernel goes at the lowest 2 MiB-aligned base, so every kernel version can use all of RAM
 * above it. The DTB goes at the start of the highest 2 MiB block it fits in, so it is 8-byte (in
 * fact 2 MiB) aligned, never crosses a 2 MiB boundary and shares its 2 MiB block with nothing we
 * place. The initrd ends where the DTB's block starts, its start page-aligned. Both sit at the
 * top so the RAM between the kernel and them is one free range (Linux reserves the initrd and DTB
 * in memblock early, and frees the initrd after unpacking it, leaving one contiguous hole).
 *
 * Pure and deterministic: bigints in, bigints out.
 */

const SZ_4K = 0x1000n;
const SZ_2M = 0x20_0000n;
const SZ_1G = 0x4000_0000n;
const SZ_32G = 32n * SZ_1G;
/** booting.rst §3 and arch/arm64/include/asm/boot.h MAX_FDT_SIZE. */
export const MAX_DTB_SIZE = SZ_2M;

export interface LinuxPlacementInput {
  /** Guest-physical base of the guest's RAM. */
  ramBase: bigint;
  ramSize: bigint;
  /** From the Image header (`readLinuxImage`), and the Image file's size. */
  kernel: { textOffset: bigint; imageSize: bigint; fileSize: bigint };
  dtbSize: bigint;
  /** Absent: no initrd. */
  initrdSize?: bigint;
}

export interface GuestRegion {
  /** Guest-physical address. */
  gpa: bigint;
  size: bigint;
}

export interface LinuxPlacement {
  /** `size` is what the kernel may use from `gpa` (image_size), not only the file. */
  kernel: GuestRegion;
  dtb: GuestRegion;
  initrd?: GuestRegion;
  /** Where the VMM starts the boot vCPU (x0 = dtb.gpa): the start of the Image. */
  entry: bigint;
}

export class PlacementError extends Error {
  readonly code: string;
  readonly input: LinuxPlacementInput;

  constructor(code: string, why: string, input: LinuxPlacementInput) {
    super(`${why}\n  ${describeInput(input)}`);
    this.name = 'PlacementError';
    this.code = code;
    this.input = input;
  }
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function size(v: bigint): string {
  const mib = Number(v) / 0x10_0000;
  return mib >= 1 ? `${hex(v)} (${mib.toFixed(mib % 1 === 0 ? 0 : 1)} MiB)` : `${hex(v)} (${v} bytes)`;
}

function describeInput(i: LinuxPlacementInput): string {
  return (
    `guest RAM [${hex(i.ramBase)}, ${hex(i.ramBase + i.ramSize)}) is ${size(i.ramSize)}; ` +
    `kernel text_offset ${hex(i.kernel.textOffset)}, image_size ${size(i.kernel.imageSize)}, file ${size(i.kernel.fileSize)}; ` +
    `DTB ${size(i.dtbSize)}; initrd ${i.initrdSize === undefined ? 'none' : size(i.initrdSize)}`
  );
}

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

function alignDown(v: bigint, a: bigint): bigint {
  return (v / a) * a;
}

/** Places kernel, DTB and initrd in guest RAM; a `PlacementError` with every size when they do not fit. */
export function placeLinuxGuest(input: LinuxPlacementInput): LinuxPlacement {
  const { ramBase, ramSize, kernel, dtbSize, initrdSize } = input;
  const fail = (code: string, why: string): never => {
    throw new PlacementError(code, why, input);
  };
  if (ramBase < 0n || ramSize <= 0n) fail('placement-bad-ram', 'guest RAM must have a non-negative base and a positive size');
  if (dtbSize <= 0n) fail('placement-bad-dtb', 'the DTB is empty');
  if (dtbSize > MAX_DTB_SIZE) fail('placement-dtb-too-large', `the DTB is ${size(dtbSize)}, more than the 2 MiB Linux accepts (booting.rst §3)`);
  if (initrdSize !== undefined && initrdSize <= 0n) fail('placement-bad-initrd', 'the initrd is empty');
  if (kernel.textOffset < 0n || kernel.textOffset % SZ_4K !== 0n || kernel.textOffset >= SZ_2M) {
    fail('placement-bad-kernel', `text_offset ${hex(kernel.textOffset)} is not a 4 KiB-aligned offset below 2 MiB`);
  }
  const ramTop = ramBase + ramSize;

  const kernelGpa = alignUp(ramBase, SZ_2M) + kernel.textOffset;
  const kernelSize = kernel.imageSize > kernel.fileSize ? kernel.imageSize : kernel.fileSize;
  const kernelEnd = kernelGpa + kernelSize;

  // The DTB's 2 MiB block: the highest one that holds all of it below the top of RAM.
  const dtbGpa = alignDown(ramTop - dtbSize, SZ_2M);
  let floor = dtbGpa;
  let initrd: GuestRegion | undefined;
  if (initrdSize !== undefined) {
    const start = alignDown(dtbGpa - initrdSize, SZ_4K);
    initrd = { gpa: start, size: initrdSize };
    floor = start;
  }
  if (dtbGpa < ramBase || floor < kernelEnd) {
    const need = kernelEnd - floor;
    fail(
      'placement-does-not-fit',
      `the Linux guest does not fit in its RAM: the kernel ends at ${hex(kernelEnd)} but the ` +
        `${initrd ? 'initrd' : 'DTB'} would have to start at ${hex(floor)}` +
        (need > 0n ? `; about ${size(alignUp(need, SZ_2M))} more RAM is needed` : ''),
    );
  }
  if (initrd) {
    const window = alignDown(kernelGpa, SZ_1G);
    if (initrd.gpa + initrd.size > window + SZ_32G) {
      fail('placement-initrd-window', `the initrd ends beyond the 32 GiB window from ${hex(window)} that must also hold the kernel (booting.rst §4)`);
    }
  }
  const out: LinuxPlacement = {
    kernel: { gpa: kernelGpa, size: kernelSize },
    dtb: { gpa: dtbGpa, size: dtbSize },
    entry: kernelGpa,
  };
  if (initrd) out.initrd = initrd;
  return out;
}
