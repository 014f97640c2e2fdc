/*
 * Wake-ups for idle vCPUs: the protocol between a VMM and the timer protection domain that
 * sel4cp-synth generates for every system with blocking guests (`vmm_timer`).
 *
 * A vCPU that executes WFI (or WFE) with nothing to do is suspended by its VMM instead of being
 * resumed at once; it needs waking when its virtual timer would fire. seL4 gives user level no
 * timeouts, so one timer PD owns a time source and serves every VMM:
 *
 *   - each VMM owns one 4 KiB wake slot, mapped read-write into the VMM and read-only into the
 *     timer PD, holding the earliest physical-counter value (CNTPCT_EL0 ticks) at which one of
 *     its vCPUs must run again, or WAKE_NEVER;
 *   - the VMM writes each new deadline into the slot, and notifies the timer PD only when it is
 *     earlier than one the timer PD has seen there since it last took note (the VMM's
 *     notification, or its own): the timer PD looks at the slot again by the deadline it saw,
 *     and the deadlines written since without a notification never decrease, so it finds the
 *     newest on time (fires early, finds nothing due, re-arms). A VMM with no vCPU asleep
 *     leaves the slot as it is: one wake-up for nothing costs less than a notification at the
 *     next sleep, which is usually until the same guest timer (vcpu_idle_post);
 *   - when a slot's deadline has passed the timer PD notifies that VMM once, which then resumes
 *     the vCPUs that are due and posts its next deadline, telling the timer PD again (it arms
 *     nothing more for a client it has delivered to).
 *
 * A slot is one naturally aligned 64-bit word, written with a single store (single-copy atomic
 * on AArch64, Arm ARM B2.2.1), so the reader never sees half a deadline. Nothing else crosses:
 * a VMM can only move its own wake-ups, and the timer PD, which cannot write any slot, can only
 * delay or hasten a VMM's notification.
 *
 * Deadlines are in physical-counter ticks because the VMM and the timer PD both read
 * CNTPCT_EL0 (seL4's KernelArmExportPCNTUser, set for every Microkit board) and a guest's
 * virtual counter is CNTPCT - CNTVOFF (Arm ARM D11.2.4), with CNTVOFF fixed: Microkit builds
 * seL4 without KernelArmVtimerUpdateVOffset, so guest time runs on while a vCPU sleeps.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define WAKE_NEVER UINT64_MAX

/* The slot: the first 8 bytes of its page; the rest is reserved (zero). */
struct wake_slot {
    volatile uint64_t deadline;
};
_Static_assert(sizeof(struct wake_slot) == 8, "wake slot layout");

#define WAKE_SLOT_REGION_SIZE 0x1000u

/* CNTV_CTL_EL0 bits (Arm ARM D13.8.16). */
#define WAKE_CNTV_CTL_ENABLE  (1u << 0)
#define WAKE_CNTV_CTL_IMASK   (1u << 1)

/*
 * When a guest's virtual timer raises its interrupt, in physical-counter ticks: the timer
 * condition is CNTVCT >= CVAL with CNTVCT = CNTPCT - CNTVOFF (unsigned 64-bit, Arm ARM
 * D11.2.4). Returns `now` if it is met already, WAKE_NEVER if the timer is disabled or masked
 * or fires beyond 2^64 - 1. All three values are the guest's; none is trusted.
 */
uint64_t wake_vtimer_deadline(uint64_t cntv_ctl, uint64_t cntv_cval, uint64_t cntvoff,
                              uint64_t now);

/* a + b, saturating at WAKE_NEVER. */
uint64_t wake_add(uint64_t a, uint64_t b);

/* The timer PD's view of its clients: what it last delivered to each. */
#define WAKE_MAX_CLIENTS 61u

struct wake_clients {
    unsigned count;
    /* The deadline last delivered to each client; WAKE_NEVER until one was. */
    uint64_t delivered[WAKE_MAX_CLIENTS];
};

void wake_clients_init(struct wake_clients *c, unsigned count);

/*
 * One pass over the clients' posted deadlines (`posted[i]`, read once by the caller) at time
 * `now`: sets due[i] for each client whose deadline has passed and was not delivered yet (and
 * records it as delivered), and returns the earliest deadline still to come (WAKE_NEVER if
 * none). A deadline equal to the one delivered is not delivered twice.
 */
uint64_t wake_clients_scan(struct wake_clients *c, const uint64_t *posted, uint64_t now,
                           bool *due);
