/**
 * Reads a flattened device tree blob (Devicetree Specification v0.4, chapter 5) into an `Fdt`.
 *
 * Every offset and length in the blob is checked before it is used: a malformed input ends in a
 * `DtbError` naming the byte offset, never in a RangeError, a crash or a loop that does not end
 * (each step of the structure walk consumes at least four bytes).
 */
import {
  DtbError,
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_HEADER_SIZE,
  FDT_MAGIC,
  FDT_MAX_DEPTH,
  FDT_MAX_TOTAL_SIZE,
  FDT_NOP,
  FDT_PROP,
  FDT_VERSION,
  type Fdt,
  type FdtNode,
  type FdtReservation,
  sourcePadding,
} from './fdt.js';

export interface ReadFdtOptions {
  /** Largest `totalsize` accepted. @default 16 MiB */
  maxTotalSize?: number;
}

/** The raw header fields, spec 5.2. */
export interface FdtHeader {
  magic: number;
  totalSize: number;
  offDtStruct: number;
  offDtStrings: number;
  offMemRsvmap: number;
  version: number;
  lastCompVersion: number;
  bootCpuidPhys: number;
  sizeDtStrings: number;
  sizeDtStruct: number;
}

/** True when the bytes start with the FDT magic. */
export function isFdt(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && view(bytes).getUint32(0) === FDT_MAGIC;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Reads and checks the header; the blocks it points at are checked by `readFdt`. */
export function readFdtHeader(bytes: Uint8Array, options: ReadFdtOptions = {}): FdtHeader {
  const h = headerFields(bytes);
  checkVersionAndSize(h, bytes.length, options.maxTotalSize ?? FDT_MAX_TOTAL_SIZE);
  checkBlockLayout(h);
  return h;
}

/** The header's fields, once the magic and the header's own length are checked. */
function headerFields(bytes: Uint8Array): FdtHeader {
  if (bytes.length < 4) {
    throw new DtbError('dtb-truncated', `device tree blob is ${bytes.length} bytes, too short for its magic`, 0);
  }
  const dv = view(bytes);
  const magic = dv.getUint32(0);
  if (magic !== FDT_MAGIC) {
    throw new DtbError(
      'dtb-bad-magic',
      `not a device tree blob: magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0xd00dfeed`,
      0,
    );
  }
  if (bytes.length < FDT_HEADER_SIZE) {
    throw new DtbError(
      'dtb-truncated',
      `device tree blob is ${bytes.length} bytes, shorter than the ${FDT_HEADER_SIZE}-byte header`,
      bytes.length,
    );
  }
  return {
    magic,
    totalSize: dv.getUint32(4),
    offDtStruct: dv.getUint32(8),
    offDtStrings: dv.getUint32(12),
    offMemRsvmap: dv.getUint32(16),
    version: dv.getUint32(20),
    lastCompVersion: dv.getUint32(24),
    bootCpuidPhys: dv.getUint32(28),
    sizeDtStrings: dv.getUint32(32),
    sizeDtStruct: dv.getUint32(36),
  };
}

/** A version this reader understands, and a `totalsize` within the limit and the bytes given. */
function checkVersionAndSize(h: FdtHeader, length: number, maxTotal: number): void {
  if (h.version < FDT_VERSION || h.lastCompVersion > FDT_VERSION) {
    throw new DtbError(
      'dtb-unsupported-version',
      `device tree blob version ${h.version} (last compatible ${h.lastCompVersion}) is not supported; ` +
        `version ${FDT_VERSION} or a later one compatible with it is required (dtc has written version 17 since 2007)`,
      20,
    );
  }
  if (h.totalSize > maxTotal) {
    throw new DtbError(
      'dtb-too-large',
      `device tree blob claims totalsize ${h.totalSize} bytes, more than the limit of ${maxTotal}`,
      4,
    );
  }
  if (h.totalSize > length) {
    throw new DtbError(
      'dtb-truncated',
      `device tree blob is truncated: header totalsize is ${h.totalSize} bytes but only ${length} are present`,
      length,
    );
  }
  if (h.totalSize < FDT_HEADER_SIZE) {
    throw new DtbError('dtb-bad-header', `header totalsize ${h.totalSize} is smaller than the header itself`, 4);
  }
}

/** The blocks aligned, inside `totalsize`, past the header, and the structure and strings apart. */
function checkBlockLayout(h: FdtHeader): void {
  // Spec 5.3.1: the memory reservation block is 8-byte aligned; 5.4.1: the structure block 4-byte.
  if (h.offMemRsvmap % 8 !== 0) {
    throw new DtbError('dtb-misaligned', `memory reservation block offset 0x${h.offMemRsvmap.toString(16)} is not 8-byte aligned`, 16);
  }
  if (h.offDtStruct % 4 !== 0) {
    throw new DtbError('dtb-misaligned', `structure block offset 0x${h.offDtStruct.toString(16)} is not 4-byte aligned`, 8);
  }
  if (h.sizeDtStruct % 4 !== 0) {
    throw new DtbError('dtb-misaligned', `structure block size ${h.sizeDtStruct} is not a multiple of 4`, 36);
  }
  checkBlock('memory reservation block', h.offMemRsvmap, 0, h.totalSize, 16);
  checkBlock('structure block', h.offDtStruct, h.sizeDtStruct, h.totalSize, 8);
  checkBlock('strings block', h.offDtStrings, h.sizeDtStrings, h.totalSize, 12);
  if (overlaps(h.offDtStruct, h.sizeDtStruct, h.offDtStrings, h.sizeDtStrings)) {
    throw new DtbError(
      'dtb-overlap',
      `structure block [0x${h.offDtStruct.toString(16)}, +${h.sizeDtStruct}) overlaps strings block ` +
        `[0x${h.offDtStrings.toString(16)}, +${h.sizeDtStrings})`,
      h.offDtStrings,
    );
  }
}

function checkBlock(what: string, offset: number, size: number, totalSize: number, field: number): void {
  if (offset < FDT_HEADER_SIZE) {
    throw new DtbError('dtb-overlap', `${what} offset 0x${offset.toString(16)} lies inside the header`, field);
  }
  if (offset + size > totalSize) {
    throw new DtbError(
      'dtb-out-of-bounds',
      `${what} [0x${offset.toString(16)}, +${size}) ends beyond totalsize ${totalSize}`,
      field,
    );
  }
}

function overlaps(a: number, aSize: number, b: number, bSize: number): boolean {
  return aSize > 0 && bSize > 0 && a < b + bSize && b < a + aSize;
}

/** Parses a device tree blob. Throws `DtbError` for anything malformed. */
export function readFdt(bytes: Uint8Array, options: ReadFdtOptions = {}): Fdt {
  const h = readFdtHeader(bytes, options);
  const dv = view(bytes);

  const memReserve = readReservations(dv, h);
  const memRsvSize = (memReserve.length + 1) * 16;
  for (const [off, size, what] of [
    [h.offDtStruct, h.sizeDtStruct, 'structure block'],
    [h.offDtStrings, h.sizeDtStrings, 'strings block'],
  ] as const) {
    if (overlaps(h.offMemRsvmap, memRsvSize, off, size)) {
      throw new DtbError(
        'dtb-overlap',
        `memory reservation block [0x${h.offMemRsvmap.toString(16)}, +${memRsvSize}) overlaps the ${what}`,
        off,
      );
    }
  }

  const strings = bytes.subarray(h.offDtStrings, h.offDtStrings + h.sizeDtStrings);
  const root = readStructure(bytes, dv, h, strings);
  return {
    bootCpuidPhys: h.bootCpuidPhys,
    memReserve,
    root,
    layout: {
      memRsvOffset: h.offMemRsvmap,
      memRsvSize,
      structOffset: h.offDtStruct,
      structSize: h.sizeDtStruct,
      stringsOffset: h.offDtStrings,
      totalSize: h.totalSize,
      strings: copyBytes(strings, 0, strings.length),
    },
  };
}

function readReservations(dv: DataView, h: FdtHeader): FdtReservation[] {
  const out: FdtReservation[] = [];
  // The list ends at its zero entry; it may not run into a block that follows it.
  let limit = h.totalSize;
  let next = 'totalsize';
  for (const [off, size, what] of [
    [h.offDtStruct, h.sizeDtStruct, 'the structure block'],
    [h.offDtStrings, h.sizeDtStrings, 'the strings block'],
  ] as const) {
    if (size > 0 && off >= h.offMemRsvmap && off < limit) {
      limit = off;
      next = what;
    }
  }
  for (let off = h.offMemRsvmap; ; off += 16) {
    if (off + 16 > limit) {
      throw new DtbError(
        next === 'totalsize' ? 'dtb-unterminated-memrsv' : 'dtb-overlap',
        `memory reservation block has no terminating zero entry before ${next}`,
        off,
      );
    }
    const address = dv.getBigUint64(off);
    const size = dv.getBigUint64(off + 8);
    if (address === 0n && size === 0n) return out;
    out.push({ address, size });
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** The NUL-terminated string at `start`, which must end before `end`. */
function cString(bytes: Uint8Array, start: number, end: number): { text: string; next: number } | undefined {
  const nul = bytes.indexOf(0, start);
  if (nul < 0 || nul >= end) return undefined;
  return { text: decoder.decode(bytes.subarray(start, nul)), next: nul + 1 };
}

/** The structure walk's state: the blob, where the structure block ends, and the nodes open. */
interface StructureWalk {
  bytes: Uint8Array;
  dv: DataView;
  h: FdtHeader;
  strings: Uint8Array;
  end: number;
  stack: FdtNode[];
  // Names seen per open node, to reject duplicates (they make paths ambiguous).
  propNames: Set<string>[];
  childNames: Set<string>[];
  root: FdtNode | undefined;
}

function readStructure(bytes: Uint8Array, dv: DataView, h: FdtHeader, strings: Uint8Array): FdtNode {
  const w: StructureWalk = { bytes, dv, h, strings, end: h.offDtStruct + h.sizeDtStruct, stack: [], propNames: [], childNames: [], root: undefined };
  let pos = h.offDtStruct;

  for (;;) {
    if (pos + 4 > w.end) {
      throw new DtbError('dtb-truncated-struct', 'structure block ends without an FDT_END token', pos);
    }
    const token = dv.getUint32(pos);
    const tokenAt = pos;
    pos += 4;
    switch (token) {
      case FDT_NOP:
        break;
      case FDT_BEGIN_NODE:
        pos = readBeginNode(w, pos, tokenAt);
        break;
      case FDT_END_NODE:
        if (!w.stack.pop()) throw new DtbError('dtb-bad-structure', 'FDT_END_NODE without a matching FDT_BEGIN_NODE', tokenAt);
        w.propNames.pop();
        w.childNames.pop();
        break;
      case FDT_PROP:
        pos = readProperty(w, pos, tokenAt);
        break;
      case FDT_END:
        return readEnd(w, pos, tokenAt);
      default:
        throw new DtbError('dtb-bad-token', `unknown structure token 0x${token.toString(16)}`, tokenAt);
    }
  }
}

/** FDT_BEGIN_NODE at `tokenAt`: opens a node (the root, or a child of the open one); returns the next offset. */
function readBeginNode(w: StructureWalk, pos: number, tokenAt: number): number {
  const name = cString(w.bytes, pos, w.end);
  if (!name) throw new DtbError('dtb-unterminated-name', 'node name runs past the end of the structure block', pos);
  const next = align4(name.next);
  if (next > w.end) throw new DtbError('dtb-truncated-struct', 'node name padding runs past the end of the structure block', name.next);
  const namePadding = nonZeroPadding(w.bytes, name.next, next);
  const parent = w.stack[w.stack.length - 1];
  checkNodeName(w, parent, name.text, tokenAt);
  if (w.stack.length >= FDT_MAX_DEPTH) {
    throw new DtbError('dtb-too-deep', `nodes are nested more than ${FDT_MAX_DEPTH} deep`, tokenAt);
  }
  const node: FdtNode = { name: name.text, props: [], children: [] };
  if (namePadding) sourcePadding.set(node, namePadding);
  if (parent) parent.children.push(node);
  else w.root = node;
  w.stack.push(node);
  w.propNames.push(new Set());
  w.childNames.push(new Set());
  return next;
}

/** The root comes once and has an empty name; a child's name is non-empty, without "/", unique. */
function checkNodeName(w: StructureWalk, parent: FdtNode | undefined, name: string, tokenAt: number): void {
  if (!parent) {
    if (w.root) throw new DtbError('dtb-bad-structure', 'a second top-level node follows the root node', tokenAt);
    if (name !== '') throw new DtbError('dtb-bad-structure', `the root node has the name "${name}"; it must be empty`, tokenAt);
    return;
  }
  if (name === '' || name.includes('/')) {
    throw new DtbError('dtb-bad-node-name', `node name "${name}" is empty or contains "/"`, tokenAt + 4);
  }
  const seen = w.childNames[w.childNames.length - 1]!;
  if (seen.has(name)) {
    throw new DtbError('dtb-duplicate-node', `node "${name}" appears twice under the same parent`, tokenAt);
  }
  seen.add(name);
}

/** FDT_PROP at `tokenAt`: a property of the open node, before its children; returns the next offset. */
function readProperty(w: StructureWalk, pos: number, tokenAt: number): number {
  const node = w.stack[w.stack.length - 1];
  if (!node) throw new DtbError('dtb-bad-structure', 'property outside any node', tokenAt);
  if (node.children.length > 0) {
    throw new DtbError('dtb-bad-structure', `property after a child node in "${node.name || '/'}" (spec 5.4.2: properties come first)`, tokenAt);
  }
  if (pos + 8 > w.end) throw new DtbError('dtb-truncated-struct', 'property header runs past the end of the structure block', pos);
  const len = w.dv.getUint32(pos);
  const nameoff = w.dv.getUint32(pos + 4);
  const valueAt = pos + 8;
  if (len > w.end - valueAt) {
    throw new DtbError('dtb-truncated-struct', `property value of ${len} bytes runs past the end of the structure block`, pos);
  }
  const name = propertyName(w, nameoff, valueAt - 4);
  const seen = w.propNames[w.propNames.length - 1]!;
  if (seen.has(name)) {
    throw new DtbError('dtb-duplicate-property', `property "${name}" appears twice in node "${node.name || '/'}"`, tokenAt);
  }
  seen.add(name);
  const prop = { name, value: copyBytes(w.bytes, valueAt, valueAt + len) };
  node.props.push(prop);
  const valueEnd = valueAt + len;
  const next = align4(valueEnd);
  if (next > w.end) throw new DtbError('dtb-truncated-struct', 'property padding runs past the end of the structure block', valueEnd);
  const padding = nonZeroPadding(w.bytes, valueEnd, next);
  if (padding) sourcePadding.set(prop, padding);
  return next;
}

/** The property name at `nameoff` in the strings block (`fieldAt`: where the offset was read). */
function propertyName(w: StructureWalk, nameoff: number, fieldAt: number): string {
  if (nameoff >= w.strings.length) {
    throw new DtbError(
      'dtb-bad-string-offset',
      `property name offset ${nameoff} is outside the ${w.strings.length}-byte strings block`,
      fieldAt,
    );
  }
  const name = cString(w.strings, nameoff, w.strings.length);
  if (!name) {
    throw new DtbError('dtb-unterminated-string', `property name at strings offset ${nameoff} is not NUL-terminated`, w.h.offDtStrings + nameoff);
  }
  if (name.text === '') throw new DtbError('dtb-bad-property-name', 'property with an empty name', fieldAt);
  return name.text;
}

/** FDT_END at `tokenAt`: every node closed, and nothing after it in the structure block. */
function readEnd(w: StructureWalk, pos: number, tokenAt: number): FdtNode {
  if (w.stack.length > 0 || !w.root) {
    throw new DtbError('dtb-bad-structure', `FDT_END with ${w.stack.length} node(s) still open`, tokenAt);
  }
  if (pos !== w.end) {
    throw new DtbError('dtb-bad-structure', `FDT_END is followed by ${w.end - pos} more bytes of structure block`, pos);
  }
  return w.root;
}

/**
 * A copy of a range. Not `bytes.slice()`: on a Node.js Buffer that returns a view, and the tree
 * must not share memory with (or keep alive) the caller's buffer.
 */
function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(bytes.subarray(start, end));
}

function nonZeroPadding(bytes: Uint8Array, start: number, end: number): Uint8Array | undefined {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return copyBytes(bytes, start, end);
  return undefined;
}

function align4(n: number): number {
  return n + ((4 - (n % 4)) % 4);
}
