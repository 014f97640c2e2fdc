// The Microkit release and configuration a system is built for, and what they allow: which
// configs a board has, how many cores seL4 runs on, how many scheduling domains it has. An SDK's
// own kernel configuration (gen_config.json, read into KernelFacts) is the authority; without an
// SDK these are the values each release's build_sdk.py gives its kernels.
import type { Board } from '../boards.js';
import { error, UserError } from '../diagnostics/index.js';
import { featureSince, RELEASE_NAMES, releaseFacts, supports, type MicrokitRelease } from '../releases.js';
import type { KernelFacts, SystemModel } from './index.js';

export type MicrokitConfig = 'debug' | 'release' | 'smp-debug' | 'smp-release';
export const MICROKIT_CONFIG_NAMES: readonly MicrokitConfig[] = ['debug', 'release', 'smp-debug', 'smp-release'];

/**
 * The cores of a board's smp-* kernels under `release`: the board file's smpCores for the newest
 * release at or before it that gives one (a board's smp_cores in build_sdk.py holds until a later
 * release changes it); undefined when the release builds no smp-* configs for the board.
 */
export function smpCores(release: MicrokitRelease, board: Board | undefined): number | undefined {
  if (!supports(release, 'smp-configs') || !board) return undefined;
  const upTo = RELEASE_NAMES.slice(0, RELEASE_NAMES.indexOf(release) + 1).reverse();
  return upTo.map((r) => board.microkit[r]?.smpCores).find((n) => n !== undefined);
}

/** The configs an SDK of `release` has for `board`. */
export function configsFor(release: MicrokitRelease, board: Board | undefined): MicrokitConfig[] {
  return smpCores(release, board) !== undefined ? [...MICROKIT_CONFIG_NAMES] : ['debug', 'release'];
}

/** A configuration the release builds for the board (smp-*: a release with smp configs, boards with smp_cores). */
export function checkConfig(release: MicrokitRelease, config: MicrokitConfig, board: Board | undefined): void {
  const configs = configsFor(release, board);
  if (board && !configs.includes(config)) {
    const since = featureSince('smp-configs');
    throw new UserError(error('microkit-config-unavailable', `Microkit ${release} has no '${config}' configuration for board '${board.name}'`, undefined, {
      hint: `its configurations are ${configs.join(', ')}${!supports(release, 'smp-configs') && config.startsWith('smp-') ? `; the smp-* ones come with Microkit ${since} (--microkit ${since} or a ${since} SDK)` : ''}`,
    }));
  }
}

export function isSmpConfig(config: string | undefined): boolean {
  return config?.startsWith('smp-') ?? false;
}

/** Cores and domains of the kernel the system runs on: from the SDK when it was read, else from the release's build. */
export interface KernelLimits {
  numCores: number;
  numDomains: number;
  numDomainSchedules: number;
  /** Where the numbers come from, for messages. */
  source: string;
}

export function kernelLimits(model: Pick<SystemModel, 'microkit' | 'config' | 'board' | 'kernel'>): KernelLimits {
  const release = model.microkit;
  const config = model.config ?? 'debug';
  const k: KernelFacts | undefined = model.kernel;
  const facts = releaseFacts(release);
  const smpDomains = isSmpConfig(config) ? facts.smpKernelDomains : undefined;
  const fallback = smpDomains
    ? { numCores: smpCores(release, model.board) ?? 1, ...smpDomains }
    : { numCores: 1, ...facts.kernelDomains };
  return {
    numCores: k?.numCores ?? fallback.numCores,
    numDomains: k?.numDomains ?? fallback.numDomains,
    numDomainSchedules: k?.numDomainSchedules ?? fallback.numDomainSchedules,
    source: k?.numCores !== undefined ? k.source : `Microkit ${release}'s ${config} kernel${model.board ? ` for ${model.board.name}` : ''}`,
  };
}
