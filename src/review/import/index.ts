// Import: an existing Microkit .system file as an idiomatic systems.ts. Pure: the XML text in,
// TypeScript text out. The model (parseSystemXml) says what the system is; xml-comments.ts says
// what its author wrote about it; ts-morph assembles and formats the file.
//
// Every explicit value of the XML is kept (ids, addresses, child ids, vCPU ids), so that
// synthesising the generated file gives back the same elements and values. Values that equal
// the DSL's defaults (perms 'rw', cached, priority 0, budget 1000, period = budget, the release's
// default stack) are left out, as a person would.
import { validateSystem } from '../../compile/validate/index.js';
import path from 'node:path';
import { Project, QuoteKind, StructureKind, VariableDeclarationKind, type StatementStructures } from 'ts-morph';
import { error, type Diagnostic } from '../../compile/diagnostics/index.js';
import { allProtectionDomains, mappingContexts, type ProtectionDomainModel, type SystemModel } from '../../compile/model/index.js';
import { parseSystemXml } from '../../compile/parse/system-xml.js';
import { resolvePrefills } from '../../compile/parse/prefill.js';
import { DEFAULT_RELEASE, type MicrokitRelease } from '../../compile/releases.js';
import { arr, call, obj, print, raw, type Code } from './layout.js';
import { readXmlComments, type XmlComments } from './xml-comments.js';
import { assignIdentifiers, decimal, str, Writer } from './writer.js';

export { identifierFor } from './writer.js';

export interface ImportOptions {
  /** The .system file's path, for messages and the header line. */
  file: string;
  /** Written as `board:` in system(). @default none */
  board?: string | undefined;
  /** The format the file was read in, named in the header line. @default 'microkit' */
  format?: 'microkit' | 'sel4cp';
  /** The Microkit release whose format the file is in. @default DEFAULT_RELEASE */
  release?: MicrokitRelease | undefined;
  /** Where the systems.ts goes: prefill files are named relative to it. @default the .system's directory */
  outDir?: string | undefined;
  /** Where prefill files are found after the .system's directory (the tool's --search-path). @default [] */
  searchPaths?: readonly string[] | undefined;
}

