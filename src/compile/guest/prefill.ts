/**
 * Guest images that are in guest RAM before the VMM runs (Microkit 2.3.0 `prefill_path`): the
 * guest RAM region is split at the placement (./placement.ts) into several regions mapped
 * contiguously into the VM and into its VMM, and the ones at the kernel, DTB and initrd are
 * prefilled from files written beside the .system. The VMM then copies nothing at boot.
 *
 *     ram.gpa                                                                     ram top
 *     | kernel (4 KiB, prefilled) | 4K .. 2M | 2 MiB pages ... | 4K | initrd | DTB | 4K | 2M ... |
 *
 * Why 4 KiB pages and no physical address for the prefilled ones: the 2.3.0 tool embeds a 4 KiB
 * frame with data and no address in the capDL initialiser's own image (rust-sel4
 * sel4-capdl-initializer types/src/transform.rs can_embed), so the frame *is* the page the loader
 * put there and nobody copies it; any other frame is filled at start-up from deflated bytes
 * (tool/microkit/src/capdl/packaging.rs), which costs more than the VMM's copy did. The rest of
 * guest RAM keeps its physical address (its carve-out) and 2 MiB pages where aligned.
 *
 * A guest that may be restarted (`needsPristineImages`) also gets a read-only prefilled copy of
 * each image mapped into its VMM only, to place the images again from; other guests have none.
 * The VMM maps the image regions only when it needs guest memory (a virtio device, a pristine
 * copy): each 4 KiB mapping is two initialiser calls. The DTB's region is its whole 2 MiB block.
 *
 * Pure: bytes and the model in, a new model and the files out.
 */
import type { Artefact } from '../emit/manifest.js';
import type { GuestModel, MapModel, MemoryRegionModel, ProtectionDomainModel, SystemModel } from '../model/index.js';
import { PAGE_2M, PAGE_4K } from '../model/facts.js';
import type { LinuxPlacement } from './placement.js';

export type GuestImageKind = 'kernel' | 'dtb' | 'initrd';

/** What one guest's VMM needs to know: each image is at its placement already; where its pristine copy is mapped, if any. */
export interface PrefilledImages {
  /** Bytes of each image at its guest address. */
  sizes: Record<'kernel' | 'dtb', bigint> & { initrd?: bigint };
  /** The image regions are not mapped into the VMM (it serves no virtio device and keeps no pristine copy). */
  unmapped: boolean;
  /** VMM virtual address of each read-only pristine copy; absent when the guest has none. */
  pristine?: Record<'kernel' | 'dtb', bigint> & { initrd?: bigint };
}

export interface GuestImageBytes {
  placement: LinuxPlacement;
  /** The kernel Image as it goes into guest RAM (already unpacked from an Image.gz). */
  kernel: Uint8Array;
  dtb: Uint8Array;
  /** The DTB's file among the outputs (`<vm>.dtb`), prefilled from as is. */
  dtbFile: string;
  initrd: Uint8Array | undefined;
}

export interface GuestPrefill {
  model: SystemModel;
  /** The prefill files other than the DTBs (already outputs): `<vm>-kernel.img`, `<vm>-initrd.img`. */
  files: Artefact[];
  guests: Map<string, PrefilledImages>;
}

interface Piece {
  /** Offset into guest RAM. */
  off: bigint;
  size: bigint;
  image?: GuestImageKind;
  file?: { path: string; bytes: bigint };
}

const alignUp = (v: bigint, a: bigint): bigint => (v + a - 1n) / a * a;
const alignDown = (v: bigint, a: bigint): bigint => v / a * a;

/** Free guest RAM [from, to) as few regions as the page sizes allow: 4 KiB up to a 2 MiB boundary, 2 MiB pages, 4 KiB after. */
function freePieces(from: bigint, to: bigint, large: boolean): Piece[] {
  if (from >= to) return [];
  if (!large) return [{ off: from, size: to - from }];
  const mid = alignUp(from, PAGE_2M);
  const end = alignDown(to, PAGE_2M);
  if (mid >= end) return [{ off: from, size: to - from }];
  return [{ off: from, size: mid - from }, { off: mid, size: end - mid }, { off: end, size: to - end }].filter((p) => p.size > 0n);
}

