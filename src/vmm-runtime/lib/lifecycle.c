/* The life cycle decisions and lines of vmm_lifecycle.h. */
#include "vmm_lifecycle.h"

#include "vmm_fmt.h"
#include "vmm_string.h"

static const char *const policy_names[] = { "never", "on-failure", "always" };

void lifecycle_init(struct vmm_lifecycle *l, const struct vmm_config *c)
{
    memset(l, 0, sizeof(*l));
    l->policy = c->restart_policy <= VMM_CONFIG_RESTART_ALWAYS ? c->restart_policy
                                                                : VMM_CONFIG_RESTART_NEVER;
    l->max_restarts = c->max_restarts;
    l->backoff_ms = c->backoff_ms;
    l->state = VMM_VM_STOPPED;
}

const char *lifecycle_cause_text(uint32_t cause)
{
    switch (cause) {
    case VMM_CAUSE_BOOT: return "boot";
    case VMM_CAUSE_GUEST_FAULT: return "guest fault";
    case VMM_CAUSE_GUEST_RESET: return "guest reset (PSCI SYSTEM_RESET)";
    case VMM_CAUSE_GUEST_OFF: return "guest power-off (PSCI SYSTEM_OFF)";
    case VMM_CAUSE_COMMAND: return "a command of its controller";
    case VMM_CAUSE_START_FAILED: return "a failed start";
    default: return "?";
    }
}

static void set_state(struct vmm_lifecycle *l, uint32_t state, uint32_t cause)
{
    l->state = state;
    l->cause = cause;
    l->state_seq++;
}

static void set_detail(struct vmm_lifecycle *l, const char *detail)
{
    vmm_snprintf(l->detail, sizeof(l->detail), "%s", detail != NULL ? detail : "");
}

enum lifecycle_action lifecycle_guest_stopped(struct vmm_lifecycle *l, uint32_t cause,
                                              const char *detail)
{
    set_detail(l, detail);
    bool failure = cause == VMM_CAUSE_GUEST_FAULT || cause == VMM_CAUSE_GUEST_RESET;
    bool wanted = l->policy == VMM_CONFIG_RESTART_ALWAYS
                  || (l->policy == VMM_CONFIG_RESTART_ON_FAILURE && failure);
    l->gave_up = wanted && l->max_restarts != VMM_CONFIG_RESTARTS_UNLIMITED
                 && l->restarts >= l->max_restarts;
    if (!wanted || l->gave_up) {
        set_state(l, VMM_VM_STOPPED, cause);
        return LIFECYCLE_NOTHING;
    }
    l->restarts++;
    set_state(l, VMM_VM_RESTARTING, cause);
    return LIFECYCLE_RESTART;
}

void lifecycle_running(struct vmm_lifecycle *l, uint32_t cause)
{
    l->incarnation++;
    l->gave_up = false;
    set_state(l, VMM_VM_RUNNING, cause);
}

void lifecycle_start_failed(struct vmm_lifecycle *l, const char *detail)
{
    set_detail(l, detail);
    l->gave_up = false;
    set_state(l, VMM_VM_STOPPED, VMM_CAUSE_START_FAILED);
}

enum lifecycle_action lifecycle_command(struct vmm_lifecycle *l, uint32_t command,
                                        int32_t *result)
{
    bool running = l->state == VMM_VM_RUNNING;
    *result = VMM_CONTROL_OK;
    switch (command) {
    case VMM_CONTROL_CMD_STOP:
        if (l->state == VMM_VM_STOPPED) {
            *result = VMM_CONTROL_E_STATE;
            return LIFECYCLE_NOTHING;
        }
        return LIFECYCLE_STOP;
    case VMM_CONTROL_CMD_START:
        if (running) {
            *result = VMM_CONTROL_E_STATE;
            return LIFECYCLE_NOTHING;
        }
        l->restarts = 0;
        return LIFECYCLE_START;
    case VMM_CONTROL_CMD_RESTART:
        l->restarts = 0;
        return LIFECYCLE_RESTART;
    default:
        *result = VMM_CONTROL_E_UNKNOWN;
        return LIFECYCLE_NOTHING;
    }
}

void lifecycle_stopped_by_command(struct vmm_lifecycle *l)
{
    set_detail(l, "");
    l->gave_up = false;
    set_state(l, VMM_VM_STOPPED, VMM_CAUSE_COMMAND);
}

/* " (detail)" when there is one. */
static int detail_part(const struct vmm_lifecycle *l, char *buf, size_t size)
{
    return l->detail[0] != '\0' ? vmm_snprintf(buf, size, " (%s)", l->detail)
                                : vmm_snprintf(buf, size, "%s", "");
}

/* "2 of 5", or "2 of unlimited". */
static int count_part(const struct vmm_lifecycle *l, char *buf, size_t size)
{
    if (l->max_restarts == VMM_CONFIG_RESTARTS_UNLIMITED) {
        return vmm_snprintf(buf, size, "%u of unlimited", l->restarts);
    }
    return vmm_snprintf(buf, size, "%u of %u", l->restarts, l->max_restarts);
}

int lifecycle_line(const struct vmm_lifecycle *l, const char *vm, char *buf, size_t size)
{
    char detail[LIFECYCLE_DETAIL_SIZE + 4];
    char count[40];
    detail_part(l, detail, sizeof(detail));
    count_part(l, count, sizeof(count));
    const char *cause = lifecycle_cause_text(l->cause);
    switch (l->state) {
    case VMM_VM_RUNNING:
        if (l->cause == VMM_CAUSE_BOOT) {
            return vmm_snprintf(buf, size, "[%s] running after boot", vm);
        }
        if (l->cause == VMM_CAUSE_COMMAND) {
            return vmm_snprintf(buf, size, "[%s] started by a command of its controller", vm);
        }
        return vmm_snprintf(buf, size, "[%s] restarted after %s%s: %s", vm, cause, detail, count);
    case VMM_VM_RESTARTING:
        return vmm_snprintf(buf, size, "[%s] restarting after %s%s in %u ms: %s", vm, cause,
                            detail, l->backoff_ms, count);
    default:
        if (l->cause == VMM_CAUSE_COMMAND) {
            return vmm_snprintf(buf, size, "[%s] stopped by a command of its controller", vm);
        }
        if (l->cause == VMM_CAUSE_START_FAILED) {
            return vmm_snprintf(buf, size, "[%s] stopped: not started%s", vm, detail);
        }
        if (l->gave_up) {
            return vmm_snprintf(buf, size, "[%s] stopped after %s%s: gave up after %s restarts",
                                vm, cause, detail, count);
        }
        return vmm_snprintf(buf, size, "[%s] stopped after %s%s: restart policy '%s'", vm, cause,
                            detail, policy_names[l->policy]);
    }
}
