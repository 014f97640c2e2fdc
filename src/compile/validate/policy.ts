// The isolation policy: every flow the topology creates must be one the policy allows. A flow
// that is not is an error at the construct that creates it, with a note at the policy (and at
// the only() rule that forbids it, if one does); a rule no flow uses is a warning; a name that is
// neither a PD, a VM nor a trust domain is an error at its rule. Without a policy, nothing.
//
// Only allow() rules and trust domains grant. An only() restricts and never grants: it forbids
// every flow into its target from a source it does not list, and a flow from a listed source
// still needs an allow() or a shared trust domain. So adding an only() can never let more
// through, whatever else the policy says.
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { deriveFlows, type Flow, type FlowGraph } from '../flows.js';
import type { Loc, PolicyModel, SystemModel } from '../model/index.js';

type Rule = PolicyModel['rules'][number];

/** Principal names a rule's name stands for (a trust domain stands for its members). */
function expand(name: string, policy: PolicyModel, graph: FlowGraph): string[] | undefined {
  const domain = policy.domains.find((d) => d.name === name);
  if (domain) return domain.members.map((m) => graph.principalOf.get(m) ?? m);
  const p = graph.principalOf.get(name);
  return p === undefined ? undefined : [p];
}

export interface Verdict {
  allowed: boolean;
  /** The rule that forbids it (an only()), or undefined. */
  forbiddenBy: Rule | undefined;
  /** The allow() rules and trust domains that grant it (never an only()). */
  allowedBy: (Rule | PolicyModel['domains'][number])[];
}

/** How the policy, and any policy that applies alongside it, judge one flow: each must allow it. */
export function judgeFlow(f: Flow, policy: PolicyModel, graph: FlowGraph): Verdict {
  const own = judgeOne(f, policy, graph);
  if (!own.allowed || !policy.alongside) return own;
  const other = judgeFlow(f, policy.alongside, graph);
  return other.allowed ? { ...own, allowedBy: [...own.allowedBy, ...other.allowedBy] } : other;
}

/** The policies that apply: this one, then those alongside it. */
export function policyChain(policy: PolicyModel): PolicyModel[] {
  return policy.alongside ? [policy, ...policyChain(policy.alongside)] : [policy];
}

function judgeOne(f: Flow, policy: PolicyModel, graph: FlowGraph): Verdict {
  const set = (names: readonly string[]): Set<string> => new Set(names.flatMap((n) => expand(n, policy, graph) ?? []));
  const infra = graph.principals.filter((p) => p.infrastructure).map((p) => p.name);
  const allowedBy: Verdict['allowedBy'] = [];
  if (policy.infrastructure === 'allow' && (infra.includes(f.from) || infra.includes(f.to))) return { allowed: true, forbiddenBy: undefined, allowedBy };
  // An only() forbids what it does not list; a source it lists is merely not forbidden by it.
  for (const r of policy.rules) {
    if (r.kind === 'only' && set([r.to]).has(f.to) && !set(r.from).has(f.from)) return { allowed: false, forbiddenBy: r, allowedBy: [] };
  }
  for (const d of policy.domains) {
    const members = set([d.name]);
    if (members.has(f.from) && members.has(f.to)) allowedBy.push(d);
  }
  for (const r of policy.rules) {
    if (r.kind === 'allow' && set(r.from).has(f.from) && set(r.to).has(f.to) && (r.flowKinds === undefined || r.flowKinds.includes(f.kind))) allowedBy.push(r);
  }
  return { allowed: allowedBy.length > 0, forbiddenBy: undefined, allowedBy };
}

function unknownNames(policy: PolicyModel, graph: FlowGraph): Diagnostic[] {
  const out: Diagnostic[] = [];
  const check = (name: string, loc: Loc, inDomain: boolean): void => {
    if (graph.principalOf.has(name)) return;
    if (!inDomain && policy.domains.some((d) => d.name === name)) return;
    out.push(error('policy-unknown-name', `the policy names '${name}', which is no protection domain or virtual machine${inDomain ? '' : ' or trust domain'} of the system`, loc, {
      hint: `known: ${graph.principals.map((p) => p.name).join(', ')}${policy.domains.length ? `; trust domains: ${policy.domains.map((d) => d.name).join(', ')}` : ''}`,
    }));
  };
  for (const d of policy.domains) d.members.forEach((m) => check(m, d.loc, true));
  for (const r of policy.rules) {
    if (r.kind === 'allow') [...r.from, ...r.to].forEach((n) => check(n, r.loc, false));
    else [r.to, ...r.from].forEach((n) => check(n, r.loc, false));
  }
  return out;
}

/** A rule as a reader sees it: `only(b, [a])`, `allow([a], [b], memory)`. */
export function describeRule(r: Rule): string {
  return r.kind === 'only' ? `only(${r.to}, [${r.from.join(', ')}])` : `allow([${r.from.join(', ')}], [${r.to.join(', ')}]${r.flowKinds ? `, ${r.flowKinds.join('/')}` : ''})`;
}

export function checkPolicy(system: SystemModel, graph: FlowGraph = deriveFlows(system)): Diagnostic[] {
  if (!system.policy) return [];
  const unknown = policyChain(system.policy).flatMap((p) => unknownNames(p, graph));
  if (unknown.length) return unknown;
  // Each policy judges on its own: a flow two of them forbid is reported once per policy.
  return policyChain(system.policy).flatMap((p) => checkOnePolicy(p, graph));
}

function checkOnePolicy(policy: PolicyModel, graph: FlowGraph): Diagnostic[] {
  const out: Diagnostic[] = [];
  const used = new Set<object>();
  for (const f of graph.flows) {
    const v = judgeOne(f, policy, graph);
    v.allowedBy.forEach((r) => used.add(r));
    if (v.allowed) continue;
    const cause = f.causes[0]!;
    const notes = [{ message: 'the policy is declared here', location: policy.loc }];
    if (v.forbiddenBy) notes.push({ message: `${describeRule(v.forbiddenBy)} forbids it`, location: v.forbiddenBy.loc });
    out.push(error('flow-not-allowed', `'${f.from}' can influence '${f.to}' (${f.kind}: ${cause.what}), which the policy does not allow`, cause.loc ?? policy.loc, {
      notes,
      hint: v.forbiddenBy
        ? `remove the construct, or add '${f.from}' to ${describeRule(v.forbiddenBy)} and allow it: allow('${f.from}', '${f.to}', { kinds: ['${f.kind}'] })`
        : `remove the construct, or allow it: allow('${f.from}', '${f.to}', { kinds: ['${f.kind}'] })`,
    }));
  }
  // An only() that forbids nothing today still guards the target against later changes: only the
  // granting rules are reported unused.
  for (const r of [...policy.rules.filter((r) => r.kind === 'allow'), ...policy.domains]) {
    if (!used.has(r)) out.push(warning('policy-rule-unused', `${'kind' in r ? describeRule(r) : `trust domain '${r.name}'`} allows no flow of the system`, r.loc, {
      hint: 'remove it, or check the names it uses',
    }));
  }
  return out;
}
