// What a Microkit SDK says about the system it builds: its release (the VERSION file) and what
// the seL4 kernel it carries for a board and configuration allows (gen_config.json). Read here,
// once per model; the stages after see only the values.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { KernelFacts } from './index.js';
import { error, UserError } from '../diagnostics/index.js';
import { DEFAULT_RELEASE, isMicrokitRelease, RELEASE_NAMES, type MicrokitRelease } from '../releases.js';

/** What the SDK's seL4 kernel for a board allows (its include/kernel/gen_config.json), if readable. */
export function kernelConfig(sdk: string | undefined, microkitBoard: string, config: string): KernelFacts | undefined {
  if (!sdk) return undefined;
  const file = path.join(sdk, 'board', microkitBoard, config, 'include', 'kernel', 'gen_config.json');
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const num = (key: string): number | undefined => (typeof json[key] === 'number' ? json[key] as number : typeof json[key] === 'string' && /^\d+$/.test(json[key] as string) ? Number(json[key]) : undefined);
    return {
      allowSmc: json['ALLOW_SMC_CALLS'] === true,
      exportPtimer: json['EXPORT_PTMR_USER'] === true,
      vtimerUpdateVoffset: json['VTIMER_UPDATE_VOFFSET'] === true,
      // Microkit 2.3.0 main.rs: num_cores is MAX_NUM_NODES when ENABLE_SMP_SUPPORT, else 1.
      numCores: json['ENABLE_SMP_SUPPORT'] === true ? num('MAX_NUM_NODES') : 1,
      numDomains: num('NUM_DOMAINS'),
      numDomainSchedules: num('NUM_DOMAIN_SCHEDULES'),
      source: file,
    };
  } catch {
    return undefined;
  }
}

/** An SDK's release, from its VERSION file (undefined when the file is missing). */
export function sdkVersion(sdk: string): string | undefined {
  try {
    return readFileSync(path.join(sdk, 'VERSION'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * The Microkit release a command works for: the SDK's VERSION when there is an SDK (which
 * --microkit may confirm but not contradict), else --microkit, else the default release. Called
 * once per model, when it is built; every stage after reads `model.microkit`.
 */
export function microkitRelease(sdk: string | undefined, requested: MicrokitRelease | undefined): MicrokitRelease {
  const version = sdk && existsSync(path.join(sdk, 'bin', 'microkit')) ? sdkVersion(sdk) : undefined;
  if (version === undefined) return requested ?? DEFAULT_RELEASE;
  if (!isMicrokitRelease(version)) {
    throw new UserError(error('microkit-release-unsupported', `the Microkit SDK at ${sdk} is release ${version}; sel4cp-synth builds for ${RELEASE_NAMES.join(' and ')}`, undefined, {
      hint: `use an SDK of ${RELEASE_NAMES.join(' or ')} (MICROKIT_SDK or --sdk)`,
    }));
  }
  if (requested !== undefined && requested !== version) {
    throw new UserError(error('microkit-release-mismatch', `--microkit ${requested} was given, but the Microkit SDK at ${sdk} is release ${version}`, undefined, {
      hint: `leave --microkit out (the SDK decides), or point MICROKIT_SDK / --sdk at a ${requested} SDK`,
    }));
  }
  return version;
}
