// control(vm, { by: pd }): the PD that may stop, start and restart a VM. It becomes ordinary
// model data, validated, emitted, drawn and compared like the user's own elements: a one-page
// region `<vm>_control` mapped read-write into the VM's VMM and into the PD (whose symbol
// receives its address), and a channel between them. The page's layout is
// src/vmm-runtime/include/vmm_control.h; the VMM's side of it reaches the runtime in its
// config blob (link/image.ts).
import type { System } from '../../dsl/system.js';
import { error } from '../diagnostics/index.js';
import type { ChannelEndModel, MapModel, ProtectionDomainModel, VmControlModel } from '../model/index.js';
import type { Resolution } from './index.js';
import { PAGE_4K } from './ids.js';
import { VMM_CONTROL_PAGE_SIZE } from '../abi/vmm-control.js';

const PAGE_SIZE = BigInt(VMM_CONTROL_PAGE_SIZE);

function pageMap(mr: string, setvarVaddr: string | undefined, loc: VmControlModel['loc']): MapModel {
  return { mr, vaddr: 0n, perms: 'rw', cached: true, setvarVaddr, setvarSize: undefined, loc };
}

function end(r: Resolution, pd: ProtectionDomainModel, id: number | undefined, other: string, loc: VmControlModel['loc']): ChannelEndModel {
  const e: ChannelEndModel = { pd: pd.name, id: id ?? -1, pp: false, notify: true, loc };
  if (id === undefined) r.autoChannelId(pd, `control channel to '${other}'`, loc, (v) => { e.id = v; });
  return e;
}

/** Adds each control() of the system: its page, maps and channel. */
export function addControls(r: Resolution, system: System): VmControlModel[] {
  const out: VmControlModel[] = [];
  for (const c of system.controls) {
    const vmm = r.pdOf(c.vm);
    const by = r.pdOf(c.by);
    const guest = r.guests.find((g) => g.vm === c.vm.name);
    if (!vmm || !by || !guest) {
      const missing = !vmm || !guest ? `virtual machine '${c.vm.name}'` : `protection domain '${c.by.name}'`;
      r.diagnostics.push(error('control-not-in-system', `control(${JSON.stringify(c.vm.name)}): ${missing} is not part of the system`, c.loc, {
        hint: 'add it to system({ virtualMachines: [...] }) or system({ protectionDomains: [...] })',
      }));
      continue;
    }
    const earlier = out.find((o) => o.vm === guest.vm);
    if (earlier) {
      r.diagnostics.push(error('control-twice', `virtual machine '${guest.vm}' has a controller already ('${earlier.by}'); a VM has at most one`, c.loc, {
        notes: [{ message: 'the first control() is here', location: earlier.loc }],
        hint: 'let one PD control it, and have others ask that PD',
      }));
      continue;
    }
    const region = r.generatedRegion({
      name: `${guest.vm}_control`,
      size: PAGE_SIZE,
      pageSize: undefined,
      physAddr: undefined,
      shared: true,
      role: { kind: 'vm-control', vm: guest.vm, by: by.name },
      loc: c.loc,
    });
    const vmmMap = pageMap(region.name, undefined, c.loc);
    const byMap = pageMap(region.name, c.symbol, c.loc);
    vmm.maps.push(vmmMap);
    by.maps.push(byMap);
    r.autoVaddr(vmm, vmmMap, PAGE_SIZE, PAGE_4K);
    r.autoVaddr(by, byMap, PAGE_SIZE, PAGE_4K);
    const channel = { a: end(r, vmm, undefined, by.name, c.loc), b: end(r, by, c.id, vmm.name, c.loc), loc: c.loc };
    r.channels.push(channel);
    out.push({ vm: guest.vm, vmm: vmm.name, by: by.name, mr: region.name, vmmMap, byMap, channel, loc: c.loc });
  }
  return out;
}
