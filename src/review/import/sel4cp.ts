// Import of the seL4 Core Platform format (2023: the seL4CP VMM guide's, and the 2023 VMM's boards
// qemu_arm_virt_hyp, odroidc2_hyp, imx8mm_evk_hyp). Its files describe a guest the way the old
// VMM's C code needed it: a `vm_id`, guest RAM mapped into the VMM for `guest_ram_vaddr`, the GIC
// virtual CPU interface as a region, the UART as a region, and what the C hard-coded (the serial
// interrupt, the images linked into vmm.elf) not at all. Each such VMM PD becomes a
// virtualMachine() with passthrough() for the board devices it maps; what is not recognised stays
// in the low-level constructs. Every change of meaning is a note (what the seL4CP file implied,
// what the systems.ts says): the CLI prints them, and each is a comment at the line it concerns.
//
// Three phases: plan each guest (classify its mappings), settle what several guests share, then
// write the notes and the virtualMachine() calls from the settled plans.
import path from 'node:path';
import { findBoard, type Board, type BoardDevice } from '../../compile/boards.js';
import { error, type Diagnostic } from '../../compile/diagnostics/index.js';
import type { Loc, MapModel, MemoryRegionModel, ProtectionDomainModel, SystemModel, VirtualMachineModel } from '../../compile/model/index.js';
import { allProtectionDomains, mappingContexts } from '../../compile/model/index.js';
import { parseSystemXml } from '../../compile/parse/system-xml.js';
import { DEFAULT_VM_PRIORITY, DEFAULT_VMM_PRIORITY } from '../../compile/resolve/guests.js';
import { validateSystem } from '../../compile/validate/index.js';
import { hex } from '../../format.js';
import { systemToTypeScript } from './index.js';
import { readXmlComments, type XmlComments } from './xml-comments.js';
import { guestFor, imagePlan, type DeviceUse, type GuestPlan, type Target } from './sel4cp-guest.js';

/** Each kind of change of meaning the importer can make, and what it is about. */
export const SEL4CP_NOTE_KINDS = {
  'format-detected': 'the file was read as the seL4CP format because it uses seL4CP elements (vm_id, guest images)',
  'board-detected': 'the board was found from the file (its path, or its GIC virtual CPU interface) rather than given',
  'vm-id': 'vm_id became one vCPU',
  'vmm-program': "the seL4CP VMM's program image gave way to the VMM sel4cp-synth generates",
  'vmm-ram-map': "the VMM's own mapping of guest RAM (guest_ram_vaddr) is made by the generated VMM",
  'guest-ram': 'the guest RAM region became virtualMachine() ram/ramBase (its name, caching)',
  'gic-vcpu': 'the GIC virtual CPU interface region is mapped by virtualMachine() itself (GICv2) or not needed (GICv3)',
  'device': 'a region at a board device became passthrough() of that device (its name, size, caching, address)',
  'device-described': 'a region at an address the board does not list became a hand-described passthrough()',
  'device-irq-added': "the UART's interrupt, which the seL4CP VMM hard-coded in C, is passed through",
  'device-no-irq': 'a device the file gave no interrupt keeps none (irqs: false)',
  'device-shared': 'a device several guests mapped is owned by one; the others get an emulated copy, or all keep the shared mapping',
  'irq-channel': "an interrupt's channel id, a contract with the old VMM's C, is allocated by sel4cp-synth",
  'irq-trigger': "an interrupt's trigger differs from the board's",
  'irq-unmatched': 'an interrupt of the VMM that matches no device the guest has is dropped',
  'map-kept': 'a guest mapping kept as it was (maps:)',
  'images-built-in': 'the images the seL4CP VMM linked into vmm.elf are given to virtualMachine()',
  'image-file': "an image the file named, found on the seL4CP tool's search path, is read from a path",
  'image-address': 'the load address the file gave an image is chosen by the VMM',
  'dtb-generated': "the guest device tree is generated from the board's unless one is given",
  'priority': 'a priority the file left out has the DSL default, not 0',
  'idle': 'an idle vCPU blocks instead of spinning as under the seL4CP VMM',
  'vm-renamed': 'a VM name used twice got a suffix',
  'vmm-channel': "a channel to the VMM reaches sel4cp-synth's VMM, which does not speak the old VMM's protocol",
  'not-recognised': 'a PD with a VM kept in the low-level constructs, and why',
} as const;

