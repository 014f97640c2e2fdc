// The resolved system: one model for everything after the DSL. A systems.ts is resolved into it,
// an existing .system file is parsed into it, and validation, the emitters and the review tools
// read only this. References between elements are by name, as in the Microkit system
// description format, so that a model parsed from XML and one built from TypeScript compare equal.
import type { SourceLocation } from '../../dsl/location.js';
import type { Board } from '../boards.js';
import type { MicrokitRelease } from '../releases.js';

export type Loc = SourceLocation | undefined;

export type IrqTrigger = 'level' | 'edge';

/** What an element is for, beyond what the .system file says. Lets checks and reviews speak plainly. */
export type RegionRole =
  | { kind: 'user' }
  /** Guest RAM; on Microkit 2.3.0 one of its pieces may hold an image prefilled in place, or be a pristine copy of one for its VMM (guest/prefill.ts). */
  | { kind: 'guest-ram'; vm: string; image?: 'kernel' | 'dtb' | 'initrd' | undefined; pristine?: boolean | undefined }
  | { kind: 'gic-vcpu'; vm: string }
  /** A board device: passed through to `vm`, or, with `virtioConsoleInput`, driven by its VMM as the input of its virtio console. */
  | { kind: 'device'; device: string; vm?: string; virtioConsoleInput?: boolean }
  /** A VMM's wake slot: written by the VMM, read by the timer PD (src/vmm-runtime/include/vmm_wake.h). */
  | { kind: 'wake-slot'; vm: string }
  /** One direction of a network link: written by `from`, read by `to` (docs/net-link.md). */
  | { kind: 'net-link'; link: string; from: string; to: string }
  /** The memory behind a VM's virtio block device, mapped into its VMM only. */
  | { kind: 'virtio-disk'; vm: string; device: string }
  /** The control page of `vm`: its VMM and the PD `by` that controls it (vmm_control.h). */
  | { kind: 'vm-control'; vm: string; by: string };

export interface MemoryRegionModel {
  name: string;
  size: bigint;
  /** As written; undefined means the Microkit default (the smallest page size). */
  pageSize: bigint | undefined;
  physAddr: bigint | undefined;
  /** Declared as shared between several PDs/VMs on purpose (sel4cp-synth only). */
  shared: boolean;
  role: RegionRole;
  /**
   * Microkit 2.3.0 prefill_path: a file whose bytes the region holds at boot. `path` as written
   * (found on the search path); `file` and `bytes` where and how big it is, when it was found.
   */
  prefill?: { path: string; file: string | undefined; bytes: bigint | undefined } | undefined;
  /** Microkit 2.3.0: the size was left to the prefill file (its length rounded up to the page size). */
  sizeFromPrefill?: boolean | undefined;
  /** Microkit 2.3.0 prefill_bootinfo: a boot-information blob the initialiser copies in ('fdt' on AArch64). */
  prefillBootinfo?: string | undefined;
  loc: Loc;
}

export interface MapModel {
  mr: string;
  vaddr: bigint;
  /** Normalised: a subset of "rwx" in that order. */
  perms: string;
  cached: boolean;
  setvarVaddr: string | undefined;
  setvarSize: string | undefined;
  /** Microkit 2.3.0 setvar_prefill_size: the symbol set to the prefill file's length. */
  setvarPrefillSize?: string | undefined;
  loc: Loc;
}

export interface IrqModel {
  irq: number;
  id: number;
  trigger: IrqTrigger;
  /** The board device it belongs to, when known (passthrough). */
  device: string | undefined;
  /** Microkit 2.3.0 setvar_id: the symbol set to the channel id. */
  setvarId?: string | undefined;
  loc: Loc;
}

export interface SetVarModel {
  symbol: string;
  regionPaddr: string;
  loc: Loc;
}

export interface VcpuModel {
  id: number;
  /** Microkit 2.3.0: the core it runs on (default: its VMM's). */
  cpu?: number | undefined;
  /** Microkit 2.3.0 setvar_id on the vcpu (which the 2.3.0 tool does not read: see validate/microkit-2.3.0.ts). */
  setvarId?: string | undefined;
  loc: Loc;
}

/** Microkit 2.3.0 <cspace>: another PD's TCB, scheduling context or VSpace cap in a slot of this PD's CSpace. */
export interface CapMapModel {
  type: 'tcb' | 'sc' | 'vspace';
  pd: string;
  slot: number;
  loc: Loc;
}

