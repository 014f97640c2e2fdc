/*
 * Idle vCPUs: when a trapped WFI/WFE suspends a vCPU, and when it runs again. Pure state and
 * decisions; vmm.c carries them out (TCB_Suspend / TCB_Resume, the wake slot, the timer PD).
 *
 * WFI (Arm ARM D1.16.2) waits for an interrupt: the vCPU sleeps until the vGIC holds one for
 * it, or until its virtual timer's deadline, which the timer PD is asked to signal.
 *
 * WFE waits for an event, and events from other CPUs (SEV, a store clearing the exclusive
 * monitor) do not trap, so we can never know one came. Linux uses WFE in spin-waits on
 * another CPU (qspinlock's smp_cond_load, the lock holder's store wakes it) and in __delay()
 * bounded by the 10 kHz event stream. All vCPUs of a VM share one core here, so a WFE that
 * spins only keeps the CPU from the sibling it waits for: with a sibling runnable the vCPU
 * sleeps until that sibling next exits to us, its timer deadline, or one event-stream period
 * (whichever is first), like KVM's "yield on WFE". With no sibling runnable there is nobody
 * to wait for and it resumes at once, so __delay() keeps its resolution.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm_config.h"

struct vcpu_idle {
    unsigned nr_vcpus;
    bool blocked[VMM_CONFIG_MAX_VCPUS];
    bool in_wfe[VMM_CONFIG_MAX_VCPUS];           /* blocked in WFE: a sibling's exit wakes it */
    bool sibling_exited[VMM_CONFIG_MAX_VCPUS];
    uint64_t wake_at[VMM_CONFIG_MAX_VCPUS];      /* physical-counter deadline, WAKE_NEVER */
    /* The latest deadline written to the wake slot since the timer PD last took note of it (our
     * notification, or its own when it delivered one); WAKE_NEVER when it may hold nothing for
     * us. See vcpu_idle_post. */
    uint64_t posted;
    unsigned long blocks;                       /* vCPU suspensions (for the exits line) */
};

void vcpu_idle_init(struct vcpu_idle *s, unsigned nr_vcpus);

/* What a trapped WFI (`wfe` false) or WFE of `vcpu` should do. */
struct vcpu_idle_wfx {
    bool wfe;
    bool has_work;              /* vgic_vcpu_has_work() */
    bool sibling_runnable;      /* another vCPU of the VM is on and not blocked */
    uint64_t vtimer_deadline;   /* wake_vtimer_deadline() */
    uint64_t now;
    uint64_t wfe_slice;         /* one event-stream period, in counter ticks */
};

/* Returns true if `vcpu` is to be suspended (and records it as blocked until its deadline),
 * false if it is to be resumed at once. */
bool vcpu_idle_block(struct vcpu_idle *s, unsigned vcpu, const struct vcpu_idle_wfx *w);

/* `vcpu` exited to the VMM: siblings sleeping in WFE may go on. */
void vcpu_idle_exit_seen(struct vcpu_idle *s, unsigned vcpu);

/* Whether blocked `vcpu` should run again now (and, if so, marks it running). */
bool vcpu_idle_wake(struct vcpu_idle *s, unsigned vcpu, bool has_work, uint64_t now);

/* Whether any blocked vCPU waits for a deadline (the caller then reads the counter). */
bool vcpu_idle_waiting_on_time(const struct vcpu_idle *s);

/*
 * What this VMM's wake slot should hold now: the earliest of its blocked vCPUs' deadlines and
 * `also` (a restart's backoff). Returns WAKE_NEVER when the slot is to be left as it is: with
 * nothing to wait for, the deadline already there stays (the timer PD then wakes the VMM once
 * for nothing, where writing WAKE_NEVER would cost a notification at the next sleep).
 *
 * Sets *notify when the timer PD must be told, and only then: when nothing it has seen since
 * it last took note of the slot bounds the new deadline. After that point the timer PD looks
 * at the slot again no later than the deadline it saw there, and every deadline written since
 * without a notification is no earlier (they never decrease), so it finds the newest on time.
 * Its own notification (vcpu_idle_timer_fired) delivered what it saw and arms nothing more for
 * us, so the next deadline is told again.
 */
uint64_t vcpu_idle_post(struct vcpu_idle *s, uint64_t also, bool *notify);

/* The timer PD notified us: it delivered the deadline it saw in the slot and holds none. */
void vcpu_idle_timer_fired(struct vcpu_idle *s);

/* Forgets every blocked vCPU (the VM stopped or restarts). */
void vcpu_idle_reset(struct vcpu_idle *s);
