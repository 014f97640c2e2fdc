/**
 * The VMM configuration blob: the bytes the link step writes into the `.vmm_config` section of
 * the runtime ELF. Its layout is the runtime's (`src/vmm-runtime/include/vmm_config.h`), taken
 * field by field from `../abi/vmm-config.ts`, which a test compares with the C header; the host
 * tests check that the C `vmm_config_check` accepts what `encodeVmmConfig` produces.
 *
 * Pure: no file system, no environment. Invalid input is our own bug (validation runs before
 * emit), so the encoder throws instead of collecting diagnostics.
 */
import { crc32 } from '../abi/crc32.js';
import {
  VMM_CONFIG_DEVICE_KINDS, VMM_CONFIG_DEVICE_OFFSETS, VMM_CONFIG_DEVICE_SIZE, VMM_CONFIG_FLAG_DTB_IN_PLACE, VMM_CONFIG_FLAG_IDLE_BLOCK,
  VMM_CONFIG_FLAG_INITRD_GZIP, VMM_CONFIG_FLAG_INITRD_IN_PLACE, VMM_CONFIG_FLAG_KERNEL_GZIP, VMM_CONFIG_FLAG_KERNEL_IN_PLACE, VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED, VMM_CONFIG_GZIP_MIN_SIZE, VMM_CONFIG_HEADER_SIZE, VMM_CONFIG_IMAGE_OFFSETS, VMM_CONFIG_IRQ_OFFSETS,
  VMM_CONFIG_IRQ_SIZE, VMM_CONFIG_MAGIC, VMM_CONFIG_MAX_CHANNEL, VMM_CONFIG_MAX_CHILD, VMM_CONFIG_MAX_DEVICES, VMM_CONFIG_MAX_IRQS,
  VMM_CONFIG_MAX_INTID, VMM_CONFIG_MAX_VCPUS, VMM_CONFIG_MAX_VIRTIO, VMM_CONFIG_NAME_SIZE, VMM_CONFIG_NO_CHANNEL, VMM_CONFIG_OFFSETS, VMM_CONFIG_TRIGGERS,
  VMM_CONFIG_VERSION, VMM_CONFIG_VIRTIO_KINDS, VMM_CONFIG_VIRTIO_OFFSETS, VMM_CONFIG_VIRTIO_READ_ONLY, VMM_CONFIG_VIRTIO_SIZE,
  VMM_CONFIG_DOORBELL_CAN_RING, VMM_CONFIG_DOORBELL_LINES, VMM_CONFIG_DOORBELL_OFFSETS, VMM_CONFIG_DOORBELL_SIZE, VMM_CONFIG_MAX_DOORBELLS,
  VMM_CONFIG_RESTART, VMM_CONFIG_RESTARTS_UNLIMITED, VMM_CONFIG_MAX_BACKOFF_MS,
} from '../abi/vmm-config.js';
import { WAKE_SLOT_REGION_SIZE } from '../abi/wake.js';
import { GIC, PAGE_4K } from '../model/facts.js';

const GZIP_MIN_SIZE = BigInt(VMM_CONFIG_GZIP_MIN_SIZE);

/** Where a boot image is stored in the VMM's address space and where it goes in the guest. */
export interface VmmConfigImage {
  /** Virtual address of the image bytes in the VMM protection domain. */
  vmmVaddr: bigint;
  /** Bytes stored in the VMM (compressed or not); 0 only for an absent initrd. */
  size: bigint;
  /** Guest-physical destination. */
  guestAddr: bigint;
  /**
   * Set when the stored bytes are one gzip member: the size it unpacks to in guest RAM (the
   * VMM's output bound, and the size it checks). Never set for the DTB.
   * @default absent (stored as is)
   */
  unpackedSize?: bigint;
  /**
   * The image is at `guestAddr` in guest RAM before the VMM starts (Microkit 2.3.0 prefilled
   * regions): `vmmVaddr` is then a read-only pristine copy to place it again from, or 0 for none.
   * @default absent (the VMM copies it from `vmmVaddr`)
   */
  inPlace?: boolean;
}

/** Bytes an image occupies in guest RAM. */
export function guestSize(img: VmmConfigImage): bigint {
  return img.unpackedSize ?? img.size;
}

export type VmmIrqTrigger = 'level' | 'edge';

/** A device interrupt passed through to the guest. */
export interface VmmConfigIrq {
  /** Microkit channel id on which the VMM receives the interrupt (0..61). */
  channel: number;
  /** GIC INTID the guest sees (an SPI the VMM's vGIC implements, 32..VMM_CONFIG_MAX_INTID). */
  intid: number;
  trigger: VmmIrqTrigger;
}

export type VmmDeviceKind = 'pl011' | 'pl061';

/**
 * A doorbell (docs/doorbell.md): the channel between this VMM and a peer, as two lines of the
 * VM's PL061 (`devices[device]`): the guest writes 1 to `ringLine` to notify the channel, and a
 * notification on the channel is a rising edge on `notifyLine`.
 */
