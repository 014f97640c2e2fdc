// No function in src/ over 80 lines (issue 19): every function declaration, method, accessor,
// constructor, function expression and arrow function in src/**/*.ts is measured with the
// TypeScript parser, from the line its declaration starts on (its doc comment not counted) to the
// line it ends on, nested functions counted inside their parent too. A long one is split into
// helpers whose names say what each part does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers.js';

const MAX_LINES = 80;

/** The .ts files under `dir` (declarations excluded), sorted. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(file));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(file);
  }
  return out.sort();
}

interface Measured {
  where: string;
  name: string;
  lines: number;
}

/** A function's name for the report: its own, the variable or property it is assigned to, or its kind. */
function nameOf(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) return parent.name.getText(sf);
  return ts.isArrowFunction(node) ? '(arrow function)' : '(function expression)';
}

/** Every function with a body in the file, and how many lines it spans. */
function measureFunctions(file: string, text: string): Measured[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Measured[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body !== undefined) {
      const fn = node as ts.FunctionLikeDeclaration;
      const first = sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(fn.getEnd()).line;
      out.push({ where: `${path.relative(repoRoot, file)}:${first + 1}`, name: nameOf(fn, sf), lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test('the measure counts a function from its first line to its last, nested ones too', () => {
  const text = ['/** doc */', 'function outer() {', '  const inner = () => {', '    return 1;', '  };', '  return inner();', '}', 'class C { m() { return 2; } }', ''].join('\n');
  const m = measureFunctions(path.join(repoRoot, 'src', 'x.ts'), text);
  assert.equal(m.map((f) => [f.where, f.name, f.lines]), [['src/x.ts:2', 'outer', 6], ['src/x.ts:3', 'inner', 3], ['src/x.ts:8', 'm', 1]]);
});

test(`no function in src/ is over ${MAX_LINES} lines`, () => {
  const long = sourceFiles(path.join(repoRoot, 'src'))
    .flatMap((file) => measureFunctions(file, readFileSync(file, 'utf8')))
    .filter((f) => f.lines > MAX_LINES)
    .map((f) => `${f.where}: ${f.name} is ${f.lines} lines`);
  assert.equal(long, [], `split these into helpers:\n  ${long.join('\n  ')}`);
});

test.run();
