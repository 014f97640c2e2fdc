// `sel4cp-synth boards [BOARD] [--dir DIR]`: with a board, the devices a systems.ts can name in
// passthrough() and emulated() (address, interrupts, whether it is a bus master); without, the boards this installation and the project in DIR know, with
// their aliases, what a guest on them gets (GIC version, default guest RAM, console UART), the
// configurations each Microkit release builds for them and where their facts come from; then, per
// Microkit release, every board it runs virtual machines on (its build_sdk.py), and for those with
// no board file, the `board add` that makes one.
import type { Argv, CommandModule } from 'yargs';
import path from 'node:path';
import { humanSize, hex } from '../../format.js';
import type { Board } from '../../compile/boards.js';
import { loadBoards, pickBoard } from '../../compile/load/boards.js';
import { RELEASE_NAMES } from '../../compile/releases.js';
import { configsFor, smpCores } from '../../compile/model/target.js';
import { hypervisorBoards, microkitBoard } from '../../compile/boards/microkit-boards.js';
import { sel4Platform } from '../../compile/boards/platforms.js';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function consoleOf(b: Board): string {
  const uart = b.devices.find((d) => d.console);
  return uart ? `${uart.name} @ ${hex(uart.paddr)}, IRQ ${uart.irqs.map((q) => q.irq).join(', ')}` : '-';
}

/** Where a board's facts come from, in a few words. */
function factsFrom(b: Board): string {
  const dt = b.dtb.qemuDumpdtb ? 'QEMU dumpdtb' : b.dtb.debianPath ? `Debian ${b.dtb.debianPath}` : b.dtb.file ? b.dtb.file : 'no DTB';
  const own = path.isAbsolute(b.file) ? `project ${path.relative(process.cwd(), b.file) || b.file}: ` : '';
  return `${own}${dt}${sel4Platform(b.microkitBoard) ? ' + seL4 16.0.0 platform' : ''} + build_sdk.py`;
}

function boardRows(boards: Board[]): string[][] {
  return boards.map((b) => [
    b.name,
    b.aliases.join(', ') || '-',
    `GICv${b.gic.version}`,
    `${humanSize(b.guest.ramSize)} at ${hex(b.guest.ramBase)}`,
    consoleOf(b),
    b.qemu ? 'QEMU (run boots it)' : 'hardware',
    RELEASE_NAMES.filter((r) => microkitBoard(r, b.microkitBoard) !== undefined || !RELEASE_NAMES.some((x) => microkitBoard(x, b.microkitBoard))).map((r) => {
      const smp = smpCores(r, b);
      return `${r}: ${configsFor(r, b).join(' ')}${smp ? ` (smp: ${smp} cores)` : ''}`;
    }).join('; '),
    factsFrom(b),
  ]);
}

function releaseRows(boards: Board[]): string[][] {
  return RELEASE_NAMES.flatMap((r) => hypervisorBoards(r).map((row) => {
    const b = boards.find((x) => x.microkitBoard === row.name);
    const gic = b ? `GICv${b.gic.version}` : sel4Platform(row.name) ? `GICv${sel4Platform(row.name)!.gic}` : '-';
    return [
      r,
      row.name + (row.local ? ' (local)' : ''),
      gic,
      b ? consoleOf(b) : '-',
      b ? `board ${b.name}` : `none shipped: sel4cp-synth board add ${row.name} --dtb FILE`,
    ];
  }));
}

/** One row per device of a board: what passthrough() takes, and what it gives the guest. */
function deviceRows(b: Board): string[][] {
  return b.devices.map((d) => [
    d.name,
    d.kind + (d.console ? ' (console)' : ''),
    `${hex(d.regPaddr)} +${hex(d.regSize)}${d.regPaddr !== d.paddr || d.regSize !== d.size ? ` (mapped: ${hex(d.paddr)} +${hex(d.size)})` : ''}`,
    d.irqs.map((q) => `${q.irq} ${q.trigger}`).join(', ') || '-',
    d.dma ? 'yes' : '-',
    d.status,
    d.dtPath,
  ]);
}

export const boardsCommand: CommandModule<object, { dir: string; board: string | undefined }> = {
  command: 'boards [board]',
  describe: "list the boards (names and aliases accepted by --board), their GIC and console, and every board each Microkit release runs virtual machines on; with a board, its devices (the names passthrough() takes)",
  builder: (y: Argv) => y
    .positional('board', { type: 'string', describe: "a board name or alias: list its devices" })
    .option('dir', { type: 'string', default: '.', describe: "the project folder whose boards/ is listed too (board add writes there)" }) as unknown as Argv<{ dir: string; board: string | undefined }>,
  handler: (args) => {
    if (args.board !== undefined) {
      const b = pickBoard(args.board, undefined, undefined, args.dir)!;
      process.stdout.write(`${b.name}: ${b.description} (GICv${b.gic.version}; ${b.file})\n`);
      process.stdout.write(table(['device', 'kind', 'registers', 'IRQs (GIC INTID)', 'DMA (bus master)', 'status', 'device-tree node'], deviceRows(b)));
      process.stdout.write("\npass one through with passthrough('<device>'); a bus master puts the VM's RAM at guest-physical = physical and lets the VM reach all physical memory ('flows' shows it)\n");
      return;
    }
    const boards = loadBoards(args.dir);
    process.stdout.write(table(['board', 'aliases', 'GIC', 'default guest RAM', 'console', 'kind', 'Microkit configurations', 'facts from'], boardRows(boards)));
    process.stdout.write('\n');
    process.stdout.write(table(['Microkit', 'board (build_sdk.py, hypervisor)', 'GIC', 'console', 'sel4cp-synth'], releaseRows(boards)));
  },
};
