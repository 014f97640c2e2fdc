// Parse an existing Microkit .system file into the same model a systems.ts resolves to, so the
// same validation runs on both. Element by element this follows the format as each release's
// tool reads it (tool/microkit/src/sdf.rs): the first release's elements and attributes are
// written here, what later releases added comes from ../releases.ts. Where that tool panics (hex
// or '_' in irq, channel end and vCPU ids; no <system> element) we report a plain error instead.
// The x86 elements of a release that has them get a clear "not on this board" error: every board
// here is AArch64.
import type { Board } from '../boards.js';
import { error, type Diagnostic, type RuleId } from '../diagnostics/index.js';
import {
  newProtectionDomain, type ChannelEndModel, type ChannelModel, type IrqModel, type Loc, type MapModel, type MemoryRegionModel,
  type ProtectionDomainModel, type SystemModel, type VirtualMachineModel,
} from '../model/index.js';
import { DEFAULT_BUDGET } from '../model/facts.js';
import {
  addedAttributes, addedElements, DEFAULT_RELEASE, laterAttribute, releaseFacts, supports, type Feature, type FormatPlace, type MicrokitRelease,
} from '../releases.js';
import { readAddedPdAttributes, readAddedPdChild, readAddedSystemChild } from './system-xml-2.3.0.js';
import { markGeneratedTimer } from './generated.js';
import { parseXmlTree, XmlSyntaxError, type XmlElement } from './xml-tree.js';
import path from 'node:path';

export interface ParseResult {
  model: SystemModel | undefined;
  diagnostics: Diagnostic[];
}

/**
 * The format of the file: Microkit 2.0.1's, or the seL4 Core Platform's of 2023 (the seL4CP VMM
 * guide's), whose virtual_machine says `vm_id` instead of holding a vcpu, and may name the
 * guest's images (program_image, device_tree, init_ram_disk with the address each is loaded at).
 */
export type SystemDialect = 'microkit' | 'sel4cp';

export interface ParseOptions {
  dialect?: SystemDialect;
  /** The Microkit release whose format the file is in. @default DEFAULT_RELEASE */
  release?: MicrokitRelease | undefined;
}

export class Reader {
  readonly diagnostics: Diagnostic[] = [];
  readonly release: MicrokitRelease;
  constructor(readonly file: string, readonly dialect: SystemDialect = 'microkit', release: MicrokitRelease = DEFAULT_RELEASE) {
    this.release = release;
  }

  /** Whether the file's release has `feature`. */
  has(feature: Feature): boolean {
    return supports(this.release, feature);
  }

  /** The attributes the file's release adds at `place` to the first release's. */
  added(place: FormatPlace): readonly string[] {
    return addedAttributes(this.release, place);
  }

  /** The child elements of `parent` the file's release accepts: the first release's, then those it added. */
  children(parent: FormatPlace, first: readonly string[]): string {
    return [...first, ...addedElements(this.release, parent)].join(', ');
  }

  loc(el: XmlElement): Loc {
    return { file: this.file, line: el.line, column: el.column };
  }

  fail(id: RuleId, message: string, el: XmlElement, hint?: string): void {
    this.diagnostics.push(error(id, message, this.loc(el), hint ? { hint } : {}));
  }

  /** Attributes beyond `allowed` are errors; those of a later release say which release has them. */
  attributes(el: XmlElement, allowed: readonly string[]): void {
    for (const name of el.attrs.keys()) {
      if (allowed.includes(name)) continue;
      const later = laterAttribute(this.release, el.name, name);
      const hint = later !== undefined
        ? `'${name}' is Microkit ${later}'s; this file is read as Microkit ${this.release}: pass --microkit ${later}, or use a ${later} SDK`
        : `'${el.name}' takes: ${allowed.join(', ') || 'no attributes'}`;
      this.fail('xml-invalid-attribute', `invalid attribute '${name}' on element '${el.name}'`, el, hint);
    }
  }

