// What a new user hit (issue 17), each through the CLI as they met it: the test names say which.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-new-user-'));

function systemsFile(name: string, lines: string[]): string {
  const file = path.join(work, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

test('board edges: a wrong board name is reported at the board: property, with a short list and a "did you mean"', () => {
  const file = systemsFile('typo-board.ts', [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    '',
    'export default system({',
    "  protectionDomains: [protectionDomain('pd', { program: 'pd.elf' })],",
    "  board: 'qemu_virt_arch64',",
    '});',
  ]);
  const r = runCli(['check', file]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /typo-board\.ts:5:3: error\[unknown-board\]: unknown board 'qemu_virt_arch64'; did you mean 'qemu_virt_aarch64'\?/);
  const hint = r.stderr.split('\n').find((l) => l.includes('hint:'))!;
  assert.ok(hint.length < 200, `a short hint, not every alias: ${hint}`);
  assert.match(hint, /sel4cp-synth boards/);
});

test('board edges: a PD named monitor is a warning on 2.0.1 (reserved from 2.3.0 on), an error on 2.3.0', () => {
  const file = systemsFile('monitor.ts', [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    "const monitor = protectionDomain('monitor', { program: 'monitor.elf' });",
    'export default system({ protectionDomains: [monitor] });',
  ]);
  const old = runCli(['check', file, '--microkit', '2.0.1'], { env: { MICROKIT_SDK: '' } });
  assert.is(old.status, 0, old.stderr);
  assert.match(old.stderr, /monitor\.ts:2:\d+: warning\[pd-name-reserved-later\]: .*reserved for the Microkit monitor from Microkit 2\.3\.0 on/);
  const later = runCli(['check', file, '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
  assert.is(later.status, 1, later.stderr);
  assert.match(later.stderr, /monitor\.ts:2:\d+: error\[pd-reserved-name\]/);
});

test('ram: 256: the type error says how to write a size or an address, with the number given', () => {
  const file = systemsFile('numbers.ts', [
    "import { map, memoryRegion, passthrough, protectionDomain, system, virtualMachine } from 'sel4cp-synth';",
    "const linux = virtualMachine('linux', { kernel: 'Image', ram: 256, passthrough: [passthrough('uart0')] });",
    "const buf = memoryRegion('buf', { size: 0x2000 });",
    "const pd = protectionDomain('pd', { program: 'pd.elf', maps: [map(buf, { vaddr: 0x5000_0000 })] });",
    "export default system({ board: 'qemu', virtualMachines: [linux], memoryRegions: [buf], protectionDomains: [pd] });",
  ]);
  const r = runCli(['check', file]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /numbers\.ts:2:\d+: error\[type\][^\n]*'Size'[\s\S]*?hint: sizes are typed: write mib\(256\)/);
  assert.match(r.stderr, /numbers\.ts:3:\d+: error\[type\][\s\S]*?hint: sizes are typed: write bytes\(0x2000\)/);
  assert.match(r.stderr, /numbers\.ts:4:\d+: error\[type\][\s\S]*?hint: addresses are typed: write addr\(0x5000_0000\)/);
});

test('guest images for any project: sel4cp-synth guest is a command; without Debian\'s tools it is a user error that says what it needs', () => {
  const help = runCli(['guest', '--help']);
  assert.is(help.status, 0);
  assert.match(help.stdout, /sel4cp-synth[\/]guest|user cache/);
  const emptyPath = path.join(work, 'no-tools');
  mkdirSync(emptyPath, { recursive: true });
  const r = runCli(['guest', '--out', path.join(work, 'guest-out')], { env: { PATH: emptyPath } });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /error\[guest-images-failed\]: dpkg not found/);
  assert.not.match(r.stderr, /internal error|at .*\.js:\d+/);
  // Nothing is written before the tools are known to be there.
  assert.not.ok(existsSync(path.join(work, 'guest-out', 'debs')), 'no debs/ made');
});

test('guest images for any project: init\'s template takes its kernel and initramfs from the guest cache', () => {
  const dir = path.join(work, 'template');
  assert.is(runCli(['init', dir]).status, 0);
  const text = readFileSync(path.join(dir, 'systems.ts'), 'utf8');
  assert.match(text, /kernel: contextFile\('kernel', guestImage\('Image'\)\)/);
  assert.match(text, /initrd: contextFile\('initrd', guestImage\('initramfs\.cpio'\)\)/);
  assert.match(readFileSync(path.join(dir, 'README.md'), 'utf8'), /npx sel4cp-synth guest/);
  const cache = path.join(work, 'xdg');
  const r = runCli(['systems.ts', '--out', 'out'], { cwd: dir, env: { MICROKIT_SDK: '', XDG_CACHE_HOME: cache } });
  assert.is(r.status, 0, r.stderr);
  // Without guest images anywhere the step is skipped, naming the command and the user's cache.
  if (/not found/.test(r.stdout)) assert.match(r.stdout, /run 'sel4cp-synth guest'/);
});

/** Two versions of a system: the second gives 'web' a page that 'monitor' reads. */
function twoVersions(): { older: string; newer: string } {
  const head = [
    "import { channel, kib, map, memoryRegion, protectionDomain, system } from 'sel4cp-synth';",
  ];
  const older = systemsFile('v1.ts', [...head,
    "const web = protectionDomain('web', { program: 'web.elf', priority: 100 });",
    "const monitor = protectionDomain('monitor', { program: 'monitor.elf', priority: 120 });",
    'export default system({ protectionDomains: [web, monitor], channels: [channel(web, monitor)] });',
  ]);
  const newer = systemsFile('v2.ts', [...head,
    "const status = memoryRegion('status', { size: kib(4) });",
    "const web = protectionDomain('web', { program: 'web.elf', priority: 100, maps: [map(status, { perms: 'rw' })] });",
    "const monitor = protectionDomain('monitor', { program: 'monitor.elf', priority: 120, maps: [map(status, { perms: 'r' })] });",
    'export default system({ protectionDomains: [web, monitor], channels: [channel(web, monitor)] });',
  ]);
  return { older, newer };
}

test('diff counts: as many ! lines as changes that widen privilege, and a region shared by two new maps reported once', () => {
  const { older, newer } = twoVersions();
  const r = runCli(['diff', older, newer]);
  const summary = /(\d+) changes? between .*; (\d+) of them widens? privilege/.exec(r.stdout);
  assert.ok(summary, r.stdout + r.stderr);
  const bangs = r.stdout.split('\n').filter((l) => /^ {2}! /.test(l));
  assert.is(bangs.length, Number(summary![2]), r.stdout);
  assert.is(r.stdout.match(/'status' is newly shared/g)?.length, 1, r.stdout);
  const md = runCli(['diff', older, newer, '--format', 'markdown']);
  const bullets = md.stdout.split('### Privilege changes')[1]!.split('\n').filter((l) => l.startsWith('- '));
  assert.is(bullets.length, Number(summary![2]), md.stdout);
});

test('diff counts: graph --changes-from draws what was added, changed and removed', () => {
  const { older, newer } = twoVersions();
  const added = runCli(['graph', newer, '--changes-from', older, '--format', 'dot']);
  assert.is(added.status, 0, added.stderr);
  assert.match(added.stdout, /changes from .*v1\.ts: 3 added \(green\), 0 changed \(amber\), 0 removed/);
  assert.match(added.stdout, /"pd:web" -> "mr:status" \[label="rw-".*color="#2e7d32"/);
  assert.match(added.stdout, /"pd:web" \[[^\n]*color="#1565c0"\];/, 'an unchanged PD is drawn as before');
  const removed = runCli(['graph', older, '--changes-from', newer, '--format', 'dot']);
  assert.match(removed.stdout, /\/\/ Removed since .*v2\.ts\.\n {2}"mr:status" \[.*style=dashed, color="#c62828"/);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
