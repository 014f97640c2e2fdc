// Link the timer PD: the cached timer.elf of the runtime, with the config blob that names its
// time source and its clients (the VMMs it wakes) written into `.timer_config`. Pure.
import { encodeTimerConfig, type TimerConfig } from '../emit/timer-config.js';
import { TIMER_CONFIG_SECTION } from '../abi/timer-config.js';
import type { VmmTimerModel } from '../model/index.js';
import { patchSection } from './elf.js';

export function timerConfigOf(timer: VmmTimerModel): TimerConfig {
  return {
    source: timer.source,
    ...(timer.irq ? { irqChannel: timer.irq.id } : {}),
    ...(timer.tickUs !== undefined ? { tickUs: timer.tickUs } : {}),
    clients: timer.clients.map((c) => ({ channel: c.channel.b.id, slotVaddr: c.timerMap.vaddr })),
  };
}

export function linkTimer(runtimeElf: Uint8Array, timer: VmmTimerModel): Uint8Array {
  return patchSection(runtimeElf, TIMER_CONFIG_SECTION, encodeTimerConfig(timerConfigOf(timer)));
}

/** The VMM side of the same link: where its wake slot is and its channel to the timer PD. */
export function wakeRouteOf(timer: VmmTimerModel | undefined, vm: string): { slotVaddr: bigint; timerChannel: number } | undefined {
  const c = timer?.clients.find((x) => x.vm === vm);
  return c ? { slotVaddr: c.vmmMap.vaddr, timerChannel: c.channel.a.id } : undefined;
}