  required(el: XmlElement, name: string): string | undefined {
    const v = el.attrs.get(name);
    if (v === undefined) this.fail('xml-missing-attribute', `missing required attribute '${name}' on element '${el.name}'`, el);
    return v;
  }

  /** A number as the Microkit tool reads sizes and addresses: decimal or 0x hex, '_' allowed. */
  number(el: XmlElement, name: string, value: string | undefined): bigint | undefined {
    if (value === undefined) return undefined;
    const t = value.replace(/_/g, '');
    if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) {
      this.fail('xml-bad-number', `attribute '${name}' on element '${el.name}' is '${value}', not a decimal or 0x-prefixed hexadecimal integer`, el);
      return undefined;
    }
    const v = BigInt(t);
    if (v >= 1n << 64n) {
      this.fail('xml-bad-number', `attribute '${name}' on element '${el.name}' is '${value}', which does not fit in 64 bits`, el);
      return undefined;
    }
    return v;
  }

  /** An id as the Microkit tool reads irq, channel-end and vCPU ids: plain decimal only (it panics otherwise). */
  decimal(el: XmlElement, name: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    if (!/^-?[0-9]+$/.test(value)) {
      this.fail('xml-id-not-decimal', `attribute '${name}' on element '${el.name}' is '${value}'; the Microkit tool reads this attribute as a plain decimal number only`, el,
        /^(0x|[0-9_]+$)/.test(value) ? `write it in decimal without '_': ${this.toDecimal(value) ?? '…'}` : undefined);
      return undefined;
    }
    return Number(value);
  }

  private toDecimal(value: string): string | undefined {
    const t = value.replace(/_/g, '');
    return /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t) ? BigInt(t).toString() : undefined;
  }

  bool(el: XmlElement, name: string, fallback: boolean): boolean {
    const v = el.attrs.get(name);
    if (v === undefined) return fallback;
    if (v === 'true') return true;
    if (v === 'false') return false;
    this.fail('xml-bad-bool', `attribute '${name}' on element '${el.name}' must be 'true' or 'false', not '${v}'`, el);
    return fallback;
  }

  noText(el: XmlElement): void {
    if (el.text !== '') this.fail('xml-unexpected-text', `unexpected text in element '${el.name}': '${el.text.slice(0, 40)}'`, el);
  }

  unknown(el: XmlElement, parent: string, allowed: string): void {
    this.fail('xml-invalid-element', `invalid element '${el.name}' in '${parent}'`, el, `'${parent}' may contain: ${allowed}`);
  }
}

function normalisePerms(r: Reader, el: XmlElement): string {
  const raw = el.attrs.get('perms');
  if (raw === undefined) return 'rw';
  if (!/^[rwx]*$/.test(raw)) {
    r.fail('map-invalid-perms', `perms '${raw}' on element 'map' must only be a combination of 'r', 'w' and 'x'`, el);
    return 'rw';
  }
  return ['r', 'w', 'x'].filter((c) => raw.includes(c)).join('');
}

function readMap(r: Reader, el: XmlElement, allowSetvar: boolean): MapModel | undefined {
  r.attributes(el, allowSetvar ? ['mr', 'vaddr', 'perms', 'cached', 'setvar_vaddr', 'setvar_size', ...r.added('protection_domain map')] : ['mr', 'vaddr', 'perms', 'cached']);
  r.noText(el);
  const mr = r.required(el, 'mr');
  const vaddr = r.number(el, 'vaddr', r.required(el, 'vaddr'));
  if (mr === undefined || vaddr === undefined) return undefined;
  return {
    mr,
    vaddr,
    perms: normalisePerms(r, el),
    cached: r.bool(el, 'cached', true),
    setvarVaddr: el.attrs.get('setvar_vaddr'),
    setvarSize: el.attrs.get('setvar_size'),
    ...(el.attrs.has('setvar_prefill_size') ? { setvarPrefillSize: el.attrs.get('setvar_prefill_size') } : {}),
    loc: r.loc(el),
  };
}