export type Sel4cpNoteKind = keyof typeof SEL4CP_NOTE_KINDS;

/** One change of meaning: what the seL4CP file implied, what the systems.ts says. */
export interface Sel4cpNote {
  kind: Sel4cpNoteKind;
  was: string;
  now: string;
  loc: Loc;
}

export interface Sel4cpImportOptions {
  file: string;
  /** The board given with --board, if any. */
  board: Board | undefined;
  /** All known boards, to recognise the board from the file. */
  boards: readonly Board[];
  /** The directory the systems.ts is written to: image paths are made relative to it. @default the current directory */
  outDir?: string | undefined;
}

export interface Sel4cpImportResult {
  text: string | undefined;
  diagnostics: Diagnostic[];
  notes: Sel4cpNote[];
}

/** The notes of one import, and the comment lines each leaves in the generated file. */
export class Notes {
  readonly all: Sel4cpNote[] = [];
  constructor(readonly xml: XmlComments) {}

  add(kind: Sel4cpNoteKind, was: string, now: string, loc: Loc, plan?: GuestPlan, target: Target = 'const'): void {
    this.all.push({ kind, was, now, loc });
    if (plan) addComment(plan, target, [...wrap(`seL4CP: ${was}`), ...wrap(`now: ${now}`)]);
  }

  /** The file's own comments at an element, moved to where its content now is. */
  carry(loc: Loc, plan: GuestPlan, target: Target): void {
    const lines = loc ? this.xml.byElement.get(`${loc.line}:${loc.column}`) : undefined;
    if (lines?.length) addComment(plan, target, lines);
  }
}

function addComment(plan: GuestPlan, target: Target, lines: readonly string[]): void {
  plan.comments.set(target, [...(plan.comments.get(target) ?? []), ...lines]);
}

/** Comment text broken at word boundaries to fit a line of the generated file. */
export function wrap(text: string, width = 90): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}

/** Whether a .system file uses what only the seL4CP format has: a VM's vm_id or its images. */
export function looksLikeSel4cp(text: string): boolean {
  return /<virtual_machine\b[^>]*\bvm_id\s*=/.test(text) || /<(?:device_tree|init_ram_disk)\b/.test(text);
}

/** Parse a seL4CP .system file and generate its systems.ts, with the notes of what changed. */
export function importSel4cpXml(text: string, options: Sel4cpImportOptions): Sel4cpImportResult {
  const comments = readXmlComments(text);
  const notes = new Notes(comments);
  // Validated without the board: what the board forbids of the old layout (a GIC region over the
  // distributor the VMM emulates) is what the conversion replaces; and VM names that repeat are
  // renamed. The systems.ts is validated in full when it is synthesised.
  const parsed = parseSystemXml(text, options.file, undefined, { dialect: 'sel4cp' });
  const errors = [...parsed.diagnostics, ...(parsed.model ? validateSystem(parsed.model) : [])]
    .filter((d) => d.severity === 'error' && d.id !== 'duplicate-vm-name');
  if (!parsed.model || errors.length) {
    return { text: undefined, diagnostics: errors.length ? errors : [error('import-failed', `cannot read ${options.file} as a system`, undefined)], notes: [] };
  }
  const board = options.board ?? detectBoard(parsed.model, options, notes);
  if (!board) return { text: undefined, notes: [], diagnostics: [needsBoard(parsed.model, options)] };
  const model = parsed.model;
  const plans = planGuests(model, board, notes, options);
  const guests = plans.map((p) => guestFor(p, board));
  const out = systemToTypeScript(remainder(model, plans), comments, { file: options.file, board: board.name, format: 'sel4cp' }, guests);
  notes.all.sort((a, b) => (a.loc?.line ?? 0) - (b.loc?.line ?? 0) || (a.loc?.column ?? 0) - (b.loc?.column ?? 0));
  return { text: out, diagnostics: [], notes: notes.all };
}

