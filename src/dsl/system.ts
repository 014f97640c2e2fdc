import { captureLocation, type SourceLocation } from './location.js';
import type { Channel, ChildPd, MemoryRegion, ProtectionDomain } from './constructs.js';
import type { VirtualMachine } from './vm.js';
import type { NetLink } from './virtio.js';
import type { Control } from './lifecycle.js';
import { DslError } from './errors.js';
import { checkConstructs, checkOptions, checkString } from './check.js';
import { isPolicy, type Policy } from './policy.js';
import type { DomainSchedule } from './domains.js';

/** The timer PD that wakes idle vCPUs (added when some virtualMachine() has `idle: 'block'`). */
export interface VmmTimerOptions {
  /** @default 'vmm_timer' */
  name?: string;
  /**
   * Where its time comes from. `'sched-tick'` needs no device: the PD sleeps one scheduling
   * period at a time (an MCS sporadic server that yields its budget), so deadlines are met
   * within `tickUs`; it works on every board and nothing a guest can touch. `'arm-ptimer'`
   * drives the EL1 physical timer for exact deadlines; it needs a kernel built with
   * KernelArmExportPTMRUser (Microkit's QEMU boards), which also lets guests at EL1 program that
   * timer, so use it only with guests you trust not to.
   * @default 'sched-tick'
   */
  source?: 'sched-tick' | 'arm-ptimer';
  /** sched-tick: the period, in µs: how late a wake-up may be. @default 1000 */
  tickUs?: number;
  /** @default 254 */
  priority?: number;
}

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
  /** Network links between VMs, or a VM and a PD (see netLink()). @default [] */
  links?: NetLink[];
  /** The timer PD that wakes idle vCPUs. @default name 'vmm_timer', source 'sched-tick', priority 254 */
  vmmTimer?: VmmTimerOptions;
  /** PDs that may stop, start and restart a VM (see control()). @default [] */
  controls?: Control[];
  /** The information flows the system may have (see policy()); every other flow is an error. @default none: no flow is checked */
  policy?: Policy;
  /** Microkit 2.3.0: the domain schedule (see domainSchedule()); then every PD needs a domain. @default none */
  domains?: DomainSchedule;
}

export interface System {
  readonly kind: 'system';
  readonly name: string | undefined;
  readonly board: string | undefined;
  readonly protectionDomains: readonly ProtectionDomain[];
  readonly virtualMachines: readonly VirtualMachine[];
  readonly memoryRegions: readonly MemoryRegion[];
  readonly channels: readonly Channel[];
  readonly links: readonly NetLink[];
  readonly controls: readonly Control[];
  readonly vmmTimer: VmmTimerOptions;
  readonly policy: Policy | undefined;
  readonly domains: DomainSchedule | undefined;
  readonly loc: SourceLocation | undefined;
}

/** The whole system: `export default system({...})` from a systems.ts. */
function checkVmmTimer(t: VmmTimerOptions | undefined, loc: SourceLocation | undefined): VmmTimerOptions {
  if (t === undefined) return {};
  const bad = (what: string): never => {
    throw new DslError('bad-argument', `system({ vmmTimer }): ${what}`, undefined, loc);
  };
  if (typeof t !== 'object' || t === null) bad(`vmmTimer must be an object, not ${JSON.stringify(t)}`);
  if (t.source !== undefined && t.source !== 'sched-tick' && t.source !== 'arm-ptimer') bad(`source must be 'sched-tick' or 'arm-ptimer', not ${JSON.stringify(t.source)}`);
  if (t.tickUs !== undefined && (!Number.isInteger(t.tickUs) || t.tickUs < 100 || t.tickUs > 1_000_000)) bad(`tickUs must be a whole number of µs from 100 to 1000000, not ${JSON.stringify(t.tickUs)}`);
  if (t.name !== undefined && typeof t.name !== 'string') bad(`name must be a string, not ${JSON.stringify(t.name)}`);
  if (t.priority !== undefined && typeof t.priority !== 'number') bad(`priority must be a number, not ${JSON.stringify(t.priority)}`);
  return t;
}

/** Systems made by system(): the loader accepts nothing else as a default export. */
const made = new WeakSet<object>();

/** Whether `v` was made by system() in this process (or thread). */
export function isSystem(v: unknown): v is System {
  return typeof v === 'object' && v !== null && made.has(v);
}

function checkPolicyOption(p: Policy | undefined, loc: SourceLocation | undefined): Policy | undefined {
  if (p !== undefined && !isPolicy(p)) throw new DslError('bad-argument', 'system({ policy }): make it with policy({...})', undefined, loc);
  return p;
}

