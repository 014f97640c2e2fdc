// The devices of a board's device tree that a system may pass through: nodes of a known kind (by
// the generic node names of the Devicetree Specification v0.4 2.2.2, or by compatible where a
// tree uses other names, as QEMU's does), with their registers as pages and as reg gives them, and
// their GIC SPIs. DMA-capable kinds (ethernet, MMC, USB controllers and virtio-mmio transports) are
// marked: no SMMU translates for them, so a guest given one needs guest-physical = physical RAM.
import type { Fdt } from '../dtb/fdt.js';
import { deviceGicInterrupts } from '../dtb/interrupts.js';
import { compatibleOf, propString } from '../dtb/props.js';
import { aliases, baseName, findNode, readRegPhysical, unitAddress, walkNodes, type NodeRef } from '../dtb/tree.js';

export interface DerivedRegion {
  paddr: bigint;
  size: bigint;
  regPaddr: bigint;
  regSize: bigint;
}

export interface DerivedDevice extends DerivedRegion {
  name: string;
  /** Where the name came from (a label given by hand, an alias, the node name). */
  nameFrom: string;
  kind: string;
  compatible: string[];
  extraRegions: DerivedRegion[];
  irqs: { irq: number; trigger: 'level' | 'edge' }[];
  dtPath: string;
  status: 'okay' | 'disabled';
  dma: boolean;
  console: boolean;
}

const BY_COMPATIBLE: Record<string, string> = {
  'arm,pl011': 'uart',
  'arm,pl031': 'rtc',
  'arm,pl061': 'gpio',
  'virtio,mmio': 'virtio',
};
const BY_NODE_NAME: Record<string, string> = {
  serial: 'uart',
  mmc: 'mmc',
  ethernet: 'ethernet',
  usb: 'usb',
  watchdog: 'watchdog',
  rtc: 'rtc',
};
/** Kinds that are bus masters: they read and write RAM at the addresses a driver gives them. */
export const DMA_KINDS: ReadonlySet<string> = new Set(['ethernet', 'mmc', 'usb', 'virtio']);

export function deviceKind(ref: NodeRef): string | undefined {
  for (const c of compatibleOf(ref.node)) if (BY_COMPATIBLE[c]) return BY_COMPATIBLE[c];
  return BY_NODE_NAME[baseName(ref.node.name)];
}

const PAGE = 0x1000n;

function region(address: bigint, size: bigint): DerivedRegion {
  const paddr = address / PAGE * PAGE;
  const end = (address + (size > 0n ? size : 1n) + PAGE - 1n) / PAGE * PAGE;
  return { paddr, size: end - paddr, regPaddr: address, regSize: size };
}

function status(ref: NodeRef): 'okay' | 'disabled' {
  let s: string | undefined;
  try {
    s = propString(ref.node, 'status');
  } catch {
    s = undefined;
  }
  return s === undefined || s === 'okay' || s === 'ok' ? 'okay' : 'disabled';
}

export interface DeviceOptions {
  maxIrq: number;
  /** Names by DT path (Linux DTS labels). */
  labels: Record<string, string>;
  /** Only these DT paths, in this order. */
  only?: string[] | undefined;
  /** The console: the UART with registers at paddr, or the node at path. */
  console?: { paddr: bigint } | { path: string } | undefined;
}

/** A node's SPIs (interrupts.ts deviceGicInterrupts), as INTIDs with level or edge. */
function gicSpis(tree: Fdt, ref: NodeRef): { irq: number; trigger: 'level' | 'edge' }[] {
  return deviceGicInterrupts(tree, ref).filter((g) => g.kind === 'spi').map((g) => ({ irq: g.intid, trigger: g.trigger === 'edge' ? 'edge' : 'level' }));
}

/** One device, or undefined when the node cannot be a passthrough device (no CPU address, no SPI). */
function device(tree: Fdt, ref: NodeRef, kind: string, maxIrq: number): Omit<DerivedDevice, 'name' | 'nameFrom' | 'console'> | undefined {
  let regs;
  let irqs;
  try {
    regs = readRegPhysical(ref).map((r) => region(r.address, r.size));
    irqs = gicSpis(tree, ref);
  } catch {
    return undefined;
  }
  if (regs.length === 0 || irqs.length === 0 || irqs.some((q) => q.irq > maxIrq)) return undefined;
  return { ...regs[0]!, kind, compatible: compatibleOf(ref.node), extraRegions: regs.slice(1), irqs, dtPath: ref.path, status: status(ref), dma: DMA_KINDS.has(kind) };
}

/** The devices of the tree: `only` in its order, else every device of a known kind in address order. */
export function dtDevices(tree: Fdt, options: DeviceOptions): DerivedDevice[] {
  const refs = options.only
    ? options.only.map((p) => {
      const ref = findNode(tree, p);
      if (!ref) throw new Error(`boards overrides: the device tree has no node ${p}`);
      return ref;
    })
    : [...walkNodes(tree)].filter((r) => deviceKind(r) !== undefined);
  const byPath = new Map([...aliases(tree)].filter(([a]) => /^[a-z]+\d+$/.test(a)).map(([a, p]) => [p, a]));
  const out: DerivedDevice[] = [];
  const names = new Set<string>();
  for (const ref of refs) {
    const kind = deviceKind(ref);
    const d = kind ? device(tree, ref, kind, options.maxIrq) : undefined;
    if (!d) {
      if (options.only) throw new Error(`boards overrides: ${ref.path} is not a device with registers and SPIs up to ${options.maxIrq}`);
      continue;
    }
    const c = options.console;
    const isConsole = c !== undefined && kind === 'uart' && ('paddr' in c ? d.regPaddr === c.paddr : ref.path === c.path);
    const [name, nameFrom] = deviceName(ref, options.labels, byPath, names);
    names.add(name);
    out.push({ ...d, name, nameFrom, console: isConsole });
  }
  if (!options.only) out.sort((a, b) => Number(b.console) - Number(a.console) || (a.paddr < b.paddr ? -1 : a.paddr > b.paddr ? 1 : 0));
  return out;
}

function deviceName(ref: NodeRef, labels: Record<string, string>, byPath: Map<string, string>, taken: Set<string>): [string, string] {
  const label = labels[ref.path];
  if (label) return [label, 'the Linux DTS label (boards/overrides)'];
  const alias = byPath.get(ref.path);
  if (alias && !taken.has(alias)) return [alias, `the DTB's alias ${alias}`];
  const base = `${baseName(ref.node.name)}_${unitAddress(ref.node.name) ?? ''}`.replace(/[^A-Za-z0-9_]/g, '_').replace(/_+$/, '');
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}_${i}`;
  return [name, 'the node name'];
}
