// Each guest's device tree and image placement, computed together (the DTB's size decides where
// things go; where the initrd goes is written into the DTB). The guest DTB is the user's own, or
// is generated from the board's: CPUs, timer, PSCI, the GIC as the VM sees it, guest RAM, and
// only the devices passed through to this VM.
import type { Board } from '../boards.js';
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { cloneFdt, DtbError, type Fdt } from '../dtb/fdt.js';
import { addVirtioNodes, makeGuestDtb } from '../dtb/guest-dtb.js';
import { crossCheckBoard } from '../dtb/cross-check.js';
import { addDoorbellNode, addSharedRegionNodes } from '../dtb/doorbell-nodes.js';
import { prepareLinuxBoot } from '../guest/linux-boot.js';
import { PlacementError, type LinuxPlacement } from '../guest/placement.js';
import type { GuestModel } from '../model/index.js';

export interface GuestBootInput {
  guest: GuestModel;
  board: Board;
  /** The user's guest device tree, used as it is apart from /chosen and /memory. */
  userTree: Fdt | undefined;
  /** The board's device tree, to generate the guest's from when the user gave none. */
  boardTree: Fdt | undefined;
  /** Where the tree in use came from, for messages (a file path, or "QEMU's device tree"). */
  treeSource?: string | undefined;
}

export interface GuestBoot {
  dtb: Uint8Array;
  placement: LinuxPlacement;
}

export interface GuestBootResult {
  boot: GuestBoot | undefined;
  diagnostics: Diagnostic[];
  /** Why no DTB could be made (a missing input, not an error in the system). */
  skipped: string | undefined;
}

export function prepareGuestBoot(input: GuestBootInput): GuestBootResult {
  try {
    return prepareGuestBootOrThrow(input);
  } catch (e) {
    if (!(e instanceof DtbError)) throw e;
    // A tree that lacks what a guest needs, or holds what cannot be read: the user's file (or the
    // board's), not our bug.
    const source = input.treeSource ?? (input.userTree ? 'the guest device tree' : "the board's device tree");
    return {
      boot: undefined,
      skipped: undefined,
      diagnostics: [error('guest-dtb-invalid', `the guest device tree of '${input.guest.vm}' cannot be made from ${source}: ${e.message}`, input.guest.loc, {
        hint: input.userTree ? 'fix the device tree given as dtb' : 'give the board\'s own tree as boardDtb, or the guest\'s as dtb',
      })],
    };
  }
}

function prepareGuestBootOrThrow(input: GuestBootInput): GuestBootResult {
  const { guest, board } = input;
  const diagnostics: Diagnostic[] = [];
  if (guest.kernel.size === undefined || guest.kernel.textOffset === undefined || guest.kernel.imageSize === undefined) {
    return { boot: undefined, diagnostics, skipped: `the kernel image is not available (${guest.kernel.path})` };
  }
  if (guest.initrd && guest.initrd.size === undefined) {
    return { boot: undefined, diagnostics, skipped: `the initrd is not available (${guest.initrd.path})` };
  }

  let tree = input.userTree;
  if (!tree) {
    if (!input.boardTree) return { boot: undefined, diagnostics, skipped: 'no device tree of the board is available' };
    const keep: string[] = [];
    for (const p of guest.passthrough) {
      const device = board.devices.find((d) => d.name === p.device);
      if (device?.dtPath) keep.push(device.dtPath);
      else diagnostics.push(warning('guest-dtb-device-unknown', `device '${p.device}' passed through to '${guest.vm}' has no node in the board's device tree; the guest will not see it`, guest.loc, {
        hint: 'give the guest a device tree of your own: virtualMachine(name, { dtb: ... })',
      }));
    }
    for (const e of guest.emulated) {
      const device = board.devices.find((d) => d.name === e.device);
      if (device?.dtPath) keep.push(device.dtPath);
    }
    const gic: Parameters<typeof makeGuestDtb>[1]['gic'] = { version: guest.gicVersion, distributor: board.guest.gicDistributor };
    if (board.guest.gicCpuInterface !== undefined) gic.cpuInterface = board.guest.gicCpuInterface;
    if (board.guest.gicRedistributor !== undefined) gic.redistributor = board.guest.gicRedistributor;
    const made = makeGuestDtb(input.boardTree, { keep, memory: [{ base: guest.ram.gpa, size: guest.ram.size }], gic, vcpus: guest.vcpus });
    for (const f of made.findings) {
      if (f.severity === 'warning') diagnostics.push(warning(f.id, `guest device tree of '${guest.vm}': ${f.message}`, guest.loc));
    }
    tree = made.tree;
  }

  if ((guest.virtio ?? []).length > 0 || guest.doorbells || (guest.shared ?? []).length > 0) {
    // The user's own tree is shared with the rest of the run: add the nodes to a copy.
    if (tree === input.userTree) tree = cloneFdt(tree);
    addVirtioNodes(tree, guest.virtio ?? []);
    if (guest.doorbells) addDoorbellNode(tree, guest.doorbells);
    addSharedRegionNodes(tree, guest.shared ?? []);
  }

  try {
    const boot = prepareLinuxBoot({
      tree,
      ramBase: guest.ram.gpa,
      ramSize: guest.ram.size,
      kernel: { textOffset: guest.kernel.textOffset, imageSize: guest.kernel.imageSize, fileSize: guest.kernel.size },
      ...(guest.initrd?.size !== undefined ? { initrdSize: guest.initrd.size } : {}),
      bootargs: guest.bootargs,
    });
    return { boot: { dtb: boot.dtb, placement: boot.placement }, diagnostics, skipped: undefined };
  } catch (e) {
    if (e instanceof PlacementError) {
      diagnostics.push(error('guest-images-do-not-fit', `the images of '${guest.vm}' do not fit in its guest RAM: ${e.message}`, guest.loc, {
        hint: 'give the VM more RAM (ram: mib(...)) or use a smaller kernel or initrd',
      }));
      return { boot: undefined, diagnostics, skipped: undefined };
    }
    throw e;
  }
}

/** Where boards/*.json and the board's own device tree disagree: once per board tree, as warnings. */
export function boardTreeFindings(board: Board, boardTree: Fdt): Diagnostic[] {
  return crossCheckBoard(boardTree, board).map((f) =>
    warning(f.id, `${board.file} disagrees with the board's device tree about ${f.fact}: ${f.message}`, undefined));
}
