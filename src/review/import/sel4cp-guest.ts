// The guests of a seL4CP import, settled (sel4cp.ts decides what each mapping is): where their
// images come from, and the virtualMachine() call each becomes.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Board, BoardDevice } from '../../compile/boards.js';
import type { IrqModel, MapModel, MemoryRegionModel, ProtectionDomainModel, VirtualMachineModel } from '../../compile/model/index.js';
import { DEFAULT_VM_PRIORITY, DEFAULT_VMM_PRIORITY } from '../../compile/resolve/guests.js';
import { DEFAULT_BUDGET } from '../../compile/model/facts.js';
import { releaseFacts } from '../../compile/releases.js';
import { hex } from '../../format.js';
import type { ImportedGuest } from './index.js';
import { arr, call, obj, raw, type Code } from './layout.js';
import type { Notes } from './sel4cp.js';
import { address, decimal, str, type Writer } from './writer.js';

/** A mapping of a guest at a physical address other than the GIC: what it becomes. */
export interface DeviceUse {
  map: MapModel;
  region: MemoryRegionModel;
  /** The board device it is (undefined: the board lists none there). */
  device: BoardDevice | undefined;
  /** The VMM's interrupts that are this device's. */
  irqs: IrqModel[];
  use: 'passthrough' | 'described' | 'emulated' | 'map';
  because: { kind: 'shared'; owner: GuestPlan } | { kind: 'elsewhere' } | undefined;
  /** The file gave the device no interrupt: pass none through. */
  noIrqs?: boolean;
}

/** Where a comment goes in a virtualMachine() call: above it, at a property, or at a list item. */
export type Target = 'const' | 'vcpus' | 'ram' | 'kernel' | 'initrd' | 'dtb' | 'priority' | 'idle' | 'vmm' | DeviceUse | MapModel;

interface ImageSource {
  key: string;
  /** The default path, relative to the systems.ts; undefined: optionalContextFile (none unless given). */
  path: string | undefined;
}

export interface GuestPlan {
  pd: ProtectionDomainModel;
  vm: VirtualMachineModel;
  /** The VM's name in the systems.ts (unique). */
  name: string;
  ram: { region: MemoryRegionModel; map: MapModel };
  gic: { map: MapModel; region: MemoryRegionModel }[];
  devices: DeviceUse[];
  /** Mappings of regions with no physical address besides RAM: kept as maps. */
  memory: { map: MapModel; region: MemoryRegionModel }[];
  images: { kernel: ImageSource; initrd: ImageSource | undefined; dtb: ImageSource } | undefined;
  comments: Map<Target, string[]>;
}

interface ImageOptions {
  file: string;
  outDir?: string | undefined;
}

const posix = (p: string): string => p.split(path.sep).join('/');

/**
 * Where each guest's kernel, initrd and DTB come from. The seL4CP tool found a VM's images on its
 * --search-path (the 2023 VMM's Makefile: the build directory, then board/<board>/images); an
 * image found beside the file or in ../images is read from there, else from the path as written.
 * A VM with no images had them linked into vmm.elf by the old VMM's Makefile.
 */
export function imagePlan(plans: GuestPlan[], notes: Notes, options: ImageOptions): void {
  const sysDir = path.dirname(path.resolve(options.file));
  const outDir = path.resolve(options.outDir ?? process.cwd());
  // Relative to the systems.ts while it stays near it; a path that climbs far is clearer absolute.
  const rel = (abs: string): string => {
    const r = posix(path.relative(outDir, abs));
    return /^(\.\.\/){3}/.test(r) ? posix(abs) : r || '.';
  };
  const find = (p: string): { abs: string; found: boolean } => {
    for (const dir of [sysDir, path.join(sysDir, '..', 'images')]) {
      const abs = path.resolve(dir, p);
      if (existsSync(abs)) return { abs, found: true };
    }
    return { abs: path.resolve(sysDir, p), found: false };
  };
  const distinct = (kind: 'kernel' | 'initrd'): number => new Set(plans.map((p) => p.vm.sel4cp?.images[kind]?.path ?? '')).size;
  const key = (plan: GuestPlan, kind: string, perVm: boolean): string => (perVm ? `${plan.name}_${kind}` : kind);
  const libvmmImages = path.basename(sysDir) === 'systems' && existsSync(path.join(sysDir, '..', 'images'));
  for (const plan of plans) {
    const given = plan.vm.sel4cp?.images ?? {};
    const imageFile = (kind: 'kernel' | 'initrd'): ImageSource => {
      const image = given[kind]!;
      const at = find(image.path);
      const k = key(plan, kind, distinct(kind) > 1);
      notes.add('image-file', `${kind === 'kernel' ? 'program_image' : 'init_ram_disk'} path="${image.path}" was found on the seL4CP tool's search path`,
        `contextFile('${k}') reads ${rel(at.abs)}${at.found ? '' : ' (not there now: give -c ' + k + '=PATH)'}`, image.loc, plan, kind);
      if (image.vaddr !== undefined) {
        notes.add('image-address', `it was loaded at ${hex(image.vaddr)}`, kind === 'kernel'
          ? "the VMM loads the kernel at guest RAM base + the text_offset of its Image header, as Linux's arm64 boot protocol asks"
          : 'the VMM places the initrd in guest RAM after the kernel, and writes where into the device tree (/chosen linux,initrd-start)', image.loc, plan, kind);
      }
      return { key: k, path: rel(at.abs) };
    };
    if (!given.kernel) {
      const kernelAt = path.join(sysDir, '..', 'images', 'linux');
      const kernel = libvmmImages ? rel(kernelAt) : 'Image';
      const there = libvmmImages && existsSync(kernelAt) ? '' : ', not there now';
      notes.add('images-built-in', "the VM named no images: the seL4CP VMM linked its kernel, DTB and initrd into vmm.elf (src/global_data.S, from the Makefile's images/linux, linux.dts and rootfs.cpio.gz)",
        `kernel: contextFile('kernel') (default ${kernel}${there}) and initrd: ${libvmmImages ? "contextFile('initrd')" : "optionalContextFile('initrd')"}; give -c kernel=PATH -c initrd=PATH`, plan.vm.loc, plan, 'kernel');
      plan.images = {
        kernel: { key: 'kernel', path: kernel },
        initrd: { key: 'initrd', path: libvmmImages ? rel(path.join(sysDir, '..', 'images', 'rootfs.cpio.gz')) : undefined },
        dtb: { key: 'dtb', path: undefined },
      };
    } else {
      plan.images = { kernel: imageFile('kernel'), initrd: given.initrd ? imageFile('initrd') : undefined, dtb: { key: key(plan, 'dtb', plans.length > 1), path: undefined } };
    }
    const dtb = given.dtb;
    notes.add('dtb-generated', dtb ? `device_tree path="${dtb.path}" was the guest's device tree${dtb.vaddr !== undefined ? `, loaded at ${hex(dtb.vaddr)}` : ''}` : "the guest's device tree was the Makefile's linux.dts, compiled and linked into vmm.elf",
      `generated from the board's (CPUs, timer, GIC, the devices passed through); give -c ${plan.images.dtb.key}=PATH to use your own (sel4cp-synth injects /chosen and /memory into it)`, dtb?.loc ?? plan.vm.loc, plan, 'dtb');
  }
}

