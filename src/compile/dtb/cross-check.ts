/**
 * Board facts (boards/*.json, parsed into bigints) checked against the board's own device tree.
 * Disagreements are returned as findings; the caller decides how loud to be.
 */
import type { RuleId } from '../diagnostics/rules.js';
import { DtbError, type Fdt } from './fdt.js';
import { deviceGicInterrupts, gicVersion, readInterrupts, type InterruptSpec } from './interrupts.js';
import { compatibleOf } from './props.js';
import { findNode, readRegPhysical, walkNodes, type NodeRef, type RegEntry } from './tree.js';

interface Range {
  paddr: bigint;
  size: bigint;
}

/** The subset of a parsed board description that can be checked against a DTB. */
export interface BoardFacts {
  gic: {
    version: 2 | 3;
    distributor: Range;
    cpuInterface?: Range | undefined;
    hypervisorInterface?: Range | undefined;
    virtualCpuInterface?: Range | undefined;
    redistributor?: Range | undefined;
    maintenanceIrq?: number | undefined;
  };
  timer?: { virtualIrq: number; nonSecureIrq?: number | undefined } | undefined;
  devices: {
    name: string;
    paddr: bigint;
    size: bigint;
    irqs: { irq: number; trigger: 'level' | 'edge' }[];
    dtPath?: string | undefined;
    compatible?: string[] | undefined;
  }[];
}

export interface CrossCheckFinding {
  id: RuleId;
  severity: 'error' | 'warning';
  /** The board fact, as a JSON path (`gic.distributor`, `devices[2].irqs`). */
  fact: string;
  message: string;
  dtPath?: string;
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function irqList(specs: InterruptSpec[]): { irq: number; trigger: string }[] {
  return specs.flatMap((s) => (s.gic ? [{ irq: s.gic.intid, trigger: s.gic.trigger }] : []));
}

function show(irqs: { irq: number; trigger: string }[]): string {
  return irqs.length === 0 ? 'none' : irqs.map((i) => `${i.irq} (${i.trigger})`).join(', ');
}

/** Compares a board description with the board's DTB; an empty list means they agree. */
export function crossCheckBoard(tree: Fdt, board: BoardFacts): CrossCheckFinding[] {
  const out: CrossCheckFinding[] = [];
  const add = (f: CrossCheckFinding): void => {
    out.push(f);
  };
  const guard = (fact: string, dtPath: string | undefined, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof DtbError)) throw err;
      add({ id: 'board-dt-unreadable', severity: 'error', fact, message: err.message, ...(dtPath ? { dtPath } : {}) });
    }
  };

  // GIC.
  const gic = [...walkNodes(tree)].find((r) => gicVersion(r.node) !== undefined);
  if (!gic) {
    add({ id: 'board-dt-no-gic', severity: 'error', fact: 'gic', message: 'the board DTB has no Arm GIC node' });
  } else {
    guard('gic', gic.path, () => checkGic(gic, board, tree, add));
  }

  // Timer PPIs: secure, non-secure, virtual, hypervisor (arm,arch_timer binding order).
  const timer = tree.root.children.find((c) => compatibleOf(c).some((x) => x === 'arm,armv8-timer' || x === 'arm,armv7-timer'));
  if (board.timer && timer) {
    const ref = { node: timer, path: `/${timer.name}`, parent: { node: tree.root, path: '/', parent: undefined } };
    guard('timer', ref.path, () => {
      const irqs = irqList(readInterrupts(tree, ref));
      const checks: [string, number | undefined, number][] = [
        ['timer.nonSecureIrq', board.timer!.nonSecureIrq, 1],
        ['timer.virtualIrq', board.timer!.virtualIrq, 2],
      ];
      for (const [fact, want, i] of checks) {
        if (want === undefined) continue;
        const got = irqs[i]?.irq;
        if (got !== want) add({ id: 'board-dt-timer-irq', severity: 'error', fact, dtPath: ref.path, message: `${fact} is ${want}, the DTB's timer gives ${got ?? 'nothing'}` });
      }
    });
  }

  // Devices.
  board.devices.forEach((dev, i) => {
    const fact = `devices[${i}]`;
    if (dev.dtPath === undefined) return;
    const ref = findNode(tree, dev.dtPath);
    if (!ref) {
      add({ id: 'board-dt-no-node', severity: 'error', fact: `${fact}.dtPath`, message: `device '${dev.name}': the DTB has no node ${dev.dtPath}` });
      return;
    }
    guard(fact, ref.path, () => checkDevice(tree, ref, dev, fact, add));
  });
  return out;
}

