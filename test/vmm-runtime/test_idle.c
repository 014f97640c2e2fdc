/* Idle vCPUs and their wake-ups: the deadline arithmetic, the VMM's decisions, the timer PD's
 * delivery, and the timer PD's config check. */
#include "harness.h"
#include "timer_config.h"
#include "vcpu_idle.h"
#include "vgic.h"
#include "vmm_config.h"
#include "vmm_wake.h"

#define ENABLE WAKE_CNTV_CTL_ENABLE
#define IMASK WAKE_CNTV_CTL_IMASK

static void wake_vtimer(void)
{
    /* Disabled or masked: no deadline. */
    CHECK_EQ(wake_vtimer_deadline(0, 100, 0, 50), WAKE_NEVER);
    CHECK_EQ(wake_vtimer_deadline(ENABLE | IMASK, 100, 0, 50), WAKE_NEVER);
    /* CNTVOFF 0: the deadline is CVAL in physical ticks. */
    CHECK_EQ(wake_vtimer_deadline(ENABLE, 100, 0, 50), 100);
    /* Already met (CVAL <= CNTVCT): now. */
    CHECK_EQ(wake_vtimer_deadline(ENABLE, 40, 0, 50), 50);
    CHECK_EQ(wake_vtimer_deadline(ENABLE, 50, 0, 50), 50);
    /* CNTVCT = CNTPCT - CNTVOFF: a virtual 1000 is physical 1000 + offset. */
    CHECK_EQ(wake_vtimer_deadline(ENABLE, 1000, 300, 1200), 1300);
    /* A guest that sets CVAL far ahead: saturates instead of wrapping into the past. */
    CHECK_EQ(wake_vtimer_deadline(ENABLE, UINT64_MAX, 0, 5), UINT64_MAX);
    CHECK_EQ(wake_vtimer_deadline(ENABLE, UINT64_MAX - 1, 0, 10), UINT64_MAX - 1);
    CHECK_EQ(wake_vtimer_deadline(ENABLE, UINT64_MAX - 1, 90, 100), WAKE_NEVER);
    /* An offset beyond the counter: the virtual count wraps, as the hardware's does. */
    CHECK_EQ(wake_vtimer_deadline(ENABLE, 10, 20, 15), 15);
    CHECK_EQ(wake_add(UINT64_MAX - 3, 10), WAKE_NEVER);
    CHECK_EQ(wake_add(3, 10), 13);
}

static void wake_clients_deliver_once(void)
{
    struct wake_clients c;
    wake_clients_init(&c, 3);
    uint64_t posted[3] = { 100, WAKE_NEVER, 300 };
    bool due[3];
    /* Nothing due yet: the earliest is 100. */
    CHECK_EQ(wake_clients_scan(&c, posted, 50, due), 100);
    CHECK(!due[0] && !due[1] && !due[2]);
    /* At 150 client 0 is due; 300 is next. */
    CHECK_EQ(wake_clients_scan(&c, posted, 150, due), 300);
    CHECK(due[0] && !due[1] && !due[2]);
    /* The same deadline is not delivered twice. */
    CHECK_EQ(wake_clients_scan(&c, posted, 160, due), 300);
    CHECK(!due[0]);
    /* A new deadline of client 0 is. */
    posted[0] = 170;
    CHECK_EQ(wake_clients_scan(&c, posted, 200, due), 300);
    CHECK(due[0]);
    /* Both remaining due at once; then nothing is left. */
    posted[1] = 250;
    CHECK_EQ(wake_clients_scan(&c, posted, 400, due), WAKE_NEVER);
    CHECK(!due[0] && due[1] && due[2]);
    /* Count beyond the table is clamped. */
    wake_clients_init(&c, 1000);
    CHECK_EQ(c.count, WAKE_MAX_CLIENTS);
}

static struct vcpu_idle_wfx wfi(uint64_t deadline, uint64_t now)
{
    return (struct vcpu_idle_wfx){ .wfe = false, .has_work = false, .sibling_runnable = false,
                                   .vtimer_deadline = deadline, .now = now, .wfe_slice = 10 };
}

