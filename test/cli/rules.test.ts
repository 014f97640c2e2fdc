// Diagnostics that no tiny systems.ts fixture can reach, because they come from the
// environment (git, Graphviz, the toolchain), the command line or a board's device tree: each is
// provoked here through the real command line, by id (src/compile/diagnostics/rules.ts names this file).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeNode, type Fdt, type FdtNode } from '../../src/compile/dtb/fdt.js';
import { writeFdt } from '../../src/compile/dtb/fdt-write.js';
import { stringListValue, stringValue, u32Value } from '../../src/compile/dtb/props.js';
import { spawnSync } from 'node:child_process';
import { fixtures, missing, repoRoot, runCli, testIf, type CliResult } from '../helpers.js';
import { missingCrossCompiler } from '../e2e/native-pd.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-rules-'));
const linuxQemu = path.join(repoRoot, 'examples', 'linux-qemu.ts');
const stub = path.join(fixtures, 'invalid', 'stub-Image');

function reports(r: CliResult, severity: 'error' | 'warning', id: string, status: number): void {
  assert.is(r.status, status, r.stderr);
  assert.match(r.stderr, new RegExp(`${severity}\\[${id}\\]`), r.stderr);
  assert.not.match(r.stderr, /internal error/);
}

test('diff-usage, git-not-a-repository, git-unknown-ref: diff says what is wrong with its arguments', () => {
  reports(runCli(['diff', linuxQemu]), 'error', 'diff-usage', 2);
  const outside = path.join(work, 'not-a-repo.ts');
  writeFileSync(outside, "import { system } from 'sel4cp-synth';\nexport default system({});\n");
  reports(runCli(['diff', outside, '--base', 'HEAD']), 'error', 'git-not-a-repository', 2);
  reports(runCli(['diff', linuxQemu, '--base', 'no-such-ref-anywhere']), 'error', 'git-unknown-ref', 2);
});

