// A tiny pretty-printer for the expressions import writes: calls, object and array literals. An
// expression stays on one line when it fits and holds no comment; otherwise it breaks, one
// property or item a line, with trailing commas (as prettier and the TypeScript formatter leave
// it). ts-morph assembles the statements and formats the file; this decides the line breaks.

export type Code =
  | { t: 'raw'; s: string }
  | { t: 'call'; fn: string; args: Code[] }
  | { t: 'obj'; props: [key: string, value: Code, comments?: readonly string[]][] }
  | { t: 'arr'; items: { code: Code; comments: string[] }[] };

export const raw = (s: string): Code => ({ t: 'raw', s });
export const call = (fn: string, ...args: Code[]): Code => ({ t: 'call', fn, args });
/** An object literal; a property may carry comment lines, written above it. Undefined values are left out. */
export const obj = (props: [string, Code | undefined, (readonly string[])?][]): Code => ({
  t: 'obj',
  props: props.filter((p): p is [string, Code, (readonly string[])?] => p[1] !== undefined),
});
export const arr = (items: (Code | { code: Code; comments: string[] })[]): Code => ({
  t: 'arr',
  items: items.map((i) => ('t' in i ? { code: i, comments: [] } : i)),
});

export const WIDTH = 100;
const INDENT = '  ';

function hasComments(c: Code): boolean {
  switch (c.t) {
    case 'raw': return false;
    case 'call': return c.args.some(hasComments);
    case 'obj': return c.props.some(([, v, lines]) => (lines?.length ?? 0) > 0 || hasComments(v));
    case 'arr': return c.items.some((i) => i.comments.length > 0 || hasComments(i.code));
  }
}

function flat(c: Code): string {
  switch (c.t) {
    case 'raw': return c.s;
    case 'call': return `${c.fn}(${c.args.map(flat).join(', ')})`;
    case 'obj': return c.props.length ? `{ ${c.props.map(([k, v]) => `${k}: ${flat(v)}`).join(', ')} }` : '{}';
    case 'arr': return `[${c.items.map((i) => flat(i.code)).join(', ')}]`;
  }
}

function commentLines(lines: readonly string[], indent: string): string {
  return lines.map((l) => `${indent}//${l ? ` ${l}` : ''}\n`).join('');
}

/** Print `c` starting at column `col` of a line indented by `indent`. */
export function print(c: Code, indent = '', col = 0): string {
  const one = flat(c);
  if (!hasComments(c) && col + one.length <= WIDTH) return one;
  const inner = indent + INDENT;
  switch (c.t) {
    case 'raw':
      return c.s;
    case 'obj':
      if (!c.props.length) return '{}';
      return `{\n${c.props.map(([k, v, lines]) => `${commentLines(lines ?? [], inner)}${inner}${k}: ${print(v, inner, inner.length + k.length + 2)},\n`).join('')}${indent}}`;
    case 'arr':
      if (!c.items.length) return '[]';
      return `[\n${c.items.map((i) => `${commentLines(i.comments, inner)}${inner}${print(i.code, inner, inner.length)},\n`).join('')}${indent}]`;
    case 'call': {
      const last = c.args[c.args.length - 1];
      const head = c.args.slice(0, -1).map(flat);
      // Hug a trailing object or array: name('x', {\n ...\n}) reads best.
      if (last && (last.t === 'obj' || last.t === 'arr') && !c.args.slice(0, -1).some(hasComments)) {
        const prefix = `${c.fn}(${head.map((h) => `${h}, `).join('')}`;
        if (col + prefix.length + 1 <= WIDTH) return `${prefix}${print(last, indent, col + prefix.length)})`;
      }
      return `${c.fn}(\n${c.args.map((a) => `${inner}${print(a, inner, inner.length)},\n`).join('')}${indent})`;
    }
  }
}
