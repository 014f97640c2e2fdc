/**
 * Writes an `Fdt` as a version 17 flattened device tree blob (Devicetree Specification v0.4,
 * chapter 5).
 *
 * Two layouts:
 * - `compact`, what `dtc -O dtb` writes: header, memory reservation block at offset 40, structure
 *   block, strings block, no free space. Property names go into the strings block in the order
 *   the structure walk first needs them, and a name that already occurs in the block, even as the
 *   tail of a longer name ("phandle" inside "linux,phandle"), reuses that occurrence.
 * - `preserve`, for trees read from a blob: the blocks keep their order, the gaps between them and
 *   the free space at the end, and the strings block starts as the one read, so names keep their
 *   offsets. A tree written back unchanged is byte-identical to the blob it came from.
 */
import {
  DtbError,
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER_SIZE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_MAX_DEPTH,
  FDT_PROP,
  FDT_VERSION,
  type Fdt,
  type FdtNode,
  type FdtProp,
  sourcePadding,
} from './fdt.js';

export interface WriteFdtOptions {
  /** @default 'preserve' when the tree carries a source layout, else 'compact' */
  layout?: 'preserve' | 'compact';
}

const encoder = new TextEncoder();

/** A growable big-endian byte buffer. */
class ByteSink {
  private buf = new Uint8Array(1024);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  u32(v: number): void {
    this.reserve(4);
    this.dv.setUint32(this.length, v);
    this.length += 4;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Pads to a multiple of four with zeros, or with `fill` when it has exactly the length needed. */
  pad4(fill?: Uint8Array): void {
    const n = (4 - (this.length % 4)) % 4;
    this.reserve(n);
    if (fill && fill.length === n) this.buf.set(fill, this.length);
    else this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** The strings block: first occurrence of `name\0` anywhere in the block, else appended. */
class StringTable {
  private readonly sink = new ByteSink();
  private readonly offsets = new Map<string, number>();

  constructor(initial?: Uint8Array) {
    if (initial) this.sink.bytes(initial);
  }

  offsetOf(name: string): number {
    const known = this.offsets.get(name);
    if (known !== undefined) return known;
    const needle = new Uint8Array(encoder.encode(name).length + 1);
    needle.set(encoder.encode(name));
    let offset = indexOfBytes(this.sink.view(), needle);
    if (offset < 0) {
      offset = this.sink.length;
      this.sink.bytes(needle);
    }
    this.offsets.set(name, offset);
    return offset;
  }

  bytes(): Uint8Array {
    return this.sink.view();
  }
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  for (let i = hay.indexOf(first); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function checkName(name: string, what: string, path: string): void {
  if (name.includes('\0')) throw new DtbError('dtb-invalid-tree', `${what} name at ${path} contains a NUL byte`);
}

function writeStructure(root: FdtNode, strings: StringTable, keepPadding: boolean): Uint8Array {
  const sink = new ByteSink();
  const padding = (item: FdtNode | FdtProp): Uint8Array | undefined => (keepPadding ? sourcePadding.get(item) : undefined);
  const walk = (node: FdtNode, path: string, depth: number): void => {
    if (depth >= FDT_MAX_DEPTH) throw new DtbError('dtb-invalid-tree', `nodes are nested more than ${FDT_MAX_DEPTH} deep at ${path}`);
    checkName(node.name, 'node', path);
    sink.u32(FDT_BEGIN_NODE);
    sink.bytes(encoder.encode(node.name));
    sink.bytes(new Uint8Array(1));
    sink.pad4(padding(node));
    for (const prop of node.props) {
      if (prop.name === '') throw new DtbError('dtb-invalid-tree', `property with an empty name in ${path}`);
      checkName(prop.name, 'property', path);
      sink.u32(FDT_PROP);
      sink.u32(prop.value.length);
      sink.u32(strings.offsetOf(prop.name));
      sink.bytes(prop.value);
      sink.pad4(padding(prop));
    }
    for (const child of node.children) {
      if (child.name === '' || child.name.includes('/')) {
        throw new DtbError('dtb-invalid-tree', `child of ${path} has the name "${child.name}", which is empty or contains "/"`);
      }
      walk(child, path === '/' ? `/${child.name}` : `${path}/${child.name}`, depth + 1);
    }
    sink.u32(FDT_END_NODE);
  };
  if (root.name !== '') throw new DtbError('dtb-invalid-tree', `the root node has the name "${root.name}"; it must be empty`);
  walk(root, '/', 0);
  sink.u32(FDT_END);
  return sink.view();
}

function writeReservations(fdt: Fdt): Uint8Array {
  const out = new Uint8Array((fdt.memReserve.length + 1) * 16);
  const dv = new DataView(out.buffer);
  fdt.memReserve.forEach((r, i) => {
    if (r.address < 0n || r.address >= 1n << 64n || r.size < 0n || r.size >= 1n << 64n) {
      throw new DtbError('dtb-invalid-tree', `memory reservation ${i} (0x${r.address.toString(16)}, 0x${r.size.toString(16)}) does not fit in 64 bits`);
    }
    if (r.address === 0n && r.size === 0n) {
      throw new DtbError('dtb-invalid-tree', `memory reservation ${i} is all zero, which would end the reservation list early`);
    }
    dv.setBigUint64(i * 16, r.address);
    dv.setBigUint64(i * 16 + 8, r.size);
  });
  return out;
}

function alignUp(n: number, a: number): number {
  return n + ((a - (n % a)) % a);
}

/** Serialises a tree into a device tree blob. */
export function writeFdt(fdt: Fdt, options: WriteFdtOptions = {}): Uint8Array {
  const layout = options.layout ?? (fdt.layout ? 'preserve' : 'compact');
  const source = layout === 'preserve' ? fdt.layout : undefined;
  const strings = new StringTable(source?.strings);
  const memRsv = writeReservations(fdt);
  const struct = writeStructure(fdt.root, strings, source !== undefined);
  const stringsBlock = strings.bytes();

  type Block = { kind: 'memrsv' | 'struct' | 'strings'; data: Uint8Array; align: number; origOffset: number; origSize: number };
  const blocks: Block[] = [
    { kind: 'memrsv', data: memRsv, align: 8, origOffset: source?.memRsvOffset ?? 0, origSize: source?.memRsvSize ?? 0 },
    { kind: 'struct', data: struct, align: 4, origOffset: source?.structOffset ?? 1, origSize: source?.structSize ?? 0 },
    { kind: 'strings', data: stringsBlock, align: 1, origOffset: source?.stringsOffset ?? 2, origSize: source?.strings.length ?? 0 },
  ];
  blocks.sort((a, b) => a.origOffset - b.origOffset);

  const offsets = new Map<Block['kind'], number>();
  let cursor = FDT_HEADER_SIZE;
  let origEnd = FDT_HEADER_SIZE;
  for (const block of blocks) {
    const gap = source ? Math.max(0, block.origOffset - origEnd) : 0;
    const offset = alignUp(cursor + gap, block.align);
    offsets.set(block.kind, offset);
    cursor = offset + block.data.length;
    origEnd = block.origOffset + block.origSize;
  }
  const totalSize = source ? cursor + Math.max(0, source.totalSize - origEnd) : cursor;

  const out = new Uint8Array(totalSize);
  for (const block of blocks) out.set(block.data, offsets.get(block.kind)!);
  const dv = new DataView(out.buffer);
  const header = [
    FDT_MAGIC,
    totalSize,
    offsets.get('struct')!,
    offsets.get('strings')!,
    offsets.get('memrsv')!,
    FDT_VERSION,
    FDT_LAST_COMP_VERSION,
    fdt.bootCpuidPhys >>> 0,
    stringsBlock.length,
    struct.length,
  ];
  header.forEach((v, i) => dv.setUint32(i * 4, v));
  return out;
}