/** Microkit 2.3.0 <domains>: the kernel's domain schedule (time partitions) and the PDs' domains. */
export interface DomainsModel {
  domains: { name: string; id: number | undefined; loc: Loc }[];
  schedule: {
    entries: ({ kind: 'entry'; domain: string; duration: bigint; unit: 'us' | 'ticks'; loc: Loc } | { kind: 'end-marker'; loc: Loc })[];
    startIndex: bigint | undefined;
    indexShift: bigint | undefined;
    loc: Loc;
  } | undefined;
  loc: Loc;
}

export interface VirtualMachineModel {
  name: string;
  vcpus: VcpuModel[];
  maps: MapModel[];
  priority: number;
  budget: number;
  period: number;
  loc: Loc;
  /** Read from a seL4 Core Platform file: its vm_id, and the guest images it named (path, load address). */
  sel4cp?: {
    vmId: number | undefined;
    priorityGiven: boolean;
    images: Partial<Record<'kernel' | 'dtb' | 'initrd', { path: string; vaddr: bigint | undefined; loc: Loc }>>;
  };
}

export interface ProtectionDomainModel {
  name: string;
  /** Only for child PDs: the id the parent uses for it. */
  childId: number | undefined;
  priority: number;
  budget: number;
  period: number;
  passive: boolean;
  stackSize: bigint;
  smc: boolean;
  /** As written into the .system file (a path the Microkit tool finds via its search path). */
  programImage: string;
  /** Absolute path of the program image when the model knows it (from systems.ts). */
  programPath: string | undefined;
  /** The program image's loadable segments (virtual ranges), when the file was there to read. */
  programSegments: { vaddr: bigint; size: bigint }[] | undefined;
  /**
   * Built by sel4cp-synth from C sources (absolute paths) against the SDK: `programImage` is
   * `<name>.elf` and `programPath` is set once the build has run.
   */
  programBuild?: { sources: string[]; include: string[]; cflags: string[] } | undefined;
  maps: MapModel[];
  irqs: IrqModel[];
  setvars: SetVarModel[];
  children: ProtectionDomainModel[];
  virtualMachine: VirtualMachineModel | undefined;
  /** Set when sel4cp-synth generated this PD (the VMM of a guest). */
  vmmOf: string | undefined;
  /** Set when sel4cp-synth generated this PD as the timer that wakes idle vCPUs. */
  vmmTimer: boolean;
  /** Microkit 2.3.0: the core the PD runs on. @default 0 */
  cpu?: number | undefined;
  /** Microkit 2.3.0: whether the PD may use the FPU. @default true */
  fpu?: boolean | undefined;
  /** Microkit 2.3.0: the scheduling domain (a name declared in <domains>). */
  domain?: string | undefined;
  /** Microkit 2.3.0 setvar_id on a child PD: the parent's symbol set to the child's id. */
  setvarId?: string | undefined;
  /** Microkit 2.3.0 program_image path_for_symbols: an unstripped ELF to read symbols from. */
  programForSymbols?: string | undefined;
  /** Microkit 2.3.0 <cspace>. */
  capMaps?: CapMapModel[] | undefined;
  loc: Loc;
}

type PdContents = 'maps' | 'irqs' | 'setvars' | 'children' | 'virtualMachine' | 'vmmOf' | 'vmmTimer' | 'programPath' | 'programSegments';

/** A PD with no maps, IRQs, setvars, children or VM yet: the parser and the resolver fill them in. */
export function newProtectionDomain(fields: Omit<ProtectionDomainModel, PdContents> & Partial<Pick<ProtectionDomainModel, PdContents>>): ProtectionDomainModel {
  return {
    maps: [],
    irqs: [],
    setvars: [],
    children: [],
    virtualMachine: undefined,
    vmmOf: undefined,
    vmmTimer: false,
    programPath: undefined,
    programSegments: undefined,
    ...fields,
  };
}

export interface ChannelEndModel {
  pd: string;
  id: number;
  pp: boolean;
  notify: boolean;
  /** Microkit 2.3.0 setvar_id: the PD's symbol set to this end's id. */
  setvarId?: string | undefined;
  loc: Loc;
}

