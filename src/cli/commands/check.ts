// `sel4cp-synth check <systems.ts | file.system>`: validate only; exit 0 valid, 1 invalid.
import { checkPolicy } from '../../compile/validate/policy.js';
import { loadPolicyFile } from '../review-io.js';
import { readUserText } from '../read-text.js';
import type { Argv, CommandModule } from 'yargs';
import path from 'node:path';
import { hasErrors } from '../../compile/diagnostics.js';
import { parseSystemXml } from '../../compile/parse/system-xml.js';
import { validateSystem } from '../../compile/validate/index.js';
import { buildModel, pickBoard } from '../pipeline.js';
import { kernelConfig, loadBoards } from '../io.js';
import { detectedNote, formatOf, FROM_OPTION, printNotes, type SystemFormat } from './import.js';
import { PREFIX } from '../report.js';
import { contextOption, parseContext, printDiagnostics } from './shared.js';

const POLICY_IDS = new Set(['flow-not-allowed', 'policy-rule-unused', 'policy-unknown-name']);

interface CheckArgs {
  file: string;
  from: SystemFormat | undefined;
  policy: string | undefined;
  board: string | undefined;
  context: string[] | undefined;
  quiet: boolean;
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check <file>',
  describe: 'validate a systems.ts or an existing .system file without writing anything',
  builder: (y: Argv) => contextOption(y
    .positional('file', { type: 'string', demandOption: true, describe: 'a systems.ts or a .system file' })
    .option('board', { type: 'string', describe: 'board name or alias (enables the board-specific checks)' })
    .option('from', FROM_OPTION)
    .option('policy', { type: 'string', describe: 'check the flows against this policy file (export default policy({...})), in place of any the systems.ts declares' })) as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    let diagnostics;
    let sel4cp = false;
    let boardKnown = args.board !== undefined;
    const isXml = args.file.endsWith('.system') || args.file.endsWith('.xml');
    if (isXml) {
      const file = path.resolve(args.file);
      const text = await readUserText(file, args.file);
      const { format, detected } = await formatOf(text, args.from);
      let board = pickBoard(args.board, undefined, undefined);
      if (format === 'sel4cp') {
        const { detectBoard, Notes } = await import('../../review/import/sel4cp.js');
        const notes = new Notes({ header: [], byElement: new Map(), footer: [] });
        const probe = parseSystemXml(text, file, undefined, 'sel4cp').model;
        board ??= probe ? detectBoard(probe, { file, boards: loadBoards() }, notes) : undefined;
        if (!args.quiet) printNotes([...(detected ? [detectedNote(file)] : []), ...notes.all]);
      }
      const parsed = parseSystemXml(text, file, board, format);
      sel4cp = format === 'sel4cp';
      boardKnown = board !== undefined;
      if (parsed.model && board) parsed.model.kernel = kernelConfig(process.env['MICROKIT_SDK'], board.microkitBoard, 'debug');
      if (parsed.model && args.policy !== undefined) parsed.model.policy = await loadPolicyFile(args.policy);
      diagnostics = [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])];
    } else {
      const built = await buildModel({ file: args.file, board: args.board, context: parseContext(args.context) });
      diagnostics = built.diagnostics;
      if (args.policy !== undefined) {
        // The file's policy gives way to the one given: judge the flows again.
        built.model.policy = await loadPolicyFile(args.policy);
        diagnostics = [...diagnostics.filter((d) => !POLICY_IDS.has(d.id)), ...checkPolicy(built.model)];
      }
    }
    printDiagnostics(diagnostics);
    if (hasErrors(diagnostics)) {
      process.exitCode = 1;
    } else if (!args.quiet) {
      process.stdout.write(`${PREFIX} ${args.file} is valid${diagnostics.length ? ` (${diagnostics.length} warning${diagnostics.length === 1 ? '' : 's'})` : ''}\n`);
      if (sel4cp) {
        process.stdout.write(`${PREFIX} as a seL4CP system; \`sel4cp-synth import ${args.file}\` writes it as a systems.ts, with a note for each change of meaning\n`);
      }
      if (!boardKnown && isXml) process.stdout.write(`${PREFIX} board-specific checks (GIC interfaces, RAM, IRQ numbers) were not run: pass --board\n`);
    }
  },
};
