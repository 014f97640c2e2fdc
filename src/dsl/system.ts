import { captureLocation, type SourceLocation } from './location.js';
import type { Channel, MemoryRegion, ProtectionDomain } from './constructs.js';
import type { VirtualMachine } from './vm.js';

export interface SystemOptions {
  /** Used for output file names. @default the systems.ts file name without its extension */
  name?: string;
  /**
   * The board: a Microkit board name or an alias (`imx8mm`). `--board` on the command line wins.
   * @default none: then `--board` is required
   */
  board?: string;
  /** Root protection domains (their children come along). Guests may be listed here too. @default [] */
  protectionDomains?: (ProtectionDomain | VirtualMachine)[];
  /** Linux guests with their VMMs. @default [] */
  virtualMachines?: VirtualMachine[];
  /**
   * Memory regions. Regions used in maps are included without being listed; list the ones that
   * should be emitted in a particular order or that are deliberately unmapped.
   * @default []
   */
  memoryRegions?: MemoryRegion[];
  /** @default [] */
  channels?: Channel[];
}

export interface System {
  readonly kind: 'system';
  readonly name: string | undefined;
  readonly board: string | undefined;
  readonly protectionDomains: readonly ProtectionDomain[];
  readonly virtualMachines: readonly VirtualMachine[];
  readonly memoryRegions: readonly MemoryRegion[];
  readonly channels: readonly Channel[];
  readonly loc: SourceLocation | undefined;
}

/** The whole system: `export default system({...})` from a systems.ts. */
export function system(options: SystemOptions): System {
  const pds: ProtectionDomain[] = [];
  const vms: VirtualMachine[] = [...(options.virtualMachines ?? [])];
  for (const item of options.protectionDomains ?? []) {
    if (item.kind === 'virtualMachine') {
      if (!vms.includes(item)) vms.push(item);
    } else {
      pds.push(item);
    }
  }
  return {
    kind: 'system',
    name: options.name,
    board: options.board,
    protectionDomains: pds,
    virtualMachines: vms,
    memoryRegions: options.memoryRegions ?? [],
    channels: options.channels ?? [],
    loc: captureLocation(),
  };
}
