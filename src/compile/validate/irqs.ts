// Interrupts: ids in range, a known trigger, an INTID the board has, and no interrupt claimed twice.
import { error, warning, type Diagnostic } from '../diagnostics/index.js';
import { allProtectionDomains, type IrqModel, type ProtectionDomainModel, type SystemModel } from '../model/index.js';
import { LIMITS } from './common.js';

export function checkIrqs(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const claimed = new Map<number, { pd: ProtectionDomainModel; irq: IrqModel }>();
  for (const pd of allProtectionDomains(system)) {
    for (const q of pd.irqs) {
      if (!Number.isInteger(q.id) || q.id < 0 || q.id > LIMITS.maxChannelId) {
        out.push(error('irq-id-out-of-range', `irq ${q.irq} in '${pd.name}' has channel id ${q.id}; it must be between 0 and ${LIMITS.maxChannelId}`, q.loc, {
          hint: `Microkit uses badge bits 62 and 63 itself, so ids stop at ${LIMITS.maxChannelId} (its manual says 63)`,
        }));
      }
      if (q.trigger !== 'level' && q.trigger !== 'edge') {
        out.push(error('irq-invalid-trigger', `irq ${q.irq} in '${pd.name}' has trigger '${String(q.trigger)}'; use 'level' or 'edge'`, q.loc));
      }
      if (!Number.isInteger(q.irq) || q.irq < 0) {
        out.push(error('irq-number-invalid', `irq number ${q.irq} in '${pd.name}' is not a valid interrupt number`, q.loc));
      } else if (system.board?.maxIrq !== undefined && q.irq > system.board.maxIrq) {
        out.push(error('irq-number-too-high', `irq ${q.irq} in '${pd.name}' is above the highest interrupt seL4 supports on '${system.board.name}' (${system.board.maxIrq})`, q.loc));
      } else if (q.irq < 32 && system.board && q.device === undefined) {
        // (An IRQ taken from the board's data, like the timer PD's physical-timer PPI, is meant.)
        out.push(warning('irq-not-spi', `irq ${q.irq} in '${pd.name}' is a ${q.irq < 16 ? 'software-generated' : 'private peripheral'} interrupt, not a shared one`, q.loc, {
          hint: 'GIC INTIDs of devices start at 32 (SPI n is INTID 32 + n)',
        }));
      }
      const prev = claimed.get(q.irq);
      if (prev) {
        const owner = (x: { pd: ProtectionDomainModel; irq: IrqModel }): string => x.irq.device ? `'${x.pd.name}' (for device '${x.irq.device}')` : `'${x.pd.name}'`;
        out.push(error('irq-claimed-twice', `irq ${q.irq} is claimed by ${owner({ pd, irq: q })} and by ${owner(prev)}`, q.loc, {
          notes: [{ message: 'first claimed here', location: prev.irq.loc }],
          hint: 'an interrupt can be delivered to one protection domain only',
        }));
      } else {
        claimed.set(q.irq, { pd, irq: q });
      }
    }
  }
  return out;
}
