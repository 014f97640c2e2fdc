/*
 * Idle vCPUs: the decisions of vcpu_idle.h. Pure; the host tests drive it.
 */
#include "vcpu_idle.h"
#include "vmm_wake.h"

void vcpu_idle_init(struct vcpu_idle *s, unsigned nr_vcpus)
{
    s->nr_vcpus = nr_vcpus <= VMM_CONFIG_MAX_VCPUS ? nr_vcpus : VMM_CONFIG_MAX_VCPUS;
    s->posted = WAKE_NEVER;
    s->blocks = 0;
    vcpu_idle_reset(s);
}

void vcpu_idle_reset(struct vcpu_idle *s)
{
    for (unsigned v = 0; v < VMM_CONFIG_MAX_VCPUS; v++) {
        s->blocked[v] = false;
        s->in_wfe[v] = false;
        s->sibling_exited[v] = false;
        s->wake_at[v] = WAKE_NEVER;
    }
}

bool vcpu_idle_block(struct vcpu_idle *s, unsigned vcpu, const struct vcpu_idle_wfx *w)
{
    if (vcpu >= s->nr_vcpus || w->has_work) {
        return false;
    }
    uint64_t deadline = w->vtimer_deadline;
    if (w->wfe) {
        if (!w->sibling_runnable) {
            return false;
        }
        uint64_t slice_end = wake_add(w->now, w->wfe_slice);
        deadline = slice_end < deadline ? slice_end : deadline;
    }
    if (deadline <= w->now) {
        return false;
    }
    s->blocked[vcpu] = true;
    s->in_wfe[vcpu] = w->wfe;
    s->sibling_exited[vcpu] = false;
    s->wake_at[vcpu] = deadline;
    s->blocks++;
    return true;
}

void vcpu_idle_exit_seen(struct vcpu_idle *s, unsigned vcpu)
{
    for (unsigned v = 0; v < s->nr_vcpus; v++) {
        if (v != vcpu && s->blocked[v] && s->in_wfe[v]) {
            s->sibling_exited[v] = true;
        }
    }
}

bool vcpu_idle_wake(struct vcpu_idle *s, unsigned vcpu, bool has_work, uint64_t now)
{
    if (vcpu >= s->nr_vcpus || !s->blocked[vcpu]) {
        return false;
    }
    if (!has_work && !s->sibling_exited[vcpu] && now < s->wake_at[vcpu]) {
        return false;
    }
    s->blocked[vcpu] = false;
    s->in_wfe[vcpu] = false;
    s->sibling_exited[vcpu] = false;
    s->wake_at[vcpu] = WAKE_NEVER;
    return true;
}

bool vcpu_idle_waiting_on_time(const struct vcpu_idle *s)
{
    for (unsigned v = 0; v < s->nr_vcpus; v++) {
        if (s->blocked[v] && s->wake_at[v] != WAKE_NEVER) {
            return true;
        }
    }
    return false;
}

uint64_t vcpu_idle_post(struct vcpu_idle *s, uint64_t also, bool *notify)
{
    uint64_t earliest = also;
    for (unsigned v = 0; v < s->nr_vcpus; v++) {
        if (s->blocked[v] && s->wake_at[v] < earliest) {
            earliest = s->wake_at[v];
        }
    }
    *notify = false;
    if (earliest == WAKE_NEVER) {
        return WAKE_NEVER;
    }
    /* posted == WAKE_NEVER (nothing noted since the timer PD's last delivery) falls here too. */
    *notify = earliest < s->posted;
    s->posted = earliest;
    return earliest;
}

void vcpu_idle_timer_fired(struct vcpu_idle *s)
{
    s->posted = WAKE_NEVER;
}
