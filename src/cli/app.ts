// The sel4cp-synth command line as a function (main.ts runs it; tests call it in-process). A
// user error prints its message and exits 1; anything else is our bug: say so, print the stack,
// exit 2.
import yargs from 'yargs';
import { UserError } from '../compile/diagnostics/index.js';
import { BoardFileError } from '../compile/boards.js';
import { synthCommand } from './commands/synth.js';
import { checkCommand } from './commands/check.js';
import { runCommand } from './commands/run.js';
import { boardsCommand } from './commands/boards.js';
import { boardCommand } from './commands/board.js';
import { diffCommand, DIFF_TROUBLE } from './commands/diff.js';
import { graphCommand } from './commands/graph.js';
import { importCommand } from './commands/import.js';
import { initCommand } from './commands/init.js';
import { flowsCommand } from './commands/flows.js';
import { guestCommand } from './commands/guest.js';
import { ContextArgError, printDiagnostics } from './commands/shared.js';
import { PREFIX } from './report.js';
import { TOOL_VERSION } from '../compile/package.js';

export async function main(argv: string[]): Promise<number> {
  // Commands report "invalid" through process.exitCode; keep a caller's own value out of it.
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    return await run(argv);
  } finally {
    process.exitCode = before;
  }
}

async function run(argv: string[]): Promise<number> {
  try {
    await yargs(argv)
      .scriptName('sel4cp-synth')
      .usage('$0 <systems.ts> [options]\n\nInfrastructure-as-code for seL4 Microkit virtualised systems.')
      .option('quiet', { type: 'boolean', default: false, describe: 'print only problems' })
      .middleware(lastOneWins, true)
      .command(checkCommand)
      .command(runCommand)
      .command(boardsCommand)
      .command(boardCommand)
      .command(diffCommand)
      .command(graphCommand)
      .command(importCommand)
      .command(initCommand)
      .command(flowsCommand)
      .command(guestCommand)
      .command(synthCommand)
      .strict()
      .version(TOOL_VERSION)
      .help()
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(msg);
      })
      .parseAsync();
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof UserError) {
      printDiagnostics(e.diagnostics);
      return 1;
    }
    if (e instanceof UsageError || e instanceof ContextArgError || e instanceof BoardFileError) {
      process.stderr.write(`${PREFIX} error: ${e.message}\n${e instanceof UsageError ? `${PREFIX} see 'sel4cp-synth --help'\n` : ''}`);
      // diff keeps git's convention: 1 means "they differ", so its usage errors exit 2.
      return argv.find((a) => !a.startsWith('-')) === 'diff' ? DIFF_TROUBLE : 1;
    }
    process.stderr.write(`${PREFIX} internal error (a bug in sel4cp-synth, not in your system; please report it):\n`);
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    return 2;
  }
}

class UsageError extends Error {}

/** Options that may be given more than once and collect their values. */
const REPEATABLE = new Set(['search-path', 'searchPath', 'context', 'c', 'expect']);

/**
 * An option given twice (`--board a --board b`) reaches the commands as an array; for every
 * option that is not repeatable the last one wins, as in most command-line tools.
 */
function lastOneWins(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (key !== '_' && !REPEATABLE.has(key) && Array.isArray(value)) argv[key] = value[value.length - 1];
  }
}