export interface ImportResult {
  /** The systems.ts text; undefined when the file could not be read as a system. */
  text: string | undefined;
  diagnostics: Diagnostic[];
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

/** A guest the importer recognised: written as virtualMachine(), its VMM generated. */
export interface ImportedGuest {
  vm: string;
  /** The VMM PD's name in the .system: channels that named it now name the guest. */
  vmm: string;
  /** The virtualMachine(...) call, made with the file's writer. */
  build: (w: Writer) => Code;
  /** Comment lines above its const (the changes of meaning it carries). */
  comments: string[];
}

/** Generate a systems.ts for a parsed model and the comments of its file (and the guests recognised in it). */
export function systemToTypeScript(model: SystemModel, comments: XmlComments, options: ImportOptions, guests: readonly ImportedGuest[] = []): string {
  const w = new Writer(identifiersFor(model, guests), comments, model.microkit, prefillPathFor(model, options));
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

  model.memoryRegions.forEach((mr, i) => constant(w.name('mr', mr.name), w.region(mr, shared.has(mr.name) || mr.shared), w.commentsAt(mr.loc), i === 0 || w.commentsAt(mr.loc).length > 0));
  (model.domains?.domains ?? []).forEach((d, i) => constant(w.name('domain', d.name), call(w.use('domain'), str(d.name), ...(d.id !== undefined ? [obj([['id', decimal(d.id)]])] : [])), w.commentsAt(d.loc), i === 0));
  for (const g of guests) constant(w.name('vm', g.vm), g.build(w), g.comments, true);

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

  const systemOptions = systemCallOptions(model, w, options, guests);
  w.use('system');
  const footer = comments.footer.length ? `\n${commentTrivia(comments.footer)}\n` : '\n';
  statements.push({ kind: StructureKind.ExportAssignment, isExportEquals: false, expression: print(call('system', systemOptions), '', 'export default '.length), leadingTrivia: footer });
  return formatSystemsTs(w.used, headerLines(model, comments, options), statements);
}

/** Each construct's identifier in the systems.ts. */
function identifiersFor(model: SystemModel, guests: readonly ImportedGuest[]): Map<string, string> {
  const pds = allProtectionDomains(model);
  const ids = assignIdentifiers([
    ...model.memoryRegions.map((m) => ({ kind: 'mr' as const, name: m.name })),
    ...pds.map((p) => ({ kind: 'pd' as const, name: p.name })),
    ...pds.flatMap((p) => (p.virtualMachine ? [{ kind: 'vm' as const, name: p.virtualMachine.name }] : [])),
    ...guests.map((g) => ({ kind: 'vm' as const, name: g.vm })),
    ...(model.domains?.domains ?? []).map((d) => ({ kind: 'domain' as const, name: d.name })),
  ]);
  // A channel end that named a guest's VMM names the guest (virtualMachine() stands for its VMM).
  for (const g of guests) ids.set(`pd:${g.vmm}`, ids.get(`vm:${g.vm}`)!);
  return ids;
}

/** The options of the closing system({...}): board, the roots, guests, channels and the domain schedule. */
function systemCallOptions(model: SystemModel, w: Writer, options: ImportOptions, guests: readonly ImportedGuest[]): Code {
  return obj([
    ['board', options.board !== undefined ? str(options.board) : undefined],
    ['memoryRegions', model.memoryRegions.length ? arr(model.memoryRegions.map((mr) => w.ref('mr', mr.name))) : undefined],
    ['protectionDomains', model.protectionDomains.length ? arr(model.protectionDomains.map((pd) => w.ref('pd', pd.name))) : undefined],
    ['virtualMachines', guests.length ? arr(guests.map((g) => w.ref('vm', g.vm))) : undefined],
    ['channels', model.channels.length ? arr(model.channels.map((ch) => {
      const end = (e: typeof ch.a): Code => call(w.use('end'), w.ref('pd', e.pd), obj([
        ['id', decimal(e.id)],
        ['pp', e.pp ? raw('true') : undefined],
        ['notify', e.notify ? undefined : raw('false')],
        ['setvarId', e.setvarId !== undefined ? str(e.setvarId) : undefined],
      ]));
      return { code: call(w.use('channel'), end(ch.a), end(ch.b)), comments: [...w.commentsAt(ch.loc), ...w.commentsAt(ch.a.loc), ...w.commentsAt(ch.b.loc)] };
    })) : undefined],
    ['domains', model.domains?.schedule ? domainScheduleCode(model.domains, w) : undefined],
  ]);
}

/** The file's own header comments (less a stale "Generated by" line), then where it was imported from. */
function headerLines(model: SystemModel, comments: XmlComments, options: ImportOptions): string[] {
  // Our own "Generated by sel4cp-synth ... Do not edit" line would be false in the imported file.
  const kept = comments.header.filter((l) => !/^Generated by sel4cp-synth\b/.test(l));
  // A file of a release other than the default one says which: without an SDK of it, a command needs --microkit.
  const release = model.microkit;
  return [
    ...kept, ...(kept.length ? [''] : []),
    `Imported from ${path.basename(options.file)}${options.format === 'sel4cp' ? ' (seL4 Core Platform format)' : release !== DEFAULT_RELEASE ? ` (Microkit ${release} format: build it with a ${release} SDK, or check it with --microkit ${release})` : ''} by sel4cp-synth import.`,
  ];
}

/** The systems.ts text: the import of what was used under the header, the statements, formatted. */
function formatSystemsTs(used: Iterable<string>, header: readonly string[], statements: StatementStructures[]): string {
  const project = new Project({ useInMemoryFileSystem: true, manipulationSettings: { quoteKind: QuoteKind.Single } });
  const source = project.createSourceFile('systems.ts', '');
  source.addImportDeclaration({
    namedImports: [...used].sort(),
    moduleSpecifier: 'sel4cp-synth',
    leadingTrivia: `${commentTrivia(header)}\n`,
  });
  source.addStatements(statements);
  source.formatText({ indentSize: 2, convertTabsToSpaces: true, insertSpaceAfterOpeningAndBeforeClosingNonemptyBraces: true });
  return source.getFullText().replace(/\n{3,}/g, '\n\n').replace(/\s*$/, '\n');
}

/** A prefill file as the systems.ts names it: where the tool would find it, relative to the systems.ts. */
function prefillPathFor(model: SystemModel, options: ImportOptions): (p: string) => string {
  const outDir = path.resolve(options.outDir ?? path.dirname(options.file));
  return (p) => {
    const found = model.memoryRegions.find((mr) => mr.prefill?.path === p)?.prefill?.file ?? path.resolve(path.dirname(options.file), p);
    return path.relative(outDir, found).split(path.sep).join('/') || p;
  };
}

/** Microkit 2.3.0 <domain_schedule> as domainSchedule({ slots, startIndex, indexShift }). */
function domainScheduleCode(d: NonNullable<SystemModel['domains']>, w: Writer): Code {
  const s = d.schedule!;
  return call(w.use('domainSchedule'), obj([
    // Declared order decides the ids of unnumbered domains: kept as the file has it.
    ['domains', arr(d.domains.map((x) => w.ref('domain', x.name)))],
    ['slots', arr(s.entries.map((e) => (e.kind === 'end-marker' ? str('end') : obj([['domain', w.ref('domain', e.domain)], [e.unit, decimal(e.duration)]]))))],
    ['startIndex', s.startIndex !== undefined ? decimal(s.startIndex) : undefined],
    ['indexShift', s.indexShift !== undefined ? decimal(s.indexShift) : undefined],
  ]));
}

/** Parse a .system file and generate its systems.ts. Parse errors come back as diagnostics. */
export function importSystemXml(text: string, options: ImportOptions): ImportResult {
  const parsed = parseSystemXml(text, options.file, undefined, { release: options.release });
  if (parsed.model) resolvePrefills(parsed.model, [path.dirname(options.file), ...(options.searchPaths ?? [])]);
  // An invalid system is refused: the systems.ts written from it would not load, or would load
  // and then fail elsewhere. The user sees the same errors `check` gives.
  const errors = [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])].filter((d) => d.severity === 'error');
  if (!parsed.model || errors.length) {
    return { text: undefined, diagnostics: errors.length ? errors : [error('import-failed', `cannot read ${options.file} as a system`, undefined)] };
  }
  return { text: systemToTypeScript(parsed.model, readXmlComments(text), options), diagnostics: [] };
}
