// `sel4cp-synth check <systems.ts | file.system>`: validate only; exit 0 valid, 1 invalid.
import { readUserText } from '../read-text.js';
import type { Argv, CommandModule } from 'yargs';
import path from 'node:path';
import { hasErrors } from '../../compile/diagnostics.js';
import { parseSystemXml } from '../../compile/parse/system-xml.js';
import { validateSystem } from '../../compile/validate/index.js';
import { buildModel, pickBoard } from '../pipeline.js';
import { kernelConfig } from '../io.js';
import { PREFIX } from '../report.js';
import { contextOption, parseContext, printDiagnostics } from './shared.js';

interface CheckArgs {
  file: string;
  board: string | undefined;
  context: string[] | undefined;
  quiet: boolean;
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check <file>',
  describe: 'validate a systems.ts or an existing .system file without writing anything',
  builder: (y: Argv) => contextOption(y
    .positional('file', { type: 'string', demandOption: true, describe: 'a systems.ts or a .system file' })
    .option('board', { type: 'string', describe: 'board name or alias (enables the board-specific checks)' })) as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    let diagnostics;
    const isXml = args.file.endsWith('.system') || args.file.endsWith('.xml');
    if (isXml) {
      const file = path.resolve(args.file);
      const text = await readUserText(file, args.file);
      const board = pickBoard(args.board, undefined, undefined);
      const parsed = parseSystemXml(text, file, board);
      if (parsed.model && board) parsed.model.kernel = kernelConfig(process.env['MICROKIT_SDK'], board.microkitBoard, 'debug');
      diagnostics = [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])];
    } else {
      diagnostics = (await buildModel({ file: args.file, board: args.board, context: parseContext(args.context) })).diagnostics;
    }
    printDiagnostics(diagnostics);
    if (hasErrors(diagnostics)) {
      process.exitCode = 1;
    } else if (!args.quiet) {
      process.stdout.write(`${PREFIX} ${args.file} is valid${diagnostics.length ? ` (${diagnostics.length} warning${diagnostics.length === 1 ? '' : 's'})` : ''}\n`);
      if (!args.board && isXml) process.stdout.write(`${PREFIX} board-specific checks (GIC interfaces, RAM, IRQ numbers) were not run: pass --board\n`);
    }
  },
};
