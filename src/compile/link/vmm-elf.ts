// Link one VMM: the cached runtime ELF for the board's GIC flavour, plus this guest's kernel,
// device tree and initrd in one extra read-only segment, plus the config blob that tells the
// runtime where they are and where they go. No C compiler runs per system: the runtime is built
// once per (board, config, SDK), and everything that differs between systems is data.
import { crc32 as zlibCrc32, deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { encodeVmmConfig, type VmmConfig, type VmmConfigDevice, type VmmConfigDoorbell, type VmmConfigImage, type VmmConfigVirtio } from '../emit/vmm-config.js';
import { VMM_CONFIG_SECTION } from '../abi/vmm-config.js';
import { netLinkRegionSize } from '../abi/net-link.js';
import type { LinuxPlacement } from '../guest/placement.js';
import type { PrefilledImages } from '../guest/prefill.js';
import { featureSince } from '../releases.js';
import type { Board } from '../boards.js';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import type { GuestModel, Loc } from '../model/index.js';
import { addLoadSegment, patchSection, PF_R } from './elf.js';
import { elfPlacedSize, loaderSpaceError, loaderSpaceNeeded, mib, type LoaderSpace, type PlacedData } from './loader-space.js';

/**
 * Where guest images live in every VMM's address space: above the runtime (linked at 0x200000)
 * and below the automatic mappings (guest RAM, from 0x20_0000_0000; resolve/ids.ts).
 */
export const GUEST_IMAGES_VADDR = 0x1_0000_0000n;
const PAGE = 0x1000n;

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

/**
 * Compresses an image as one gzip member (RFC 1952) for the runtime's decoder (lib/inflate.c).
 * Deterministic: the header is written here with MTIME 0, no name and OS 255 ("unknown") rather
 * than by gzipSync, whose OS byte depends on the platform zlib was built for; the DEFLATE data
 * comes from zlib at a fixed level, so the same input (and Node's zlib) gives the same bytes.
 */
export function gzipImage(data: Uint8Array): Uint8Array {
  const deflated = deflateRawSync(data, { level: 9, memLevel: 9, strategy: zlibConstants.Z_DEFAULT_STRATEGY });
  const out = new Uint8Array(10 + deflated.length + 8);
  // ID1 ID2, CM 8 (deflate), FLG 0, MTIME 0, XFL 2 (maximum compression), OS 255.
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff], 0);
  out.set(deflated, 10);
  const trailer = new DataView(out.buffer, 10 + deflated.length, 8);
  trailer.setUint32(0, zlibCrc32(data), true);
  trailer.setUint32(4, data.length >>> 0, true);
  return out;
}

/** How one image is stored in the VMM ELF. */
export interface StoredImage {
  /** Bytes in the VMM's image segment. */
  size: bigint;
  /** Bytes it occupies in guest RAM (equal to size unless compressed). */
  unpackedSize: bigint;
  compressed: boolean;
}

export interface VmmLinkInput {
  runtimeElf: Uint8Array;
  guest: GuestModel;
  board: Board;
  /** vCPU ids as the .system gives them (the VM's `<vcpu id>`), vCPU 0 first. */
  vcpuIds: number[];
  placement: LinuxPlacement;
  kernel: Uint8Array;
  dtb: Uint8Array;
  initrd: Uint8Array | undefined;
  /**
   * Store the kernel and initrd gzip-compressed; the VMM unpacks them into guest RAM. The DTB is
   * always stored as is (a few KiB).
   * @default false
   */
  compress?: boolean;
  /** Idle vCPUs block: this VMM's wake slot and timer channel. @default absent (they spin) */
  wake?: { slotVaddr: bigint; timerChannel: number } | undefined;
  /** The control page (in the VMM) and channel of the PD that controls the VM (control()). @default none */
  control?: { vaddr: bigint; channel: number } | undefined;
  /** The disk image of each virtioBlock() that travels in the ELF, by device name (a prefilled disk region is not listed). @default none */
  disks?: ReadonlyMap<string, Uint8Array>;
  /**
   * Kernel, DTB and initrd are prefilled in guest RAM (Microkit 2.3.0, ../guest/prefill.ts): the
   * ELF carries none of them and the config marks them in place. `compress` is then moot.
   * @default absent (the ELF carries them and the VMM copies them)
   */
  prefilled?: PrefilledImages | undefined;
}