function checkRange(fact: string, dtPath: string, want: Range | undefined, got: RegEntry | undefined, add: (f: CrossCheckFinding) => void): void {
  if (!want) return;
  if (!got) {
    add({ id: 'board-dt-missing-reg', severity: 'error', fact, dtPath, message: `${fact} is ${hex(want.paddr)}, but ${dtPath} has no such reg entry` });
    return;
  }
  if (got.address !== want.paddr) {
    add({ id: 'board-dt-address', severity: 'error', fact, dtPath, message: `${fact} is at ${hex(want.paddr)}, the DTB's ${dtPath} says ${hex(got.address)}` });
  } else if (got.size !== want.size) {
    add({ id: 'board-dt-size', severity: 'warning', fact, dtPath, message: `${fact} is ${hex(want.size)} bytes, the DTB's ${dtPath} says ${hex(got.size)}` });
  }
}

function checkGic(gic: NodeRef, board: BoardFacts, tree: Fdt, add: (f: CrossCheckFinding) => void): void {
  const version = gicVersion(gic.node);
  if (version !== board.gic.version) {
    add({ id: 'board-dt-gic-version', severity: 'error', fact: 'gic.version', dtPath: gic.path, message: `gic.version is ${board.gic.version}, the DTB's ${gic.path} is a GICv${version}` });
    return;
  }
  const reg = readRegPhysical(gic);
  checkRange('gic.distributor', gic.path, board.gic.distributor, reg[0], add);
  if (version === 2) {
    checkRange('gic.cpuInterface', gic.path, board.gic.cpuInterface, reg[1], add);
    checkRange('gic.hypervisorInterface', gic.path, board.gic.hypervisorInterface, reg[2], add);
    checkRange('gic.virtualCpuInterface', gic.path, board.gic.virtualCpuInterface, reg[3], add);
  } else {
    checkRange('gic.redistributor', gic.path, board.gic.redistributor, reg[1], add);
  }
  if (board.gic.maintenanceIrq !== undefined) {
    const irqs = irqList(readInterrupts(tree, gic));
    if (irqs[0]?.irq !== board.gic.maintenanceIrq) {
      add({
        id: 'board-dt-gic-maintenance-irq',
        severity: 'error',
        fact: 'gic.maintenanceIrq',
        dtPath: gic.path,
        message: `gic.maintenanceIrq is ${board.gic.maintenanceIrq}, the DTB's ${gic.path} gives ${irqs[0]?.irq ?? 'none'}`,
      });
    }
  }
}

function checkDevice(tree: Fdt, ref: NodeRef, dev: BoardFacts['devices'][number], fact: string, add: (f: CrossCheckFinding) => void): void {
  const reg = readRegPhysical(ref)[0];
  if (!reg) {
    add({ id: 'board-dt-missing-reg', severity: 'error', fact, dtPath: ref.path, message: `device '${dev.name}': ${ref.path} has no reg` });
  } else if (reg.address < dev.paddr || reg.address + reg.size > dev.paddr + dev.size) {
    add({
      id: 'board-dt-address',
      severity: 'error',
      fact: `${fact}.paddr`,
      dtPath: ref.path,
      message: `device '${dev.name}': the board maps [${hex(dev.paddr)}, +${hex(dev.size)}), which does not cover the DTB's reg [${hex(reg.address)}, +${hex(reg.size)})`,
    });
  }
  const got = deviceGicInterrupts(tree, ref).filter((g) => g.kind === 'spi').map((g) => ({ irq: g.intid, trigger: g.trigger }));
  const want = dev.irqs.map((q) => ({ irq: q.irq, trigger: q.trigger as string }));
  const sameIrqs = got.length === want.length && got.every((g, i) => g.irq === want[i]!.irq);
  if (!sameIrqs) {
    add({ id: 'board-dt-irqs', severity: 'error', fact: `${fact}.irqs`, dtPath: ref.path, message: `device '${dev.name}': the board lists IRQs ${show(want)}, the DTB gives ${show(got)}` });
  } else if (got.some((g, i) => g.trigger !== 'unspecified' && g.trigger !== want[i]!.trigger)) {
    add({ id: 'board-dt-trigger', severity: 'warning', fact: `${fact}.irqs`, dtPath: ref.path, message: `device '${dev.name}': the board lists triggers ${show(want)}, the DTB gives ${show(got)}` });
  }
  if (dev.compatible && dev.compatible.length > 0) {
    const compat = compatibleOf(ref.node);
    if (dev.compatible.join('\n') !== compat.join('\n')) {
      add({ id: 'board-dt-compatible', severity: 'warning', fact: `${fact}.compatible`, dtPath: ref.path, message: `device '${dev.name}': the board says compatible ${JSON.stringify(dev.compatible)}, the DTB ${JSON.stringify(compat)}` });
    }
  }
}