/** Guest RAM cut at the images: in address order, covering [0, ram.size) exactly. */
export function guestRamPieces(ram: GuestModel['ram'], images: { image: GuestImageKind; gpa: bigint; file: { path: string; bytes: bigint } }[], large: boolean): Piece[] {
  const sorted = [...images].sort((a, b) => (a.gpa < b.gpa ? -1 : 1));
  const out: Piece[] = [];
  let at = 0n;
  for (const img of sorted) {
    const off = img.gpa - ram.gpa;
    // The DTB has its 2 MiB block to itself (placement.ts): one large page, which the initialiser
    // fills from a few deflated KiB, rather than 511 small frames of free RAM beside one page.
    const wholeBlock = large && img.image === 'dtb' && off % PAGE_2M === 0n && off + PAGE_2M <= ram.size && img.file.bytes <= PAGE_2M;
    const size = wholeBlock ? PAGE_2M : alignUp(img.file.bytes, PAGE_4K);
    if (off < at || off % PAGE_4K !== 0n || off + size > ram.size) throw new Error(`internal error: ${img.image} at 0x${img.gpa.toString(16)} cannot be a region of its own in guest RAM`);
    out.push(...freePieces(at, off, large), { off, size, image: img.image, file: img.file });
    at = off + size;
  }
  out.push(...freePieces(at, ram.size, large));
  return out;
}

/** The regions and maps that replace one guest's RAM region. */
function splitGuestRam(model: SystemModel, g: GuestModel, bytes: GuestImageBytes, pristine: boolean): {
  regions: MemoryRegionModel[]; vmMaps: MapModel[]; vmmMaps: MapModel[]; files: Artefact[]; images: PrefilledImages;
} {
  const ramRegion = model.memoryRegions.find((m) => m.name === g.ram.mr)!;
  const { placement: p } = bytes;
  const kernelFile = `${g.vm}-kernel.img`;
  const initrdFile = `${g.vm}-initrd.img`;
  const images = [
    { image: 'kernel' as const, gpa: p.kernel.gpa, file: { path: kernelFile, bytes: BigInt(bytes.kernel.length) } },
    { image: 'dtb' as const, gpa: p.dtb.gpa, file: { path: bytes.dtbFile, bytes: BigInt(bytes.dtb.length) } },
    ...(bytes.initrd && p.initrd ? [{ image: 'initrd' as const, gpa: p.initrd.gpa, file: { path: initrdFile, bytes: BigInt(bytes.initrd.length) } }] : []),
  ];
  const large = ramRegion.pageSize === PAGE_2M;
  // The VMM reads guest RAM only to serve virtio devices and to place images again from pristine
  // copies: without either, the image regions stay out of its address space (half the mappings).
  const unmapped = !pristine && g.virtio.length === 0;
  let free = 0;
  const regions: MemoryRegionModel[] = [];
  const vmMaps: MapModel[] = [];
  const vmmMaps: MapModel[] = [];
  const vmMap = pdOf(model, g.vmm).virtualMachine!.maps.find((m) => m.mr === g.ram.mr)!;
  const vmmMap = pdOf(model, g.vmm).maps.find((m) => m.mr === g.ram.mr)!;
  for (const piece of guestRamPieces(g.ram, images, large)) {
    const name = piece.image ? `${g.ram.mr}_${piece.image}` : `${g.ram.mr}_${free++}`;
    const pageSize = (!piece.image || piece.image === 'dtb') && large && piece.off % PAGE_2M === 0n && piece.size % PAGE_2M === 0n ? PAGE_2M : undefined;
    regions.push({
      name, size: piece.size, pageSize, shared: false, role: { kind: 'guest-ram', vm: g.vm, ...(piece.image ? { image: piece.image } : {}) }, loc: ramRegion.loc,
      physAddr: piece.image || ramRegion.physAddr === undefined ? undefined : ramRegion.physAddr + piece.off,
      ...(piece.file ? { prefill: { path: piece.file.path, file: undefined, bytes: piece.file.bytes } } : {}),
    });
    vmMaps.push({ ...vmMap, mr: name, vaddr: vmMap.vaddr + piece.off });
    if (!piece.image || !unmapped) vmmMaps.push({ ...vmmMap, mr: name, vaddr: vmmMap.vaddr + piece.off });
  }
  const sizeOf = (k: GuestImageKind): bigint | undefined => images.find((i) => i.image === k)?.file.bytes;
  const initrdSize = sizeOf('initrd');
  const sizes: PrefilledImages['sizes'] = { kernel: sizeOf('kernel')!, dtb: sizeOf('dtb')!, ...(initrdSize !== undefined ? { initrd: initrdSize } : {}) };
  const files: Artefact[] = [{ file: kernelFile, kind: 'guest-image-prefill', content: bytes.kernel }];
  if (bytes.initrd && p.initrd) files.push({ file: initrdFile, kind: 'guest-image-prefill', content: bytes.initrd });
  if (!pristine) return { regions, vmMaps, vmmMaps, files, images: { sizes, unmapped } };
  // The pristine copies: read-only in the VMM, above everything it maps (2 MiB apart, so each
  // starts a fresh leaf table).
  let vaddr = alignUp(pdOf(model, g.vmm).maps.reduce((top, m) => {
    const size = model.memoryRegions.find((r) => r.name === m.mr)?.size ?? 0n;
    return m.vaddr + size > top ? m.vaddr + size : top;
  }, 0n), PAGE_2M);
  const at: Partial<Record<GuestImageKind, bigint>> = {};
  for (const img of images) {
    const name = `${g.vm}_pristine_${img.image}`;
    const size = alignUp(img.file.bytes, PAGE_4K);
    regions.push({
      name, size, pageSize: undefined, physAddr: undefined, shared: false, role: { kind: 'guest-ram', vm: g.vm, image: img.image, pristine: true }, loc: ramRegion.loc,
      prefill: { path: img.file.path, file: undefined, bytes: img.file.bytes },
    });
    vmmMaps.push({ ...vmmMap, mr: name, vaddr, perms: 'r' });
    at[img.image] = vaddr;
    vaddr = alignUp(vaddr + size, PAGE_2M);
  }
  return { regions, vmMaps, vmmMaps, files, images: { sizes, unmapped, pristine: { kernel: at.kernel!, dtb: at.dtb!, ...(at.initrd !== undefined ? { initrd: at.initrd } : {}) } } };
}

