// What changed between two versions of a system, drawn: the newer diagram with what it added in
// green, what it changed in amber, and what it removed drawn back in as dashed red ghosts. It
// works on the DOT that graph.ts and flows-format.ts write (one node or edge a line, stable ids:
// `"pd:web"`, `"mr:status"`), so the topology and the flow graph are compared the same way. Pure.

/** One node or edge statement of our DOT: its identity, and the line as written. */
interface Statement {
  key: string;
  line: string;
  attributes: string;
}

const NODE = /^\s*("(?:[^"\\]|\\.)*")\s*\[(.*)\];$/;
const EDGE = /^\s*("(?:[^"\\]|\\.)*")\s*->\s*("(?:[^"\\]|\\.)*")\s*\[(.*)\];$/;

/**
 * What an edge is, beside its two ends: a map (label `rw-`), a channel (`ch 0:0`), `pp`, `child`,
 * `runs`, a flow kind... Two edges of one kind between the same ends are one edge that changed.
 */
function edgeKind(attributes: string): string {
  const label = /label="([^"]*)"/.exec(attributes)?.[1] ?? '';
  if (/^[r-][w-][x-]/.test(label)) return 'map';
  return /^[a-z]+/i.exec(label)?.[0] ?? '';
}

function statements(dot: string): Map<string, Statement> {
  const out = new Map<string, Statement>();
  for (const line of dot.split('\n')) {
    const edge = EDGE.exec(line);
    if (edge) {
      const key = `${edge[1]} -> ${edge[2]} ${edgeKind(edge[3]!)}`;
      out.set(out.has(key) ? `${key} ${out.size}` : key, { key, line, attributes: edge[3]! });
      continue;
    }
    const node = NODE.exec(line);
    if (node && !['graph', 'node', 'edge'].includes(node[1]!.slice(1, -1))) out.set(node[1]!, { key: node[1]!, line, attributes: node[2]! });
  }
  return out;
}

const ADDED = ', color="#2e7d32", fontcolor="#2e7d32", penwidth=3';
const CHANGED = ', color="#f9a825", penwidth=3';
const REMOVED = ', style=dashed, color="#c62828", fontcolor="#c62828", penwidth=2';

function marked(line: string, mark: string): string {
  return line.replace(/\];$/, `${mark}];`);
}

/** The newer DOT with the changes from the older marked, and the older's removed statements drawn back in. */
export function changesToDot(olderDot: string, newerDot: string, sides: { old: string; new: string }): string {
  const before = statements(olderDot);
  const after = statements(newerDot);
  const keyOf = new Map([...after].map(([k, s]) => [s.line, k]));
  const counts = { added: 0, changed: 0, removed: 0 };
  const lines = newerDot.split('\n').map((line) => {
    const key = keyOf.get(line);
    if (key === undefined) return line;
    const was = before.get(key);
    if (!was) {
      counts.added++;
      return marked(line, ADDED);
    }
    if (was.attributes !== after.get(key)!.attributes) {
      counts.changed++;
      return marked(line, CHANGED);
    }
    return line;
  });
  const ghosts = [...before].filter(([k]) => !after.has(k)).map(([, s]) => marked(`  ${s.line.trim()}`, REMOVED));
  counts.removed = ghosts.length;
  const close = lines.lastIndexOf('}');
  const legend = `changes from ${sides.old}: ${counts.added} added (green), ${counts.changed} changed (amber), ${counts.removed} removed (red, dashed)`;
  const title = lines.findIndex((l) => /^\s*graph \[/.test(l));
  if (title >= 0) lines[title] = lines[title]!.replace(/label="((?:[^"\\]|\\.)*)"/, (_, t: string) => `label="${t}\\n${legend.replace(/"/g, '\\"')}"`);
  lines.splice(close, 0, ...(ghosts.length ? ['', `  // Removed since ${sides.old}.`, ...ghosts] : []));
  return lines.join('\n');
}