static void idle_wfi_blocks_until_deadline_or_work(void)
{
    struct vcpu_idle s;
    vcpu_idle_init(&s, 2);
    struct vcpu_idle_wfx w = wfi(500, 100);
    /* Work pending: never sleep. */
    w.has_work = true;
    CHECK(!vcpu_idle_block(&s, 0, &w));
    /* Deadline passed: resume. */
    w = wfi(100, 100);
    CHECK(!vcpu_idle_block(&s, 0, &w));
    /* Otherwise sleep until 500. */
    w = wfi(500, 100);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK(s.blocked[0]);
    CHECK(vcpu_idle_waiting_on_time(&s));
    bool notify;
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 500);
    CHECK(notify);
    /* Posting the same again does not notify. */
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 500);
    CHECK(!notify);
    /* Too early, no work: stays asleep; an interrupt or the deadline wakes it. */
    CHECK(!vcpu_idle_wake(&s, 0, false, 499));
    CHECK(vcpu_idle_wake(&s, 0, false, 500));
    CHECK(!s.blocked[0]);
    /* Nobody waits on time: the slot is left holding 500 (WAKE_NEVER: no write). */
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), WAKE_NEVER);
    CHECK(!notify);
    CHECK(vcpu_idle_block(&s, 1, &w));
    CHECK(vcpu_idle_wake(&s, 1, true, 0));
    /* A vCPU with its timer off sleeps with no deadline until an interrupt. */
    w = wfi(WAKE_NEVER, 100);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK(!vcpu_idle_waiting_on_time(&s));
    CHECK(!vcpu_idle_wake(&s, 0, false, UINT64_MAX - 1));
    CHECK(vcpu_idle_wake(&s, 0, true, 0));
    CHECK_EQ(s.blocks, 3);
    /* Out of range vCPUs are never blocked. */
    CHECK(!vcpu_idle_block(&s, 2, &w));
    CHECK(!vcpu_idle_wake(&s, 7, true, 0));
}

static void idle_post_notifies_only_when_earlier(void)
{
    struct vcpu_idle s;
    vcpu_idle_init(&s, 2);
    bool notify;
    struct vcpu_idle_wfx w = wfi(800, 100);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 800);
    CHECK(notify);
    /* A later deadline of another vCPU leaves the earliest at 800. */
    w = wfi(900, 100);
    CHECK(vcpu_idle_block(&s, 1, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 800);
    CHECK(!notify);
    /* vCPU 0 woken early: the slot moves later, without a notification. */
    CHECK(vcpu_idle_wake(&s, 0, true, 150));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 900);
    CHECK(!notify);
    /* Earlier again: notify. */
    w = wfi(300, 200);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 300);
    CHECK(notify);
    vcpu_idle_reset(&s);
    CHECK(!s.blocked[0] && !s.blocked[1]);
}

static void idle_post_keeps_the_slot_until_the_timer_fires(void)
{
    struct vcpu_idle s;
    vcpu_idle_init(&s, 1);
    bool notify;
    struct vcpu_idle_wfx w = wfi(500, 100);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 500);
    CHECK(notify);
    /* An interrupt wakes it early; the slot keeps 500. */
    CHECK(vcpu_idle_wake(&s, 0, true, 200));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), WAKE_NEVER);
    CHECK(!notify);
    /* It sleeps again until the same guest timer, or a later one: no notification. */
    w = wfi(500, 250);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 500);
    CHECK(!notify);
    CHECK(vcpu_idle_wake(&s, 0, true, 300));
    w = wfi(700, 300);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 700);
    CHECK(!notify);
    /* Earlier than anything written since the timer PD took note: told. */
    CHECK(vcpu_idle_wake(&s, 0, true, 350));
    w = wfi(600, 350);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 600);
    CHECK(notify);
    /* The timer PD delivered: whatever comes next is told, however late. */
    vcpu_idle_timer_fired(&s);
    CHECK(vcpu_idle_wake(&s, 0, false, 600));
    w = wfi(5000, 650);
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(vcpu_idle_post(&s, WAKE_NEVER, &notify), 5000);
    CHECK(notify);
    /* A restart's backoff is a deadline with no vCPU asleep. */
    vcpu_idle_reset(&s);
    vcpu_idle_timer_fired(&s);
    CHECK_EQ(vcpu_idle_post(&s, 9000, &notify), 9000);
    CHECK(notify);
    CHECK_EQ(vcpu_idle_post(&s, 9000, &notify), 9000);
    CHECK(!notify);
}