function pdOf(model: SystemModel, name: string): ProtectionDomainModel {
  const pd = model.protectionDomains.find((p) => p.name === name);
  if (!pd) throw new Error(`internal error: no VMM protection domain '${name}'`);
  return pd;
}

/**
 * Whether a guest's images must be placed again some day: it has a restart policy, or a PD
 * controls it (a START after a stop is a restart), or the model asks for it.
 */
function needsPristineImages(model: SystemModel, g: SystemModel['guests'][number]): boolean {
  return g.needsPristineImages === true || g.restart !== undefined || (model.controls ?? []).some((c) => c.vm === g.vm);
}

/**
 * The model with each listed guest's RAM split and its images prefilled, and the files to write.
 * Guests not in `guests` are left as they are (their VMM copies their images).
 */
export function prefillGuestImages(model: SystemModel, guests: ReadonlyMap<string, GuestImageBytes>): GuestPrefill {
  const out: GuestPrefill = { model, files: [], guests: new Map() };
  let memoryRegions = model.memoryRegions;
  let protectionDomains = model.protectionDomains;
  for (const g of model.guests) {
    const bytes = guests.get(g.vm);
    if (!bytes) continue;
    const split = splitGuestRam({ ...model, memoryRegions, protectionDomains }, g, bytes, needsPristineImages(model, g));
    // In place of the one RAM region, where it was: the emitted order stays the model's.
    memoryRegions = memoryRegions.flatMap((m) => (m.name === g.ram.mr ? split.regions : [m]));
    protectionDomains = protectionDomains.map((pd) => (pd.name !== g.vmm ? pd : {
      ...pd,
      maps: pd.maps.flatMap((m) => (m.mr === g.ram.mr ? split.vmmMaps : [m])),
      virtualMachine: { ...pd.virtualMachine!, maps: pd.virtualMachine!.maps.flatMap((m) => (m.mr === g.ram.mr ? split.vmMaps : [m])) },
    }));
    out.files.push(...split.files);
    out.guests.set(g.vm, split.images);
  }
  out.model = { ...model, memoryRegions, protectionDomains };
  return out;
}

/**
 * Each virtioBlock() disk region prefilled from its image (written beside the .system as
 * `<vm>-<device>.disk`), so the image no longer travels in the VMM's program image and the VMM
 * copies nothing: it serves the disk from the region and the guest's writes go to it. The region
 * is already the image's size rounded up to 4 KiB pages (resolve/virtio.ts), with no physical
 * address, as an embedded frame needs.
 */
export function prefillDisks(model: SystemModel, images: ReadonlyMap<string, Uint8Array>): { model: SystemModel; files: Artefact[] } {
  const files: Artefact[] = [];
  const prefilled = new Map<string, NonNullable<MemoryRegionModel['prefill']>>();
  for (const g of model.guests) {
    for (const d of g.virtio) {
      const bytes = d.disk ? images.get(d.disk.mr) : undefined;
      if (!d.disk || !bytes || bytes.length === 0) continue;
      const file = `${g.vm}-${d.name}.disk`;
      files.push({ file, kind: 'virtio-disk-prefill', content: bytes });
      prefilled.set(d.disk.mr, { path: file, file: undefined, bytes: BigInt(bytes.length) });
    }
  }
  const memoryRegions = model.memoryRegions.map((m) => (prefilled.has(m.name) ? { ...m, prefill: prefilled.get(m.name) } : m));
  return { model: { ...model, memoryRegions }, files };
}
