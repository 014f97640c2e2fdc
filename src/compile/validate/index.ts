// Validate: every rule family runs on the whole model and all problems come back together.
import type { Diagnostic } from '../diagnostics/index.js';
import type { SystemModel } from '../model/index.js';
import { checkNames } from './names.js';
import { checkMemoryRegions } from './memory-regions.js';
import { checkProtectionDomains } from './protection-domains.js';
import { checkMaps } from './maps.js';
import { checkIrqs } from './irqs.js';
import { checkChannels } from './channels.js';
import { checkVirtualMachines } from './virtual-machines.js';
import { checkDevices } from './devices.js';
import { checkGuests } from './guests.js';
import { checkVirtio } from './virtio.js';
import { checkQemuDevices } from './qemu.js';
import { checkVmmTimer } from './vmm-timer.js';
import { checkPolicy } from './policy.js';
import { checkMicrokitRelease } from './microkit-2.3.0.js';

const RULES: ((system: SystemModel) => Diagnostic[])[] = [
  checkNames,
  checkMemoryRegions,
  checkProtectionDomains,
  checkMaps,
  checkIrqs,
  checkChannels,
  checkVirtualMachines,
  checkDevices,
  checkGuests,
  checkVirtio,
  checkQemuDevices,
  checkVmmTimer,
  checkMicrokitRelease,
  (system) => checkPolicy(system),
];

/** All problems, errors before warnings, each group in source order. */
export function validateSystem(system: SystemModel): Diagnostic[] {
  const all = RULES.flatMap((rule) => rule(system));
  const key = (d: Diagnostic): [number, string, number, number] => [d.severity === 'error' ? 0 : 1, d.location?.file ?? '', d.location?.line ?? 0, d.location?.column ?? 0];
  return all
    .map((d, i) => ({ d, i }))
    .sort((x, y) => {
      const a = key(x.d);
      const b = key(y.d);
      for (let k = 0; k < 4; k++) if (a[k]! !== b[k]!) return a[k]! < b[k]! ? -1 : 1;
      return x.i - y.i;
    })
    .map((x) => x.d);
}
