// `sel4cp-synth flows <systems.ts | file.system> [--from A --to B] [--policy policy.ts]`: who can
// influence whom, derived from the topology (src/compile/flows.ts); with --from/--to, whether and
// how A can influence B transitively, naming every hop.
import type { Argv, CommandModule } from 'yargs';
import type { MicrokitRelease } from '../../compile/releases.js';
import { deriveFlows, flowPath } from '../../compile/flows.js';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { flowsJson, formatFlowsMarkdown, formatFlowsText, formatPath } from '../../review/flows-format.js';
import { loadModelWithPolicy } from '../review-io.js';
import { contextOption, parseContext, microkitOption } from './shared.js';

interface FlowsArgs {
  microkit: MicrokitRelease | undefined;
  file: string;
  from: string | undefined;
  to: string | undefined;
  policy: string | undefined;
  format: 'text' | 'markdown' | 'json';
  board: string | undefined;
  context: string[] | undefined;
}

export const flowsCommand: CommandModule<object, FlowsArgs> = {
  command: 'flows <file>',
  describe: 'the information flows of a system: who can influence whom, and how (--from A --to B: whether and through whom)',
  builder: (y: Argv) => contextOption(microkitOption(y
    .positional('file', { type: 'string', demandOption: true, describe: 'a systems.ts or a .system file' })
    .option('from', { type: 'string', describe: 'a PD or VM: can it influence --to?' })
    .option('to', { type: 'string', describe: 'a PD or VM' })
    .option('policy', { type: 'string', describe: 'a policy file (export default policy({...})) to judge the flows with' })
    .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text' as const })
    .option('board', { type: 'string', describe: 'board name or alias' }))) as unknown as Argv<FlowsArgs>,
  handler: async (args) => {
    if ((args.from === undefined) !== (args.to === undefined)) throw new UserError(error('flows-usage', 'give both --from and --to, or neither', undefined));
    const model = await loadModelWithPolicy(args.file, args.policy, { board: args.board, context: parseContext(args.context), microkit: args.microkit });
    const graph = deriveFlows(model);
    if (args.from !== undefined && args.to !== undefined) {
      for (const n of [args.from, args.to]) {
        if (!graph.principalOf.has(n)) throw new UserError(error('flows-usage', `'${n}' is no protection domain or virtual machine of ${args.file}`, undefined, { hint: `known: ${graph.principals.map((p) => p.name).join(', ')}` }));
      }
      const p = flowPath(graph, args.from, args.to);
      process.stdout.write(args.format === 'json'
        ? JSON.stringify({ from: args.from, to: args.to, reachable: p !== undefined, hops: p?.hops.map((h) => ({ from: h.from, to: h.to, kind: h.kind, because: h.causes[0]!.what })) ?? [] }, null, 2) + '\n'
        : formatPath(p, args.from, args.to, process.cwd()));
      return;
    }
    const out = args.format === 'json' ? JSON.stringify(flowsJson(graph, model.policy), null, 2) + '\n'
      : args.format === 'markdown' ? formatFlowsMarkdown(graph, model.policy, process.cwd())
        : formatFlowsText(graph, model.policy, process.cwd());
    process.stdout.write(out);
  },
};
