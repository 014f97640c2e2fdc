// `sel4cp-synth boards`: the boards this installation knows, with their aliases, what a guest on
// them gets (GIC version, default guest RAM, console UART) and the configurations each Microkit
// release builds for them.
import type { CommandModule } from 'yargs';
import { humanSize, hex } from '../../format.js';
import { loadBoards } from '../../compile/load/boards.js';
import { RELEASE_NAMES } from '../../compile/releases.js';
import { configsFor, smpCores } from '../../compile/model/target.js';

export const boardsCommand: CommandModule<object, object> = {
  command: 'boards',
  describe: 'list the boards (names and aliases accepted by --board), their GIC and console',
  handler: () => {
    const rows = loadBoards().map((b) => {
      const uart = b.devices.find((d) => d.console);
      return [
        b.name,
        b.aliases.join(', ') || '-',
        `GICv${b.gic.version}`,
        `${humanSize(b.guest.ramSize)} at ${hex(b.guest.ramBase)}`,
        uart ? `${uart.name} @ ${hex(uart.paddr)}, IRQ ${uart.irqs.map((q) => q.irq).join(', ')}` : '-',
        b.qemu ? 'QEMU (run boots it)' : 'hardware',
        RELEASE_NAMES.map((r) => {
          const smp = smpCores(r, b);
          return `${r}: ${configsFor(r, b).join(' ')}${smp ? ` (smp: ${smp} cores)` : ''}`;
        }).join('; '),
      ];
    });
    const header = ['board', 'aliases', 'GIC', 'default guest RAM', 'console', 'kind', 'Microkit configurations'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
  },
};
