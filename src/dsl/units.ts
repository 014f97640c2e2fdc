// Typed sizes and addresses. They are bigints underneath (addresses on AArch64 need all 64 bits),
// branded so that a size cannot be passed where an address is expected, and checked when made so
// that a negative or fractional value is reported at the user's own line.
import { DslError } from './errors.js';

declare const sizeBrand: unique symbol;
declare const addressBrand: unique symbol;

/** A size in bytes, made with {@link bytes}, {@link kib}, {@link mib} or {@link gib}. */
export type Size = bigint & { readonly [sizeBrand]: true };
/** A physical or virtual address, made with {@link addr}. */
export type Address = bigint & { readonly [addressBrand]: true };

const U64_LIMIT = 1n << 64n;

function toBigInt(what: string, value: number | bigint | string, scale: bigint): bigint {
  let v: bigint;
  if (typeof value === 'bigint') {
    v = value;
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DslError('bad-number', `${what}: ${value} is not a finite number`);
    if (Number.isInteger(value)) {
      if (!Number.isSafeInteger(value)) {
        throw new DslError('bad-number', `${what}: ${value} is too large to be exact as a JavaScript number`,
          'write it as a bigint (e.g. 0x1_0000_0000_0000n) or a string');
      }
      v = BigInt(value);
    } else {
      // A fractional unit count is fine when it lands on a whole byte: mib(0.5) is 512 KiB.
      const scaled = value * Number(scale);
      if (!Number.isSafeInteger(scaled)) throw new DslError('bad-number', `${what}: ${value} is not a whole number of bytes`);
      return checkRange(what, BigInt(scaled));
    }
  } else {
    const text = value.replace(/_/g, '');
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) {
      throw new DslError('bad-number', `${what}: '${value}' is not a decimal or 0x-prefixed hexadecimal integer`);
    }
    v = BigInt(text);
  }
  return checkRange(what, v * scale);
}

function checkRange(what: string, v: bigint): bigint {
  if (v < 0n) throw new DslError('bad-number', `${what}: ${v} is negative`);
  if (v >= U64_LIMIT) throw new DslError('bad-number', `${what}: 0x${v.toString(16)} does not fit in 64 bits`);
  return v;
}

/** A size of `n` bytes. */
export function bytes(n: number | bigint | string): Size {
  return toBigInt('bytes()', n, 1n) as Size;
}
/** A size of `n` KiB (1024 bytes). */
export function kib(n: number | bigint): Size {
  return toBigInt('kib()', n, 1024n) as Size;
}
/** A size of `n` MiB. */
export function mib(n: number | bigint): Size {
  return toBigInt('mib()', n, 1024n * 1024n) as Size;
}
/** A size of `n` GiB. */
export function gib(n: number | bigint): Size {
  return toBigInt('gib()', n, 1024n * 1024n * 1024n) as Size;
}
/** An address. Accepts a number (up to 2^53), a bigint, or a string such as `'0x4000_0000'`. */
export function addr(a: number | bigint | string): Address {
  return toBigInt('addr()', a, 1n) as Address;
}
