// The comments of a .system file, attached to the elements that will carry them in TypeScript.
// The model has no comments (xml-tree.ts drops them), so this reads the file once more with
// saxes and keys each comment by the position of its element's start tag, which is also where
// the model says each element is (its loc).
//
// A comment belongs to the next element (a comment above an element describes it), or to the
// previous one when it follows it on the same line (`<irq .../> <!-- ethernet -->`). Elements
// that do not become a construct of their own (program_image, vcpu, end) pass their comments up
// to their nearest element that does.
import { SaxesParser } from 'saxes';

export interface XmlComments {
  /** Before the <system> element: usually a copyright header. */
  header: string[];
  /** By "line:column" of an element's start tag. */
  byElement: Map<string, string[]>;
  /** After the last element inside <system>, or after it. */
  footer: string[];
}

/** Elements that become a named construct or an item of a list in the TypeScript. */
const HOSTS = new Set(['memory_region', 'protection_domain', 'virtual_machine', 'map', 'irq', 'setvar', 'channel']);

export function elementKey(line: number, column: number): string {
  return `${line}:${column}`;
}

/** Comment text as lines: common indentation and blank edges removed. */
export function commentLines(text: string): string[] {
  const lines = text.split(/\r?\n/).map((l) => l.replace(/\s+$/, ''));
  while (lines.length && lines[0] === '') lines.shift();
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  // A first line that starts right after '<!--' has no indentation of its own to share.
  const firstInline = !/^[ \t]*\r?\n/.test(text);
  const rest = firstInline ? lines.slice(1) : lines;
  const indent = Math.min(...rest.filter((l) => l !== '').map((l) => /^\s*/.exec(l)![0].length));
  const strip = (l: string): string => l.slice(Number.isFinite(indent) ? indent : 0);
  return firstInline ? [lines[0]!.trimStart(), ...rest.map(strip)] : lines.map(strip);
}

/** Read the comments; a file that is not well formed has none (the model parser reports it). */
export function readXmlComments(text: string): XmlComments {
  const out: XmlComments = { header: [], byElement: new Map(), footer: [] };
  const parser = new SaxesParser({ position: true });
  interface Open { name: string; host: string | undefined }
  const stack: Open[] = [];
  let pending: string[] = [];
  let start = { line: 1, column: 1 };
  /** The host of the element that just ended, while nothing but spaces has followed it on its line. */
  let justClosed: string | undefined;
  let seenSystem = false;

  const give = (host: string | undefined, comments: string[]): void => {
    if (!comments.length) return;
    if (host === undefined) {
      (seenSystem ? out.footer : out.header).push(...comments);
      return;
    }
    const list = out.byElement.get(host) ?? [];
    list.push(...comments);
    out.byElement.set(host, list);
  };
  const nearestHost = (): string | undefined => {
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.host) return stack[i]!.host;
    return undefined;
  };

  parser.on('error', () => undefined);
  parser.on('opentagstart', (tag) => {
    start = { line: parser.line, column: Math.max(1, parser.column - tag.name.length - 1) };
  });
  parser.on('opentag', (tag) => {
    const own = HOSTS.has(tag.name) ? elementKey(start.line, start.column) : undefined;
    const host = own ?? nearestHost();
    // Comments before <system> stay in the header; those before an inner element describe it.
    give(tag.name === 'system' ? undefined : host, pending);
    pending = [];
    justClosed = undefined;
    if (tag.name === 'system') seenSystem = false;
    if (!tag.isSelfClosing) stack.push({ name: tag.name, host: own ?? host });
    else justClosed = host;
  });
  parser.on('closetag', (tag) => {
    if (tag.isSelfClosing) return;
    const el = stack.pop();
    // Comments left at the end of a container belong to it; at the end of <system>, to the footer.
    if (el?.name === 'system') {
      seenSystem = true;
      give(undefined, pending);
    } else {
      give(el?.host, pending);
    }
    pending = [];
    justClosed = el?.name === 'system' ? undefined : el?.host;
  });
  parser.on('text', (t) => {
    if (t.includes('\n')) justClosed = undefined;
  });
  parser.on('comment', (c) => {
    const lines = commentLines(c);
    if (!lines.length) return;
    if (justClosed !== undefined) give(justClosed, lines);
    else if (stack.length === 0) (seenSystem ? out.footer : out.header).push(...lines);
    else pending.push(...lines);
  });
  try {
    parser.write(text).close();
  } catch {
    // Malformed XML: the model parser reports it; keep what was read.
  }
  return out;
}
