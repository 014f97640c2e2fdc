// What each Microkit release supports, as one table. A release is a row of RELEASES; each
// difference between releases is one row of FEATURES: what it is, the release that brought it
// (`since`) and, where a later release takes it away or fixes it, `until`; the .system elements
// and attributes it adds, and the values of ReleaseFacts it changes. Every stage asks
// `supports(release, feature)` or `releaseFacts(release)`; no other code compares a release.
// (esbuild's internal/compat/js_table.go: passes ask the table, never a version.)
//
// Every fact is from the release's tool/microkit/src (2.0.1: sdf.rs, main.rs; 2.3.0: sdf.rs,
// symbols.rs, sel4.rs) or build_sdk.py; test/compile/releases.test.ts reads them back from the
// source checkouts (MICROKIT_SRC, MICROKIT_SRC_2_3_0). Adding a release: README "Adding a release".
import type { RuleId } from './diagnostics/index.js';

interface ReleaseRow {
  name: string;
  /** The release a command works for when neither an SDK nor --microkit says. */
  default?: true;
  /** The error for one of this release's features in a system built for an earlier release. */
  laterRule?: RuleId;
}

/** The releases sel4cp-synth targets, oldest first; an SDK's VERSION file names one. */
const RELEASES = [
  { name: '2.0.1', default: true },
  { name: '2.3.0', laterRule: 'microkit-2.3.0-only' },
] as const satisfies readonly ReleaseRow[];

export type MicrokitRelease = (typeof RELEASES)[number]['name'];
export const RELEASE_NAMES: readonly MicrokitRelease[] = RELEASES.map((r) => r.name);
export const DEFAULT_RELEASE: MicrokitRelease = RELEASES.find((r: ReleaseRow) => r.default)!.name;

export function isMicrokitRelease(s: string): s is MicrokitRelease {
  return (RELEASE_NAMES as readonly string[]).includes(s);
}

/** The values that differ between releases: the first release's, as later rows change them. */
export interface ReleaseFacts {
  /** sdf.rs PD_DEFAULT_STACK_SIZE. */
  defaultStack: bigint;
  /** What sits above a PD's stack at the top of its address space (sel4.rs pd_stack_top). */
  aboveStack: bigint;
  /** cspace cap_* slots 1 .. maxCapSlot - 1 (sdf.rs CAP_MAP_MAX_SLOT); 0 is the Microkit CNode. */
  maxCapSlot: number;
  /** PD names the tool reserves (sdf.rs MONITOR_PD_NAME). */
  reservedPdNames: readonly string[];
  /** The symbols the tool writes into every PD's ELF. */
  pdSymbolsWritten: readonly string[];
  /** The symbol every PD's ELF must have, at whose address the tool maps its IPC buffer; none when the buffer has a fixed place. */
  ipcBufferSymbol: string | undefined;
  /** KernelNumDomains and KernelNumDomainSchedules of the release's debug and release kernels (build_sdk.py). */
  kernelDomains: { numDomains: number; numDomainSchedules: number };
  /** The same for its smp-* kernels; undefined when it builds none. */
  smpKernelDomains: { numDomains: number; numDomainSchedules: number } | undefined;
}

/** Microkit 2.0.1, the first release here: tool/microkit/src/sdf.rs, main.rs (pd_write_symbols, SYMBOL_IPC_BUFFER), build_sdk.py. */
const FIRST: ReleaseFacts = {
  defaultStack: 0x1000n,
  aboveStack: 0n,
  maxCapSlot: 0,
  reservedPdNames: [],
  pdSymbolsWritten: ['microkit_name', 'microkit_passive', 'microkit_irqs', 'microkit_notifications', 'microkit_pps'],
  ipcBufferSymbol: '__sel4_ipc_buffer_obj',
  kernelDomains: { numDomains: 1, numDomainSchedules: 1 },
  smpKernelDomains: undefined,
};

/**
 * Where in a .system file an attribute or element goes: an element, or an element in one context
 * (a child PD's attributes, a map in a PD rather than in a virtual machine).
 */
const PLACE_ELEMENT = {
  'system': 'system',
  'memory_region': 'memory_region',
  'protection_domain': 'protection_domain',
  'child protection_domain': 'protection_domain',
  'program_image': 'program_image',
  'protection_domain map': 'map',
  'irq': 'irq',
  'vcpu': 'vcpu',
  'end': 'end',
} as const;
export type FormatPlace = keyof typeof PLACE_ELEMENT;

