// The VMM configuration blob as the C runtime reads it (src/vmm-runtime/include/vmm_config.h):
// section and symbol, preamble, every record's offsets and size, the codes its fields take and
// the runtime's limits. The encoder (emit/vmm-config.ts), resolution and validation take them
// from here, and test/compile/abi/headers.test.ts reads the header and compares each one.
import { MICROKIT } from '../model/facts.js';

/** ELF section that holds the blob in the runtime ELF. */
export const VMM_CONFIG_SECTION = '.vmm_config';
/** Symbol naming the first byte of that section. */
export const VMM_CONFIG_SYMBOL = 'vmm_config_blob';
/** Bytes reserved for the blob in the section (zero-filled in the built ELF). */
export const VMM_CONFIG_RESERVED_SIZE = 4096;
/** 'S4VM' in memory order, read as a little-endian u32. */
export const VMM_CONFIG_MAGIC = 0x4d563453;
/**
 * Version 2 added compressed images (flags and the two unpacked sizes), version 3 idle vCPUs
 * that block (the wake slot and timer channel), version 4 virtio devices, version 5 doorbells
 * (a PL061 device and the channels on its lines), version 6 images already in place (the
 * *_IN_PLACE flags) and block devices whose disk region is prefilled, version 7 the restart
 * policy and the control page of a PD that controls the VM.
 */
export const VMM_CONFIG_VERSION = 7;
/** Size of the version-7 structure (`sizeof(struct vmm_config)`). */
export const VMM_CONFIG_HEADER_SIZE = 0x388;

/** `flags` bits: the kernel / initrd is stored as one gzip member (RFC 1952). */
export const VMM_CONFIG_FLAG_KERNEL_GZIP = 1 << 0;
export const VMM_CONFIG_FLAG_INITRD_GZIP = 1 << 1;
/** `flags` bit: idle vCPUs are suspended and woken through the timer PD (vmm_wake.h). */
export const VMM_CONFIG_FLAG_IDLE_BLOCK = 1 << 2;
/**
 * `flags` bits: the kernel / DTB / initrd is in guest RAM at its address before the VMM starts
 * (Microkit 2.3.0 prefilled regions); its `vmm_vaddr` is a pristine copy, or 0 for none.
 */
export const VMM_CONFIG_FLAG_KERNEL_IN_PLACE = 1 << 3;
export const VMM_CONFIG_FLAG_DTB_IN_PLACE = 1 << 4;
export const VMM_CONFIG_FLAG_INITRD_IN_PLACE = 1 << 5;
/** `flags` bit: the images in place are not mapped into the VMM (it needs no guest memory: no virtio device, no pristine copies). */
export const VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED = 1 << 6;
/** `timer_channel` (and a virtio device's `channel`) when there is none. */
export const VMM_CONFIG_NO_CHANNEL = 0xff;
/** RFC 1952 2.3: a 10-byte header and an 8-byte trailer around the DEFLATE data. */
export const VMM_CONFIG_GZIP_MIN_SIZE = 18;

/** `vm_name` bytes, NUL included. */
export const VMM_CONFIG_NAME_SIZE = 32;
/** vCPUs one VMM runs (the runtime's one vCPU limit). */
export const VMM_CONFIG_MAX_VCPUS = 8;
/** Device interrupts passed through to one guest. */
export const VMM_CONFIG_MAX_IRQS = 32;
/** Devices one VMM emulates by trapping (a PL011). */
export const VMM_CONFIG_MAX_DEVICES = 4;
/** virtio-mmio devices one VMM serves. */
export const VMM_CONFIG_MAX_VIRTIO = 4;
/** The highest INTID the VMM's vGIC implements: every INTID in the blob is an SPI 32..this. */
export const VMM_CONFIG_MAX_INTID = 511;
/** Microkit 2.0.1: 62 channels per protection domain (ids 0..61). */
export const VMM_CONFIG_MAX_CHANNEL = MICROKIT.maxChannelId;
/** Microkit child ids are 6 bits of a fault badge. */
export const VMM_CONFIG_MAX_CHILD = MICROKIT.maxChildId;

