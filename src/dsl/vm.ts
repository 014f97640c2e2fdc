// The high-level guest: a Linux virtual machine together with the VMM that runs it. On a board
// it becomes, through the low-level constructs, a VMM protection domain, the guest RAM region,
// the GIC virtual CPU interface mapped where the guest expects its CPU interface, and the
// devices passed through with their interrupts (see src/compile/resolve/guests.ts).
import { captureLocation, type SourceLocation } from './location.js';
import { DslError } from './errors.js';
import { toFileRef, type FileRef } from './context.js';
import { checkScheduling, makeProtectionDomain, type IrqTrigger, type Mapping, type ProtectionDomain, type SchedulingOptions } from './constructs.js';
import { checkBigint, checkBoolean, checkConstructs, checkFile, checkNumber, checkOneOf, checkOptions, checkString } from './check.js';
import type { Address, Size } from './units.js';
import type { Initramfs } from './initramfs.js';
import type { VirtioDevice } from './virtio.js';
import type { Domain } from './domains.js';
import type { QemuDevice } from './qemu.js';

/** A device described by hand, for one the board file does not list. */
export interface DeviceSpec {
  name: string;
  paddr: Address;
  size: Size;
  /** GIC INTIDs, with their trigger. @default [] */
  irqs?: (number | { irq: number; trigger?: IrqTrigger })[];
  /**
   * The device is a bus master (it reads and writes memory itself): the VM's RAM is then placed
   * at guest-physical = physical so the addresses its driver programs are right, and `flows`
   * shows that the VM reaches all physical memory through it (Microkit programs no IOMMU).
   * @default false
   */
  dma?: boolean;
}

export interface PassthroughOptions {
  /** Pass the device's interrupts through to the guest. @default true */
  irqs?: boolean;
  /** Channel ids on the VMM for the device's interrupts, in order. @default allocated */
  ids?: number[];
  /** Guest-physical address of the device. @default its physical address (the board's DTB stays valid) */
  gpa?: Address;
  /**
   * On a QEMU board, what QEMU plugs into this virtio-mmio transport (`virtio_mmio_a000000`
   * ... `virtio_mmio_a003e00`): `qemuNic({...})` or `qemuDisk(file)`. `sel4cp-synth run` starts
   * QEMU with it. The device reads and writes RAM by physical address, so the VM's RAM is placed
   * at guest-physical = physical, and nothing stops it reaching all of physical memory (QEMU's
   * virt machine has no IOMMU here): the VM is trusted with that. @default nothing attached
   */
  qemu?: QemuDevice;
}

export interface Passthrough {
  readonly kind: 'passthrough';
  /** A board device name ('uart0'), 'console', a device-tree path, or a hand-written device. */
  readonly device: string | DeviceSpec;
  readonly irqs: boolean;
  readonly ids: readonly number[] | undefined;
  readonly gpa: Address | undefined;
  /** What QEMU attaches to the transport (a QEMU board's virtio-mmio transport only). */
  readonly qemu: QemuDevice | undefined;
  readonly loc: SourceLocation | undefined;
}

/** Give a VM direct access to a device: its registers mapped uncached, its interrupts injected. */
export function passthrough(device: string | DeviceSpec, options: PassthroughOptions = {}): Passthrough {
  const loc = captureLocation();
  if (typeof device === 'object' && device !== null) {
    const what = `passthrough(${JSON.stringify((device as DeviceSpec).name)})`;
    checkString(`${what} name`, device.name, loc, { nonEmpty: true });
    checkBigint(`${what} paddr`, device.paddr, loc, false, 'addr');
    checkBigint(`${what} size`, device.size, loc, false, 'kib');
    checkBoolean(`${what} dma`, device.dma, loc);
    if (device.irqs !== undefined && !Array.isArray(device.irqs)) checkConstructs(`${what} irqs`, device.irqs, [], '', loc);
    for (const [i, q] of (device.irqs ?? []).entries()) {
      checkNumber(`${what} irqs[${i}]`, typeof q === 'object' && q !== null ? q.irq : q, loc, { integer: true });
    }
  } else {
    checkString('passthrough() device', device, loc, { nonEmpty: true });
  }
  const what = `passthrough(${JSON.stringify(typeof device === 'string' ? device : device.name)})`;
  checkOptions(what, options, loc, true);
  checkBoolean(`${what} irqs`, options.irqs, loc);
  checkBigint(`${what} gpa`, options.gpa, loc, true, 'addr');
  if (options.ids !== undefined) {
    if (!Array.isArray(options.ids)) checkConstructs(`${what} ids`, options.ids, [], '', loc);
    options.ids.forEach((id, i) => checkNumber(`${what} ids[${i}]`, id, loc, { integer: true }));
  }
  const q = options.qemu as { kind?: unknown } | undefined;
  if (q !== undefined && (typeof q !== 'object' || q === null || (q.kind !== 'qemu-nic' && q.kind !== 'qemu-disk'))) {
    throw new DslError('bad-argument', `${what} qemu must be made with qemuNic(...) or qemuDisk(...)`, undefined, loc);
  }
  return { kind: 'passthrough', device, irqs: options.irqs ?? true, ids: options.ids, gpa: options.gpa, qemu: options.qemu, loc };
}

