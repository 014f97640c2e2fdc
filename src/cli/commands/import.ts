// `sel4cp-synth import <file.system> [-o systems.ts] [--board B]`: an existing Microkit system
// description as an idiomatic systems.ts (src/review/import/).
import { checkOutputFile } from '../output.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { error, UserError } from '../../compile/diagnostics.js';
import { pickBoard } from '../pipeline.js';
import { PREFIX } from '../report.js';
import { readUserFile, writeAtomically } from '../review-io.js';

interface ImportArgs {
  file: string;
  output: string | undefined;
  board: string | undefined;
  force: boolean;
  quiet: boolean;
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'turn a Microkit .system file into a systems.ts (same elements and values when synthesised)',
  builder: (y: Argv) => y
    .positional('file', { type: 'string', demandOption: true, describe: 'the .system file' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the systems.ts here (default: standard output)' })
    .option('board', { type: 'string', describe: "board name or alias, written as system({ board: ... })" })
    .option('force', { type: 'boolean', default: false, describe: 'overwrite --output if it exists' }) as unknown as Argv<ImportArgs>,
  handler: async (args) => {
    if (args.output !== undefined) await checkOutputFile(args.output);
    const board = pickBoard(args.board, undefined, undefined);
    const file = path.resolve(args.file);
    const text = await readUserFile(file, args.file);
    // ts-morph brings the TypeScript compiler: load it only for this command, not on every start.
    const { importSystemXml } = await import('../../review/import/index.js');
    const result = importSystemXml(text, { file, board: board?.name });
    if (result.text === undefined) throw new UserError(result.diagnostics);
    if (args.output === undefined) {
      process.stdout.write(result.text);
      return;
    }
    if (existsSync(args.output) && !args.force) {
      throw new UserError(error('output-exists', `${args.output} exists; pass --force to overwrite it`, undefined));
    }
    await writeAtomically(args.output, result.text);
    if (!args.quiet) process.stderr.write(`${PREFIX} wrote ${args.output}\n`);
  },
};