export interface VmmLinkOutput {
  elf: Uint8Array;
  config: VmmConfig;
  stored: { kernel: StoredImage; dtb: StoredImage; initrd: StoredImage | undefined };
  /** Bytes of the guest-image segment. */
  imagesSize: bigint;
}

export function linkVmm(input: VmmLinkInput): VmmLinkOutput {
  const { guest, board, placement, prefilled } = input;
  const compress = (input.compress ?? false) && !prefilled;
  const pack = (data: Uint8Array): Uint8Array => (compress ? gzipImage(data) : data);
  // Prefilled images are in guest RAM already: nothing of theirs goes into the ELF.
  const kernelBytes = prefilled ? new Uint8Array(0) : pack(input.kernel);
  const dtbBytes = prefilled ? new Uint8Array(0) : input.dtb;
  const initrdBytes = input.initrd && !prefilled ? pack(input.initrd) : undefined;
  const kernelAt = 0n;
  const dtbAt = alignUp(BigInt(kernelBytes.length), PAGE);
  const initrdAt = alignUp(dtbAt + BigInt(dtbBytes.length), PAGE);
  let total = initrdBytes ? initrdAt + BigInt(initrdBytes.length) : dtbAt + BigInt(dtbBytes.length);
  // Disk images after the boot images, each page-aligned; the VMM copies them into their regions.
  const diskAt = new Map<string, bigint>();
  for (const [name, bytes] of input.disks ?? []) {
    diskAt.set(name, alignUp(total, PAGE));
    total = alignUp(total, PAGE) + BigInt(bytes.length);
  }
  const images = new Uint8Array(Number(total));
  images.set(kernelBytes, Number(kernelAt));
  images.set(dtbBytes, Number(dtbAt));
  if (initrdBytes) images.set(initrdBytes, Number(initrdAt));
  for (const [name, bytes] of input.disks ?? []) images.set(bytes, Number(diskAt.get(name)!));
  const image = (at: bigint, stored: Uint8Array, original: Uint8Array, guestAddr: bigint): VmmConfigImage => ({
    vmmVaddr: GUEST_IMAGES_VADDR + at,
    size: BigInt(stored.length),
    guestAddr,
    ...(compress ? { unpackedSize: BigInt(original.length) } : {}),
  });
  // In place: the size in guest RAM, and the pristine copy (if any) as the source to place it again from.
  const inPlace = (kind: 'kernel' | 'dtb' | 'initrd', guestAddr: bigint): VmmConfigImage => ({
    vmmVaddr: prefilled!.pristine?.[kind] ?? 0n, size: prefilled!.sizes[kind]!, guestAddr, inPlace: true,
  });
  const storedOf = (stored: Uint8Array, original: Uint8Array, compressed: boolean): StoredImage => ({
    size: BigInt(stored.length),
    unpackedSize: BigInt(original.length),
    compressed,
  });

  const config: VmmConfig = {
    vmName: guest.vm,
    gicVersion: guest.gicVersion,
    vcpuIds: input.vcpuIds,
    gicdBase: board.guest.gicDistributor,
    ...(guest.gicVersion === 3 ? { gicrBase: board.guest.gicRedistributor! } : { giccBase: board.guest.gicCpuInterface! }),
    ram: { guestBase: guest.ram.gpa, size: guest.ram.size, vmmVaddr: guest.ram.vmmVaddr },
    kernel: prefilled ? inPlace('kernel', placement.kernel.gpa) : image(kernelAt, kernelBytes, input.kernel, placement.kernel.gpa),
    dtb: prefilled ? inPlace('dtb', placement.dtb.gpa) : { vmmVaddr: GUEST_IMAGES_VADDR + dtbAt, size: BigInt(input.dtb.length), guestAddr: placement.dtb.gpa },
    ...(input.initrd && placement.initrd && prefilled ? { initrd: inPlace('initrd', placement.initrd.gpa) } : {}),
    ...(input.initrd && initrdBytes && placement.initrd ? { initrd: image(initrdAt, initrdBytes, input.initrd, placement.initrd.gpa) } : {}),
    entry: placement.entry,
    irqs: guest.passthrough.flatMap((p) => p.irqs.map((q) => ({ channel: q.channel, intid: q.irq, trigger: q.trigger }))),
    ...devicesAndDoorbells(guest),
    ...(input.wake ? { wake: input.wake } : {}),
    ...(guest.restart ? { restart: guest.restart } : {}),
    ...(input.control ? { control: input.control } : {}),
    ...(prefilled?.unmapped ? { imagesUnmapped: true } : {}),
    virtio: virtioConfig(guest, (name) => {
      const at = diskAt.get(name);
      const bytes = input.disks?.get(name);
      return at !== undefined && bytes ? { vaddr: GUEST_IMAGES_VADDR + at, size: BigInt(bytes.length) } : undefined;
    }),
  };
  const withConfig = patchSection(input.runtimeElf, VMM_CONFIG_SECTION, encodeVmmConfig(config));
  const elf = total > 0n ? addLoadSegment(withConfig, { vaddr: GUEST_IMAGES_VADDR, data: images, flags: PF_R }) : withConfig;
  return {
    elf,
    config,
    stored: {
      kernel: storedOf(kernelBytes, input.kernel, compress),
      dtb: storedOf(dtbBytes, input.dtb, false),
      initrd: input.initrd ? storedOf(initrdBytes ?? new Uint8Array(0), input.initrd, compress) : undefined,
    },
    imagesSize: total,
  };
}