interface FeatureRow {
  feature: string;
  since: MicrokitRelease;
  /** The first release without it (a tool defect fixed, a feature removed). @default none */
  until?: MicrokitRelease;
  /** What it is, and where the release's source says so. */
  about: string;
  /** Attributes it adds, by place, in the order the tool lists them. */
  attributes?: Readonly<Partial<Record<FormatPlace, readonly string[]>>>;
  /** Child elements it adds, by parent element. */
  elements?: Readonly<Partial<Record<FormatPlace, readonly string[]>>>;
  /** The values it changes from `since` on. */
  facts?: Partial<ReleaseFacts>;
}

/**
 * One row per difference between releases, in the order their attributes are listed on an element
 * (a vcpu takes `id, setvar_id, cpu`; a protection_domain `..., cpu, domain, fpu`).
 */
const FEATURES = [
  {
    feature: 'setvar-id', since: '2.3.0',
    about: "setvar_id: a symbol set to a child PD's id, an irq's or a channel end's id, or a vCPU's (sdf.rs SysSetVarKind::Id)",
    attributes: { 'child protection_domain': ['setvar_id'], 'irq': ['setvar_id'], 'vcpu': ['setvar_id'], 'end': ['setvar_id'] },
  },
  {
    feature: 'cpu', since: '2.3.0',
    about: 'the core a PD or a vCPU runs on (sdf.rs ProtectionDomain cpu, VirtualMachine vcpu cpu)',
    attributes: { 'protection_domain': ['cpu'], 'vcpu': ['cpu'] },
  },
  {
    feature: 'domains', since: '2.3.0',
    about: "the domain scheduler: <domains> with a <domain_schedule>, a PD's domain; every AArch64 kernel has 16 domains and 100 schedule entries (build_sdk.py DEFAULT_KERNEL_OPTIONS)",
    attributes: { 'protection_domain': ['domain'] },
    elements: { 'system': ['domains'] },
    facts: { kernelDomains: { numDomains: 16, numDomainSchedules: 100 } },
  },
  {
    feature: 'fpu', since: '2.3.0',
    about: "a PD's use of the FPU (sdf.rs ProtectionDomain fpu)",
    attributes: { 'protection_domain': ['fpu'] },
  },
  {
    feature: 'path-for-symbols', since: '2.3.0',
    about: 'program_image path_for_symbols: an unstripped ELF the tool reads symbols from',
    attributes: { 'program_image': ['path_for_symbols'] },
  },
  {
    feature: 'cspace', since: '2.3.0',
    about: "<cspace> with cap_tcb, cap_sc and cap_vspace: another PD's caps in a PD's CSpace (sdf.rs CAP_MAP_MAX_SLOT 128)",
    elements: { 'protection_domain': ['cspace'] },
    facts: { maxCapSlot: 128 },
  },
  {
    feature: 'prefill', since: '2.3.0',
    about: "a memory region filled from a file or with boot information at boot, its size the file's if left out, and setvar_prefill_size (sdf.rs prefill_path, prefill_bootinfo)",
    attributes: { 'memory_region': ['prefill_path', 'prefill_bootinfo'], 'protection_domain map': ['setvar_prefill_size'] },
  },
  {
    feature: 'embedded-frames', since: '2.3.0',
    about: "a 4 KiB frame with data and no physical address is a page of the capDL initialiser's own image, mapped where it is, never copied (capdl/packaging.rs embed_frames; rust-sel4 transform.rs can_embed); other frames with data are filled at start-up from deflated bytes. So guest images and virtioBlock disks go into guest RAM and disk regions as prefilled 4 KiB regions (guest/prefill.ts) instead of the VMM's program image",
  },
  {
    feature: 'smp-configs', since: '2.3.0',
    about: 'smp-debug and smp-release kernels on boards with smp_cores, with one domain and 2 schedule entries (build_sdk.py elaborate_all_board_configs; the SDK\'s gen_config.json)',
    facts: { smpKernelDomains: { numDomains: 1, numDomainSchedules: 2 } },
  },
  {
    feature: 'monitor-name-reserved', since: '2.3.0',
    about: "the PD name 'monitor' is the Microkit monitor's (sdf.rs MONITOR_PD_NAME)",
    facts: { reservedPdNames: ['monitor'] },
  },
  {
    feature: 'default-stack-8k', since: '2.3.0',
    about: 'a PD stack of 8 KiB unless stack_size says (sdf.rs PD_DEFAULT_STACK_SIZE 0x2000)',
    facts: { defaultStack: 0x2000n },
  },
  {
    feature: 'ipc-buffer-at-top', since: '2.3.0',
    about: "the IPC buffer in the top page of a PD's address space with a guard page below, no longer at the ELF's __sel4_ipc_buffer_obj (sel4.rs pd_ipc_buffer, pd_stack_top)",
    facts: { aboveStack: 0x2000n, ipcBufferSymbol: undefined },
  },
  {
    feature: 'ioports-symbol', since: '2.3.0',
    about: 'microkit_ioports written into every PD beside the others (symbols.rs)',
    facts: { pdSymbolsWritten: ['microkit_name', 'microkit_passive', 'microkit_irqs', 'microkit_notifications', 'microkit_pps', 'microkit_ioports'] },
  },
  {
    feature: 'x86', since: '2.3.0',
    about: 'x86-64: <ioport>, <io_address_space>, I/O APIC and MSI irqs, x86 boot information; every board here is AArch64, so these are refused as x86-only',
  },
  {
    feature: 'prefill-past-file-panics', since: '2.3.0',
    about: 'a defect: a prefilled region larger than its file rounded up to its page size makes the tool panic (capdl/builder.rs slices past the file)',
  },
  {
    feature: 'vcpu-setvar-id-ignored', since: '2.3.0',
    about: "a defect: a vCPU's setvar_id is read from its virtual_machine element, so it is never set (sdf.rs VirtualMachine::from_xml)",
  },
] as const satisfies readonly FeatureRow[];