/** Device kinds the VMM can emulate. */
export type EmulatedKind = 'pl011';

export interface Emulated {
  readonly kind: 'emulated';
  /** A board device name ('uart0'), 'console', or a device-tree path: the guest sees this device. */
  readonly device: string;
  readonly loc: SourceLocation | undefined;
}

/**
 * Give a VM an emulated copy of a device instead of the real one: the guest's accesses trap to
 * its VMM, which plays the device. For a UART (PL011) the VMM prints what the guest writes,
 * each line prefixed with the VM's name. Use it when another VM owns the real device.
 */
export function emulated(device: string): Emulated {
  const loc = captureLocation();
  checkString('emulated() device', device, loc, { nonEmpty: true });
  return { kind: 'emulated', device, loc };
}

export interface VmmOptions extends SchedulingOptions {
  /** @default `${vm}_vmm` */
  name?: string;
  /** @default kib(16) */
  stackSize?: Size;
  /** Microkit 2.3.0: the core the VMM runs on. @default 0 */
  cpu?: number;
  /** Microkit 2.3.0: the VMM's scheduling domain (its guest runs in it too). @default none */
  domain?: Domain;
}

export interface VirtualMachineOptions extends SchedulingOptions {
  /** The arm64 Linux kernel `Image` (uncompressed). */
  kernel: string | FileRef;
  /** An initial RAM disk: a file (e.g. a cpio archive) or one declared with initramfs(). @default none */
  initrd?: string | FileRef | Initramfs;
  /**
   * The guest device tree (.dtb, or .dts compiled with dtc). sel4cp-synth injects /chosen
   * (initrd, bootargs) and /memory into it.
   * @default generated from the board's device tree: CPUs, timer, PSCI, GIC, and the devices passed through
   */
  dtb?: string | FileRef;
  /**
   * The board's own device tree, from which the guest's is generated (CPUs, timer, PSCI, GIC and
   * the devices passed through are kept).
   * @default QEMU's own for the QEMU boards; for the others, Debian's board DTB that `sel4cp-synth guest` puts in its dtbs/
   */
  boardDtb?: string | FileRef;
  /** Kernel command line. @default a console on the first UART passed through, e.g. "console=ttyAMA0" */
  bootargs?: string;
  /** Guest RAM size. @default the board's guest RAM size (boards/*.json `guest.ramSize`) */
  ram?: Size;
  /**
   * Guest-physical base of guest RAM. @default the board's (`guest.ramBase`); for a guest given a
   * DMA-capable device (boards/*.json `devices[].dma`: ethernet, MMC, USB, virtio-mmio), the
   * physical address its RAM is placed at (guest-physical = physical, as no SMMU translates)
   */
  ramBase?: Address;
  /**
   * Physical address of guest RAM, or 'any' for wherever the Microkit tool puts it (memory seL4
   * owns and clears at boot). @default on boards with memory set aside for guests (QEMU:
   * `kernelReservedRam[].forGuests`), the first free place there, which seL4 never has to clear
   * (the largest start-up cost measured); elsewhere 'any'. A guest given a DMA-capable device gets
   * RAM at guest-physical = physical: the first place in the board's RAM clear of reserved memory,
   * seL4's kernel, the Microkit loader's image and other fixed regions (error
   * vm-dma-ram-unplaceable when there is none, or when ramBase and ramPhysAddr differ)
   */
  ramPhysAddr?: Address | 'any';
  /** Number of vCPUs. @default 1 */
  vcpus?: number;
  /**
   * Microkit 2.3.0 on a multicore (smp-*) configuration: the core of each vCPU, in order.
   * @default vCPU i on core (VMM's core + i) modulo the cores seL4 runs on, so that a guest's
   *   vCPUs run in parallel and its boot vCPU shares the core of its VMM; on one core, the VMM's
   */
  cpus?: number[];
  /** Devices this VM owns. @default [] */
  passthrough?: Passthrough[];
  /**
   * Make this VM a driver VM that forwards for the VMs behind it: its network interfaces — the
   * network cards QEMU attaches to transports passed through to it (qemuNic()) and its ends of
   * netLink()s — are joined in one Linux bridge, `br0`, so the VMs on its links sit on the
   * card's network. sel4cp-synth adds `sel4cp_synth.bridge=MAC,MAC,...` (each interface by its
   * MAC, which the tool assigns) to its kernel command line, and networkSetupScript() in its
   * /init builds the bridge; its initramfs needs the `bridge` module and busybox's `brctl`
   * (NETWORK_APPLETS), else warning[vm-bridge-initramfs]. Needs two interfaces or more
   * (error[vm-bridge-ports]). @default false
   */
  bridge?: boolean;
  /** Devices the VMM emulates for this VM (see emulated()). @default [] */
  emulated?: Emulated[];
  /** virtio devices its VMM plays: virtioConsole(), virtioBlock(); network links are netLink()s in system(). @default [] */
  virtio?: VirtioDevice[];
  /**
   * Further memory regions mapped into the guest (a buffer shared with a PD or another VM), each
   * at its guest-physical address `vaddr`, outside guest RAM and the devices. @default []
   */
  maps?: Mapping[];
  /** The VMM protection domain's settings. Its priority defaults to 254; the VM's to 100. */
  vmm?: VmmOptions;
  /**
   * Store the kernel and initrd gzip-compressed in the VMM's program image; the VMM unpacks them
   * into guest RAM at boot. Microkit 2.0.1 copies all program images into the RAM between the
   * seL4 kernel and its loader, which on some boards (imx8mm_evk: about 13 MiB) is smaller than
   * a distribution kernel. `'auto'` compresses only when the images would not fit there. On
   * Microkit 2.3.0 the images are prefilled in guest RAM instead (never compressed, never copied),
   * and this has no effect.
   * @default 'auto'
   */
  compressImages?: boolean | 'auto';
  /**
   * What a vCPU that idles (WFI, or WFE while a sibling vCPU runs) does. `'block'`: its VMM
   * suspends it until it has something to do (an interrupt, or its virtual timer's deadline,
   * signalled by the system's timer PD), so an idle guest leaves the core to others. `'spin'`:
   * it is resumed at once and keeps its core at the VM's priority (lowest wake-up latency).
   * @default 'block'
   */
  idle?: 'block' | 'spin';
  /**
   * What its VMM does when the guest stops (docs/lifecycle.md). `'never'`: it stays stopped.
   * `'on-failure'`: it is restarted after a failure — a fault its VMM stops it for (an access
   * to no device, an exception it cannot take, a virtio ring it breaks) or a reset it asks for
   * (PSCI SYSTEM_RESET: Linux `reboot`, or a panic with `panic=N` on its command line); a
   * `poweroff` (PSCI SYSTEM_OFF) is a clean stop and stays off. `'always'`: after a power-off too.
   * A restart is a cold boot with nothing of the last incarnation left: guest RAM cleared, the
   * images placed again, every vCPU, the vGIC, the timer and every virtio device reset (a disk
   * keeps what was written); the peers of its network links see the link go down and come back.
   * Each change prints one line: `vmm: [web] restarted after guest fault (...): 2 of 5`.
   * @default 'never'
   */
  restart?: 'never' | 'on-failure' | 'always';
  /**
   * The restart policy's limit: after this many restarts the VM stays stopped ("gave up")
   * until the PD that controls it (control()) starts it again, which starts the count afresh.
   * @default 5
   */
  maxRestarts?: number | 'unlimited';
  /**
   * Milliseconds between the stop and each restart (0 to 60000). The VMM waits on the timer PD,
   * so it needs `idle: 'block'` (the default).
   * @default 0
   */
  backoff?: number;
}

