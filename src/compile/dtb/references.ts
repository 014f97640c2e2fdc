/**
 * Which nodes a node refers to by phandle. The Devicetree Specification leaves property meaning to
 * bindings, so this knows the common consumer properties of the Linux bindings: a list of
 * `<phandle args...>` whose argument count is the provider's `#<kind>-cells`, a plain list of
 * phandles, or a single phandle.
 */
import type { FdtNode } from './fdt.js';
import { decodeU32Array, propU32 } from './props.js';
import type { NodeRef } from './tree.js';

export interface PhandleReference {
  /** The property holding the reference. */
  prop: string;
  phandle: number;
  /** The node it points at, or undefined when no node has that phandle. */
  target: NodeRef | undefined;
}

/** Property → the provider's cells property (`<phandle args...>` lists). */
const SPECIFIER_LISTS: Record<string, string> = {
  clocks: '#clock-cells',
  'assigned-clocks': '#clock-cells',
  'assigned-clock-parents': '#clock-cells',
  resets: '#reset-cells',
  'power-domains': '#power-domain-cells',
  dmas: '#dma-cells',
  phys: '#phy-cells',
  iommus: '#iommu-cells',
  mboxes: '#mbox-cells',
  pwms: '#pwm-cells',
  'interrupts-extended': '#interrupt-cells',
  'io-channels': '#io-channel-cells',
  'thermal-sensors': '#thermal-sensor-cells',
  'sound-dai': '#sound-dai-cells',
  'nvmem-cells': '#nvmem-cell-cells',
};

/** Properties that are lists of phandles without arguments. */
const PHANDLE_LISTS = new Set([
  'interrupt-parent',
  'next-level-cache',
  'memory-region',
  'operating-points-v2',
  'cpu-idle-states',
  'cpu',
  'msi-parent',
  'sram',
  'fsl,stop-mode',
  'syscon',
]);

function kindOf(prop: string): { cells: string } | 'list' | undefined {
  if (prop.startsWith('pinctrl-') && /^pinctrl-\d+$/.test(prop)) return 'list';
  if (prop.endsWith('-supply')) return 'list';
  if (PHANDLE_LISTS.has(prop)) return 'list';
  const cells = SPECIFIER_LISTS[prop];
  if (cells) return { cells };
  if (prop === 'gpios' || prop.endsWith('-gpios') || prop.endsWith('-gpio')) return { cells: '#gpio-cells' };
  return undefined;
}

/**
 * The phandle references of a node's known consumer properties. Decoding a specifier list
 * stops at a phandle that no node has, since its argument count is then unknown; a phandle of 0
 * is an empty entry (used in `assigned-clock-parents`) and is skipped.
 */
export function phandleReferences(node: FdtNode, index: Map<number, NodeRef>): PhandleReference[] {
  const out: PhandleReference[] = [];
  for (const prop of node.props) {
    const kind = kindOf(prop.name);
    if (!kind || prop.value.length % 4 !== 0) continue;
    const cells = decodeU32Array(prop.value);
    if (kind === 'list') {
      for (const ph of cells) if (ph !== 0) out.push({ prop: prop.name, phandle: ph, target: index.get(ph) });
      continue;
    }
    for (let i = 0; i < cells.length; ) {
      const ph = cells[i]!;
      if (ph === 0) {
        i += 1;
        continue;
      }
      const target = index.get(ph);
      out.push({ prop: prop.name, phandle: ph, target });
      if (!target) break;
      let args: number | undefined;
      try {
        args = propU32(target.node, kind.cells);
      } catch {
        args = undefined;
      }
      // A missing #interrupt-cells or #gpio-cells is malformed; #clock-cells etc. default to 0.
      i += 1 + (args ?? 0);
    }
  }
  return out;
}
