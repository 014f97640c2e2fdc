/**
 * Finding nodes and reading addresses in a device tree (Devicetree Specification v0.4: 2.2 paths
 * and unit addresses, 2.3.4 phandle, 2.3.5 #address-cells/#size-cells, 2.3.6 reg, 2.3.8 ranges,
 * 3.3 /aliases).
 */
import { DtbError, type Fdt, type FdtNode } from './fdt.js';
import { cellsToBigint, compatibleOf, getProp, MAX_CELLS, propString, propU32, propU32Array } from './props.js';

/** A node together with its absolute path and its parent, which `reg` and `interrupts` need. */
export interface NodeRef {
  readonly node: FdtNode;
  readonly path: string;
  readonly parent: NodeRef | undefined;
}

export interface RegEntry {
  address: bigint;
  size: bigint;
}

function rootOf(tree: Fdt | FdtNode): FdtNode {
  return 'root' in tree ? tree.root : tree;
}

export function rootRef(tree: Fdt | FdtNode): NodeRef {
  return { node: rootOf(tree), path: '/', parent: undefined };
}

export function childRef(parent: NodeRef, child: FdtNode): NodeRef {
  return { node: child, path: parent.path === '/' ? `/${child.name}` : `${parent.path}/${child.name}`, parent };
}

/** Every node in document order, the root first. */
export function* walkNodes(tree: Fdt | FdtNode): Generator<NodeRef> {
  const stack: NodeRef[] = [rootRef(tree)];
  while (stack.length > 0) {
    const ref = stack.pop()!;
    yield ref;
    for (let i = ref.node.children.length - 1; i >= 0; i--) stack.push(childRef(ref, ref.node.children[i]!));
  }
}

/** The part of a node name before `@`. */
export function baseName(name: string): string {
  const at = name.indexOf('@');
  return at < 0 ? name : name.slice(0, at);
}

/** The unit address after `@`, or undefined. */
export function unitAddress(name: string): string | undefined {
  const at = name.indexOf('@');
  return at < 0 ? undefined : name.slice(at + 1);
}

/**
 * The child called `component`: an exact name match first, else (when `component` has no unit
 * address) the first child whose name without its unit address matches, as dtc and libfdt do.
 */
export function findChild(node: FdtNode, component: string): FdtNode | undefined {
  const exact = node.children.find((c) => c.name === component);
  if (exact || component.includes('@')) return exact;
  return node.children.find((c) => baseName(c.name) === component);
}

/** The `/aliases` entries, name → path. */
export function aliases(tree: Fdt | FdtNode): Map<string, string> {
  const out = new Map<string, string>();
  const node = findChild(rootOf(tree), 'aliases');
  if (!node) return out;
  for (const p of node.props) {
    if (p.name === 'phandle' || p.name === 'linux,phandle') continue;
    const path = propString(node, p.name);
    if (path !== undefined) out.set(p.name, path);
  }
  return out;
}

export function resolveAlias(tree: Fdt | FdtNode, alias: string): string | undefined {
  return aliases(tree).get(alias);
}

/**
 * Finds a node by path: `/soc/serial@30890000`, `/soc/serial` (first unit-address match), or a
 * path starting with an alias (`serial0`, `serial0/child`), as in spec 2.2.3 and 3.3.
 */
export function findNode(tree: Fdt | FdtNode, path: string): NodeRef | undefined {
  let full = path;
  if (!path.startsWith('/')) {
    const slash = path.indexOf('/');
    const alias = slash < 0 ? path : path.slice(0, slash);
    const target = resolveAlias(tree, alias);
    if (target === undefined || !target.startsWith('/')) return undefined;
    full = slash < 0 ? target : `${target}${path.slice(slash)}`;
  }
  let ref = rootRef(tree);
  for (const component of full.split('/')) {
    if (component === '') continue;
    const child = findChild(ref.node, component);
    if (!child) return undefined;
    ref = childRef(ref, child);
  }
  return ref;
}

/** Like `findNode`, but a missing node is a `dt-no-node` error. */
export function getNode(tree: Fdt | FdtNode, path: string): NodeRef {
  const ref = findNode(tree, path);
  if (!ref) throw new DtbError('dt-no-node', `the device tree has no node ${path}`);
  return ref;
}