export interface VmmConfigDoorbell {
  /** The VMM's channel id to the peer (0..61). */
  channel: number;
  /** Index of the PL061 in `devices`. */
  device: number;
  /** Output line that rings the peer; absent when the VMM's end may not notify. */
  ringLine?: number;
  /** Input line that sees an edge per notification. */
  notifyLine: number;
}

/** A virtio-mmio device (struct vmm_config_virtio): the windows' meaning depends on the kind. */
export interface VmmConfigVirtio {
  kind: keyof typeof VMM_CONFIG_VIRTIO_KINDS;
  guestBase: bigint;
  intid: number;
  readOnly?: boolean;
  /** net: the link's channel; console: the input UART's IRQ channel. @default none */
  channel?: number;
  a?: { vaddr: bigint; size: bigint };
  b?: { vaddr: bigint; size: bigint };
  /** net: six octets. */
  mac?: number[];
  /** net: frames per ring. */
  capacity?: number;
}

/** A device the VMM emulates by trapping accesses to its guest-physical window. */
export interface VmmConfigDevice {
  kind: VmmDeviceKind;
  guestBase: bigint;
  size: bigint;
  /** INTID of the device's interrupt; 0 for none. @default 0 */
  intid?: number;
}

export interface VmmConfig {
  /** Virtual machine name as it appears in log lines (ASCII, at most 31 bytes). */
  vmName: string;
  gicVersion: 2 | 3;
  /** Microkit child id of each vCPU (the `<vcpu id>` in the .system), vCPU 0 first. */
  vcpuIds: number[];
  /** Guest-physical GIC distributor. */
  gicdBase: bigint;
  /** GICv3: first redistributor (each vCPU has 0x20000 bytes). Must be absent for GICv2. */
  gicrBase?: bigint;
  /** GICv2: guest-physical CPU interface, where the GICV frame is mapped. Absent for GICv3. */
  giccBase?: bigint;
  ram: {
    guestBase: bigint;
    size: bigint;
    /** Where the guest RAM is mapped in the VMM protection domain. */
    vmmVaddr: bigint;
  };
  kernel: VmmConfigImage;
  dtb: VmmConfigImage;
  /** @default absent */
  initrd?: VmmConfigImage;
  /** Guest-physical PC of vCPU 0; for a Linux Image, the kernel's guest address. */
  entry: bigint;
  /** @default [] */
  irqs?: VmmConfigIrq[];
  /** @default [] */
  devices?: VmmConfigDevice[];
  /**
   * Idle vCPUs block (WFI/WFE suspend the vCPU until it has something to do): where this VMM's
   * wake slot is mapped and its channel to the timer PD.
   * @default absent: idle vCPUs are resumed at once (they spin)
   */
  wake?: { slotVaddr: bigint; timerChannel: number };
  /** @default [] */
  virtio?: VmmConfigVirtio[];
  /** @default [] */
  doorbells?: VmmConfigDoorbell[];
  /**
   * The images in place are not mapped into the VMM (no virtio device, no pristine copy): it
   * leaves them alone. Every image must then be in place with no pristine copy.
   * @default false
   */
  imagesUnmapped?: boolean;
  /**
   * What the VMM does when the guest stops (virtualMachine({ restart, maxRestarts, backoff })).
   * A backoff needs `wake` (the timer PD tells the VMM when it has passed).
   * @default never restarted
   */
  restart?: VmmRestartPolicy;
  /** The control page (mapped in the VMM) and the channel to the PD that controls the VM. @default none */
  control?: { vaddr: bigint; channel: number };
}

export interface VmmRestartPolicy {
  policy: keyof typeof VMM_CONFIG_RESTART;
  maxRestarts: number | 'unlimited';
  backoffMs: number;
}

const U64_MAX = (1n << 64n) - 1n;
const PAGE = PAGE_4K;

function bug(message: string): never {
  throw new Error(`encodeVmmConfig: ${message}`);
}

function checkU64(what: string, v: bigint): void {
  if (v < 0n || v > U64_MAX) bug(`${what} 0x${v.toString(16)} does not fit in 64 bits`);
}

function checkInt(what: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) bug(`${what} ${v} is outside ${min}..${max}`);
}

function checkRange(what: string, base: bigint, size: bigint): void {
  checkU64(`${what} base`, base);
  checkU64(`${what} size`, size);
  if (base + size > U64_MAX + 1n) bug(`${what} [0x${base.toString(16)}..+0x${size.toString(16)}) wraps`);
}

function overlaps(a: bigint, aSize: bigint, b: bigint, bSize: bigint): boolean {
  return aSize > 0n && bSize > 0n && a < b + bSize && b < a + aSize;
}

function inside(base: bigint, size: bigint, outer: bigint, outerSize: bigint): boolean {
  return base >= outer && base + size <= outer + outerSize;
}

