// A Linux guest on a board, built from the low-level elements: guest RAM (mapped into the VM and
// into its VMM), the GIC virtual CPU interface where the guest expects its CPU interface (GICv2;
// a GICv3 guest uses system registers and the VMM emulates distributor and redistributors), and
// each device passed through, mapped at its physical address with its interrupts routed through
// the VMM.
import type { VirtualMachine, Passthrough, DeviceSpec } from '../../dsl/vm.js';
import type { QemuDevice } from '../../dsl/qemu.js';
import { findBoardDevice, type Board, type BoardDevice } from '../boards.js';
import { error } from '../diagnostics/index.js';
import type { GuestModel, MapModel, MemoryRegionModel, PassthroughIrqModel, ProtectionDomainModel, QemuAttachmentModel } from '../model/index.js';
import type { Resolution } from './index.js';
import { PAGE_2M, PAGE_4K } from './ids.js';
import { DEFAULT_BUDGET, GIC } from '../model/facts.js';
import { virtioDevicesOf } from './virtio.js';
import { dmaDevices, dmaRamAddress } from './dma-ram.js';
import { VMM_CONFIG_MAX_VCPUS } from '../abi/vmm-config.js';

export const DEFAULT_VMM_PRIORITY = 254;
export const DEFAULT_VM_PRIORITY = 100;
export const DEFAULT_VMM_STACK = 0x4000n;
/** GICv2 GICV: the CPU interface is 8 KiB (GICC_DIR sits at 0x1000; IHI0048B 4.1.3). */
const GICV2_VCPU_INTERFACE_SIZE = GIC.v2CpuInterfaceSize;

function pageRound(v: bigint): bigint {
  return (v + PAGE_4K - 1n) / PAGE_4K * PAGE_4K;
}

/** The Linux console device name for a UART, from its compatible string. */
export function linuxConsoleName(device: BoardDevice): string | undefined {
  const compat = device.compatible.join(' ');
  if (compat.includes('arm,pl011')) return 'ttyAMA0';
  if (compat.includes('amlogic,meson')) return 'ttyAML0';
  if (/fsl,imx\w*-uart/.test(compat)) {
    const n = /(\d+)$/.exec(device.name);
    return `ttymxc${n ? Math.max(0, Number(n[1]) - 1) : 0}`;
  }
  return undefined;
}

function deviceFromSpec(spec: DeviceSpec): BoardDevice {
  return {
    name: spec.name,
    kind: 'device',
    compatible: [],
    paddr: spec.paddr,
    size: spec.size,
    irqs: (spec.irqs ?? []).map((q) => (typeof q === 'number' ? { irq: q, trigger: 'level' as const } : { irq: q.irq, trigger: q.trigger ?? 'level' })),
    dtPath: undefined,
    console: false,
    dma: spec.dma ?? false,
  };
}

export function expandGuest(r: Resolution, vm: VirtualMachine, vmm: ProtectionDomainModel, board: Board): GuestModel | undefined {
  const budget = vm.budget ?? DEFAULT_BUDGET;
  vmm.vmmOf = vm.name;
  vmm.programImage = `vmm-${vm.name}.elf`;
  vmm.priority = vm.vmmOptions.priority ?? DEFAULT_VMM_PRIORITY;
  vmm.stackSize = vm.vmmOptions.stackSize ?? DEFAULT_VMM_STACK;

  const { ram, vmMaps } = guestRam(r, vm, vmm, board);
  vmMaps.push(...gicVcpuInterface(r, vm, board));
  const passthrough = passthroughDevices(r, vm, vmm, board, vmMaps);
  const emulatedDevices = emulatedDevicesOf(r, vm, board);
  const virtio = virtioDevicesOf(r, vm, vmm, board);
  // The user's own guest-physical mappings (shared buffers): validated like a bare VM's.
  for (const m of vm.maps) vmMaps.push(r.mapping(vmm, m, true));

  vmm.virtualMachine = {
    name: vm.name,
    // Beyond what one VMM runs, validation says so once (vm-too-many-vcpus), not once per id.
    vcpus: Array.from({ length: Math.max(0, Math.min(vm.vcpus, VMM_CONFIG_MAX_VCPUS)) }, (_, id) => {
      const cpu = vcpuCore(vm, id, vmm.cpu ?? 0, r.input.numCores ?? 1);
      return { id, ...(cpu !== undefined ? { cpu } : {}), loc: vm.loc };
    }),
    maps: vmMaps,
    priority: vm.priority ?? DEFAULT_VM_PRIORITY,
    budget,
    period: vm.period ?? budget,
    loc: vm.loc,
  };

  const firstUart = [...passthrough, ...emulatedDevices]
    .map((p) => board.devices.find((d) => d.name === p.device))
    .find((d): d is NonNullable<typeof d> => d !== undefined && d.kind === 'uart');
  const consoleName = firstUart ? linuxConsoleName(firstUart) : undefined;
  return {
    vm: vm.name,
    vmm: vmm.name,
    board: board.name,
    gicVersion: board.gic.version,
    vcpus: vm.vcpus,
    ram,
    ...guestImages(r, vm),
    dtb: vm.dtb ? { path: vm.dtb.path } : undefined,
    boardDtb: vm.boardDtb ? { path: vm.boardDtb.path } : undefined,
    bootargs: vm.bootargs ?? (consoleName ? `console=${consoleName}` : ''),
    passthrough,
    emulated: emulatedDevices,
    virtio,
    compressImages: vm.compressImages,
    idle: vm.idle,
    ...(vm.restart.policy !== 'never' ? { restart: { ...vm.restart } } : {}),
    loc: vm.loc,
  };
}

