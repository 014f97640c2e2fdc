// Where the start-up time of a booting guest goes (issue 11 item 6), per Microkit release:
// examples/linux-qemu.ts (qemu_virt_aarch64, debug) booted ROUNDS times per release and natively,
// interleaved (2.0.1, 2.3.0, native, 2.0.1, …) because the machine is noisy, medians of each phase
// from the console's timestamps (src/run/qemu.ts: when the chunk that completed a line arrived),
// and beside them what each phase has to do, counted from the build: the Microkit tool's system
// invocations (2.0.1: its report; 2.3.0: its capDL spec), the VMM ELF's pages, the loader's
// regions, the bytes the VMM copies into guest RAM (its debug line, vmm.c log_image_load).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../src/compile/synthesise.js';
import { qemuArgs } from '../src/run/machine.js';
import { directKernelBootArgs, findExecutable, startQemu } from '../src/run/qemu.js';
import { GUEST_MARKER } from '../src/compile/initramfs/busybox-initramfs.js';
import { loadBoards } from '../src/compile/load/boards.js';
import { findBoard } from '../src/compile/boards.js';
import { PF_R, PF_W, PF_X, PT_LOAD, readElf } from '../src/compile/link/elf.js';

const ROUNDS = Math.max(1, Number(process.env['BENCH_STARTUP_ROUNDS'] ?? 5));
const BOARD = 'qemu_virt_aarch64';
/** Debug builds print each phase (and the VMM's bytes copied); release builds are the figure to compare with native. */
const CONFIG = 'debug';
const CONFIGS = (process.env['BENCH_STARTUP_CONFIGS'] ?? 'debug,release').split(',').filter((c): c is 'debug' | 'release' => c === 'debug' || c === 'release');
const BOOT_TIMEOUT_MS = 300_000;
const PAGE = 4096;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const mib = (n: number): string => `${(n / 1048576).toFixed(1)} MiB`;

interface Release {
  version: '2.0.1' | '2.3.0';
  sdk: string;
  /** The root task's first console line and its last before the PDs run (its sources). */
  rootTask: { name: string; first: string; done: string };
}

/**
 * The root task of each release and the lines it prints: 2.0.1's monitor performs the tool's
 * invocation table (monitor/src/main.c main()); 2.3.0's capDL initialiser builds the system from
 * the spec (rust-sel4 sel4-capdl-initializer initialize.rs: info! at start and before resuming
 * the threads), then the monitor PD says "Microkit Monitor started!".
 */
const ROOT_TASKS = {
  '2.0.1': { name: 'monitor', first: 'MON|INFO: Microkit Bootstrap', done: 'MON|INFO: completed system invocations' },
  '2.3.0': { name: 'capDL initialiser', first: 'Starting CapDL initializer', done: 'Starting threads' },
} as const;