/** Every field within what the C runtime accepts (its checks at start-up); a failure is our bug. */
function validate(cfg: VmmConfig): void {
  validateVmAndVcpus(cfg);
  validateRam(cfg.ram);
  const gicdSize = distributorSize(cfg);
  validateGic(cfg, gicdSize);
  validateImages(cfg);
  validateIrqs(cfg.irqs ?? []);
  validateDevices(cfg, gicdSize);
  validateDoorbells(cfg);
  if (cfg.wake) validateWake(cfg.wake, cfg.ram, cfg.irqs ?? []);
  validateLifecycle(cfg);
}

function validateLifecycle(cfg: VmmConfig): void {
  const r = cfg.restart;
  if (r) {
    if (!(r.policy in VMM_CONFIG_RESTART)) bug(`restart policy ${String(r.policy)}`);
    if (r.maxRestarts !== 'unlimited') checkInt('max restarts', r.maxRestarts, 0, VMM_CONFIG_RESTARTS_UNLIMITED - 1);
    checkInt('restart backoff', r.backoffMs, 0, VMM_CONFIG_MAX_BACKOFF_MS);
    if (r.backoffMs > 0 && !cfg.wake) bug('a restart backoff needs the timer PD (idle vCPUs that block)');
  }
  const c = cfg.control;
  if (c) {
    checkInt('control channel', c.channel, 0, VMM_CONFIG_MAX_CHANNEL);
    checkRange('control page', c.vaddr, PAGE);
    if (c.vaddr === 0n || c.vaddr % PAGE !== 0n) bug('control page must be page-aligned and non-zero');
    if (overlaps(c.vaddr, PAGE, cfg.ram.vmmVaddr, cfg.ram.size)) bug('control page overlaps the guest RAM mapping');
    const taken = [...(cfg.irqs ?? []).map((q) => q.channel), ...(cfg.virtio ?? []).map((v) => v.channel), ...(cfg.doorbells ?? []).map((d) => d.channel), cfg.wake?.timerChannel];
    if (taken.includes(c.channel)) bug(`control channel ${c.channel} is already in use`);
  }
}

function validateVmAndVcpus(cfg: VmmConfig): void {
  const name = new TextEncoder().encode(cfg.vmName);
  if (name.length === 0 || name.length >= VMM_CONFIG_NAME_SIZE || name.includes(0)) {
    bug(`VM name '${cfg.vmName}' must be 1..${VMM_CONFIG_NAME_SIZE - 1} bytes without NUL`);
  }
  if (cfg.gicVersion !== 2 && cfg.gicVersion !== 3) bug(`GIC version ${String(cfg.gicVersion)}`);
  checkInt('vCPU count', cfg.vcpuIds.length, 1, VMM_CONFIG_MAX_VCPUS);
  cfg.vcpuIds.forEach((id, i) => {
    checkInt(`vCPU ${i} id`, id, 0, VMM_CONFIG_MAX_CHILD);
    if (cfg.vcpuIds.indexOf(id) !== i) bug(`vCPU id ${id} is used twice`);
  });
}

function validateRam(ram: VmmConfig['ram']): void {
  checkRange('guest RAM', ram.guestBase, ram.size);
  checkRange('guest RAM VMM mapping', ram.vmmVaddr, ram.size);
  if (ram.size === 0n || ram.guestBase % PAGE !== 0n || ram.size % PAGE !== 0n) {
    bug('guest RAM must be non-empty and page-aligned');
  }
  if (ram.vmmVaddr === 0n || ram.vmmVaddr % PAGE !== 0n) bug('guest RAM VMM mapping must be page-aligned and non-zero');
}

function distributorSize(cfg: VmmConfig): bigint {
  return cfg.gicVersion === 2 ? GIC.v2DistributorSize : GIC.v3DistributorSize;
}

/** The distributor, and the GICv2 CPU interface or the GICv3 redistributors, apart from RAM and each other. */
function validateGic(cfg: VmmConfig, gicdSize: bigint): void {
  const { ram } = cfg;
  checkRange('GICD', cfg.gicdBase, gicdSize);
  if (cfg.gicdBase === 0n || cfg.gicdBase % gicdSize !== 0n) bug('GICD base must be non-zero and aligned');
  if (overlaps(cfg.gicdBase, gicdSize, ram.guestBase, ram.size)) bug('GICD overlaps guest RAM');
  if (cfg.gicVersion === 2) {
    if (cfg.gicrBase !== undefined) bug('GICv2 has no redistributor');
    const gicc = cfg.giccBase ?? bug('GICv2 needs giccBase');
    checkRange('GICC', gicc, GIC.v2CpuInterfaceSize);
    if (gicc === 0n || gicc % PAGE !== 0n) bug('GICC base must be non-zero and page-aligned');
    if (overlaps(gicc, GIC.v2CpuInterfaceSize, ram.guestBase, ram.size) || overlaps(gicc, GIC.v2CpuInterfaceSize, cfg.gicdBase, gicdSize)) {
      bug('GICC overlaps guest RAM or GICD');
    }
  } else {
    if (cfg.giccBase !== undefined) bug('GICv3 config must not have giccBase');
    const gicr = cfg.gicrBase ?? bug('GICv3 needs gicrBase');
    const gicrSize = BigInt(cfg.vcpuIds.length) * GIC.v3RedistributorStride;
    checkRange('GICR', gicr, gicrSize);
    if (gicr === 0n || gicr % GIC.v3FrameAlign !== 0n) bug('GICR base must be non-zero and 64 KiB-aligned');
    if (overlaps(gicr, gicrSize, ram.guestBase, ram.size) || overlaps(gicr, gicrSize, cfg.gicdBase, gicdSize)) {
      bug('GICR overlaps guest RAM or GICD');
    }
  }
}

