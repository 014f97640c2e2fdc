/**
 * A writer (and a small reader) for "newc" cpio archives, the format Linux unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst, init/initramfs.c).
 *
 * Pure: entries in, bytes out. The output depends only on the set of entries:
 *
 * - every header has mtime 0, uid 0, gid 0 and filesystem device 0:0, so the archive does not
 *   depend on who built it or when;
 * - entries are written in canonical path order (component by component, byte order), not in
 *   the order given. That order puts every directory before its contents, which the kernel's
 *   unpacker needs (it creates each path with the parent already in place), and it makes the
 *   same entries assembled in a different order give the same bytes;
 * - inode numbers are 1, 2, 3, ... in that written order; the kernel uses them only to
 *   recognise hard links (nlink > 1 on regular files), which we never write.
 */

/** Permission bits only; the file-type bits are added from the entry's kind. */
export type CpioMode = number;

export interface CpioFile {
  readonly kind: 'file';
  /** Path inside the archive, e.g. `bin/busybox` (a leading `/` is accepted and dropped). */
  readonly path: string;
  /** Contents; a string is written as UTF-8. */
  readonly content: Uint8Array | string;
  /** @default 0o644 */
  readonly mode?: CpioMode;
}

export interface CpioDirectory {
  readonly kind: 'directory';
  readonly path: string;
  /** @default 0o755 */
  readonly mode?: CpioMode;
}

export interface CpioSymlink {
  readonly kind: 'symlink';
  readonly path: string;
  /** What the link points at, stored verbatim as the entry's data. */
  readonly target: string;
  /** @default 0o777 */
  readonly mode?: CpioMode;
}

export interface CpioDeviceNode {
  /** `char` for e.g. `/dev/console` (c 5 1), `block` for disks. */
  readonly kind: 'char-device' | 'block-device';
  readonly path: string;
  readonly major: number;
  readonly minor: number;
  /** @default 0o600 */
  readonly mode?: CpioMode;
}

export type CpioEntry = CpioFile | CpioDirectory | CpioSymlink | CpioDeviceNode;

/** One thing wrong with a list of entries; `writeCpio` refuses a list that has any. */
export interface CpioProblem {
  readonly id:
    | 'cpio-bad-path'
    | 'cpio-duplicate-path'
    | 'cpio-missing-parent'
    | 'cpio-parent-not-directory'
    | 'cpio-bad-mode'
    | 'cpio-bad-device-number'
    | 'cpio-too-large';
  readonly path: string;
  readonly message: string;
}

export class CpioError extends Error {
  constructor(readonly problems: readonly CpioProblem[]) {
    super(problems.map((p) => `${p.id}: ${p.message}`).join('\n'));
    this.name = 'CpioError';
  }
}

/** The "new ASCII" format's magic; "070702" would be the variant with checksums. */
export const NEWC_MAGIC = '070701';
/** Magic (6) + 13 fields of 8 hex digits. */
export const NEWC_HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';

/** File-type bits of st_mode (POSIX <sys/stat.h>). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

const DEFAULT_MODE: Record<CpioEntry['kind'], number> = {
  file: 0o644,
  directory: 0o755,
  symlink: 0o777,
  'char-device': 0o600,
  'block-device': 0o600,
};

const TYPE_BITS: Record<CpioEntry['kind'], number> = {
  file: S_IFREG,
  directory: S_IFDIR,
  symlink: S_IFLNK,
  'char-device': S_IFCHR,
  'block-device': S_IFBLK,
};

/** Header fields are 8 hex digits. */
const U32_MAX = 0xffff_ffff;

/**
 * `bin//x`, `./bin`, `a/../b` and the empty path are refused rather than normalised: an
 * initramfs path that needs cleaning up is more likely a mistake than a wish.
 */
export function normaliseCpioPath(path: string): string | undefined {
  const p = path.startsWith('/') ? path.slice(1) : path;
  if (p === '' || p.endsWith('/')) return undefined;
  const parts = p.split('/');
  if (parts.some((c) => c === '' || c === '.' || c === '..' || c.includes('\0'))) return undefined;
  return p;
}