export function system(options: SystemOptions): System {
  const loc = captureLocation();
  checkOptions('system()', options, loc, false);
  checkString('system() name', options.name, loc, { optional: true });
  checkString('system() board', options.board, loc, { optional: true });
  checkConstructs('system() protectionDomains', options.protectionDomains, ['protectionDomain', 'virtualMachine'], 'protectionDomain(...) or virtualMachine(...)', loc);
  checkConstructs('system() virtualMachines', options.virtualMachines, ['virtualMachine'], 'virtualMachine(...)', loc);
  checkConstructs('system() memoryRegions', options.memoryRegions, ['memoryRegion'], 'memoryRegion(...)', loc);
  checkConstructs('system() channels', options.channels, ['channel'], 'channel(...)', loc);
  checkConstructs('system() links', options.links, ['netLink'], 'netLink(...)', loc);
  checkConstructs('system() controls', options.controls, ['control'], 'control(...)', loc);
  if (options.domains !== undefined) checkConstructs('system() domains', [options.domains], ['domainSchedule'], 'domainSchedule(...)', loc);
  const pds: ProtectionDomain[] = [];
  const vms: VirtualMachine[] = [...(options.virtualMachines ?? [])];
  for (const item of options.protectionDomains ?? []) {
    if (item.kind === 'virtualMachine') {
      if (!vms.includes(item)) vms.push(item);
    } else {
      pds.push(item);
    }
  }
  const result: System = {
    kind: 'system',
    name: options.name,
    board: options.board,
    protectionDomains: pds,
    virtualMachines: vms,
    memoryRegions: options.memoryRegions ?? [],
    channels: options.channels ?? [],
    links: options.links ?? [],
    controls: options.controls ?? [],
    vmmTimer: checkVmmTimer(options.vmmTimer, loc),
    policy: checkPolicyOption(options.policy, loc),
    domains: options.domains,
    loc,
  };
  made.add(result);
  return result;
}

/** Whether `v` is a protection domain made by protectionDomain() or virtualMachine(). */
function isProtectionDomain(v: unknown): v is ProtectionDomain {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'protectionDomain';
}

/** A value for a message: what JSON makes of it, else (undefined, a bigint, a cycle) its type. */
function shown(v: unknown): string {
  try {
    const json = JSON.stringify(v);
    if (json !== undefined) return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    // fall through
  }
  return v === undefined ? 'undefined' : `a ${typeof v}`;
}

/** A PD's `children`, or a user error at the PD when a cast made them something else than a list. */
function childEntries(pd: ProtectionDomain): readonly unknown[] {
  if (Array.isArray(pd.children)) return pd.children;
  throw new DslError('bad-argument', `the children of protection domain '${pd.name}' are ${shown(pd.children)}, not a list: they were changed after protectionDomain() made it`,
    `give the children when making it: protectionDomain('${pd.name}', { children: [...] })`, pd.loc);
}

/** The user error for a `children` entry a cast put there after protectionDomain() checked them. */
function changedChild(parent: ProtectionDomain, index: number, what: string): DslError {
  return new DslError('bad-argument', `children[${index}] of protection domain '${parent.name}' is ${what}, not a child entry { pd, id }: its children were changed after protectionDomain() made it`,
    `give the children when making the parent: protectionDomain('${parent.name}', { children: [...] }), each a protectionDomain(...) or { pd, id }`, parent.loc);
}

/** The PD a `children` entry names: `{ pd, id }` as protectionDomain() makes it, or (wrongly) a bare PD. */
function childOf(parent: ProtectionDomain, entry: unknown, index: number): ProtectionDomain {
  if (isProtectionDomain(entry)) return entry;
  const pd = typeof entry === 'object' && entry !== null ? (entry as Partial<ChildPd>).pd : undefined;
  if (isProtectionDomain(pd)) return pd;
  throw changedChild(parent, index, shown(entry));
}

/**
 * Checks the protection domain tree of an exported system, after the systems.ts has run: a cast
 * can change `children` after protectionDomain() checked them, to a value it would have refused
 * or to a cycle (a PD made its own descendant), which no later stage could walk. A PD listed
 * twice without a cycle is left for the resolver to report with the others (pd-listed-twice).
 */
export function checkProtectionDomainTree(system: System): void {
  const done = new Set<ProtectionDomain>();
  // A bare PD where { pd, id } belongs is reported after the walk: a cycle it closes comes first.
  let bare: DslError | undefined;
  const visit = (pd: ProtectionDomain, ancestors: readonly ProtectionDomain[]): void => {
    if (done.has(pd)) return;
    const line = [...ancestors, pd];
    for (const [i, entry] of childEntries(pd).entries()) {
      const child = childOf(pd, entry, i);
      if (child === entry) bare ??= changedChild(pd, i, `protection domain '${child.name}' itself`);
      const at = line.indexOf(child);
      if (at >= 0) {
        const cycle = [...line.slice(at), child].map((p) => p.name).join(' → ');
        throw new DslError('pd-cycle', `protection domain '${child.name}' is its own descendant: ${cycle}`,
          `protection domains form a tree: take '${child.name}' out of the children of '${pd.name}'`, child.loc);
      }
      visit(child, line);
    }
    done.add(pd);
  };
  for (const pd of system.protectionDomains) visit(pd, []);
  for (const vm of system.virtualMachines) visit(vm.vmm, []);
  if (bare) throw bare;
}
