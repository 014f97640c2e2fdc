/*
 * A VM's life cycle: what its VMM does when the guest stops (the restart policy of
 * `virtualMachine({ restart })`, config version 6), what a command of the controlling PD does
 * (vmm_control.h), and the one console line each state change prints. Pure decisions and
 * text; vmm.c carries them out (stopping vCPUs, clearing RAM, placing the images again).
 *
 * Failure is a stop the guest did not ask for cleanly: a fault its VMM stopped it for (or a
 * virtio device it broke) and PSCI SYSTEM_RESET (Linux `reboot`, or a panic with `panic=N`).
 * PSCI SYSTEM_OFF (`poweroff`) is a clean stop: only 'always' restarts after it. A restart is
 * counted against max_restarts; at the limit the VM stays stopped ("gave up") until its
 * controlling PD starts it again, which starts the count afresh.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_config.h"
#include "vmm_control.h"

#define LIFECYCLE_DETAIL_SIZE 200u

struct vmm_lifecycle {
    uint8_t policy;             /* VMM_CONFIG_RESTART_* */
    uint32_t max_restarts;      /* VMM_CONFIG_RESTARTS_UNLIMITED: no limit */
    uint32_t backoff_ms;
    uint32_t state;             /* VMM_VM_* */
    uint32_t cause;             /* VMM_CAUSE_* of the last change */
    uint32_t restarts;          /* made by the policy since boot or the last START */
    uint32_t incarnation;       /* guest starts since boot */
    uint32_t state_seq;         /* +1 per change */
    uint32_t command_seq;       /* the last command seq seen */
    bool gave_up;               /* stopped because max_restarts was reached */
    char detail[LIFECYCLE_DETAIL_SIZE];     /* why the guest last stopped (the VMM's report) */
};

enum lifecycle_action {
    LIFECYCLE_NOTHING,
    LIFECYCLE_STOP,             /* stop the guest */
    LIFECYCLE_START,            /* start the (stopped) guest afresh */
    LIFECYCLE_RESTART,          /* stop it if it runs, and start it afresh */
};

void lifecycle_init(struct vmm_lifecycle *l, const struct vmm_config *c);

/* The guest has stopped for `cause` (VMM_CAUSE_GUEST_*), `detail` the VMM's report. Returns
 * LIFECYCLE_RESTART when the policy restarts it (the restart is counted, the state is
 * VMM_VM_RESTARTING), else LIFECYCLE_NOTHING (VMM_VM_STOPPED, gave_up set at the limit). */
enum lifecycle_action lifecycle_guest_stopped(struct vmm_lifecycle *l, uint32_t cause,
                                              const char *detail);

/* The guest was started: at boot (VMM_CAUSE_BOOT), by the policy (the cause of the stop is
 * kept), or by a command (VMM_CAUSE_COMMAND). */
void lifecycle_running(struct vmm_lifecycle *l, uint32_t cause);

/* The guest could not be started (its images): it stays stopped. */
void lifecycle_start_failed(struct vmm_lifecycle *l, const char *detail);

/* A command of the controlling PD (an untrusted value): the action to carry out and the
 * result to report (VMM_CONTROL_OK or VMM_CONTROL_E_*). STOP and START reset the count. */
enum lifecycle_action lifecycle_command(struct vmm_lifecycle *l, uint32_t command,
                                        int32_t *result);

/* The stop by a command has been carried out. */
void lifecycle_stopped_by_command(struct vmm_lifecycle *l);

/* The console line for the current state, e.g.
 *   "[web] restarted after guest fault (vCPU 0: ...): 2 of 5"
 * (docs/lifecycle.md lists them). Returns the length written (truncated to fit). */
int lifecycle_line(const struct vmm_lifecycle *l, const char *vm, char *buf, size_t size);

/* "guest fault", "guest reset (PSCI SYSTEM_RESET)", ... */
const char *lifecycle_cause_text(uint32_t cause);