/** `struct vmm_config_irq` `trigger` values. */
export const VMM_CONFIG_TRIGGERS = { level: 0, edge: 1 } as const;
/** `struct vmm_config_device` `kind` values (0 is none). */
export const VMM_CONFIG_DEVICE_KINDS = { none: 0, pl011: 1, pl061: 2 } as const;
/** Doorbells one VM has: two lines each of its one PL061 (docs/doorbell.md). */
export const VMM_CONFIG_MAX_DOORBELLS = 4;
/** Lines of a PL061 (ARM DDI 0190B). */
export const VMM_CONFIG_DOORBELL_LINES = 8;
/** `struct vmm_config_doorbell` `flags` bit: the VMM's end may notify the peer (a ring line is wired). */
export const VMM_CONFIG_DOORBELL_CAN_RING = 1 << 0;
/** `struct vmm_config_virtio` `kind` values. */
export const VMM_CONFIG_VIRTIO_KINDS = { net: 1, block: 2, console: 3 } as const;
/** `struct vmm_config_virtio` `flags` bit: a block device the guest sees as read-only. */
export const VMM_CONFIG_VIRTIO_READ_ONLY = 1 << 0;
/** Guest-physical bytes of each virtio-mmio window (one page). */
export const VMM_CONFIG_VIRTIO_WINDOW = 0x1000;

/** `restart_policy` values (`virtualMachine({ restart })`). */
export const VMM_CONFIG_RESTART = { never: 0, 'on-failure': 1, always: 2 } as const;
/** `max_restarts` for no limit. */
export const VMM_CONFIG_RESTARTS_UNLIMITED = 0xffffffff;
/** The longest backoff before a restart, in ms. */
export const VMM_CONFIG_MAX_BACKOFF_MS = 60000;

/** Field offsets of `struct vmm_config`. */
export const VMM_CONFIG_OFFSETS = {
  magic: 0x000,
  version: 0x004,
  headerSize: 0x006,
  totalSize: 0x008,
  crc32: 0x00c,
  vmName: 0x010,
  gicVersion: 0x030,
  vcpuCount: 0x031,
  irqCount: 0x032,
  deviceCount: 0x033,
  flags: 0x034,
  vcpuIds: 0x038,
  gicdBase: 0x040,
  gicrBase: 0x048,
  giccBase: 0x050,
  ramGuestBase: 0x058,
  ramSize: 0x060,
  ramVmmVaddr: 0x068,
  entry: 0x070,
  kernel: 0x078,
  dtb: 0x090,
  initrd: 0x0a8,
  irqs: 0x0c0,
  devices: 0x1c0,
  kernelUnpackedSize: 0x220,
  initrdUnpackedSize: 0x228,
  wakeSlotVaddr: 0x230,
  timerChannel: 0x238,
  virtioCount: 0x240,
  virtio: 0x248,
  doorbellCount: 0x348,
  doorbells: 0x350,
  restartPolicy: 0x370,
  controlChannel: 0x371,
  maxRestarts: 0x374,
  backoffMs: 0x378,
  controlVaddr: 0x380,
} as const;

/** Field offsets of `struct vmm_config_image` (the kernel, DTB and initrd records). */
export const VMM_CONFIG_IMAGE_OFFSETS = { vmmVaddr: 0x00, size: 0x08, guestAddr: 0x10 } as const;
export const VMM_CONFIG_IMAGE_SIZE = 0x18;

/** Field offsets of `struct vmm_config_irq` (one of `irqs[]`). */
export const VMM_CONFIG_IRQ_OFFSETS = { channel: 0x0, trigger: 0x1, intid: 0x2 } as const;
export const VMM_CONFIG_IRQ_SIZE = 0x8;

/** Field offsets of `struct vmm_config_device` (one of `devices[]`). */
export const VMM_CONFIG_DEVICE_OFFSETS = { guestBase: 0x00, size: 0x08, kind: 0x10, intid: 0x12 } as const;
export const VMM_CONFIG_DEVICE_SIZE = 0x18;

/** Field offsets of `struct vmm_config_virtio` (one of `virtio[]`). */
export const VMM_CONFIG_VIRTIO_OFFSETS = {
  guestBase: 0x00, intid: 0x08, kind: 0x0a, flags: 0x0b, channel: 0x0c,
  aVaddr: 0x10, aSize: 0x18, bVaddr: 0x20, bSize: 0x28, mac: 0x30, capacity: 0x38,
} as const;
export const VMM_CONFIG_VIRTIO_SIZE = 0x40;

/** Field offsets of `struct vmm_config_doorbell` (one of `doorbells[]`). */
export const VMM_CONFIG_DOORBELL_OFFSETS = { channel: 0x0, device: 0x1, ringLine: 0x2, notifyLine: 0x3, flags: 0x4 } as const;
export const VMM_CONFIG_DOORBELL_SIZE = 0x8;
