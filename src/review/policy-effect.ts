// What a change of policy lets through, computed rather than guessed from the kind of rule that
// changed: every (from, to, kind) that the principals of either system could form is judged under
// the old policy and the new one. A triple the new policy allows and the old did not is a widening;
// no policy at all allows everything. A single rule change is blamed for a widening when undoing
// just that change on the new side forbids at least one widened triple again, so rules that widen
// only together (an only() removed beside an allow() added) are each flagged. Pure.
import { FLOW_KINDS, type Flow, type FlowGraph, type FlowKind, type Principal } from '../compile/flows.js';
import type { PolicyModel } from '../compile/model/index.js';
import { judgeFlow } from '../compile/validate/policy.js';

/** One possible flow, without its causes. */
export interface FlowTriple {
  from: string;
  to: string;
  kind: FlowKind;
}

export interface PolicyEffect {
  /** Allowed by the new policy and not by the old. */
  widened: FlowTriple[];
  /** Allowed by the old policy and not by the new. */
  narrowed: FlowTriple[];
}

/** The principals of both systems (by name) and how their PDs map to them: the triples to judge. */
export function policyUniverse(older: FlowGraph, newer: FlowGraph): FlowGraph {
  const principals = new Map<string, Principal>();
  for (const p of [...older.principals, ...newer.principals]) principals.set(p.name, p);
  return { principals: [...principals.values()], flows: [], principalOf: new Map([...older.principalOf, ...newer.principalOf]) };
}

function triples(universe: FlowGraph): FlowTriple[] {
  const out: FlowTriple[] = [];
  for (const a of universe.principals) {
    for (const b of universe.principals) {
      if (a.name !== b.name) for (const kind of FLOW_KINDS) out.push({ from: a.name, to: b.name, kind });
    }
  }
  return out;
}

/** Whether `policy` lets `t` through; no policy lets everything through. */
export function policyAllows(policy: PolicyModel | undefined, t: FlowTriple, universe: FlowGraph): boolean {
  if (!policy) return true;
  const flow: Flow = { ...t, causes: [] };
  return judgeFlow(flow, policy, universe).allowed;
}

export function policyEffect(older: PolicyModel | undefined, newer: PolicyModel | undefined, universe: FlowGraph): PolicyEffect {
  const widened: FlowTriple[] = [];
  const narrowed: FlowTriple[] = [];
  for (const t of triples(universe)) {
    const before = policyAllows(older, t, universe);
    const after = policyAllows(newer, t, universe);
    if (after && !before) widened.push(t);
    if (before && !after) narrowed.push(t);
  }
  return { widened, narrowed };
}

/** The widened triples that `undone` (the new policy with one change taken back) forbids again. */
export function widenedBy(widened: readonly FlowTriple[], undone: PolicyModel | undefined, universe: FlowGraph): FlowTriple[] {
  return widened.filter((t) => !policyAllows(undone, t, universe));
}

export function tripleKey(t: FlowTriple): string {
  return `${t.from} -> ${t.to} (${t.kind})`;
}

/** `a -> b (memory)`, a few of them, and how many more. */
export function describeTriples(ts: readonly FlowTriple[], most = 3): string {
  const shown = ts.slice(0, most).map((t) => `'${t.from}' -> '${t.to}' (${t.kind})`).join(', ');
  return ts.length > most ? `${shown} and ${ts.length - most} more` : shown;
}
