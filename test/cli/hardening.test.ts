// Every bad input is a user error: exit 1 (or 0 where the input is fine), the user's line where
// there is one, no stack trace, nothing left in --out or outside it. Each case runs the real
// command line; the systems.ts files are written to a scratch directory here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cliPath, fixtures, repoRoot, runCli, type CliResult } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-hardening-'));
const stub = path.join(fixtures, 'invalid', 'stub-Image');
const HEAD = "import { addr, kib, mib, passthrough, protectionDomain, system, virtualMachine } from 'sel4cp-synth';";

/** Writes a systems file (.ts, or .mjs to bypass the type check and reach the checks at the call). */
function sys(name: string, ...lines: string[]): string {
  const file = path.join(work, name);
  writeFileSync(file, [HEAD, ...lines, ''].join('\n'));
  return file;
}

/** A user error: exit 1, the id (at `line` of `file` when given), no stack trace. */
function userError(r: CliResult, id: string, file?: string, line?: number): void {
  assert.is(r.status, 1, `exit ${r.status}:\n${r.stderr}`);
  assert.not.match(r.stderr, /internal error|^\s+at .*\(.*:\d+:\d+\)$/m, r.stderr);
  assert.match(r.stderr, new RegExp(`error\\[${id}\\]`), r.stderr);
  if (file && line) assert.match(r.stderr, new RegExp(`${path.basename(file).replace('.', '\\.')}:${line}:\\d+: error\\[${id}\\]`), r.stderr);
}

const checkOf = (file: string, env: NodeJS.ProcessEnv = {}): CliResult => runCli(['check', file], { env: { MICROKIT_SDK: '', ...env } });

test('values types cannot catch are reported at the call (plain JavaScript, no type check)', () => {
  const cases: [string, string][] = [
    ['ram-number', "virtualMachine('v', { kernel: 'Image', ram: 268435456 })"],
    ['ram-string', "virtualMachine('v', { kernel: 'Image', ram: '256M' })"],
    ['vcpus-string', "virtualMachine('v', { kernel: 'Image', vcpus: '2' })"],
    ['vcpus-fraction', "virtualMachine('v', { kernel: 'Image', vcpus: 1.5 })"],
    ['kernel-missing', "virtualMachine('v', {})"],
    ['kernel-number', "virtualMachine('v', { kernel: 42 })"],
    ['priority-nan', "virtualMachine('v', { kernel: 'Image', priority: NaN })"],
    ['bootargs-nul', "virtualMachine('v', { kernel: 'Image', bootargs: 'console=ttyAMA0\\0x' })"],
    ['size-number', "protectionDomain('p', { program: 'p.elf', stackSize: 4096 })"],
  ];
  for (const [name, call] of cases) {
    const file = sys(`${name}.mjs`, `const x = ${call};`, "export default system({ board: 'qemu', protectionDomains: [] });");
    userError(checkOf(file), 'bad-argument', file, 2);
  }
});

test('type errors are reported at their line before anything runs', () => {
  const file = sys('typed.ts', "const v = virtualMachine('v', { kernel: 'Image', ram: '256M' });", "export default system({ board: 'qemu', virtualMachines: [v] });");
  const r = checkOf(file);
  userError(r, 'type', file, 2);
  assert.match(r.stderr, /Type 'string' is not assignable to type 'Size'/);
});

