// What every command shares: how it reports diagnostics and how user errors end a run.
import type { Argv } from 'yargs';
import { hasErrors, type Diagnostic } from '../../compile/diagnostics/index.js';
import { synthesise, type StageTimings, type SynthResult } from '../../compile/synthesise.js';
import { formatDiagnostic, PREFIX, styleFor, summary } from '../report.js';
import { DEFAULT_RELEASE, featureSince, RELEASE_NAMES, type MicrokitRelease } from '../../compile/releases.js';
import { MICROKIT_CONFIG_NAMES, type MicrokitConfig } from '../../compile/model/target.js';

export interface GlobalArgs {
  quiet: boolean;
}

export function printDiagnostics(diags: readonly Diagnostic[], cwd = process.cwd()): void {
  const style = styleFor(process.stderr);
  for (const d of diags) process.stderr.write(formatDiagnostic(d, cwd, style) + '\n');
  if (diags.length > 0) process.stderr.write(summary(diags) + '\n');
}

/** Parse repeated `-c key=value` options. */
export function parseContext(values: readonly string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values ?? []) {
    const at = v.indexOf('=');
    if (at <= 0) throw new ContextArgError(v);
    out.set(v.slice(0, at), v.slice(at + 1));
  }
  return out;
}

export class ContextArgError extends Error {
  constructor(readonly value: string) {
    super(`-c expects key=value, got '${value}'`);
  }
}

export function contextOption<T>(y: Argv<T>): Argv<T & { context: string[] | undefined }> {
  return y.option('context', {
    alias: 'c',
    type: 'string',
    array: true,
    describe: 'a value for context(key) / contextFile(key) in the systems.ts: key=value (repeatable)',
  }) as Argv<T & { context: string[] | undefined }>;
}

/** --microkit: the release to check and build for when no SDK says (an SDK's VERSION decides). */
export function microkitOption<T>(y: Argv<T>): Argv<T & { microkit: MicrokitRelease | undefined }> {
  return y.option('microkit', {
    choices: RELEASE_NAMES,
    describe: `the Microkit release to validate and build for (default: the SDK's VERSION, else ${DEFAULT_RELEASE})`,
  }) as unknown as Argv<T & { microkit: MicrokitRelease | undefined }>;
}

export function configOption<T>(y: Argv<T>): Argv<T & { config: MicrokitConfig }> {
  return y.option('config', {
    choices: MICROKIT_CONFIG_NAMES,
    default: 'debug' as const,
    describe: `Microkit configuration (smp-debug and smp-release: Microkit ${featureSince('smp-configs')}, boards with several cores)`,
  }) as unknown as Argv<T & { config: MicrokitConfig }>;
}

export interface BuildArgs {
  timings: boolean;
  board: string | undefined;
  config: MicrokitConfig;
  microkit: MicrokitRelease | undefined;
  out: string | undefined;
  sdk: string | undefined;
}

/** The options of every command that builds: board, Microkit release and configuration, output and SDK. */
export function buildOptions<T>(y: Argv<T>, boardHelp: string): Argv<T & BuildArgs> {
  return configOption(microkitOption(y))
    .option('board', { type: 'string', describe: boardHelp })
    .option('out', { type: 'string', describe: 'output directory (default build/<system>/)' })
    .option('sdk', { type: 'string', describe: 'Microkit SDK directory (default $MICROKIT_SDK)' })
    .option('timings', { type: 'boolean', default: false, describe: 'print how long each stage took' }) as unknown as Argv<T & BuildArgs>;
}

/** Progress lines on stderr, unless --quiet. */
export function progressPrinter(quiet: boolean): ((line: string) => void) | undefined {
  return quiet ? undefined : (line) => void process.stderr.write(`${PREFIX} ${line}\n`);
}

/**
 * Synthesise what a build command's arguments describe and print the problems. Returns the
 * result, or undefined (exit code 1 set) when the system has errors.
 */
export async function synthesiseForCommand(args: BuildArgs & { system: string; context: string[] | undefined; quiet: boolean; timings?: boolean }): Promise<SynthResult | undefined> {
  const timings: StageTimings = {};
  const result = await synthesise({
    timings,
    file: args.system,
    board: args.board,
    config: args.config,
    microkit: args.microkit,
    outDir: args.out,
    sdk: args.sdk,
    context: parseContext(args.context),
    onProgress: progressPrinter(args.quiet),
  });
  printDiagnostics(result.diagnostics);
  if (args.timings) {
    const parts = Object.entries(timings).map(([stage, ms]) => `${stage} ${ms.toFixed(0)} ms`);
    process.stderr.write(`${PREFIX} timings: ${parts.join(', ')}\n`);
  }
  if (hasErrors(result.diagnostics)) {
    process.exitCode = 1;
    return undefined;
  }
  return result;
}
