// The flow graph for a reader: text (a terminal), markdown (a pull request), JSON (versioned, for
// tools), a transitive path, and a Graphviz drawing with the flows coloured by kind. Pure.
import path from 'node:path';
import type { Flow, FlowGraph, FlowKind, FlowPath } from '../compile/flows.js';
import type { Loc, PolicyModel } from '../compile/model/index.js';
import { judgeFlow } from '../compile/validate/policy.js';

function where(loc: Loc, cwd: string): string {
  if (!loc) return '';
  const rel = path.relative(cwd, loc.file);
  return ` (${rel && !rel.startsWith('..') ? rel : loc.file}:${loc.line})`;
}

function verdictText(f: Flow, graph: FlowGraph, policy: PolicyModel | undefined): string {
  if (!policy) return '';
  const v = judgeFlow(f, policy, graph);
  if (!v.allowed) return '  NOT ALLOWED';
  return v.allowedBy.length ? '  allowed' : '  allowed (infrastructure)';
}

function principalLine(p: FlowGraph['principals'][number]): string {
  const members = p.members.length > 1 ? `, run by ${p.members.slice(1).join(', ')}` : '';
  return `${p.name} (${p.kind}${members}${p.infrastructure ? '; generated infrastructure' : ''})`;
}

export function formatFlowsText(graph: FlowGraph, policy: PolicyModel | undefined, cwd: string): string {
  const lines = [`principals: ${graph.principals.length}`, ...graph.principals.map((p) => `  ${principalLine(p)}`), `flows: ${graph.flows.length}`];
  for (const f of graph.flows) {
    lines.push(`  ${f.from} -> ${f.to}  ${f.kind}${verdictText(f, graph, policy)}`);
    for (const c of f.causes) lines.push(`      ${c.what}${where(c.loc, cwd)}`);
  }
  return lines.join('\n') + '\n';
}

export function formatFlowsMarkdown(graph: FlowGraph, policy: PolicyModel | undefined, cwd: string): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const out = [`**${graph.flows.length} flows** between ${graph.principals.length} principals.`, '', '| from | to | kind | because |' + (policy ? ' policy |' : ''), '| --- | --- | --- | --- |' + (policy ? ' --- |' : '')];
  for (const f of graph.flows) {
    const because = f.causes.map((c) => `${c.what}${where(c.loc, cwd)}`).join('<br>');
    out.push(`| \`${f.from}\` | \`${f.to}\` | ${f.kind} | ${cell(because)} |${policy ? ` ${verdictText(f, graph, policy).trim() || '-'} |` : ''}`);
  }
  return out.join('\n') + '\n';
}

export interface FlowsJson {
  format: 'sel4cp-synth-flows';
  version: 1;
  principals: { name: string; kind: string; members: string[]; infrastructure: boolean }[];
  flows: { from: string; to: string; kind: FlowKind; causes: { what: string; file?: string; line?: number }[]; allowed?: boolean }[];
}

export function flowsJson(graph: FlowGraph, policy: PolicyModel | undefined): FlowsJson {
  return {
    format: 'sel4cp-synth-flows',
    version: 1,
    principals: graph.principals.map((p) => ({ name: p.name, kind: p.kind, members: p.members, infrastructure: p.infrastructure })),
    flows: graph.flows.map((f) => ({
      from: f.from,
      to: f.to,
      kind: f.kind,
      causes: f.causes.map((c) => ({ what: c.what, ...(c.loc ? { file: c.loc.file, line: c.loc.line } : {}) })),
      ...(policy ? { allowed: judgeFlow(f, policy, graph).allowed } : {}),
    })),
  };
}

/** "a can influence b: a -memory-> x -notify-> b", each hop with its first cause. */
export function formatPath(p: FlowPath | undefined, from: string, to: string, cwd: string): string {
  if (!p) return `'${from}' cannot influence '${to}': no chain of flows leads there\n`;
  const lines = [`'${from}' can influence '${to}' in ${p.hops.length} hop${p.hops.length === 1 ? '' : 's'}:`];
  p.hops.forEach((h, i) => lines.push(`  ${i + 1}. ${h.from} -> ${h.to} (${h.kind}): ${h.causes[0]!.what}${where(h.causes[0]!.loc, cwd)}`));
  return lines.join('\n') + '\n';
}

const KIND_COLOUR: Record<FlowKind, string> = {
  memory: '#e65100', notify: '#1565c0', ppc: '#6a1b9a', device: '#c62828', control: '#424242', fault: '#9e9e9e', dma: '#b71c1c',
};

/** Principals as nodes, flows as edges coloured by kind; flows the policy forbids drawn thick and red. */
export function flowsToDot(graph: FlowGraph, policy: PolicyModel | undefined): string {
  const id = (name: string): string => JSON.stringify(`p:${name}`);
  const lines = ['digraph flows {', '  rankdir=LR;', '  node [fontname="DejaVu Sans", fontsize=11];', '  edge [fontname="DejaVu Sans", fontsize=9];'];
  for (const p of graph.principals) {
    const shape = p.kind === 'virtual machine' ? 'box3d' : 'box';
    const fill = p.infrastructure ? '#eeeeee' : p.kind === 'virtual machine' ? '#e1f5fe' : '#e3f2fd';
    lines.push(`  ${id(p.name)} [label=${JSON.stringify(p.name)}, shape=${shape}, style="rounded,filled", fillcolor="${fill}"];`);
  }
  for (const f of graph.flows) {
    const denied = policy !== undefined && !judgeFlow(f, policy, graph).allowed;
    const attrs = denied ? 'color="#d50000", fontcolor="#d50000", penwidth=3' : `color="${KIND_COLOUR[f.kind]}", fontcolor="${KIND_COLOUR[f.kind]}"`;
    lines.push(`  ${id(f.from)} -> ${id(f.to)} [label=${JSON.stringify(denied ? `${f.kind} (not allowed)` : f.kind)}, ${attrs}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}
