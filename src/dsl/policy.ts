// An isolation policy: the information flows a system may have. Give it to system({ policy }),
// or keep it in a file of its own (`export default policy({...})`) for `check --policy` on an
// existing .system. With a policy, every flow the topology creates (src/compile/flows.ts) must be
// allowed by it: a flow that is not is an error at the construct that creates it.
//
//     policy({
//       domains: [trustDomain('untrusted', [frontend, guestB])],
//       rules: [
//         allow(frontend, filter),                  // VM frontend may send to PD filter
//         allow(filter, frontend, { kinds: ['notify'] }),
//         allow(filter, crypto),
//         only(crypto, [filter]),                   // nothing else reaches crypto (never grants)
//       ],
//     })
import { captureLocation, type SourceLocation } from './location.js';
import { DslError } from './errors.js';
import type { ProtectionDomain } from './constructs.js';
import type { VirtualMachine } from './vm.js';

/**
 * How information moves (src/compile/flows.ts): `memory` (a region one writes and the other
 * reads), `notify`, `ppc`, `device` (registers one writes, interrupt the other gets), `control`
 * (parent, held caps, control()), `fault`, and `dma` (a VM drives a bus master passed through to
 * it, which reaches all physical memory: no IOMMU is programmed).
 */
export type FlowKind = 'memory' | 'notify' | 'ppc' | 'device' | 'control' | 'fault' | 'dma';
const KINDS: readonly FlowKind[] = ['memory', 'notify', 'ppc', 'device', 'control', 'fault', 'dma'];

/** A PD or VM by construct, or a PD, VM or trust domain by name. */
export type PolicySubject = string | ProtectionDomain | VirtualMachine;

export interface AllowRule {
  readonly kind: 'allow';
  readonly from: readonly string[];
  readonly to: readonly string[];
  /** Undefined: every kind of flow. */
  readonly flowKinds: readonly FlowKind[] | undefined;
  readonly loc: SourceLocation | undefined;
}

export interface OnlyRule {
  readonly kind: 'only';
  readonly to: string;
  readonly from: readonly string[];
  readonly loc: SourceLocation | undefined;
}

export type PolicyRule = AllowRule | OnlyRule;

export interface TrustDomain {
  readonly kind: 'trustDomain';
  readonly name: string;
  readonly members: readonly string[];
  readonly loc: SourceLocation | undefined;
}

export interface PolicyOptions {
  /** Groups whose members trust each other: flows between members of one domain are allowed. @default [] */
  domains?: TrustDomain[];
  /** The flows allowed, and the principals only some may reach. @default [] */
  rules?: PolicyRule[];
  /**
   * Flows to and from what sel4cp-synth generates as infrastructure (the timer PD that wakes idle
   * vCPUs) are allowed (`'allow'`), or checked like any other (`'check'`). The timer PD reads each
   * VMM's wake slot and notifies it: a shared service, through which wake-up timing is visible.
   * @default 'allow'
   */
  infrastructure?: 'allow' | 'check';
}

export interface Policy {
  readonly kind: 'policy';
  readonly domains: readonly TrustDomain[];
  readonly rules: readonly PolicyRule[];
  readonly infrastructure: 'allow' | 'check';
  readonly loc: SourceLocation | undefined;
}

function nameOf(s: PolicySubject, what: string, loc: SourceLocation | undefined): string {
  if (typeof s === 'string' && s !== '') return s;
  if (typeof s === 'object' && s !== null && (s.kind === 'protectionDomain' || s.kind === 'virtualMachine') && typeof s.name === 'string') return s.name;
  throw new DslError('bad-argument', `${what}: expected a protection domain, a virtual machine or a name, not ${JSON.stringify(s)}`, undefined, loc);
}

function names(s: PolicySubject | readonly PolicySubject[], what: string, loc: SourceLocation | undefined): string[] {
  const list = Array.isArray(s) ? s : [s];
  if (list.length === 0) throw new DslError('bad-argument', `${what}: name at least one protection domain, virtual machine or trust domain`, undefined, loc);
  return list.map((x) => nameOf(x, what, loc));
}

/** `from` may influence `to` (all kinds of flow, or only `kinds`). Either side may list several, and name trust domains. */
export function allow(from: PolicySubject | PolicySubject[], to: PolicySubject | PolicySubject[], options: { kinds?: FlowKind[] } = {}): AllowRule {
  const loc = captureLocation();
  if (options.kinds !== undefined && (!Array.isArray(options.kinds) || options.kinds.some((k) => !KINDS.includes(k)))) {
    throw new DslError('bad-argument', `allow(): kinds must be some of ${KINDS.map((k) => `'${k}'`).join(', ')}`, undefined, loc);
  }
  return { kind: 'allow', from: names(from, 'allow() from', loc), to: names(to, 'allow() to', loc), flowKinds: options.kinds, loc };
}

/**
 * A restriction: nothing reaches `to` except from `from`, whatever an allow() or a trust domain
 * says. It never grants: a flow from a listed source must still be allowed by an allow() or a
 * shared trust domain, so `only()` can only ever make a policy narrower.
 *
 * @example only(backend, [filter]) // with allow(filter, backend): backend hears filter, no one else
 */
export function only(to: PolicySubject, from: PolicySubject | PolicySubject[]): OnlyRule {
  const loc = captureLocation();
  return { kind: 'only', to: nameOf(to, 'only() to', loc), from: names(from, 'only() from', loc), loc };
}

/** A group of PDs and VMs that trust each other; its name can stand in rules for all of them. */
export function trustDomain(name: string, members: PolicySubject[]): TrustDomain {
  const loc = captureLocation();
  if (typeof name !== 'string' || name === '') throw new DslError('bad-argument', 'trustDomain(): give it a name', undefined, loc);
  return { kind: 'trustDomain', name, members: names(members, `trustDomain('${name}') members`, loc), loc };
}

const made = new WeakSet<object>();

/** Whether `v` was made by policy() in this thread. */
export function isPolicy(v: unknown): v is Policy {
  return typeof v === 'object' && v !== null && made.has(v);
}

/** The flows a system may have. */
export function policy(options: PolicyOptions): Policy {
  const loc = captureLocation();
  const rules = options.rules ?? [];
  const domains = options.domains ?? [];
  if (!Array.isArray(rules) || rules.some((r) => r?.kind !== 'allow' && r?.kind !== 'only')) {
    throw new DslError('bad-argument', 'policy() rules: a list of allow(...) and only(...)', undefined, loc);
  }
  if (!Array.isArray(domains) || domains.some((d) => d?.kind !== 'trustDomain')) {
    throw new DslError('bad-argument', 'policy() domains: a list of trustDomain(...)', undefined, loc);
  }
  const infrastructure = options.infrastructure ?? 'allow';
  if (infrastructure !== 'allow' && infrastructure !== 'check') {
    throw new DslError('bad-argument', `policy() infrastructure: 'allow' or 'check', not ${JSON.stringify(infrastructure)}`, undefined, loc);
  }
  const p: Policy = { kind: 'policy', domains, rules, infrastructure, loc };
  made.add(p);
  return p;
}