export interface ChannelModel {
  a: ChannelEndModel;
  b: ChannelEndModel;
  loc: Loc;
}

/** Where one image goes in guest RAM (guest-physical). */
export interface GuestImagePlacement {
  /** Absolute path of the source file. */
  path: string;
  gpa: bigint;
  size: bigint;
}

export interface PassthroughIrqModel {
  /** The Microkit channel id on the VMM PD. */
  channel: number;
  /** The guest INTID (equal to the host INTID: interrupts are passed through unchanged). */
  irq: number;
  trigger: IrqTrigger;
}

/**
 * A device QEMU attaches to a virtio-mmio transport passed through to a guest (passthrough's
 * `qemu`). `transport` is QEMU's bus index, `virtio-mmio-bus.N` (the transport at the board's
 * N-th virtio-mmio address), undefined when the device is no virtio-mmio transport.
 */
export type QemuAttachmentModel = { transport: number | undefined; device: string; vm: string; loc: Loc } & (
  | {
    kind: 'nic';
    mac: string;
    forward: { hostPort: number; guestPort: number; guestAddress: string }[];
    hostServices: { port: number; hostPort: number; address: string }[];
  }
  | { kind: 'disk'; file: string; size: bigint | undefined; readOnly: boolean });

/** A Linux guest run by a VMM: what sel4cp-synth adds on top of a bare virtual_machine. */
export interface GuestModel {
  vm: string;
  vmm: string;
  board: string;
  gicVersion: 2 | 3;
  vcpus: number;
  ram: { mr: string; gpa: bigint; size: bigint; vmmVaddr: bigint };
  /** `size` is what goes into guest RAM (a compressed kernel is unpacked); `problem` says why it is not a kernel. */
  kernel: { path: string; size: bigint | undefined; textOffset: bigint | undefined; imageSize: bigint | undefined; problem: string | undefined };
  initrd: { path: string; size: bigint | undefined } | undefined;
  /** The guest device tree the user gave, if any; otherwise one is generated from the board's. */
  dtb: { path: string } | undefined;
  /** The board's own device tree to generate the guest's from, when the user named one. */
  boardDtb: { path: string } | undefined;
  bootargs: string;
  /**
   * Devices passed through. `dma`: the device is a bus master (board `devices[].dma`, or `dma: true`
   * on a hand-described one); Microkit programs no IOMMU, so its DMA reaches all physical memory.
   * `qemu`: what QEMU attaches to it (a QEMU board's virtio-mmio transport).
   */
  passthrough: { device: string; mr: string; gpa: bigint; size: bigint; irqs: PassthroughIrqModel[]; dma: boolean; loc: Loc; qemu?: QemuAttachmentModel | undefined }[];
  /** Devices the VMM plays for this guest: the guest's accesses to [gpa, gpa + size) trap to it. */
  emulated: { device: string; kind: 'pl011'; gpa: bigint; size: bigint; irq: number | undefined; loc: Loc }[];
  /** Devices its VMM plays over virtio-mmio (console, block, the VM's ends of network links). */
  virtio: VirtioDeviceModel[];
  /** Its channels to peers as lines of an emulated PL061 (docs/doorbell.md); undefined without any. */
  doorbells?: DoorbellsModel | undefined;
  /** Regions mapped into the VM with map(): described in its device tree for guest programs. */
  shared?: SharedRegionModel[];
  /** Store kernel and initrd compressed in the VMM: always, never, or when needed to fit below the loader. */
  compressImages: boolean | 'auto';
  /**
   * Keep a pristine copy of kernel, DTB and initrd for placing them again (a restart): on a
   * release with prefilled regions, a read-only prefilled copy mapped into the VMM only
   * (guest/prefill.ts), which also keeps one for a guest with a restart policy or a controller.
   * @default false
   */
  needsPristineImages?: boolean | undefined;
  /** What an idle vCPU (WFI/WFE) does: sleep until it has work (woken through the timer PD), or spin. */
  idle: 'block' | 'spin';
  /** What its VMM does when the guest stops (virtualMachine({ restart, maxRestarts, backoff })). */
  restart?: { policy: 'never' | 'on-failure' | 'always'; maxRestarts: number | 'unlimited'; backoffMs: number } | undefined;
  loc: Loc;
}

