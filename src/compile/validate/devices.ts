// Devices reachable from more than one PD or VM. Two owners of one UART is the classic mistake
// of hand-written systems (each believes it owns the hardware); sharing must be said out loud.
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { mappingContexts, type SystemModel } from '../model/index.js';
import { inBoardRam } from './maps.js';

export function checkDevices(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const users = new Map<string, { who: string; loc: SystemModel['memoryRegions'][number]['loc'] }[]>();
  for (const ctx of mappingContexts(system)) {
    for (const m of ctx.maps) {
      const list = users.get(m.mr) ?? [];
      const who = `${ctx.kind} '${ctx.name}'`;
      // A VMM mapping its own guest's RAM is not sharing with a third party.
      if (!list.some((u) => u.who === who)) list.push({ who, loc: m.loc });
      users.set(m.mr, list);
    }
  }
  for (const mr of system.memoryRegions) {
    const isDevice = mr.role.kind === 'device' || (mr.role.kind === 'user' && mr.physAddr !== undefined && (system.board ? !inBoardRam(system, mr.physAddr) : true));
    if (!isDevice || mr.shared) continue;
    const list = users.get(mr.name) ?? [];
    if (list.length < 2) continue;
    const [firstUser, ...others] = list;
    const make = system.source === 'typescript' ? error : warning;
    out.push(make('device-shared', `device region '${mr.name}' is reachable from ${list.map((u) => u.who).join(' and ')}`, others[0]!.loc, {
      notes: [{ message: `${firstUser!.who} maps it here`, location: firstUser!.loc }, { message: `'${mr.name}' is declared here`, location: mr.loc }],
      hint: system.source === 'typescript'
        ? 'give the device to one owner, or declare the region shared: memoryRegion(name, { ..., shared: true })'
        : 'give the device to one owner; two drivers of one device corrupt each other\'s state',
    }));
  }
  return out;
}