/** Kernel, DTB and initrd: each in guest RAM with a source outside its VMM mapping, none over another; the entry in the kernel. */
function validateImages(cfg: VmmConfig): void {
  const { ram } = cfg;
  const images: [string, VmmConfigImage | undefined, boolean][] = [
    ['kernel', cfg.kernel, true],
    ['DTB', cfg.dtb, true],
    ['initrd', cfg.initrd, false],
  ];
  if (cfg.dtb.unpackedSize !== undefined) bug('the DTB is always stored as is');
  for (const [what, img, required] of images) {
    if (img === undefined) continue;
    checkRange(`${what} guest`, img.guestAddr, guestSize(img));
    checkRange(`${what} source`, img.vmmVaddr, img.size);
    if (img.size === 0n) {
      if (required || img.unpackedSize !== undefined) bug(`${what} image is empty`);
      continue;
    }
    if (img.unpackedSize !== undefined && (img.size < GZIP_MIN_SIZE || img.unpackedSize === 0n)) {
      bug(`compressed ${what} image of ${img.size} bytes unpacking to ${img.unpackedSize} cannot be a gzip member`);
    }
    if (img.inPlace && img.unpackedSize !== undefined) bug(`${what} image is in place and compressed`);
    if (img.vmmVaddr === 0n && !img.inPlace) bug(`${what} image has no VMM address`);
    if (!inside(img.guestAddr, guestSize(img), ram.guestBase, ram.size)) bug(`${what} image lies outside guest RAM`);
    if (img.vmmVaddr !== 0n && overlaps(img.vmmVaddr, img.size, ram.vmmVaddr, ram.size)) bug(`${what} source overlaps the guest RAM mapping`);
  }
  const placed = images.flatMap(([what, img]) => (img && img.size > 0n ? [{ what, img }] : []));
  for (let i = 0; i < placed.length; i++) {
    for (let j = i + 1; j < placed.length; j++) {
      const a = placed[i]!;
      const b = placed[j]!;
      if (overlaps(a.img.guestAddr, guestSize(a.img), b.img.guestAddr, guestSize(b.img))) bug(`${a.what} and ${b.what} overlap in guest RAM`);
    }
  }
  if (cfg.imagesUnmapped && (placed.some(({ img }) => !img.inPlace || img.vmmVaddr !== 0n) || (cfg.virtio ?? []).length > 0)) {
    bug('images not mapped into the VMM must all be in place, without pristine copies or virtio devices');
  }
  checkU64('entry', cfg.entry);
  if (cfg.entry < cfg.kernel.guestAddr || cfg.entry >= cfg.kernel.guestAddr + guestSize(cfg.kernel)) {
    bug('entry point lies outside the kernel image');
  }
}

function validateIrqs(irqs: readonly VmmConfigIrq[]): void {
  checkInt('IRQ count', irqs.length, 0, VMM_CONFIG_MAX_IRQS);
  irqs.forEach((irq, i) => {
    checkInt(`IRQ ${i} channel`, irq.channel, 0, VMM_CONFIG_MAX_CHANNEL);
    checkInt(`IRQ ${i} INTID`, irq.intid, 32, VMM_CONFIG_MAX_INTID);
    if (irq.trigger !== 'level' && irq.trigger !== 'edge') bug(`IRQ ${i} trigger ${String(irq.trigger)}`);
    if (irqs.findIndex((o) => o.channel === irq.channel || o.intid === irq.intid) !== i) {
      bug(`IRQ ${i} shares a channel or INTID with an earlier one`);
    }
  });
}

/** Emulated devices: page-aligned windows clear of guest RAM and the GIC. */
function validateDevices(cfg: VmmConfig, gicdSize: bigint): void {
  const { ram } = cfg;
  const devices = cfg.devices ?? [];
  checkInt('device count', devices.length, 0, VMM_CONFIG_MAX_DEVICES);
  devices.forEach((d, i) => {
    if (d.kind !== 'pl011' && d.kind !== 'pl061') bug(`device ${i} kind ${String(d.kind)}`);
    checkRange(`device ${i}`, d.guestBase, d.size);
    if (d.size === 0n || d.guestBase % PAGE !== 0n) bug(`device ${i} window must be non-empty and page-aligned`);
    const [otherBase, otherSize] = cfg.gicVersion === 2
      ? [cfg.giccBase ?? 0n, GIC.v2CpuInterfaceSize]
      : [cfg.gicrBase ?? 0n, BigInt(cfg.vcpuIds.length) * GIC.v3RedistributorStride];
    if (overlaps(d.guestBase, d.size, ram.guestBase, ram.size) || overlaps(d.guestBase, d.size, cfg.gicdBase, gicdSize)
      || overlaps(d.guestBase, d.size, otherBase, otherSize)) {
      bug(`device ${i} overlaps guest RAM or the GIC`);
    }
    if (d.intid !== undefined && d.intid !== 0) checkInt(`device ${i} INTID`, d.intid, 32, VMM_CONFIG_MAX_INTID);
  });
}

