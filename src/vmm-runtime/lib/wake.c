/*
 * Deadline arithmetic shared by the VMM (when does this idle vCPU need to run again?) and the
 * timer PD (which VMMs are due?). Pure: no seL4, no hardware; the host tests drive it.
 */
#include "vmm_wake.h"

uint64_t wake_add(uint64_t a, uint64_t b)
{
    return b > WAKE_NEVER - a ? WAKE_NEVER : a + b;
}

uint64_t wake_vtimer_deadline(uint64_t cntv_ctl, uint64_t cntv_cval, uint64_t cntvoff,
                              uint64_t now)
{
    if (!(cntv_ctl & WAKE_CNTV_CTL_ENABLE) || (cntv_ctl & WAKE_CNTV_CTL_IMASK)) {
        return WAKE_NEVER;
    }
    /* The guest's virtual count now; modular, as the hardware computes it. */
    uint64_t vnow = now - cntvoff;
    if (cntv_cval <= vnow) {
        return now;
    }
    return wake_add(now, cntv_cval - vnow);
}

void wake_clients_init(struct wake_clients *c, unsigned count)
{
    c->count = count <= WAKE_MAX_CLIENTS ? count : WAKE_MAX_CLIENTS;
    for (unsigned i = 0; i < WAKE_MAX_CLIENTS; i++) {
        c->delivered[i] = WAKE_NEVER;
    }
}

uint64_t wake_clients_scan(struct wake_clients *c, const uint64_t *posted, uint64_t now,
                           bool *due)
{
    uint64_t next = WAKE_NEVER;
    for (unsigned i = 0; i < c->count; i++) {
        uint64_t d = posted[i];
        due[i] = false;
        if (d == WAKE_NEVER || d == c->delivered[i]) {
            continue;
        }
        if (d <= now) {
            due[i] = true;
            c->delivered[i] = d;
        } else if (d < next) {
            next = d;
        }
    }
    return next;
}