/** Component-wise byte order: `a` < `a/b` < `a-b`, so a directory precedes its contents. */
export function compareCpioPaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareBytes(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}

function compareBytes(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

function entryData(entry: CpioEntry): Uint8Array {
  switch (entry.kind) {
    case 'file':
      return typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : entry.content;
    case 'symlink':
      return Buffer.from(entry.target, 'utf8');
    case 'directory':
    case 'char-device':
    case 'block-device':
      return new Uint8Array(0);
  }
}

/** Every problem with `entries`, as data; empty when `writeCpio` will accept them. */
export function checkCpioEntries(entries: readonly CpioEntry[]): CpioProblem[] {
  const problems: CpioProblem[] = [];
  const kinds = new Map<string, CpioEntry['kind']>();
  for (const e of entries) {
    const p = normaliseCpioPath(e.path);
    if (p === undefined) {
      problems.push({ id: 'cpio-bad-path', path: e.path, message: `'${e.path}' is not a plain relative path (empty, '.', '..' or '//' component)` });
      continue;
    }
    if (kinds.has(p)) {
      problems.push({ id: 'cpio-duplicate-path', path: p, message: `'${p}' appears more than once` });
    }
    kinds.set(p, e.kind);
    const mode = e.mode ?? DEFAULT_MODE[e.kind];
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      problems.push({ id: 'cpio-bad-mode', path: p, message: `mode ${String(mode)} of '${p}' is not permission bits (0..0o7777)` });
    }
    if (e.kind === 'char-device' || e.kind === 'block-device') {
      for (const [what, n] of [['major', e.major], ['minor', e.minor]] as const) {
        if (!Number.isInteger(n) || n < 0 || n > U32_MAX) {
          problems.push({ id: 'cpio-bad-device-number', path: p, message: `${what} number ${String(n)} of '${p}' is not a 32-bit unsigned integer` });
        }
      }
    }
    if (entryData(e).length > U32_MAX) {
      problems.push({ id: 'cpio-too-large', path: p, message: `'${p}' is larger than newc's 4 GiB limit` });
    }
  }
  for (const p of kinds.keys()) {
    const slash = p.lastIndexOf('/');
    if (slash < 0) continue;
    const parent = p.slice(0, slash);
    const parentKind = kinds.get(parent);
    if (parentKind === undefined) {
      problems.push({ id: 'cpio-missing-parent', path: p, message: `'${p}' needs a directory entry for '${parent}'` });
    } else if (parentKind !== 'directory') {
      problems.push({ id: 'cpio-parent-not-directory', path: p, message: `'${p}' is inside '${parent}', which is a ${parentKind}` });
    }
  }
  return problems;
}

interface HeaderFields {
  ino: number;
  mode: number;
  nlink: number;
  filesize: number;
  rdevmajor: number;
  rdevminor: number;
  namesize: number;
}

