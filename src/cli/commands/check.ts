// `sel4cp-synth check <systems.ts | file.system>`: validate only; exit 0 valid, 1 invalid.
import { checkPolicy } from '../../compile/validate/policy.js';
import { loadPolicyFile, withPolicyFile } from '../review-io.js';
import { readUserText } from '../read-text.js';
import type { Argv, CommandModule } from 'yargs';
import path from 'node:path';
import { hasErrors, type Diagnostic } from '../../compile/diagnostics/index.js';
import { parseSystemXml } from '../../compile/parse/system-xml.js';
import { generatedForBoard } from '../../compile/parse/generated.js';
import { validateSystem } from '../../compile/validate/index.js';
import type { MicrokitRelease } from '../../compile/releases.js';
import type { MicrokitConfig } from '../../compile/model/target.js';
import { buildModel } from '../../compile/synthesise.js';
import { loadBoards, pickBoard } from '../../compile/load/boards.js';
import { xmlModel } from '../../compile/parse/xml-model.js';
import { PREFIX } from '../report.js';
import { configOption, contextOption, microkitOption, parseContext, printDiagnostics } from './shared.js';
import { detectedNote, formatOf, FROM_OPTION, printNotes, type SystemFormat } from './import.js';

const POLICY_IDS = new Set(['flow-not-allowed', 'policy-rule-unused', 'policy-unknown-name']);

interface CheckArgs {
  file: string;
  from: SystemFormat | undefined;
  policy: string | undefined;
  board: string | undefined;
  microkit: MicrokitRelease | undefined;
  config: MicrokitConfig;
  'search-path': string[] | undefined;
  context: string[] | undefined;
  quiet: boolean;
}

interface Checked {
  diagnostics: Diagnostic[];
  release: MicrokitRelease;
  sel4cp: boolean;
  boardKnown: boolean;
}

/** A .system file: its format (Microkit or seL4CP) and board told from it when not given. */
async function checkXml(args: CheckArgs): Promise<Checked> {
  const file = path.resolve(args.file);
  const text = await readUserText(file, args.file);
  const { format, detected } = await formatOf(text, args.from);
  // A file sel4cp-synth generated names its board in its header.
  let board = pickBoard(args.board, generatedForBoard(text), undefined, path.dirname(file));
  if (format === 'sel4cp') {
    const { detectBoard, Notes } = await import('../../review/import/sel4cp.js');
    const notes = new Notes({ header: [], byElement: new Map(), footer: [] });
    const probe = parseSystemXml(text, file, undefined, { dialect: 'sel4cp' }).model;
    board ??= probe ? detectBoard(probe, { file, boards: loadBoards() }, notes) : undefined;
    if (!args.quiet) printNotes([...(detected ? [detectedNote(file)] : []), ...notes.all]);
  }
  const parsed = xmlModel(text, file, {
    board, microkit: args.microkit, config: args.config, dialect: format === 'sel4cp' ? 'sel4cp' : 'microkit', searchPaths: args['search-path'],
  });
  if (parsed.model && args.policy !== undefined) parsed.model.policy = withPolicyFile(parsed.model.policy, await loadPolicyFile(args.policy));
  return {
    diagnostics: [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])],
    release: parsed.release,
    sel4cp: format === 'sel4cp',
    boardKnown: board !== undefined,
  };
}

async function checkTypeScript(args: CheckArgs): Promise<Checked> {
  const built = await buildModel({ file: args.file, board: args.board, context: parseContext(args.context), microkit: args.microkit, config: args.config });
  let diagnostics = built.diagnostics;
  if (args.policy !== undefined) {
    // The policy given applies alongside the file's own (never in its place): judge the flows again.
    built.model.policy = withPolicyFile(built.model.policy, await loadPolicyFile(args.policy));
    diagnostics = [...diagnostics.filter((d) => !POLICY_IDS.has(d.id)), ...checkPolicy(built.model)];
  }
  return { diagnostics, release: built.model.microkit, sel4cp: false, boardKnown: true };
}

export const checkCommand: CommandModule<object, CheckArgs> = {
  command: 'check <file>',
  describe: 'validate a systems.ts or an existing .system file without writing anything',
  builder: (y: Argv) => contextOption(configOption(microkitOption(y
    .positional('file', { type: 'string', demandOption: true, describe: 'a systems.ts or a .system file' })
    .option('board', { type: 'string', describe: 'board name or alias (enables the board-specific checks)' })
    .option('from', FROM_OPTION)
    .option('search-path', { type: 'string', array: true, describe: "where a .system file's prefill_path files are looked for, after the file's own directory (repeatable)" })
    .option('policy', { type: 'string', describe: 'check the flows against this policy file (export default policy({...})) as well as against any policy the systems.ts declares' })))) as unknown as Argv<CheckArgs>,
  handler: async (args) => {
    const isXml = args.file.endsWith('.system') || args.file.endsWith('.xml');
    const checked = isXml ? await checkXml(args) : await checkTypeScript(args);
    printDiagnostics(checked.diagnostics);
    if (hasErrors(checked.diagnostics)) {
      process.exitCode = 1;
      return;
    }
    if (args.quiet) return;
    const warnings = checked.diagnostics.length;
    process.stdout.write(`${PREFIX} ${args.file} is valid for Microkit ${checked.release}${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}\n`);
    if (checked.sel4cp) {
      process.stdout.write(`${PREFIX} as a seL4CP system; \`sel4cp-synth import ${args.file}\` writes it as a systems.ts, with a note for each change of meaning\n`);
    }
    if (!checked.boardKnown && isXml) process.stdout.write(`${PREFIX} board-specific checks (GIC interfaces, RAM, IRQ numbers) were not run: pass --board\n`);
  },
};