function scheduling(r: Reader, el: XmlElement): { priority: number; budget: number; period: number } {
  const priority = r.number(el, 'priority', el.attrs.get('priority')) ?? 0n;
  const budget = r.number(el, 'budget', el.attrs.get('budget')) ?? BigInt(DEFAULT_BUDGET);
  const period = r.number(el, 'period', el.attrs.get('period')) ?? budget;
  return { priority: Number(priority), budget: Number(budget), period: Number(period) };
}

function readVm(r: Reader, el: XmlElement): VirtualMachineModel {
  const sel4cp = r.dialect === 'sel4cp';
  r.attributes(el, ['name', 'budget', 'period', 'priority', ...(sel4cp ? ['vm_id'] : [])]);
  r.noText(el);
  const vm: VirtualMachineModel = { name: r.required(el, 'name') ?? '', vcpus: [], maps: [], ...scheduling(r, el), loc: r.loc(el) };
  if (sel4cp) {
    // seL4CP: one vCPU per VM, whose id was the VM's vm_id.
    const id = r.decimal(el, 'vm_id', el.attrs.get('vm_id'));
    if (id !== undefined) vm.vcpus.push({ id, loc: r.loc(el) });
    vm.sel4cp = { vmId: id, images: {}, priorityGiven: el.attrs.has('priority') };
  }
  for (const c of el.children) {
    const image = sel4cp ? ({ program_image: 'kernel', device_tree: 'dtb', init_ram_disk: 'initrd' } as const)[c.name as 'program_image'] : undefined;
    if (image) {
      r.attributes(c, ['path', 'vaddr']);
      const p = r.required(c, 'path');
      if (p !== undefined) vm.sel4cp!.images[image] = { path: p, vaddr: r.number(c, 'vaddr', c.attrs.get('vaddr')), loc: r.loc(c) };
    } else if (c.name === 'vcpu') {
      r.attributes(c, ['id', ...r.added('vcpu')]);
      const id = r.decimal(c, 'id', r.required(c, 'id'));
      const cpu = r.number(c, 'cpu', c.attrs.get('cpu'));
      if (id !== undefined) {
        vm.vcpus.push({
          id,
          ...(cpu !== undefined ? { cpu: Number(cpu) } : {}),
          ...(c.attrs.has('setvar_id') ? { setvarId: c.attrs.get('setvar_id') } : {}),
          loc: r.loc(c),
        });
      }
    } else if (c.name === 'map') {
      const m = readMap(r, c, false);
      if (m) vm.maps.push(m);
    } else {
      r.unknown(c, 'virtual_machine', sel4cp ? 'map, program_image, device_tree, init_ram_disk' : 'vcpu, map');
    }
  }
  return vm;
}

