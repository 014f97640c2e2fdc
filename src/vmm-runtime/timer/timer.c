/*
 * The timer protection domain: wakes idle vCPUs on time for every VMM of the system (the
 * protocol is in vmm_wake.h; the source and the clients come from the config blob).
 *
 * init():     check the blob; nothing is due yet.
 * notified(): a VMM moved its deadline earlier, or (ARM_PTIMER) the timer interrupt fired:
 *             deliver what is due, set the source for the earliest deadline still to come.
 *             With SCHED_TICK, while any deadline is pending, stay in a loop that sleeps one
 *             period at a time (seL4_Yield on a sporadic scheduling context) and checks again.
 *
 * Nothing a VMM writes can do more than move its own wake-ups: slots are read, never trusted
 * as anything but a number, and every VMM is notified at most once per deadline it posts.
 */
#include <microkit.h>

#include "timer_config.h"
#include "vmm_fmt.h"
#include "vmm_wake.h"

/* Microkit 2.0.1 and 2.3.0 libmicrokit/src/main.c: the PD's input (notification or endpoint)
 * and reply object; the handler loop receives on them. */
#define INPUT_CAP 1
#define REPLY_CAP 4

__attribute__((section(TIMER_CONFIG_SECTION), aligned(8), used))
uint8_t timer_config_blob[TIMER_CONFIG_RESERVED_SIZE];

const char vmm_log_prefix[] = "vmm_timer: ";

static const struct timer_config *config;
static struct wake_clients clients;

void vmm_log_sink(const char *s)
{
    microkit_dbg_puts(s);
}

static uint64_t counter_now(void)
{
    uint64_t v;
    /* The ISB keeps the read from being taken early (Arm ARM D11.2.2). */
    __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
    return v;
}

/* CNTP_CTL_EL0.ENABLE with IMASK clear; 0 disables (Arm ARM D13.8.13). */
static void ptimer_set(uint64_t deadline)
{
    if (deadline == WAKE_NEVER) {
        __asm__ volatile("msr cntp_ctl_el0, %0\n\tisb" : : "r"((uint64_t)0));
        return;
    }
    __asm__ volatile("msr cntp_cval_el0, %0\n\tmsr cntp_ctl_el0, %1\n\tisb"
                     : : "r"(deadline), "r"((uint64_t)1));
}

/* Notifies every client whose deadline has passed; returns the earliest still to come. */
static uint64_t deliver_due(void)
{
    uint64_t posted[WAKE_MAX_CLIENTS];
    bool due[WAKE_MAX_CLIENTS];
    for (unsigned i = 0; i < clients.count; i++) {
        const struct wake_slot *slot =
            (const struct wake_slot *)(uintptr_t)config->clients[i].slot_vaddr;
        posted[i] = slot->deadline;
    }
    uint64_t next = wake_clients_scan(&clients, posted, counter_now(), due);
    for (unsigned i = 0; i < clients.count; i++) {
        if (due[i]) {
            microkit_notify(config->clients[i].channel);
        }
    }
    return next;
}

/* SCHED_TICK: sleep a period at a time while anything is pending. Notifications that arrive
 * meanwhile are collected without blocking: each only says "read the slots again". */
static void tick_until_idle(uint64_t next)
{
    while (next != WAKE_NEVER) {
        seL4_Yield();
        seL4_Word badge;
        (void)seL4_NBRecv(INPUT_CAP, &badge, REPLY_CAP);
        next = deliver_due();
    }
}

void init(void)
{
    char err[200];
    if (!timer_config_check(timer_config_blob, sizeof(timer_config_blob), err, sizeof(err))) {
        vmm_log("config blob rejected: %s (protection domain '%s'); no wake-ups will be "
                "delivered", err, microkit_name);
        return;
    }
    config = (const struct timer_config *)(const void *)timer_config_blob;
    wake_clients_init(&clients, config->client_count);
    if (config->source == TIMER_SOURCE_ARM_PTIMER) {
        ptimer_set(WAKE_NEVER);
        /* The PPI may be pending from before this PD ran; our handler decides. */
        microkit_irq_ack(config->irq_channel);
    }
}

void notified(microkit_channel ch)
{
    if (config == NULL) {
        return;
    }
    uint64_t next = deliver_due();
    if (config->source == TIMER_SOURCE_ARM_PTIMER) {
        /* Re-arm before the ack: the level interrupt stays asserted while CVAL is behind the
         * counter, so acking first would bring it straight back. A deadline that passes in
         * between makes the timer fire at once, which is what we want. */
        ptimer_set(next);
        if (ch == config->irq_channel) {
            microkit_irq_ack(ch);
        }
        return;
    }
    tick_until_idle(next);
}
