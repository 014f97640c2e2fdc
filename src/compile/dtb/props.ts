/**
 * Reading and writing property values (Devicetree Specification v0.4, 2.2.4: `<u32>`, `<u64>`,
 * `<string>`, `<stringlist>`, `<prop-encoded-array>`; all big-endian).
 */
import { DtbError, type FdtNode, type FdtProp } from './fdt.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function label(node: FdtNode): string {
  return node.name === '' ? '/' : node.name;
}

function bad(node: FdtNode, name: string, why: string): DtbError {
  return new DtbError('dt-bad-property', `property "${name}" of node "${label(node)}" ${why}`);
}

export function getProp(node: FdtNode, name: string): FdtProp | undefined {
  return node.props.find((p) => p.name === name);
}

export function hasProp(node: FdtNode, name: string): boolean {
  return getProp(node, name) !== undefined;
}

/** The value as big-endian u32 cells; throws when its length is not a multiple of 4. */
export function propU32Array(node: FdtNode, name: string): number[] | undefined {
  const prop = getProp(node, name);
  if (!prop) return undefined;
  return decodeU32Array(prop.value, () => bad(node, name, `is ${prop.value.length} bytes, not a whole number of 32-bit cells`));
}

export function decodeU32Array(value: Uint8Array, onError: () => Error = () => new DtbError('dt-bad-property', `value of ${value.length} bytes is not a whole number of 32-bit cells`)): number[] {
  if (value.length % 4 !== 0) throw onError();
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

/** A single `<u32>`; throws unless the value is exactly 4 bytes. */
export function propU32(node: FdtNode, name: string): number | undefined {
  const prop = getProp(node, name);
  if (!prop) return undefined;
  if (prop.value.length !== 4) throw bad(node, name, `is ${prop.value.length} bytes, expected one 32-bit cell`);
  return new DataView(prop.value.buffer, prop.value.byteOffset, 4).getUint32(0);
}

/** A `<u64>`; throws unless the value is exactly 8 bytes. */
export function propU64(node: FdtNode, name: string): bigint | undefined {
  const prop = getProp(node, name);
  if (!prop) return undefined;
  if (prop.value.length !== 8) throw bad(node, name, `is ${prop.value.length} bytes, expected a 64-bit value`);
  return new DataView(prop.value.buffer, prop.value.byteOffset, 8).getBigUint64(0);
}

/** A number of one or two cells, as Linux reads `linux,initrd-start` (`of_read_number`). */
export function propNumber(node: FdtNode, name: string): bigint | undefined {
  const cells = propU32Array(node, name);
  if (cells === undefined) return undefined;
  if (cells.length < 1 || cells.length > 2) throw bad(node, name, `has ${cells.length} cells, expected 1 or 2`);
  return cellsToBigint(cells);
}

/** The strings of a `<stringlist>`; throws when the value is empty or not NUL-terminated. */
export function propStrings(node: FdtNode, name: string): string[] | undefined {
  const prop = getProp(node, name);
  if (!prop) return undefined;
  const v = prop.value;
  if (v.length === 0 || v[v.length - 1] !== 0) throw bad(node, name, 'is not a NUL-terminated string');
  return decoder.decode(v.subarray(0, v.length - 1)).split('\0');
}

/** A single `<string>`; throws when the value holds no string or several. */
export function propString(node: FdtNode, name: string): string | undefined {
  const list = propStrings(node, name);
  if (list === undefined) return undefined;
  if (list.length !== 1) throw bad(node, name, `holds ${list.length} strings, expected one`);
  return list[0];
}

/** The `compatible` strings, empty when absent. */
export function compatibleOf(node: FdtNode): string[] {
  return propStrings(node, 'compatible') ?? [];
}

/** Combines big-endian cells into one number (`#address-cells` 2 → a 64-bit address). */
export function cellsToBigint(cells: readonly number[]): bigint {
  let v = 0n;
  for (const c of cells) v = (v << 32n) | BigInt(c >>> 0);
  return v;
}

export function u32Value(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${v} is not a u32`);
    dv.setUint32(i * 4, v);
  });
  return out;
}

export function u64Value(value: bigint): Uint8Array {
  return cellsValue([[value, 2]]);
}

/**
 * The most cells `#address-cells` and `#size-cells` may give (libfdt's FDT_MAX_NCELLS, Linux's
 * OF_MAX_ADDR_CELLS): 3 for PCI addresses is the most real trees use.
 */
export const MAX_CELLS = 4;

/**
 * A `<prop-encoded-array>` of numbers, each written in the given number of cells
 * (`[[base, 2], [size, 2]]` for a `reg` entry under `#address-cells = <2>`, `#size-cells = <2>`).
 * Throws `dt-cells-overflow` when a number does not fit its cells, `dt-bad-cells` when a count is
 * not 0 to MAX_CELLS.
 */
export function cellsValue(items: readonly (readonly [bigint, number])[]): Uint8Array {
  for (const [, cells] of items) {
    if (!Number.isInteger(cells) || cells < 0 || cells > MAX_CELLS) throw new DtbError('dt-bad-cells', `a number cannot take ${cells} cells (0 to ${MAX_CELLS})`);
  }
  const total = items.reduce((n, [, cells]) => n + cells, 0);
  const out = new Uint8Array(total * 4);
  const dv = new DataView(out.buffer);
  let pos = 0;
  for (const [value, cells] of items) {
    if (value < 0n || value >= 1n << BigInt(32 * cells)) {
      throw new DtbError('dt-cells-overflow', `0x${value.toString(16)} does not fit in ${cells} cell(s)`);
    }
    for (let c = cells - 1; c >= 0; c--) {
      dv.setUint32(pos, Number((value >> BigInt(32 * c)) & 0xffffffffn));
      pos += 4;
    }
  }
  return out;
}

export function stringValue(s: string): Uint8Array {
  return stringListValue([s]);
}

export function stringListValue(list: readonly string[]): Uint8Array {
  for (const s of list) if (s.includes('\0')) throw new RangeError(`string "${s}" contains a NUL`);
  return encoder.encode(list.map((s) => `${s}\0`).join(''));
}

/** Sets a property, replacing its value in place (keeping its position) or appending it. */
export function setProp(node: FdtNode, name: string, value: Uint8Array): void {
  const i = node.props.findIndex((p) => p.name === name);
  const prop = { name, value };
  if (i >= 0) node.props[i] = prop;
  else node.props.push(prop);
}

/** Deletes a property; returns whether it was there. */
export function deleteProp(node: FdtNode, name: string): boolean {
  const i = node.props.findIndex((p) => p.name === name);
  if (i < 0) return false;
  node.props.splice(i, 1);
  return true;
}
