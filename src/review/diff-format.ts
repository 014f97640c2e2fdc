// The three renderings of a model diff: text for a terminal, markdown for a pull request, JSON for
// tools. Pure: each takes the diff and returns a string. Privilege changes always come first.
import { CHANGE_KINDS, privilegeChanges, type Change, type ChangeKind, type FieldChange, type ModelDiff } from './diff.js';

export interface DiffSides {
  /** How each side is named in the output: a path, or `path@ref` for a git base. */
  old: string;
  new: string;
}

const TITLES: Record<ChangeKind, [section: string, element: string]> = {
  'flow': ['Flows', 'flow (from -> to, kind)'],
  'policy': ['Policy', 'rule'],
  'system': ['System', 'system'],
  'memory-region': ['Memory regions', 'region'],
  'protection-domain': ['Protection domains', 'protection domain'],
  'virtual-machine': ['Virtual machines', 'virtual machine'],
  'map': ['Maps', 'map (PD or VM / region)'],
  'irq': ['IRQs', 'IRQ'],
  'channel': ['Channels', 'channel (pd:id ends)'],
  'setvar': ['Setvars', 'setvar (PD / symbol)'],
  'cap': ['CSpace caps', 'cap (holder / slot)'],
  'domain': ['Domains', 'domain or schedule slot'],
  'guest': ['Guests', 'guest (VM)'],
  'passthrough': ['Passthrough devices', 'device (VM / device)'],
  'control': ['VM controllers', 'VM (controlled by)'],
};

const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;

/** "7 changes, 3 widen privilege" or "no changes". */
export function summaryLine(diff: ModelDiff, sides: DiffSides): string {
  const n = diff.changes.length;
  if (n === 0) return `no changes between ${sides.old} and ${sides.new}`;
  const p = privilegeChanges(diff).length;
  return `${plural(n, 'change')} between ${sides.old} and ${sides.new}; ${p === 0 ? 'none widens privilege' : `${p} of them widen${p === 1 ? 's' : ''} privilege`}`;
}

function fieldText(f: FieldChange, op: Change['op']): string {
  if (op === 'added') return `${f.field}=${f.new}`;
  if (op === 'removed') return `${f.field}=${f.old}`;
  return `${f.field} ${f.old ?? '(unset)'} -> ${f.new ?? '(unset)'}`;
}

// ---------------------------------------------------------------------------------------------
// Text

