/**
 * The in-memory form of a flattened device tree (Devicetree Specification v0.4, chapter 5).
 *
 * Nodes and properties keep the order they had in the blob, so a tree read and written back
 * unchanged gives the same bytes.
 */

/** A property: its name and its raw big-endian value bytes. */
export interface FdtProp {
  name: string;
  value: Uint8Array;
}

/** A node: its name (`serial@9000000`; the root's name is empty), properties and children. */
export interface FdtNode {
  name: string;
  props: FdtProp[];
  children: FdtNode[];
}

/** One entry of the memory reservation block (spec 5.3). */
export interface FdtReservation {
  address: bigint;
  size: bigint;
}

/**
 * Where the blocks of the blob this tree was read from sat. The writer uses it to put the blocks
 * back in the same order with the same gaps and trailing free space, and to keep the strings
 * block's order and sharing, which is what makes a round trip byte-exact for blobs from `dtc`
 * and from libfdt users such as QEMU. Trees built or rewritten by this package carry none and
 * are written in `dtc`'s compact layout.
 */
export interface FdtLayout {
  readonly memRsvOffset: number;
  readonly memRsvSize: number;
  readonly structOffset: number;
  readonly structSize: number;
  readonly stringsOffset: number;
  readonly totalSize: number;
  /** The strings block as read, including names no longer used. */
  readonly strings: Uint8Array;
}

export interface Fdt {
  /** Header `boot_cpuid_phys`: the physical id of the boot CPU. */
  bootCpuidPhys: number;
  memReserve: FdtReservation[];
  root: FdtNode;
  layout?: FdtLayout;
}

/**
 * Non-zero padding bytes found after a node name or property value in the source blob, keyed by
 * the node or property object. libfdt edits in place and leaves stale bytes in padding (QEMU's
 * virt DTB has some); writing them back in the `preserve` layout keeps such round trips exact.
 * Internal to the reader and writer: the padding carries no meaning.
 */
export const sourcePadding = new WeakMap<FdtNode | FdtProp, Uint8Array>();

/** Header constants, spec 5.2 and 5.4.1. */
export const FDT_MAGIC = 0xd00dfeed;
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
/** Size of a version 17 header: ten big-endian u32 fields. */
export const FDT_HEADER_SIZE = 40;

export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;

/** Deepest node nesting we accept; real trees stay below 10, the limit stops runaway inputs. */
export const FDT_MAX_DEPTH = 64;
/** Largest blob we accept by default. Linux takes at most 2 MiB on arm64; board DTBs are < 1 MiB. */
export const FDT_MAX_TOTAL_SIZE = 16 * 1024 * 1024;

/** A user-facing device tree error; `code` is stable, `offset` is the byte offset in the blob. */
export class DtbError extends Error {
  readonly code: string;
  readonly offset: number | undefined;
  /** The message without the offset suffix. */
  readonly detail: string;

  constructor(code: string, message: string, offset?: number) {
    super(offset === undefined ? message : `${message} (at byte offset 0x${offset.toString(16)})`);
    this.name = 'DtbError';
    this.code = code;
    this.offset = offset;
    this.detail = message;
  }

  /** The same error with a prefix such as the file name. */
  prefixed(prefix: string): DtbError {
    return new DtbError(this.code, `${prefix}: ${this.detail}`, this.offset);
  }
}

/** A new empty node. */
export function makeNode(name: string, props: FdtProp[] = [], children: FdtNode[] = []): FdtNode {
  return { name, props, children };
}

/** A deep copy of a node (values copied too), so edits to the copy never reach the original. */
export function cloneNode(node: FdtNode): FdtNode {
  return {
    name: node.name,
    props: node.props.map((p) => ({ name: p.name, value: new Uint8Array(p.value) })),
    children: node.children.map(cloneNode),
  };
}

/** A deep copy of a tree, without the source layout (so it is written compactly). */
export function cloneFdt(fdt: Fdt): Fdt {
  return {
    bootCpuidPhys: fdt.bootCpuidPhys,
    memReserve: fdt.memReserve.map((r) => ({ ...r })),
    root: cloneNode(fdt.root),
  };
}
