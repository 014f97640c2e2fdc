// The pieces import writes a systems.ts with: identifiers for elements, numbers as a person
// writes them (units, grouped hex), and the Writer that turns model elements into expressions and
// records which DSL functions the file must import. Shared by the Microkit importer (index.ts) and
// the seL4 Core Platform one (sel4cp.ts).
import { hexGrouped } from '../../format.js';
import type { Loc, MapModel, MemoryRegionModel, ProtectionDomainModel } from '../../compile/model/index.js';
import { DEFAULT_BUDGET } from '../../compile/model/facts.js';
import { releaseFacts, type MicrokitRelease } from '../../compile/releases.js';
import { arr, call, obj, raw, type Code } from './layout.js';
import { elementKey, type XmlComments } from './xml-comments.js';

const RESERVED = new Set([
  // ECMAScript reserved and strict-mode words, and TypeScript's own.
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export', 'extends',
  'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this',
  'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'yield', 'let', 'static', 'implements', 'interface', 'package',
  'private', 'protected', 'public', 'await', 'arguments', 'eval', 'undefined', 'NaN', 'Infinity', 'as', 'any', 'async', 'declare',
  'get', 'set', 'of', 'type', 'namespace', 'module', 'require', 'object', 'string', 'number', 'boolean', 'symbol', 'bigint',
  // What the generated file imports.
  'addr', 'bytes', 'kib', 'mib', 'gib', 'memoryRegion', 'map', 'irq', 'setvarRegionPaddr', 'protectionDomain', 'bareVirtualMachine',
  'channel', 'end', 'system', 'virtualMachine', 'passthrough', 'emulated', 'contextFile', 'optionalContextFile',
  'cap', 'domain', 'domainSchedule',
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

export type Kind = 'mr' | 'pd' | 'vm' | 'domain';
const SUFFIX: Record<Kind, string> = { mr: 'Region', pd: 'Pd', vm: 'Vm', domain: 'Domain' };

/** Names for every region, PD and VM: the plain identifier when it is free, else with its kind. */
export function assignIdentifiers(items: { kind: Kind; name: string }[]): Map<string, string> {
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

export const str = (s: string): Code => raw(`'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`);

/** A decimal number, grouped by thousands from 10 000 up (`100_000`). */
export function decimal(n: number | bigint): Code {
  const s = String(n);
  return raw(s.length > 4 ? s.replace(/\B(?=(\d{3})+$)/g, '_') : s);
}

export function address(v: bigint): Code {
  return call('addr', raw(v > BigInt(Number.MAX_SAFE_INTEGER) ? `${hexGrouped(v)}n` : hexGrouped(v)));
}

/** A size in the largest unit that holds it exactly: `mib(2)`, `kib(64)`, else `bytes(0x...)`. */
export function size(v: bigint): Code {
  for (const [fn, unit] of [['gib', 1n << 30n], ['mib', 1n << 20n], ['kib', 1n << 10n]] as const) {
    if (v >= unit && v % unit === 0n) return call(fn, decimal(v / unit));
  }
  return call('bytes', v > BigInt(Number.MAX_SAFE_INTEGER) ? raw(`${hexGrouped(v)}n`) : raw(hexGrouped(v)));
}

export class Writer {
  readonly used = new Set<string>();
  /**
   * @param release the file's Microkit release: its defaults (a PD's stack) are left out
   * @param prefillPath a prefill file's path as the systems.ts must say it (relative to it)
   */
  constructor(
    readonly ids: Map<string, string>,
    readonly comments: XmlComments,
    readonly release: MicrokitRelease,
    readonly prefillPath: (p: string) => string = (p) => p,
  ) {}

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
      ['setvarPrefillSize', m.setvarPrefillSize !== undefined ? str(m.setvarPrefillSize) : undefined],
    ]);
    this.use('addr');
    return { code: call(this.use('map'), this.ref('mr', m.mr), options), comments: this.commentsAt(m.loc) };
  }

  region(mr: MemoryRegionModel, shared: boolean): Code {
    return call(this.use('memoryRegion'), str(mr.name), obj([
      ['size', mr.sizeFromPrefill ? undefined : this.sizeOf(mr.size)],
      ['pageSize', mr.pageSize !== undefined ? this.sizeOf(mr.pageSize) : undefined],
      ['physAddr', mr.physAddr !== undefined ? (this.use('addr'), address(mr.physAddr)) : undefined],
      ['shared', shared ? raw('true') : undefined],
      ['prefill', mr.prefill ? str(this.prefillPath(mr.prefill.path)) : undefined],
      ['prefillBootinfo', mr.prefillBootinfo !== undefined ? str(mr.prefillBootinfo) : undefined],
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
      ['stackSize', pd.stackSize !== releaseFacts(this.release).defaultStack ? this.sizeOf(pd.stackSize) : undefined],
      ['smc', pd.smc ? raw('true') : undefined],
      ['cpu', pd.cpu !== undefined ? decimal(pd.cpu) : undefined],
      ['fpu', pd.fpu === false ? raw('false') : undefined],
      ['domain', pd.domain !== undefined ? this.ref('domain', pd.domain) : undefined],
      ['programForSymbols', pd.programForSymbols !== undefined ? str(pd.programForSymbols) : undefined],
      ['maps', pd.maps.length ? arr(pd.maps.map((m) => this.map(m))) : undefined],
      ['irqs', pd.irqs.length ? arr(pd.irqs.map((q) => ({
        code: call(this.use('irq'), decimal(q.irq), obj([
          ['id', decimal(q.id)],
          ['trigger', q.trigger !== 'level' ? str(q.trigger) : undefined],
          ['setvarId', q.setvarId !== undefined ? str(q.setvarId) : undefined],
        ])),
        comments: this.commentsAt(q.loc),
      }))) : undefined],
      ['setvars', pd.setvars.length ? arr(pd.setvars.map((s) => ({
        code: call(this.use('setvarRegionPaddr'), str(s.symbol), this.ref('mr', s.regionPaddr)),
        comments: this.commentsAt(s.loc),
      }))) : undefined],
      ['children', pd.children.length ? arr(pd.children.map((c) => obj([
        ['pd', this.ref('pd', c.name)],
        ['id', decimal(c.childId ?? 0)],
        ['setvarId', c.setvarId !== undefined ? str(c.setvarId) : undefined],
      ]))) : undefined],
      ['cspace', pd.capMaps?.length ? arr(pd.capMaps.map((c) => ({
        // By name: a PD may hold its own caps, or those of one declared after it.
        code: call(this.use('cap'), str(c.type), str(c.pd), decimal(c.slot)),
        comments: this.commentsAt(c.loc),
      }))) : undefined],
      ['virtualMachine', vm ? this.ref('vm', vm.name) : undefined],
    ]));
  }

  virtualMachine(vm: NonNullable<ProtectionDomainModel['virtualMachine']>): Code {
    return call(this.use('bareVirtualMachine'), str(vm.name), obj([
      ['vcpus', arr(vm.vcpus.map((v) => (v.cpu !== undefined ? obj([['id', decimal(v.id)], ['cpu', decimal(v.cpu)]]) : decimal(v.id))))],
      ...this.scheduling(vm),
      ['maps', vm.maps.length ? arr(vm.maps.map((m) => this.map(m))) : undefined],
    ]));
  }
}

