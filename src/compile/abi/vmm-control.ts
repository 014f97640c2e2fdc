// The control page between a VM's VMM and the PD that controls it (`control(vm, { by })`), as
// src/vmm-runtime/include/vmm_control.h pins it (docs/lifecycle.md); test/compile/abi/
// headers.test.ts reads the header and compares. TypeScript only sizes and places the page, and
// tests read the state block back.

/** The control page is one 4 KiB page. */
export const VMM_CONTROL_PAGE_SIZE = 0x1000;
/** 'S4CT' in memory order: the VMM writes it into the state block. */
export const VMM_CONTROL_MAGIC = 0x54433453;
export const VMM_CONTROL_VERSION = 1;
/** Commands a PD writes (`command.command`). */
export const VMM_CONTROL_CMD = { none: 0, stop: 1, start: 2, restart: 3 } as const;
/** VM states in the state block (`state.state`). */
export const VMM_VM = { running: 1, stopped: 2, restarting: 3 } as const;
/** Why the state changed (`state.cause`). */
export const VMM_CAUSE = { boot: 1, 'guest-fault': 2, 'guest-reset': 3, 'guest-off': 4, command: 5, 'start-failed': 6 } as const;
/** `struct vmm_control_command`, at the start of the page. */
export const VMM_CONTROL_COMMAND_OFFSETS = { seq: 0x00, command: 0x04 } as const;
/** `struct vmm_control_state`, at VMM_CONTROL_PAGE_OFFSETS.state. */
export const VMM_CONTROL_STATE_OFFSETS = {
  magic: 0x00, version: 0x04, stateSeq: 0x08, state: 0x0c, cause: 0x10, restarts: 0x14, maxRestarts: 0x18,
  ackedSeq: 0x1c, result: 0x20, incarnation: 0x24,
} as const;
export const VMM_CONTROL_PAGE_OFFSETS = { command: 0x00, state: 0x40 } as const;
