/**
 * A guest's device tree cut from the board's: what a Linux guest may see of the machine when
 * it runs under the VMM with some devices passed through.
 *
 * Kept: the root's properties; `/cpus` with the first `vcpus` CPU nodes (and the caches they
 * name); the architected timer; PSCI (with the conduit the VMM traps); the GIC, its `reg`
 * rewritten to what the VM sees; `/chosen`; the `/aliases` that still point at kept nodes; one
 * `/memory` node for the guest RAM; the passed-through devices with their subtrees and their
 * parent buses (with only the kept children); and the clock, regulator and similar providers
 * those devices name by phandle when the provider is not a device itself (no `reg` anywhere on
 * its path), such as QEMU's `apb-pclk` fixed clock, without which the PL011 driver does not probe.
 * Providers that are hardware (a clock controller with registers) are not passed through
 * implicitly: the guest could not reach their registers, and probing them would fault.
 *
 * What this means for a kept device's references to dropped nodes:
 * - `pinctrl-*`: removed; pin muxing belongs to the firmware or the host, which set it before
 *   the guest starts (a dangling pinctrl phandle makes Linux fail the probe).
 * - `power-domains`: removed; the domain is powered by whoever owns it (a dangling one makes the
 *   probe fail too).
 * - in CPU nodes (`clocks`, `operating-points-v2`, `cpu-idle-states`, supplies): removed; the
 *   VMM does not offer frequency scaling or idle states.
 * - anything else (clocks, resets, DMA, PHYs): kept, and reported, because only the user can
 *   decide to pass the provider through as well.
 * All of these are returned as findings, never thrown.
 */
import type { RuleId } from '../diagnostics/rules.js';
import { GIC } from '../model/facts.js';
import { cloneFdt, DtbError, type Fdt, type FdtNode } from './fdt.js';
import { injectLinuxBoot } from './inject.js';
import { gicVersion, interruptParent } from './interrupts.js';
import { cellsValue, compatibleOf, deleteProp, getProp, propString, setProp, stringListValue, stringValue, u32Value } from './props.js';
import { phandleReferences } from './references.js';
import {
  addNode,
  addressCells,
  aliases,
  baseName,
  findChild,
  findNode,
  phandleIndex,
  phandleOf,
  readReg,
  sizeCells,
  translateAddress,
  untranslateAddress,
  unitAddress,
  walkNodes,
  type NodeRef,
} from './tree.js';

export interface GuestGic {
  version: 2 | 3;
  /** Guest-physical address of the (emulated) distributor. */
  distributor: bigint;
  /** @default the board's distributor size */
  distributorSize?: bigint;
  /** GICv2: guest-physical address where the guest finds its CPU interface (the GICV frame mapped there). */
  cpuInterface?: bigint;
  /** @default the board's GICC size, else 0x2000 */
  cpuInterfaceSize?: bigint;
  /** GICv3: guest-physical address of the (emulated) redistributors. */
  redistributor?: bigint;
  /** @default 0x20000 per vCPU (RD_base + SGI_base frames, GICv3 architecture 12.10) */
  redistributorSize?: bigint;
}

export interface GuestDtbOptions {
  /** Device tree paths (or aliases) of the devices passed through to this VM. */
  keep: string[];
  memory: { base: bigint; size: bigint }[];
  gic: GuestGic;
  vcpus: number;
  /** PSCI conduit written into `/psci`; the VMM handles both. @default 'hvc' */
  psciMethod?: 'hvc' | 'smc';
  bootargs?: string;
  initrd?: { start: bigint; end: bigint };
}

export interface GuestDtbFinding {
  id: RuleId;
  severity: 'warning' | 'note';
  message: string;
  /** The node of the board tree the finding is about. */
  path?: string;
}

export interface GuestDtb {
  tree: Fdt;
  findings: GuestDtbFinding[];
}

const TIMER_COMPATIBLES = ['arm,armv8-timer', 'arm,armv7-timer'];
/** The GICv3 architecture's per-CPU redistributor: RD_base and SGI_base, 64 KiB each. */
const GICV3_REDIST_FRAME = GIC.v3RedistributorStride;
/** /chosen properties dropped: seeds baked into a build artefact are neither random nor reproducible. */
const CHOSEN_DROPPED = ['kaslr-seed', 'rng-seed'];

/** A string property, or undefined when it is absent or not a single string. */
function stringOrUndefined(node: FdtNode, name: string): string | undefined {
  try {
    return propString(node, name);
  } catch {
    return undefined;
  }
}