interface Paint {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const ansi = (code: string) => (s: string): string => `\x1b[${code}m${s}\x1b[0m`;
const COLOUR: Paint = { green: ansi('32'), red: ansi('31'), yellow: ansi('33'), bold: ansi('1'), dim: ansi('2') };
const PLAIN: Paint = { green: (s) => s, red: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };

const SIGN: Record<Change['op'], string> = { added: '+', removed: '-', changed: '~' };

export function formatDiffText(diff: ModelDiff, sides: DiffSides, options: { colour: boolean; prefix: string }): string {
  const p = options.colour ? COLOUR : PLAIN;
  const paintOp = (op: Change['op'], s: string): string => (op === 'added' ? p.green(s) : op === 'removed' ? p.red(s) : p.yellow(s));
  const lines = [`${options.prefix} ${summaryLine(diff, sides)}`, ...diff.notes.map((n) => `${options.prefix} note: ${n}`)];
  const privileged = privilegeChanges(diff);
  if (privileged.length) {
    lines.push('', p.bold(p.red('Privilege changes')));
    // One `!` per change, as the summary counts them; a change's further reasons follow it.
    for (const c of privileged) {
      c.privilege.forEach((r, i) => lines.push(i === 0
        ? `  ${p.red('!')} ${r.reason} ${p.dim(`[${r.flag}; ${c.kind} ${c.key} ${c.op}]`)}`
        : `      also: ${r.reason} ${p.dim(`[${r.flag}]`)}`));
    }
  }
  for (const kind of CHANGE_KINDS) {
    const of = diff.changes.filter((c) => c.kind === kind);
    if (!of.length) continue;
    lines.push('', p.bold(TITLES[kind][0]));
    const width = Math.max(...of.map((c) => c.key.length));
    for (const c of of) {
      const mark = c.privilege.length ? p.red('!') : ' ';
      lines.push(`${mark} ${paintOp(c.op, `${SIGN[c.op]} ${c.key.padEnd(width)}`)}  ${c.fields.map((f) => fieldText(f, c.op)).join(', ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Markdown

/** Inline code that survives any content (backticks inside, pipes in a table). */
function code(s: string): string {
  const escaped = s.replace(/\|/g, '\\|');
  return escaped.includes('`') ? `\`\` ${escaped} \`\`` : `\`${escaped}\``;
}

function fieldMarkdown(f: FieldChange, op: Change['op']): string {
  if (op === 'added') return `${f.field} ${code(f.new ?? '')}`;
  if (op === 'removed') return `${f.field} ${code(f.old ?? '')}`;
  return `${f.field} ${f.old === undefined ? '(unset)' : code(f.old)} → ${f.new === undefined ? '(unset)' : code(f.new)}`;
}

export function formatDiffMarkdown(diff: ModelDiff, sides: DiffSides): string {
  const out: string[] = [];
  const privileged = privilegeChanges(diff);
  const n = diff.changes.length;
  const notes = diff.notes.map((x) => `> Note: ${x}.`);
  if (n === 0) {
    out.push(`**Topology:** no changes between ${code(sides.old)} and ${code(sides.new)}.`);
    if (notes.length) out.push('', ...notes);
    return out.join('\n') + '\n';
  }
  out.push(`**Topology:** ${plural(n, 'change')} between ${code(sides.old)} and ${code(sides.new)}; `
    + (privileged.length ? `**${privileged.length} of them widen${privileged.length === 1 ? 's' : ''} privilege** ⚠️` : 'none widens privilege') + '.');
  if (notes.length) out.push('', ...notes);
  out.push('', '### Privilege changes', '');
  if (privileged.length) {
    for (const c of privileged) {
      c.privilege.forEach((r, i) => out.push(i === 0
        ? `- ⚠️ ${r.reason} (${code(r.flag)}; ${c.kind} ${code(c.key)} ${c.op})`
        : `  - also: ${r.reason} (${code(r.flag)})`));
    }
  } else {
    out.push('None.');
  }
  for (const kind of CHANGE_KINDS) {
    const of = diff.changes.filter((c) => c.kind === kind);
    if (!of.length) continue;
    out.push('', `### ${TITLES[kind][0]}`, '', `| | ${TITLES[kind][1]} | change | details |`, '| --- | --- | --- | --- |');
    for (const c of of) {
      out.push(`| ${c.privilege.length ? '⚠️' : ''} | ${code(c.key)} | ${c.op} | ${c.fields.map((f) => fieldMarkdown(f, c.op)).join('<br>')} |`);
    }
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// JSON

/**
 * The JSON output, version 1. Stable: fields are only ever added, and a change of meaning bumps
 * `version`. Numbers that are addresses or sizes are hex strings ("0x9000000"); all field values
 * are strings; a value that is absent on one side is null.
 *
 *     {
 *       "format": "sel4cp-synth-diff", "version": 1,
 *       "old": "a.system", "new": "systems/linux.ts",
 *       "equal": false,
 *       "summary": { "changes": 7, "privilege": 3 },
 *       "notes": ["what was not compared, and why"],
 *       "changes": [
 *         { "kind": "map", "op": "added", "key": "linux/uart1",
 *           "fields": [{ "field": "perms", "old": null, "new": "rw" }, ...],
 *           "privilege": [{ "flag": "device-reachable", "reason": "..." }] }
 *       ]
 *     }
 *
 * `kind` is one of CHANGE_KINDS, `op` added | removed | changed, `flag` one of PrivilegeFlag.
 */
export interface DiffJson {
  format: 'sel4cp-synth-diff';
  version: 1;
  old: string;
  new: string;
  equal: boolean;
  summary: { changes: number; privilege: number };
  notes: string[];
  changes: {
    kind: ChangeKind;
    op: Change['op'];
    key: string;
    fields: { field: string; old: string | null; new: string | null }[];
    privilege: { flag: string; reason: string }[];
  }[];
}

export function diffJson(diff: ModelDiff, sides: DiffSides): DiffJson {
  return {
    format: 'sel4cp-synth-diff',
    version: 1,
    old: sides.old,
    new: sides.new,
    equal: diff.changes.length === 0,
    summary: { changes: diff.changes.length, privilege: privilegeChanges(diff).length },
    notes: [...diff.notes],
    changes: diff.changes.map((c) => ({
      kind: c.kind,
      op: c.op,
      key: c.key,
      fields: c.fields.map((f) => ({ field: f.field, old: f.old ?? null, new: f.new ?? null })),
      privilege: c.privilege.map((r) => ({ flag: r.flag, reason: r.reason })),
    })),
  };
}

export function formatDiffJson(diff: ModelDiff, sides: DiffSides): string {
  return JSON.stringify(diffJson(diff, sides), null, 2) + '\n';
}