/* A fixed sequence, so a failure reproduces. */
static uint32_t sim_state;

static uint32_t sim_next(void)
{
    return harness_xorshift32(&sim_state);
}

/* Two VMMs (two vCPUs each) and the timer PD, as the runtime wires them (vmm.c
 * vmm_post_wake_deadline and the timer notification, timer.c deliver_due with the physical
 * timer), their steps interleaved at random: no sleeping vCPU may outlive its deadline. */
struct sim {
    uint64_t now;
    uint64_t armed;                 /* the timer PD's physical timer */
    bool to_timer;                  /* a VMM's notification not yet taken */
    bool to_vmm[2];
    uint64_t slot[2];
    struct vcpu_idle idle[2];
    struct wake_clients clients;
    unsigned long told, woken_for_nothing;
};

static void sim_post(struct sim *m, unsigned c)
{
    bool notify;
    uint64_t d = vcpu_idle_post(&m->idle[c], WAKE_NEVER, &notify);
    if (d != WAKE_NEVER) {
        m->slot[c] = d;
    }
    if (notify) {
        m->to_timer = true;
        m->told++;
    }
}

static void sim_timer_pd(struct sim *m)
{
    bool due[2];
    m->armed = wake_clients_scan(&m->clients, m->slot, m->now, due);
    m->to_timer = false;
    for (unsigned c = 0; c < 2; c++) {
        m->to_vmm[c] |= due[c];
    }
}

static void sim_vmm_timer_notified(struct sim *m, unsigned c)
{
    m->to_vmm[c] = false;
    vcpu_idle_timer_fired(&m->idle[c]);
    bool any = false;
    for (unsigned v = 0; v < 2; v++) {
        any |= vcpu_idle_wake(&m->idle[c], v, false, m->now);
    }
    m->woken_for_nothing += !any;
    sim_post(m, c);
}

static void sim_vmm_step(struct sim *m, unsigned c)
{
    unsigned v = sim_next() % 2;
    if (!m->idle[c].blocked[v]) {
        struct vcpu_idle_wfx w = wfi(m->now + 1 + sim_next() % 400, m->now);
        (void)vcpu_idle_block(&m->idle[c], v, &w);
    } else {
        (void)vcpu_idle_wake(&m->idle[c], v, true, m->now);   /* an interrupt */
    }
    sim_post(m, c);
}

static void idle_wake_protocol_loses_no_deadline(void)
{
    struct sim m = { .now = 1000, .armed = WAKE_NEVER, .slot = { WAKE_NEVER, WAKE_NEVER } };
    sim_state = 0x1234567u;
    vcpu_idle_init(&m.idle[0], 2);
    vcpu_idle_init(&m.idle[1], 2);
    wake_clients_init(&m.clients, 2);
    for (unsigned step = 0; step < 200000; step++) {
        unsigned pick = sim_next() % 8;
        if (pick < 2) {
            sim_vmm_step(&m, pick);
        } else if (pick < 4 && m.to_vmm[pick - 2]) {
            sim_vmm_timer_notified(&m, pick - 2);
        } else if (pick == 4 && m.to_timer) {
            sim_timer_pd(&m);
        } else if (pick == 5 && !m.to_timer && !m.to_vmm[0] && !m.to_vmm[1]) {
            /* Time passes, up to the timer PD's interrupt, which it then takes. */
            uint64_t next = m.now + 1 + sim_next() % 300;
            if (m.armed <= next) {
                m.now = m.armed > m.now ? m.armed : m.now;
                sim_timer_pd(&m);
            } else {
                m.now = next;
            }
        }
        if (m.to_timer || m.to_vmm[0] || m.to_vmm[1]) {
            continue;
        }
        /* Quiet: every sleeping vCPU is due only in the future. */
        for (unsigned c = 0; c < 2; c++) {
            for (unsigned v = 0; v < 2; v++) {
                if (m.idle[c].blocked[v] && m.idle[c].wake_at[v] <= m.now) {
                    CHECK(!"a sleeping vCPU outlived its deadline");
                    return;
                }
            }
        }
    }
    /* Fewer notifications than sleeps: the point of keeping the slot. */
    CHECK(m.told < m.idle[0].blocks + m.idle[1].blocks);
    CHECK(m.woken_for_nothing > 0);
}