function isCpu(node: FdtNode): boolean {
  return stringOrUndefined(node, 'device_type') === 'cpu';
}

function hasRegOnPath(ref: NodeRef): boolean {
  for (let r: NodeRef | undefined = ref; r && r.parent; r = r.parent) if (getProp(r.node, 'reg')) return true;
  return false;
}

/** The tree being cut, and what of it is kept. */
interface Cut {
  tree: Fdt;
  index: ReturnType<typeof phandleIndex>;
  refs: Map<FdtNode, NodeRef>;
  /** Nodes kept with their ancestors; `whole` also keeps every descendant. */
  kept: Set<FdtNode>;
  whole: Set<FdtNode>;
  findings: GuestDtbFinding[];
}

function keep(cut: Cut, ref: NodeRef, withSubtree: boolean): void {
  if (withSubtree) cut.whole.add(ref.node);
  for (let r: NodeRef | undefined = ref; r; r = r.parent) cut.kept.add(r.node);
}

export function makeGuestDtb(board: Fdt, options: GuestDtbOptions): GuestDtb {
  const tree = cloneFdt(board);
  const cut: Cut = { tree, index: phandleIndex(tree), refs: new Map(), kept: new Set([tree.root]), whole: new Set(), findings: [] };
  for (const ref of walkNodes(tree)) cut.refs.set(ref.node, ref);

  const keptCpus = keepCpus(cut, options.vcpus);
  const gic = keepPlatform(cut);
  const devices = keepDevices(cut, options.keep, gic);
  pruneTo(cut);
  const present = new Set<FdtNode>([...walkNodes(tree.root)].map((r) => r.node));
  fixCpusAndBuses(cut, keptCpus, devices, gic, present);
  for (const child of tree.root.children) {
    // PSCI conduit: the one the VMM traps.
    if (compatibleOf(child).some((c) => c.startsWith('arm,psci'))) setProp(child, 'method', stringValue(options.psciMethod ?? 'hvc'));
  }
  rewriteGic(gic, options, cut.findings);
  for (const dev of devices) fixDevice(cut, dev, gic, present);
  fixChosenAndAliases(cut, present);

  if (board.memReserve.length > 0) {
    cut.findings.push({ id: 'guest-dt-memreserve-dropped', severity: 'note', message: `the board's ${board.memReserve.length} /memreserve/ entries describe host memory and are not copied` });
  }
  tree.memReserve = [];

  const info: Parameters<typeof injectLinuxBoot>[1] = { memory: options.memory };
  if (options.bootargs !== undefined) info.bootargs = options.bootargs;
  if (options.initrd) info.initrd = options.initrd;
  return { tree: injectLinuxBoot(tree, info), findings: cut.findings };
}

/** The first `vcpus` CPU nodes, with the caches they name (and those name in turn). */
function keepCpus(cut: Cut, vcpus: number): FdtNode[] {
  if (!Number.isInteger(vcpus) || vcpus < 1) {
    throw new DtbError('dt-bad-vcpus', `a virtual machine needs at least one vCPU, not ${vcpus}`);
  }
  const cpus = findChild(cut.tree.root, 'cpus');
  if (!cpus) throw new DtbError('dt-no-node', 'the board device tree has no /cpus node');
  const cpuNodes = cpus.children.filter(isCpu);
  if (cpuNodes.length < vcpus) {
    throw new DtbError('dt-bad-vcpus', `the virtual machine has ${vcpus} vCPUs but the board's /cpus lists ${cpuNodes.length} CPUs`);
  }
  cut.kept.add(cpus);
  const keptCpus = cpuNodes.slice(0, vcpus);
  for (const cpu of keptCpus) {
    cut.kept.add(cpu);
    const queue = [cpu];
    while (queue.length > 0) {
      const n = queue.pop()!;
      for (const r of phandleReferences(n, cut.index)) {
        if (r.prop === 'next-level-cache' && r.target && !cut.kept.has(r.target.node)) {
          keep(cut, r.target, true);
          queue.push(r.target.node);
        }
      }
    }
  }
  return keptCpus;
}