/** The 2023 VMM keeps a board's systems in board/<board>/systems/: that <board>. */
function seL4cpBoardDir(file: string): string | undefined {
  const parts = path.resolve(file).split(path.sep);
  const at = parts.lastIndexOf('systems');
  return at > 1 && parts[at - 2] === 'board' ? parts[at - 1] : undefined;
}

/**
 * The board, from where the file lives (board/<name>/systems/), its GIC virtual CPU interface, or,
 * when its folder names no board, the board whose devices and GIC its regions' addresses are at.
 */
export function detectBoard(model: SystemModel, options: Pick<Sel4cpImportOptions, 'file' | 'boards'>, notes: Notes): Board | undefined {
  const dirName = seL4cpBoardDir(options.file);
  const byPath = dirName !== undefined ? findBoard(options.boards, dirName) : undefined;
  if (byPath) {
    notes.add('board-detected', `the file lives in ${dirName}/systems/, the layout of the seL4CP VMM's board ${dirName}`, `board: '${byPath.name}' (pass --board to choose another)`, undefined);
    return byPath;
  }
  // The seL4CP VMM ran on the boards it has a folder for, which the board files name as aliases
  // (qemu_arm_virt_hyp, odroidc2_hyp, imx8mm_evk_hyp): only those are candidates, so that boards
  // with the same SoC family's addresses (imx8mm, imx8mq, imx8mp) do not make a file ambiguous.
  const seL4cpBoards = options.boards.filter((b) => b.aliases.some((a) => a.endsWith('_hyp')));
  const candidates = seL4cpBoards.length > 0 ? seL4cpBoards : options.boards;
  for (const mr of model.memoryRegions) {
    const hit = mr.physAddr !== undefined ? candidates.filter((b) => b.gic.virtualCpuInterface?.paddr === mr.physAddr) : [];
    if (hit.length !== 1) continue;
    notes.add('board-detected', `region '${mr.name}' is at ${hex(mr.physAddr!)}, the GIC virtual CPU interface of ${hit[0]!.name}`, `board: '${hit[0]!.name}' (pass --board to choose another)`, mr.loc);
    return hit[0];
  }
  // A folder that names a board sel4cp-synth does not know says which board it is: not guessed.
  if (dirName !== undefined) return undefined;
  const best = boardsByAddress(model, candidates);
  if (best.length !== 1) return undefined;
  const { board, hits } = best[0]!;
  const was = hits.length === 1
    ? `region '${hits[0]!.region.name}' at ${hex(hits[0]!.region.physAddr!)} is ${board.name}'s ${hits[0]!.frame}`
    : `regions ${hits.map((h) => `'${h.region.name}' at ${hex(h.region.physAddr!)} (${h.frame})`).join(', ')} are ${board.name}'s devices`;
  notes.add('board-detected', `${was}; no other board has as many of its regions' addresses`, `board: '${board.name}' (pass --board to choose another)`, hits[0]!.region.loc);
  return board;
}

/** What of a board a physical address can be at: its devices' registers and its GIC's frames. */
function boardFrames(board: Board): { name: string; paddr: bigint; size: bigint }[] {
  const g = board.gic;
  const gic = [['GIC distributor', g.distributor], ['GIC CPU interface', g.cpuInterface], ['GIC hypervisor interface', g.hypervisorInterface],
    ['GIC virtual CPU interface', g.virtualCpuInterface], ['GIC redistributors', g.redistributor], ['GIC ITS', g.its]] as const;
  return [
    ...board.devices.map((d) => ({ name: d.name, paddr: d.paddr, size: d.size })),
    ...gic.flatMap(([name, r]) => (r ? [{ name, paddr: r.paddr, size: r.size }] : [])),
  ];
}

/** A region at a board's device: the region, and which device or GIC frame. */
interface AddressHit {
  region: MemoryRegionModel;
  frame: string;
}

/**
 * The boards whose devices and GIC frames hold the most of the file's regions with a physical
 * address (a region hits a frame when it starts in the frame's registers, a page at least): one
 * when the addresses tell the board, several when they fit boards alike, none when none fits.
 */