/** A PD that may stop, start and restart a VM (control(vm, { by })): a page and a channel. */
export interface VmControlModel {
  vm: string;
  vmm: string;
  /** The controlling protection domain. */
  by: string;
  /** The control page region, its mapping in the VMM (rw) and in the PD (rw, with setvar_vaddr). */
  mr: string;
  vmmMap: MapModel;
  byMap: MapModel;
  channel: ChannelModel;
  loc: Loc;
}

/**
 * A virtio-mmio device (virtio 1.2 §4.2.2): a 4 KiB window of guest-physical space that stays
 * unmapped, so the guest's accesses trap to the VMM, and an SPI the VMM raises in the vGIC.
 */
export interface VirtioDeviceModel {
  /** Unique within the VM: the block device's name, the link's name, or 'console'. */
  name: string;
  kind: 'console' | 'block' | 'net';
  gpa: bigint;
  size: bigint;
  intid: number;
  /** console: the board UART whose input the VMM reads (its region and IRQ go to the VMM). */
  input?: { device: string; mr: string; map: MapModel; irq: IrqModel } | undefined;
  /** block: the image file, the disk region and its mapping in the VMM. */
  disk?: { path: string; size: bigint | undefined; readOnly: boolean; mr: string; map: MapModel } | undefined;
  /** net: the link, this side's MAC, the rings it sends and receives on (mapped in the VMM) and the channel to the peer. */
  net?: { link: string; mac: string; tx: MapModel; rx: MapModel; capacity: number; end: ChannelEndModel } | undefined;
  loc: Loc;
}

/**
 * A VM's doorbells (docs/doorbell.md): one emulated PL061 GPIO controller (a 4 KiB window left
 * unmapped, and an SPI) whose lines carry the VM's channels to native PDs and other VMs.
 */
export interface DoorbellsModel {
  gpa: bigint;
  size: bigint;
  intid: number;
  lines: DoorbellLineModel[];
}

/** One channel of a VM as two PL061 lines. */
export interface DoorbellLineModel {
  /** The other end: a native PD's name, or the VM's at the other end. */
  peer: string;
  /** The VMM's end of the channel (its id is what the VMM is notified on). */
  end: ChannelEndModel;
  /** Output line the guest writes 1 to, to notify the peer; undefined when the VMM's end may not notify. */
  ring: number | undefined;
  /** Input line with a rising edge per notification from the peer. */
  notify: number;
  /** Line names in the guest (gpio-line-names): `<peer>-ring`, `<peer>-notify`, made unique. */
  names: { ring: string; notify: string };
  loc: Loc;
}

/** A region mapped into a VM's guest-physical space by the user (a buffer shared with a peer). */
export interface SharedRegionModel {
  mr: string;
  gpa: bigint;
  size: bigint;
  perms: string;
  /** The PDs and VMs (other than this one) that map it too. */
  peers: string[];
}

/** A network link between two VMs or a VM and a PD: two rings and one channel. */
export interface NetLinkModel {
  name: string;
  /** The PDs at either end: a VMM (of the VM named in `vm`) or a native PD. */
  a: { pd: string; vm: string | undefined };
  b: { pd: string; vm: string | undefined };
  aToB: string;
  bToA: string;
  capacity: number;
  channel: ChannelModel;
  loc: Loc;
}

/** What the SDK's seL4 kernel for the board was built with (its gen_config.json). */
export interface KernelFacts {
  /** ALLOW_SMC_CALLS: PDs may make SMC calls. */
  allowSmc: boolean;
  /** EXPORT_PTMR_USER: the EL1 physical timer is reachable from user level (and from guests at EL1). */
  exportPtimer: boolean;
  /** VTIMER_UPDATE_VOFFSET: the kernel moves a vCPU's CNTVOFF while it is switched out. */
  vtimerUpdateVoffset: boolean;
  /** Cores seL4 runs on: MAX_NUM_NODES when ENABLE_SMP_SUPPORT, else 1 (Microkit 2.3.0 main.rs num_cores). */
  numCores?: number | undefined;
  /** NUM_DOMAINS and NUM_DOMAIN_SCHEDULES: the domain scheduler's limits. */
  numDomains?: number | undefined;
  numDomainSchedules?: number | undefined;
  /** The file these facts come from. */
  source: string;
}

/** Where a timer PD's time comes from (src/vmm-runtime/include/timer_config.h). */
export type TimerSourceKind = 'arm-ptimer' | 'sched-tick';

