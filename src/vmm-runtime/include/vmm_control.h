/*
 * Controlling a virtual machine from a native protection domain: the page and the channel that
 * `control(vm, { by: pd })` gives the PD and the VM's VMM (docs/lifecycle.md). Freestanding and
 * self-contained, so that a PD of yours can include it as is.
 *
 * One 4 KiB page, mapped read-write into both. The PD writes only the command block, the VMM
 * only the state block; each side reads the other's block and never trusts it:
 *
 *   command (PD -> VMM), at 0x00: the PD writes `command`, then increments `seq` (a barrier
 *       between the two: `dmb ish`; vmm_control_issue below does both), then notifies the VMM on the control channel. The VMM
 *       reads `seq` once; if it differs from the last one it carried out, it reads `command`
 *       once, checks it, carries it out and answers in the state block (`acked_seq` = that
 *       seq, `result`), then notifies the PD. Commands written while the VMM works are seen at
 *       the next notification; only the last command before a notification counts.
 *   state (VMM -> PD), at 0x40: the VM's state, why it changed, how many restarts the policy
 *       has spent; `state_seq` goes up by one at each change, after the other fields (a
 *       barrier between), and the VMM notifies the PD after each change, so a PD reads the
 *       block when notified and compares `state_seq` with the last it saw.
 *
 * Layout: little-endian, naturally aligned; the _Static_asserts pin it, and
 * src/compile/abi/vmm-control.ts has the same numbers (test/compile/abi/headers.test.ts).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define VMM_CONTROL_PAGE_SIZE    0x1000u
/* 'S' '4' 'C' 'T' in memory order: the VMM writes it into the state block at start-up. */
#define VMM_CONTROL_MAGIC        0x54433453u
#define VMM_CONTROL_VERSION      1u

/* Commands (command.command). */
#define VMM_CONTROL_CMD_NONE     0u
#define VMM_CONTROL_CMD_STOP     1u     /* stop the guest; it stays stopped until START */
#define VMM_CONTROL_CMD_START    2u     /* start a stopped guest afresh (resets the count) */
#define VMM_CONTROL_CMD_RESTART  3u     /* stop it (if running) and start it afresh */

/* Results (state.result) of the command numbered state.acked_seq. */
#define VMM_CONTROL_OK             0
#define VMM_CONTROL_E_UNKNOWN    (-1)   /* not one of the commands above */
#define VMM_CONTROL_E_STATE      (-2)   /* STOP of a stopped VM, START of a running one */
#define VMM_CONTROL_E_FAILED     (-3)   /* the guest could not be started (see the console) */

/* States (state.state). */
#define VMM_VM_RUNNING           1u     /* the guest runs */
#define VMM_VM_STOPPED           2u     /* stopped; stays so until a START or RESTART */
#define VMM_VM_RESTARTING        3u     /* stopped; the restart policy restarts it after its backoff */

/* Why the state changed (state.cause). */
#define VMM_CAUSE_BOOT           1u     /* the system started */
#define VMM_CAUSE_GUEST_FAULT    2u     /* the VMM stopped the guest for a fault or a device it broke */
#define VMM_CAUSE_GUEST_RESET    3u     /* the guest asked for a reset (PSCI SYSTEM_RESET) */
#define VMM_CAUSE_GUEST_OFF      4u     /* the guest powered off (PSCI SYSTEM_OFF) */
#define VMM_CAUSE_COMMAND        5u     /* a command of the controlling PD */
#define VMM_CAUSE_START_FAILED   6u     /* the guest images could not be placed */

struct vmm_control_command {
    uint32_t seq;           /* the PD increments it for each command */
    uint32_t command;       /* VMM_CONTROL_CMD_* */
    uint8_t reserved[56];
};

struct vmm_control_state {
    uint32_t magic;         /* VMM_CONTROL_MAGIC once the VMM has started */
    uint16_t version;       /* VMM_CONTROL_VERSION */
    uint16_t reserved0;
    uint32_t state_seq;     /* +1 at each state change, written last */
    uint32_t state;         /* VMM_VM_* */
    uint32_t cause;         /* VMM_CAUSE_* */
    uint32_t restarts;      /* restarts the policy has made since the last START */
    uint32_t max_restarts;  /* the policy's limit; 0xffffffff: unlimited */
    uint32_t acked_seq;     /* the last command seq carried out (or refused) */
    int32_t result;         /* VMM_CONTROL_OK or VMM_CONTROL_E_* for acked_seq */
    uint32_t incarnation;   /* guest starts since the system started (1 after boot) */
    uint8_t reserved[24];
};

struct vmm_control_page {
    struct vmm_control_command command;
    struct vmm_control_state state;
};

_Static_assert(offsetof(struct vmm_control_command, seq) == 0x00, "control layout");
_Static_assert(offsetof(struct vmm_control_command, command) == 0x04, "control layout");
_Static_assert(sizeof(struct vmm_control_command) == 0x40, "control layout");
_Static_assert(offsetof(struct vmm_control_state, magic) == 0x00, "control layout");
_Static_assert(offsetof(struct vmm_control_state, version) == 0x04, "control layout");
_Static_assert(offsetof(struct vmm_control_state, state_seq) == 0x08, "control layout");
_Static_assert(offsetof(struct vmm_control_state, state) == 0x0c, "control layout");
_Static_assert(offsetof(struct vmm_control_state, cause) == 0x10, "control layout");
_Static_assert(offsetof(struct vmm_control_state, restarts) == 0x14, "control layout");
_Static_assert(offsetof(struct vmm_control_state, max_restarts) == 0x18, "control layout");
_Static_assert(offsetof(struct vmm_control_state, acked_seq) == 0x1c, "control layout");
_Static_assert(offsetof(struct vmm_control_state, result) == 0x20, "control layout");
_Static_assert(offsetof(struct vmm_control_state, incarnation) == 0x24, "control layout");
_Static_assert(sizeof(struct vmm_control_state) == 0x40, "control layout");
_Static_assert(offsetof(struct vmm_control_page, command) == 0x00, "control layout");
_Static_assert(offsetof(struct vmm_control_page, state) == 0x40, "control layout");
_Static_assert(sizeof(struct vmm_control_page) <= VMM_CONTROL_PAGE_SIZE, "control layout");

/* For a PD: issue `command` (VMM_CONTROL_CMD_*) on `page`; then notify the VMM's channel. */
static inline void vmm_control_issue(volatile struct vmm_control_page *page, uint32_t command)
{
    page->command.command = command;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);     /* dmb ish: the command before its seq */
    page->command.seq = page->command.seq + 1u;
}
