// `sel4cp-synth diff <old> <new>` and `sel4cp-synth diff <systems.ts> --base <ref>`: the
// semantic difference of two systems, privilege changes first. Exit codes follow
// `git diff --exit-code`: 0 equal, 1 different, 2 trouble (so a user error here exits 2, not 1).
import type { Argv, CommandModule } from 'yargs';
import type { MicrokitRelease } from '../../compile/releases.js';
import { BoardFileError } from '../../compile/boards.js';
import { error, UserError } from '../../compile/diagnostics/index.js';
import type { SystemModel } from '../../compile/model/index.js';
import { diffModels } from '../../review/diff.js';
import { formatDiffJson, formatDiffMarkdown, formatDiffText, type DiffSides } from '../../review/diff-format.js';
import { PREFIX } from '../report.js';
import { loadModel, loadModelAtRef } from '../review-io.js';
import { ContextArgError, contextOption, parseContext, printDiagnostics, microkitOption } from './shared.js';

export type DiffFormat = 'text' | 'markdown' | 'json';

interface DiffArgs {
  microkit: MicrokitRelease | undefined;
  old: string;
  new: string | undefined;
  base: string | undefined;
  format: DiffFormat;
  board: string | undefined;
  context: string[] | undefined;
  quiet: boolean;
}

/** Exit code for "the systems differ" (0 is "equal"). */
export const DIFF_DIFFERENT = 1;
/** Exit code for any trouble: an unreadable or invalid input, a bad git revision, a usage error. */
export const DIFF_TROUBLE = 2;

export const diffCommand: CommandModule<object, DiffArgs> = {
  command: 'diff <old> [new]',
  describe: 'semantic diff of two systems (systems.ts or .system), privilege changes first',
  builder: (y: Argv) => contextOption(microkitOption(y
    .usage('$0 diff <old> <new> [options]\n$0 diff <systems.ts> --base <git-ref> [options]\n\n'
      + 'Compares the resolved systems: memory regions, protection domains, virtual machines, maps, IRQs, '
      + 'channels, setvars, guests and passthrough devices. Changes that widen privilege (new writable or '
      + 'executable mappings, devices newly reachable, regions newly shared, IRQs granted or moved, raised '
      + 'priorities, new pp channels, SMC) are listed first.\n\n'
      + 'Exit status: 0 when the systems are equal, 1 when they differ, 2 on error (an unreadable or invalid '
      + 'file, an unknown git revision, bad arguments).')
    .positional('old', { type: 'string', demandOption: true, describe: 'the old system (or, with --base, the file to compare with its past)' })
    .positional('new', { type: 'string', describe: 'the new system' })
    .option('base', { type: 'string', describe: 'compare <old> as it was at this git commit (the "old" side) with the file as it is now' })
    .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text' as const, describe: 'text (colour on a terminal, NO_COLOR respected), markdown (for a pull request) or json' })
    .option('board', { type: 'string', describe: 'board name or alias, for both sides' })
    )) as unknown as Argv<DiffArgs>,
  handler: async (args) => {
    try {
      if (args.base !== undefined && args.new !== undefined) throw new UserError(error('diff-usage', 'give either <new> or --base, not both', undefined));
      if (args.base === undefined && args.new === undefined) {
        throw new UserError(error('diff-usage', 'give the new system, or --base <git-ref> to compare the file with a commit', undefined));
      }
      const context = parseContext(args.context);
      const input = { board: args.board, context, microkit: args.microkit };
      let older: SystemModel;
      let newer: SystemModel;
      let sides: DiffSides;
      if (args.base !== undefined) {
        const base = await loadModelAtRef(args.old, args.base, input);
        older = base.model;
        newer = await loadModel(args.old, input);
        sides = { old: base.label, new: args.old };
      } else {
        older = await loadModel(args.old, input);
        newer = await loadModel(args.new!, input);
        sides = { old: args.old, new: args.new! };
      }
      const diff = diffModels(older, newer);
      const out = args.format === 'json' ? formatDiffJson(diff, sides)
        : args.format === 'markdown' ? formatDiffMarkdown(diff, sides)
          : formatDiffText(diff, sides, { colour: Boolean(process.stdout.isTTY) && !process.env['NO_COLOR'], prefix: PREFIX });
      if (!(args.quiet && args.format === 'text')) process.stdout.write(out);
      process.exitCode = diff.changes.length ? DIFF_DIFFERENT : 0;
    } catch (e) {
      if (e instanceof UserError) {
        printDiagnostics(e.diagnostics);
      } else if (e instanceof ContextArgError || e instanceof BoardFileError) {
        process.stderr.write(`${PREFIX} error: ${e.message}\n`);
      } else {
        throw e;
      }
      process.exitCode = DIFF_TROUBLE;
    }
  },
};