/** One VMM served by the timer PD. */
export interface VmmTimerClient {
  vm: string;
  vmm: string;
  /** The wake slot region. */
  slotMr: string;
  /** The channel between the VMM and the timer PD. */
  channel: ChannelModel;
  /** The slot's mapping in the VMM (rw) and in the timer PD (r). */
  vmmMap: MapModel;
  timerMap: MapModel;
}

/** The timer PD that sel4cp-synth adds when guests block while idle. */
export interface VmmTimerModel {
  pd: string;
  source: TimerSourceKind;
  /** arm-ptimer: the board's EL1 physical timer PPI, as an IRQ of the timer PD. */
  irq: IrqModel | undefined;
  /** sched-tick: the PD's period, in µs (its deadline resolution). */
  tickUs: number | undefined;
  clients: VmmTimerClient[];
  loc: Loc;
}

export interface SystemModel {
  name: string;
  /** The file the model came from (systems.ts or .system). */
  file: string;
  source: 'typescript' | 'xml';
  /** The system() call or the <system> element. */
  loc: Loc;
  board: Board | undefined;
  /** The Microkit release the system is for: the SDK's VERSION, or --microkit, or the default, resolved once when the model is built. */
  microkit: MicrokitRelease;
  /** The kernel configuration it is built with (debug, release; 2.3.0 also smp-debug, smp-release). @default 'debug' */
  config?: string | undefined;
  /** What the SDK's seL4 kernel for this board allows, when an SDK was there to read. */
  kernel?: KernelFacts | undefined;
  /** Microkit 2.3.0 <domains>. */
  domains?: DomainsModel | undefined;
  memoryRegions: MemoryRegionModel[];
  /** Root PDs, each with its children. */
  protectionDomains: ProtectionDomainModel[];
  channels: ChannelModel[];
  guests: GuestModel[];
  /** Network links (systems.ts only; their regions and channel are in the lists above). */
  links?: NetLinkModel[] | undefined;
  /** The timer PD, when some guest blocks while idle (systems.ts only). */
  vmmTimer?: VmmTimerModel | undefined;
  /** PDs that control VMs (systems.ts only; their regions, maps and channels are in the lists above). */
  controls?: VmControlModel[] | undefined;
  /** The isolation policy the system is checked against (system({ policy }) or check --policy). */
  policy?: PolicyModel | undefined;
}

/** The policy as declared (src/dsl/policy.ts): names of principals and trust domains. */
export interface PolicyModel {
  domains: readonly { name: string; members: readonly string[]; loc: Loc }[];
  rules: readonly (
    | { kind: 'allow'; from: readonly string[]; to: readonly string[]; flowKinds: readonly string[] | undefined; loc: Loc }
    | { kind: 'only'; to: string; from: readonly string[]; loc: Loc }
  )[];
  infrastructure: 'allow' | 'check';
  loc: Loc;
  /**
   * Another policy that applies as well (`check --policy FILE` beside the one a systems.ts
   * declares): a flow must be allowed by this policy and by that one. Never replaces.
   */
  alongside?: PolicyModel | undefined;
}

/** Every PD, children after their parent, in document order (as the Microkit tool numbers them). */
export function allProtectionDomains(system: Pick<SystemModel, 'protectionDomains'>): ProtectionDomainModel[] {
  const out: ProtectionDomainModel[] = [];
  const walk = (pd: ProtectionDomainModel): void => {
    out.push(pd);
    pd.children.forEach(walk);
  };
  system.protectionDomains.forEach(walk);
  return out;
}

/** A PD or a VM: both map memory regions. */
export interface MappingContext {
  kind: 'protection domain' | 'virtual machine';
  name: string;
  maps: MapModel[];
  loc: Loc;
  pd: ProtectionDomainModel;
}

export function mappingContexts(system: Pick<SystemModel, 'protectionDomains'>): MappingContext[] {
  const out: MappingContext[] = [];
  for (const pd of allProtectionDomains(system)) {
    out.push({ kind: 'protection domain', name: pd.name, maps: pd.maps, loc: pd.loc, pd });
    if (pd.virtualMachine) {
      const vm = pd.virtualMachine;
      out.push({ kind: 'virtual machine', name: vm.name, maps: vm.maps, loc: vm.loc, pd });
    }
  }
  return out;
}
