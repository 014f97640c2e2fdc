// virtio devices and network links, built from the low-level elements like guests are: a
// console's input UART (its region and IRQ go to the VMM), a block device's disk region (mapped
// into the VMM only), and for each netLink() two rings (one per direction, written by one end
// and read by the other; docs/net-link.md) and one channel between its ends. Each VM's devices
// get a 4 KiB virtio-mmio window after its RAM (left unmapped, so accesses trap to the VMM) and
// an SPI above every interrupt of the board, so they never meet a device passed through.
import type { System } from '../../dsl/system.js';
import type { VirtualMachine } from '../../dsl/vm.js';
import type { NetLink, NetLinkEndpoint } from '../../dsl/virtio.js';
import { findBoardDevice, type Board } from '../boards.js';
import { error } from '../diagnostics/index.js';
import type { ChannelEndModel, GuestModel, Loc, MapModel, NetLinkModel, ProtectionDomainModel, VirtioDeviceModel } from '../model/index.js';
import type { Resolution } from './index.js';
import { PAGE_4K } from './ids.js';
import { netLinkRegionSize } from '../abi/net-link.js';
import { VMM_CONFIG_VIRTIO_WINDOW } from '../abi/vmm-config.js';

/** virtio 1.2 §4.2.2: the register layout ends at 0x100 + the device's config space; one page each (vmm_config.h). */
export const VIRTIO_WINDOW_SIZE = BigInt(VMM_CONFIG_VIRTIO_WINDOW);
/** The windows start at the first 64 KiB boundary after guest RAM. */
const VIRTIO_WINDOWS_ALIGN = 0x10000n;
/** Linux's virtio_blk works in 512-byte sectors (virtio 1.2 §5.2.6). */
export const VIRTIO_SECTOR = 512n;

function pageRound(v: bigint): bigint {
  return (v + PAGE_4K - 1n) / PAGE_4K * PAGE_4K;
}

function vmmMap(mr: string, perms: string, loc: Loc, setvarVaddr?: string): MapModel {
  return { mr, vaddr: 0n, perms, cached: true, setvarVaddr, setvarSize: undefined, loc };
}

/** The console's input UART: mapped uncached into the VMM, its IRQ on a channel of the VMM. */
function consoleInput(r: Resolution, vm: VirtualMachine, vmm: ProtectionDomainModel, board: Board, name: string, loc: Loc): VirtioDeviceModel['input'] {
  const device = findBoardDevice(board, name);
  if (!device || device.kind !== 'uart' || !device.compatible.includes('arm,pl011')) {
    r.diagnostics.push(error('virtio-console-input-unsupported', device
      ? `virtioConsole() of '${vm.name}': the VMM reads input from PL011 UARTs, and '${device.name}' is ${device.compatible[0] ?? device.kind}`
      : `virtioConsole() of '${vm.name}': board '${board.name}' has no UART '${name}'`, loc, {
      hint: `give input: a PL011 of the board (${board.devices.filter((d) => d.compatible.includes('arm,pl011')).map((d) => d.name).join(', ') || 'none on this board'}), or input: false`,
    }));
    return undefined;
  }
  const region = r.generatedRegion({ name: device.name, size: pageRound(device.size), pageSize: undefined, physAddr: device.paddr, shared: false, role: { kind: 'device', device: device.name, vm: vm.name, virtioConsoleInput: true }, loc });
  const map: MapModel = { ...vmmMap(region.name, 'rw', loc), cached: false };
  vmm.maps.push(map);
  r.autoVaddr(vmm, map, region.size, PAGE_4K);
  const line = device.irqs[0];
  const irq = r.irq(vmm, { kind: 'irq', irq: line?.irq ?? 0, id: undefined, trigger: line?.trigger ?? 'level', setvarId: undefined, loc }, device.name);
  vmm.irqs.push(irq);
  return { device: device.name, mr: region.name, map, irq };
}