/** Doorbells: on the one PL061, each on a channel and lines of its own. */
function validateDoorbells(cfg: VmmConfig): void {
  const doorbells = cfg.doorbells ?? [];
  const devices = cfg.devices ?? [];
  checkInt('doorbell count', doorbells.length, 0, VMM_CONFIG_MAX_DOORBELLS);
  if (devices.filter((d) => d.kind === 'pl061').length > 1) bug('more than one PL061');
  const taken = new Set<number>([...(cfg.irqs ?? []).map((q) => q.channel), ...(cfg.virtio ?? []).flatMap((v) => v.channel ?? []), ...(cfg.wake ? [cfg.wake.timerChannel] : [])]);
  const lines = new Set<number>();
  doorbells.forEach((d, i) => {
    const device = devices[d.device];
    if (device?.kind !== 'pl061' || !device.intid) bug(`doorbell ${i} is on no PL061 with an interrupt`);
    checkInt(`doorbell ${i} channel`, d.channel, 0, VMM_CONFIG_MAX_CHANNEL);
    if (taken.has(d.channel)) bug(`doorbell ${i} channel ${d.channel} is taken`);
    taken.add(d.channel);
    for (const line of d.ringLine === undefined ? [d.notifyLine] : [d.ringLine, d.notifyLine]) {
      checkInt(`doorbell ${i} line`, line, 0, VMM_CONFIG_DOORBELL_LINES - 1);
      if (lines.has(line)) bug(`doorbell ${i} line ${line} is taken`);
      lines.add(line);
    }
  });
}

function validateWake(wake: NonNullable<VmmConfig['wake']>, ram: VmmConfig['ram'], irqs: readonly VmmConfigIrq[]): void {
  const { slotVaddr, timerChannel } = wake;
  checkRange('wake slot', slotVaddr, WAKE_SLOT_REGION_SIZE);
  if (slotVaddr === 0n || slotVaddr % PAGE !== 0n) bug('wake slot must be page-aligned and non-zero');
  if (overlaps(slotVaddr, WAKE_SLOT_REGION_SIZE, ram.vmmVaddr, ram.size)) bug('wake slot overlaps the guest RAM mapping');
  checkInt('timer channel', timerChannel, 0, VMM_CONFIG_MAX_CHANNEL);
  if (irqs.some((q) => q.channel === timerChannel)) bug(`timer channel ${timerChannel} is also an IRQ's`);
}

/**
 * Encodes a VMM configuration as the version-7 blob (VMM_CONFIG_HEADER_SIZE bytes; the link
 * step writes it at the start of the zero-filled VMM_CONFIG_RESERVED_SIZE section).
 */