/** Timer, PSCI, /chosen, /aliases, and the GIC the root's interrupts go to (returned). */
function keepPlatform(cut: Cut): NodeRef {
  const root = cut.tree.root;
  for (const child of root.children) {
    const compat = compatibleOf(child);
    if (compat.some((c) => TIMER_COMPATIBLES.includes(c))) cut.kept.add(child);
    if (compat.some((c) => c.startsWith('arm,psci'))) cut.kept.add(child);
    if (child.name === 'chosen' || child.name === 'aliases') cut.kept.add(child);
  }
  const gics = [...cut.refs.values()].filter((r) => gicVersion(r.node) !== undefined);
  const rootIrqParent = interruptParent(cut.tree, { node: root, path: '/', parent: undefined });
  const gic = gics.find((g) => g.node === rootIrqParent?.node) ?? gics[0];
  if (!gic) throw new DtbError('dt-no-gic', 'the board device tree has no Arm GIC node (compatible arm,gic-v3, arm,gic-400, arm,cortex-a15-gic, ...)');
  keep(cut, gic, false);
  return gic;
}

/** The passed-through devices, and the providers they name that are not hardware themselves. */
function keepDevices(cut: Cut, paths: readonly string[], gic: NodeRef): NodeRef[] {
  const devices: NodeRef[] = [];
  for (const path of paths) {
    const found = findNode(cut.tree, path);
    if (!found) throw new DtbError('dt-no-node', `the passthrough device ${path} is not in the board device tree`);
    if (!found.parent) throw new DtbError('dt-bad-passthrough', 'the root node cannot be passed through');
    const ref = cut.refs.get(found.node)!;
    devices.push(ref);
    keep(cut, ref, true);
  }
  const queue = devices.flatMap((d) => [...walkNodes(d.node)].map((r) => r.node));
  while (queue.length > 0) {
    const node = queue.pop()!;
    for (const r of phandleReferences(node, cut.index)) {
      if (!r.target || cut.kept.has(r.target.node) || r.prop === 'interrupt-parent' || r.prop.startsWith('pinctrl-')) continue;
      if (r.prop === 'interrupts-extended' && r.target.node === gic.node) continue;
      if (hasRegOnPath(r.target)) continue;
      keep(cut, r.target, true);
      queue.push(...[...walkNodes(r.target.node)].map((x) => x.node));
    }
  }
  return devices;
}

function pruneTo(cut: Cut): void {
  const prune = (node: FdtNode): void => {
    if (cut.whole.has(node)) return;
    node.children = node.children.filter((c) => cut.kept.has(c) || cut.whole.has(c));
    node.children.forEach(prune);
  };
  prune(cut.tree.root);
}

/**
 * CPUs start through PSCI (the VMM offers nothing else); buses kept only to hold a device lose
 * their own references to what is gone (an SoC node's nvmem-cells, say).
 */
function fixCpusAndBuses(cut: Cut, keptCpus: FdtNode[], devices: NodeRef[], gic: NodeRef, present: Set<FdtNode>): void {
  for (const cpu of keptCpus) {
    setProp(cpu, 'enable-method', stringValue('psci'));
    deleteProp(cpu, 'cpu-release-addr');
    for (const r of phandleReferences(cpu, cut.index)) {
      if (!r.target || !present.has(r.target.node)) dropReference(cpu, r.prop);
    }
  }
  const deviceNodes = new Set(devices.flatMap((d) => [...walkNodes(d.node)].map((x) => x.node)));
  for (const ref of walkNodes(cut.tree)) {
    if (deviceNodes.has(ref.node) || keptCpus.includes(ref.node) || cut.whole.has(ref.node) || ref.node === gic.node) continue;
    const dangling = phandleReferences(ref.node, cut.index).filter((x) => !x.target || !present.has(x.target.node));
    for (const prop of new Set(dangling.map((x) => x.prop))) {
      dropReference(ref.node, prop);
      cut.findings.push({ id: 'guest-dt-reference-removed', severity: 'note', path: ref.path, message: `${ref.path}: ${prop} referred to nodes that are not passed through; removed` });
    }
  }
}

/** A kept device: references to nodes that are gone, its status, its interrupt parent. */
function fixDevice(cut: Cut, dev: NodeRef, gic: NodeRef, present: Set<FdtNode>): void {
  for (const sub of walkNodes(dev.node)) fixDanglingReferences(cut, sub.node, sub.path === '/' ? dev.path : dev.path + sub.path, present);
  const status = stringOrUndefined(dev.node, 'status');
  if (getProp(dev.node, 'status') && status !== 'okay') {
    setProp(dev.node, 'status', stringValue('okay'));
    cut.findings.push({ id: 'guest-dt-enabled', severity: 'note', path: dev.path, message: `${dev.path}: status was "${status ?? '?'}" in the board tree; set to "okay" for the guest` });
  }
  try {
    const parent = getProp(dev.node, 'interrupts') ? interruptParent(cut.tree, dev) : undefined;
    if (parent && parent.node !== gic.node) {
      cut.findings.push({
        id: 'guest-dt-interrupt-parent',
        severity: 'warning',
        path: dev.path,
        message: `${dev.path}: its interrupt parent ${parent.path} is not the GIC; ${present.has(parent.node) ? 'the VMM only forwards GIC interrupts' : 'that controller is not passed through'}`,
      });
    }
  } catch (err) {
    if (!(err instanceof DtbError)) throw err;
    cut.findings.push({ id: 'guest-dt-interrupts', severity: 'warning', path: dev.path, message: `${dev.path}: ${err.message}` });
  }
}

