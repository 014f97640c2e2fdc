import type { SourceLocation } from './location.js';
import type { RuleId } from '../compile/diagnostics/rules.js';

/**
 * A mistake in the user's description found while their systems.ts runs (a DSL constructor got a
 * bad argument). It carries an id like the validation diagnostics and, once thrown through a
 * constructor, the location of the user's call.
 */
export class DslError extends Error {
  readonly id: RuleId;
  readonly hint: string | undefined;
  location: SourceLocation | undefined;

  constructor(id: RuleId, message: string, hint?: string, location?: SourceLocation) {
    super(message);
    this.name = 'DslError';
    this.id = id;
    this.hint = hint;
    this.location = location;
  }
}