function blockDisk(r: Resolution, vm: VirtualMachine, vmm: ProtectionDomainModel, d: Extract<VirtualMachine['virtio'][number], { kind: 'virtioBlock' }>): VirtioDeviceModel['disk'] {
  const size = r.input.images.get(d.image.path)?.size;
  if (size !== undefined && (size === 0n || size % VIRTIO_SECTOR !== 0n)) {
    r.diagnostics.push(error('virtio-disk-size', `disk image of virtioBlock('${d.name}') in '${vm.name}' is ${size} bytes, not a positive multiple of 512`, d.loc, {
      hint: `pad it to whole sectors: truncate -s %512 ${d.image.path}`,
    }));
  }
  const region = r.generatedRegion({
    name: `${vm.name}_${d.name}_disk`,
    size: pageRound(size ?? PAGE_4K),
    pageSize: undefined,
    physAddr: undefined,
    shared: false,
    role: { kind: 'virtio-disk', vm: vm.name, device: d.name },
    loc: d.loc,
  });
  const map = vmmMap(region.name, 'rw', d.loc);
  vmm.maps.push(map);
  r.autoVaddr(vmm, map, region.size, PAGE_4K);
  return { path: d.image.path, size, readOnly: d.readOnly, mr: region.name, map };
}

/** The console and block devices of one VM (its network devices come with the links). */
export function virtioDevicesOf(r: Resolution, vm: VirtualMachine, vmm: ProtectionDomainModel, board: Board): VirtioDeviceModel[] {
  const out: VirtioDeviceModel[] = [];
  for (const d of vm.virtio) {
    const base = { gpa: 0n, size: VIRTIO_WINDOW_SIZE, intid: 0, loc: d.loc };
    if (d.kind === 'virtioConsole') {
      const input = d.input !== undefined ? consoleInput(r, vm, vmm, board, d.input, d.loc) : undefined;
      out.push({ ...base, name: 'console', kind: 'console', input });
    } else {
      out.push({ ...base, name: d.name, kind: 'block', disk: blockDisk(r, vm, vmm, d) });
    }
  }
  return out;
}