test('user code that never finishes, throws oddly or exports a look-alike is stopped and reported', () => {
  const loop = sys('loop.ts', 'while (Date.now() > 0) { /* never ends */ }', "export default system({ board: 'qemu' });");
  const t0 = Date.now();
  userError(runCli(['check', loop], { env: { SEL4CP_SYNTH_LOAD_TIMEOUT: '1' } }), 'systems-file-timeout');
  assert.ok(Date.now() - t0 < 20_000);
  userError(checkOf(sys('tla.ts', 'await new Promise(() => {});', "export default system({ board: 'qemu' });")), 'systems-file-unfinished');
  userError(checkOf(sys('nullproto.ts', 'throw Object.create(null);', 'export default system({});')), 'systems-file-threw');
  userError(checkOf(sys('evil.mjs', 'throw { toString() { throw new Error("no"); }, get message() { throw new Error("no"); } };', 'export default system({});')), 'systems-file-threw');
  userError(checkOf(sys('fake.ts', "export default { kind: 'system', protectionDomains: [], virtualMachines: [], memoryRegions: [], channels: [] };")), 'no-default-system');
  const cycle = sys('cycle.ts',
    "const a = protectionDomain('a', { program: 'a.elf' });",
    "const b = protectionDomain('b', { program: 'b.elf', children: [a] });",
    '(a.children as unknown as object[]).push({ pd: b });',
    "export default system({ board: 'qemu', protectionDomains: [a] });");
  userError(checkOf(cycle), 'pd-cycle', cycle, 2);
});

test('a protection domain made its own grandchild through a cast is reported at its line', () => {
  const lines = [
    "const a = protectionDomain('a', { program: 'a.elf' });",
    "const c = protectionDomain('c', { program: 'c.elf' });",
    "const b = protectionDomain('b', { program: 'b.elf', children: [c] });",
    '(a.children as any).push({ pd: b });',
  ];
  for (const close of ['(c.children as any).push({ pd: a });', '(c.children as any).push(a);', '(c as any).children = [a];']) {
    const file = sys('grandchild.ts', ...lines, close, "export default system({ board: 'qemu', protectionDomains: [a] });");
    const r = checkOf(file);
    userError(r, 'pd-cycle', file, 2);
    assert.match(r.stderr, /protection domain 'a' is its own descendant: a → b → c → a/, r.stderr);
    assert.match(r.stderr, /hint: protection domains form a tree: take 'a' out of the children of 'c'/, r.stderr);
  }
  // Not a cycle, but still a child entry no constructor made: a bare PD, or no PD at all.
  for (const [bad, what] of [['(a.children as any).push(c);', "protection domain 'c' itself"], ['(a.children as any).push({ id: 3 });', '{"id":3}']] as const) {
    const file = sys('bare-child.ts', ...lines.slice(0, 2), bad, "export default system({ board: 'qemu', protectionDomains: [a] });");
    const r = checkOf(file);
    userError(r, 'bad-argument', file, 2);
    assert.ok(r.stderr.includes(`children[0] of protection domain 'a' is ${what}, not a child entry { pd, id }`), r.stderr);
  }
  // The same PD under two parents is no cycle: the resolver reports it with the rest.
  const twice = sys('twice.ts', ...lines.slice(0, 3), "const d = protectionDomain('d', { program: 'd.elf', children: [c] });", "export default system({ board: 'qemu', protectionDomains: [b, d] });");
  userError(checkOf(twice), 'pd-listed-twice', twice, 3);
});

test('names that become file names stay inside --out; long and odd names are reported, not crashed on', () => {
  const out = path.join(work, 'names-out');
  const escape = sys('escape.ts', `export default system({ name: '../../escaped', board: 'qemu', protectionDomains: [protectionDomain('p', { program: '${stub}' })] });`);
  userError(runCli([escape, '--out', out], { env: { MICROKIT_SDK: '' } }), 'name-not-a-file-name', escape, 2);
  for (const vmName of ['../../x', '/abs', 'x'.repeat(300)]) {
    const file = sys('vmname.ts', `const v = virtualMachine(${JSON.stringify(vmName)}, { kernel: '${stub}', passthrough: [passthrough('uart0')] });`, "export default system({ board: 'qemu', virtualMachines: [v] });");
    const r = runCli([file, '--out', out], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 1, r.stderr);
    assert.not.match(r.stderr, /internal error/);
  }
  assert.not.ok(existsSync(out), 'nothing was written');
  assert.not.ok(existsSync(path.join(work, '..', 'escaped.system')));
  assert.not.ok(existsSync(path.resolve(work, '../../x.dtb')));
});