/** All nodes whose `compatible` list contains the string, in document order. */
export function findCompatible(tree: Fdt | FdtNode, compatible: string): NodeRef[] {
  const out: NodeRef[] = [];
  for (const ref of walkNodes(tree)) if (compatibleOf(ref.node).includes(compatible)) out.push(ref);
  return out;
}

/** A node's phandle (`phandle`, or the older `linux,phandle`). */
export function phandleOf(node: FdtNode): number | undefined {
  return propU32(node, 'phandle') ?? propU32(node, 'linux,phandle');
}

export function findByPhandle(tree: Fdt | FdtNode, phandle: number): NodeRef | undefined {
  for (const ref of walkNodes(tree)) if (phandleOf(ref.node) === phandle) return ref;
  return undefined;
}

/** phandle → node for the whole tree; duplicates are a `dt-duplicate-phandle` error. */
export function phandleIndex(tree: Fdt | FdtNode): Map<number, NodeRef> {
  const out = new Map<number, NodeRef>();
  for (const ref of walkNodes(tree)) {
    const ph = phandleOf(ref.node);
    if (ph === undefined) continue;
    const seen = out.get(ph);
    if (seen) throw new DtbError('dt-duplicate-phandle', `phandle 0x${ph.toString(16)} is used by both ${seen.path} and ${ref.path}`);
    out.set(ph, ref);
  }
  return out;
}

/** `#address-cells` a node gives its children (spec 2.3.5 default 2); throws above MAX_CELLS. */
export function addressCells(node: FdtNode): number {
  return cellCount(node, '#address-cells') ?? 2;
}

/** `#size-cells` a node gives its children (spec 2.3.5 default 1); throws above MAX_CELLS. */
export function sizeCells(node: FdtNode): number {
  return cellCount(node, '#size-cells') ?? 1;
}

/** A `#...-cells` count, refused when larger than any address or size can take (libfdt's check). */
function cellCount(node: FdtNode, name: '#address-cells' | '#size-cells'): number | undefined {
  const n = propU32(node, name);
  if (n !== undefined && n > MAX_CELLS) {
    throw new DtbError('dt-bad-cells', `property "${name}" of node "${node.name === '' ? '/' : node.name}" is ${n}; addresses and sizes take at most ${MAX_CELLS} cells (libfdt FDT_MAX_NCELLS)`);
  }
  return n;
}

/** Splits a cell array into (address, size) pairs; throws when it is not whole entries. */
function decodePairs(cells: number[], ac: number, sc: number, what: string): RegEntry[] {
  const per = ac + sc;
  if (per === 0 || cells.length % per !== 0 || ac > MAX_CELLS || sc > MAX_CELLS) {
    throw new DtbError('dt-bad-reg', `${what} has ${cells.length} cells, not a whole number of <${ac} address, ${sc} size> entries`);
  }
  const out: RegEntry[] = [];
  for (let i = 0; i < cells.length; i += per) {
    out.push({ address: cellsToBigint(cells.slice(i, i + ac)), size: cellsToBigint(cells.slice(i + ac, i + per)) });
  }
  return out;
}

/** `reg` in the node's parent's address space, using the parent's `#address-cells`/`#size-cells`. */
export function readReg(ref: NodeRef): RegEntry[] {
  const cells = propU32Array(ref.node, 'reg');
  if (cells === undefined) return [];
  if (!ref.parent) throw new DtbError('dt-bad-reg', 'the root node has a reg property; there is no parent to give its cells');
  return decodePairs(cells, addressCells(ref.parent.node), sizeCells(ref.parent.node), `reg of ${ref.path}`);
}

/**
 * Translates an address in `ref`'s parent bus to a CPU physical address by walking each bus's
 * `ranges` (spec 2.3.8): an empty `ranges` is identity, a missing one (below the root) means the
 * bus is not memory-mapped, which is a `dt-no-translation` error.
 */
