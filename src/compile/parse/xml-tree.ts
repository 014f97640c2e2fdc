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

/**
 * Deepest element nesting accepted. A Microkit system is a few levels deep (system, PD, child
 * PDs to Microkit's 63, map); anything deeper is not a system, and the walks that follow recurse.
 */
export const MAX_XML_DEPTH = 256;

/** Thrown inside the parser's handlers to stop at the first fatal problem. */
class Stop extends Error {}

export function parseXmlTree(text: string): XmlElement[] {
  const parser = new SaxesParser({ position: true });
  const roots: XmlElement[] = [];
  const stack: XmlElement[] = [];
  let start = { line: 1, column: 1 };
  let failure: XmlSyntaxError | undefined;

  // The first well-formedness error is fatal (XML 1.0 §1.2): stop there rather than let the
  // parser recover through megabytes of garbage.
  parser.on('error', (e) => {
    failure ??= new XmlSyntaxError(e.message.replace(/^[^:]*:\d+:\d+: /, ''), parser.line, parser.column + 1);
    throw new Stop();
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
    if (stack.length > MAX_XML_DEPTH) {
      failure = new XmlSyntaxError(`elements are nested more than ${MAX_XML_DEPTH} deep here; a Microkit system is a few levels deep`, start.line, start.column);
      throw new Stop();
    }
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
  try {
    parser.write(text).close();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  if (failure) throw failure;
  return roots;
}