function hex8(n: number): string {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

function header(f: HeaderFields): string {
  // Field order from buffer-format.rst: ino, mode, uid, gid, nlink, mtime, filesize,
  // devmajor, devminor, rdevmajor, rdevminor, namesize, check.
  return (
    NEWC_MAGIC +
    [f.ino, f.mode, 0, 0, f.nlink, 0, f.filesize, 0, 0, f.rdevmajor, f.rdevminor, f.namesize, 0]
      .map(hex8)
      .join('')
  );
}

/** Bytes needed after `n` bytes to reach a multiple of 4. */
export function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

/**
 * The archive for `entries`, ending with the `TRAILER!!!` entry. Throws `CpioError` listing
 * every problem `checkCpioEntries` finds.
 */
export function writeCpio(entries: readonly CpioEntry[]): Uint8Array {
  const problems = checkCpioEntries(entries);
  if (problems.length > 0) throw new CpioError(problems);

  const sorted = entries
    .map((e) => ({ e, path: normaliseCpioPath(e.path)! }))
    .sort((a, b) => compareCpioPaths(a.path, b.path));

  const chunks: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array): void => {
    chunks.push(bytes);
    offset += bytes.length;
  };
  const pushPadding = (): void => {
    const n = pad4(offset);
    if (n > 0) push(new Uint8Array(n));
  };
  const pushEntry = (name: string, fields: Omit<HeaderFields, 'namesize' | 'filesize'>, data: Uint8Array): void => {
    const nameBytes = Buffer.from(name + '\0', 'utf8');
    push(Buffer.from(header({ ...fields, filesize: data.length, namesize: nameBytes.length }), 'ascii'));
    push(nameBytes);
    pushPadding();
    if (data.length > 0) {
      push(data);
      pushPadding();
    }
  };

  sorted.forEach(({ e, path }, i) => {
    const isDevice = e.kind === 'char-device' || e.kind === 'block-device';
    pushEntry(
      path,
      {
        ino: i + 1,
        mode: TYPE_BITS[e.kind] | (e.mode ?? DEFAULT_MODE[e.kind]),
        // A directory's own "." and its entry in the parent; nothing else has links.
        nlink: e.kind === 'directory' ? 2 : 1,
        rdevmajor: isDevice ? e.major : 0,
        rdevminor: isDevice ? e.minor : 0,
      },
      entryData(e),
    );
  });
  pushEntry(TRAILER_NAME, { ino: 0, mode: 0, nlink: 1, rdevmajor: 0, rdevminor: 0 }, new Uint8Array(0));

  return Buffer.concat(chunks, offset);
}

/** One entry as read back from an archive, with the raw header fields. */
export interface CpioRecord {
  readonly name: string;
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly devmajor: number;
  readonly devminor: number;
  readonly rdevmajor: number;
  readonly rdevminor: number;
  readonly check: number;
  /** Offset of this entry's header in the archive. */
  readonly offset: number;
  readonly data: Uint8Array;
}

/**
 * Parses a newc archive up to and excluding its trailer. Strict: bad magic, non-hex fields,
 * non-zero padding or a missing trailer throw, which is what the tests want from it.
 */
export function readCpio(archive: Uint8Array): CpioRecord[] {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const records: CpioRecord[] = [];
  let pos = 0;
  const expectZeroPadding = (): void => {
    const n = pad4(pos);
    for (let i = 0; i < n; i++) {
      if (buf[pos + i] !== 0) throw new Error(`cpio: non-zero padding at offset ${pos + i}`);
    }
    pos += n;
  };
  for (;;) {
    if (pos + NEWC_HEADER_SIZE > buf.length) throw new Error(`cpio: truncated header at offset ${pos}`);
    const start = pos;
    const magic = buf.toString('ascii', pos, pos + 6);
    if (magic !== NEWC_MAGIC) throw new Error(`cpio: bad magic '${magic}' at offset ${pos}`);
    const field = (i: number): number => {
      const s = buf.toString('ascii', pos + 6 + i * 8, pos + 14 + i * 8);
      if (!/^[0-9A-Fa-f]{8}$/.test(s)) throw new Error(`cpio: field ${i} '${s}' is not hex at offset ${pos}`);
      return parseInt(s, 16);
    };
    const [ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check] =
      Array.from({ length: 13 }, (_, i) => field(i)) as [number, number, number, number, number, number, number, number, number, number, number, number, number];
    pos += NEWC_HEADER_SIZE;
    if (namesize < 1 || pos + namesize > buf.length) throw new Error(`cpio: bad name size at offset ${start}`);
    if (buf[pos + namesize - 1] !== 0) throw new Error(`cpio: name not NUL-terminated at offset ${start}`);
    const name = buf.toString('utf8', pos, pos + namesize - 1);
    pos += namesize;
    expectZeroPadding();
    if (name === TRAILER_NAME) return records;
    if (pos + filesize > buf.length) throw new Error(`cpio: truncated data of '${name}'`);
    const data = buf.subarray(pos, pos + filesize);
    pos += filesize;
    expectZeroPadding();
    records.push({ name, ino, mode, uid, gid, nlink, mtime, devmajor, devminor, rdevmajor, rdevminor, check, offset: start, data });
  }
}