export type Feature = (typeof FEATURES)[number]['feature'];

const rank = (r: MicrokitRelease): number => RELEASE_NAMES.indexOf(r);
const rowOf = (f: Feature): FeatureRow => FEATURES.find((row) => row.feature === f)!;
const has = (release: MicrokitRelease, row: FeatureRow): boolean =>
  rank(release) >= rank(row.since) && (row.until === undefined || rank(release) < rank(row.until));

/** Whether `release` has `feature`. */
export function supports(release: MicrokitRelease, feature: Feature): boolean {
  return has(release, rowOf(feature));
}

/** The release that brought `feature`. */
export function featureSince(feature: Feature): MicrokitRelease {
  return rowOf(feature).since;
}

const FACTS = new Map<MicrokitRelease, ReleaseFacts>(RELEASE_NAMES.map((r) => [
  r,
  (FEATURES as readonly FeatureRow[]).filter((row) => has(r, row)).reduce<ReleaseFacts>((facts, row) => ({ ...facts, ...row.facts }), FIRST),
]));

/** The values of `release`. */
export function releaseFacts(release: MicrokitRelease): ReleaseFacts {
  return FACTS.get(release)!;
}

/** The attributes `release` adds at `place` to the first release's (in the tool's order). */
export function addedAttributes(release: MicrokitRelease, place: FormatPlace): readonly string[] {
  return (FEATURES as readonly FeatureRow[]).filter((row) => has(release, row)).flatMap((row) => row.attributes?.[place] ?? []);
}

/** The child elements `release` adds in `parent` to the first release's. */
export function addedElements(release: MicrokitRelease, parent: FormatPlace): readonly string[] {
  return (FEATURES as readonly FeatureRow[]).filter((row) => has(release, row)).flatMap((row) => row.elements?.[parent] ?? []);
}

/** The later release that has attribute `name` on `element` where `release` does not (anywhere the element goes). */
export function laterAttribute(release: MicrokitRelease, element: string, name: string): MicrokitRelease | undefined {
  return (FEATURES as readonly FeatureRow[]).find((row) => rank(row.since) > rank(release) && Object.entries(row.attributes ?? {})
    .some(([place, names]) => PLACE_ELEMENT[place as FormatPlace] === element && names.includes(name)))?.since;
}

/** The later release that has child element `name` in element `parent` where `release` does not. */
export function laterElement(release: MicrokitRelease, parent: string, name: string): MicrokitRelease | undefined {
  return (FEATURES as readonly FeatureRow[]).find((row) => rank(row.since) > rank(release) && Object.entries(row.elements ?? {})
    .some(([place, names]) => PLACE_ELEMENT[place as FormatPlace] === parent && names.includes(name)))?.since;
}

/** The error for a feature of `since` used in a system built for an earlier release. */
export function laterRule(since: MicrokitRelease): RuleId {
  const rule = (RELEASES as readonly ReleaseRow[]).find((r) => r.name === since)?.laterRule;
  if (!rule) throw new Error(`releases.ts: release ${since} brings features but names no laterRule`);
  return rule;
}

/** Every row, for tests and documentation. */
export const FEATURE_ROWS: readonly FeatureRow[] = FEATURES;
