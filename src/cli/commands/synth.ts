// `sel4cp-synth <systems.ts>`: synthesise everything the system needs into --out.
import path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PREFIX } from '../report.js';
import { buildOptions, contextOption, type BuildArgs, synthesiseForCommand } from './shared.js';

interface SynthArgs extends BuildArgs {
  system: string;
  context: string[] | undefined;
  quiet: boolean;
}

export const synthCommand: CommandModule<object, SynthArgs> = {
  command: '$0 <system>',
  describe: 'synthesise a system: .system XML, guest device trees, manifest (and, with an SDK, the image)',
  builder: (y: Argv) => contextOption(buildOptions(y
    .positional('system', { type: 'string', demandOption: true, describe: 'the systems.ts file' }), 'board name or alias (overrides the one in systems.ts)')) as unknown as Argv<SynthArgs>,
  handler: async (args) => {
    const result = await synthesiseForCommand(args);
    if (!result) return;
    const rel = path.relative(process.cwd(), result.outDir) || '.';
    if (!args.quiet) {
      for (const f of result.written) process.stdout.write(`${PREFIX} wrote ${path.join(rel, f)}\n`);
      for (const s of result.skipped) process.stdout.write(`${PREFIX} skipped ${s.step}: ${s.reason}\n`);
    }
  },
};