/**
 * The core a vCPU runs on (Microkit 2.3.0 vcpu cpu): the one the user gave; on a multicore
 * kernel, (VMM's core + i) mod cores, so a guest's vCPUs run in parallel and its boot vCPU
 * shares its VMM's core (the first faults of a boot stay on one core); on one core none (the
 * tool's default, the VMM's core).
 */
function vcpuCore(vm: VirtualMachine, id: number, vmmCore: number, cores: number): number | undefined {
  const given = vm.cpus?.[id];
  if (given !== undefined) return given;
  return cores > 1 ? (vmmCore + id) % cores : undefined;
}

/**
 * Where guest RAM goes physically: the address given; else, on a board with memory set aside for
 * guests (outside seL4's RAM, so a device untyped seL4 never clears: its boot-time clearing of
 * the untypeds guest RAM comes from was most of the start-up, bench/startup.ts), the first place
 * there no other guest or region takes; else wherever the Microkit tool allocates it.
 */
function guestRamPhysAddr(r: Resolution, vm: VirtualMachine, size: bigint, board: Board): bigint | undefined {
  if (vm.ramPhysAddr === 'any') return undefined;
  if (vm.ramPhysAddr !== undefined) return vm.ramPhysAddr;
  const align = size % PAGE_2M === 0n ? PAGE_2M : PAGE_4K;
  const taken = r.memoryRegions.filter((m) => m.physAddr !== undefined).map((m) => ({ start: m.physAddr!, end: m.physAddr! + m.size }));
  for (const block of board.kernelReservedRam.filter((b) => b.forGuests)) {
    for (let at = (block.base + align - 1n) / align * align; at + size <= block.base + block.size;) {
      const clash = taken.find((t) => at < t.end && t.start < at + size);
      if (!clash) return at;
      at = (clash.end + align - 1n) / align * align;
    }
  }
  return undefined;
}

/** Guest RAM: one region, mapped into the VM at its base and into the VMM (which loads the images). */
function guestRam(r: Resolution, vm: VirtualMachine, vmm: ProtectionDomainModel, board: Board): { ram: GuestModel['ram']; vmMaps: MapModel[] } {
  const ramSize = vm.ram ?? board.guest.ramSize;
  // A bus master passed through needs guest-physical = physical RAM (dma-ram.ts).
  const dma = dmaDevices(vm, board);
  const identity = dma.length > 0 ? dmaRamAddress(r, vm, ramSize, board, dma) : undefined;
  const ramBase = identity ?? vm.ramBase ?? board.guest.ramBase;
  const region = r.generatedRegion({
    name: `${vm.name}_guest_ram`,
    size: ramSize,
    pageSize: ramSize % PAGE_2M === 0n ? PAGE_2M : undefined,
    physAddr: identity ?? guestRamPhysAddr(r, vm, ramSize, board),
    shared: false,
    role: { kind: 'guest-ram', vm: vm.name },
    loc: vm.loc,
  });
  const vmMaps: MapModel[] = [
    { mr: region.name, vaddr: ramBase, perms: 'rwx', cached: true, setvarVaddr: undefined, setvarSize: undefined, loc: vm.loc },
  ];
  const vmmRamMap: MapModel = { mr: region.name, vaddr: 0n, perms: 'rw', cached: true, setvarVaddr: undefined, setvarSize: undefined, loc: vm.loc };
  vmm.maps.push(vmmRamMap);
  r.autoVaddr(vmm, vmmRamMap, ramSize, region.pageSize ?? PAGE_4K);
  const ram: GuestModel['ram'] = { mr: region.name, gpa: ramBase, size: ramSize, vmmVaddr: 0n };
  r.afterAllocation(() => { ram.vmmVaddr = vmmRamMap.vaddr; });
  return { ram, vmMaps };
}