/** The message line of a diagnostic as the CLI prints it (no colour: NO_COLOR is set). */
function line(severity: 'error' | 'warning', id: string, message: string): RegExp {
  return new RegExp(`^sel4cp-synth: ${severity}\\[${id}\\]: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm');
}

/** Where `name` is on this machine's PATH (an absolute path), for linking it into a test PATH. */
function which(name: string): string | undefined {
  return (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, name)).find((p) => existsSync(p));
}

test('git-missing: diff --base needs git', () => {
  const empty = path.join(work, 'no-git-path');
  mkdirSync(empty);
  const r = runCli(['diff', linuxQemu, '--base', 'HEAD'], { env: { PATH: empty, MICROKIT_SDK: '' } });
  reports(r, 'error', 'git-missing', 2);
  assert.match(r.stderr, line('error', 'git-missing', 'cannot run git: ENOENT'));
  assert.match(r.stderr, /^ {2}hint: install git \(Debian package git\)$/m);
});

/** A git repository (outside this one) with a systems.ts committed at HEAD; its directory. */
function gitRepo(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const git = (...args: string[]): void => {
    const r = spawnSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, encoding: 'utf8' });
    assert.is(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q');
  writeFileSync(path.join(dir, 'sys.ts'), "import { system } from 'sel4cp-synth';\nexport default system({});\n");
  git('add', 'sys.ts');
  git('commit', '-q', '-m', 'sys');
  return dir;
}

testIf(missing('git'), 'git-file-absent: diff --base of a file that the commit does not have', () => {
  const repo = gitRepo('repo-absent');
  writeFileSync(path.join(repo, 'new.ts'), "import { system } from 'sel4cp-synth';\nexport default system({});\n");
  const r = runCli(['diff', path.join(repo, 'new.ts'), '--base', 'HEAD'], { env: { MICROKIT_SDK: '' } });
  reports(r, 'error', 'git-file-absent', 2);
  assert.match(r.stderr, line('error', 'git-file-absent', 'new.ts does not exist at HEAD'));
});

testIf(missing('git'), 'git-archive-failed: diff --base when the commit cannot be archived or extracted', () => {
  const repo = gitRepo('repo-archive');
  const file = path.join(repo, 'sys.ts');
  const git = which('git')!;
  // git archive itself fails (a git that refuses 'archive' and is the real one otherwise).
  const refusing = toolDir('refusing-git-bin', [], { git: `case "$1" in archive) echo 'fatal: no archive today' >&2; exit 128 ;; esac\nexec ${JSON.stringify(git)} "$@"` });
  const r1 = runCli(['diff', file, '--base', 'HEAD'], { env: { PATH: refusing, MICROKIT_SDK: '' } });
  reports(r1, 'error', 'git-archive-failed', 2);
  assert.match(r1.stderr, line('error', 'git-archive-failed', 'git archive HEAD failed: fatal: no archive today'));
  // The archive is made, but there is no tar to extract it with.
  const noTar = toolDir('git-no-tar-bin', ['git']);
  const r2 = runCli(['diff', file, '--base', 'HEAD'], { env: { PATH: noTar, MICROKIT_SDK: '' } });
  reports(r2, 'error', 'git-archive-failed', 2);
  assert.match(r2.stderr, /^sel4cp-synth: error\[git-archive-failed\]: cannot extract HEAD: .*\btar ENOENT$/m);
});

test('output-exists and file-unreadable: import keeps what is there and names what it cannot read', () => {
  const src = path.join(work, 'one.system');
  writeFileSync(src, '<system><protection_domain name="p"><program_image path="p.elf" /></protection_domain></system>\n');
  const out = path.join(work, 'one.ts');
  writeFileSync(out, '// mine\n');
  reports(runCli(['import', src, '-o', out]), 'error', 'output-exists', 1);
  reports(runCli(['check', path.join(work, 'absent.system')]), 'error', 'file-unreadable', 1);
});

test('run-not-qemu and run-no-image: run boots QEMU boards, and only an image that was made', () => {
  reports(runCli(['run', path.join(repoRoot, 'systems', 'linux.ts'), '--board', 'imx8mm', '--out', path.join(work, 'imx'), '--quiet'], { env: { MICROKIT_SDK: '' } }), 'error', 'run-not-qemu', 1);
  reports(runCli(['run', linuxQemu, '--out', path.join(work, 'noimage'), '--quiet'], { env: { MICROKIT_SDK: '' } }), 'error', 'run-no-image', 1);
});

test("graphviz-missing: an SVG needs Graphviz's dot", () => {
  const empty = path.join(work, 'empty-path');
  mkdirSync(empty);
  reports(runCli(['graph', linuxQemu], { env: { PATH: empty, MICROKIT_SDK: '' } }), 'error', 'graphviz-missing', 1);
});

/** A board tree that lacks a GIC: its timer and UART name no interrupt parent. */
function treeWithoutGic(): Uint8Array {
  const cells: FdtNode['props'] = [{ name: '#address-cells', value: u32Value(2) }, { name: '#size-cells', value: u32Value(2) }];
  const fdt: Fdt = {
    bootCpuidPhys: 0,
    memReserve: [],
    root: makeNode('', cells, [
      makeNode('cpus', [{ name: '#address-cells', value: u32Value(1) }, { name: '#size-cells', value: u32Value(0) }], [
        makeNode('cpu@0', [{ name: 'device_type', value: stringValue('cpu') }, { name: 'reg', value: u32Value(0) }, { name: 'enable-method', value: stringValue('psci') }]),
      ]),
      makeNode('timer', [{ name: 'compatible', value: stringValue('arm,armv8-timer') }, { name: 'interrupts', value: u32Value(1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4) }]),
      makeNode('pl011@9000000', [{ name: 'compatible', value: stringListValue(['arm,pl011']) }, { name: 'reg', value: u32Value(0, 0x900_0000, 0, 0x1000) }, { name: 'interrupts', value: u32Value(0, 1, 4) }]),
    ]),
  };
  return writeFdt(fdt);
}

test("board-dt-no-gic, board-dt-unreadable: the board's own tree is checked against boards/*.json", () => {
  const dtb = path.join(work, 'no-gic.dtb');
  writeFileSync(dtb, treeWithoutGic());
  const sys = path.join(work, 'board-dtb.ts');
  writeFileSync(sys, [
    "import { mib, passthrough, system, virtualMachine } from 'sel4cp-synth';",
    `const v = virtualMachine('v', { kernel: ${JSON.stringify(stub)}, ram: mib(64), boardDtb: ${JSON.stringify(dtb)}, passthrough: [passthrough('uart0')] });`,
    "export default system({ board: 'qemu_virt_aarch64', virtualMachines: [v] });",
    '',
  ].join('\n'));
  const r = runCli([sys, '--out', path.join(work, 'board-dtb-out'), '--quiet'], { env: { MICROKIT_SDK: '' } });
  reports(r, 'warning', 'board-dt-no-gic', 1);
  reports(r, 'warning', 'board-dt-unreadable', 1);
  assert.match(r.stderr, /error\[guest-dtb-invalid\]: the guest device tree of 'v' cannot be made from .*no-gic\.dtb: the board device tree has no Arm GIC node/);
});

test('guest-dt-interrupts: a passed-through device whose interrupt parent is gone is reported in the guest tree', () => {
  const dtb = path.join(work, 'dangling.dtb');
  // A tree like QEMU's, with the UART's interrupt parent pointing nowhere.
  const sys = path.join(work, 'guest-dt.ts');
  const gic = makeNode('intc@8000000', [
    { name: 'compatible', value: stringListValue(['arm,cortex-a15-gic']) }, { name: '#interrupt-cells', value: u32Value(3) },
    { name: 'interrupt-controller', value: new Uint8Array() }, { name: 'reg', value: u32Value(0, 0x800_0000, 0, 0x1_0000, 0, 0x801_0000, 0, 0x1_0000) },
    { name: 'phandle', value: u32Value(1) },
  ]);
  const withGic: Fdt = {
    bootCpuidPhys: 0,
    memReserve: [],
    root: makeNode('', [{ name: '#address-cells', value: u32Value(2) }, { name: '#size-cells', value: u32Value(2) }, { name: 'interrupt-parent', value: u32Value(1) }], [
      makeNode('cpus', [{ name: '#address-cells', value: u32Value(1) }, { name: '#size-cells', value: u32Value(0) }], [
        makeNode('cpu@0', [{ name: 'device_type', value: stringValue('cpu') }, { name: 'reg', value: u32Value(0) }, { name: 'enable-method', value: stringValue('psci') }]),
      ]),
      makeNode('timer', [{ name: 'compatible', value: stringValue('arm,armv8-timer') }, { name: 'interrupts', value: u32Value(1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4) }]),
      gic,
      makeNode('pl011@9000000', [{ name: 'compatible', value: stringListValue(['arm,pl011']) }, { name: 'reg', value: u32Value(0, 0x900_0000, 0, 0x1000) },
        { name: 'interrupts', value: u32Value(0, 1, 4) }, { name: 'interrupt-parent', value: u32Value(0x99) }]),
    ]),
  };
  writeFileSync(dtb, writeFdt(withGic));
  writeFileSync(sys, [
    "import { mib, passthrough, system, virtualMachine } from 'sel4cp-synth';",
    `const v = virtualMachine('v', { kernel: ${JSON.stringify(stub)}, ram: mib(64), boardDtb: ${JSON.stringify(dtb)}, passthrough: [passthrough('uart0')] });`,
    "export default system({ board: 'qemu_virt_aarch64', virtualMachines: [v] });",
    '',
  ].join('\n'));
  reports(runCli([sys, '--out', path.join(work, 'guest-dt-out'), '--quiet'], { env: { MICROKIT_SDK: '' } }), 'warning', 'guest-dt-interrupts', 0);
});

/** A directory for PATH with `tools` linked from the system, and `scripts` written as shell scripts. */
function toolDir(name: string, tools: string[], scripts: Record<string, string> = {}): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  for (const t of tools) {
    const found = (process.env['PATH'] ?? '').split(':').map((d) => path.join(d, t)).find((p) => existsSync(p));
    if (found) symlinkSync(found, path.join(dir, t));
  }
  for (const [t, body] of Object.entries(scripts)) {
    writeFileSync(path.join(dir, t), `#!/bin/sh\n${body}\n`);
    chmodSync(path.join(dir, t), 0o755);
  }
  return dir;
}

