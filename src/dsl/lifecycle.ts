// A native PD that may stop, start and restart a VM and hears about its state changes:
// control(vm, { by: pd }). It becomes a one-page control region mapped into the VM's VMM and
// the PD, and a channel between them (src/compile/resolve/control.ts); the page's layout and
// the commands are src/vmm-runtime/include/vmm_control.h (docs/lifecycle.md).
import { captureLocation, type SourceLocation } from './location.js';
import { DslError } from './errors.js';
import { checkNumber, checkOptions, checkString } from './check.js';
import type { ProtectionDomain } from './constructs.js';
import type { VirtualMachine } from './vm.js';

export interface ControlOptions {
  /**
   * The native protection domain that controls the VM. Not a VM: a VMM has no capability to
   * any other VM, so no guest can stop or restart another.
   */
  by: ProtectionDomain;
  /** The channel id in the PD (0 to 61) on which it notifies the VMM and is notified. @default the lowest id free in the PD */
  id?: number;
  /**
   * The PD's symbol that receives the control page's address (setvar_vaddr): declare it as
   * `uintptr_t <symbol>;` and read the page through `struct vmm_control_page` (vmm_control.h).
   * @default `<vm>_control`
   */
  symbol?: string;
}

export interface Control {
  readonly kind: 'control';
  readonly vm: VirtualMachine;
  readonly by: ProtectionDomain;
  readonly id: number | undefined;
  readonly symbol: string;
  readonly loc: SourceLocation | undefined;
}

const C_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Let a native PD stop, start and restart a VM and hear about its state changes: the PD writes a
 * command into the control page and notifies the VMM on the channel; the VMM carries it out,
 * answers in the page and notifies the PD after every state change (running, stopped,
 * restarting; with the cause and the restart count). A new controller is a privilege change:
 * `flows` shows it as a control flow and `diff` lists it among the widenings.
 */
export function control(vm: VirtualMachine, options: ControlOptions): Control {
  const loc = captureLocation();
  const kind = typeof vm === 'object' && vm !== null ? (vm as { kind?: unknown }).kind : undefined;
  if (kind !== 'virtualMachine') {
    throw new DslError('bad-argument', `control(): the first argument must be a virtualMachine(...), not ${String(kind ?? JSON.stringify(vm))}`, undefined, loc);
  }
  const what = `control(${JSON.stringify(vm.name)})`;
  checkOptions(what, options, loc, false);
  const by: unknown = options.by;
  const byKind = typeof by === 'object' && by !== null ? (by as { kind?: unknown; virtualMachine?: unknown; vmmOf?: unknown }) : undefined;
  if (byKind?.kind === 'virtualMachine' || (byKind?.kind === 'protectionDomain' && (byKind.virtualMachine !== undefined || byKind.vmmOf !== undefined))) {
    throw new DslError('control-by-virtual-machine', `${what}: by is a virtual machine (or its VMM); only a native protection domain may control a VM`,
      'a guest must never stop or restart another VM: give a protectionDomain(...) of yours', loc);
  }
  if (byKind?.kind !== 'protectionDomain') {
    throw new DslError('bad-argument', `${what}: by must be a protectionDomain(...), not ${JSON.stringify(by)}`, undefined, loc);
  }
  checkNumber(`${what} id`, options.id, loc, { optional: true, integer: true, min: 0 });
  checkString(`${what} symbol`, options.symbol, loc, { optional: true, nonEmpty: true });
  const symbol = options.symbol ?? `${vm.name}_control`;
  if (!C_IDENTIFIER.test(symbol)) {
    throw new DslError('bad-argument', `${what}: the symbol '${symbol}' is not a C identifier`, "give symbol: 'a_c_name'", loc);
  }
  return { kind: 'control', vm, by: options.by, id: options.id, symbol, loc };
}
