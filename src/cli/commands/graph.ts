// `sel4cp-synth graph <systems.ts | file.system> [-o topology.svg] [--format svg|dot]`: the system
// as a diagram. The DOT source is ours (src/review/graph.ts); Graphviz's `dot` lays it out.
import { checkOutputFile } from '../../compile/output.js';
import { spawnSync } from 'node:child_process';
import type { Argv, CommandModule } from 'yargs';
import type { MicrokitRelease } from '../../compile/releases.js';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { systemToDot } from '../../review/graph.js';
import { changesToDot } from '../../review/graph-changes.js';
import { PREFIX } from '../report.js';
import { loadModel, loadModelWithPolicy, writeAtomically } from '../review-io.js';
import { deriveFlows } from '../../compile/flows.js';
import { flowsToDot } from '../../review/flows-format.js';
import { contextOption, parseContext, microkitOption } from './shared.js';

interface GraphArgs {
  microkit: MicrokitRelease | undefined;
  file: string;
  output: string | undefined;
  format: 'svg' | 'dot';
  flows: boolean;
  policy: string | undefined;
  'changes-from': string | undefined;
  board: string | undefined;
  context: string[] | undefined;
  quiet: boolean;
}

/** SVG from DOT with Graphviz; a missing `dot` is the user's to install. */
export function renderSvg(dot: string): string {
  const r = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new UserError(error('graphviz-missing', code === 'ENOENT' ? "Graphviz's 'dot' is not installed" : `cannot run Graphviz's 'dot': ${code ?? r.error.message}`, undefined, {
      hint: 'install the Debian package graphviz (apt-get install graphviz), or use --format dot for the DOT source',
    }));
  }
  if (r.status !== 0) throw new Error(`dot -Tsvg failed on our own DOT (a bug here): ${r.stderr}`);
  return r.stdout;
}

export const graphCommand: CommandModule<object, GraphArgs> = {
  command: 'graph <file>',
  describe: 'draw the system: PDs, VMs, memory regions and their rights, channels, IRQs (SVG via Graphviz, or DOT)',
  builder: (y: Argv) => contextOption(microkitOption(y
    .positional('file', { type: 'string', demandOption: true, describe: 'a systems.ts or a .system file' })
    .option('output', { alias: 'o', type: 'string', describe: 'write here (default: standard output)' })
    .option('format', { choices: ['svg', 'dot'] as const, default: 'svg' as const, describe: "svg needs Graphviz's dot (Debian package graphviz); dot is the source" })
    .option('flows', { type: 'boolean', default: false, describe: 'draw who can influence whom (the flows, coloured by kind; those a policy forbids in bold red) instead of the topology' })
    .option('policy', { type: 'string', describe: 'with --flows: the policy file to judge the flows with' })
    .option('changes-from', { type: 'string', describe: 'an older version (systems.ts or .system): draw what changed since it — added green, changed amber, removed dashed red' })
    .option('board', { type: 'string', describe: 'board name or alias' }))) as unknown as Argv<GraphArgs>,
  handler: async (args) => {
    if (args.output !== undefined) await checkOutputFile(args.output);
    const input = { board: args.board, context: parseContext(args.context), microkit: args.microkit };
    const draw = async (file: string): Promise<string> => {
      const model = args.flows ? await loadModelWithPolicy(file, args.policy, input) : await loadModel(file, input);
      return args.flows ? flowsToDot(deriveFlows(model), model.policy) : systemToDot(model);
    };
    const newer = await draw(args.file);
    const dot = args['changes-from'] === undefined ? newer : changesToDot(await draw(args['changes-from']), newer, { old: args['changes-from'], new: args.file });
    const out = args.format === 'dot' ? dot : renderSvg(dot);
    if (args.output === undefined) {
      process.stdout.write(out);
      return;
    }
    await writeAtomically(args.output, out);
    if (!args.quiet) process.stderr.write(`${PREFIX} wrote ${args.output}\n`);
  },
};
