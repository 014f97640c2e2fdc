// The timer PD: when a guest's idle vCPUs block (virtualMachine({ idle: 'block' }), the
// default), something must wake them when their virtual timer would fire, and seL4 gives user
// level no timeouts. One PD of ours serves every VMM of the system (the protocol is in
// src/vmm-runtime/include/vmm_wake.h): for each VMM a one-page wake slot, mapped read-write
// into the VMM and read-only into the timer PD, and a channel between the two. All of it is
// ordinary model data: validated, emitted, drawn and compared like the user's own elements.
import type { System } from '../../dsl/system.js';
import type { Board } from '../boards.js';
import { error } from '../diagnostics/index.js';
import {
  newProtectionDomain, type ChannelEndModel, type GuestModel, type IrqModel, type MapModel, type ProtectionDomainModel,
  type VmmTimerClient, type VmmTimerModel,
} from '../model/index.js';
import type { Resolution } from './index.js';
import { DEFAULT_BUDGET } from '../model/facts.js';
import { PAGE_4K } from './ids.js';
import { WAKE_SLOT_REGION_SIZE } from '../abi/wake.js';

export const DEFAULT_VMM_TIMER_NAME = 'vmm_timer';
export const DEFAULT_VMM_TIMER_PRIORITY = 254;
/** sched-tick: the default period, and so the latest a wake-up comes, in µs. */
export const DEFAULT_TICK_US = 1000;
/**
 * sched-tick: the budget per period. A tick reads the counter and the slots and signals the
 * VMMs that are due (a few hundred instructions); 100 µs is ample, and the sporadic server
 * caps the PD at budget/period of the core whatever its clients write into their slots.
 */
export const TICK_BUDGET_US = 100;
/**
 * The timer PD's stack: 4 KiB (the smallest Microkit allows) on every release, written out rather
 * than taken from the release's default, which 2.3.0 raised to 8 KiB.
 */
export const VMM_TIMER_STACK_SIZE = 0x1000n;
export const WAKE_SLOT_SIZE = WAKE_SLOT_REGION_SIZE;

function slotMap(mr: string, perms: string, loc: GuestModel['loc']): MapModel {
  return { mr, vaddr: 0n, perms, cached: true, setvarVaddr: undefined, setvarSize: undefined, loc };
}

function autoEnd(r: Resolution, pd: ProtectionDomainModel, other: string, loc: GuestModel['loc']): ChannelEndModel {
  const end: ChannelEndModel = { pd: pd.name, id: -1, pp: false, notify: true, loc };
  r.autoChannelId(pd, `channel to '${other}'`, loc, (id) => { end.id = id; });
  return end;
}

function physicalTimerIrq(r: Resolution, timer: ProtectionDomainModel, board: Board, loc: VmmTimerModel['loc']): IrqModel | undefined {
  const intid = board.timer.nonSecureIrq;
  if (intid === undefined) {
    r.diagnostics.push(error('vmm-timer-source-unavailable', `board '${board.name}' does not give the EL1 physical timer's interrupt (timer.nonSecureIrq), which vmmTimer source 'arm-ptimer' needs`, loc, {
      hint: `use source: 'sched-tick' (the default), or add timer.nonSecureIrq to ${board.file}`,
    }));
    return undefined;
  }
  const irq = r.irq(timer, { kind: 'irq', irq: intid, id: undefined, trigger: 'level', setvarId: undefined, loc }, 'EL1 physical timer');
  timer.irqs.push(irq);
  return irq;
}

/** Adds the timer PD and its links to every blocking guest's VMM; undefined when no guest blocks. */
export function addVmmTimer(r: Resolution, system: System, board: Board): VmmTimerModel | undefined {
  const blocking = r.guests.filter((g) => g.idle === 'block');
  if (blocking.length === 0) return undefined;
  const opts = system.vmmTimer;
  const source = opts.source ?? 'sched-tick';
  const tickUs = source === 'sched-tick' ? opts.tickUs ?? DEFAULT_TICK_US : undefined;
  const name = opts.name ?? DEFAULT_VMM_TIMER_NAME;
  const loc = system.loc;
  const timer = newProtectionDomain({
    name,
    childId: undefined,
    priority: opts.priority ?? DEFAULT_VMM_TIMER_PRIORITY,
    // A sporadic server (budget below period) for the tick: seL4_Yield then sleeps a period.
    budget: tickUs !== undefined ? TICK_BUDGET_US : DEFAULT_BUDGET,
    period: tickUs ?? DEFAULT_BUDGET,
    passive: false,
    stackSize: VMM_TIMER_STACK_SIZE,
    smc: false,
    programImage: `${name}.elf`,
    loc,
  });
  timer.vmmTimer = true;
  r.rootPds.push(timer);
  const irq = source === 'arm-ptimer' ? physicalTimerIrq(r, timer, board, loc) : undefined;

  const clients: VmmTimerClient[] = [];
  for (const g of blocking) {
    const vmm = r.rootPds.find((p) => p.name === g.vmm);
    if (!vmm) continue;
    const slot = r.generatedRegion({
      name: `${g.vm}_wake_slot`,
      size: WAKE_SLOT_SIZE,
      pageSize: undefined,
      physAddr: undefined,
      shared: true,
      role: { kind: 'wake-slot', vm: g.vm },
      loc: g.loc,
    });
    const vmmMap = slotMap(slot.name, 'rw', g.loc);
    const timerMap = slotMap(slot.name, 'r', g.loc);
    vmm.maps.push(vmmMap);
    timer.maps.push(timerMap);
    r.autoVaddr(vmm, vmmMap, WAKE_SLOT_SIZE, PAGE_4K);
    r.autoVaddr(timer, timerMap, WAKE_SLOT_SIZE, PAGE_4K);
    const channel = { a: autoEnd(r, vmm, name, g.loc), b: autoEnd(r, timer, vmm.name, g.loc), loc: g.loc };
    r.channels.push(channel);
    clients.push({ vm: g.vm, vmm: vmm.name, slotMr: slot.name, channel, vmmMap, timerMap });
  }
  return { pd: name, source, irq, tickUs, clients, loc };
}