/** GICv2: the virtual CPU interface where the guest expects its CPU interface (GICv3 uses system registers). */
function gicVcpuInterface(r: Resolution, vm: VirtualMachine, board: Board): MapModel[] {
  if (board.gic.version !== 2) return [];
  const vcpuIf = board.gic.virtualCpuInterface;
  const guestGicc = board.guest.gicCpuInterface;
  if (!vcpuIf || guestGicc === undefined) {
    r.diagnostics.push(error('board-gic-incomplete', `board '${board.name}' is GICv2 but does not give the virtual CPU interface and the guest's GICC address`, vm.loc, {
      hint: `add gic.virtualCpuInterface and guest.gicCpuInterface to ${board.file}`,
    }));
    return [];
  }
  // One region for all guests: the GICV frame is banked per CPU and seL4 switches the vGIC
  // state with the vCPU, so every VM maps the same physical frame (Microkit forbids two
  // regions over one physical range).
  const gicv = r.generatedRegion({
    name: 'gic_vcpu',
    size: vcpuIf.size < GICV2_VCPU_INTERFACE_SIZE ? vcpuIf.size : GICV2_VCPU_INTERFACE_SIZE,
    pageSize: undefined,
    physAddr: vcpuIf.paddr,
    shared: true,
    role: { kind: 'gic-vcpu', vm: vm.name },
    loc: vm.loc,
  });
  return [{ mr: gicv.name, vaddr: guestGicc, perms: 'rw', cached: false, setvarVaddr: undefined, setvarSize: undefined, loc: vm.loc }];
}

/** Each device passed through: its registers mapped uncached into the VM, its IRQs to the VMM. */
function passthroughDevices(r: Resolution, vm: VirtualMachine, vmm: ProtectionDomainModel, board: Board, vmMaps: MapModel[]): GuestModel['passthrough'] {
  const out: GuestModel['passthrough'] = [];
  // Devices whose registers share pages (QEMU's virtio-mmio transports: eight to a 4 KiB page)
  // given to one VM share the one region and mapping: seL4 maps whole pages.
  const pages = new Map<string, MemoryRegionModel>();
  for (const p of vm.passthrough) {
    const resolved = passthroughDevice(r, p, board, vm, pages);
    if (!resolved) continue;
    const { device, region, shared } = resolved;
    const gpa = p.gpa ?? device.paddr;
    if (!shared) vmMaps.push({ mr: region.name, vaddr: gpa - (gpa % PAGE_4K), perms: 'rw', cached: false, setvarVaddr: undefined, setvarSize: undefined, loc: p.loc });
    const irqs: PassthroughIrqModel[] = [];
    if (p.irqs) {
      device.irqs.forEach((q, i) => {
        const irqModel = r.irq(vmm, { kind: 'irq', irq: q.irq, id: p.ids?.[i], trigger: q.trigger, setvarId: undefined, loc: p.loc }, device.name);
        vmm.irqs.push(irqModel);
        const entry: PassthroughIrqModel = { channel: irqModel.id, irq: q.irq, trigger: q.trigger };
        irqs.push(entry);
        // The channel id may be allocated later: copy it once ids are final.
        r.afterAllocation(() => { entry.channel = irqModel.id; });
      });
    }
    out.push({ device: device.name, mr: region.name, gpa, size: region.size, irqs, dma: device.dma, loc: p.loc, ...(p.qemu ? { qemu: qemuAttachment(r, p.qemu, device, board, vm) } : {}) });
  }
  return out;
}

/**
 * What QEMU attaches to a transport, with the bus QEMU names it by: QEMU's virt machine creates
 * its virtio-mmio transports in address order and names their buses `virtio-mmio-bus.N`, N
 * counting from the lowest address (QEMU 7.2 `info qtree`: bus 3 is the transport at
 * 0x0a000600). A device that is no virtio-mmio transport gets none (validate/qemu.ts says so).
 */