export function translateAddress(ref: NodeRef, address: bigint): bigint {
  let addr = address;
  for (let bus = ref.parent; bus && bus.parent; bus = bus.parent) {
    const ranges = getProp(bus.node, 'ranges');
    if (!ranges) {
      throw new DtbError('dt-no-translation', `${ref.path}: bus ${bus.path} has no ranges, so 0x${address.toString(16)} is not a CPU address`);
    }
    if (ranges.value.length === 0) continue;
    const childAc = addressCells(bus.node);
    const childSc = sizeCells(bus.node);
    const parentAc = addressCells(bus.parent.node);
    const per = childAc + parentAc + childSc;
    const cells = propU32Array(bus.node, 'ranges')!;
    if (per === 0 || cells.length % per !== 0) {
      throw new DtbError('dt-bad-reg', `ranges of ${bus.path} has ${cells.length} cells, not whole <${childAc} ${parentAc} ${childSc}> entries`);
    }
    let mapped: bigint | undefined;
    for (let i = 0; i < cells.length && mapped === undefined; i += per) {
      const child = cellsToBigint(cells.slice(i, i + childAc));
      const parent = cellsToBigint(cells.slice(i + childAc, i + childAc + parentAc));
      const size = cellsToBigint(cells.slice(i + childAc + parentAc, i + per));
      if (addr >= child && addr - child < size) mapped = parent + (addr - child);
    }
    if (mapped === undefined) {
      throw new DtbError('dt-no-translation', `${ref.path}: 0x${addr.toString(16)} is outside every ranges entry of ${bus.path}`);
    }
    addr = mapped;
  }
  return addr;
}

/**
 * The inverse of `translateAddress`: the address in `ref`'s parent bus that a CPU physical address
 * is at, found through each bus's `ranges` from the root down; undefined when a bus does not map it.
 */
export function untranslateAddress(ref: NodeRef, address: bigint): bigint | undefined {
  const buses: NodeRef[] = [];
  for (let bus = ref.parent; bus && bus.parent; bus = bus.parent) buses.unshift(bus);
  let addr = address;
  for (const bus of buses) {
    const ranges = getProp(bus.node, 'ranges');
    if (!ranges) return undefined;
    if (ranges.value.length === 0) continue;
    const childAc = addressCells(bus.node);
    const per = childAc + addressCells(bus.parent!.node) + sizeCells(bus.node);
    const cells = propU32Array(bus.node, 'ranges')!;
    if (per === 0 || cells.length % per !== 0) return undefined;
    let mapped: bigint | undefined;
    for (let i = 0; i < cells.length && mapped === undefined; i += per) {
      const child = cellsToBigint(cells.slice(i, i + childAc));
      const parent = cellsToBigint(cells.slice(i + childAc, i + per - sizeCells(bus.node)));
      const size = cellsToBigint(cells.slice(i + per - sizeCells(bus.node), i + per));
      if (addr >= parent && addr - parent < size) mapped = child + (addr - parent);
    }
    if (mapped === undefined) return undefined;
    addr = mapped;
  }
  return addr;
}

/** `reg` translated to CPU physical addresses. */
export function readRegPhysical(ref: NodeRef): RegEntry[] {
  return readReg(ref).map((r) => ({ address: translateAddress(ref, r.address), size: r.size }));
}

/** Adds an empty child node; a `dt-duplicate-node` error when the name is taken. */
export function addNode(parent: FdtNode, name: string, index = parent.children.length): FdtNode {
  if (name === '' || name.includes('/') || name.includes('\0')) throw new DtbError('dt-bad-node-name', `"${name}" is not a valid node name`);
  if (parent.children.some((c) => c.name === name)) {
    throw new DtbError('dt-duplicate-node', `node "${parent.name || '/'}" already has a child "${name}"`);
  }
  const node: FdtNode = { name, props: [], children: [] };
  parent.children.splice(Math.max(0, Math.min(index, parent.children.length)), 0, node);
  return node;
}

/** Deletes the node at a path (not the root); returns whether it was there. */
export function deleteNode(tree: Fdt | FdtNode, path: string): boolean {
  const ref = findNode(tree, path);
  if (!ref || !ref.parent) return false;
  const siblings = ref.parent.node.children;
  siblings.splice(siblings.indexOf(ref.node), 1);
  return true;
}