/** The restart policy of a VM (virtualMachine({ restart, maxRestarts, backoff })). */
export interface RestartPolicy {
  readonly policy: 'never' | 'on-failure' | 'always';
  readonly maxRestarts: number | 'unlimited';
  readonly backoffMs: number;
}

export interface VirtualMachine {
  readonly kind: 'virtualMachine';
  readonly name: string;
  /** The VMM protection domain (use it in channels, or pass the VM itself). */
  readonly vmm: ProtectionDomain;
  readonly kernel: FileRef;
  readonly initrd: FileRef | Initramfs | undefined;
  readonly dtb: FileRef | undefined;
  readonly boardDtb: FileRef | undefined;
  readonly bootargs: string | undefined;
  readonly ram: Size | undefined;
  readonly ramBase: Address | undefined;
  readonly ramPhysAddr: Address | 'any' | undefined;
  readonly vcpus: number;
  readonly cpus: readonly number[] | undefined;
  readonly priority: number | undefined;
  readonly budget: number | undefined;
  readonly period: number | undefined;
  readonly passthrough: readonly Passthrough[];
  readonly bridge: boolean;
  readonly emulated: readonly Emulated[];
  readonly virtio: readonly VirtioDevice[];
  readonly maps: readonly Mapping[];
  readonly vmmOptions: VmmOptions;
  readonly compressImages: boolean | 'auto';
  readonly idle: 'block' | 'spin';
  readonly restart: RestartPolicy;
  readonly loc: SourceLocation | undefined;
}

