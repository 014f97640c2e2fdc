/**
 * Interrupts in a device tree (Devicetree Specification v0.4, 2.4: `interrupts`,
 * `interrupt-parent`, `interrupts-extended`, `#interrupt-cells`) and the Arm GIC's 3-cell
 * specifier (Linux Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml and
 * arm,gic-v3.yaml).
 */
import { DtbError, type Fdt, type FdtNode } from './fdt.js';
import { compatibleOf, getProp, propU32, propU32Array } from './props.js';
import { findByPhandle, type NodeRef } from './tree.js';

export type GicKind = 'spi' | 'ppi' | 'espi' | 'eppi';

export interface GicInterrupt {
  kind: GicKind;
  /** The number in the specifier (SPI n, PPI n). */
  number: number;
  /** The interrupt ID the GIC uses: SPI n → 32 + n, PPI n → 16 + n (Arm GIC architecture 2.2.1). */
  intid: number;
  /** From the flags cell, bits [3:0]: 1/2 edge, 4/8 level, 0 unspecified. */
  trigger: 'edge' | 'level' | 'unspecified';
  flags: number;
}

export interface InterruptSpec {
  /** The interrupt controller the specifier belongs to. */
  controller: NodeRef;
  cells: number[];
  /** Set when the controller is an Arm GIC. */
  gic?: GicInterrupt;
}

const GIC_COMPATIBLES = new Set([
  'arm,gic-v3',
  'arm,gic-400',
  'arm,cortex-a15-gic',
  'arm,cortex-a9-gic',
  'arm,cortex-a7-gic',
  'arm,cortex-a5-gic',
  'arm,arm11mp-gic',
  'arm,eb11mp-gic',
  'arm,tc11mp-gic',
  'arm,pl390',
  'arm,arm1176jzf-devchip-gic',
  'qcom,msm-qgic2',
]);

/** The GIC architecture version a node's `compatible` names, or undefined for other nodes. */
export function gicVersion(node: FdtNode): 2 | 3 | undefined {
  const compat = compatibleOf(node);
  if (compat.includes('arm,gic-v3')) return 3;
  return compat.some((c) => GIC_COMPATIBLES.has(c)) ? 2 : undefined;
}

/**
 * Decodes a GIC specifier: cell 0 is the type (0 SPI, 1 PPI, 2 extended SPI, 3 extended PPI),
 * cell 1 the number, cell 2 the flags. Extended ranges start at INTID 4096 and 1056 (GICv3.1).
 */
export function decodeGicSpecifier(cells: readonly number[]): GicInterrupt {
  if (cells.length < 3) throw new DtbError('dt-bad-interrupts', `a GIC interrupt specifier needs 3 cells, got ${cells.length}`);
  const [type, number, flags] = cells as [number, number, number];
  const bases: Record<number, [GicKind, number, number]> = {
    0: ['spi', 32, 988],
    1: ['ppi', 16, 16],
    2: ['espi', 4096, 1024],
    3: ['eppi', 1056, 64],
  };
  const entry = bases[type];
  if (!entry) throw new DtbError('dt-bad-interrupts', `GIC interrupt type ${type} is none of SPI (0), PPI (1), ESPI (2), EPPI (3)`);
  const [kind, base, count] = entry;
  if (number >= count) throw new DtbError('dt-bad-interrupts', `${kind.toUpperCase()} ${number} is out of range (0..${count - 1})`);
  const sense = flags & 0xf;
  const trigger = sense & 0x3 ? 'edge' : sense & 0xc ? 'level' : 'unspecified';
  return { kind, number, intid: base + number, trigger, flags };
}

function refForPhandle(tree: Fdt | FdtNode, phandle: number, from: NodeRef, prop: string): NodeRef {
  const ref = findByPhandle(tree, phandle);
  if (!ref) throw new DtbError('dt-bad-phandle', `${prop} of ${from.path} refers to phandle 0x${phandle.toString(16)}, which no node has`);
  return ref;
}

