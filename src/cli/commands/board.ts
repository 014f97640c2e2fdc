// `sel4cp-synth board add <name> --dtb FILE [--sdk DIR] [--microkit-board NAME] [--dir DIR]`:
// writes boards/<name>.json (and the DTB beside it as boards/<name>.dtb) into the project, where
// --board and `boards` find it. Derivation is src/compile/boards/add.ts; here, the arguments, the
// files and what is printed.
import type { Argv, CommandModule } from 'yargs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { DtbError } from '../../compile/dtb/fdt.js';
import { readFdt } from '../../compile/dtb/fdt-read.js';
import { addBoard } from '../../compile/boards/add.js';
import { BoardDeriveError } from '../../compile/boards/error.js';
import { boardFileText } from '../../compile/boards/shipped.js';
import { PREFIX } from '../report.js';

interface AddArgs {
  name: string;
  dtb: string;
  sdk: string | undefined;
  'microkit-board': string | undefined;
  dir: string;
  force: boolean;
  quiet: boolean;
}

function refused(message: string, hint?: string): UserError {
  return new UserError(error('board-add-refused', message, undefined, hint ? { hint } : {}));
}

function add(args: AddArgs): void {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(args.dtb));
  } catch {
    throw refused(`cannot read the device tree ${args.dtb}`);
  }
  const out = path.resolve(args.dir, 'boards');
  const file = path.join(out, `${args.name}.json`);
  if (existsSync(file) && !args.force) throw refused(`${path.relative(process.cwd(), file)} exists`, 'pass --force to replace it');
  let derived;
  try {
    derived = addBoard({ name: args.name, tree: readFdt(bytes), dtbShown: args.dtb, sdk: args.sdk, microkitBoard: args['microkit-board'] });
  } catch (e) {
    if (e instanceof DtbError) throw refused(`${args.dtb} is not a usable device tree blob: ${e.message}`);
    if (e instanceof BoardDeriveError) throw refused(`board '${args.name}' cannot host a virtual machine: missing ${e.fact}: ${e.message}`);
    throw e;
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, `${args.name}.dtb`), bytes);
  writeFileSync(file, boardFileText(derived.json));
  const shown = path.relative(process.cwd(), file) || file;
  for (const m of derived.missing) process.stderr.write(`${PREFIX} board add: ${shown}: '${m.fact}' not derived: add ${m.add}\n`);
  if (!args.quiet) {
    process.stdout.write(`${PREFIX} wrote ${shown} and ${args.name}.dtb beside it${derived.missing.length ? `; fill in the ${derived.missing.length} fact(s) above before using it` : ''}\n`);
  }
}

export const boardCommand: CommandModule<object, object> = {
  command: 'board <action>',
  describe: "add a board to the project from its device tree (board add <name> --dtb FILE)",
  builder: (y: Argv) => y.command({
    command: 'add <name>',
    describe: "derive boards/<name>.json from the board's Linux device tree (and its Microkit SDK) into the project",
    builder: (a: Argv) => a
      .positional('name', { type: 'string', demandOption: true, describe: 'the board name --board will take' })
      .option('dtb', { type: 'string', demandOption: true, describe: "the board's Linux device tree blob" })
      .option('sdk', { type: 'string', describe: 'a Microkit SDK built for the board (its board/<b>/<config>/ kernel configuration is read)' })
      .option('microkit-board', { type: 'string', describe: "the SDK's and the Microkit tool's name for the board (default: <name>)" })
      .option('dir', { type: 'string', default: '.', describe: 'the project folder (the one holding systems.ts); boards/ is made there' })
      .option('force', { type: 'boolean', default: false, describe: 'replace an existing board file' }) as unknown as Argv,
    handler: (a) => add(a as unknown as AddArgs),
  }).demandCommand(1),
  handler: () => undefined,
};
