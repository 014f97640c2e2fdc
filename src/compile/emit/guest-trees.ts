// Each guest's device tree and placement, and where the trees they are made from come from:
// the user's own, the board's named in the systems.ts, QEMU's (dumpdtb) or Debian's board DTB
// fetched by `sel4cp-synth guest`. Each board tree is read and cross-checked once per run.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Board } from '../boards.js';
import { error, UserError, type Diagnostic } from '../diagnostics/index.js';
import { DtbError, type Fdt } from '../dtb/fdt.js';
import { readFdt } from '../dtb/fdt-read.js';
import { loadDeviceTree } from '../dtb/dtc.js';
import type { GuestModel, SystemModel } from '../model/index.js';
import { guestCacheDir } from '../package.js';
import { boardTreeFindings, prepareGuestBoot, type GuestBoot } from './guest-boot.js';
import type { Artefact, GuestPlacement } from './manifest.js';

export interface GuestTrees {
  /** One `<vm>.dtb` per guest whose tree could be made. */
  artefacts: Artefact[];
  placements: Map<string, GuestPlacement>;
  boots: Map<string, GuestBoot>;
  diagnostics: Diagnostic[];
  skipped: { step: string; reason: string }[];
}

/** Each guest's device tree and placement (board trees read and cross-checked once each). */
export function emitGuestTrees(model: SystemModel): GuestTrees {
  const run: GuestTrees = { artefacts: [], placements: new Map(), boots: new Map(), diagnostics: [], skipped: [] };
  const boardTrees = new Map<string, Fdt | string>();
  const crossChecked = new Set<Fdt>();
  for (const g of model.guests) {
    const inputs = guestTrees(g, model.board!, boardTrees);
    if (typeof inputs === 'string') {
      run.skipped.push({ step: `guest device tree of '${g.vm}'`, reason: inputs });
      continue;
    }
    if (inputs.boardTree && !crossChecked.has(inputs.boardTree)) {
      crossChecked.add(inputs.boardTree);
      run.diagnostics.push(...boardTreeFindings(model.board!, inputs.boardTree));
    }
    const result = prepareGuestBoot({ guest: g, board: model.board!, ...inputs });
    run.diagnostics.push(...result.diagnostics);
    if (result.skipped) run.skipped.push({ step: `guest device tree of '${g.vm}'`, reason: result.skipped });
    if (result.boot) {
      const p = result.boot.placement;
      run.artefacts.push({ file: `${g.vm}.dtb`, kind: 'guest-device-tree', content: result.boot.dtb });
      run.placements.set(g.vm, { kernel: p.kernel, dtb: p.dtb, initrd: p.initrd, entry: p.entry });
      run.boots.set(g.vm, result.boot);
    }
  }
  return run;
}

/** The device trees a guest's DTB is made from; a string says why there are none. */
function guestTrees(g: GuestModel, board: Board, cache: Map<string, Fdt | string>): { userTree: Fdt | undefined; boardTree: Fdt | undefined; treeSource: string } | string {
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
      tree = existsSync(file) ? load(file, 'the board device tree') : `Debian's board device tree is not in ${file} (run 'sel4cp-synth guest', or give boardDtb in the systems.ts)`;
    } else if (board.dtb?.file) {
      const file = path.resolve(path.dirname(board.file), board.dtb.file);
      tree = existsSync(file) ? load(file, 'the board device tree') : `the board's device tree ${file} is not there (board add writes it beside ${board.file})`;
    } else {
      tree = `board '${board.name}' names no device tree; give dtb or boardDtb in the systems.ts`;
    }
    cache.set(key, tree);
  }
  const source = board.dtb?.qemuDumpdtb ? "QEMU's device tree (dumpdtb)" : board.dtb?.file ? `the board's device tree ${board.dtb.file}` : `Debian's board device tree ${board.dtb?.debianPath ?? ''}`;
  return typeof tree === 'string' ? tree : { userTree: undefined, boardTree: tree, treeSource: source };
}

/**
 * QEMU's own device tree for a QEMU board (`-machine ...,dumpdtb=FILE`): what the guest would see
 * if QEMU booted it directly, with `cpus` CPU nodes (as many as the guest has vCPUs). A string
 * says why it could not be had.
 */
export function dumpQemuDtb(board: Pick<Board, 'name'> & { qemu?: { machine: string; cpu: string; memory: string } | undefined }, cpus: number): Uint8Array | string {
  if (!board.qemu) return `board '${board.name}' is not a QEMU machine`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-dtb-'));
  try {
    const out = path.join(dir, 'board.dtb');
    const r = spawnSync('qemu-system-aarch64', ['-machine', `${board.qemu.machine},dumpdtb=${out}`, '-cpu', board.qemu.cpu, '-m', board.qemu.memory,
      '-smp', String(cpus), '-nographic', '-nodefaults'], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) return 'qemu-system-aarch64 is not installed (Debian package qemu-system-arm)';
    if (!existsSync(out)) return `qemu-system-aarch64 did not dump its device tree: ${(r.stderr || '').trim().split('\n')[0]}`;
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