function qemuAttachment(r: Resolution, q: QemuDevice, device: BoardDevice, board: Board, vm: VirtualMachine): QemuAttachmentModel {
  const transports = board.devices.filter((d) => d.compatible.includes('virtio,mmio')).sort((a, b) => (a.regPaddr < b.regPaddr ? -1 : a.regPaddr > b.regPaddr ? 1 : 0));
  const index = transports.findIndex((d) => d.name === device.name);
  const transport = index < 0 ? undefined : index;
  const common = { transport, device: device.name, vm: vm.name, loc: q.loc };
  if (q.kind === 'qemu-disk') return { ...common, kind: 'disk', file: q.file.path, size: r.input.images.get(q.file.path)?.size, readOnly: q.readOnly };
  // Locally administered (bit 1 of the first octet), one per transport: a transport is attached once per system.
  const mac = q.mac ?? `02:51:00:00:00:${(transport ?? 0xff).toString(16).padStart(2, '0')}`;
  return { ...common, kind: 'nic', mac, forward: q.forward.map((f) => ({ ...f })), hostServices: q.hostServices.map((s) => ({ ...s })) };
}

/** Devices the VMM plays (PL011s): their windows stay unmapped so that guest accesses trap. */
function emulatedDevicesOf(r: Resolution, vm: VirtualMachine, board: Board): GuestModel['emulated'] {
  const out: GuestModel['emulated'] = [];
  for (const e of vm.emulated) {
    const device = findBoardDevice(board, e.device);
    if (!device) {
      r.diagnostics.push(error('emulated-unknown-device', `board '${board.name}' has no device '${e.device}' to emulate for '${vm.name}'`, e.loc, {
        hint: `known devices: ${board.devices.map((d) => d.name).join(', ') || 'none'}`,
      }));
      continue;
    }
    if (!device.compatible.includes('arm,pl011')) {
      r.diagnostics.push(error('emulated-unsupported', `the VMM cannot emulate device '${device.name}' (${device.compatible[0] ?? device.kind}); it emulates PL011 UARTs`, e.loc, {
        hint: 'pass the device through instead: passthrough(name)',
      }));
      continue;
    }
    out.push({ device: device.name, kind: 'pl011', gpa: device.paddr, size: pageRound(device.size), irq: device.irqs[0]?.irq, loc: e.loc });
  }
  return out;
}

/** What the load stage learnt about the kernel and initrd files (or where an initramfs() was packed). */
function guestImages(r: Resolution, vm: VirtualMachine): Pick<GuestModel, 'kernel' | 'initrd'> {
  const kernelFacts = r.input.images.get(vm.kernel.path);
  const initrdPath = vm.initrd === undefined ? undefined
    : vm.initrd.kind === 'initramfs' ? r.input.initramfsPaths?.get(vm.initrd) ?? `<initramfs declared at ${vm.initrd.loc?.file ?? '?'}:${vm.initrd.loc?.line ?? '?'}>`
      : vm.initrd.path;
  const initrdFacts = initrdPath !== undefined ? r.input.images.get(initrdPath) : undefined;
  return {
    kernel: {
      path: vm.kernel.path,
      size: kernelFacts?.size,
      textOffset: kernelFacts?.linux?.textOffset,
      imageSize: kernelFacts?.linux?.imageSize,
      problem: kernelFacts?.problem,
    },
    initrd: initrdPath !== undefined ? { path: initrdPath, size: initrdFacts?.size } : undefined,
  };
}

function passthroughDevice(r: Resolution, p: Passthrough, board: Board, vm: VirtualMachine, pages: Map<string, MemoryRegionModel>): { device: BoardDevice; region: MemoryRegionModel; shared: boolean } | undefined {
  let device: BoardDevice | undefined;
  if (typeof p.device === 'string') {
    device = findBoardDevice(board, p.device);
    if (!device) {
      r.diagnostics.push(error('passthrough-unknown-device', `board '${board.name}' has no device '${p.device}' to pass through to '${vm.name}'`, p.loc, {
        hint: `known devices: ${board.devices.map((d) => d.name).join(', ') || 'none'}; or describe it: passthrough({ name, paddr: addr(...), size: kib(4), irqs: [...] })`,
      }));
      return undefined;
    }
  } else {
    device = deviceFromSpec(p.device);
  }
  const physAddr = device.paddr - (device.paddr % PAGE_4K);
  const size = pageRound(device.paddr - physAddr + device.size);
  const at = p.gpa ?? device.paddr;
  const key = `${physAddr}+${size}@${at - (at % PAGE_4K)}`;
  const same = pages.get(key);
  if (same) return { device, region: same, shared: true };
  const region = r.generatedRegion({
    name: device.name,
    size,
    pageSize: undefined,
    physAddr,
    shared: false,
    role: { kind: 'device', device: device.name, vm: vm.name },
    loc: p.loc,
  });
  pages.set(key, region);
  return { device, region, shared: false };
}