/** pinctrl and power domains the guest cannot have are removed; other dangling references are reported. */
function fixDanglingReferences(cut: Cut, node: FdtNode, path: string, present: Set<FdtNode>): void {
  const dangling = phandleReferences(node, cut.index).filter((r) => !r.target || !present.has(r.target.node));
  if (dangling.some((r) => r.prop.startsWith('pinctrl-'))) {
    for (const p of [...node.props]) if (p.name.startsWith('pinctrl-')) deleteProp(node, p.name);
    cut.findings.push({ id: 'guest-dt-pinctrl-removed', severity: 'note', path, message: `${path}: pinctrl properties removed; the pins must be muxed by firmware or the host before the guest starts` });
  }
  if (dangling.some((r) => r.prop === 'power-domains')) {
    deleteProp(node, 'power-domains');
    deleteProp(node, 'power-domain-names');
    cut.findings.push({ id: 'guest-dt-power-domain-removed', severity: 'note', path, message: `${path}: power-domains removed; the domain must be powered by whoever owns it` });
  }
  const reported = new Set<string>();
  for (const r of dangling) {
    if (r.prop.startsWith('pinctrl-') || r.prop === 'power-domains') continue;
    const target = r.target ? r.target.path : `phandle 0x${r.phandle.toString(16)} (no such node)`;
    if (reported.has(`${r.prop} ${target}`)) continue;
    reported.add(`${r.prop} ${target}`);
    cut.findings.push({
      id: 'guest-dt-dangling-reference',
      severity: 'warning',
      path,
      message: `${path}: ${r.prop} refers to ${target}, which is not passed through; the guest driver may fail to probe`,
    });
  }
}

/** /chosen loses seeds and a stdout-path to a device the guest does not have; /aliases to removed nodes go. */
function fixChosenAndAliases(cut: Cut, present: Set<FdtNode>): void {
  const root = cut.tree.root;
  const chosen = findChild(root, 'chosen');
  if (chosen) {
    for (const p of CHOSEN_DROPPED) deleteProp(chosen, p);
    const stdout = stringOrUndefined(chosen, 'stdout-path');
    if (stdout !== undefined) {
      const target = findNode(cut.tree, stdout.split(':')[0]!);
      if (!target || !present.has(target.node)) {
        deleteProp(chosen, 'stdout-path');
        cut.findings.push({ id: 'guest-dt-stdout-removed', severity: 'note', path: '/chosen', message: `/chosen: stdout-path "${stdout}" names a device that is not passed through; removed` });
      }
    }
  }
  const aliasNode = findChild(root, 'aliases');
  if (aliasNode) {
    for (const [name, path] of aliases(cut.tree)) {
      const target = findNode(cut.tree, path);
      if (!target || !present.has(target.node)) deleteProp(aliasNode, name);
    }
  }
}

/** Deletes a reference property and its `-names` companion (`clocks` → `clock-names`). */
function dropReference(node: FdtNode, prop: string): void {
  deleteProp(node, prop);
  if (prop.endsWith('s')) deleteProp(node, `${prop.slice(0, -1)}-names`);
}

