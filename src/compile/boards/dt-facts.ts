// The board facts a Linux device tree holds, read with the project's own FDT code: the GIC
// (Linux Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml and arm,gic-v3.yaml:
// reg is GICD, GICC, GICH, GICV for a GICv2 and GICD, GICR[, GICC, GICH, GICV] for a GICv3; the
// interrupt is the VGIC maintenance interrupt), the architected timer (arm,arch_timer.yaml),
// memory and reserved-memory (Devicetree Specification v0.4 3.4, 3.5), CPUs and /chosen.
import type { Fdt } from '../dtb/fdt.js';
import { gicVersion, readInterrupts } from '../dtb/interrupts.js';
import { compatibleOf, getProp, hasProp, propString, propU32 } from '../dtb/props.js';
import { findNode, readRegPhysical, resolveAlias, walkNodes, type NodeRef, type RegEntry } from '../dtb/tree.js';
import { BoardDeriveError } from './error.js';

export interface DtGic {
  path: string;
  compatible: string;
  version: 2 | 3;
  distributor: RegEntry;
  cpu: RegEntry | undefined;
  hyp: RegEntry | undefined;
  vcpu: RegEntry | undefined;
  redistributor: RegEntry | undefined;
  its: (RegEntry & { path: string }) | undefined;
  maintenanceIrq: number;
  /** The highest SPI INTID any node of the tree uses. */
  maxSpi: number;
}

function stringOr(ref: NodeRef, name: string): string | undefined {
  try {
    return propString(ref.node, name);
  } catch {
    return undefined;
  }
}

/** The GIC, checked for what a virtual machine needs: a virtual CPU interface and a maintenance interrupt. */
export function dtGic(tree: Fdt): DtGic {
  const ref = [...walkNodes(tree)].find((r) => gicVersion(r.node) !== undefined && hasProp(r.node, 'interrupt-controller'));
  if (!ref) throw new BoardDeriveError('gic', 'the device tree has no Arm GIC node (compatible arm,gic-400, arm,cortex-a15-gic, arm,gic-v3, ...)');
  const version = gicVersion(ref.node)!;
  const reg = readRegPhysical(ref);
  const at = `${ref.path} (compatible "${compatibleOf(ref.node)[0]}")`;
  const maint = readInterrupts(tree, ref).find((s) => s.gic?.kind === 'ppi')?.gic?.intid;
  if (version === 2 && reg.length < 4) {
    const names = ['GICD', 'GICC', 'GICH', 'GICV'];
    throw new BoardDeriveError('gic.virtualCpuInterface', `the GICv2 at ${at} has no virtual CPU interface: its reg gives ${names.slice(0, reg.length).join(', ')} but not ${names.slice(reg.length).join(', ')}, so a guest's GICC accesses cannot reach a GICV frame (add the GICH and GICV regions, reg[2] and reg[3], if the GIC has the virtualisation extensions)`);
  }
  if (maint === undefined) {
    throw new BoardDeriveError('gic.maintenanceIrq', `the GIC at ${at} gives no maintenance interrupt (interrupts = <GIC_PPI 9 ...>): the device tree does not describe virtualisation support, which seL4's vGIC needs`);
  }
  if (version === 3 && reg.length < 2) throw new BoardDeriveError('gic.redistributor', `the GICv3 at ${at} has no redistributor region (reg[1])`);
  const itsRef = ref.node.children.map((c) => findNode(tree, `${ref.path}/${c.name}`)!).find((c) => compatibleOf(c.node).includes('arm,gic-v3-its'));
  const its = itsRef ? { ...readRegPhysical(itsRef)[0]!, path: itsRef.path } : undefined;
  return {
    path: ref.path,
    compatible: compatibleOf(ref.node)[0]!,
    version,
    distributor: reg[0]!,
    cpu: version === 2 ? reg[1] : undefined,
    hyp: version === 2 ? reg[2] : undefined,
    vcpu: version === 2 ? reg[3] : undefined,
    redistributor: version === 3 ? reg[1] : undefined,
    its,
    maintenanceIrq: maint,
    maxSpi: maxSpi(tree),
  };
}

function maxSpi(tree: Fdt): number {
  let max = 0;
  for (const r of walkNodes(tree)) {
    try {
      for (const s of readInterrupts(tree, r)) if (s.gic?.kind === 'spi' && s.gic.intid > max) max = s.gic.intid;
    } catch {
      // A node whose interrupts cannot be read does not raise the bound.
    }
  }
  return max;
}

export function dtTimer(tree: Fdt): { path: string; ppis: number[]; clockFrequency: number | undefined } {
  const ref = [...walkNodes(tree)].find((r) => compatibleOf(r.node).some((c) => c === 'arm,armv8-timer' || c === 'arm,armv7-timer'));
  if (!ref) throw new BoardDeriveError('timer', 'the device tree has no architected timer node (compatible arm,armv8-timer)');
  const ppis = readInterrupts(tree, ref).map((s) => s.gic?.intid ?? -1).slice(0, 4);
  if (ppis.length < 4 || ppis.some((p) => p < 16 || p > 31)) throw new BoardDeriveError('timer', `${ref.path} does not give the four timer PPIs (secure, non-secure, virtual, hypervisor)`);
  return { path: ref.path, ppis, clockFrequency: propU32(ref.node, 'clock-frequency') };
}

export function dtCpus(tree: Fdt): { count: number; models: string[] } {
  const cpus = [...walkNodes(tree)].filter((r) => stringOr(r, 'device_type') === 'cpu');
  return { count: Math.max(1, cpus.length), models: cpus.map((c) => (compatibleOf(c.node)[0] ?? '').replace(/^arm,/, '')).filter((m) => m !== '') };
}

/** RAM: every memory node's reg entries with a size (a zero size is left to the boot loader). */
export function dtMemory(tree: Fdt): { ranges: RegEntry[]; paths: string[] } {
  const nodes = [...walkNodes(tree)].filter((r) => r.parent?.path === '/' && stringOr(r, 'device_type') === 'memory');
  const ranges = nodes.flatMap((r) => readRegPhysical(r)).filter((e) => e.size > 0n);
  return { ranges, paths: nodes.map((n) => n.path) };
}

/** The no-map children of /reserved-memory with a reg. */
export function dtReservations(tree: Fdt): (RegEntry & { path: string })[] {
  const parent = findNode(tree, '/reserved-memory');
  if (!parent) return [];
  return parent.node.children
    .map((c) => findNode(tree, `/reserved-memory/${c.name}`)!)
    .filter((r) => hasProp(r.node, 'no-map') && getProp(r.node, 'reg'))
    .flatMap((r) => readRegPhysical(r).filter((e) => e.size > 0n).map((e) => ({ ...e, path: r.path })));
}

/** The node /chosen stdout-path names (an alias or a path, options after ':' dropped). */
export function dtStdout(tree: Fdt): string | undefined {
  const chosen = findNode(tree, '/chosen');
  const value = chosen ? stringOr(chosen, 'stdout-path') : undefined;
  if (!value) return undefined;
  const name = value.split(':')[0]!;
  return name.startsWith('/') ? name : resolveAlias(tree, name);
}

export function dtModel(tree: Fdt): string | undefined {
  try {
    return propString(tree.root, 'model');
  } catch {
    return undefined;
  }
}
