// `sel4cp-synth import <file.system> [-o systems.ts] [--board B] [--from microkit|sel4cp]`: an
// existing system description as an idiomatic systems.ts (src/review/import/). A Microkit file
// keeps every element and value; a seL4 Core Platform file (2023) has its VMMs recognised and
// written as virtualMachine(), each change of meaning printed as a note.
import { checkOutputFile } from '../../compile/output.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { microkitRelease } from '../../compile/model/sdk.js';
import { loadBoards } from '../../compile/load/boards.js';
import { DEFAULT_RELEASE, type MicrokitRelease } from '../../compile/releases.js';
import { microkitOption } from './shared.js';
import { pickBoard } from '../../compile/load/boards.js';
import { formatLoc, PREFIX, styleFor } from '../report.js';
import { readUserFile, writeAtomically } from '../review-io.js';
import type { Sel4cpNote } from '../../review/import/sel4cp.js';
import type { Loc } from '../../compile/model/index.js';

export type SystemFormat = 'microkit' | 'sel4cp';

interface ImportArgs {
  file: string;
  microkit: MicrokitRelease | undefined;
  'search-path': string[] | undefined;
  output: string | undefined;
  board: string | undefined;
  from: SystemFormat | undefined;
  force: boolean;
  quiet: boolean;
}

export const FROM_OPTION = {
  type: 'string',
  choices: ['microkit', 'sel4cp'],
  describe: `the file's format: Microkit ${DEFAULT_RELEASE}'s, or the seL4 Core Platform's of 2023 (vm_id, guest images in the VM) (default: told from the file)`,
} as const;

/** The format asked for, or the one the file uses (with a note saying so). */
export async function formatOf(text: string, from: SystemFormat | undefined): Promise<{ format: SystemFormat; detected: boolean }> {
  if (from) return { format: from, detected: false };
  const { looksLikeSel4cp } = await import('../../review/import/sel4cp.js');
  return looksLikeSel4cp(text) ? { format: 'sel4cp', detected: true } : { format: 'microkit', detected: false };
}

export function detectedNote(file: string): Sel4cpNote {
  const loc: Loc = { file, line: 1, column: 1 };
  return {
    kind: 'format-detected', loc,
    was: 'a <virtual_machine> has vm_id or names its images (program_image, device_tree, init_ram_disk): the seL4 Core Platform format of 2023',
    now: `read as that format (--from sel4cp); pass --from microkit to read it as Microkit ${DEFAULT_RELEASE}`,
  };
}

export function printNotes(notes: readonly Sel4cpNote[]): void {
  const style = styleFor(process.stderr);
  for (const n of notes) {
    const where = n.loc ? `${formatLoc(n.loc, process.cwd())}: ` : `${PREFIX} `;
    process.stderr.write(`${style.bold(where)}${style.cyan(`note[${n.kind}]`)}: ${n.now}\n  seL4CP: ${n.was}\n`);
  }
}

export const importCommand: CommandModule<object, ImportArgs> = {
  command: 'import <file>',
  describe: 'turn a .system file (Microkit, or seL4CP of 2023) into a systems.ts',
  builder: (y: Argv) => microkitOption(y)
    .positional('file', { type: 'string', demandOption: true, describe: 'the .system file' })
    .option('output', { alias: 'o', type: 'string', describe: 'write the systems.ts here (default: standard output)' })
    .option('board', { type: 'string', describe: "board name or alias, written as system({ board: ... })" })
    .option('from', FROM_OPTION)
    .option('search-path', { type: 'string', array: true, describe: "where prefill_path files are looked for, after the file's own directory (repeatable)" })
    .option('force', { type: 'boolean', default: false, describe: 'overwrite --output if it exists' }) as unknown as Argv<ImportArgs>,
  handler: async (args) => {
    if (args.output !== undefined) {
      await checkOutputFile(args.output);
      if (existsSync(args.output) && !args.force) {
        throw new UserError(error('output-exists', `${args.output} exists; pass --force to overwrite it`, undefined));
      }
    }
    const board = pickBoard(args.board, undefined, undefined);
    const file = path.resolve(args.file);
    const text = await readUserFile(file, args.file);
    const { format, detected } = await formatOf(text, args.from);
    // ts-morph brings the TypeScript compiler: load it only for this command, not on every start.
    let result: { text: string | undefined; diagnostics: import('../../compile/diagnostics/index.js').Diagnostic[] };
    if (format === 'sel4cp') {
      const { importSel4cpXml } = await import('../../review/import/sel4cp.js');
      const outDir = args.output !== undefined ? path.dirname(path.resolve(args.output)) : process.cwd();
      const r = importSel4cpXml(text, { file, board, boards: loadBoards(), outDir });
      if (r.text !== undefined && !args.quiet) printNotes([...(detected ? [detectedNote(file)] : []), ...r.notes]);
      result = r;
    } else {
      const { importSystemXml } = await import('../../review/import/index.js');
      const outDir = args.output !== undefined ? path.dirname(path.resolve(args.output)) : process.cwd();
      const release = microkitRelease(process.env['MICROKIT_SDK'], args.microkit);
      result = importSystemXml(text, { file, board: board?.name, release, outDir, searchPaths: args['search-path'] });
    }
    if (result.text === undefined) throw new UserError(result.diagnostics);
    if (args.output === undefined) {
      process.stdout.write(result.text);
      return;
    }
    await writeAtomically(args.output, result.text);
    if (!args.quiet) process.stderr.write(`${PREFIX} wrote ${args.output}\n`);
  },
};