function boardsByAddress(model: SystemModel, boards: readonly Board[]): { board: Board; hits: AddressHit[] }[] {
  const scored = boards.map((board) => {
    const frames = boardFrames(board);
    const hits: AddressHit[] = [];
    for (const region of model.memoryRegions) {
      const pa = region.physAddr;
      const frame = pa === undefined ? undefined : frames.find((f) => pa >= f.paddr && pa < f.paddr + (f.size > 0x1000n ? f.size : 0x1000n));
      if (frame) hits.push({ region, frame: frame.name });
    }
    return { board, hits };
  });
  const most = Math.max(0, ...scored.map((s) => s.hits.length));
  return most === 0 ? [] : scored.filter((s) => s.hits.length === most);
}

/** Why the board could not be told, and how to give it (--board with the names it takes). */
function needsBoard(model: SystemModel, options: Sel4cpImportOptions): Diagnostic {
  const dirName = seL4cpBoardDir(options.file);
  const tied = dirName === undefined ? boardsByAddress(model, options.boards) : [];
  const why = dirName !== undefined
    ? `sel4cp-synth has no board file for the seL4CP board ${dirName}; `
    : tied.length > 1
      ? `its regions' addresses fit ${tied.map((t) => t.board.name).join(' and ')} alike; `
      : "no region's physical address is at a device or GIC frame of a board sel4cp-synth knows; ";
  return error('import-needs-board', `cannot tell which board ${path.basename(options.file)} is for: recognising its VMMs needs the board's devices and GIC`,
    tied[0]?.hits[0]?.region.loc ?? model.loc, {
      hint: `${why}pass --board: ${options.boards.map((b) => b.name).join(', ')} (the seL4CP names qemu_arm_virt_hyp, odroidc2_hyp and imx8mm_evk_hyp are accepted)`,
    });
}

/** Every PD with a VM that can be written as virtualMachine(), with what the guests share settled. */
function planGuests(model: SystemModel, board: Board, notes: Notes, options: Sel4cpImportOptions): GuestPlan[] {
  const plans: GuestPlan[] = [];
  const names = new Set<string>();
  for (const pd of allProtectionDomains(model)) {
    const vm = pd.virtualMachine;
    if (!vm) continue;
    const why = notRecognisable(model, pd, vm);
    if (why) {
      const images = Object.values(vm.sel4cp?.images ?? {}).map((i) => i.path);
      const dropped = images.length ? `; the images it named (${images.join(', ')}) are that program's to load now, as Microkit has no elements for them` : '';
      notes.add('not-recognised', `'${pd.name}' ran VM '${vm.name}' with ${pd.programImage} (${why})`,
        `kept as protectionDomain() + bareVirtualMachine() with vcpus [${vm.vcpus.map((v) => v.id).join(', ')}] from vm_id; it needs a VMM program that does what ${pd.programImage} did${dropped}`, pd.loc);
      continue;
    }
    plans.push(planGuest(model, pd, vm, board, uniqueName(vm, names, notes)));
  }
  settleSharedDevices(plans);
  keepRegionsUsedElsewhere(model, plans);
  imagePlan(plans, notes, options);
  for (const p of plans) writeNotes(p, board, notes);
  channelNotes(model, plans, notes);
  return plans;
}

/** Why a PD with a VM cannot be a virtualMachine(): undefined when it can. */
function notRecognisable(model: SystemModel, pd: ProtectionDomainModel, vm: VirtualMachineModel): string | undefined {
  if (pd.children.length) return 'its VMM has child PDs';
  if (pd.passive) return 'its VMM is passive';
  if (pd.setvars.length) return 'its VMM has setvars';
  if (vm.vcpus.length !== 1) return 'it has no vm_id';
  const ram = guestRamMap(model, vm);
  if (!ram) return 'no region without a physical address is mapped into it executable, to be its RAM';
  const other = pd.maps.find((m) => m.mr !== ram.mr);
  if (other) return `its VMM also maps '${other.mr}'`;
  const users = mappingContexts(model).filter((c) => c.pd !== pd && c.maps.some((m) => m.mr === ram.mr));
  if (users.length) return `its RAM '${ram.mr}' is also mapped by '${users[0]!.name}'`;
  return undefined;
}