static void idle_wfe_yields_to_a_sibling(void)
{
    struct vcpu_idle s;
    vcpu_idle_init(&s, 2);
    struct vcpu_idle_wfx w = wfi(WAKE_NEVER, 100);
    w.wfe = true;
    /* Nobody to wait for: resume at once (a __delay() loop keeps its resolution). */
    CHECK(!vcpu_idle_block(&s, 0, &w));
    /* A sibling runs: sleep at most one event-stream period. */
    w.sibling_runnable = true;
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(s.wake_at[0], 110);
    /* The sibling's exit lets it go on. */
    CHECK(!vcpu_idle_wake(&s, 0, false, 105));
    vcpu_idle_exit_seen(&s, 0);     /* its own exit does not count */
    CHECK(!vcpu_idle_wake(&s, 0, false, 105));
    vcpu_idle_exit_seen(&s, 1);
    CHECK(vcpu_idle_wake(&s, 0, false, 105));
    /* The timer deadline bounds it too when earlier than the slice. */
    w.vtimer_deadline = 104;
    CHECK(vcpu_idle_block(&s, 0, &w));
    CHECK_EQ(s.wake_at[0], 104);
    CHECK(vcpu_idle_wake(&s, 0, false, 104));
}

static bool inject_ok(void *ctx, unsigned vcpu, unsigned lr, uint16_t intid, uint8_t prio,
                      uint8_t group)
{
    (void)ctx, (void)vcpu, (void)lr, (void)intid, (void)prio, (void)group;
    return true;
}

static void idle_vgic_work(void)
{
    static const struct vgic_ops ops = { inject_ok };
    static struct vgic v;
    vgic_init(&v, 2, &ops, NULL);
    CHECK(!vgic_vcpu_has_work(&v, 0));
    CHECK(!vgic_vcpu_has_work(&v, 5));
    v.vcpu[1].lr[2] = 28;
    CHECK(vgic_vcpu_has_work(&v, 1));
    CHECK(!vgic_vcpu_has_work(&v, 0));
    v.vcpu[0].queue_len = 1;
    CHECK(vgic_vcpu_has_work(&v, 0));
}

/* ---------------------------------------------------------------- timer PD config */

static uint8_t tblob[TIMER_CONFIG_RESERVED_SIZE];

static struct timer_config *tcfg(void)
{
    return (struct timer_config *)(void *)tblob;
}

static void tseal(void)
{
    tcfg()->crc32 = 0;
    tcfg()->crc32 = vmm_config_crc32(tblob, tcfg()->total_size);
}

static void make_timer(void)
{
    memset(tblob, 0, sizeof(tblob));
    struct timer_config *c = tcfg();
    c->magic = TIMER_CONFIG_MAGIC;
    c->version = TIMER_CONFIG_VERSION;
    c->header_size = sizeof(struct timer_config);
    c->total_size = sizeof(struct timer_config);
    c->source = TIMER_SOURCE_SCHED_TICK;
    c->irq_channel = TIMER_CONFIG_NO_CHANNEL;
    c->tick_us = 1000;
    c->client_count = 2;
    c->clients[0] = (struct timer_config_client){ .slot_vaddr = 0x2000000000, .channel = 0 };
    c->clients[1] = (struct timer_config_client){ .slot_vaddr = 0x2000001000, .channel = 1 };
    tseal();
}

static bool tcheck(char *err, size_t n)
{
    return timer_config_check(tblob, sizeof(tblob), err, n);
}