/** The virtualMachine() for a settled plan. */
export function guestFor(plan: GuestPlan, board: Board): ImportedGuest {
  return { vm: plan.name, vmm: plan.pd.name, comments: plan.comments.get('const') ?? [], build: (w) => virtualMachineCall(plan, board, w) };
}

function virtualMachineCall(plan: GuestPlan, board: Board, w: Writer): Code {
  const c = (t: Target): string[] => plan.comments.get(t) ?? [];
  const images = plan.images!;
  const file = (s: ImageSource | undefined): Code | undefined => s && (s.path !== undefined
    ? call(w.use('contextFile'), str(s.key), str(s.path))
    : call(w.use('optionalContextFile'), str(s.key)));
  const { vm, pd, ram } = plan;
  const items = (uses: DeviceUse[], code: (u: DeviceUse) => Code): Code | undefined =>
    uses.length ? arr(uses.map((u) => ({ code: code(u), comments: c(u) }))) : undefined;
  const passed = plan.devices.filter((d) => d.use === 'passthrough' || d.use === 'described');
  const emulated = plan.devices.filter((d) => d.use === 'emulated');
  const maps = [...plan.memory.map((m) => m.map), ...plan.devices.filter((d) => d.use === 'map').map((d) => d.map)];
  return call(w.use('virtualMachine'), str(plan.name), obj([
    ['kernel', file(images.kernel), c('kernel')],
    ['initrd', file(images.initrd), c('initrd')],
    ['dtb', file(images.dtb), c('dtb')],
    ['ram', w.sizeOf(ram.region.size), c('ram')],
    ['ramBase', ram.map.vaddr !== board.guest.ramBase ? (w.use('addr'), address(ram.map.vaddr)) : undefined],
    ['vcpus', raw('1'), c('vcpus')],
    ['priority', decimal(vm.sel4cp?.priorityGiven ? vm.priority : DEFAULT_VM_PRIORITY), c('priority')],
    ['budget', vm.budget !== DEFAULT_BUDGET ? decimal(vm.budget) : undefined],
    ['period', vm.period !== vm.budget ? decimal(vm.period) : undefined],
    ['passthrough', items(passed, (u) => passthroughCall(u, w))],
    ['emulated', items(emulated, (u) => call(w.use('emulated'), str(u.device!.name)))],
    ['maps', maps.length ? arr(maps.map((m) => ({ code: w.map(m).code, comments: c(plan.devices.find((d) => d.map === m) ?? m) }))) : undefined],
    ['vmm', obj([
      // Kept: reports, channels and the people who wrote the file know the VMM by this name.
      ['name', str(pd.name)],
      ['priority', pd.priority !== 0 && pd.priority !== DEFAULT_VMM_PRIORITY ? decimal(pd.priority) : undefined],
      ['budget', pd.budget !== DEFAULT_BUDGET ? decimal(pd.budget) : undefined],
      ['period', pd.period !== pd.budget ? decimal(pd.period) : undefined],
      ['stackSize', pd.stackSize !== releaseFacts(w.release).defaultStack ? w.sizeOf(pd.stackSize) : undefined],
    ]), c('vmm')],
    ['idle', str('block'), c('idle')],
  ]));
}

function passthroughCall(u: DeviceUse, w: Writer): Code {
  const gpa = u.map.vaddr !== (u.device?.paddr ?? u.region.physAddr) ? (w.use('addr'), address(u.map.vaddr)) : undefined;
  const options = obj([['irqs', u.noIrqs ? raw('false') : undefined], ['gpa', gpa]]);
  const optionArgs = options.t === 'obj' && options.props.length ? [options] : [];
  if (u.device) return call(w.use('passthrough'), str(u.device.name), ...optionArgs);
  w.use('addr');
  const spec = obj([['name', str(u.region.name)], ['paddr', address(u.region.physAddr!)], ['size', w.sizeOf(u.region.size)]]);
  return call(w.use('passthrough'), spec, ...optionArgs);
}
