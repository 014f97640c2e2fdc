/**
 * Writing what a Linux guest needs to know at boot into its device tree: `/chosen` (initrd range,
 * bootargs) and `/memory` (the guest RAM). Linux reads these in `early_init_dt_scan_chosen` and
 * `early_init_dt_scan_memory` (drivers/of/fdt.c); the property names and node shapes are the
 * Devicetree Specification v0.4, 3.4 (/memory) and 3.6 (/chosen).
 */
import { cloneFdt, DtbError, type Fdt, type FdtNode } from './fdt.js';
import { cellsValue, deleteProp, propString, setProp, stringValue } from './props.js';
import { addNode, addressCells, findChild, sizeCells } from './tree.js';

export interface LinuxBootInfo {
  /** The initrd's guest-physical range, `end` exclusive (as `linux,initrd-end` is). Absent: any stale range is removed. */
  initrd?: { start: bigint; end: bigint };
  /** The kernel command line. Absent: the tree's own `bootargs` (if any) is kept. */
  bootargs?: string;
  /** Guest RAM; at least one range. */
  memory: { base: bigint; size: bigint }[];
}

/**
 * A copy of the tree with the boot information written in: `/chosen` created when missing,
 * `linux,initrd-start`/`linux,initrd-end` set (or removed), `bootargs` set, `stdout-path` left as
 * it is, and every memory node replaced by one `/memory@<base>` holding all RAM ranges in the
 * root's `#address-cells`/`#size-cells`.
 *
 * The initrd addresses are always written as 64-bit (two-cell) values. Linux reads them with
 * `of_read_number(prop, len / 4)`, so one or two cells both work, and two cells are needed above
 * 4 GiB anyway. A fixed width also keeps the blob's size independent of where the initrd lands,
 * so the DTB size used to compute the placement is the size of the final DTB.
 *
 * The input tree is not modified; the result carries no source layout (it is written compactly).
 */
export function injectLinuxBoot(tree: Fdt, info: LinuxBootInfo): Fdt {
  const out = cloneFdt(tree);
  const root = out.root;

  const chosen = findChild(root, 'chosen') ?? addNode(root, 'chosen');
  if (info.initrd) {
    const { start, end } = info.initrd;
    if (end < start) {
      throw new DtbError('dt-bad-initrd', `initrd range [0x${start.toString(16)}, 0x${end.toString(16)}) ends before it starts`);
    }
    setProp(chosen, 'linux,initrd-start', cellsValue([[start, 2]]));
    setProp(chosen, 'linux,initrd-end', cellsValue([[end, 2]]));
  } else {
    // A range left over from the source tree would point Linux at whatever is there now.
    deleteProp(chosen, 'linux,initrd-start');
    deleteProp(chosen, 'linux,initrd-end');
  }
  if (info.bootargs !== undefined) setProp(chosen, 'bootargs', stringValue(info.bootargs));

  replaceMemory(root, info.memory);
  return out;
}

function isMemoryNode(node: FdtNode): boolean {
  if (node.name === 'memory' || node.name.startsWith('memory@')) return true;
  try {
    return propString(node, 'device_type') === 'memory';
  } catch {
    return false;
  }
}

function replaceMemory(root: FdtNode, memory: LinuxBootInfo['memory']): void {
  const first = memory[0];
  if (!first) throw new DtbError('dt-no-memory', 'the guest has no RAM to describe in /memory');
  for (const m of memory) {
    if (m.size <= 0n) throw new DtbError('dt-bad-memory', `memory range at 0x${m.base.toString(16)} has size ${m.size}`);
  }
  const ac = addressCells(root);
  const sc = sizeCells(root);
  let index = root.children.findIndex(isMemoryNode);
  if (index < 0) {
    const chosenAt = root.children.findIndex((c) => c.name === 'chosen');
    index = chosenAt < 0 ? root.children.length : chosenAt + 1;
  }
  root.children = root.children.filter((c) => !isMemoryNode(c));
  let reg: Uint8Array;
  try {
    reg = cellsValue(memory.flatMap((m) => [[m.base, ac] as const, [m.size, sc] as const]));
  } catch (err) {
    if (err instanceof DtbError) {
      throw new DtbError('dt-cells-overflow', `guest RAM does not fit the root's #address-cells = <${ac}> / #size-cells = <${sc}>: ${err.message}`);
    }
    throw err;
  }
  const node = addNode(root, `memory@${first.base.toString(16)}`, index);
  setProp(node, 'device_type', stringValue('memory'));
  setProp(node, 'reg', reg);
}