/**
 * The interrupt parent of a node, as Linux's `of_irq_find_parent` finds it: follow
 * `interrupt-parent` where present, else go to the tree parent, until a node with
 * `#interrupt-cells`. A cycle is a `dt-loop` error.
 */
export function interruptParent(tree: Fdt | FdtNode, ref: NodeRef): NodeRef | undefined {
  const seen = new Set<FdtNode>();
  let cur: NodeRef | undefined = ref;
  do {
    if (seen.has(cur.node)) throw new DtbError('dt-loop', `interrupt-parent links starting at ${ref.path} form a loop through ${cur.path}`);
    seen.add(cur.node);
    const ph = propU32(cur.node, 'interrupt-parent');
    cur = ph === undefined ? cur.parent : refForPhandle(tree, ph, cur, 'interrupt-parent');
  } while (cur && !getProp(cur.node, '#interrupt-cells'));
  return cur;
}

function specifier(controller: NodeRef, cells: number[]): InterruptSpec {
  const spec: InterruptSpec = { controller, cells };
  if (gicVersion(controller.node) !== undefined) spec.gic = decodeGicSpecifier(cells);
  return spec;
}

function interruptCells(controller: NodeRef, from: NodeRef): number {
  const n = propU32(controller.node, '#interrupt-cells');
  if (n === undefined || n === 0 || n > 8) {
    throw new DtbError('dt-bad-interrupts', `interrupt controller ${controller.path} (used by ${from.path}) has #interrupt-cells ${n ?? 'missing'}`);
  }
  return n;
}

/**
 * A node's interrupts, from `interrupts-extended` (each entry names its controller) or else from
 * `interrupts` with the interrupt parent's `#interrupt-cells`.
 */
export function readInterrupts(tree: Fdt | FdtNode, ref: NodeRef): InterruptSpec[] {
  const extended = propU32Array(ref.node, 'interrupts-extended');
  if (extended !== undefined) {
    const out: InterruptSpec[] = [];
    for (let i = 0; i < extended.length; ) {
      const controller = refForPhandle(tree, extended[i]!, ref, 'interrupts-extended');
      const n = interruptCells(controller, ref);
      if (i + 1 + n > extended.length) throw new DtbError('dt-bad-interrupts', `interrupts-extended of ${ref.path} ends inside an entry`);
      out.push(specifier(controller, extended.slice(i + 1, i + 1 + n)));
      i += 1 + n;
    }
    return out;
  }
  const cells = propU32Array(ref.node, 'interrupts');
  if (cells === undefined) return [];
  const controller = interruptParent(tree, ref);
  if (!controller) throw new DtbError('dt-no-interrupt-parent', `${ref.path} has interrupts but no interrupt parent`);
  const n = interruptCells(controller, ref);
  if (cells.length % n !== 0) {
    throw new DtbError('dt-bad-interrupts', `interrupts of ${ref.path} has ${cells.length} cells, not a multiple of ${controller.path}'s #interrupt-cells ${n}`);
  }
  const out: InterruptSpec[] = [];
  for (let i = 0; i < cells.length; i += n) out.push(specifier(controller, cells.slice(i, i + n)));
  return out;
}

/**
 * A device's interrupts as the GIC sees them, each INTID once (a node may list one twice, as
 * zynqmp's GEMs do for the wake-up line). The i.MX8M GPC (fsl,imx8mq-gpc) stands between devices
 * and the GIC and takes the GIC's own 3-cell specifier, which it passes on unchanged (Linux
 * drivers/irqchip/irq-imx-gpcv2.c); other controllers' interrupts are left out.
 */
export function deviceGicInterrupts(tree: Fdt | FdtNode, ref: NodeRef): GicInterrupt[] {
  const out: GicInterrupt[] = [];
  for (const s of readInterrupts(tree, ref)) {
    const gic = s.gic ?? (compatibleOf(s.controller.node).some((c) => /^fsl,imx8m[a-z]*-gpc$/.test(c)) ? decodeGicSpecifier(s.cells) : undefined);
    if (gic && !out.some((q) => q.intid === gic.intid)) out.push(gic);
  }
  return out;
}
