// Import: an existing Microkit .system file as an idiomatic systems.ts. Pure: the XML text in,
// TypeScript text out. The model (parseSystemXml) says what the system is; xml-comments.ts says
// what its author wrote about it; ts-morph assembles and formats the file.
//
// Every explicit value of the XML is kept (ids, addresses, child ids, vCPU ids), so that
// synthesising the generated file gives back the same elements and values. Values that equal
// the DSL's defaults (perms 'rw', cached, priority 0, budget 1000, period = budget, a 4 KiB
// stack) are left out, as a person would.
import { validateSystem } from '../../compile/validate/index.js';
import path from 'node:path';
import { Project, QuoteKind, StructureKind, VariableDeclarationKind, type StatementStructures } from 'ts-morph';
import { hexGrouped } from '../../format.js';
import { error, type Diagnostic } from '../../compile/diagnostics.js';
import { allProtectionDomains, mappingContexts, type Loc, type MapModel, type MemoryRegionModel, type ProtectionDomainModel, type SystemModel } from '../../compile/model.js';
import { parseSystemXml } from '../../compile/parse/system-xml.js';
import { DEFAULT_BUDGET, DEFAULT_STACK_SIZE } from '../../compile/resolve/index.js';
import { arr, call, obj, print, raw, type Code } from './layout.js';
import { elementKey, readXmlComments, type XmlComments } from './xml-comments.js';

export interface ImportOptions {
  /** The .system file's path, for messages and the header line. */
  file: string;
  /** Written as `board:` in system(). @default none */
  board?: string | undefined;
}

export interface ImportResult {
  /** The systems.ts text; undefined when the file could not be read as a system. */
  text: string | undefined;
  diagnostics: Diagnostic[];
}

const RESERVED = new Set([
  // ECMAScript reserved and strict-mode words, and TypeScript's own.
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export', 'extends',
  'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this',
  'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface', 'package',
  'private', 'protected', 'public', 'await', 'arguments', 'eval', 'undefined', 'NaN', 'Infinity', 'as', 'any', 'async', 'declare',
  'get', 'set', 'of', 'type', 'namespace', 'module', 'require', 'object', 'string', 'number', 'boolean', 'symbol', 'bigint',
  // What the generated file imports.
  'addr', 'bytes', 'kib', 'mib', 'gib', 'memoryRegion', 'map', 'irq', 'setvarRegionPaddr', 'protectionDomain', 'bareVirtualMachine',
  'channel', 'end', 'system',
]);

/** `eth_outer_output` → `ethOuterOutput`; a leading digit gets `_`. */
export function identifierFor(name: string): string {
  const parts = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  if (!parts.length) return '_';
  const first = parts[0]!;
  const head = /^[A-Z0-9]+$/.test(first) ? first.toLowerCase() : first[0]!.toLowerCase() + first.slice(1);
  const id = head + parts.slice(1).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
  return /^[0-9]/.test(id) ? `_${id}` : id;
}

type Kind = 'mr' | 'pd' | 'vm';
const SUFFIX: Record<Kind, string> = { mr: 'Region', pd: 'Pd', vm: 'Vm' };

/** Names for every region, PD and VM: the plain identifier when it is free, else with its kind. */
function assignIdentifiers(items: { kind: Kind; name: string }[]): Map<string, string> {
  const key = (k: Kind, n: string): string => `${k}:${n}`;
  const base = items.map((i) => ({ ...i, id: identifierFor(i.name) }));
  const count = new Map<string, number>();
  for (const b of base) count.set(b.id, (count.get(b.id) ?? 0) + 1);
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const b of base) {
    let id = count.get(b.id)! > 1 || RESERVED.has(b.id) ? b.id + SUFFIX[b.kind] : b.id;
    for (let n = 2; used.has(id) || RESERVED.has(id); n++) id = `${b.id}${SUFFIX[b.kind]}${n}`;
    used.add(id);
    out.set(key(b.kind, b.name), id);
  }
  return out;
}

const str = (s: string): Code => raw(`'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`);

/** A decimal number, grouped by thousands from 10 000 up (`100_000`). */
function decimal(n: number | bigint): Code {
  const s = String(n);
  return raw(s.length > 4 ? s.replace(/\B(?=(\d{3})+$)/g, '_') : s);
}

function address(v: bigint): Code {
  return call('addr', raw(v > BigInt(Number.MAX_SAFE_INTEGER) ? `${hexGrouped(v)}n` : hexGrouped(v)));
}

/** A size in the largest unit that holds it exactly: `mib(2)`, `kib(64)`, else `bytes(0x...)`. */
function size(v: bigint): Code {
  for (const [fn, unit] of [['gib', 1n << 30n], ['mib', 1n << 20n], ['kib', 1n << 10n]] as const) {
    if (v >= unit && v % unit === 0n) return call(fn, decimal(v / unit));
  }
  return call('bytes', v > BigInt(Number.MAX_SAFE_INTEGER) ? raw(`${hexGrouped(v)}n`) : raw(hexGrouped(v)));
}