export function encodeVmmConfig(cfg: VmmConfig): Uint8Array {
  validate(cfg);
  const O = VMM_CONFIG_OFFSETS;
  const bytes = new Uint8Array(VMM_CONFIG_HEADER_SIZE);
  const view = new DataView(bytes.buffer);
  const u64 = (off: number, v: bigint) => view.setBigUint64(off, v, true);
  const I = VMM_CONFIG_IMAGE_OFFSETS;
  const image = (off: number, img: VmmConfigImage | undefined) => {
    if (img === undefined || img.size === 0n) return;
    u64(off + I.vmmVaddr, img.vmmVaddr);
    u64(off + I.size, img.size);
    u64(off + I.guestAddr, img.guestAddr);
  };
  const irqs = cfg.irqs ?? [];
  const devices = cfg.devices ?? [];

  view.setUint32(O.magic, VMM_CONFIG_MAGIC, true);
  view.setUint16(O.version, VMM_CONFIG_VERSION, true);
  view.setUint16(O.headerSize, VMM_CONFIG_HEADER_SIZE, true);
  view.setUint32(O.totalSize, VMM_CONFIG_HEADER_SIZE, true);
  bytes.set(new TextEncoder().encode(cfg.vmName), O.vmName);
  view.setUint8(O.gicVersion, cfg.gicVersion);
  view.setUint8(O.vcpuCount, cfg.vcpuIds.length);
  view.setUint8(O.irqCount, irqs.length);
  view.setUint8(O.deviceCount, devices.length);
  const packed = (img: VmmConfigImage | undefined): boolean => img !== undefined && img.size > 0n && img.unpackedSize !== undefined;
  const flags = (packed(cfg.kernel) ? VMM_CONFIG_FLAG_KERNEL_GZIP : 0) | (packed(cfg.initrd) ? VMM_CONFIG_FLAG_INITRD_GZIP : 0)
    | (cfg.wake ? VMM_CONFIG_FLAG_IDLE_BLOCK : 0) | (cfg.kernel.inPlace ? VMM_CONFIG_FLAG_KERNEL_IN_PLACE : 0)
    | (cfg.dtb.inPlace ? VMM_CONFIG_FLAG_DTB_IN_PLACE : 0) | (cfg.initrd?.inPlace ? VMM_CONFIG_FLAG_INITRD_IN_PLACE : 0)
    | (cfg.imagesUnmapped ? VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED : 0);
  view.setUint32(O.flags, flags, true);
  if (packed(cfg.kernel)) u64(O.kernelUnpackedSize, cfg.kernel.unpackedSize!);
  if (packed(cfg.initrd)) u64(O.initrdUnpackedSize, cfg.initrd!.unpackedSize!);
  cfg.vcpuIds.forEach((id, i) => view.setUint8(O.vcpuIds + i, id));
  u64(O.gicdBase, cfg.gicdBase);
  u64(O.gicrBase, cfg.gicrBase ?? 0n);
  u64(O.giccBase, cfg.giccBase ?? 0n);
  u64(O.ramGuestBase, cfg.ram.guestBase);
  u64(O.ramSize, cfg.ram.size);
  u64(O.ramVmmVaddr, cfg.ram.vmmVaddr);
  u64(O.entry, cfg.entry);
  image(O.kernel, cfg.kernel);
  image(O.dtb, cfg.dtb);
  image(O.initrd, cfg.initrd);
  const Q = VMM_CONFIG_IRQ_OFFSETS;
  irqs.forEach((irq, i) => {
    const off = O.irqs + i * VMM_CONFIG_IRQ_SIZE;
    view.setUint8(off + Q.channel, irq.channel);
    view.setUint8(off + Q.trigger, VMM_CONFIG_TRIGGERS[irq.trigger]);
    view.setUint16(off + Q.intid, irq.intid, true);
  });
  const D = VMM_CONFIG_DEVICE_OFFSETS;
  devices.forEach((d, i) => {
    const off = O.devices + i * VMM_CONFIG_DEVICE_SIZE;
    u64(off + D.guestBase, d.guestBase);
    u64(off + D.size, d.size);
    view.setUint16(off + D.kind, VMM_CONFIG_DEVICE_KINDS[d.kind], true);
    view.setUint16(off + D.intid, d.intid ?? 0, true);
  });
  u64(O.wakeSlotVaddr, cfg.wake?.slotVaddr ?? 0n);
  view.setUint8(O.timerChannel, cfg.wake?.timerChannel ?? VMM_CONFIG_NO_CHANNEL);
  encodeVirtio(view, cfg.virtio ?? []);
  encodeDoorbells(view, cfg.doorbells ?? []);
  const restart = cfg.restart ?? { policy: 'never', maxRestarts: 0, backoffMs: 0 };
  view.setUint8(O.restartPolicy, VMM_CONFIG_RESTART[restart.policy]);
  view.setUint32(O.maxRestarts, restart.maxRestarts === 'unlimited' ? VMM_CONFIG_RESTARTS_UNLIMITED : restart.maxRestarts, true);
  view.setUint32(O.backoffMs, restart.backoffMs, true);
  view.setUint8(O.controlChannel, cfg.control?.channel ?? VMM_CONFIG_NO_CHANNEL);
  u64(O.controlVaddr, cfg.control?.vaddr ?? 0n);
  view.setUint32(O.crc32, crc32(bytes), true);
  return bytes;
}

function encodeVirtio(view: DataView, devices: readonly VmmConfigVirtio[]): void {
  checkInt('virtio device count', devices.length, 0, VMM_CONFIG_MAX_VIRTIO);
  view.setUint8(VMM_CONFIG_OFFSETS.virtioCount, devices.length);
  const V = VMM_CONFIG_VIRTIO_OFFSETS;
  devices.forEach((d, i) => {
    const off = VMM_CONFIG_OFFSETS.virtio + i * VMM_CONFIG_VIRTIO_SIZE;
    checkInt(`virtio ${i} INTID`, d.intid, 32, VMM_CONFIG_MAX_INTID);
    if (d.guestBase % PAGE !== 0n) bug(`virtio ${i} window is not page-aligned`);
    view.setBigUint64(off + V.guestBase, d.guestBase, true);
    view.setUint16(off + V.intid, d.intid, true);
    view.setUint8(off + V.kind, VMM_CONFIG_VIRTIO_KINDS[d.kind]);
    view.setUint8(off + V.flags, d.readOnly ? VMM_CONFIG_VIRTIO_READ_ONLY : 0);
    if (d.channel !== undefined) checkInt(`virtio ${i} channel`, d.channel, 0, VMM_CONFIG_MAX_CHANNEL);
    view.setUint8(off + V.channel, d.channel ?? VMM_CONFIG_NO_CHANNEL);
    view.setBigUint64(off + V.aVaddr, d.a?.vaddr ?? 0n, true);
    view.setBigUint64(off + V.aSize, d.a?.size ?? 0n, true);
    view.setBigUint64(off + V.bVaddr, d.b?.vaddr ?? 0n, true);
    view.setBigUint64(off + V.bSize, d.b?.size ?? 0n, true);
    (d.mac ?? []).forEach((o, k) => view.setUint8(off + V.mac + k, o));
    view.setUint32(off + V.capacity, d.capacity ?? 0, true);
  });
}

