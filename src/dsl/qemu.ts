// What QEMU plugs into a virtio-mmio transport of its virt machine that a VM is given with
// passthrough(): a network card on QEMU's user-mode network, or a raw disk file. `run` (and the
// tests) start QEMU with these devices, so the machine booted is the one the systems.ts describes.
// The guest drives the real device QEMU emulates; no VMM is in its data path.
import { captureLocation, type SourceLocation } from './location.js';
import { toFileRef, type FileRef } from './context.js';
import { checkBoolean, checkFile, checkNumber, checkOptions, checkString } from './check.js';
import { DslError } from './errors.js';

/** A host port forwarded to the guest: QEMU listens on 127.0.0.1:hostPort and connects to guestAddress:guestPort. */
export interface QemuForward {
  /** The port QEMU listens on, on the host's loopback address 127.0.0.1 only. */
  hostPort: number;
  /** The guest's port the connection goes to. */
  guestPort: number;
  /**
   * The guest's address on QEMU's user network (10.0.2.0/24).
   * @default '10.0.2.15' (the first address QEMU's DHCP server hands out)
   */
  guestAddress?: string;
}

/** A service on the host's loopback that the guest may reach: guest connections to address:port go to 127.0.0.1:hostPort. */
export interface QemuHostService {
  /** The port the guest connects to (at `address`). */
  port: number;
  /** The port on 127.0.0.1 it reaches. @default port */
  hostPort?: number;
  /**
   * The address on QEMU's user network (10.0.2.0/24) the guest connects to; not the gateway
   * (10.0.2.2), the DNS server (10.0.2.3) or an address a forward names.
   * @default '10.0.2.100'
   */
  address?: string;
}

export interface QemuNicOptions {
  /** Host ports (on 127.0.0.1) forwarded to the guest. @default [] */
  forward?: QemuForward[];
  /**
   * Services on the host's loopback the guest may reach (QEMU's `guestfwd`). QEMU holds one
   * connection to each: it connects when it starts (again each second while nothing listens, and
   * a second after the service closes it), and all the guest's connections to the service share
   * that one byte stream, so it suits one request at a time (docs/passthrough.md). @default []
   */
  hostServices?: QemuHostService[];
  /** The card's MAC address ("52:54:00:12:34:56"). @default locally administered, from the VM and the transport */
  mac?: string;
}

/**
 * A virtio network card on QEMU's user-mode network (slirp), restricted: the guest reaches
 * neither the host nor anything beyond it, except the `hostServices`; from the host, only the
 * `forward`ed ports on 127.0.0.1 reach the guest. No other host address is ever used.
 */
export interface QemuNic {
  readonly kind: 'qemu-nic';
  readonly forward: readonly Required<QemuForward>[];
  readonly hostServices: readonly Required<QemuHostService>[];
  readonly mac: string | undefined;
  readonly loc: SourceLocation | undefined;
}

export interface QemuDiskOptions {
  /** QEMU refuses the guest's writes (the guest sees a read-only disk). @default false */
  readOnly?: boolean;
}

/** A raw disk file QEMU serves as a virtio block device; the guest's writes go to the file. */
export interface QemuDisk {
  readonly kind: 'qemu-disk';
  readonly file: FileRef;
  readonly readOnly: boolean;
  readonly loc: SourceLocation | undefined;
}

/** A device QEMU attaches to a virtio-mmio transport (passthrough's `qemu` option). */
export type QemuDevice = QemuNic | QemuDisk;

/** QEMU's user network's default DHCP start, the guest address a forward goes to by default. */
export const QEMU_USER_GUEST = '10.0.2.15';
/** Where a host service appears to the guest by default: an address QEMU's user network leaves free. */
export const QEMU_USER_SERVICE = '10.0.2.100';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

function checkList(what: string, v: unknown, loc: SourceLocation | undefined): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new DslError('bad-argument', `${what} must be an array, not ${typeof v}`, undefined, loc);
  return v;
}

/**
 * A network card QEMU plugs into the transport, on its user-mode network restricted to the
 * host's loopback:
 *
 * ```ts
 * passthrough('virtio_mmio_a000000', { qemu: qemuNic({
 *   forward: [{ hostPort: 8080, guestPort: 80 }],        // http://127.0.0.1:8080/ on the host
 *   hostServices: [{ port: 9000 }],                       // 10.0.2.100:9000 in the guest
 * }) })
 * ```
 * Port ranges and clashes are checked with the whole system (error[qemu-port-range], ...).
 */
export function qemuNic(options: QemuNicOptions = {}): QemuNic {
  const loc = captureLocation();
  checkOptions('qemuNic()', options, loc, true);
  const forward = checkList('qemuNic() forward', options.forward, loc).map((f, i) => {
    const what = `qemuNic() forward[${i}]`;
    checkOptions(what, f, loc, false);
    const o = f as QemuForward;
    checkNumber(`${what} hostPort`, o.hostPort, loc, { integer: true });
    checkNumber(`${what} guestPort`, o.guestPort, loc, { integer: true });
    checkString(`${what} guestAddress`, o.guestAddress, loc, { optional: true, nonEmpty: true });
    return { hostPort: o.hostPort, guestPort: o.guestPort, guestAddress: o.guestAddress ?? QEMU_USER_GUEST };
  });
  const hostServices = checkList('qemuNic() hostServices', options.hostServices, loc).map((s, i) => {
    const what = `qemuNic() hostServices[${i}]`;
    checkOptions(what, s, loc, false);
    const o = s as QemuHostService;
    checkNumber(`${what} port`, o.port, loc, { integer: true });
    checkNumber(`${what} hostPort`, o.hostPort, loc, { optional: true, integer: true });
    checkString(`${what} address`, o.address, loc, { optional: true, nonEmpty: true });
    return { port: o.port, hostPort: o.hostPort ?? o.port, address: o.address ?? QEMU_USER_SERVICE };
  });
  checkString('qemuNic() mac', options.mac, loc, { optional: true });
  if (options.mac !== undefined && !MAC.test(options.mac)) {
    throw new DslError('bad-argument', `qemuNic() mac must look like "52:54:00:12:34:56", not ${JSON.stringify(options.mac)}`, undefined, loc);
  }
  return { kind: 'qemu-nic', forward, hostServices, mac: options.mac?.toLowerCase(), loc };
}

/**
 * A raw disk file QEMU plugs into the transport as a virtio block device (`/dev/vdX` in the
 * guest, with Linux's virtio_mmio and virtio_blk). A relative path is relative to this
 * systems.ts; the file must exist when the system is synthesised (error[qemu-disk-missing]).
 *
 * ```ts
 * passthrough('virtio_mmio_a000200', { qemu: qemuDisk('disk.img') })
 * ```
 */
export function qemuDisk(file: string | FileRef, options: QemuDiskOptions = {}): QemuDisk {
  const loc = captureLocation();
  checkFile('qemuDisk() file', file, loc, false);
  checkOptions('qemuDisk()', options, loc, true);
  checkBoolean('qemuDisk() readOnly', options.readOnly, loc);
  return { kind: 'qemu-disk', file: toFileRef(file, loc), readOnly: options.readOnly ?? false, loc };
}
