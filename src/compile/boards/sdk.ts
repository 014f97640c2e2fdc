// What a Microkit SDK says about a board: each board/<b>/<config>/ of a 2.0.1 or 2.3.0 SDK holds
// the kernel's generated configuration (include/kernel/gen_config.json: platform, GIC driver,
// physical-address bits, hypervisor support, timer export, and from 2.3.0 TIMER_FREQUENCY) and
// platform data (platform_gen.json: the RAM the kernel uses, and the device ranges it does not own).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface SdkBoardFacts {
  /** The board/<b>/<config> directory read. */
  dir: string;
  platform: string | undefined;
  gicVersion: 2 | 3;
  paddrBits: number;
  hypervisor: boolean;
  exportPtmrUser: boolean;
  /** Only 2.3.0's gen_config.json has it. */
  timerHz: number | undefined;
  maxNumNodes: number;
  memory: { start: bigint; end: bigint }[];
}

/** The config a board's facts are read from: release, else the first one the SDK has. */
export function sdkBoardDir(sdk: string, board: string): string | undefined {
  for (const config of ['release', 'debug', 'smp-release', 'smp-debug']) {
    const dir = path.join(sdk, 'board', board, config);
    if (existsSync(path.join(dir, 'include', 'kernel', 'gen_config.json'))) return dir;
  }
  return undefined;
}

export function readSdkBoard(dir: string): SdkBoardFacts {
  const config = JSON.parse(readFileSync(path.join(dir, 'include', 'kernel', 'gen_config.json'), 'utf8')) as Record<string, unknown>;
  const platform = JSON.parse(readFileSync(path.join(dir, 'platform_gen.json'), 'utf8')) as { memory?: { start: number | string; end: number | string }[] };
  const flag = (k: string): boolean => config[k] === true || config[k] === 'ON' || config[k] === '1';
  const timer = config['TIMER_FREQUENCY'];
  return {
    dir,
    platform: typeof config['PLAT'] === 'string' ? config['PLAT'] : undefined,
    gicVersion: flag('ARM_GIC_V3_SUPPORT') ? 3 : 2,
    paddrBits: flag('ARM_PA_SIZE_BITS_44') ? 44 : 40,
    hypervisor: flag('ARM_HYPERVISOR_SUPPORT'),
    exportPtmrUser: flag('EXPORT_PTMR_USER'),
    timerHz: timer === undefined ? undefined : Number(timer),
    maxNumNodes: Number(config['MAX_NUM_NODES'] ?? 1),
    // JSON numbers: RAM ends above 2^53 do not occur on these boards, and BigInt(number) is exact below it.
    memory: (platform.memory ?? []).map((m) => ({ start: BigInt(m.start), end: BigInt(m.end) })),
  };
}
