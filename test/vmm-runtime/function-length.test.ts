// Every C function of the runtime stays short enough to read at once: at most 80 lines from the
// first line of its signature to its closing brace. The runtime's style puts a function's
// opening and closing braces alone at column 0, which is what this reads (no C parser needed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers.js';

const MAX_LINES = 80;
const runtime = path.join(repoRoot, 'src', 'vmm-runtime');

interface CFunction {
  file: string;
  line: number;
  name: string;
  lines: number;
}

function cFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'build' || e.name.startsWith('.') ? [] : cFiles(p);
    return /\.[ch]$/.test(e.name) ? [p] : [];
  });
}

/** A line that can begin a function definition: an identifier at column 0, a parenthesis, no `;`. */
const SIGNATURE = /^(?!typedef\b)[A-Za-z_][\w \t*]*\(/;

/** The functions of one C file: from the latest signature line before a `{` alone at column 0 (or
 * a signature ending in `{`) to the next `}` at column 0. */
export function cFunctions(file: string, text: string): CFunction[] {
  const out: CFunction[] = [];
  let signature: { line: number; text: string } | undefined;
  let open: { line: number; text: string } | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\s+$/, '');
    if (open === undefined) {
      if (SIGNATURE.test(line) && !line.endsWith(';') && !line.includes('}')) signature = { line: i + 1, text: line };
      if (signature !== undefined && (line === '{' || (line === signature.text && line.endsWith('{')))) open = signature;
      return;
    }
    if (line.startsWith('}')) {
      const name = /(\w+)\s*\(/.exec(open.text)?.[1] ?? open.text;
      out.push({ file: path.relative(repoRoot, file), line: open.line, name, lines: i + 1 - open.line + 1 });
      open = undefined;
      signature = undefined;
    }
  });
  return out;
}

const all = cFiles(runtime).flatMap((f) => cFunctions(f, readFileSync(f, 'utf8')));

test('the reader finds the runtime functions (it would not pass by finding none)', () => {
  assert.ok(all.length > 300, `only ${all.length} functions found`);
  for (const name of ['vmm_vsnprintf', 'init', 'vmm_handle_exit', 'mmio_bus_find', 'virtq_pop']) {
    assert.ok(all.some((f) => f.name === name), `${name} not found`);
  }
  const sample = cFunctions('x.c', 'static int\nf(int a,\n  int b)\n{\n    return a;\n}\nint g(void) {\n    return 0;\n}\nint h(void) { return 1; }\n');
  assert.equal(sample.map((f) => [f.name, f.line, f.lines]), [['f', 2, 5], ['g', 7, 3]]);
});

test(`every C function in src/vmm-runtime has at most ${MAX_LINES} lines`, () => {
  const long = all.filter((f) => f.lines > MAX_LINES).map((f) => `${f.file}:${f.line} ${f.name}: ${f.lines} lines`);
  assert.equal(long, [], `functions over ${MAX_LINES} lines:\n${long.join('\n')}`);
});

test.run();