/** The config entries of the guest's virtio devices (their maps' addresses are final by now). */

/** The emulated PL011s, then the doorbells' PL061 and its lines (docs/doorbell.md). */
function devicesAndDoorbells(guest: GuestModel): Pick<VmmConfig, 'devices' | 'doorbells'> {
  const devices: VmmConfigDevice[] = guest.emulated.map((e) => ({ kind: e.kind, guestBase: e.gpa, size: e.size, ...(e.irq !== undefined ? { intid: e.irq } : {}) }));
  const db = guest.doorbells;
  if (!db) return { devices };
  devices.push({ kind: 'pl061', guestBase: db.gpa, size: db.size, intid: db.intid });
  const doorbells = db.lines.map((l): VmmConfigDoorbell => ({
    channel: l.end.id, device: devices.length - 1, notifyLine: l.notify, ...(l.ring !== undefined ? { ringLine: l.ring } : {}),
  }));
  return { devices, doorbells };
}

function virtioConfig(guest: GuestModel, diskImage: (name: string) => { vaddr: bigint; size: bigint } | undefined): VmmConfigVirtio[] {
  return (guest.virtio ?? []).map((d): VmmConfigVirtio => {
    const base = { guestBase: d.gpa, intid: d.intid };
    if (d.kind === 'net' && d.net) {
      const ring = (m: { vaddr: bigint; mr: string }): { vaddr: bigint; size: bigint } => ({ vaddr: m.vaddr, size: netLinkRegionSize(d.net!.capacity) });
      return { ...base, kind: 'net', channel: d.net.end.id, a: ring(d.net.tx), b: ring(d.net.rx), mac: d.net.mac.split(':').map((o) => parseInt(o, 16)), capacity: d.net.capacity };
    }
    if (d.kind === 'block' && d.disk) {
      const image = diskImage(d.name);
      return { ...base, kind: 'block', readOnly: d.disk.readOnly, a: { vaddr: d.disk.map.vaddr, size: alignUp(d.disk.size ?? 0n, PAGE) }, ...(image ? { b: image } : {}) };
    }
    return { ...base, kind: 'console', ...(d.input ? { channel: d.input.irq.id, a: { vaddr: d.input.map.vaddr, size: PAGE } } : {}) };
  });
}

/** `virtualMachine({ compressImages })`: always, never, or only when needed to fit. */
export type CompressSetting = boolean | 'auto';

export interface VmmLinkRequest extends Omit<VmmLinkInput, 'compress'> {
  compressImages: CompressSetting;
}

export interface VmmLinkPlanOptions {
  /** The room below the board's loader; undefined when the board has no such limit. */
  space: LoaderSpace | undefined;
  /** The other PD ELFs that share that room (their placed sizes). @default [] */
  otherData?: PlacedData[];
  /** Where an images-exceed-loader-space error points. */
  loc: Loc;
}

function placedData(req: VmmLinkRequest, out: VmmLinkOutput): PlacedData {
  const { kernel, initrd } = out.stored;
  const mb = (v: bigint) => `${(Number(v) / 0x10_0000).toFixed(1)} MiB`;
  const one = (what: string, s: StoredImage) => (s.compressed ? `${what} ${mb(s.size)} compressed from ${mb(s.unpackedSize)}` : `${what} ${mb(s.size)}`);
  return {
    what: `vmm-${req.guest.vm}.elf`,
    size: elfPlacedSize(out.elf),
    detail: [one('kernel', kernel), ...(initrd ? [one('initrd', initrd)] : [])].join(', '),
  };
}