function readPd(r: Reader, el: XmlElement, isChild: boolean): ProtectionDomainModel {
  r.attributes(el, ['name', 'priority', 'budget', 'period', 'passive', 'stack_size', 'smc', ...r.added('protection_domain'), ...(isChild ? ['id', ...r.added('child protection_domain')] : [])]);
  r.noText(el);
  const name = r.required(el, 'name') ?? '';
  const id = isChild ? r.number(el, 'id', r.required(el, 'id')) : undefined;
  const pd: ProtectionDomainModel = newProtectionDomain({
    name,
    childId: id === undefined ? (isChild ? -1 : undefined) : Number(id),
    ...scheduling(r, el),
    passive: r.bool(el, 'passive', false),
    stackSize: r.number(el, 'stack_size', el.attrs.get('stack_size')) ?? releaseFacts(r.release).defaultStack,
    smc: r.bool(el, 'smc', false),
    programImage: '',
    loc: r.loc(el),
  });
  readAddedPdAttributes(r, el, pd);
  let programImages = 0;
  for (const c of el.children) {
    switch (c.name) {
      case 'program_image': {
        r.attributes(c, ['path', ...r.added('program_image')]);
        const p = r.required(c, 'path');
        if (++programImages > 1) r.fail('pd-duplicate-program-image', `protection domain '${name}' has more than one program_image`, c);
        else if (p !== undefined) pd.programImage = p;
        if (c.attrs.has('path_for_symbols')) pd.programForSymbols = c.attrs.get('path_for_symbols');
        break;
      }
      case 'map': {
        const m = readMap(r, c, true);
        if (m) pd.maps.push(m);
        break;
      }
      case 'irq': {
        if (r.has('x86') && !c.attrs.has('irq') && (c.attrs.has('pin') || c.attrs.has('pcidev'))) {
          r.fail('x86-only', `<irq> with '${c.attrs.has('pin') ? 'pin' : 'pcidev'}' is an x86 interrupt (I/O APIC or MSI); every board here is AArch64`, c, "give the GIC interrupt number: <irq irq=\"N\" id=\"...\" />");
          break;
        }
        r.attributes(c, ['irq', 'id', 'trigger', ...r.added('irq')]);
        const irq = r.decimal(c, 'irq', r.required(c, 'irq'));
        const qid = r.decimal(c, 'id', r.required(c, 'id'));
        const trigger = c.attrs.get('trigger') ?? 'level';
        if (trigger !== 'level' && trigger !== 'edge') r.fail('irq-invalid-trigger', `trigger '${trigger}' on element 'irq' must be 'level' or 'edge'`, c);
        if (irq !== undefined && qid !== undefined) {
          const model: IrqModel = { irq, id: qid, trigger: trigger === 'edge' ? 'edge' : 'level', device: undefined, ...(c.attrs.has('setvar_id') ? { setvarId: c.attrs.get('setvar_id') } : {}), loc: r.loc(c) };
          pd.irqs.push(model);
        }
        break;
      }
      case 'setvar': {
        r.attributes(c, ['symbol', 'region_paddr']);
        const symbol = r.required(c, 'symbol');
        const region = r.required(c, 'region_paddr');
        if (symbol !== undefined && region !== undefined) pd.setvars.push({ symbol, regionPaddr: region, loc: r.loc(c) });
        break;
      }
      case 'protection_domain':
        pd.children.push(readPd(r, c, true));
        break;
      case 'virtual_machine':
        if (pd.virtualMachine) r.fail('pd-duplicate-virtual-machine', `protection domain '${name}' has more than one virtual_machine`, c);
        else pd.virtualMachine = readVm(r, c);
        break;
      default:
        if (!readAddedPdChild(r, c, pd)) {
          r.unknown(c, 'protection_domain', r.children('protection_domain', ['program_image', 'map', 'irq', 'setvar', 'protection_domain', 'virtual_machine']));
        }
    }
  }
  if (programImages === 0) r.fail('pd-missing-program', `protection domain '${name}' has no program_image`, el, "add <program_image path=\"...elf\" />");
  return pd;
}

function readMr(r: Reader, el: XmlElement): MemoryRegionModel | undefined {
  r.attributes(el, ['name', 'size', 'page_size', 'phys_addr', ...r.added('memory_region')]);
  r.noText(el);
  const name = r.required(el, 'name');
  // Where the release has prefill: a prefilled region may leave its size to the file (resolved by prefill.ts).
  const prefill = el.attrs.get('prefill_path');
  const bootinfo = el.attrs.get('prefill_bootinfo');
  const sizeFromPrefill = r.has('prefill') && !el.attrs.has('size') && (prefill !== undefined || bootinfo !== undefined);
  if (r.has('prefill') && !el.attrs.has('size') && !sizeFromPrefill) {
    r.fail('xml-missing-attribute', `missing required attribute 'size' on element 'memory_region' (a region that is not prefilled needs one)`, el);
    return undefined;
  }
  const pageSize = r.number(el, 'page_size', el.attrs.get('page_size'));
  // sdf.rs determine_size: boot information without a size takes one page; a file, its length (later).
  const size = sizeFromPrefill ? (prefill === undefined ? pageSize ?? 0x1000n : 0n) : r.number(el, 'size', r.required(el, 'size'));
  const physAddr = r.number(el, 'phys_addr', el.attrs.get('phys_addr'));
  if (name === undefined || size === undefined) return undefined;
  return {
    name, size, pageSize, physAddr, shared: false, role: { kind: 'user' },
    ...(prefill !== undefined ? { prefill: { path: prefill, file: undefined, bytes: undefined } } : {}),
    ...(sizeFromPrefill ? { sizeFromPrefill } : {}),
    ...(bootinfo !== undefined ? { prefillBootinfo: bootinfo } : {}),
    loc: r.loc(el),
  };
}