class Writer {
  readonly used = new Set<string>();
  constructor(readonly ids: Map<string, string>, readonly comments: XmlComments) {}

  use(fn: string): string {
    this.used.add(fn);
    return fn;
  }

  name(kind: Kind, name: string): string {
    return this.ids.get(`${kind}:${name}`) ?? identifierFor(name);
  }

  ref(kind: Kind, name: string): Code {
    return raw(this.name(kind, name));
  }

  commentsAt(loc: Loc): string[] {
    return loc ? this.comments.byElement.get(elementKey(loc.line, loc.column)) ?? [] : [];
  }

  scheduling(s: { priority: number; budget: number; period: number }): [string, Code | undefined][] {
    return [
      ['priority', s.priority !== 0 ? decimal(s.priority) : undefined],
      ['budget', s.budget !== DEFAULT_BUDGET ? decimal(s.budget) : undefined],
      ['period', s.period !== s.budget ? decimal(s.period) : undefined],
    ];
  }

  map(m: MapModel): { code: Code; comments: string[] } {
    const options = obj([
      ['vaddr', address(m.vaddr)],
      ['perms', m.perms !== 'rw' ? str(m.perms) : undefined],
      ['cached', m.cached ? undefined : raw('false')],
      ['setvarVaddr', m.setvarVaddr !== undefined ? str(m.setvarVaddr) : undefined],
      ['setvarSize', m.setvarSize !== undefined ? str(m.setvarSize) : undefined],
    ]);
    this.use('addr');
    return { code: call(this.use('map'), this.ref('mr', m.mr), options), comments: this.commentsAt(m.loc) };
  }

  region(mr: MemoryRegionModel, shared: boolean): Code {
    return call(this.use('memoryRegion'), str(mr.name), obj([
      ['size', this.sizeOf(mr.size)],
      ['pageSize', mr.pageSize !== undefined ? this.sizeOf(mr.pageSize) : undefined],
      ['physAddr', mr.physAddr !== undefined ? (this.use('addr'), address(mr.physAddr)) : undefined],
      ['shared', shared ? raw('true') : undefined],
    ]));
  }

  sizeOf(v: bigint): Code {
    const c = size(v);
    if (c.t === 'call') this.use(c.fn);
    return c;
  }

  protectionDomain(pd: ProtectionDomainModel): Code {
    const vm = pd.virtualMachine;
    return call(this.use('protectionDomain'), str(pd.name), obj([
      ['program', str(pd.programImage)],
      ...this.scheduling(pd),
      ['passive', pd.passive ? raw('true') : undefined],
      ['stackSize', pd.stackSize !== DEFAULT_STACK_SIZE ? this.sizeOf(pd.stackSize) : undefined],
      ['smc', pd.smc ? raw('true') : undefined],
      ['maps', pd.maps.length ? arr(pd.maps.map((m) => this.map(m))) : undefined],
      ['irqs', pd.irqs.length ? arr(pd.irqs.map((q) => ({
        code: call(this.use('irq'), decimal(q.irq), obj([['id', decimal(q.id)], ['trigger', q.trigger !== 'level' ? str(q.trigger) : undefined]])),
        comments: this.commentsAt(q.loc),
      }))) : undefined],
      ['setvars', pd.setvars.length ? arr(pd.setvars.map((s) => ({
        code: call(this.use('setvarRegionPaddr'), str(s.symbol), this.ref('mr', s.regionPaddr)),
        comments: this.commentsAt(s.loc),
      }))) : undefined],
      ['children', pd.children.length ? arr(pd.children.map((c) => obj([['pd', this.ref('pd', c.name)], ['id', decimal(c.childId ?? 0)]]))) : undefined],
      ['virtualMachine', vm ? this.ref('vm', vm.name) : undefined],
    ]));
  }

  virtualMachine(vm: NonNullable<ProtectionDomainModel['virtualMachine']>): Code {
    const ids = vm.vcpus.map((v) => v.id);
    return call(this.use('bareVirtualMachine'), str(vm.name), obj([
      ['vcpus', arr(ids.map((i) => decimal(i)))],
      ...this.scheduling(vm),
      ['maps', vm.maps.length ? arr(vm.maps.map((m) => this.map(m))) : undefined],
    ]));
  }
}

/** Regions that must be declared shared for sel4cp-synth's device check: at a fixed address and mapped by more than one PD or VM. */
function sharedRegions(model: SystemModel): Set<string> {
  const users = new Map<string, Set<string>>();
  for (const ctx of mappingContexts(model)) {
    for (const m of ctx.maps) {
      const s = users.get(m.mr) ?? new Set<string>();
      s.add(`${ctx.kind}:${ctx.name}`);
      users.set(m.mr, s);
    }
  }
  return new Set(model.memoryRegions.filter((mr) => mr.physAddr !== undefined && (users.get(mr.name)?.size ?? 0) > 1).map((mr) => mr.name));
}

function commentTrivia(lines: readonly string[]): string {
  return lines.map((l) => (l ? `// ${l}` : '//')).join('\n');
}