/** A locally administered unicast MAC (IEEE 802 bit 1 of the first octet set, bit 0 clear), from the link and side. */
export function defaultMac(link: string, side: 0 | 1): string {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(link, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  const octets = [0x02, 0x53, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff, side + 1];
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

interface LinkSide { pd: ProtectionDomainModel; vm: string | undefined; guest: GuestModel | undefined; id: number | undefined }

function linkSide(r: Resolution, link: NetLink, e: NetLinkEndpoint): LinkSide | undefined {
  const target = e.kind === 'end' ? e.pd : e;
  const pd = r.pdOf(target);
  const id = e.kind === 'end' ? e.id : undefined;
  const vm = target.kind === 'virtualMachine' ? target.name : undefined;
  if (!pd) {
    const name = target.kind === 'virtualMachine' ? target.name : target.name;
    r.diagnostics.push(error('net-link-unknown-end', `netLink('${link.name}'): '${name}' is not part of the system`, link.loc, {
      notes: [{ message: `'${name}' is declared here`, location: target.loc }],
      hint: 'add it to system({ protectionDomains: [...] }) or system({ virtualMachines: [...] })',
    }));
    return undefined;
  }
  const guest = vm !== undefined ? r.guests.find((g) => g.vm === vm) : undefined;
  if (vm !== undefined && !guest) return undefined; // no board: reported once for the VM
  return { pd, vm, guest, id };
}

function linkEnd(r: Resolution, side: LinkSide, other: string, loc: Loc): ChannelEndModel {
  const end: ChannelEndModel = { pd: side.pd.name, id: side.id ?? -1, pp: false, notify: true, loc };
  if (side.id === undefined) r.autoChannelId(side.pd, `network link to '${other}'`, loc, (id) => { end.id = id; });
  return end;
}

function addLink(r: Resolution, link: NetLink): NetLinkModel | undefined {
  const a = linkSide(r, link, link.a);
  const b = linkSide(r, link, link.b);
  if (!a || !b) return undefined;
  if (a.pd === b.pd) {
    r.diagnostics.push(error('net-link-loop', `netLink('${link.name}') connects '${a.pd.name}' to itself`, link.loc, { hint: 'a link joins two different VMs, or a VM and a PD' }));
    return undefined;
  }
  if (!a.guest && !b.guest) {
    r.diagnostics.push(error('net-link-no-vm', `netLink('${link.name}') joins two native PDs; a link has a virtual machine on at least one side`, link.loc, {
      hint: 'between native PDs, use memoryRegion() + channel() directly',
    }));
    return undefined;
  }
  const size = netLinkRegionSize(link.capacity);
  const ring = (from: LinkSide, to: LinkSide, dir: string): string => r.generatedRegion({
    name: `${link.name}_${dir}`, size, pageSize: undefined, physAddr: undefined, shared: true,
    role: { kind: 'net-link', link: link.name, from: from.pd.name, to: to.pd.name }, loc: link.loc,
  }).name;
  const aToB = ring(a, b, 'a_to_b');
  const bToA = ring(b, a, 'b_to_a');
  const channel = { a: linkEnd(r, a, b.pd.name, link.loc), b: linkEnd(r, b, a.pd.name, link.loc), loc: link.loc };
  r.channels.push(channel);
  for (const [side, tx, rx, end, index] of [[a, aToB, bToA, channel.a, 0], [b, bToA, aToB, channel.b, 1]] as const) {
    // Both ends write both rings: the sender its buffers and head, the receiver the free queue.
    const txMap = vmmMap(tx, 'rw', link.loc, side.guest ? undefined : `${link.name}_tx`);
    const rxMap = vmmMap(rx, 'rw', link.loc, side.guest ? undefined : `${link.name}_rx`);
    side.pd.maps.push(txMap, rxMap);
    r.autoVaddr(side.pd, txMap, size, PAGE_4K);
    r.autoVaddr(side.pd, rxMap, size, PAGE_4K);
    const mac = link.macs?.[index] ?? defaultMac(link.name, index);
    side.guest?.virtio.push({ name: link.name, kind: 'net', gpa: 0n, size: VIRTIO_WINDOW_SIZE, intid: 0, net: { link: link.name, mac, tx: txMap, rx: rxMap, capacity: link.capacity, end }, loc: link.loc });
  }
  return { name: link.name, a: { pd: a.pd.name, vm: a.vm }, b: { pd: b.pd.name, vm: b.vm }, aToB, bToA, capacity: link.capacity, channel, loc: link.loc };
}

/** Every netLink() of the system; then each guest's virtio devices get their windows and SPIs. */
export function addNetLinks(r: Resolution, system: System, board: Board | undefined): NetLinkModel[] {
  const links = system.links.flatMap((l) => addLink(r, l) ?? []);
  if (board) for (const g of r.guests) placeVirtioDevices(g, board);
  return links;
}

/** Windows after guest RAM, SPIs above the board's interrupts, in declaration order; then the doorbells' SPI. */
export function placeVirtioDevices(guest: GuestModel, board: Board): void {
  const ramEnd = guest.ram.gpa + guest.ram.size;
  const first = (ramEnd + VIRTIO_WINDOWS_ALIGN - 1n) / VIRTIO_WINDOWS_ALIGN * VIRTIO_WINDOWS_ALIGN;
  const spiBase = Math.max(31, ...board.devices.flatMap((d) => d.irqs.map((q) => q.irq))) + 1;
  guest.virtio.forEach((d, i) => {
    d.gpa = first + BigInt(i) * VIRTIO_WINDOW_SIZE;
    d.intid = spiBase + i;
  });
  // The doorbells' PL061 (resolve/doorbells.ts) takes the next SPI; its window, the first page
  // after these that nothing else of the VM's occupies (placeDoorbells).
  if (guest.doorbells) {
    guest.doorbells.gpa = first + BigInt(guest.virtio.length) * VIRTIO_WINDOW_SIZE;
    guest.doorbells.intid = spiBase + guest.virtio.length;
  }
}
