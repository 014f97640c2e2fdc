// The tree is the pipeline (STYLE.md): src/compile builds and never reaches into the command
// line or the QEMU process, and no module of src/ needs itself again through its value imports
// (a cycle makes evaluation order matter: a constant read before its module ran is undefined).
// Read from the sources with the TypeScript parser: `import type`, `export type` and imports
// whose every name is `type` are left out, as the compiler erases them; everything else is an
// edge, a side-effect import and a re-export (`export ... from`) included.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ts } from 'ts-morph';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from './helpers.js';

const srcDir = path.join(repoRoot, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The src/ modules a file imports values from, as paths relative to src/ (`compile/load/index.ts`). */
function valueImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of sf.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(s)) {
      const clause = s.importClause;
      if (clause?.isTypeOnly) continue;
      const named = clause?.namedBindings;
      const onlyTypes = clause !== undefined && clause.name === undefined && named !== undefined && ts.isNamedImports(named)
        && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      if (onlyTypes) continue;
      spec = s.moduleSpecifier;
    } else if (ts.isExportDeclaration(s) && s.moduleSpecifier) {
      if (s.isTypeOnly) continue;
      const named = s.exportClause;
      if (named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly)) continue;
      spec = s.moduleSpecifier;
    }
    if (!spec || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), spec.text).replace(/\.js$/, '.ts');
    out.push(path.relative(srcDir, target).split(path.sep).join('/'));
  }
  return out;
}

const graph = new Map(sources(srcDir).map((f) => [path.relative(srcDir, f).split(path.sep).join('/'), valueImports(f)]));

/** Strongly connected components with more than one module (or a module importing itself): Tarjan. */
function cycles(g: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (g.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

test('the import reader sees the modules of src/ and what they import', () => {
  assert.ok(graph.size > 50, `${graph.size} modules`);
  assert.ok(graph.get('compile/synthesise.ts')!.includes('compile/load/index.ts'));
  // `import type` only: not an edge.
  assert.not.ok(graph.get('compile/load/worker.ts')!.includes('compile/diagnostics/rules.ts'));
  // A re-export is an edge.
  assert.ok(graph.get('index.ts')!.includes('dsl/index.ts'));
});

test('every import of src/ names a module that exists', () => {
  const missing = [...graph].flatMap(([from, to]) => to.filter((t) => !graph.has(t)).map((t) => `${from} -> ${t}`));
  assert.equal(missing, []);
});

test('no value-level import cycle in src/', () => {
  assert.equal(cycles(graph).map((c) => c.join(' <-> ')), []);
});

test('compile/, review/ and dsl/ import neither cli/ nor run/', () => {
  const wrong = [...graph].flatMap(([from, to]) => (/^(compile|review|dsl)\//.test(from) ? to.filter((t) => /^(cli|run)\//.test(t)).map((t) => `${from} -> ${t}`) : []));
  assert.equal(wrong, []);
});

test('the cycle finder finds a cycle', () => {
  const g = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  assert.equal(cycles(g), [['a', 'b', 'c']]);
});

test.run();