function sdkVersion(sdk: string): string | undefined {
  try {
    return readFileSync(path.join(sdk, 'VERSION'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The releases present; each one missing is one SKIP line. */
function findReleases(): Release[] {
  const wanted = [
    { version: '2.0.1', variable: 'MICROKIT_SDK', sdk: process.env['MICROKIT_SDK'] ?? '/root/sel4/microkit-sdk-2.0.1' },
    { version: '2.3.0', variable: 'MICROKIT_SDK_2_3_0', sdk: process.env['MICROKIT_SDK_2_3_0'] },
  ] as const;
  const found: Release[] = [];
  for (const w of wanted) {
    if (!w.sdk || !existsSync(path.join(w.sdk, 'bin', 'microkit'))) {
      console.log(`SKIP start-up on Microkit ${w.version}: no SDK (set ${w.variable})`);
      continue;
    }
    const v = sdkVersion(w.sdk);
    if (v !== w.version) {
      console.log(`SKIP start-up on Microkit ${w.version}: ${w.variable}=${w.sdk} is version ${v ?? 'unknown (no VERSION file)'}`);
      continue;
    }
    found.push({ version: w.version, sdk: w.sdk, rootTask: ROOT_TASKS[w.version] });
  }
  return found;
}

/** One boot: when each marked line arrived (ms after spawning QEMU), the console, the exits line. */
interface Boot {
  at: Record<string, number>;
  output: string;
  exits: string | undefined;
}

/**
 * Boots and records when each of `marks` first appears; done at the guest's marker (plus the
 * VMM's exit counters, printed when the guest powers off, if `exits`). String patterns only:
 * QemuProcess rescans the whole buffer for a regular expression at every chunk, which on two
 * shared cores would cost the boot it measures.
 */
async function bootMarks(args: string[], marks: Record<string, string>, exits: boolean): Promise<Boot> {
  const q = startQemu({ args });
  try {
    const at: Record<string, number> = {};
    const seen = Object.entries(marks).map(([key, text]) => q.waitFor(text, BOOT_TIMEOUT_MS).then((m) => {
      at[key] = m.elapsedMs;
    }, () => undefined));
    at['marker'] = (await q.waitFor(GUEST_MARKER, BOOT_TIMEOUT_MS)).elapsedMs;
    await Promise.race([Promise.all(seen), new Promise((r) => setTimeout(r, 100))]);
    let line: string | undefined;
    if (exits) {
      const from = q.position;
      line = await q.waitFor(/exits: [^\n]*\n/, 20_000, from).then((m) => m.text.trim(), () => undefined);
    }
    return { at, output: q.output, exits: line };
  } finally {
    await q.stop();
  }
}

function marksFor(r: Release): Record<string, string> {
  return {
    loader: 'LDR|',
    kernel: 'Bootstrapping kernel',
    user: 'Booting all finished, dropped to user space',
    rootFirst: r.rootTask.first,
    rootDone: r.rootTask.done,
    vmmLoad: "' images: copied ",
    vmStarted: "' started: kernel ",
    linux: 'Booting Linux on physical CPU',
  };
}

/** The VMM's debug line (vmm.c log_image_load): bytes into guest RAM, bytes stored, microseconds. */
function vmmLoadLine(output: string): { copied: number; stored: number; us: number } | undefined {
  const m = /vmm: VM '[^']+' images: copied (\d+) bytes \([^)]*stored (\d+)\) in (\d+) us/.exec(output);
  return m ? { copied: Number(m[1]), stored: Number(m[2]), us: Number(m[3]) } : undefined;
}

/** The regions the Microkit loader copies, from its console (loader.c: "region: … size: …"). */
function loaderRegions(output: string): { count: number; bytes: number } {
  const sizes = [...output.matchAll(/LDR\|INFO: region: 0x[0-9a-f]+\s+addr: 0x[0-9a-f]+\s+size: 0x([0-9a-f]+)/g)].map((m) => parseInt(m[1]!, 16));
  return { count: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) };
}

type Phase = [label: string, value: (b: Boot) => number | undefined];

function span(b: Boot, from: string, to: string): number | undefined {
  const a = b.at[from];
  const z = b.at[to];
  return a === undefined || z === undefined ? undefined : z - a;
}

/** The rows of a release's table: each is a difference of two console timestamps of one boot. */
function phases(r: Release): Phase[] {
  const root = r.rootTask.name;
  return [
    ['QEMU start → loader\'s first line (QEMU reads loader.img)', (b) => b.at['loader']],
    ['loader: first line → "Bootstrapping kernel"', (b) => span(b, 'loader', 'kernel')],
    ['= loader time: QEMU start → first kernel line', (b) => b.at['kernel']],
    [`kernel start → ${root}'s first line`, (b) => span(b, 'kernel', 'rootFirst')],
    ['  of which seL4\'s own boot (→ "dropped to user space")', (b) => span(b, 'kernel', 'user')],
    [`${root}: first line → "${r.rootTask.done}"`, (b) => span(b, 'rootFirst', 'rootDone')],
    [`→ the VMM's first line (its image copy included)`, (b) => span(b, 'rootDone', 'vmmLoad')],
    ['  of which the VMM copying images (its own counter)', (b) => {
      const l = vmmLoadLine(b.output);
      return l ? l.us / 1000 : undefined;
    }],
    ['VMM: "images" → "VM started"', (b) => span(b, 'vmmLoad', 'vmStarted')],
    ['= seL4 start-up: kernel start → VM started', (b) => span(b, 'kernel', 'vmStarted')],
    ['VM started → Linux\'s first line', (b) => span(b, 'vmStarted', 'linux')],
    ['Linux: first line → marker', (b) => span(b, 'linux', 'marker')],
    [`total: QEMU start → '${GUEST_MARKER}'`, (b) => b.at['marker']],
  ];
}

const NATIVE_PHASES: Phase[] = [
  ['QEMU start → Linux\'s first line', (b) => b.at['linux']],
  ['Linux: first line → marker', (b) => span(b, 'linux', 'marker')],
  [`total: QEMU start → '${GUEST_MARKER}'`, (b) => b.at['marker']],
];

/** seL4 calls by kind ("Untyped Retype", "Page Map", …); the monitor issues a repeated one N times. */
type Calls = Map<string, number>;

function add(calls: Calls, kind: string, n = 1): void {
  calls.set(kind, (calls.get(kind) ?? 0) + n);
}

function total(calls: Calls): number {
  return [...calls.values()].reduce((a, b) => a + b, 0);
}

function listCalls(calls: Calls): string {
  return [...calls].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${int(n)}`).join(', ');
}

/**
 * 2.0.1's report (tool/microkit/src/main.rs write_report): the invocations of the table that the
 * monitor performs, each "0xNNNN <object> - <method> - 0x<cap> (<name>)" and its fields, then
 * "REPEAT: count=N" when the monitor issues it N times with incremented caps and arguments
 * (sel4.rs Invocation::repeat). Entries are what the monitor counts; calls include the repeats.
 */
function monitorInvocations(report: string): { entries: number; calls: Calls; pageMaps: Calls; singleRetypes: number } {
  const detail = report.split('# System Kernel Invocations Detail')[1] ?? '';
  const calls: Calls = new Map();
  const pageMaps: Calls = new Map();
  let entries = 0;
  let singleRetypes = 0;
  let current: { kind: string; name: string; repeat: number; objects: number } | undefined;
  const finish = (): void => {
    if (!current) return;
    add(calls, current.kind, current.repeat);
    if (current.kind === 'Page Map') {
      const mr = /^Page\(([^)]+)\): MR=(\S+)/.exec(current.name);
      add(pageMaps, mr ? `${mr[2]} (${mr[1]})` : current.name, current.repeat);
    }
    if (current.kind === 'Untyped Retype' && current.objects === 1 && current.repeat === 1) singleRetypes++;
  };
  for (const line of detail.split('\n')) {
    const head = /^ {4}0x[0-9a-f]+ (.+?)\s+- (.+?)\s+- 0x[0-9a-f]+ \((.*)\)$/.exec(line);
    if (head) {
      finish();
      entries++;
      current = { kind: `${head[1]} ${head[2]}`, name: head[3]!, repeat: 1, objects: 0 };
      continue;
    }
    const repeat = /^\s+REPEAT: count=(\d+)/.exec(line);
    if (repeat && current) current.repeat = Number(repeat[1]);
    const objects = /^\s+num_objects\s+(\d+)/.exec(line);
    if (objects && current) current.objects = Number(objects[1]);
  }
  finish();
  return { entries, calls, pageMaps, singleRetypes };
}

function reportCount(report: string, section: string): number | undefined {
  const m = new RegExp(`# ${section} Kernel Invocations Summary\\s+# of invocations\\s*:\\s*([\\d,]+)`).exec(report);
  return m ? Number(m[1]!.replace(/,/g, '')) : undefined;
}

/** What 2.0.1's tool planned for start-up, from the report the pipeline keeps beside loader.img. */
function facts201(outDir: string): string[] {
  const report = readFileSync(path.join(outDir, 'report.txt'), 'utf8');
  const inv = monitorInvocations(report);
  const maps = [...inv.pageMaps].sort((a, b) => b[1] - a[1]).map(([mr, n]) => `${mr} ${int(n)}`).join(', ');
  return [
    `Microkit tool (report.txt): ${reportCount(report, 'Bootstrap') ?? '?'} bootstrap + ${int(reportCount(report, 'System') ?? inv.entries)} system invocations (the monitor's count), ${int(total(inv.calls))} seL4 calls with their repeats: ${listCalls(inv.calls)}`,
    `  Page Map by region: ${maps}`,
    `  Untyped Retype of a single object: ${int(inv.singleRetypes)} (main.rs allocates each fixed-address page on its own: "FIXME: At this point we can recombine them into groups")`,
  ];
}

/** The parts of the capDL spec (the tool's --capdl-json, serde of sel4-capdl-initializer-types) read here. */
interface SpecCap { object: number; badge?: number; rights?: Record<string, boolean> }
interface SpecSlot { slot: number; cap: Record<string, SpecCap> }
interface SpecBody {
  slots?: SpecSlot[];
  size_bits?: number;
  paddr?: number | null;
  is_root?: boolean;
  init?: { entries: { range: { start: number; end: number }; content: Record<string, unknown> }[] };
  extra?: { resume?: boolean };
}
interface SpecObject { name: string | null; object: string | Record<string, SpecBody> }
interface Spec { objects: SpecObject[]; irqs: unknown[]; asid_slots: unknown[]; root_objects: { start: number; end: number } }

function objectKind(o: SpecObject): [string, SpecBody] {
  if (typeof o.object === 'string') return [o.object, {}];
  const [kind, body] = Object.entries(o.object)[0]!;
  return [kind, body];
}

/** Objects the initialiser retypes (when_sel4.rs blueprint(); the rest are IRQ handlers, SMC, domains). */
const RETYPED = new Set(['Untyped', 'Endpoint', 'Notification', 'CNode', 'Tcb', 'VCpu', 'Frame', 'PageTable', 'AsidPool', 'SchedContext', 'Reply']);

/**
 * A 4 KiB root frame with data and no address is embedded (transform.rs can_embed; the tool's
 * packaging.rs embeds all it can): its bytes are a page of the initialiser's own image, the
 * kernel made its cap at boot, and the initialiser neither retypes nor fills it.
 */
function embedded(body: SpecBody, isRoot: boolean): boolean {
  const entries = body.init?.entries ?? [];
  return isRoot && body.paddr == null && body.size_bits === 12 && entries.length > 0 && !entries.some((e) => 'BootInfo' in e.content);
}

/**
 * The seL4 calls sel4-capdl-initializer (rust-sel4 crates/sel4-capdl-initializer/src/
 * initialize.rs, MCS, debug) makes for a spec, phase by phase: create_objects (one Untyped_Retype
 * per object, the watermark dummies before fixed-address frames not counted: they depend on the
 * untypeds at boot), IRQs and ASIDs, init_frames (map, fill, unmap), init_vspaces (a copy of the
 * frame cap and a map per mapping, a map per page table), init_tcbs, init_cspaces (a copy or a
 * mint per slot), start_threads.
 */
function initialiserCalls(spec: Spec, debug: boolean): { calls: Calls; frames: Calls; filledBytes: number } {
  const calls: Calls = new Map();
  const frames: Calls = new Map();
  let filledBytes = 0;
  add(calls, 'IRQControl GetTrigger', spec.irqs.length);
  add(calls, 'ASID pool copy+delete+make', 3 * spec.asid_slots.length);
  spec.objects.forEach((o, id) => {
    const [kind, body] = objectKind(o);
    const isRoot = id >= spec.root_objects.start && id < spec.root_objects.end;
    const slots = body.slots ?? [];
    if (kind === 'Frame') {
      const emb = embedded(body, isRoot);
      add(frames, `${body.size_bits === 12 ? '4 KiB' : `2^${body.size_bits}`}${emb ? ' embedded' : ''}`);
      if (!emb && (body.init?.entries.length ?? 0) > 0) {
        add(calls, 'Frame Map+Unmap to fill', 2);
        filledBytes += (body.init?.entries ?? []).reduce((n, e) => n + e.range.end - e.range.start, 0);
      }
    }
    if (RETYPED.has(kind) && !(kind === 'Frame' && embedded(body, isRoot))) add(calls, 'Untyped Retype');
    if (kind === 'PageTable') {
      if (body.is_root) add(calls, 'ASIDPool Assign');
      for (const s of slots) {
        if ('Frame' in s.cap) add(calls, 'Frame Map');
        if ('Frame' in s.cap) add(calls, 'CNode Copy (of a frame cap, to map it)');
        if ('PageTable' in s.cap) add(calls, 'PageTable Map');
      }
    }
    if (kind.endsWith('Irq') && slots.some((s) => s.slot === 0)) add(calls, 'IRQHandler SetNotification');
    if (kind === 'SchedContext') add(calls, 'SchedControl ConfigureFlags');
    if (kind === 'CNode') for (const s of slots) add(calls, 'Endpoint' in s.cap || 'Notification' in s.cap ? 'CNode Mint' : 'CNode Copy');
    if (kind === 'Tcb') tcbCalls(calls, slots, o.name !== null && debug, body.extra?.resume === true);
  });
  return { calls, frames, filledBytes };
}

/** initialize.rs init_tcbs (the KERNEL_MCS branch) and start_threads, for one TCB. */
function tcbCalls(calls: Calls, slots: SpecSlot[], named: boolean, resume: boolean): void {
  const at = (n: number): Record<string, SpecCap> | undefined => slots.find((s) => s.slot === n)?.cap;
  if (at(8)) add(calls, 'TCB BindNotification');
  if (at(9)) add(calls, 'VCPU SetTCB');
  if (at(6)) add(calls, 'SchedControl ConfigureFlags');
  const fault = at(5)?.['Endpoint'];
  const allRights = fault?.rights && Object.values(fault.rights).every(Boolean);
  if (fault && (fault.badge !== 0 || !allRights)) add(calls, 'CNode Mint');
  for (const k of ['Configure', 'SetSchedParams', 'SetFlags', 'SetTimeoutEndpoint', 'WriteRegisters']) add(calls, `TCB ${k}`);
  if (named) add(calls, 'TCB DebugName');
  if (resume) add(calls, 'TCB Resume');
}

/**
 * What the initialiser retypes, as physical sizes in bits (the SDK's object_sizes.json, as the
 * tool's capdl_obj_physical_size_bits uses them), and the addresses of those given one.
 */
function retypedObjects(spec: Spec, sizes: Record<string, number>): { bits: number[]; paddrs: bigint[] } {
  const bits: number[] = [];
  const paddrs: bigint[] = [];
  const fixed: Record<string, number | undefined> = {
    Tcb: sizes['tcb'], Endpoint: sizes['endpoint'], Notification: sizes['notification'], Reply: sizes['reply'], VCpu: sizes['vcpu'], AsidPool: sizes['asid_pool'],
  };
  spec.objects.forEach((o, id) => {
    const [kind, body] = objectKind(o);
    const isRoot = id >= spec.root_objects.start && id < spec.root_objects.end;
    if (!RETYPED.has(kind) || (kind === 'Frame' && embedded(body, isRoot))) return;
    if (body.paddr != null) return void paddrs.push(BigInt(body.paddr));
    const size = kind === 'CNode' ? (body.size_bits ?? 0) + (sizes['slot'] ?? 5)
      : kind === 'PageTable' ? sizes[body.is_root ? 'vspace' : 'page_table'] : fixed[kind] ?? body.size_bits;
    if (size !== undefined) bits.push(size);
  });
  return { bits, paddrs };
}

/**
 * The spec's JSON with every `"bytes": [...]` array emptied: prefilled regions put their files'
 * bytes there one number each, more than a JavaScript string holds; only their ranges are read.
 */
function withoutBytes(json: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  for (let key = json.indexOf('"bytes"', at); key >= 0; key = json.indexOf('"bytes"', at)) {
    const open = json.indexOf('[', key);
    const close = open < 0 ? -1 : json.indexOf(']', open);
    if (close < 0) break;
    parts.push(json.subarray(at, open + 1));
    at = close;
  }
  parts.push(json.subarray(at));
  return Buffer.concat(parts).toString('utf8');
}

/**
 * 2.3.0's tool builds the capDL spec and packs it into the initialiser; it does not report the
 * calls. Run it once more on the synthesised system with --capdl-json (argparse.rs) and count them.
 */
function facts230(r: Release, outDir: string, systemFile: string, tmp: string, config: string): { lines: string[]; objects?: { bits: number[]; paddrs: bigint[] } } {
  const json = path.join(tmp, 'spec.json');
  const run = spawnSync(path.join(r.sdk, 'bin', 'microkit'), [systemFile, '--board', BOARD, '--config', config, '--search-path', outDir,
    '-o', path.join(tmp, 'loader.img'), '-r', path.join(tmp, 'report.txt'), '--capdl-json', json],
    // The tool reads MICROKIT_SDK before its own location: it must name this release's SDK.
    { cwd: outDir, encoding: 'utf8', env: { ...process.env, MICROKIT_SDK: r.sdk } });
  if (run.status !== 0) return { lines: [`capDL spec: the Microkit tool failed (exit ${run.status}): ${(run.stderr || run.stdout).trim().slice(0, 500)}`] };
  const spec = JSON.parse(withoutBytes(readFileSync(json))) as Spec;
  const sizes = JSON.parse(readFileSync(path.join(r.sdk, 'board', BOARD, config, 'object_sizes.json'), 'utf8')) as Record<string, number>;
  const { calls, frames, filledBytes } = initialiserCalls(spec, config === 'debug');
  const said = run.stdout.split('\n').filter((l) => /CAPDL SPEC|INITIAL TASK/.test(l)).map((l) => l.replace(/^MICROKIT\|/, '')).join('; ');
  return {
    lines: [
      `Microkit tool: ${said}`,
      `  frames: ${listCalls(frames)}; filled by copying: ${int(filledBytes)} bytes`,
      `  initialiser seL4 calls counted from the spec: ${int(total(calls))}: ${listCalls(calls)}`,
    ],
    objects: retypedObjects(spec, sizes),
  };
}

/** The program images' loadable segments in 4 KiB pages: what the root task maps one by one. */
function elfPages(outDir: string): string[] {
  const manifest = JSON.parse(readFileSync(path.join(outDir, 'manifest.json'), 'utf8')) as { artefacts: { file: string; kind: string }[] };
  return manifest.artefacts.filter((a) => a.kind.endsWith('program-image')).map((a) => {
    const elf = readElf(readFileSync(path.join(outDir, a.file)));
    const segs = elf.segments.filter((s) => s.type === PT_LOAD).map((s) => {
      const pages = Number((s.vaddr % BigInt(PAGE) + s.memsz + BigInt(PAGE) - 1n) / BigInt(PAGE));
      const rwx = `${s.flags & PF_R ? 'R' : ''}${s.flags & PF_W ? 'W' : ''}${s.flags & PF_X ? 'X' : ''}`;
      return { pages, text: `${int(pages)} ${rwx} at 0x${s.vaddr.toString(16)} (${mib(Number(s.memsz))})` };
    });
    return `${a.file}: ${segs.length} loadable segments, ${int(segs.reduce((n, s) => n + s.pages, 0))} pages of 4 KiB: ${segs.map((s) => s.text).join(', ')}`;
  });
}

/*
 * Memory the kernel zeroes for the root task. seL4 hands the boot untypeds over as full (boot.c
 * provide_untyped_cap: MAX_FREE_INDEX), so the first Untyped_Retype from a normal one resets it,
 * clearing all of it however little is then allocated (untyped.c resetUntypedCap, a preemption
 * point every 2^RESET_CHUNK_BITS = 256 bytes); device untypeds are never cleared.
 */

/** 2.0.1: the normal untypeds the tool's invocations retype from (its report), in bytes. */
function untypedsRetyped(report: string): number {
  const uts = new Set([...report.matchAll(/- Retype +- 0x[0-9a-f]+ \(Untyped @ 0x([0-9a-f]+:0x[0-9a-f]+)\)$/gm)].map((m) => m[1]!));
  return [...uts].reduce((n, u) => n + parseInt(u.split(':')[1]!, 16), 0);
}

/**
 * The normal untypeds at boot: the RAM region the kernel printed, from the end of the root task's
 * image, cut into aligned powers of two (boot.c create_untypeds_for_region). The kernel's own
 * objects for the root task take the top of that region (boot.c init_freemem: "the top-most
 * suitably sized and aligned chunk"), so the last block is never whole: one page is left out.
 */
function bootUntypeds(output: string): { base: bigint; size: bigint }[] | undefined {
  const ram = /vailable phys memory regions: 1\s+\[([0-9a-f]+)\.\.([0-9a-f]+)[\])]/.exec(output);
  const rootTask = /root server: physmem: 0x([0-9a-f]+) -- 0x([0-9a-f]+)/i.exec(output);
  if (!ram || !rootTask) return undefined;
  const end = BigInt(`0x${ram[2]}`) - BigInt(PAGE);
  const uts: { base: bigint; size: bigint }[] = [];
  for (let base = BigInt(`0x${rootTask[2]}`); base < end;) {
    let bits = 0n;
    while (((base >> bits) & 1n) === 0n && (1n << (bits + 1n)) <= end - base) bits++;
    uts.push({ base, size: 1n << bits });
    base += 1n << bits;
  }
  return uts;
}

/**
 * 2.3.0: the untypeds the initialiser touches, in bytes. It retypes the objects without an
 * address from the normal untypeds in address order, at each point the largest object left that
 * the alignment allows, skipping the embedded frames (initialize.rs create_objects); an object
 * with an address touches the untyped it lies in.
 */
function initialiserZeroes(uts: { base: bigint; size: bigint }[], objectBits: number[], paddrs: bigint[]): number {
  const left = new Map<number, number>();
  for (const b of objectBits) left.set(b, (left.get(b) ?? 0) + 1);
  let zeroed = 0n;
  for (const ut of uts) {
    let touched = paddrs.some((p) => p >= ut.base && p < ut.base + ut.size);
    for (let cur = ut.base; cur < ut.base + ut.size;) {
      let fit = 0;
      while (cur % (1n << BigInt(fit + 1)) === 0n && 1n << BigInt(fit + 1) <= ut.base + ut.size - cur) fit++;
      const bits = [...left.keys()].filter((k) => k <= fit && left.get(k)! > 0).sort((x, y) => y - x)[0];
      if (bits === undefined) break;
      left.set(bits, left.get(bits)! - 1);
      cur += 1n << BigInt(bits);
      touched = true;
    }
    if (touched) zeroed += ut.size;
  }
  return Number(zeroed);
}

interface Built {
  release: Release;
  config: 'debug' | 'release';
  args: string[];
  facts: string[];
  /** What the kernel zeroes for the root task, given the boot console (RAM region, root task). */
  zeroed: (output: string) => string;
}

async function buildRelease(root: string, r: Release, work: string, config: 'debug' | 'release' = CONFIG): Promise<Built> {
  const outDir = path.join(work, `${r.version}-${config}`);
  const s = await synthesise({ file: path.join(root, 'examples', 'linux-qemu.ts'), board: BOARD, config, outDir, sdk: r.sdk });
  if (!s.loaderImage) throw new Error(`no loader.img with Microkit ${r.version}: ${s.skipped.map((k) => k.reason).join('; ')}`);
  const systemFile = s.written.find((f) => f.endsWith('.system'))!;
  const args = qemuArgs(s.model.board!, s.loaderImage);
  if (r.version === '2.0.1') {
    const retyped = untypedsRetyped(readFileSync(path.join(outDir, 'report.txt'), 'utf8'));
    return { release: r, config, args, facts: [...facts201(outDir), ...elfPages(outDir)], zeroed: () => `${mib(retyped)} (the normal untypeds the report's invocations retype from)` };
  }
  const capdl = facts230(r, outDir, systemFile, mkdtempSync(path.join(work, 'capdl-')), config);
  const zeroed = (output: string): string => {
    const uts = bootUntypeds(output);
    if (!uts || !capdl.objects) return 'not known (no RAM region or root task in the console)';
    const normal = capdl.objects.paddrs.filter((p) => uts.some((u) => p >= u.base && p < u.base + u.size));
    return `${mib(initialiserZeroes(uts, capdl.objects.bits, normal))} (emulated: the untypeds its allocation touches)`;
  };
  return { release: r, config, args, facts: [...capdl.lines, ...elfPages(outDir)], zeroed };
}

function printTable(title: string, rows: Phase[], boots: Boot[], nativeTotal: number): void {
  console.log(title);
  console.log(`  ${'phase'.padEnd(64)} ${'median'.padStart(9)}  ÷ native  runs (ms)`);
  for (const [label, f] of rows) {
    const xs = boots.map(f).filter((x): x is number => x !== undefined);
    if (xs.length === 0) {
      console.log(`  ${label.padEnd(64)} ${'not seen'.padStart(9)}`);
      continue;
    }
    const m = median(xs);
    console.log(`  ${label.padEnd(64)} ${`${int(m)} ms`.padStart(9)}  ${(m / nativeTotal).toFixed(2).padStart(8)}  ${xs.map(int).join(', ')}`);
  }
}

/** What one release's boots printed besides times: the loader's regions, the VMM's copy, exits. */
function bootFacts(b: Built, boots: Boot[]): string[] {
  const first = boots[0]!.output;
  const regions = loaderRegions(first);
  const rootTask = /root server: physmem: 0x([0-9a-f]+) -- 0x([0-9a-f]+)/i.exec(first);
  const rootPages = rootTask ? (parseInt(rootTask[2]!, 16) - parseInt(rootTask[1]!, 16)) / PAGE : undefined;
  const load = vmmLoadLine(first);
  const exits = boots.map((x) => x.exits).find((e) => e !== undefined);
  return [
    `the kernel zeroes for the ${b.release.rootTask.name}'s retypes: ${b.zeroed(first)}`,
    `loader: copies ${regions.count} regions, ${mib(regions.bytes)}; root task image ${rootPages === undefined ? '?' : `${int(rootPages)} pages of 4 KiB (the kernel makes a cap and a mapping for each at boot)`}`,
    `VMM: ${load ? `copied ${int(load.copied)} bytes into guest RAM (stored ${int(load.stored)}), median ${int(median(boots.map((x) => vmmLoadLine(x.output)?.us ?? 0)))} us` : 'no image-load line (a VMM runtime without it?)'}`,
    `VM exits during boot: ${exits ?? 'not reported'}`,
  ];
}

/**
 * Linux's own part beside the native boot's. Without earlycon Linux prints nothing until its
 * console driver registers, then replays the log: "Booting Linux" marks that moment, not the
 * kernel's entry, so "VM started → first line" is Linux's early boot under the VMM.
 */
function linuxBesideNative(boots: Boot[], native: Boot[]): string {
  const m = (bs: Boot[], from: string | undefined, to: string): number => median(bs.map((b) => (from ? span(b, from, to) : b.at[to]) ?? NaN));
  const early = m(boots, 'vmStarted', 'linux');
  const rest = m(boots, 'linux', 'marker');
  const nEarly = m(native, undefined, 'linux');
  const nRest = m(native, 'linux', 'marker');
  return `Linux under the VMM beside natively: entry → first line ${int(early)} ms vs ${int(nEarly)} ms (natively with QEMU's start-up), first line → marker ${int(rest)} ms vs ${int(nRest)} ms (ratio ${(rest / nRest).toFixed(2)})`;
}

/** A libvmm build to boot beside ours: its loader.img and QEMU argv (built outside this repository). */
interface OtherVmm {
  name: string;
  libvmm: string;
  microkit: string;
  config: string;
  qemu: string[];
}

/**
 * libvmm images listed in LIBVMM_BENCH_IMAGES (a JSON array of { name, libvmm, microkit, config,
 * loader, qemu }), built from au-ts/libvmm beside this repository with the same guest Image,
 * initramfs and bootargs. Only the debug builds, as ours are; none listed is one SKIP line.
 */
function findOtherVmms(): OtherVmm[] {
  const file = process.env['LIBVMM_BENCH_IMAGES'];
  if (!file || !existsSync(file)) {
    console.log('SKIP libvmm beside ours: LIBVMM_BENCH_IMAGES is not set to a list of libvmm images');
    return [];
  }
  const list = JSON.parse(readFileSync(file, 'utf8')) as (OtherVmm & { loader: string })[];
  return list.filter((v) => v.config === CONFIG && existsSync(v.loader));
}

/**
 * Every run side by side: boot to the marker, its ratio to native, the start-up invocations and
 * the VMM's bytes copied. Two ratios: of the medians, and the median of each round's own ratio
 * (ours beside the native boot of the same round), which a host whose speed drifts between
 * rounds moves less.
 */
function printSummary(rows: { name: string; boots: Boot[]; invocations: string; copied: string }[], native: Boot[]): void {
  const nativeMs = native.map((b) => b.at['marker']!);
  const nativeTotal = median(nativeMs);
  console.log(`boot to '${GUEST_MARKER}', median of ${ROUNDS} interleaved rounds (QEMU start to the marker):`);
  console.log(`  ${'run'.padEnd(34)} ${'ms'.padStart(7)} ${'x native'.padStart(9)} ${'per round'.padStart(10)}  start-up invocations   VMM bytes copied`);
  console.log(`  ${'native (QEMU -kernel)'.padEnd(34)} ${int(nativeTotal).padStart(7)} ${'1.00'.padStart(9)} ${'1.00'.padStart(10)}`);
  for (const r of rows) {
    const ms = median(r.boots.map((b) => b.at['marker']!));
    const perRound = median(r.boots.map((b, i) => b.at['marker']! / nativeMs[i]!));
    console.log(`  ${r.name.padEnd(34)} ${int(ms).padStart(7)} ${(ms / nativeTotal).toFixed(2).padStart(9)} ${perRound.toFixed(2).padStart(10)}  ${r.invocations.padEnd(22)} ${r.copied}`);
  }
}

/**
 * One of ours in the summary. The counts do not depend on the timing: bytes the VMM copied (its
 * debug line; a release build prints none, so the same release's debug run stands in: the images
 * and the VMM's code path are the same), and the start-up invocations (2.0.1: the monitor's
 * count, or in release the tool's report; 2.3.0: counted from the capDL spec of that build).
 */
function summaryRow(b: Built, mine: Boot[], builds: Built[], boots: Boot[][]): { name: string; boots: Boot[]; invocations: string; copied: string } {
  const debugRun = builds.findIndex((o) => o.release.version === b.release.version && o.config === 'debug');
  const load = vmmLoadLine(mine[0]!.output) ?? (debugRun >= 0 ? vmmLoadLine(boots[debugRun]![0]!.output) : undefined);
  const copied = load ? `${int(load.copied)}${b.config === 'debug' ? '' : ' (its debug run)'}` : 'n/a';
  const calls = b.facts.map((f) => /calls counted from the spec: ([\d,]+)/.exec(f)?.[1]).find((c) => c !== undefined);
  const reported = b.facts.map((f) => /(\d+) bootstrap \+ ([\d,]+) system invocations/.exec(f)).find((m) => m);
  const monitor = b.release.version === '2.0.1' ? monitorPrintedInvocations(mine[0]!.output) : 'n/a';
  const invocations = b.release.version === '2.0.1'
    ? (monitor !== 'n/a' ? monitor : reported ? `${int(Number(reported[1]) + Number(reported[2]!.replace(/,/g, '')))} (report)` : 'n/a')
    : calls ? `${calls} (spec calls)` : 'n/a';
  return { name: `ours, Microkit ${b.release.version} ${b.config}`, boots: mine, invocations, copied };
}

/** The 2.0.1 monitor's own count (monitor/src/main.c prints both numbers in hex). */
function monitorPrintedInvocations(output: string): string {
  const b = /Number of bootstrap invocations: 0x([0-9a-f]+)/.exec(output);
  const s = /Number of system invocations:\s+0x([0-9a-f]+)/.exec(output);
  return b && s ? `${int(parseInt(b[1]!, 16) + parseInt(s[1]!, 16))} (monitor)` : 'n/a';
}

/**
 * npm run bench: start-up of examples/linux-qemu.ts on each Microkit release present (2.0.1 from
 * MICROKIT_SDK, 2.3.0 from MICROKIT_SDK_2_3_0), the libvmm builds of LIBVMM_BENCH_IMAGES, and
 * natively, ROUNDS boots each, interleaved.
 */
export async function benchStartup(root: string): Promise<void> {
  const guest = path.join(root, '.cache', 'guest');
  if (!findExecutable('qemu-system-aarch64')) return void console.log('SKIP start-up phases: qemu-system-aarch64 missing');
  if (!existsSync(path.join(guest, 'Image'))) return void console.log("SKIP start-up phases: no guest images (run 'npm run guest')");
  const releases = findReleases();
  if (releases.length === 0) return;
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bench-startup-'));
  try {
    const builds: Built[] = [];
    for (const config of CONFIGS) for (const r of releases) builds.push(await buildRelease(root, r, work, config));
    const q = findBoard(loadBoards(), BOARD)!.qemu!;
    const nativeArgs = directKernelBootArgs({
      kernel: path.join(guest, 'Image'), initrd: path.join(guest, 'initramfs.cpio'), append: 'console=ttyAMA0', machine: q.machine, cpu: q.cpu, memory: q.memory,
    });
    const boots = builds.map((): Boot[] => []);
    const others = findOtherVmms();
    const otherBoots = others.map((): Boot[] => []);
    const native: Boot[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const [k, b] of builds.entries()) boots[k]!.push(await bootMarks(b.args, marksFor(b.release), b.config === 'debug'));
      for (const [k, o] of others.entries()) otherBoots[k]!.push(await bootMarks(o.qemu, { linux: 'Booting Linux on physical CPU' }, false));
      native.push(await bootMarks(nativeArgs, { linux: 'Booting Linux on physical CPU' }, false));
    }
    const nativeTotal = median(native.map((b) => b.at['marker']!));
    const order = [...builds.map((b) => `${b.release.version} ${b.config}`), 'native'].join(', ');
    printTable(`start-up of examples/linux-qemu.ts natively (QEMU -kernel, same Image and initramfs), median of ${ROUNDS}:`, NATIVE_PHASES, native, nativeTotal);
    // Only debug builds print seL4's and the VMM's phases; a release build prints nothing before
    // Linux, so its table has Linux's two phases (everything before Linux's first line is seL4's
    // start-up and QEMU's, beside native's QEMU start-up).
    for (const [k, b] of builds.entries()) {
      if (b.config !== 'debug') {
        printTable(`start-up of examples/linux-qemu.ts on Microkit ${b.release.version} (${BOARD}, ${b.config}), median of ${ROUNDS} boots interleaved ${order}:`, NATIVE_PHASES, boots[k]!, nativeTotal);
        continue;
      }
      printTable(`start-up of examples/linux-qemu.ts on Microkit ${b.release.version} (${BOARD}, ${b.config}), median of ${ROUNDS} boots interleaved ${order}:`, phases(b.release), boots[k]!, nativeTotal);
      for (const line of [linuxBesideNative(boots[k]!, native), ...bootFacts(b, boots[k]!), ...b.facts]) console.log(`  ${line}`);
    }
    printSummary(builds.map((b, k) => summaryRow(b, boots[k]!, builds, boots)).concat(others.map((o, k) => ({
      name: `libvmm ${o.libvmm}, Microkit ${o.microkit}`,
      boots: otherBoots[k]!,
      invocations: o.microkit === '2.0.1' ? monitorPrintedInvocations(otherBoots[k]![0]!.output) : 'n/a',
      copied: 'n/a (prints none)',
    }))), native);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