/** The VM's RAM: an executable mapping of a region with no physical address (the lowest such). */
function guestRamMap(model: SystemModel, vm: VirtualMachineModel): MapModel | undefined {
  const isMemory = (m: MapModel): boolean => model.memoryRegions.some((r) => r.name === m.mr && r.physAddr === undefined);
  return vm.maps.filter((m) => m.perms.includes('x') && isMemory(m)).sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0))[0];
}

function uniqueName(vm: VirtualMachineModel, names: Set<string>, notes: Notes): string {
  let name = vm.name;
  for (let n = 2; names.has(name); n++) name = `${vm.name}-${n}`;
  names.add(name);
  if (name !== vm.name) {
    notes.add('vm-renamed', `another VM is also named '${vm.name}' (each in its own VMM)`,
      `'${name}': virtualMachine() names its RAM region and VMM program after the VM, so the names must differ`, vm.loc);
  }
  return name;
}

/** Phase one: what each mapping of the VM is (RAM, GIC, a board device, a described device, memory). */
function planGuest(model: SystemModel, pd: ProtectionDomainModel, vm: VirtualMachineModel, board: Board, name: string): GuestPlan {
  const ramMap = guestRamMap(model, vm)!;
  const region = (m: MapModel): MemoryRegionModel => model.memoryRegions.find((r) => r.name === m.mr)!;
  const plan: GuestPlan = {
    pd, vm, name, ram: { region: region(ramMap), map: ramMap }, gic: [], devices: [], memory: [],
    images: undefined, comments: new Map(),
  };
  for (const m of vm.maps) {
    if (m === ramMap) continue;
    const r = region(m);
    if (r.physAddr === undefined) plan.memory.push({ map: m, region: r });
    else if (isGicRegion(board, r.physAddr, m.vaddr)) plan.gic.push({ map: m, region: r });
    else {
      const device = boardDeviceAt(board, r.physAddr, r.size);
      const irqs = device ? pd.irqs.filter((q) => device.irqs.some((d) => d.irq === q.irq)) : [];
      plan.devices.push({ map: m, region: r, device, irqs, use: device ? 'passthrough' : 'described', because: undefined });
    }
  }
  return plan;
}

/** A region over the GIC: the virtual CPU interface, or one mapped where the guest sees a GIC interface. */
function isGicRegion(board: Board, pa: bigint, gpa: bigint): boolean {
  const within = (r: { paddr: bigint; size: bigint } | undefined, a: bigint): boolean => r !== undefined && a >= r.paddr && a < r.paddr + r.size;
  const g = board.gic;
  return [g.virtualCpuInterface, g.hypervisorInterface, g.cpuInterface, g.distributor, g.redistributor].some((r) => within(r, pa) || within(r, gpa));
}

/** The board device whose registers hold [pa, pa+size) (a page at least): the console first, as the seL4CP files meant the UART. */
function boardDeviceAt(board: Board, pa: bigint, size: bigint): BoardDevice | undefined {
  const hits = board.devices.filter((d) => pa >= d.paddr && pa + size <= d.paddr + (d.size > 0x1000n ? d.size : 0x1000n));
  return hits.find((d) => d.console) ?? hits[0];
}

/** Phase two: a board device several guests map is owned by one (the one that took its interrupt, else the first). */
function settleSharedDevices(plans: GuestPlan[]): void {
  const byDevice = new Map<string, { plan: GuestPlan; use: DeviceUse }[]>();
  for (const plan of plans) {
    for (const use of plan.devices) {
      const key = use.device ? `device:${use.device.name}` : `region:${use.region.name}`;
      byDevice.set(key, [...(byDevice.get(key) ?? []), { plan, use }]);
    }
  }
  for (const users of byDevice.values()) {
    if (users.length < 2) continue;
    const owner = users.find((u) => u.use.irqs.length > 0) ?? users[0]!;
    const emulable = owner.use.device?.compatible.includes('arm,pl011') ?? false;
    for (const u of users) {
      if (u === owner && emulable) continue;
      u.use.use = emulable ? 'emulated' : 'map';
      u.use.because = { kind: 'shared', owner: owner.plan };
    }
    if (!emulable) owner.use.because = { kind: 'shared', owner: owner.plan };
  }
}

