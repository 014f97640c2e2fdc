// Channels: ends name PDs of the system, ids are in range and unique within each PD (shared with
// its IRQs), and protected procedure calls go one way, to a strictly higher priority.
import { error, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type Loc, type SystemModel } from '../model/index.js';
import { LIMITS } from './common.js';

export function checkChannels(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const pds = new Map(allProtectionDomains(system).map((pd) => [pd.name, pd] as const));
  const used = new Map<string, Map<number, { what: string; loc: Loc }>>();
  const useId = (pd: string, id: number, what: string, loc: Loc): void => {
    let ids = used.get(pd);
    if (!ids) used.set(pd, (ids = new Map()));
    const prev = ids.get(id);
    if (prev) {
      out.push(error('duplicate-channel-id', `channel id ${id} in '${pd}' is used by ${what} and by ${prev.what}`, loc, {
        notes: [{ message: `${prev.what} is here`, location: prev.loc }],
        hint: "IRQs and channel ends share one id space per protection domain; leave 'id' out to have one allocated",
      }));
    } else {
      ids.set(id, { what, loc });
    }
  };
  for (const pd of pds.values()) for (const q of pd.irqs) if (q.id >= 0) useId(pd.name, q.id, `irq ${q.irq}`, q.loc);

  for (const ch of system.channels) {
    for (const [e, other] of [[ch.a, ch.b], [ch.b, ch.a]] as const) {
      if (!pds.has(e.pd)) {
        out.push(error('channel-unknown-pd', `channel end names protection domain '${e.pd}', which does not exist`, e.loc));
      }
      if (!Number.isInteger(e.id) || e.id < 0 || e.id > LIMITS.maxChannelId) {
        out.push(error('channel-id-out-of-range', `channel end in '${e.pd}' has id ${e.id}; it must be between 0 and ${LIMITS.maxChannelId}`, e.loc));
      } else {
        useId(e.pd, e.id, `the channel to '${other.pd}'`, e.loc);
      }
    }
    if (ch.a.pp && ch.b.pp) {
      out.push(error('channel-pp-both-ways', `channel between '${ch.a.pd}' and '${ch.b.pd}' has pp on both ends`, ch.loc, {
        hint: 'protected procedure calls go one way: from the lower to the strictly higher priority PD',
      }));
      continue;
    }
    for (const [caller, callee] of [[ch.a, ch.b], [ch.b, ch.a]] as const) {
      if (!caller.pp) continue;
      const from = pds.get(caller.pd);
      const to = pds.get(callee.pd);
      if (from && to && from.priority >= to.priority) {
        out.push(error('channel-pp-priority', `'${caller.pd}' (priority ${from.priority}) makes protected procedure calls to '${callee.pd}' (priority ${to.priority}), which is not of strictly higher priority`, caller.loc, {
          notes: [{ message: `'${callee.pd}' is declared here`, location: to.loc }],
          hint: `raise '${callee.pd}' above ${from.priority}, or lower '${caller.pd}'`,
        }));
      }
    }
  }
  return out;
}
