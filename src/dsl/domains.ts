// Microkit 2.3.0 time partitioning: seL4's domain scheduler runs the domains in turn, each for its
// slot of the schedule, and a protection domain runs only in its own domain's slots. A systems.ts
// names domains with domain(), puts each PD in one (protectionDomain({ domain })), and gives the
// schedule with domainSchedule() in system({ domains }). Not on multicore (smp-*) kernels.
import { captureLocation, type SourceLocation } from './location.js';
import { DslError } from './errors.js';
import { checkConstructs, checkNumber, checkOptions, checkString } from './check.js';

export interface DomainOptions {
  /** The kernel's domain number, below KernelNumDomains (16 in Microkit 2.3.0). @default the lowest free one */
  id?: number;
}

export interface Domain {
  readonly kind: 'domain';
  readonly name: string;
  readonly id: number | undefined;
  readonly loc: SourceLocation | undefined;
}

/** A scheduling domain (`<domain>`). */
export function domain(name: string, options: DomainOptions = {}): Domain {
  const loc = captureLocation();
  checkString('domain() name', name, loc, { nonEmpty: true });
  checkOptions(`domain(${JSON.stringify(name)})`, options, loc, true);
  checkNumber(`domain(${JSON.stringify(name)}) id`, options.id, loc, { optional: true, integer: true });
  return { kind: 'domain', name, id: options.id, loc };
}

/** One slot of the schedule: a domain for a time in µs or in kernel ticks; 'end' ends the schedule early. */
export type DomainSlot = { domain: Domain; us: number } | { domain: Domain; ticks: number } | 'end';

export interface DomainScheduleOptions {
  slots: DomainSlot[];
  /**
   * The domains, in the order they are declared (unnumbered ones get the lowest free ids in this
   * order). @default those of the slots, then those of the PDs, in order of first appearance
   */
  domains?: Domain[];
  /** The slot the schedule starts at. @default 0 */
  startIndex?: number;
  /** Where in the kernel's schedule table the schedule is placed. @default none */
  indexShift?: number;
}

export interface DomainSchedule {
  readonly kind: 'domainSchedule';
  readonly slots: readonly DomainSlot[];
  readonly domains: readonly Domain[];
  readonly startIndex: number | undefined;
  readonly indexShift: number | undefined;
  readonly loc: SourceLocation | undefined;
}

/** The domain schedule (`<domains>` with its `<domain_schedule>`). */
export function domainSchedule(options: DomainScheduleOptions): DomainSchedule {
  const loc = captureLocation();
  checkOptions('domainSchedule()', options, loc, false);
  if (!Array.isArray(options.slots)) throw new DslError('bad-argument', 'domainSchedule() slots must be an array of { domain, us } / { domain, ticks } or \'end\'', undefined, loc);
  options.slots.forEach((s, i) => {
    if (s === 'end') return;
    const what = `domainSchedule() slots[${i}]`;
    if (typeof s !== 'object' || s === null) throw new DslError('bad-argument', `${what} must be { domain, us }, { domain, ticks } or 'end'`, undefined, loc);
    checkConstructs(`${what} domain`, [s.domain], ['domain'], 'domain(...)', loc);
    const us = 'us' in s ? s.us : undefined;
    const ticks = 'ticks' in s ? s.ticks : undefined;
    if ((us === undefined) === (ticks === undefined)) throw new DslError('bad-argument', `${what} needs exactly one of us and ticks`, undefined, loc);
    checkNumber(`${what} ${us !== undefined ? 'us' : 'ticks'}`, us ?? ticks, loc, { integer: true, min: 1 });
  });
  checkConstructs('domainSchedule() domains', options.domains, ['domain'], 'domain(...)', loc);
  checkNumber('domainSchedule() startIndex', options.startIndex, loc, { optional: true, integer: true, min: 0 });
  checkNumber('domainSchedule() indexShift', options.indexShift, loc, { optional: true, integer: true, min: 0 });
  return { kind: 'domainSchedule', slots: options.slots, domains: options.domains ?? [], startIndex: options.startIndex, indexShift: options.indexShift, loc };
}