/** A device region some other PD or unrecognised VM also maps stays a region: every guest keeps its mapping. */
function keepRegionsUsedElsewhere(model: SystemModel, plans: GuestPlan[]): void {
  const recognised = new Set(plans.flatMap((p) => [p.pd, p.vm] as object[]));
  const elsewhere = new Set<string>();
  for (const ctx of mappingContexts(model)) {
    const owner = ctx.kind === 'virtual machine' ? ctx.pd.virtualMachine! : ctx.pd;
    if (!recognised.has(owner)) ctx.maps.forEach((m) => elsewhere.add(m.mr));
  }
  for (const p of plans) {
    for (const use of p.devices) {
      if (elsewhere.has(use.region.name) && use.use !== 'map') {
        use.use = 'map';
        use.because = { kind: 'elsewhere' };
      }
    }
  }
}

/** Phase three: the notes (and comments) of one guest, from its settled plan. */
function writeNotes(plan: GuestPlan, board: Board, notes: Notes): void {
  const { pd, vm } = plan;
  notes.carry(pd.loc, plan, 'const');
  notes.carry(vm.loc, plan, 'const');
  notes.add('vm-id', `vm_id="${vm.vcpus[0]!.id}" named the VM to seL4 and was its one vCPU's id`, 'vcpus: 1; sel4cp-synth numbers the vCPUs of each VM from 0', vm.loc, plan, 'vcpus');
  notes.add('vmm-program', `'${pd.name}' ran ${pd.programImage}, the seL4CP VMM built for this system`,
    `virtualMachine() generates its VMM '${pd.name}' (sel4cp-synth's VMM, vmm-${plan.name}.elf)`, pd.loc, plan, 'vmm');
  for (const m of pd.maps) {
    notes.carry(m.loc, plan, 'const');
    notes.add('vmm-ram-map', `the VMM mapped '${m.mr}' at ${hex(m.vaddr)}${m.setvarVaddr ? ` for its variable ${m.setvarVaddr}` : ''}`,
      'the generated VMM maps guest RAM itself, at an address of its own (in its vmm_config)', m.loc, plan);
  }
  priorityNotes(plan, notes);
  notes.add('idle', 'the seL4CP VMM resumed a vCPU at once when it trapped on WFI (src/vmm.c, HSR_WFx_EXCEPTION): an idle guest kept its core busy',
    "idle: 'block' suspends an idle vCPU until it has an interrupt or a timer deadline; write idle: 'spin' for the old behaviour", vm.loc, plan, 'idle');
  ramNotes(plan, board, notes);
  for (const g of plan.gic) gicNote(plan, g.map, g.region, board, notes);
  for (const use of plan.devices) deviceNote(plan, use, board, notes);
  for (const m of plan.memory) {
    notes.carry(m.region.loc, plan, m.map);
    notes.carry(m.map.loc, plan, m.map);
    notes.add('map-kept', `'${m.map.mr}' was mapped into the guest at ${hex(m.map.vaddr)}`, `maps: keeps the mapping (region '${m.map.mr}' has no physical address: memory shared with the guest)`, m.map.loc, plan, m.map);
  }
  const used = new Set(plan.devices.flatMap((d) => (d.use === 'passthrough' ? d.irqs : [])));
  for (const q of pd.irqs) {
    if (used.has(q)) continue;
    notes.carry(q.loc, plan, 'const');
    notes.add('irq-unmatched', `the VMM took interrupt ${q.irq} (channel ${q.id}), which belongs to no device passed through to '${vm.name}'`,
      `dropped: sel4cp-synth's VMM injects the interrupts of the devices passed through; add irqs: [${q.irq}] to the passthrough() of its device`, q.loc, plan);
  }
}

