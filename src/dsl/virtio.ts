// Devices a VMM plays for its guest over virtio-mmio (virtio 1.2 §4.2): a console, a block device
// backed by a disk image, and network links between two VMs or a VM and a native PD. Each one
// becomes ordinary model data (regions, channels, the guest's device-tree node), so `check`,
// `graph`, `diff` and `flows` see it like the user's own elements.
import { captureLocation, type SourceLocation } from './location.js';
import { toFileRef, type FileRef } from './context.js';
import { checkBoolean, checkFile, checkNumber, checkOptions, checkString } from './check.js';
import { DslError } from './errors.js';
import type { ChannelEnd, ProtectionDomain } from './constructs.js';
import type { VirtualMachine } from './vm.js';

export interface VirtioConsoleOptions {
  /**
   * The board UART whose input the VMM reads and hands to this console (`hvc0` in the guest);
   * `false` for output only. The VMM drives that UART itself, so no VM may have it passed through.
   * @default false
   */
  input?: string | false;
}

export interface VirtioConsole {
  readonly kind: 'virtioConsole';
  readonly input: string | undefined;
  readonly loc: SourceLocation | undefined;
}

/**
 * A console over virtio (Linux `hvc0`): what the guest writes is printed by its VMM, each line
 * prefixed with the VM's name; with `input`, what is typed on that board UART reaches the guest.
 */
export function virtioConsole(options: VirtioConsoleOptions = {}): VirtioConsole {
  const loc = captureLocation();
  checkOptions('virtioConsole()', options, loc, true);
  if (options.input !== undefined && options.input !== false) checkString('virtioConsole() input', options.input, loc, { nonEmpty: true });
  return { kind: 'virtioConsole', input: options.input === false ? undefined : options.input, loc };
}

export interface VirtioBlockOptions {
  /** The disk image: a raw file whose size is a multiple of 512 bytes (a relative path is relative to this systems.ts). */
  image: string | FileRef;
  /** The guest sees a read-only disk (VIRTIO_BLK_F_RO): its writes fail in the guest. @default false */
  readOnly?: boolean;
}

export interface VirtioBlock {
  readonly kind: 'virtioBlock';
  readonly name: string;
  readonly image: FileRef;
  readonly readOnly: boolean;
  readonly loc: SourceLocation | undefined;
}

/**
 * A block device (Linux `/dev/vdX`) backed by a disk image, served from a memory region of its
 * size (`<vm>_<name>_disk`) that only the VMM maps. On Microkit 2.3.0 that region is prefilled
 * from the image (written beside the .system as `<vm>-<name>.disk`): the VMM's program image does
 * not carry it and nothing is copied at boot. On 2.0.1 the image travels in the VMM's program
 * image and is copied into the region at boot, so it must fit below the board's Microkit loader
 * (`virtio-disk-too-large` otherwise). Writes last until the machine stops.
 */
export function virtioBlock(name: string, options: VirtioBlockOptions): VirtioBlock {
  const loc = captureLocation();
  checkString('virtioBlock() name', name, loc, { nonEmpty: true });
  const what = `virtioBlock(${JSON.stringify(name)})`;
  checkOptions(what, options, loc, false);
  checkFile(`${what} image`, options.image, loc, false);
  checkBoolean(`${what} readOnly`, options.readOnly, loc);
  return { kind: 'virtioBlock', name, image: toFileRef(options.image, loc), readOnly: options.readOnly ?? false, loc };
}

/** A virtio device of a VM. */
export type VirtioDevice = VirtioConsole | VirtioBlock;

/** One side of a network link: a VM (a virtio-net device in the guest) or a native PD. */
export type NetLinkEndpoint = VirtualMachine | ProtectionDomain | ChannelEnd;

export interface NetLinkOptions {
  /** Frames each direction's ring holds (a power of two, 16 to 4096). @default 512 */
  capacity?: number;
  /** MAC addresses ("02:00:00:00:00:01"), side a then side b. @default locally administered, from the link and side */
  macs?: [string, string];
}

export interface NetLink {
  readonly kind: 'netLink';
  readonly name: string;
  readonly a: NetLinkEndpoint;
  readonly b: NetLinkEndpoint;
  readonly capacity: number;
  readonly macs: readonly [string, string] | undefined;
  readonly loc: SourceLocation | undefined;
}

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;
const ENDPOINT_KINDS = ['virtualMachine', 'protectionDomain', 'end'];

function checkEndpoint(what: string, v: unknown, loc: SourceLocation | undefined): void {
  const kind = typeof v === 'object' && v !== null ? (v as { kind?: unknown }).kind : undefined;
  if (typeof kind !== 'string' || !ENDPOINT_KINDS.includes(kind)) {
    throw new DslError('bad-argument', `${what} must be a virtualMachine(...), a protectionDomain(...) or end(pd, { id }), not ${typeof v === 'object' ? String(kind ?? 'an object') : JSON.stringify(v)}`, undefined, loc);
  }
}

/**
 * A network link: an Ethernet wire between two VMs (each gets a virtio-net device, `eth0`
 * first), or between a VM and a native PD that serves the ring protocol of docs/net-link.md.
 * Frames cross through two shared memory regions (one per direction, `<name>_a_to_b` and
 * `<name>_b_to_a`) and one channel; each VMM copies a frame once, nothing else touches it.
 * A PD end sees the regions through the symbols `<name>_tx` and `<name>_rx` (setvar_vaddr); use
 * `end(pd, { id })` to fix its channel id.
 */
export function netLink(name: string, a: NetLinkEndpoint, b: NetLinkEndpoint, options: NetLinkOptions = {}): NetLink {
  const loc = captureLocation();
  checkString('netLink() name', name, loc, { nonEmpty: true });
  const what = `netLink(${JSON.stringify(name)})`;
  checkEndpoint(`${what} first endpoint`, a, loc);
  checkEndpoint(`${what} second endpoint`, b, loc);
  checkOptions(what, options, loc, true);
  checkNumber(`${what} capacity`, options.capacity, loc, { optional: true, integer: true, min: 16, max: 4096 });
  const capacity = options.capacity ?? 512;
  if ((capacity & (capacity - 1)) !== 0) throw new DslError('bad-argument', `${what}: capacity must be a power of two, not ${capacity}`, undefined, loc);
  if (options.macs !== undefined) {
    if (!Array.isArray(options.macs) || options.macs.length !== 2) throw new DslError('bad-argument', `${what}: macs must be two MAC addresses, side a then side b`, undefined, loc);
    options.macs.forEach((m, i) => {
      if (typeof m !== 'string' || !MAC.test(m)) throw new DslError('bad-argument', `${what}: macs[${i}] must look like "02:00:00:00:00:01", not ${JSON.stringify(m)}`, undefined, loc);
    });
  }
  return { kind: 'netLink', name, a, b, capacity, macs: options.macs ? [options.macs[0], options.macs[1]] : undefined, loc };
}
