// Runs the user's bundled systems.ts in a worker thread, so that code which never finishes (a
// `while (true) {}`, a top-level await that never settles) can be stopped after a bound and
// reported, which is impossible on the main thread. The System it exports is plain data (objects,
// arrays, Maps, bigints, strings) and crosses back by structured clone, shared references and
// cycles included; a problem crosses back as a description that index.ts turns into a UserError.
import type { RuleId } from '../diagnostics/rules.js';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { DslError } from '../../dsl/errors.js';
import { contextKeysRead, setContext } from '../../dsl/context.js';
import { checkProtectionDomainTree, isSystem, type System } from '../../dsl/system.js';
import { isPolicy } from '../../dsl/policy.js';

export interface LoadWorkerInput {
  bundle: string;
  context: [string, string][];
  cwd: string;
  /** Where guestImage() looks (the guest images `sel4cp-synth guest` fetched). */
  guestDir: string;
  /** What the default export must be: a system() (a systems.ts) or a policy() (a policy file). */
  expect: 'system' | 'policy';
}

export type LoadWorkerResult =
  | { ok: true; system: unknown; contextRead: string[] }
  | { ok: false; kind: 'dsl'; id: RuleId; message: string; hint: string | undefined; location: DslError['location']; stack: string }
  | { ok: false; kind: 'threw'; message: string; stack: string }
  | { ok: false; kind: 'not-a-system'; what: string };

/** A thrown value described without trusting it: its toString, getters or prototype may throw. */
function describeThrown(e: unknown): { message: string; stack: string } {
  try {
    if (e instanceof Error) return { message: String(e.message), stack: String(e.stack ?? '') };
  } catch {
    // fall through
  }
  try {
    if (typeof e === 'string') return { message: e, stack: '' };
    if (typeof e === 'object' && e !== null) {
      const message = (e as { message?: unknown }).message;
      return { message: typeof message === 'string' ? message : `a thrown ${Object.getPrototypeOf(e) === null ? 'object without a prototype' : 'object'}`, stack: '' };
    }
    return { message: `the value ${String(e)} was thrown`, stack: '' };
  } catch {
    return { message: 'a value whose description itself throws was thrown', stack: '' };
  }
}

function describeExport(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v !== 'object') return `a ${typeof v}`;
  const kind = (v as { kind?: unknown }).kind;
  return kind === 'system' || kind === 'policy' ? `an object that looks like a ${kind} but was not made by ${kind}()` : `an object that is not what was expected`;
}

async function run(input: LoadWorkerInput): Promise<LoadWorkerResult> {
  process.setSourceMapsEnabled(true);
  setContext(new Map(input.context), input.cwd, input.guestDir);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(input.bundle).href) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof DslError) return dslProblem(e);
    return { ok: false, kind: 'threw', ...describeThrown(e) };
  }
  const value = mod['default'];
  if (input.expect === 'policy' ? !isPolicy(value) : !isSystem(value)) return { ok: false, kind: 'not-a-system', what: describeExport(value) };
  if (input.expect === 'system') {
    // What the file did to its constructs after making them (through a cast), checked here
    // where the DSL's own classes and identities still hold.
    try {
      checkProtectionDomainTree(value as System);
    } catch (e) {
      if (e instanceof DslError) return dslProblem(e);
      throw e;
    }
  }
  return { ok: true, system: value, contextRead: [...contextKeysRead()] };
}

function dslProblem(e: DslError): LoadWorkerResult {
  return { ok: false, kind: 'dsl', id: e.id, message: e.message, hint: e.hint, location: e.location, stack: String(e.stack ?? '') };
}

function post(r: LoadWorkerResult): void {
  try {
    parentPort!.postMessage(r);
  } catch (e) {
    // Something in the system is not plain data (a function, say): say what, not how it broke.
    parentPort!.postMessage({ ok: false, kind: 'threw', message: `the exported system holds a value that is not plain data (${describeThrown(e).message})`, stack: '' } satisfies LoadWorkerResult);
  }
}

if (parentPort) {
  run(workerData as LoadWorkerInput).then(post, (e: unknown) => post({ ok: false, kind: 'threw', ...describeThrown(e) }));
}