test('the VMM limits are checked once per cause', () => {
  const file = sys('vcpus.ts', `const v = virtualMachine('v', { kernel: '${stub}', vcpus: 1000, passthrough: [passthrough('uart0')] });`, "export default system({ board: 'qemu', virtualMachines: [v] });");
  const r = checkOf(file);
  userError(r, 'vm-too-many-vcpus', file, 2);
  assert.is((r.stderr.match(/error\[/g) ?? []).length, 1, r.stderr);
});

test('--out that cannot hold the outputs is refused before the build, and nothing is created', () => {
  const file = path.join(repoRoot, 'examples', 'linux-qemu.ts');
  const aFile = path.join(work, 'a-file');
  writeFileSync(aFile, 'x');
  for (const out of [aFile, path.join(aFile, 'under'), '/proc/sel4cp-synth-x']) {
    const r = runCli([file, '--out', out, '--quiet'], { env: { MICROKIT_SDK: '' } });
    userError(r, 'out-unusable');
  }
  const graphDir = path.join(work, 'graph-dir');
  mkdirSync(graphDir);
  userError(runCli(['graph', file, '-o', graphDir, '--format', 'dot']), 'out-unusable');
  userError(runCli(['import', path.join(fixtures, 'valid', 'features.ts'), '-o', graphDir]), 'out-unusable');
});

test('an option given twice: the last one wins', () => {
  const file = path.join(repoRoot, 'examples', 'linux-qemu.ts');
  const r = runCli(['check', file, '--board', 'imx8mm', '--board', 'qemu'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  const out1 = path.join(work, 'twice-1');
  const out2 = path.join(work, 'twice-2');
  const s = runCli([file, '--out', out1, '--out', out2, '--sdk', '/nonexistent', '--sdk', '', '--quiet'], { env: { MICROKIT_SDK: '' } });
  assert.is(s.status, 0, s.stderr);
  assert.not.ok(existsSync(out1));
  assert.ok(existsSync(path.join(out2, 'linux-qemu.system')));
});

/** An arm64 Image header (booting.rst) with an EFI stub whose PE sections end at `rawEnd`, cut to `size` bytes. */
function cutImage(size: number, rawEnd: number): Uint8Array {
  const b = new Uint8Array(Math.max(size, 0x200));
  const v = new DataView(b.buffer);
  b.set([0x4d, 0x5a]); // "MZ"
  v.setBigUint64(8, 0n, true); // text_offset
  v.setBigUint64(16, 0x200_0000n, true); // image_size
  v.setUint32(56, 0x644d5241, true); // "ARM\x64"
  v.setUint32(0x3c, 0x40, true); // PE header offset
  v.setUint32(0x40, 0x00004550, true); // "PE\0\0"
  v.setUint16(0x40 + 6, 1, true); // one section
  v.setUint16(0x40 + 20, 0, true); // no optional header
  const sec = 0x40 + 24;
  v.setUint32(sec + 16, rawEnd - 0x1000, true); // SizeOfRawData
  v.setUint32(sec + 20, 0x1000, true); // PointerToRawData
  return b.subarray(0, size);
}

test('a truncated kernel, an empty -c kernel=, and a missing one with an SDK are errors at the VM', () => {
  const file = path.join(repoRoot, 'examples', 'linux-qemu.ts');
  for (const [name, bytes] of [['Image-100k', cutImage(100_000, 0x1f6_0000)], ['Image-header', cutImage(64, 0x1f6_0000)]] as const) {
    const k = path.join(work, name);
    writeFileSync(k, bytes);
    const r = runCli(['check', file, '-c', `kernel=${k}`], { env: { MICROKIT_SDK: '' } });
    userError(r, 'guest-kernel-not-image');
    assert.match(r.stderr, /cut short/);
  }
  userError(runCli(['check', file, '-c', 'kernel='], { env: { MICROKIT_SDK: '' } }), 'bad-argument');
});

test('.system input: too deep, garbage, huge attributes, invalid UTF-8, and an invalid file to import', () => {
  const deep = path.join(work, 'deep.system');
  writeFileSync(deep, `<system>${'<protection_domain name="a">'.repeat(5000)}${'</protection_domain>'.repeat(5000)}</system>`);
  for (const cmd of [['check'], ['graph', '--format', 'dot'], ['import']]) userError(runCli([...cmd, deep]), 'xml-malformed');
  // diff keeps git's convention, 2 for trouble; still a user error, not a crash.
  const d = runCli(['diff', deep, deep]);
  assert.is(d.status, 2);
  assert.match(d.stderr, /error\[xml-malformed\]/);
  assert.not.match(d.stderr, /internal error/);
  const garbage = path.join(work, 'garbage.system');
  writeFileSync(garbage, Buffer.from(Array.from({ length: 2_000_000 }, (_, i) => 33 + ((i * 7919) % 90))));
  // It stops at the first fatal error: one error, at the start of the 2 MB, not one per byte.
  const g = runCli(['check', garbage]);
  userError(g, 'xml-malformed');
  assert.is(g.stderr.match(/error\[/g)?.length, 1, g.stderr);
  assert.match(g.stderr, /garbage\.system:1:\d{1,2}: error\[xml-malformed\]/);
  const big = path.join(work, 'big.system');
  writeFileSync(big, `<system><memory_region name="${'x'.repeat(5_000_000)}" size="0x1000"/></system>`);
  const r = runCli(['check', big]);
  assert.is(r.status, 1);
  assert.ok(r.stderr.length < 20_000, `stderr is ${r.stderr.length} bytes`);
  const bad = path.join(work, 'bad-utf8.system');
  writeFileSync(bad, Buffer.concat([Buffer.from('<system>\n<memory_region name="'), Buffer.from([0xff, 0xfe]), Buffer.from('" size="0x1000"/>\n</system>\n')]));
  userError(runCli(['check', bad]), 'file-not-utf8', bad, 2);
  const invalid = path.join(fixtures, 'invalid', 'names', 'duplicate-vm-name.system');
  const out = path.join(work, 'imported.ts');
  const imp = runCli(['import', invalid, '-o', out]);
  assert.is(imp.status, 1, imp.stderr);
  assert.not.ok(existsSync(out), 'an invalid system is not imported');
});

test('Ctrl-C during a run leaves no temporary files behind', async () => {
  // A temporary directory of its own, so that other processes' files do not count.
  const tmp = path.join(work, 'tmp');
  mkdirSync(tmp);
  const out = path.join(work, 'interrupted');
  const loop = sys('slow.ts', 'await new Promise((r) => setTimeout(r, 600_000));', "export default system({ board: 'qemu' });");
  const child = spawn(process.execPath, [cliPath, loop, '--out', out], { cwd: repoRoot, env: { ...process.env, MICROKIT_SDK: '', TMPDIR: tmp }, stdio: 'ignore' });
  // Wait until it is running the file (its bundle is in the temporary directory), then interrupt.
  // (A busy machine may take a while to type-check it first: wait for the directory, not a time.)
  for (let i = 0; i < 1200 && readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(readdirSync(tmp).length > 0, 'the run made its temporary directory');
  child.kill('SIGINT');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.is(code, 130);
  assert.equal(readdirSync(tmp), []);
  assert.not.ok(existsSync(out));
  assert.equal(readdirSync(work).filter((f) => f.includes('.tmp-')), []);
});

test.after(() => {
  chmodSync(work, 0o755);
  rmSync(work, { recursive: true, force: true });
});

test.run();
