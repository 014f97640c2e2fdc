/** The QEMU runner's process handling, with `sh` standing in for QEMU. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { QemuError, directKernelBootArgs, findExecutable, runQemu, startQemu } from '../../src/run/qemu.js';

/** Running and not a zombie (an orphan may wait a moment for init to reap it). */
const isAlive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function gone(pid: number, withinMs = 2000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < withinMs; await new Promise((r) => setTimeout(r, 20))) {
    if (!isAlive(pid)) return true;
  }
  return false;
}

test('waitFor sees output from stdout and stderr and times it', async () => {
  const q = startQemu({ binary: 'sh', args: ['-c', 'echo one; sleep 0.2; echo two >&2; exec sleep 30'] });
  try {
    const m = await q.waitFor('two', 5000);
    assert.is(m.text, 'two');
    assert.ok(m.elapsedMs >= 150, `elapsed ${m.elapsedMs}`);
    const r = await q.waitFor(/o(n|w)e/, 10);
    assert.is(r.text, 'one');
  } finally {
    await q.stop();
  }
  assert.is(q.exit?.signal, 'SIGTERM');
});

test('a string split across output chunks still matches; `from` skips earlier output', async () => {
  const q = startQemu({ binary: 'sh', args: ['-c', "printf 'x SEL4'; sleep 0.1; printf 'CP-SYNTH: up\\n'; sleep 0.1; echo again; exec sleep 30"] });
  try {
    await q.waitFor('SEL4CP-SYNTH: up', 5000);
    const after = q.position;
    const m = await q.waitFor(/ag(a)in/g, 5000, after);
    assert.is(m.text, 'again');
    const late = await q.waitFor('SEL4CP', 200, q.position).catch((e: unknown) => e);
    assert.is((late as QemuError).kind, 'timeout');
  } finally {
    await q.stop();
  }
});

test('send types on stdin; exit status is reported', async () => {
  const q = startQemu({ binary: 'sh', args: ['-c', 'read l; echo "got $l"; exit 3'] });
  q.send('abc\n');
  await q.waitFor('got abc', 5000);
  const e = await q.waitForExit(5000);
  assert.is(e.code, 3);
});

test('timeout rejects with the last output, and runQemu leaves no process behind', async () => {
  let output = '';
  const err = await runQemu({
    binary: 'sh',
    // $$ is the shell's pid, which `exec` hands on to sleep: the process runQemu must end.
    args: ['-c', 'echo "pid $$ booting"; exec sleep 60'],
    expect: 'never',
    timeoutMs: 300,
    onOutput: (t) => (output += t),
  }).catch((e: unknown) => e);
  assert.ok(err instanceof QemuError);
  assert.is((err as QemuError).kind, 'timeout');
  assert.match((err as QemuError).message, /booting/);
  const pid = Number(/pid (\d+)/.exec(output)?.[1]);
  assert.ok(pid > 0);
  assert.ok(await gone(pid), 'the process was stopped');
});

test('early exit and a missing binary reject with their kinds', async () => {
  const q = startQemu({ binary: 'sh', args: ['-c', 'echo bye; exit 1'] });
  const e1 = await q.waitFor('marker', 5000).catch((e: unknown) => e);
  assert.is((e1 as QemuError).kind, 'exited');
  assert.match((e1 as QemuError).message, /status 1[\s\S]*bye/);
  const missing = startQemu({ binary: '/nonexistent/qemu-system-aarch64', args: [] });
  const e2 = await missing.waitFor('x', 5000).catch((e: unknown) => e);
  assert.is((e2 as QemuError).kind, 'spawn-failed');
});

test('Ctrl-C (SIGINT) on the Node process takes its QEMU down with it', async () => {
  const qemuModule = fileURLToPath(new URL('../../src/run/qemu.js', import.meta.url));
  // process.stdout.write, not console.log: under uvu FORCE_COLOR is set and would colour the pid.
  const script = `
    const { startQemu } = await import(${JSON.stringify(qemuModule)});
    const q = startQemu({ binary: 'sh', args: ['-c', 'exec sleep 60'] });
    process.stdout.write('child ' + q.pid + '\\n');
    setInterval(() => undefined, 1000);
  `;
  const node = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const guard = setTimeout(() => node.kill('SIGKILL'), 10_000);
  try {
    const ended = new Promise<number | null>((resolve) => node.on('exit', (code) => resolve(code)));
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      node.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        const m = /child (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      void ended.then(() => reject(new Error(`child Node ended early: ${out}`)));
    });
    assert.ok(isAlive(pid));
    node.kill('SIGINT');
    assert.is(await ended, 130, 'Node exits with 128 + SIGINT');
    assert.ok(await gone(pid), 'the stand-in QEMU is gone');
  } finally {
    clearTimeout(guard);
    node.kill('SIGKILL');
  }
});

test('findExecutable and direct-boot arguments', () => {
  assert.ok(findExecutable('sh'));
  assert.is(findExecutable('no-such-program-here'), undefined);
  assert.equal(directKernelBootArgs({ kernel: 'K', initrd: 'I', append: 'console=ttyAMA0' }), [
    '-machine', 'virt,virtualization=on', '-cpu', 'cortex-a53', '-m', '1G', '-nographic', '-no-reboot',
    '-kernel', 'K', '-initrd', 'I', '-append', 'console=ttyAMA0',
  ]);
});

test.run();