function priorityNotes(plan: GuestPlan, notes: Notes): void {
  // The parser gives a missing priority 0, the seL4CP default.
  if (plan.pd.priority === 0) {
    notes.add('priority', `'${plan.pd.name}' had no priority: 0`, `the VMM runs at ${DEFAULT_VMM_PRIORITY}, above its guest (vmm: { priority } to change it)`, plan.pd.loc, plan, 'vmm');
  }
  if (!plan.vm.sel4cp?.priorityGiven) {
    notes.add('priority', `VM '${plan.vm.name}' had no priority: 0`, `the guest runs at ${DEFAULT_VM_PRIORITY}, below its VMM (priority: to change it)`, plan.vm.loc, plan, 'priority');
  }
}

function ramNotes(plan: GuestPlan, board: Board, notes: Notes): void {
  const { region, map } = plan.ram;
  notes.carry(region.loc, plan, 'ram');
  notes.carry(map.loc, plan, 'ram');
  const base = map.vaddr === board.guest.ramBase ? `at the board's guest RAM base ${hex(map.vaddr)}` : `at ramBase ${hex(map.vaddr)}`;
  notes.add('guest-ram', `region '${region.name}' (${hex(region.size)} bytes) was the guest's RAM, mapped at ${hex(map.vaddr)}${map.cached ? '' : ' uncached'}`,
    `ram: ${hex(region.size)} bytes ${base}, in the region '${plan.name}_guest_ram' virtualMachine() makes${map.cached ? '' : ', mapped cached as Linux expects of normal memory'}`, map.loc, plan, 'ram');
}

function gicNote(plan: GuestPlan, m: MapModel, region: MemoryRegionModel, board: Board, notes: Notes): void {
  notes.carry(region.loc, plan, 'const');
  notes.carry(m.loc, plan, 'const');
  const now = board.gic.version === 2
    ? `virtualMachine() maps the board's GIC virtual CPU interface (${hex(board.gic.virtualCpuInterface!.paddr)}) at the guest's GICC address (${hex(board.guest.gicCpuInterface ?? 0n)}) itself`
    : `${board.name} has a GICv3: the guest's CPU interface is system registers and the VMM emulates the distributor and redistributors; no region is needed`;
  notes.add('gic-vcpu', `region '${region.name}' at ${hex(region.physAddr!)}, mapped at ${hex(m.vaddr)}, was the GIC virtual CPU interface`, now, m.loc, plan);
}

function deviceNote(plan: GuestPlan, use: DeviceUse, board: Board, notes: Notes): void {
  const { map: m, region, device } = use;
  notes.carry(region.loc, plan, use);
  notes.carry(m.loc, plan, use);
  const was = `region '${region.name}' at ${hex(region.physAddr!)} (${hex(region.size)} bytes) was mapped into the guest at ${hex(m.vaddr)}${m.cached ? ', cached' : ''}`;
  if (use.because?.kind === 'shared') {
    const owner = use.because.owner;
    const now = use.use === 'emulated'
      ? `'${owner.name}' owns ${device!.name}; '${plan.name}' gets emulated('${device!.name}'): its VMM plays a PL011 there and prints what the guest writes, each line prefixed with the VM's name`
      : `the VMM cannot emulate ${device?.compatible[0] ?? `'${region.name}'`}: every guest keeps the shared mapping (maps:), and none gets its interrupts`;
    notes.add('device-shared', `${was}, as other guests mapped it too: they drove one device together`, now, m.loc, plan, use);
  } else if (use.because?.kind === 'elsewhere') {
    notes.add('map-kept', was, `maps: keeps the mapping: another PD maps '${region.name}' too, so it stays a region of its own (shared)`, m.loc, plan, use);
  } else if (device) {
    const changes = [`named '${device.name}' after the board's device`];
    if (region.size !== device.size) changes.push(`its whole register window (${hex(device.size)} bytes, ${board.file}) is mapped`);
    if (m.cached) changes.push('uncached, as device registers must be');
    if (m.perms !== 'rw') changes.push(`read-write (was '${m.perms}')`);
    notes.add('device', was, `passthrough('${device.name}'): ${changes.join('; ')}`, m.loc, plan, use);
  } else {
    notes.add('device-described', was, `passthrough({ name: '${region.name}', ... }): the board file lists no device there, so it is described by hand (mapped uncached)`, m.loc, plan, use);
  }
  if (use.use === 'passthrough') irqNotes(plan, use, notes);
}

