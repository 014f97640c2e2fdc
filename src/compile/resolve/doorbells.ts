// A VM's channels to its peers (native PDs, or other VMs) made usable from Linux: each becomes
// two lines of one emulated PL061 GPIO controller in the guest (docs/doorbell.md). The guest
// writes 1 to the ring line to notify the peer; each notification from the peer is a rising
// edge on the notify line, which a guest program waits for through Linux's GPIO character
// device. The controller's SPI follows the VM's virtio devices' (placeVirtioDevices); its window
// is the first page after their windows that no mapping or emulated frame of the VM occupies
// (placeDoorbells), so a doorbell never lands on a buffer the user placed after guest RAM. The
// regions the VM maps are listed for its device tree.
import { error } from '../diagnostics/index.js';
import { VMM_CONFIG_MAX_DOORBELLS } from '../abi/vmm-config.js';
import type { ChannelEndModel, ChannelModel, DoorbellLineModel, GuestModel, ProtectionDomainModel, SharedRegionModel } from '../model/index.js';
import type { Resolution } from './index.js';
import type { Board } from '../boards.js';
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

/**
 * Moves each guest's PL061 window (placed after its virtio windows) past whatever the VM already
 * has in guest-physical space: its mappings (RAM, GIC CPU interface, devices, user regions), the
 * emulated GIC and devices, and the virtio windows.
 */
export function placeDoorbells(r: Resolution, board: Board): void {
  const pds = [...r.rootPds];
  for (const g of r.guests) {
    const db = g.doorbells;
    if (!db) continue;
    const vm = pds.find((p) => p.name === g.vmm)?.virtualMachine;
    const taken: [bigint, bigint][] = [
      ...(vm?.maps ?? []).map((m): [bigint, bigint] => [m.vaddr, r.memoryRegions.find((x) => x.name === m.mr)?.size ?? PAGE_4K]),
      ...g.emulated.map((e): [bigint, bigint] => [e.gpa, e.size]),
      ...g.virtio.map((d): [bigint, bigint] => [d.gpa, d.size]),
      [board.guest.gicDistributor, board.gic.distributor.size],
      ...(board.guest.gicRedistributor !== undefined && board.gic.redistributor ? [[board.guest.gicRedistributor, board.gic.redistributor.size] as [bigint, bigint]] : []),
    ];
    let gpa = db.gpa;
    for (let moved = true; moved;) {
      moved = false;
      for (const [base, size] of taken) {
        if (gpa < base + size && base < gpa + db.size) {
          gpa = (base + size + PAGE_4K - 1n) / PAGE_4K * PAGE_4K;
          moved = true;
        }
      }
    }
    db.gpa = gpa;
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
