// Problems as data: validation collects them all, the CLI prints them like a compiler.
import type { Loc } from '../model/index.js';
import type { RuleId } from './rules.js';

export type { RuleId } from './rules.js';

export type Severity = 'error' | 'warning';

export interface Note {
  message: string;
  location?: Loc;
}

export interface Diagnostic {
  /** Stable id, e.g. 'map-overlap' (src/compile/diagnostics/rules.ts lists them all): tests and users can rely on it. */
  id: RuleId;
  severity: Severity;
  message: string;
  location: Loc;
  notes: Note[];
  hint?: string;
}

export function error(id: RuleId, message: string, location: Loc, extra: { notes?: Note[]; hint?: string } = {}): Diagnostic {
  return { id, severity: 'error', message, location, notes: extra.notes ?? [], ...(extra.hint ? { hint: extra.hint } : {}) };
}

export function warning(id: RuleId, message: string, location: Loc, extra: { notes?: Note[]; hint?: string } = {}): Diagnostic {
  return { id, severity: 'warning', message, location, notes: extra.notes ?? [], ...(extra.hint ? { hint: extra.hint } : {}) };
}

export function hasErrors(diags: readonly Diagnostic[]): boolean {
  return diags.some((d) => d.severity === 'error');
}

/**
 * A user error that stops a stage (a file that cannot be read, a missing board). Anything else
 * thrown is our bug: the CLI prints it as an internal error with its stack.
 */
export class UserError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic | Diagnostic[]) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => d.message).join('\n'));
    this.name = 'UserError';
    this.diagnostics = list;
  }
}