/** The GIC as the VM sees it: the emulated distributor, and the GICV frame or the redistributors. */
function rewriteGic(gic: NodeRef, options: GuestDtbOptions, findings: GuestDtbFinding[]): void {
  const node = gic.node;
  const want = options.gic;
  const board = readReg(gic);
  const boardVersion = gicVersion(node);
  if (boardVersion !== want.version) {
    setProp(node, 'compatible', stringListValue([want.version === 3 ? 'arm,gic-v3' : 'arm,cortex-a15-gic']));
    findings.push({
      id: 'guest-dt-gic-version',
      severity: 'warning',
      path: gic.path,
      message: `${gic.path}: the board's GIC is version ${boardVersion}, the virtual machine's is ${want.version}; compatible rewritten`,
    });
  }
  const regions: [bigint, bigint][] = [[want.distributor, want.distributorSize ?? board[0]?.size ?? 0x10000n]];
  if (want.version === 2) {
    if (want.cpuInterface === undefined) throw new DtbError('dt-bad-gic', 'a GICv2 virtual machine needs the guest address of its CPU interface');
    regions.push([want.cpuInterface, want.cpuInterfaceSize ?? board[1]?.size ?? 0x2000n]);
  } else {
    if (want.redistributor === undefined) throw new DtbError('dt-bad-gic', 'a GICv3 virtual machine needs the guest address of its redistributors');
    regions.push([want.redistributor, want.redistributorSize ?? GICV3_REDIST_FRAME * BigInt(options.vcpus)]);
  }
  // The guest sees the GIC at the same CPU addresses; on a bus that is not one to one (the
  // Raspberry Pi 4's /soc), reg holds the bus addresses that translate to them.
  const bus = regions.map(([a, s]): [bigint, bigint] => {
    const b = untranslateAddress(gic, a);
    if (b === undefined || translateAddress(gic, b) !== a) {
      throw new DtbError('dt-bad-gic', `${gic.path} sits on a bus that does not map 0x${a.toString(16)}; the guest GIC address cannot be expressed there`);
    }
    return [b, s];
  });
  const parent = gic.parent!.node;
  const ac = addressCells(parent);
  const sc = sizeCells(parent);
  setProp(node, 'reg', cellsValue(bus.flatMap(([a, s]) => [[a, ac] as const, [s, sc] as const])));
  // The guest has no virtualisation extensions (no maintenance interrupt, no GICH/GICV) and the
  // VMM emulates neither the GICv2m MSI frame nor a GICv3 ITS, so their parts go.
  for (const p of ['interrupts', 'ranges', '#redistributor-regions', 'redistributor-stride', 'msi-controller', 'mbi-ranges']) deleteProp(node, p);
  node.children = [];
  if (unitAddress(node.name) !== undefined) {
    const renamed = `${baseName(node.name)}@${bus[0]![0].toString(16)}`;
    const siblings = gic.parent!.node.children;
    if (!siblings.some((c) => c !== node && c.name === renamed)) node.name = renamed;
  }
}

/** A virtio-mmio device the VMM plays: its window and its SPI. */
export interface GuestVirtioNode {
  gpa: bigint;
  size: bigint;
  intid: number;
}

/**
 * Adds a `virtio,mmio` node under / for each device (Linux
 * Documentation/devicetree/bindings/virtio/mmio.yaml: reg, interrupts, dma-coherent since the
 * "DMA" is the VMM's cached access to guest RAM), in order, so Linux numbers them as listed.
 * The interrupt is an SPI of the tree's GIC (#interrupt-cells = 3: type 0 = SPI, level-high 4).
 */
export function addVirtioNodes(tree: Fdt, devices: readonly GuestVirtioNode[]): void {
  if (devices.length === 0) return;
  const phandle = gicPhandle(tree, 'the virtio devices\' interrupts');
  const root = tree.root;
  const ac = addressCells(root);
  const sc = sizeCells(root);
  for (const d of devices) {
    const node = addNode(root, `virtio_mmio@${d.gpa.toString(16)}`);
    setProp(node, 'compatible', stringValue('virtio,mmio'));
    setProp(node, 'reg', cellsValue([[d.gpa, ac], [d.size, sc]]));
    setProp(node, 'interrupt-parent', u32Value(phandle));
    setProp(node, 'interrupts', u32Value(0, d.intid - 32, 4));
    setProp(node, 'dma-coherent', new Uint8Array(0));
  }
}

/** A phandle no node of the tree has yet. */
export function freePhandle(tree: Fdt): number {
  return Math.max(0, ...[...walkNodes(tree)].map((r) => phandleOf(r.node) ?? 0)) + 1;
}

/** The phandle of the tree's GIC (given one if it has none), for a node's interrupt-parent. */
export function gicPhandle(tree: Fdt, forWhat: string): number {
  const gic = [...walkNodes(tree)].find((r) => gicVersion(r.node) !== undefined);
  if (!gic) throw new DtbError('dt-no-gic', `the guest device tree has no Arm GIC node for ${forWhat}`);
  let phandle = phandleOf(gic.node);
  if (phandle === undefined) {
    phandle = freePhandle(tree);
    setProp(gic.node, 'phandle', u32Value(phandle));
  }
  return phandle;
}
