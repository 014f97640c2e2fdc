import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  type CpioEntry,
  CpioError,
  NEWC_HEADER_SIZE,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  checkCpioEntries,
  compareCpioPaths,
  readCpio,
  writeCpio,
} from '../../../src/compile/initramfs/cpio.js';
import { buildBusyboxInitramfs } from '../../../src/compile/initramfs/busybox-initramfs.js';
import { missing, testIf } from '../../helpers.js';

const ascii = (b: Uint8Array, from: number, to: number): string => Buffer.from(b.subarray(from, to)).toString('ascii');

const sample: CpioEntry[] = [
  { kind: 'directory', path: 'bin' },
  { kind: 'file', path: 'bin/hello', content: 'hi\n', mode: 0o755 },
  { kind: 'symlink', path: 'bin/sh', target: 'hello' },
  { kind: 'directory', path: 'dev' },
  { kind: 'char-device', path: '/dev/console', major: 5, minor: 1 },
  { kind: 'file', path: 'empty', content: new Uint8Array(0) },
];

test('first header: magic, fields as 8 upper-case hex digits, fixed owner and time', () => {
  const a = writeCpio(sample);
  assert.is(ascii(a, 0, 6), '070701');
  const fields = Array.from({ length: 13 }, (_, i) => ascii(a, 6 + i * 8, 14 + i * 8));
  for (const f of fields) assert.match(f, /^[0-9A-F]{8}$/);
  // ino 1, directory 0755, uid 0, gid 0, nlink 2, mtime 0, size 0, dev 0:0, rdev 0:0,
  // namesize 4 ("bin\0"), check 0
  assert.equal(fields, ['00000001', '000041ED', '00000000', '00000000', '00000002', '00000000', '00000000', '00000000', '00000000', '00000000', '00000000', '00000004', '00000000']);
  assert.is(ascii(a, NEWC_HEADER_SIZE, NEWC_HEADER_SIZE + 4), 'bin\0');
});

test('name and data are each padded with zeros to a multiple of 4', () => {
  const a = writeCpio([{ kind: 'file', path: 'abcde', content: 'xyz' }]);
  // header 110 + "abcde\0" 6 = 116, already aligned; data 3 bytes + 1 pad
  assert.is(ascii(a, 110, 116), 'abcde\0');
  assert.is(ascii(a, 116, 119), 'xyz');
  assert.is(a[119], 0);
  assert.is(ascii(a, 120, 126), '070701');
  const b = writeCpio([{ kind: 'file', path: 'ab', content: 'x' }]);
  // 110 + "ab\0" = 113 → 3 bytes of padding to 116
  assert.equal(Array.from(b.subarray(113, 116)), [0, 0, 0]);
  assert.is(ascii(b, 116, 117), 'x');
  assert.is(b.length % 4, 0);
});

test('the archive ends with TRAILER!!! (ino 0, nlink 1, size 0) and nothing after it', () => {
  const a = writeCpio(sample);
  const trailerName = 'TRAILER!!!\0';
  // The last header: 110 bytes + 11-byte name + 3 bytes padding = 124 bytes.
  const start = a.length - 124;
  assert.is(ascii(a, start, start + 6), '070701');
  assert.is(ascii(a, start + 6, start + 14), '00000000', 'trailer ino');
  assert.is(ascii(a, start + 38, start + 46), '00000001', 'trailer nlink');
  assert.is(ascii(a, start + 54, start + 62), '00000000', 'trailer filesize');
  assert.is(ascii(a, start + 94, start + 102), '0000000B', 'trailer namesize');
  assert.is(ascii(a, start + 110, start + 121), trailerName);
  assert.equal(Array.from(a.subarray(start + 121)), [0, 0, 0]);
});

test('entries: type bits, device numbers, symlink target as data, inodes in written order', () => {
  const recs = readCpio(writeCpio(sample));
  assert.equal(recs.map((r) => r.name), ['bin', 'bin/hello', 'bin/sh', 'dev', 'dev/console', 'empty']);
  assert.equal(recs.map((r) => r.ino), [1, 2, 3, 4, 5, 6]);
  const byName = new Map(recs.map((r) => [r.name, r]));
  assert.is(byName.get('bin')!.mode & S_IFMT, S_IFDIR);
  assert.is(byName.get('bin/hello')!.mode, S_IFREG | 0o755);
  assert.is(Buffer.from(byName.get('bin/hello')!.data).toString(), 'hi\n');
  assert.is(byName.get('bin/sh')!.mode, S_IFLNK | 0o777);
  assert.is(Buffer.from(byName.get('bin/sh')!.data).toString(), 'hello');
  const con = byName.get('dev/console')!;
  assert.is(con.mode, S_IFCHR | 0o600);
  assert.equal([con.rdevmajor, con.rdevminor, con.data.length], [5, 1, 0]);
  for (const r of recs) assert.equal([r.uid, r.gid, r.mtime, r.devmajor, r.devminor, r.check], [0, 0, 0, 0, 0, 0]);
});

