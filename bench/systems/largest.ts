// The largest system Microkit 2.0.1 allows in the dimensions that cost us the most: 63 protection
// domains (the maximum), every pair joined by a channel (62 channel ids in each PD: all of them),
// and 32 private plus one shared mapping in each PD.
import { channel, kib, map, memoryRegion, protectionDomain, system } from 'sel4cp-synth';

const PDS = 63;
const MAPS_PER_PD = 32;

const shared = memoryRegion('shared', { size: kib(64), shared: true });
const pds = Array.from({ length: PDS }, (_, i) => protectionDomain(`pd${i}`, {
  program: 'pd.elf',
  priority: 1 + i,
  maps: [
    map(shared, { perms: 'r' }),
    ...Array.from({ length: MAPS_PER_PD }, (_, j) => map(memoryRegion(`pd${i}_buf${j}`, { size: kib(4) }))),
  ],
}));

const channels = pds.flatMap((a, i) => pds.slice(i + 1).map((b) => channel(a, b)));

export default system({ name: 'largest', protectionDomains: pds, channels });
