// Print diagnostics like a compiler (esbuild's messages are the model): location, severity and
// id, the message, the offending source line with a caret, notes and a hint.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Diagnostic, Note } from '../compile/diagnostics/index.js';
import type { Loc } from '../compile/model/index.js';

export const PREFIX = 'sel4cp-synth:';

export interface Style {
  bold(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
}

const plain: Style = { bold: (s) => s, red: (s) => s, yellow: (s) => s, cyan: (s) => s, dim: (s) => s };
const ansi = (code: string) => (s: string): string => `\x1b[${code}m${s}\x1b[0m`;
const colour: Style = { bold: ansi('1'), red: ansi('31'), yellow: ansi('33'), cyan: ansi('36'), dim: ansi('2') };

export function styleFor(stream: NodeJS.WriteStream): Style {
  return stream.isTTY && !process.env['NO_COLOR'] ? colour : plain;
}

const sourceCache = new Map<string, string[] | undefined>();
function sourceLine(file: string, line: number): string | undefined {
  if (!sourceCache.has(file)) {
    try {
      sourceCache.set(file, readFileSync(file, 'utf8').split(/\r?\n/));
    } catch {
      sourceCache.set(file, undefined);
    }
  }
  return sourceCache.get(file)?.[line - 1];
}

export function formatLoc(loc: Loc, cwd: string): string {
  if (!loc) return '';
  const rel = path.relative(cwd, loc.file);
  const shown = rel && !rel.startsWith('..') ? rel : loc.file;
  return `${shown}:${loc.line}:${loc.column}`;
}

/** Longest source excerpt and message shown: a 20 MB attribute must not become 20 MB of stderr. */
export const MAX_SHOWN = 160;
const MAX_MESSAGE = 1000;

function frame(loc: Loc, style: Style): string[] {
  if (!loc) return [];
  let text = sourceLine(loc.file, loc.line)?.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '\ufffd');
  if (text === undefined) return [];
  let caret = Math.max(0, loc.column - 1);
  if (text.length > MAX_SHOWN) {
    // A window around the column, marked as cut on the sides that are.
    const from = Math.max(0, Math.min(caret - MAX_SHOWN / 2, text.length - MAX_SHOWN));
    const cut = text.slice(from, from + MAX_SHOWN);
    text = `${from > 0 ? '…' : ''}${cut}${from + MAX_SHOWN < text.length ? '…' : ''}`;
    caret = caret - from + (from > 0 ? 1 : 0);
  }
  const num = String(loc.line);
  const pad = ' '.repeat(num.length);
  return [
    `  ${style.dim(`${num} |`)} ${text}`,
    `  ${style.dim(`${pad} |`)} ${' '.repeat(caret)}${style.bold('^')}`,
  ];
}

function shorten(message: string): string {
  return message.length <= MAX_MESSAGE ? message : `${message.slice(0, MAX_MESSAGE)}… (${message.length - MAX_MESSAGE} more characters)`;
}

function noteLine(n: Note, cwd: string): string {
  return n.location ? `  note: ${shorten(n.message)} at ${formatLoc(n.location, cwd)}` : `  note: ${shorten(n.message)}`;
}

export function formatDiagnostic(d: Diagnostic, cwd: string, style: Style = plain): string {
  const sev = d.severity === 'error' ? style.red(`error[${d.id}]`) : style.yellow(`warning[${d.id}]`);
  const where = d.location ? `${formatLoc(d.location, cwd)}: ` : `${PREFIX} `;
  const lines = [`${style.bold(where)}${sev}: ${style.bold(shorten(d.message))}`, ...frame(d.location, style)];
  for (const n of d.notes) lines.push(noteLine(n, cwd));
  if (d.hint) lines.push(`  ${style.cyan('hint:')} ${d.hint}`);
  return lines.join('\n');
}

export function summary(diags: readonly Diagnostic[]): string {
  const errors = diags.filter((d) => d.severity === 'error').length;
  const warnings = diags.length - errors;
  const part = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${PREFIX} ${part(errors, 'error')}, ${part(warnings, 'warning')}`;
}