function encodeDoorbells(view: DataView, doorbells: readonly VmmConfigDoorbell[]): void {
  view.setUint8(VMM_CONFIG_OFFSETS.doorbellCount, doorbells.length);
  const B = VMM_CONFIG_DOORBELL_OFFSETS;
  doorbells.forEach((d, i) => {
    const off = VMM_CONFIG_OFFSETS.doorbells + i * VMM_CONFIG_DOORBELL_SIZE;
    view.setUint8(off + B.channel, d.channel);
    view.setUint8(off + B.device, d.device);
    view.setUint8(off + B.ringLine, d.ringLine ?? 0);
    view.setUint8(off + B.notifyLine, d.notifyLine);
    view.setUint8(off + B.flags, d.ringLine !== undefined ? VMM_CONFIG_DOORBELL_CAN_RING : 0);
  });
}

function decodeDoorbells(view: DataView): VmmConfigDoorbell[] {
  const B = VMM_CONFIG_DOORBELL_OFFSETS;
  const count = Math.min(view.getUint8(VMM_CONFIG_OFFSETS.doorbellCount), VMM_CONFIG_MAX_DOORBELLS);
  return Array.from({ length: count }, (_, i): VmmConfigDoorbell => {
    const off = VMM_CONFIG_OFFSETS.doorbells + i * VMM_CONFIG_DOORBELL_SIZE;
    const rings = (view.getUint8(off + B.flags) & VMM_CONFIG_DOORBELL_CAN_RING) !== 0;
    return {
      channel: view.getUint8(off + B.channel),
      device: view.getUint8(off + B.device),
      ...(rings ? { ringLine: view.getUint8(off + B.ringLine) } : {}),
      notifyLine: view.getUint8(off + B.notifyLine),
    };
  });
}

function decodeVirtio(view: DataView): VmmConfigVirtio[] {
  const V = VMM_CONFIG_VIRTIO_OFFSETS;
  const count = Math.min(view.getUint8(VMM_CONFIG_OFFSETS.virtioCount), VMM_CONFIG_MAX_VIRTIO);
  const kinds = Object.entries(VMM_CONFIG_VIRTIO_KINDS);
  return Array.from({ length: count }, (_, i): VmmConfigVirtio => {
    const off = VMM_CONFIG_OFFSETS.virtio + i * VMM_CONFIG_VIRTIO_SIZE;
    const u64 = (o: number): bigint => view.getBigUint64(off + o, true);
    const kind = (kinds.find(([, v]) => v === view.getUint8(off + V.kind))?.[0] ?? 'net') as VmmConfigVirtio['kind'];
    const channel = view.getUint8(off + V.channel);
    const d: VmmConfigVirtio = { kind, guestBase: u64(V.guestBase), intid: view.getUint16(off + V.intid, true) };
    if (view.getUint8(off + V.flags) & VMM_CONFIG_VIRTIO_READ_ONLY) d.readOnly = true;
    if (channel !== VMM_CONFIG_NO_CHANNEL) d.channel = channel;
    if (u64(V.aVaddr) !== 0n) d.a = { vaddr: u64(V.aVaddr), size: u64(V.aSize) };
    if (u64(V.bVaddr) !== 0n) d.b = { vaddr: u64(V.bVaddr), size: u64(V.bSize) };
    if (kind === 'net') {
      d.mac = Array.from({ length: 6 }, (_, k) => view.getUint8(off + V.mac + k));
      d.capacity = view.getUint32(off + V.capacity, true);
    }
    return d;
  });
}

/**
 * Decodes a blob (for tests and tools). Throws with a one-line reason when the preamble,
 * version or checksum is wrong; does not repeat the C runtime's field checks.
 */
