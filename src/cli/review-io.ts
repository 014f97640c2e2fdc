// The effects the review commands need: a model from either kind of input file, a systems.ts as
// it was at a git commit, and atomic writes of their outputs.
import { xmlModel } from '../compile/parse/xml-model.js';
import type { MicrokitRelease } from '../compile/releases.js';
import { generatedForBoard } from '../compile/parse/generated.js';
import { checkPolicy } from '../compile/validate/policy.js';
import { loadPolicy } from '../compile/load/index.js';
import type { PolicyModel } from '../compile/model/index.js';
import { readUserText } from './read-text.js';
import { removeAtExit } from '../cleanup.js';
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { error, hasErrors, UserError } from '../compile/diagnostics/index.js';
import type { SystemModel } from '../compile/model/index.js';
import { buildModel } from '../compile/synthesise.js';
import { pickBoard } from '../compile/load/boards.js';

export interface ModelInput {
  board: string | undefined;
  context: ReadonlyMap<string, string>;
  /** --microkit: the release a .system file is read as, and a systems.ts checked for. */
  microkit?: MicrokitRelease | undefined;
}

export function isSystemXml(file: string): boolean {
  return file.endsWith('.system') || file.endsWith('.xml');
}

export async function readUserFile(file: string, shown = file): Promise<string> {
  return readUserText(file, shown);
}

/**
 * The model of a systems.ts or a .system file. A file with errors is a user error (its
 * diagnostics are thrown); warnings are not the review commands' business and are dropped.
 */
export async function loadModel(file: string, input: ModelInput): Promise<SystemModel> {
  const abs = path.resolve(file);
  if (isSystemXml(file)) return loadXmlModel(abs, file, input);
  if (!existsSync(abs)) throw new UserError(error('file-unreadable', `cannot read ${file}: ENOENT`, undefined));
  const { model, diagnostics } = await buildModel({ file: abs, board: input.board, context: input.context, microkit: input.microkit });
  // A flow the system's own policy forbids is what the review commands show, not a reason to stop.
  const errors = diagnostics.filter((d) => d.severity === 'error' && d.id !== 'flow-not-allowed');
  if (errors.length) throw new UserError(errors);
  return model;
}

/**
 * The model of a systems.ts or .system, judged against `policyFile` when one is given (a file
 * whose default export is a policy(); it applies alongside any policy the systems.ts declares,
 * never in its place). A flow the policy forbids is an error of the model, like any other.
 */
export async function loadModelWithPolicy(file: string, policyFile: string | undefined, input: ModelInput): Promise<SystemModel> {
  const model = await loadModel(file, input);
  if (policyFile !== undefined) model.policy = withPolicyFile(model.policy, await loadPolicyFile(policyFile));
  // A policy that names what the system does not have judges nothing: say so.
  const unknown = checkPolicy(model).filter((d) => d.id === 'policy-unknown-name');
  if (unknown.length) throw new UserError(unknown);
  return model;
}

/** The system's own policy with `extra` applying alongside it (or `extra` alone when it has none). */
export function withPolicyFile(own: PolicyModel | undefined, extra: PolicyModel): PolicyModel {
  return own ? { ...own, alongside: own.alongside ? withPolicyFile(own.alongside, extra) : extra } : extra;
}

export async function loadPolicyFile(policyFile: string): Promise<PolicyModel> {
  const abs = path.resolve(policyFile);
  if (!existsSync(abs)) throw new UserError(error('file-unreadable', `cannot read ${policyFile}: ENOENT`, undefined));
  return loadPolicy(abs) as Promise<PolicyModel>;
}

async function loadXmlModel(abs: string, shown: string, input: ModelInput): Promise<SystemModel> {
  const text = await readUserFile(abs, shown);
  const parsed = xmlModel(text, abs, { board: pickBoard(input.board, generatedForBoard(text), undefined), microkit: input.microkit });
  if (!parsed.model || hasErrors(parsed.diagnostics)) throw new UserError(parsed.diagnostics.filter((d) => d.severity === 'error'));
  return parsed.model;
}

function git(cwd: string, args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw new UserError(error('git-missing', `cannot run git: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`, undefined, { hint: 'install git (Debian package git)' }));
  return { ok: r.status === 0, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The model of `file` as it was at git commit `ref`. The whole tree of that commit is extracted
 * into a temporary directory (a systems.ts may import files beside it, or above it), with this
 * checkout's node_modules linked in so that its other imports resolve as they do here; the file
 * is loaded there and the directory removed.
 */
export async function loadModelAtRef(file: string, ref: string, input: ModelInput): Promise<{ model: SystemModel; label: string }> {
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  if (!existsSync(dir)) throw new UserError(error('file-unreadable', `cannot read ${file}: its directory does not exist`, undefined));
  const top = git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new UserError(error('git-not-a-repository', `${file} is not in a git repository, so --base ${ref} has nothing to read`, undefined));
  const root = realpathSync(top.stdout.trim());
  const rel = path.relative(root, path.join(realpathSync(dir), path.basename(abs))).split(path.sep).join('/');
  if (!git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).ok) {
    throw new UserError(error('git-unknown-ref', `unknown git revision '${ref}'`, undefined));
  }
  if (!git(root, ['cat-file', '-e', `${ref}:${rel}`]).ok) {
    throw new UserError(error('git-file-absent', `${rel} does not exist at ${ref}`, undefined));
  }
  const label = `${rel}@${ref}`;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'sel4cp-synth-base-'));
  const release = removeAtExit(tmp);
  try {
    const tree = path.join(tmp, 'tree');
    await mkdir(tree);
    const tar = path.join(tmp, 'base.tar');
    const archived = git(root, ['archive', '--format=tar', '-o', tar, ref]);
    if (!archived.ok) throw new UserError(error('git-archive-failed', `git archive ${ref} failed: ${archived.stderr.trim()}`, undefined));
    const x = spawnSync('tar', ['-xf', tar, '-C', tree], { encoding: 'utf8' });
    if (x.status !== 0) throw new UserError(error('git-archive-failed', `cannot extract ${ref}: ${(x.stderr || String(x.error)).trim()}`, undefined));
    if (existsSync(path.join(root, 'node_modules')) && !existsSync(path.join(tree, 'node_modules'))) {
      await symlink(path.join(root, 'node_modules'), path.join(tree, 'node_modules'), 'dir');
    }
    const model = await loadModel(path.join(tree, rel), input);
    // Paths in this model point into the temporary tree; the diff compares no paths, only names and values.
    return { model, label };
  } finally {
    await rm(tmp, { recursive: true, force: true });
    release();
  }
}

/** Write `content` to `file` through a temporary name beside it, so a failed run leaves no half-written file. */
export async function writeAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const abs = path.resolve(file);
  await mkdir(path.dirname(abs), { recursive: true });
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.tmp-${process.pid}`);
  try {
    await writeFile(tmp, content);
    await rename(tmp, abs);
  } finally {
    await rm(tmp, { force: true });
  }
}
