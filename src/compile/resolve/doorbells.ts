// A VM's channels to its peers (native PDs, or other VMs) made usable from Linux: each becomes
// two lines of one emulated PL061 GPIO controller in the guest (docs/doorbell.md). The guest
// writes 1 to the ring line to notify the peer; each notification from the peer is a rising
// edge on the notify line, which a guest program waits for through Linux's GPIO character
// device. The controller's window and SPI are placed after the VM's virtio windows
// (placeVirtioDevices); the regions the VM maps are listed for its device tree.
import { error } from '../diagnostics/index.js';
import { VMM_CONFIG_MAX_DOORBELLS } from '../abi/vmm-config.js';
import type { ChannelEndModel, ChannelModel, DoorbellLineModel, GuestModel, ProtectionDomainModel, SharedRegionModel } from '../model/index.js';
import type { Resolution } from './index.js';
import { PAGE_4K } from './ids.js';

/** The PL061's window: one page (ARM DDI 0190B, 4 KiB of registers). */
export const DOORBELL_WINDOW_SIZE = PAGE_4K;

/** The VMM's end and the peer's, when exactly one end of the channel is this guest's VMM. */
function vmmEnd(ch: ChannelModel, guest: GuestModel): { mine: ChannelEndModel; other: ChannelEndModel } | undefined {
  if (ch.a.pd === guest.vmm && ch.b.pd !== guest.vmm) return { mine: ch.a, other: ch.b };
  if (ch.b.pd === guest.vmm && ch.a.pd !== guest.vmm) return { mine: ch.b, other: ch.a };
  return undefined;
}

/** A peer's name as the user wrote it: a VM's, not its VMM's. */
function peerName(pd: string, guests: readonly GuestModel[]): string {
  return guests.find((g) => g.vmm === pd)?.vm ?? pd;
}

/**
 * The doorbells of every guest, from the user's channels (not the tool's own: links and the
 * timer have channels of their own that the VMM serves otherwise).
 */
export function addDoorbells(r: Resolution, userChannels: readonly ChannelModel[]): void {
  for (const guest of r.guests) {
    const lines: DoorbellLineModel[] = [];
    const used = new Map<string, number>();
    for (const ch of userChannels) {
      const ends = vmmEnd(ch, guest);
      if (!ends) continue;
      if (lines.length === VMM_CONFIG_MAX_DOORBELLS) {
        r.diagnostics.push(error('doorbell-too-many', `virtual machine '${guest.vm}' has more than ${VMM_CONFIG_MAX_DOORBELLS} channels to peers; its VMM gives the guest at most ${VMM_CONFIG_MAX_DOORBELLS} doorbells`, ch.loc, {
          hint: 'carry several kinds of message over one channel (a shared region says which), or split the work across VMs',
        }));
        break;
      }
      const peer = peerName(ends.other.pd, r.guests);
      const n = (used.get(peer) ?? 0) + 1;
      used.set(peer, n);
      const base = n === 1 ? peer : `${peer}-${n}`;
      const k = lines.length;
      lines.push({
        peer, end: ends.mine, ring: ends.mine.notify ? 2 * k : undefined, notify: 2 * k + 1,
        names: { ring: `${base}-ring`, notify: `${base}-notify` }, loc: ch.loc,
      });
    }
    if (lines.length > 0) guest.doorbells = { gpa: 0n, size: DOORBELL_WINDOW_SIZE, intid: 0, lines };
  }
}

/** The regions a VM maps with map(), and who else maps each (for its device tree). */
export function sharedRegionsOf(vm: ProtectionDomainModel, all: readonly ProtectionDomainModel[], guests: readonly GuestModel[], r: Resolution): SharedRegionModel[] {
  const out: SharedRegionModel[] = [];
  for (const m of vm.virtualMachine?.maps ?? []) {
    const region = r.memoryRegions.find((x) => x.name === m.mr);
    if (!region || region.role.kind !== 'user') continue;
    const peers = all.filter((p) => p !== vm && (p.maps.some((x) => x.mr === m.mr) || (p.virtualMachine?.maps ?? []).some((x) => x.mr === m.mr)));
    out.push({ mr: m.mr, gpa: m.vaddr, size: region.size, perms: m.perms, peers: peers.map((p) => peerName(p.name, guests)) });
  }
  return out;
}