export function decodeVmmConfig(blob: Uint8Array): VmmConfig {
  const O = VMM_CONFIG_OFFSETS;
  if (blob.length < VMM_CONFIG_HEADER_SIZE) throw new Error(`VMM config blob of ${blob.length} bytes is too short`);
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const magic = view.getUint32(O.magic, true);
  if (magic !== VMM_CONFIG_MAGIC) throw new Error(`VMM config blob has bad magic 0x${magic.toString(16)}`);
  const version = view.getUint16(O.version, true);
  if (version !== VMM_CONFIG_VERSION) throw new Error(`VMM config blob has unsupported version ${version}`);
  const total = view.getUint32(O.totalSize, true);
  if (view.getUint16(O.headerSize, true) !== VMM_CONFIG_HEADER_SIZE || total < VMM_CONFIG_HEADER_SIZE || total > blob.length) {
    throw new Error('VMM config blob has bad sizes');
  }
  const copy = blob.slice(0, total);
  copy.fill(0, O.crc32, O.crc32 + 4);
  if (crc32(copy) !== view.getUint32(O.crc32, true)) throw new Error('VMM config blob has a bad checksum');

  const u64 = (off: number) => view.getBigUint64(off, true);
  const flags = view.getUint32(O.flags, true);
  const I = VMM_CONFIG_IMAGE_OFFSETS;
  const image = (off: number, flag: number, inPlaceFlag: number, unpackedAt = 0): VmmConfigImage => ({
    vmmVaddr: u64(off + I.vmmVaddr),
    size: u64(off + I.size),
    guestAddr: u64(off + I.guestAddr),
    ...(flags & flag ? { unpackedSize: u64(unpackedAt) } : {}),
    ...(flags & inPlaceFlag ? { inPlace: true } : {}),
  });
  const nameBytes = blob.subarray(O.vmName, O.vmName + VMM_CONFIG_NAME_SIZE);
  const nul = nameBytes.indexOf(0);
  const gicVersion = view.getUint8(O.gicVersion);
  if (gicVersion !== 2 && gicVersion !== 3) throw new Error(`VMM config blob has GIC version ${gicVersion}`);
  const vcpuCount = view.getUint8(O.vcpuCount);
  const irqCount = view.getUint8(O.irqCount);
  const deviceCount = view.getUint8(O.deviceCount);
  if (vcpuCount > VMM_CONFIG_MAX_VCPUS || irqCount > VMM_CONFIG_MAX_IRQS || deviceCount > VMM_CONFIG_MAX_DEVICES) {
    throw new Error('VMM config blob has counts beyond its tables');
  }
  const cfg: VmmConfig = {
    vmName: new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? nameBytes.length : nul)),
    gicVersion,
    vcpuIds: Array.from({ length: vcpuCount }, (_, i) => view.getUint8(O.vcpuIds + i)),
    gicdBase: u64(O.gicdBase),
    ram: { guestBase: u64(O.ramGuestBase), size: u64(O.ramSize), vmmVaddr: u64(O.ramVmmVaddr) },
    kernel: image(O.kernel, VMM_CONFIG_FLAG_KERNEL_GZIP, VMM_CONFIG_FLAG_KERNEL_IN_PLACE, O.kernelUnpackedSize),
    dtb: image(O.dtb, 0, VMM_CONFIG_FLAG_DTB_IN_PLACE),
    entry: u64(O.entry),
    irqs: Array.from({ length: irqCount }, (_, i) => {
      const off = O.irqs + i * VMM_CONFIG_IRQ_SIZE;
      const Q = VMM_CONFIG_IRQ_OFFSETS;
      return {
        channel: view.getUint8(off + Q.channel),
        trigger: view.getUint8(off + Q.trigger) === VMM_CONFIG_TRIGGERS.edge ? ('edge' as const) : ('level' as const),
        intid: view.getUint16(off + Q.intid, true),
      };
    }),
    devices: Array.from({ length: deviceCount }, (_, i) => {
      const off = O.devices + i * VMM_CONFIG_DEVICE_SIZE;
      const D = VMM_CONFIG_DEVICE_OFFSETS;
      const kind = view.getUint16(off + D.kind, true) === VMM_CONFIG_DEVICE_KINDS.pl061 ? 'pl061' as const : 'pl011' as const;
      return { kind, guestBase: u64(off + D.guestBase), size: u64(off + D.size), intid: view.getUint16(off + D.intid, true) };
    }),
  };
  if (flags & VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED) cfg.imagesUnmapped = true;
  if (flags & VMM_CONFIG_FLAG_IDLE_BLOCK) cfg.wake = { slotVaddr: u64(O.wakeSlotVaddr), timerChannel: view.getUint8(O.timerChannel) };
  const virtio = decodeVirtio(view);
  if (virtio.length > 0) cfg.virtio = virtio;
  const doorbells = decodeDoorbells(view);
  if (doorbells.length > 0) cfg.doorbells = doorbells;
  if (gicVersion === 2) cfg.giccBase = u64(O.giccBase);
  else cfg.gicrBase = u64(O.gicrBase);
  const initrd = image(O.initrd, VMM_CONFIG_FLAG_INITRD_GZIP, VMM_CONFIG_FLAG_INITRD_IN_PLACE, O.initrdUnpackedSize);
  if (initrd.size > 0n) cfg.initrd = initrd;
  const policy = Object.entries(VMM_CONFIG_RESTART).find(([, v]) => v === view.getUint8(O.restartPolicy))?.[0] as VmmRestartPolicy['policy'] | undefined;
  if (policy && policy !== 'never') {
    const max = view.getUint32(O.maxRestarts, true);
    cfg.restart = { policy, maxRestarts: max === VMM_CONFIG_RESTARTS_UNLIMITED ? 'unlimited' : max, backoffMs: view.getUint32(O.backoffMs, true) };
  }
  const controlChannel = view.getUint8(O.controlChannel);
  if (controlChannel !== VMM_CONFIG_NO_CHANNEL) cfg.control = { vaddr: u64(O.controlVaddr), channel: controlChannel };
  return cfg;
}
