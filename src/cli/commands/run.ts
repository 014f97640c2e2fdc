// `sel4cp-synth run <systems.ts>`: synthesise (building what is needed) and boot the image on
// QEMU, streaming the console. With --expect it exits 0 once the text appears and non-zero,
// with the last lines, on timeout or early exit. QEMU never outlives the command.
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { QemuError, startQemu, findExecutable, QEMU_AARCH64, type QemuProcess } from '../../run/qemu.js';
import { qemuArgs } from '../../run/machine.js';
import { PREFIX } from '../report.js';
import { buildOptions, contextOption, type BuildArgs, progressPrinter, synthesiseForCommand } from './shared.js';

interface RunArgs extends BuildArgs {
  system: string;
  context: string[] | undefined;
  timeout: number | undefined;
  expect: string[] | undefined;
  send: string[] | undefined;
  'send-after': string | undefined;
  quiet: boolean;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <system>',
  describe: 'synthesise and boot a system on QEMU, streaming its console',
  builder: (y: Argv) => contextOption(buildOptions(y
    .positional('system', { type: 'string', demandOption: true, describe: 'the systems.ts file' }), 'a QEMU board (overrides the one in systems.ts)')
    .option('timeout', { type: 'number', describe: 'seconds to wait (for --expect, or for QEMU to exit)' })
    .option('expect', { type: 'string', array: true, describe: 'exit 0 as soon as the console has printed this text (repeatable: all of them, in any order)' })
    .option('send', { type: 'string', array: true, describe: 'type this line into the console (repeatable, in order; Enter follows each); standard input, when it is not a terminal, is typed too' })
    .option('send-after', { type: 'string', describe: 'type nothing (--send lines or piped input) until the console has printed this text, e.g. a prompt' })) as unknown as Argv<RunArgs>,
  handler: async (args) => {
    const progress = progressPrinter(args.quiet);
    const result = await synthesiseForCommand(args);
    if (!result) return;
    const board = result.model.board;
    if (!board?.qemu) {
      throw new UserError(error('run-not-qemu', `'run' boots QEMU boards only; ${board ? `'${board.name}' is real hardware` : 'no board was given'}`, undefined, {
        hint: `synthesise for the board and flash ${path.join(path.relative(process.cwd(), result.outDir) || '.', 'loader.img')} instead`,
      }));
    }
    if (!result.loaderImage) {
      const why = result.skipped.map((s) => `${s.step}: ${s.reason}`).join('; ');
      throw new UserError(error('run-no-image', `no loader.img to boot: ${why}`, undefined));
    }
    if (!findExecutable(QEMU_AARCH64)) {
      throw new UserError(error('qemu-missing', `${QEMU_AARCH64} not found`, undefined, { hint: "install Debian's qemu-system-arm" }));
    }
    const qargs = qemuArgs(board, result.loaderImage, result.model);
    progress?.(`boot: ${[QEMU_AARCH64, ...qargs].map(shellWord).join(' ')}`);
    const interactive = (args.expect ?? []).length === 0 && args.send === undefined && process.stdin.isTTY === true;
    let atLineStart = true;
    const qemu = startQemu({
      args: qargs,
      stdin: interactive ? 'inherit' : 'pipe',
      onOutput: (t) => {
        process.stdout.write(t);
        if (t.length > 0) atLineStart = t.endsWith('\n');
      },
    });
    // Our own lines start on a line of their own, whatever the console was in the middle of.
    const say = (line: string): void => {
      if (!atLineStart) process.stdout.write('\n');
      atLineStart = true;
      progress?.(line);
    };
    const timeoutMs = (args.timeout ?? 0) * 1000;
    const input = typeInput(qemu, [args.send ?? []].flat(), args['send-after'], timeoutMs, !interactive);
    try {
      const typing = input.typing;
      // Awaited below; a failure before then is the same QemuError the expectations report.
      typing.catch(() => undefined);
      if (args.expect !== undefined && args.expect.length > 0) {
        const limit = timeoutMs > 0 ? timeoutMs : 24 * 3600 * 1000;
        const matches = await Promise.all(args.expect.map((text) => qemu.waitFor(text, limit, 0)));
        await typing;
        for (const [i, m] of matches.entries()) say(`boot: saw '${args.expect[i]}' after ${(m.elapsedMs / 1000).toFixed(2)} s`);
      } else {
        await typing;
        const exit = await qemu.waitForExit(timeoutMs > 0 ? timeoutMs : 24 * 3600 * 1000);
        if (exit.code !== 0) process.exitCode = 1;
      }
    } catch (e) {
      if (e instanceof QemuError) {
        if (!atLineStart) process.stdout.write('\n');
        process.stderr.write(`${PREFIX} error[run-${e.kind}]: ${e.kind === 'timeout' ? (args.expect?.length ? `the console did not print ${args.expect.map((t) => `'${t}'`).join(' and ')} within ${args.timeout} s` : `QEMU did not exit within ${args.timeout} s`) : e.kind === 'exited' ? 'QEMU exited before the expected text appeared' : 'QEMU could not start'}\n`);
        if (e.tail) process.stderr.write(`${PREFIX} last lines of the console:\n${e.tail.split('\n').slice(-20).join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      throw e;
    } finally {
      input.detach();
      await qemu.stop();
    }
  },
};

/**
 * What is typed into the console: the --send lines, and piped standard input (a terminal is
 * QEMU's own), both held back until --send-after has appeared. A line ends as a terminal's Enter
 * ends it: a carriage return (the guest tty's ICRNL makes it a newline).
 */
function typeInput(qemu: QemuProcess, lines: readonly string[], after: string | undefined, timeoutMs: number, piped: boolean): { typing: Promise<void>; detach: () => void } {
  const held: string[] = [];
  let ready = after === undefined;
  const forward = (chunk: Buffer): void => {
    const text = chunk.toString('utf8').replace(/\r?\n/g, '\r');
    if (ready) qemu.send(text);
    else held.push(text);
  };
  if (piped && process.stdin.isTTY !== true) process.stdin.on('data', forward);
  const typing = typeLines(qemu, lines, after, timeoutMs).then(() => {
    ready = true;
    for (const text of held.splice(0)) qemu.send(text);
  });
  return {
    typing,
    detach: () => {
      process.stdin.off('data', forward);
      process.stdin.pause();
    },
  };
}

/** Types each line (and Enter) into the console, once `after` has appeared when given. */
async function typeLines(qemu: QemuProcess, lines: readonly string[], after: string | undefined, timeoutMs: number): Promise<void> {
  if (after !== undefined) await qemu.waitFor(after, timeoutMs > 0 ? timeoutMs : 24 * 3600 * 1000, 0);
  for (const line of lines) qemu.send(`${line}\r`);
}

/** A word as a POSIX shell reads it back, so the boot line can be pasted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