/** restart, maxRestarts and backoff, checked together (a backoff needs the timer PD). */
function checkRestart(what: string, options: VirtualMachineOptions, loc: SourceLocation | undefined): RestartPolicy {
  checkOneOf(`${what} restart`, options.restart, ['never', 'on-failure', 'always'], loc);
  if (options.maxRestarts !== 'unlimited') checkNumber(`${what} maxRestarts`, options.maxRestarts, loc, { optional: true, integer: true, min: 0, max: 0xfffffffe });
  checkNumber(`${what} backoff`, options.backoff, loc, { optional: true, integer: true, min: 0, max: 60000 });
  const policy = options.restart ?? 'never';
  if (policy === 'never' && (options.maxRestarts !== undefined || options.backoff !== undefined)) {
    throw new DslError('bad-argument', `${what}: maxRestarts and backoff apply to a restart policy, and restart is 'never'`,
      "add restart: 'on-failure' (or 'always'), or leave maxRestarts and backoff out", loc);
  }
  const backoffMs = options.backoff ?? 0;
  if (backoffMs > 0 && options.idle === 'spin') {
    throw new DslError('restart-backoff-needs-timer', `${what}: a restart backoff of ${backoffMs} ms needs the timer PD, and idle is 'spin' (the VM has none)`,
      "leave idle at 'block' (the default), or drop backoff", loc);
  }
  return { policy, maxRestarts: options.maxRestarts ?? 5, backoffMs };
}