function readChannel(r: Reader, el: XmlElement): ChannelModel | undefined {
  r.attributes(el, []);
  r.noText(el);
  const ends: ChannelEndModel[] = [];
  let ok = true;
  for (const c of el.children) {
    if (c.name !== 'end') {
      r.unknown(c, 'channel', 'end');
      ok = false;
      continue;
    }
    r.attributes(c, ['pd', 'id', 'pp', 'notify', ...r.added('end')]);
    const pd = r.required(c, 'pd');
    const id = r.decimal(c, 'id', r.required(c, 'id'));
    const end: ChannelEndModel = {
      pd: pd ?? '', id: id ?? -1, pp: r.bool(c, 'pp', false), notify: r.bool(c, 'notify', true),
      ...(c.attrs.has('setvar_id') ? { setvarId: c.attrs.get('setvar_id') } : {}),
      loc: r.loc(c),
    };
    if (pd === undefined || id === undefined) ok = false;
    ends.push(end);
  }
  if (ends.length !== 2) {
    r.fail('channel-end-count', `a channel must have exactly two end elements, this one has ${ends.length}`, el);
    return undefined;
  }
  return ok ? { a: ends[0]!, b: ends[1]!, loc: r.loc(el) } : undefined;
}

export function parseSystemXml(text: string, file: string, board: Board | undefined, options: ParseOptions = {}): ParseResult {
  const r = new Reader(file, options.dialect, options.release);
  let roots: XmlElement[];
  try {
    roots = parseXmlTree(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) {
      return { model: undefined, diagnostics: [error('xml-malformed', `not well-formed XML: ${e.message}`, { file, line: e.line, column: e.column })] };
    }
    throw e;
  }
  const system = roots.find((x) => x.name === 'system');
  if (!system) {
    return {
      model: undefined,
      diagnostics: [error('xml-missing-system', `no <system> element in ${path.basename(file)}`, { file, line: 1, column: 1 }, {
        hint: 'a system description is one <system> element holding memory_region, protection_domain and channel elements',
      })],
    };
  }
  r.attributes(system, []);
  r.noText(system);
  const model: SystemModel = {
    name: path.basename(file).replace(/\.(system|xml)$/, ''),
    file,
    source: 'xml',
    loc: r.loc(system),
    board,
    microkit: r.release,
    memoryRegions: [],
    protectionDomains: [],
    channels: [],
    guests: [],
  };
  for (const c of system.children) {
    switch (c.name) {
      case 'memory_region': {
        const mr = readMr(r, c);
        // On a known GICv2 board, the region over the virtual CPU interface is that interface:
        // banked per vCPU, so VMs that all map it share nothing (as a systems.ts says outright).
        const gicv = board?.gic.virtualCpuInterface;
        if (mr && gicv && mr.physAddr === gicv.paddr) mr.role = { kind: 'gic-vcpu', vm: '' };
        if (mr) model.memoryRegions.push(mr);
        break;
      }
      case 'protection_domain':
        model.protectionDomains.push(readPd(r, c, false));
        break;
      case 'channel': {
        const ch = readChannel(r, c);
        if (ch) model.channels.push(ch);
        break;
      }
      case 'virtual_machine':
        r.fail('vm-not-child', 'a virtual_machine must be a child of a protection_domain (its VMM)', c);
        break;
      default:
        if (!readAddedSystemChild(r, c, model)) r.unknown(c, 'system', r.children('system', ['memory_region', 'protection_domain', 'channel']));
    }
  }
  markGeneratedTimer(model, text);
  return { model, diagnostics: r.diagnostics };
}
