// The image stage: build (or reuse) the VMM runtime, link one VMM per guest and the timer PD
// that wakes their idle vCPUs, and decide whether the Microkit tool can run at all.
import type { MicrokitConfig } from '../../compile/model/target.js';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Artefact, GuestPlacement } from '../../compile/emit/manifest.js';
import { allProtectionDomains, type SystemModel } from '../../compile/model/index.js';
import type { LinuxPlacement } from '../../compile/guest/placement.js';
import { buildRuntime } from '../../compile/link/runtime-build.js';
import { linkVmms, type VmmLinkRequest } from '../../compile/link/vmm-elf.js';
import { linkTimer, wakeRouteOf } from '../../compile/link/timer-elf.js';
import { elfPlacedSize, type LoaderSpace, type PlacedData } from '../../compile/link/loader-space.js';
import { loadKernel, runtimeCacheDir } from '../io.js';

export interface GuestBootArtefacts {
  dtb: Uint8Array;
  placement: LinuxPlacement;
}

/** Why no image can be made, or undefined when everything it needs is here. */
export function imageBlocker(model: SystemModel, boots: ReadonlyMap<string, GuestBootArtefacts>, sdk: string | undefined): string | undefined {
  if (!sdk) return 'no Microkit SDK: set MICROKIT_SDK or pass --sdk PATH';
  const missingGuest = model.guests.find((g) => !boots.has(g.vm));
  if (missingGuest) return `the boot images of '${missingGuest.vm}' are not all available (see above)`;
  for (const pd of allProtectionDomains(model)) {
    if (pd.vmmOf === undefined && pd.programPath !== undefined && !existsSync(pd.programPath)) {
      return `program image of '${pd.name}' not found: ${pd.programPath}`;
    }
  }
  return undefined;
}

export function programDirs(model: SystemModel): string[] {
  const dirs = new Set<string>();
  for (const pd of allProtectionDomains(model)) if (pd.programPath) dirs.add(path.dirname(pd.programPath));
  // Microkit 2.3.0 finds prefill files on the same search path.
  for (const mr of model.memoryRegions) if (mr.prefill?.file) dirs.add(path.dirname(mr.prefill.file));
  return [...dirs].sort();
}

/** The timer PD's program, when the system has one. */
async function linkTimerPd(model: SystemModel, sdk: string, config: MicrokitConfig, progress: (line: string) => void): Promise<(Artefact & { content: Uint8Array }) | undefined> {
  const timer = model.vmmTimer;
  if (!timer) return undefined;
  const board = model.board!;
  const built = await buildRuntime({ sdk, board: board.microkitBoard, config, gicVersion: board.gic.version, program: 'timer', cacheDir: runtimeCacheDir(), onProgress: progress });
  progress(`link: ${timer.pd}.elf (${timer.source}, ${timer.clients.length} VMM${timer.clients.length === 1 ? '' : 's'})`);
  return { file: `${timer.pd}.elf`, kind: 'timer-program-image', content: linkTimer(new Uint8Array(await readFile(built.elf)), timer) };
}

/** Build (or reuse) the runtime for each GIC flavour in use, link one VMM per guest and the timer PD. */
export async function linkGuests(model: SystemModel, boots: ReadonlyMap<string, GuestBootArtefacts>, sdk: string, config: MicrokitConfig, progress: (line: string) => void,
  space: LoaderSpace | undefined, placements: Map<string, GuestPlacement>): Promise<Artefact[]> {
  const timerArtefact = await linkTimerPd(model, sdk, config, progress);
  const requests: VmmLinkRequest[] = [];
  const runtimes = new Map<number, Uint8Array>();
  const pds = allProtectionDomains(model);
  for (const g of model.guests) {
    const board = model.board!;
    let runtime = runtimes.get(g.gicVersion);
    if (!runtime) {
      const built = await buildRuntime({ sdk, board: board.microkitBoard, config, gicVersion: g.gicVersion, cacheDir: runtimeCacheDir(), onProgress: progress });
      runtime = new Uint8Array(await readFile(built.elf));
      runtimes.set(g.gicVersion, runtime);
    }
    progress(`link: vmm-${g.vm}.elf (kernel, device tree${g.initrd ? ', initrd' : ''} and config)`);
    const boot = boots.get(g.vm)!;
    const kernel = (await loadKernel(g.kernel.path)).image;
    const initrd = g.initrd ? new Uint8Array(await readFile(g.initrd.path)) : undefined;
    const vm = pds.find((p) => p.name === g.vmm)?.virtualMachine;
    const disks = new Map<string, Uint8Array>();
    for (const d of g.virtio ?? []) if (d.disk) disks.set(d.name, new Uint8Array(await readFile(d.disk.path)));
    requests.push({
      runtimeElf: runtime, guest: g, board, vcpuIds: vm?.vcpus.map((v) => v.id) ?? [0], placement: boot.placement, kernel, dtb: boot.dtb, initrd,
      compressImages: g.compressImages, wake: wakeRouteOf(model.vmmTimer, g.vm), disks,
    });
  }
  // The other programs share the room below the loader with the VMMs.
  const otherData: PlacedData[] = timerArtefact ? [{ what: timerArtefact.file, size: elfPlacedSize(timerArtefact.content) }] : [];
  for (const pd of pds) {
    if (pd.vmmOf !== undefined || pd.programPath === undefined) continue;
    try {
      otherData.push({ what: path.basename(pd.programPath), size: elfPlacedSize(new Uint8Array(await readFile(pd.programPath))) });
    } catch {
      // Not an ELF the tool can load: the Microkit tool reports it.
    }
  }
  const linked = linkVmms(requests, { space, otherData, loc: model.guests[0]?.loc });
  const vmms = linked.map((l, i): Artefact => {
    const g = requests[i]!.guest;
    const p = placements.get(g.vm);
    if (p) p.stored = { kernel: l.stored.kernel, initrd: l.stored.initrd };
    if (l.stored.kernel.compressed) progress(`link: vmm-${g.vm}.elf carries its kernel${l.stored.initrd ? ' and initrd' : ''} compressed`);
    return { file: `vmm-${g.vm}.elf`, kind: 'vmm-program-image', content: l.elf };
  });
  return timerArtefact ? [...vmms, timerArtefact] : vmms;
}