test('determinism: same entries in any order give the same bytes', () => {
  const a = writeCpio(sample);
  const b = writeCpio([...sample].reverse());
  const c = writeCpio(sample.map((e) => ({ ...e })));
  assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  assert.ok(Buffer.from(a).equals(Buffer.from(c)));
  const bb = new Uint8Array(1000).map((_, i) => i & 0xff);
  assert.ok(Buffer.from(buildBusyboxInitramfs(bb)).equals(Buffer.from(buildBusyboxInitramfs(bb))));
});

test('canonical order puts a directory before its contents', () => {
  const paths = ['a-b', 'a/b', 'a', 'a/b/c', 'B', 'a.b'];
  assert.equal([...paths].sort(compareCpioPaths), ['B', 'a', 'a/b', 'a/b/c', 'a-b', 'a.b']);
});

test('invalid entries are reported as problems, all at once', () => {
  const problems = checkCpioEntries([
    { kind: 'file', path: 'x/y', content: '' },
    { kind: 'file', path: 'a/../b', content: '' },
    { kind: 'file', path: 'f', content: '' },
    { kind: 'file', path: 'f', content: '' },
    { kind: 'file', path: 'f/g', content: '' },
    { kind: 'directory', path: 'd', mode: 0o10000 },
    { kind: 'char-device', path: 'c', major: -1, minor: 1.5 },
  ]);
  assert.equal(problems.map((p) => p.id).sort(), [
    'cpio-bad-device-number',
    'cpio-bad-device-number',
    'cpio-bad-mode',
    'cpio-bad-path',
    'cpio-duplicate-path',
    'cpio-missing-parent',
    'cpio-parent-not-directory',
  ]);
  assert.throws(() => writeCpio([{ kind: 'file', path: 'x/y', content: '' }]), (e: unknown) => e instanceof CpioError && /cpio-missing-parent/.test(e.message));
});

// The oracle: Debian's GNU cpio lists and extracts what we wrote.
testIf(missing('cpio'), 'GNU cpio lists the archive and extracts the same files', () => {
  const entries: CpioEntry[] = [
    ...sample.filter((e) => e.kind !== 'char-device'), // mknod in a test would need root
    { kind: 'directory', path: 'bin/deep' },
    { kind: 'file', path: 'bin/deep/binary', content: new Uint8Array(4099).map((_, i) => (i * 7) & 0xff), mode: 0o600 },
  ];
  const archive = writeCpio([...entries, { kind: 'char-device', path: 'dev/console', major: 5, minor: 1 }]);

  const list = spawnSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' });
  assert.is(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split('\n');
  assert.is(lines.length, entries.length + 1);
  assert.match(list.stdout, /^crw------- +1 root +root +5, +1 .* dev\/console$/m);
  assert.match(list.stdout, /^lrwxrwxrwx +1 root +root +5 .* bin\/sh -> hello$/m);
  assert.match(list.stdout, /^-rwxr-xr-x +1 root +root +3 .* bin\/hello$/m);

  const dir = mkdtempSync(join(tmpdir(), 'cpio-test-'));
  try {
    const x = spawnSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames', '--nonmatching', 'dev/console'], { input: archive, cwd: dir, encoding: 'utf8' });
    assert.is(x.status, 0, x.stderr);
    for (const e of entries) {
      const p = join(dir, e.path);
      const st = lstatSync(p);
      if (e.kind === 'file') {
        assert.ok(st.isFile(), e.path);
        const want = typeof e.content === 'string' ? Buffer.from(e.content) : Buffer.from(e.content);
        assert.ok(readFileSync(p).equals(want), `${e.path} content`);
        assert.is(st.mode & 0o7777, e.mode ?? 0o644, `${e.path} mode`);
      } else if (e.kind === 'directory') {
        assert.ok(st.isDirectory(), e.path);
      } else if (e.kind === 'symlink') {
        assert.ok(st.isSymbolicLink(), e.path);
        assert.is(readlinkSync(p), e.target);
      }
    }
    assert.equal(readdirSync(dir).sort(), ['bin', 'dev', 'empty']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
