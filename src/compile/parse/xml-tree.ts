// A small element tree with source positions, read with saxes (the Microkit tool reports
// positions too; our messages must name the line of the user's .system file).
import { SaxesParser } from 'saxes';

export interface XmlElement {
  name: string;
  attrs: Map<string, string>;
  children: XmlElement[];
  /** Non-whitespace text directly inside the element, if any. */
  text: string;
  line: number;
  column: number;
}

export class XmlSyntaxError extends Error {
  constructor(message: string, readonly line: number, readonly column: number) {
    super(message);
  }
}

export function parseXmlTree(text: string): XmlElement[] {
  const parser = new SaxesParser({ position: true });
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let start = { line: 1, column: 1 };
  let failure: XmlSyntaxError | undefined;

  parser.on('error', (e) => {
    failure ??= new XmlSyntaxError(e.message.replace(/^[^:]*:\d+:\d+: /, ''), parser.line, parser.column + 1);
  });
  parser.on('opentagstart', (tag) => {
    // Position is just past the name: step back over it and '<'.
    start = { line: parser.line, column: Math.max(1, parser.column - tag.name.length - 1) };
  });
  parser.on('opentag', (tag) => {
    const el: XmlElement = { name: tag.name, attrs: new Map(Object.entries(tag.attributes as Record<string, string>)), children: [], text: '', ...start };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else roots.push(el);
    if (!tag.isSelfClosing) stack.push(el);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  parser.on('text', (t) => {
    const parent = stack[stack.length - 1];
    if (parent && t.trim() !== '') parent.text += t.trim();
  });
  parser.on('cdata', (t) => {
    const parent = stack[stack.length - 1];
    if (parent && t.trim() !== '') parent.text += t.trim();
  });
  parser.write(text).close();
  if (failure) throw failure;
  return roots;
}