function irqNotes(plan: GuestPlan, use: DeviceUse, notes: Notes): void {
  const device = use.device;
  if (!device) return;
  for (const q of use.irqs) {
    notes.carry(q.loc, plan, use);
    notes.add('irq-channel', `<irq irq="${q.irq}" id="${q.id}"> delivered it on channel ${q.id}, the id the seL4CP VMM's C expected`,
      `passthrough() routes interrupt ${q.irq} through sel4cp-synth's VMM, on a channel id it allocates`, q.loc, plan, use);
    const boardIrq = device.irqs.find((d) => d.irq === q.irq)!;
    if (boardIrq.trigger !== q.trigger) {
      notes.add('irq-trigger', `interrupt ${q.irq} was ${q.trigger}-triggered`, `the board's trigger for ${device.name}: ${boardIrq.trigger}`, q.loc, plan, use);
    }
  }
  if (use.irqs.length || !device.irqs.length) return;
  const numbers = device.irqs.map((q) => q.irq).join(', ');
  if (device.kind === 'uart') {
    notes.add('device-irq-added', "the file gave the VMM no <irq> for the UART: the seL4CP VMM's C hard-coded the serial interrupt (src/vmm.h SERIAL_IRQ)",
      `passthrough('${device.name}') passes the board's interrupt ${numbers} through to the guest`, use.map.loc, plan, use);
  } else {
    use.noIrqs = true;
    notes.add('device-no-irq', `the file gave the VMM no <irq> for '${device.name}': the guest got none of its interrupts`,
      `irqs: false keeps it so; remove it to pass the board's ${numbers} through`, use.map.loc, plan, use);
  }
}

/** Channels that named a VMM now name its guest (virtualMachine() stands for its VMM). */
function channelNotes(model: SystemModel, plans: GuestPlan[], notes: Notes): void {
  for (const ch of model.channels) {
    for (const end of [ch.a, ch.b]) {
      const plan = plans.find((p) => p.pd.name === end.pd);
      if (!plan) continue;
      notes.add('vmm-channel', `channel ${end.id} of '${end.pd}' reached the seL4CP VMM, whose C decided what it meant`,
        `it reaches sel4cp-synth's VMM, which ignores notifications on channels it did not allocate: a guest-facing link needs its own construct`, end.loc);
    }
  }
}

/** The model without what became virtualMachine(): the VMM PDs and the regions only they used. */
function remainder(model: SystemModel, plans: GuestPlan[]): SystemModel {
  const gone = new Set(plans.map((p) => p.pd));
  const consumed = new Set<string>();
  for (const p of plans) {
    consumed.add(p.ram.region.name);
    p.gic.forEach((g) => consumed.add(g.region.name));
    p.devices.filter((d) => d.use !== 'map').forEach((d) => consumed.add(d.region.name));
  }
  // Who maps each region that stays: a device region several of them map must say it is shared.
  const users = new Map<string, number>();
  const use = (mr: string): void => { users.set(mr, (users.get(mr) ?? 0) + 1); };
  for (const ctx of mappingContexts(model)) {
    if (!gone.has(ctx.pd)) new Set(ctx.maps.map((m) => m.mr)).forEach(use);
  }
  for (const p of plans) {
    new Set([...p.memory.map((m) => m.region.name), ...p.devices.filter((d) => d.use === 'map').map((d) => d.region.name)]).forEach(use);
  }
  const prune = (pds: ProtectionDomainModel[]): ProtectionDomainModel[] =>
    pds.filter((pd) => !gone.has(pd)).map((pd) => ({ ...pd, children: prune(pd.children) }));
  return {
    ...model,
    memoryRegions: model.memoryRegions
      .filter((r) => users.has(r.name) || !consumed.has(r.name))
      .map((r) => (r.physAddr !== undefined && (users.get(r.name) ?? 0) > 1 ? { ...r, shared: true } : r)),
    protectionDomains: prune(model.protectionDomains),
  };
}