/** Generate a systems.ts for a parsed model and the comments of its file. */
export function systemToTypeScript(model: SystemModel, comments: XmlComments, options: ImportOptions): string {
  const pds = allProtectionDomains(model);
  const ids = assignIdentifiers([
    ...model.memoryRegions.map((m) => ({ kind: 'mr' as const, name: m.name })),
    ...pds.map((p) => ({ kind: 'pd' as const, name: p.name })),
    ...pds.flatMap((p) => (p.virtualMachine ? [{ kind: 'vm' as const, name: p.virtualMachine.name }] : [])),
  ]);
  const w = new Writer(ids, comments);
  const shared = sharedRegions(model);
  const statements: StatementStructures[] = [];
  const constant = (name: string, init: Code, lines: readonly string[], blankBefore: boolean): void => {
    const lead = `${blankBefore ? '\n' : ''}${lines.length ? `${commentTrivia(lines)}\n` : ''}`;
    statements.push({
      kind: StructureKind.VariableStatement,
      declarationKind: VariableDeclarationKind.Const,
      declarations: [{ name, initializer: print(init, '', `const ${name} = `.length) }],
      ...(lead ? { leadingTrivia: lead } : {}),
    });
  };

  model.memoryRegions.forEach((mr, i) => constant(w.name('mr', mr.name), w.region(mr, shared.has(mr.name)), w.commentsAt(mr.loc), i === 0 || w.commentsAt(mr.loc).length > 0));

  // Children and VMs before the PD that holds them: a const must exist before it is used.
  let first = true;
  const emitPd = (pd: ProtectionDomainModel): void => {
    for (const c of pd.children) emitPd(c);
    const vm = pd.virtualMachine;
    if (vm) {
      const lines = w.commentsAt(vm.loc);
      constant(w.name('vm', vm.name), w.virtualMachine(vm), lines, true);
    }
    const lines = w.commentsAt(pd.loc);
    constant(w.name('pd', pd.name), w.protectionDomain(pd), lines, first || lines.length > 0 || pd.children.length > 0 || vm !== undefined || pd.maps.length > 0);
    first = false;
  };
  model.protectionDomains.forEach(emitPd);

  const systemOptions = obj([
    ['board', options.board !== undefined ? str(options.board) : undefined],
    ['memoryRegions', model.memoryRegions.length ? arr(model.memoryRegions.map((mr) => w.ref('mr', mr.name))) : undefined],
    ['protectionDomains', model.protectionDomains.length ? arr(model.protectionDomains.map((pd) => w.ref('pd', pd.name))) : undefined],
    ['channels', model.channels.length ? arr(model.channels.map((ch) => {
      const end = (e: typeof ch.a): Code => call(w.use('end'), w.ref('pd', e.pd), obj([
        ['id', decimal(e.id)],
        ['pp', e.pp ? raw('true') : undefined],
        ['notify', e.notify ? undefined : raw('false')],
      ]));
      return { code: call(w.use('channel'), end(ch.a), end(ch.b)), comments: [...w.commentsAt(ch.loc), ...w.commentsAt(ch.a.loc), ...w.commentsAt(ch.b.loc)] };
    })) : undefined],
  ]);
  w.use('system');
  const footer = comments.footer.length ? `\n${commentTrivia(comments.footer)}\n` : '\n';
  statements.push({ kind: StructureKind.ExportAssignment, isExportEquals: false, expression: print(call('system', systemOptions), '', 'export default '.length), leadingTrivia: footer });

  // Our own "Generated by sel4cp-synth ... Do not edit" line would be false in the imported file.
  const kept = comments.header.filter((l) => !/^Generated by sel4cp-synth\b/.test(l));
  const header = [...kept, ...(kept.length ? [''] : []), `Imported from ${path.basename(options.file)} by sel4cp-synth import.`];
  const project = new Project({ useInMemoryFileSystem: true, manipulationSettings: { quoteKind: QuoteKind.Single } });
  const source = project.createSourceFile('systems.ts', '');
  source.addImportDeclaration({
    namedImports: [...w.used].sort(),
    moduleSpecifier: 'sel4cp-synth',
    leadingTrivia: `${commentTrivia(header)}\n`,
  });
  source.addStatements(statements);
  source.formatText({ indentSize: 2, convertTabsToSpaces: true, insertSpaceAfterOpeningAndBeforeClosingNonemptyBraces: true });
  return source.getFullText().replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '\n');
}

/** Parse a .system file and generate its systems.ts. Parse errors come back as diagnostics. */
export function importSystemXml(text: string, options: ImportOptions): ImportResult {
  const parsed = parseSystemXml(text, options.file, undefined);
  // An invalid system is refused: the systems.ts written from it would not load, or would load
  // and then fail elsewhere. The user sees the same errors `check` gives.
  const errors = [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])].filter((d) => d.severity === 'error');
  if (!parsed.model || errors.length) {
    return { text: undefined, diagnostics: errors.length ? errors : [error('import-failed', `cannot read ${options.file} as a system`, undefined)] };
  }
  return { text: systemToTypeScript(parsed.model, readXmlComments(text), options), diagnostics: [] };
}