/** An SDK shaped like the real one, enough for the runtime build's checks (which run first). */
function fakeSdk(): string {
  const sdk = path.join(work, 'sdk');
  mkdirSync(path.join(sdk, 'bin'), { recursive: true });
  mkdirSync(path.join(sdk, 'board', 'qemu_virt_aarch64', 'debug', 'lib'), { recursive: true });
  writeFileSync(path.join(sdk, 'board', 'qemu_virt_aarch64', 'debug', 'lib', 'libmicrokit.a'), '');
  writeFileSync(path.join(sdk, 'bin', 'microkit'), '#!/bin/sh\nexit 1\n');
  chmodSync(path.join(sdk, 'bin', 'microkit'), 0o755);
  return sdk;
}

test('qemu-missing: run has made loader.img, and finds no QEMU to boot it', () => {
  // A native PD only (no guest, so no runtime build), and an SDK whose microkit writes the image.
  const dir = path.join(work, 'qemu-missing');
  mkdirSync(path.join(dir, 'sdk', 'bin'), { recursive: true });
  const microkit = path.join(dir, 'sdk', 'bin', 'microkit');
  writeFileSync(microkit, '#!/bin/sh\nwhile [ $# -gt 0 ]; do\n  case "$1" in -o|-r) : > "$2"; shift ;; esac\n  shift\ndone\n');
  chmodSync(microkit, 0o755);
  writeFileSync(path.join(dir, 'hello.elf'), '');
  const sys = path.join(dir, 'native.ts');
  writeFileSync(sys, [
    "import { protectionDomain, system } from 'sel4cp-synth';",
    "const hello = protectionDomain('hello', { program: 'hello.elf', priority: 100 });",
    "export default system({ board: 'qemu_virt_aarch64', protectionDomains: [hello] });",
    '',
  ].join('\n'));
  const empty = path.join(dir, 'empty-path');
  mkdirSync(empty);
  const r = runCli(['run', sys, '--out', path.join(dir, 'out'), '--sdk', path.join(dir, 'sdk'), '--quiet'], { env: { PATH: empty } });
  reports(r, 'error', 'qemu-missing', 1);
  assert.match(r.stderr, line('error', 'qemu-missing', 'qemu-system-aarch64 not found'));
  assert.match(r.stderr, /^ {2}hint: install Debian's qemu-system-arm$/m);
  assert.ok(existsSync(path.join(dir, 'out', 'loader.img')), 'the image was made before QEMU was looked for');
});

test('cross-compiler-broken and make-missing: the runtime build names the Debian package to install', () => {
  const dtb = path.join(work, 'guest.dtb');
  writeFileSync(dtb, treeWithoutGic());
  const sdk = fakeSdk();
  // The guest brings its own tree, so no QEMU is needed before the runtime build.
  const sys = path.join(work, 'runtime.ts');
  writeFileSync(sys, [
    "import { mib, passthrough, system, virtualMachine } from 'sel4cp-synth';",
    `const v = virtualMachine('v', { kernel: ${JSON.stringify(stub)}, ram: mib(64), dtb: ${JSON.stringify(dtb)}, passthrough: [passthrough('uart0')] });`,
    "export default system({ board: 'qemu_virt_aarch64', virtualMachines: [v] });",
    '',
  ].join('\n'));
  const cache = path.join(work, 'cache');
  const broken = toolDir('broken-bin', ['sh', 'make'], { 'aarch64-linux-gnu-gcc': 'case "$1" in --version) exit 0 ;; esac\nexit 1', 'aarch64-linux-gnu-ld': 'exit 0' });
  reports(runCli([sys, '--out', path.join(work, 'rt1'), '--sdk', sdk, '--quiet'], { env: { PATH: broken, XDG_CACHE_HOME: cache } }), 'error', 'cross-compiler-broken', 1);
  const noMake = toolDir('no-make-bin', ['sh', 'aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-ld', 'aarch64-linux-gnu-as', 'as', 'ld']);
  const r = runCli([sys, '--out', path.join(work, 'rt2'), '--sdk', sdk, '--quiet'], { env: { PATH: noMake, XDG_CACHE_HOME: cache } });
  // Without a cross compiler on this machine there is none to keep on PATH: then that is what is missing.
  reports(r, 'error', missingCrossCompiler() ? 'cross-compiler-missing' : 'make-missing', 1);
});

test.after(() => rmSync(work, { recursive: true, force: true }));

test.run();
