// Numbers as every layer prints them (messages, generated files, reviews): one place, so that an
// address reads the same in a diagnostic, a .system file and a diff.

/** `0x4000_0000`-style hex for messages (underscores every four digits, as people write it). */
export function hexGrouped(v: bigint): string {
  const digits = v.toString(16);
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 4) groups.unshift(digits.slice(Math.max(0, end - 4), end));
  return '0x' + groups.join('_');
}

/** Plain lower-case hex, as written into generated files. */
export function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}

/** A human size for messages: "256 MiB", "4 KiB", "0x1234 bytes". */
export function humanSize(v: bigint): string {
  const units: [bigint, string][] = [[1n << 30n, 'GiB'], [1n << 20n, 'MiB'], [1n << 10n, 'KiB']];
  for (const [unit, name] of units) {
    if (v >= unit && v % unit === 0n) return `${v / unit} ${name}`;
  }
  return v < 4096n ? `${v} bytes` : `${hex(v)} bytes`;
}
