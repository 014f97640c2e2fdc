// `sel4cp-synth boards`: the boards this installation knows, with their aliases and what a
// guest on them gets (GIC version, default guest RAM, console UART).
import type { CommandModule } from 'yargs';
import { humanSize, hex } from '../../format.js';
import { loadBoards } from '../io.js';

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
      ];
    });
    const header = ['board', 'aliases', 'GIC', 'default guest RAM', 'console', 'kind'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
  },
};
