// Where the sources report each diagnostic id, read with the TypeScript parser, so that an id in a
// comment, or in a string that reports nothing, does not count. A report is:
// - a call of a reporter with the id, as a string literal, where the reporter takes its id:
//   `error('id', ...)`, `warning('id', ...)`, `new DslError('id', ...)`;
// - a call of an alias that chooses between reporters (`const make = c ? error : warning`);
// - a call of a wrapper: a function whose parameter, declared as a `RuleId`, it passes on as the
//   id of a reporter (`fail(id, ...)` calling `error(id, ...)`; `duplicates(list, 'duplicate-pd-name',
//   ...)`). Functions and aliases are called by name in the file that declares them; methods
//   (`fail(id: RuleId, ...)` of the XML reader) as `this.fail('id')` or `r.fail('id')` anywhere;
// - an object literal with `id: 'id'` and a `severity`: a finding its caller turns into a
//   diagnostic (the device-tree cross-check and the guest tree cutter return these);
// - a release row's `laterRule: 'id'` (src/compile/releases.ts): the error the validator reports,
//   through laterRule(), for a feature of that release used on an earlier one.
import { ts } from 'ts-morph';

export interface SourceText {
  /** A path relative to the repository (`src/compile/validate/maps.ts`). */
  file: string;
  text: string;
}

/** Reporter name → the argument positions that take the id. */
type Reporters = Map<string, Set<number>>;

/** error(), warning() and new DslError(), wherever they are imported. */
const BASE: Reporters = new Map([['error', new Set([0])], ['warning', new Set([0])], ['DslError', new Set([0])]]);

/** The type a wrapper's id parameter is declared with. */
const ID_TYPE = /^(RuleId|Parameters<typeof (error|warning)>\[0\])$/;

function add(reporters: Reporters, name: string, position: number): boolean {
  const at = reporters.get(name) ?? new Set<number>();
  if (at.has(position)) return false;
  at.add(position);
  reporters.set(name, at);
  return true;
}

function each(root: ts.Node, visit: (n: ts.Node) => void): void {
  const walk = (n: ts.Node): void => {
    visit(n);
    ts.forEachChild(n, walk);
  };
  walk(root);
}

function isCall(n: ts.Node): n is ts.CallExpression | ts.NewExpression {
  return ts.isCallExpression(n) || ts.isNewExpression(n);
}

interface Parsed {
  file: string;
  sf: ts.SourceFile;
  /** The file's own functions and aliases that report. */
  local: Reporters;
}

/** Methods that report, called on any object (`this.fail`, `r.fail`). */
type Methods = Reporters;

/** The positions at which a call's callee takes an id, in the file `p`. */
function positions(call: ts.CallExpression | ts.NewExpression, p: Parsed, methods: Methods): Set<number> | undefined {
  const e = call.expression;
  if (ts.isIdentifier(e)) return p.local.get(e.text) ?? BASE.get(e.text);
  if (ts.isPropertyAccessExpression(e)) return methods.get(e.name.text);
  return undefined;
}

/** A function-like node that can be called by a name: that name, and whether it is a method. */
function callable(node: ts.Node): { name: string; method: boolean } | undefined {
  if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name)) return { name: node.name.text, method: true };
  if (ts.isFunctionDeclaration(node) && node.name) return { name: node.name.text, method: false };
  if (ts.isArrowFunction(node) || ts.isFunctionExpression(node)) {
    const p = node.parent;
    if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return { name: p.name.text, method: false };
    if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name)) return { name: p.name.text, method: true };
  }
  return undefined;
}

/** Every wrapper and alias the sources define, to a fixed point (a wrapper of a wrapper is one too). */
function findReporters(parsed: Parsed[]): Methods {
  const methods: Methods = new Map();
  for (let changed = true; changed;) {
    changed = false;
    for (const p of parsed) {
      each(p.sf, (n) => {
        if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer) {
          // const make = cond ? error : warning, or a plain alias: the positions all branches share.
          const init = n.initializer;
          const branches = ts.isConditionalExpression(init) ? [init.whenTrue, init.whenFalse] : [init];
          const sets = branches.map((b) => (ts.isIdentifier(b) ? p.local.get(b.text) ?? BASE.get(b.text) : undefined));
          if (sets.every((s) => s !== undefined)) {
            for (const at of sets[0]!) if (sets.every((s) => s!.has(at))) changed = add(p.local, n.name.text, at) || changed;
          }
        }
        const c = callable(n);
        const fn = n as ts.FunctionLikeDeclaration;
        if (!c || !fn.body) return;
        // Only a parameter declared as an id passes one on: `fail(code: string)` reports nothing.
        const params = fn.parameters.map((q) => (ts.isIdentifier(q.name) && q.type && ID_TYPE.test(q.type.getText(p.sf)) ? q.name.text : undefined));
        each(fn.body, (inner) => {
          if (!isCall(inner)) return;
          for (const at of positions(inner, p, methods) ?? []) {
            const arg = inner.arguments?.[at];
            const i = arg && ts.isIdentifier(arg) ? params.indexOf(arg.text) : -1;
            if (i >= 0) changed = add(c.method ? methods : p.local, c.name, i) || changed;
          }
        });
      });
    }
  }
  return methods;
}

/** id → the files (as given) that report it. */
export function reportSites(sources: SourceText[]): Map<string, Set<string>> {
  const parsed: Parsed[] = sources.map((s) => ({ file: s.file, sf: ts.createSourceFile(s.file, s.text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS), local: new Map() }));
  const methods = findReporters(parsed);
  const sites = new Map<string, Set<string>>();
  const found = (id: string, file: string): void => {
    const at = sites.get(id) ?? new Set<string>();
    at.add(file);
    sites.set(id, at);
  };
  for (const p of parsed) {
    each(p.sf, (n) => {
      if (isCall(n)) {
        for (const at of positions(n, p, methods) ?? []) {
          const arg = n.arguments?.[at];
          if (arg && ts.isStringLiteral(arg)) found(arg.text, p.file);
        }
      } else if (ts.isObjectLiteralExpression(n)) {
        const prop = (key: string): ts.ObjectLiteralElementLike | undefined =>
          n.properties.find((q) => q.name !== undefined && ts.isIdentifier(q.name) && q.name.text === key);
        const id = prop('id');
        if (id && ts.isPropertyAssignment(id) && ts.isStringLiteral(id.initializer) && prop('severity')) found(id.initializer.text, p.file);
        const later = prop('laterRule');
        if (later && ts.isPropertyAssignment(later) && ts.isStringLiteral(later.initializer) && prop('name')) found(later.initializer.text, p.file);
      }
    });
  }
  return sites;
}