static void timer_config_accepts(void)
{
    char err[200] = "";
    make_timer();
    CHECK(tcheck(err, sizeof(err)));
    tcfg()->source = TIMER_SOURCE_ARM_PTIMER;
    tcfg()->irq_channel = 2;
    tseal();
    CHECK(tcheck(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
}

static void t_magic(struct timer_config *c) { c->magic = VMM_CONFIG_MAGIC; }
static void t_source(struct timer_config *c) { c->source = 9; }
static void t_ptimer_no_irq(struct timer_config *c) { c->source = TIMER_SOURCE_ARM_PTIMER; }
static void t_tick_irq(struct timer_config *c) { c->irq_channel = 3; }
static void t_tick_zero(struct timer_config *c) { c->tick_us = 0; }
static void t_no_clients(struct timer_config *c) { c->client_count = 0; }
static void t_many(struct timer_config *c) { c->client_count = 62; }
static void t_chan(struct timer_config *c) { c->clients[1].channel = 62; }
static void t_same_chan(struct timer_config *c) { c->clients[1].channel = 0; }
static void t_same_slot(struct timer_config *c) { c->clients[1].slot_vaddr = 0x2000000000; }
static void t_slot_zero(struct timer_config *c) { c->clients[0].slot_vaddr = 0; }
static void t_slot_unaligned(struct timer_config *c) { c->clients[0].slot_vaddr = 0x2000000008; }
static void t_irq_clash(struct timer_config *c)
{
    c->source = TIMER_SOURCE_ARM_PTIMER;
    c->irq_channel = 1;
}
static void t_reserved(struct timer_config *c) { c->clients[0].reserved[6] = 1; }

static const struct {
    const char *expect;
    void (*apply)(struct timer_config *);
} tmutations[] = {
    { "bad magic", t_magic },
    { "unknown time source 9", t_source },
    { "needs an interrupt channel", t_ptimer_no_irq },
    { "has no interrupt, but channel 3", t_tick_irq },
    { "period of 0 us", t_tick_zero },
    { "client count 0", t_no_clients },
    { "client count 62", t_many },
    { "client 1 has channel 62", t_chan },
    { "clients 0 and 1 share", t_same_chan },
    { "clients 0 and 1 share", t_same_slot },
    { "client 0 has wake slot address 0x0", t_slot_zero },
    { "client 0 has wake slot address 0x2000000008", t_slot_unaligned },
    { "client 1 shares channel 1 with the timer interrupt", t_irq_clash },
    { "client 0 has non-zero reserved bytes", t_reserved },
};

static void timer_config_rejects(void)
{
    for (size_t i = 0; i < sizeof(tmutations) / sizeof(tmutations[0]); i++) {
        char err[200] = "";
        make_timer();
        tmutations[i].apply(tcfg());
        tseal();
        CHECK(!tcheck(err, sizeof(err)));
        CHECK_CONTAINS(err, tmutations[i].expect);
    }
    char err[200] = "";
    make_timer();
    tblob[100] ^= 1;    /* not resealed */
    CHECK(!tcheck(err, sizeof(err)));
    CHECK_CONTAINS(err, "checksum mismatch");
}

HARNESS_SUITE(idle_tests) = {
    { "idle: the virtual timer's deadline in physical ticks", wake_vtimer },
    { "idle: the timer PD delivers each deadline once", wake_clients_deliver_once },
    { "idle: WFI sleeps until its deadline or an interrupt", idle_wfi_blocks_until_deadline_or_work },
    { "idle: the wake slot is re-posted, the timer notified only for earlier deadlines", idle_post_notifies_only_when_earlier },
    { "idle: the slot keeps its deadline; the timer PD is told only what it cannot have seen", idle_post_keeps_the_slot_until_the_timer_fires },
    { "idle: VMMs and the timer PD interleaved at random lose no deadline", idle_wake_protocol_loses_no_deadline },
    { "idle: WFE waits for a running sibling, one event-stream period at most", idle_wfe_yields_to_a_sibling },
    { "idle: the vGIC says when a vCPU has an interrupt to take", idle_vgic_work },
    { "timer config: accepts a tick and a physical-timer blob", timer_config_accepts },
    { "timer config: rejects each bad field", timer_config_rejects },
    HARNESS_END,
};