/**
 * Links one VMM per request. 'auto' guests are stored uncompressed when everything fits below
 * the board's Microkit loader, with the margins of LoaderSpace.space, and compressed otherwise.
 * If the PD data then exceeds the whole room there, this throws images-exceed-loader-space
 * rather than letting the Microkit tool panic; between the two, the tool decides (and its panic
 * is explained by runMicrokit). Pure.
 */
export function linkVmms(requests: readonly VmmLinkRequest[], opts: VmmLinkPlanOptions): VmmLinkOutput[] {
  const link = (autoCompress: boolean) => requests.map((r) => {
    const { compressImages, ...input } = r;
    return linkVmm({ ...input, compress: compressImages === 'auto' ? autoCompress : compressImages });
  });
  const fits = (outs: VmmLinkOutput[]): { ok: boolean; certain: boolean; data: PlacedData[] } => {
    const data = [...outs.map((o, i) => placedData(requests[i]!, o)), ...(opts.otherData ?? [])];
    const total = data.reduce((t, d) => t + d.size, 0n);
    return { ok: !opts.space || loaderSpaceNeeded(total) <= opts.space.space, certain: !opts.space || total <= opts.space.room, data };
  };
  let outs = link(false);
  let check = fits(outs);
  if (!check.ok && requests.some((r) => r.compressImages === 'auto')) {
    outs = link(true);
    check = fits(outs);
  }
  if (!check.certain) {
    const allCompressed = outs.every((o) => o.stored.kernel.compressed);
    throw new UserError(loaderSpaceError(opts.space!, check.data, opts.loc, allCompressed));
  }
  return outs;
}

/**
 * Before anything is linked (and without the SDK): guests that must not be compressed whose
 * images alone exceed the room below the loader. `sizes` are the bytes each guest puts in its
 * VMM (kernel, initrd). The runtime, the DTB, the other PDs and the invocation table only add to
 * this, and LoaderSpace.room is an upper bound, so an error here is certain; linkVmms checks
 * again with everything linked.
 */
export function checkUncompressedImages(
  guests: readonly { vm: string; compressImages: CompressSetting; sizes: bigint[]; loc: Loc }[],
  space: LoaderSpace | undefined,
): Diagnostic[] {
  if (!space) return [];
  const fixed = guests.filter((g) => g.compressImages === false);
  const data = fixed.map((g) => ({ what: `images of '${g.vm}'`, size: g.sizes.reduce((t, s) => t + alignUp(s, PAGE), 0n), loc: g.loc }));
  const total = data.reduce((t, d) => t + d.size, 0n);
  if (fixed.length === 0 || total <= space.room) return [];
  return [loaderSpaceError(space, data, data[0]!.loc, false)];
}

/**
 * Where a release has no prefilled regions (Microkit 2.0.1), a virtioBlock() disk image travels
 * in its VMM's program image, which the board's room below the loader must hold with everything
 * else (see loader-space.ts); the VMM then copies it into the disk region at boot. A disk image
 * larger than that whole room can never be carried: an error at the virtioBlock() line. (Smaller
 * ones may still not fit beside the guest images: images-exceed-loader-space at link time.)
 */
export function checkDisksInElf(disks: readonly { vm: string; name: string; size: bigint; loc: Loc }[], space: LoaderSpace | undefined, release: string): Diagnostic[] {
  if (!space) return [];
  const later = featureSince('embedded-frames');
  return disks.filter((d) => alignUp(d.size, PAGE) > space.room).map((d) => error('virtio-disk-too-large',
    `the disk image of virtioBlock('${d.name}') in '${d.vm}' is ${mib(d.size)}: on Microkit ${release} a disk image travels in its VMM's program image, and board '${space.board}' has room for at most ${mib(space.room)} of program images below its Microkit loader${space.source === 'board-file' ? ' (from the board file; the SDK gives exact numbers)' : ''}`,
    d.loc, { hint: `use Microkit ${later}, where the disk is a prefilled region and not part of the VMM's image (its SDK, or --microkit ${later}), or a disk image below ${mib(space.room)}` }));
}
