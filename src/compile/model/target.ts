// The Microkit release and configuration a system is built for, and what they allow: which
// configs a board has, how many cores seL4 runs on, how many scheduling domains it has. An SDK's
// own kernel configuration (gen_config.json, read into KernelFacts) is the authority; without an
// SDK these are the values each release's build_sdk.py gives its kernels.
import type { Board } from '../boards.js';
import { error, UserError } from '../diagnostics/index.js';
import { DEFAULT_MICROKIT_RELEASE, MICROKIT_RELEASE_NAMES, type MicrokitRelease } from './facts.js';
import type { KernelFacts, SystemModel } from './index.js';

export type MicrokitConfig = 'debug' | 'release' | 'smp-debug' | 'smp-release';
export const MICROKIT_CONFIG_NAMES: readonly MicrokitConfig[] = ['debug', 'release', 'smp-debug', 'smp-release'];

/**
 * Microkit 2.3.0 build_sdk.py: every AArch64 kernel has the domain scheduler with 16 domains and
 * 100 schedule entries (DEFAULT_KERNEL_OPTIONS KernelNumDomains, KernelNumDomainSchedules); the
 * smp-* configs set KernelNumDomains to 1, and seL4 then keeps 2 schedule entries (gen_config.json
 * of the SDK's smp-debug). Microkit 2.0.1 builds neither SMP nor domains.
 */
const DOMAINS_2_3_0 = { numDomains: 16, numDomainSchedules: 100 } as const;
const DOMAINS_2_3_0_SMP = { numDomains: 1, numDomainSchedules: 2 } as const;

export function isMicrokitRelease(s: string): s is MicrokitRelease {
  return (MICROKIT_RELEASE_NAMES as readonly string[]).includes(s);
}

/** The configs an SDK of `release` has for `board`. */
export function configsFor(release: MicrokitRelease, board: Board | undefined): MicrokitConfig[] {
  const smp = release === '2.3.0' && board?.microkit['2.3.0']?.smpCores !== undefined;
  return smp ? [...MICROKIT_CONFIG_NAMES] : ['debug', 'release'];
}

/** A configuration the release builds for the board (smp-*: Microkit 2.3.0, boards with smp_cores). */
export function checkConfig(release: MicrokitRelease, config: MicrokitConfig, board: Board | undefined): void {
  const configs = configsFor(release, board);
  if (board && !configs.includes(config)) {
    throw new UserError(error('microkit-config-unavailable', `Microkit ${release} has no '${config}' configuration for board '${board.name}'`, undefined, {
      hint: `its configurations are ${configs.join(', ')}${release === '2.0.1' && config.startsWith('smp-') ? '; the smp-* ones come with Microkit 2.3.0 (--microkit 2.3.0 or a 2.3.0 SDK)' : ''}`,
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
  const release = model.microkit ?? DEFAULT_MICROKIT_RELEASE;
  const config = model.config ?? 'debug';
  const k: KernelFacts | undefined = model.kernel;
  const smp = isSmpConfig(config);
  const fallback = release === '2.0.1'
    ? { numCores: 1, numDomains: 1, numDomainSchedules: 1 }
    : { numCores: smp ? model.board?.microkit['2.3.0']?.smpCores ?? 1 : 1, ...(smp ? DOMAINS_2_3_0_SMP : DOMAINS_2_3_0) };
  return {
    numCores: k?.numCores ?? fallback.numCores,
    numDomains: k?.numDomains ?? fallback.numDomains,
    numDomainSchedules: k?.numDomainSchedules ?? fallback.numDomainSchedules,
    source: k?.numCores !== undefined ? k.source : `Microkit ${release}'s ${config} kernel${model.board ? ` for ${model.board.name}` : ''}`,
  };
}