/** What types cannot catch, at the user's call (check.ts); ranges are validation's. */
function checkVirtualMachineOptions(name: string, options: VirtualMachineOptions, loc: SourceLocation | undefined): void {
  checkString('virtualMachine() name', name, loc);
  const what = `virtualMachine(${JSON.stringify(name)})`;
  checkOptions(what, options, loc, false);
  checkFile(`${what} kernel`, options.kernel, loc, false);
  const initrd: unknown = options.initrd;
  if (!(typeof initrd === 'object' && initrd !== null && (initrd as { kind?: unknown }).kind === 'initramfs')) checkFile(`${what} initrd`, initrd, loc, true);
  checkFile(`${what} dtb`, options.dtb, loc, true);
  checkFile(`${what} boardDtb`, options.boardDtb, loc, true);
  checkString(`${what} bootargs`, options.bootargs, loc, { optional: true });
  checkBoolean(`${what} bridge`, options.bridge, loc);
  checkBigint(`${what} ram`, options.ram, loc, true, 'mib');
  checkBigint(`${what} ramBase`, options.ramBase, loc, true, 'addr');
  if (options.ramPhysAddr !== 'any') checkBigint(`${what} ramPhysAddr`, options.ramPhysAddr, loc, true, 'addr');
  checkNumber(`${what} vcpus`, options.vcpus, loc, { optional: true, integer: true, min: 1 });
  if (options.cpus !== undefined) {
    if (!Array.isArray(options.cpus)) throw new DslError('bad-argument', `${what}: cpus must be an array of core numbers, one per vCPU`, undefined, loc);
    options.cpus.forEach((c, i) => checkNumber(`${what} cpus[${i}]`, c, loc, { integer: true, min: 0 }));
  }
  checkScheduling(what, options, loc);
  checkConstructs(`${what} passthrough`, options.passthrough, ['passthrough'], 'passthrough(...)', loc);
  checkConstructs(`${what} emulated`, options.emulated, ['emulated'], 'emulated(...)', loc);
  checkConstructs(`${what} virtio`, options.virtio, ['virtioConsole', 'virtioBlock'], 'virtioConsole(...) or virtioBlock(...)', loc);
  checkConstructs(`${what} maps`, options.maps, ['map'], 'map(...)', loc);
  checkOptions(`${what} vmm`, options.vmm, loc, true);
  checkString(`${what} vmm name`, options.vmm?.name, loc, { optional: true });
  const compress: unknown = options.compressImages;
  if (compress !== undefined && compress !== true && compress !== false && compress !== 'auto') {
    throw new DslError('bad-argument', `${what}: compressImages must be true, false or 'auto', not ${JSON.stringify(compress)}`, undefined, loc);
  }
  checkOneOf(`${what} idle`, options.idle, ['block', 'spin'], loc);
  checkRestart(what, options, loc);
}

/** A Linux guest and the VMM that runs it; the board decides the addresses. */
export function virtualMachine(name: string, options: VirtualMachineOptions): VirtualMachine {
  const loc = captureLocation();
  checkVirtualMachineOptions(name, options, loc);
  const vmmOptions = options.vmm ?? {};
  const vm: { -readonly [K in keyof VirtualMachine]: VirtualMachine[K] } = {
    kind: 'virtualMachine',
    name,
    vmm: undefined as unknown as ProtectionDomain,
    kernel: toFileRef(options.kernel, loc),
    initrd: options.initrd === undefined ? undefined : typeof options.initrd === 'object' && options.initrd.kind === 'initramfs' ? options.initrd : toFileRef(options.initrd, loc),
    dtb: options.dtb === undefined ? undefined : toFileRef(options.dtb, loc),
    boardDtb: options.boardDtb === undefined ? undefined : toFileRef(options.boardDtb, loc),
    bootargs: options.bootargs,
    ram: options.ram,
    ramBase: options.ramBase,
    ramPhysAddr: options.ramPhysAddr,
    vcpus: options.vcpus ?? 1,
    cpus: options.cpus,
    priority: options.priority,
    budget: options.budget,
    period: options.period,
    passthrough: options.passthrough ?? [],
    bridge: options.bridge ?? false,
    emulated: options.emulated ?? [],
    virtio: options.virtio ?? [],
    maps: options.maps ?? [],
    vmmOptions,
    compressImages: options.compressImages ?? 'auto',
    idle: options.idle ?? 'block',
    restart: checkRestart(`virtualMachine(${JSON.stringify(name)})`, options, loc),
    loc,
  };
  // The VMM's program image is produced by the link step (vmm-<vm>.elf), so it has none here.
  vm.vmm = makeProtectionDomain(vmmOptions.name ?? `${name}_vmm`, {
    priority: vmmOptions.priority,
    budget: vmmOptions.budget,
    period: vmmOptions.period,
    stackSize: vmmOptions.stackSize,
    ...(vmmOptions.cpu !== undefined ? { cpu: vmmOptions.cpu } : {}),
    ...(vmmOptions.domain !== undefined ? { domain: vmmOptions.domain } : {}),
  }, loc, vm);
  return vm;
}
