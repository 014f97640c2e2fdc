// Where a guest's device tree comes from: the user's own, the board's named in the systems.ts,
// QEMU's (dumpdtb) or Debian's board DTB fetched by `npm run guest`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Board } from '../../compile/boards.js';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { DtbError, type Fdt } from '../../compile/dtb/fdt.js';
import { readFdt } from '../../compile/dtb/fdt-read.js';
import { loadDeviceTree } from '../../compile/dtb/dtc.js';
import type { GuestModel } from '../../compile/model/index.js';
import { dumpQemuDtb, guestCacheDir } from '../io.js';

/** The device trees a guest's DTB is made from; a string says why there are none. */
export function guestTrees(g: GuestModel, board: Board, cache: Map<string, Fdt | string>): { userTree: Fdt | undefined; boardTree: Fdt | undefined; treeSource: string } | string {
  const load = (file: string, what: string): Fdt => {
    try {
      return loadDeviceTree(file);
    } catch (e) {
      if (e instanceof DtbError) throw new UserError(error('guest-dtb-invalid', `${what} of '${g.vm}' cannot be used: ${e.message}`, g.loc));
      throw e;
    }
  };
  if (g.dtb) return { userTree: load(g.dtb.path, 'the guest device tree'), boardTree: undefined, treeSource: g.dtb.path };
  if (g.boardDtb) return { userTree: undefined, boardTree: load(g.boardDtb.path, 'the board device tree'), treeSource: g.boardDtb.path };
  // QEMU's tree depends on its CPU count: dump one per vCPU count in use.
  const key = board.dtb?.qemuDumpdtb ? `${board.name}/${g.vcpus}` : board.name;
  let tree = cache.get(key);
  if (tree === undefined) {
    if (board.dtb?.qemuDumpdtb) {
      const dumped = dumpQemuDtb(board, Math.max(1, g.vcpus));
      tree = typeof dumped === 'string' ? dumped : readFdt(dumped);
    } else if (board.dtb?.debianPath) {
      const file = path.join(guestCacheDir(), 'dtbs', path.basename(board.dtb.debianPath));
      tree = existsSync(file) ? load(file, 'the board device tree') : `Debian's board device tree is not in ${file} (run 'npm run guest', or give boardDtb in the systems.ts)`;
    } else {
      tree = `board '${board.name}' names no device tree; give dtb or boardDtb in the systems.ts`;
    }
    cache.set(key, tree);
  }
  const source = board.dtb?.qemuDumpdtb ? "QEMU's device tree (dumpdtb)" : `Debian's board device tree ${board.dtb?.debianPath ?? ''}`;
  return typeof tree === 'string' ? tree : { userTree: undefined, boardTree: tree, treeSource: source };
}
