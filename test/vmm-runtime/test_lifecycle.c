/* A VM's life cycle (lib/lifecycle.c): the restart policies, the count and its limit, the
 * controlling PD's commands (hostile values included) and the console lines; the net link's
 * state (version 2) across a peer's restart; virtio devices reset with their links kept. */
#include "harness.h"

#include <stdlib.h>

#include "net_link.h"
#include "vmm_lifecycle.h"
#include "vmm_virtio.h"

static struct vmm_lifecycle life;

static void life_with(uint8_t policy, uint32_t max, uint32_t backoff)
{
    struct vmm_config c;
    memset(&c, 0, sizeof(c));
    c.restart_policy = policy;
    c.max_restarts = max;
    c.backoff_ms = backoff;
    lifecycle_init(&life, &c);
    lifecycle_running(&life, VMM_CAUSE_BOOT);
}

static const char *line(void)
{
    static char buf[400];
    lifecycle_line(&life, "web", buf, sizeof(buf));
    return buf;
}

static void policy_never_stays_stopped(void)
{
    life_with(VMM_CONFIG_RESTART_NEVER, 5, 0);
    CHECK(strcmp(line(), "[web] running after boot") == 0);
    CHECK_EQ(lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_FAULT, "vCPU 0: x"), LIFECYCLE_NOTHING);
    CHECK_EQ(life.state, VMM_VM_STOPPED);
    CHECK(strcmp(line(), "[web] stopped after guest fault (vCPU 0: x): restart policy 'never'") == 0);
}

static void policy_on_failure_counts_to_its_limit(void)
{
    life_with(VMM_CONFIG_RESTART_ON_FAILURE, 2, 0);
    CHECK_EQ(lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_RESET, ""), LIFECYCLE_RESTART);
    CHECK_EQ(life.state, VMM_VM_RESTARTING);
    lifecycle_running(&life, life.cause);
    CHECK(strcmp(line(), "[web] restarted after guest reset (PSCI SYSTEM_RESET): 1 of 2") == 0);
    CHECK_EQ(lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_FAULT, "d"), LIFECYCLE_RESTART);
    lifecycle_running(&life, life.cause);
    CHECK(strcmp(line(), "[web] restarted after guest fault (d): 2 of 2") == 0);
    CHECK_EQ(life.incarnation, 3);
    CHECK_EQ(lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_FAULT, "d"), LIFECYCLE_NOTHING);
    CHECK(life.gave_up);
    CHECK(strcmp(line(), "[web] stopped after guest fault (d): gave up after 2 of 2 restarts") == 0);
}

static void policy_on_failure_keeps_a_poweroff_off(void)
{
    life_with(VMM_CONFIG_RESTART_ON_FAILURE, 5, 0);
    CHECK_EQ(lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_OFF, ""), LIFECYCLE_NOTHING);
    CHECK_EQ(life.restarts, 0);
    CHECK(strcmp(line(), "[web] stopped after guest power-off (PSCI SYSTEM_OFF): restart policy "
                         "'on-failure'") == 0);
    life_with(VMM_CONFIG_RESTART_ALWAYS, VMM_CONFIG_RESTARTS_UNLIMITED, 250);
    CHECK_EQ(lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_OFF, ""), LIFECYCLE_RESTART);
    CHECK(strcmp(line(), "[web] restarting after guest power-off (PSCI SYSTEM_OFF) in 250 ms: "
                         "1 of unlimited") == 0);
}

static void commands_are_checked(void)
{
    life_with(VMM_CONFIG_RESTART_ON_FAILURE, 1, 0);
    int32_t result;
    CHECK_EQ(lifecycle_command(&life, 0xdeadbeefu, &result), LIFECYCLE_NOTHING);
    CHECK_EQ(result, VMM_CONTROL_E_UNKNOWN);
    CHECK_EQ(lifecycle_command(&life, VMM_CONTROL_CMD_NONE, &result), LIFECYCLE_NOTHING);
    CHECK_EQ(result, VMM_CONTROL_E_UNKNOWN);
    CHECK_EQ(lifecycle_command(&life, VMM_CONTROL_CMD_START, &result), LIFECYCLE_NOTHING);
    CHECK_EQ(result, VMM_CONTROL_E_STATE);
    CHECK_EQ(lifecycle_command(&life, VMM_CONTROL_CMD_STOP, &result), LIFECYCLE_STOP);
    CHECK_EQ(result, VMM_CONTROL_OK);
    lifecycle_stopped_by_command(&life);
    CHECK(strcmp(line(), "[web] stopped by a command of its controller") == 0);
    CHECK_EQ(lifecycle_command(&life, VMM_CONTROL_CMD_STOP, &result), LIFECYCLE_NOTHING);
    CHECK_EQ(result, VMM_CONTROL_E_STATE);
    /* At its limit, a START gives the policy its count back. */
    life.restarts = 1;
    CHECK_EQ(lifecycle_command(&life, VMM_CONTROL_CMD_START, &result), LIFECYCLE_START);
    CHECK_EQ(life.restarts, 0);
    lifecycle_running(&life, VMM_CAUSE_COMMAND);
    CHECK(strcmp(line(), "[web] started by a command of its controller") == 0);
    CHECK_EQ(lifecycle_command(&life, VMM_CONTROL_CMD_RESTART, &result), LIFECYCLE_RESTART);
    uint32_t seq = life.state_seq;
    lifecycle_running(&life, VMM_CAUSE_COMMAND);
    CHECK_EQ(life.state_seq, seq + 1);
}

static void long_details_are_cut_not_overrun(void)
{
    life_with(VMM_CONFIG_RESTART_ON_FAILURE, 5, 0);
    char big[600];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    lifecycle_guest_stopped(&life, VMM_CAUSE_GUEST_FAULT, big);
    CHECK_EQ(strlen(life.detail), LIFECYCLE_DETAIL_SIZE - 1);
    char small[16];
    lifecycle_line(&life, "web", small, sizeof(small));
    CHECK_EQ(strlen(small), sizeof(small) - 1);
}

/* ---------------------------------------------------------------- link state */

static uint8_t *region_new(uint32_t capacity)
{
    uint64_t size = net_link_region_size(capacity);
    uint8_t *r = aligned_alloc(4096, size);
    memset(r, 0, size);
    return r;
}

static void link_state_down_and_up(void)
{
    struct net_link_end tx, rx;
    uint8_t *r = region_new(4);
    uint64_t size = net_link_region_size(4);
    CHECK(net_link_tx_init(&tx, r, size, 4, "a->b"));
    CHECK(net_link_rx_init(&rx, r, size, 4, "a->b"));
    bool up = false;
    CHECK(!net_link_rx_peer_state(&rx, &up));      /* not attached yet */
    const uint8_t *f;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&rx, &f, &n), NET_LINK_EMPTY);
    CHECK(!net_link_rx_peer_state(&rx, &up));
    CHECK(up);
    net_link_tx_set_state(&tx, false);
    CHECK(net_link_rx_peer_state(&rx, &up));
    CHECK(!up);
    CHECK(!net_link_rx_peer_state(&rx, &up));
    /* A restart between two looks (down, up) is still seen. */
    net_link_tx_set_state(&tx, false);
    net_link_tx_set_state(&tx, true);
    CHECK(net_link_rx_peer_state(&rx, &up));
    CHECK(up);
    /* A hostile state value reads as down, never as anything else. */
    ((struct net_link_header *)(void *)r)->link_state = 0x77;
    ((struct net_link_header *)(void *)r)->link_epoch += 1;
    CHECK(net_link_rx_peer_state(&rx, &up));
    CHECK(!up);
    free(r);
}

static void link_drop_all_returns_the_buffers(void)
{
    struct net_link_end tx, rx;
    uint8_t *r = region_new(4);
    uint64_t size = net_link_region_size(4);
    CHECK(net_link_tx_init(&tx, r, size, 4, "a->b"));
    CHECK(net_link_rx_init(&rx, r, size, 4, "a->b"));
    for (unsigned i = 0; i < 4; i++) {
        uint8_t *buf;
        CHECK_EQ(net_link_tx_acquire(&tx, &buf), NET_LINK_OK);
        memset(buf, 0xab, 60);
        CHECK_EQ(net_link_tx_publish(&tx, 60), NET_LINK_OK);
    }
    uint8_t *buf;
    CHECK_EQ(net_link_tx_acquire(&tx, &buf), NET_LINK_EMPTY);
    CHECK_EQ(net_link_rx_drop_all(&rx), 4);
    CHECK_EQ(net_link_rx_drop_all(&rx), 0);
    CHECK_EQ(net_link_tx_acquire(&tx, &buf), NET_LINK_OK);
    /* A hostile sender's tail is a link error, not a loop. */
    struct net_link_queue *active = (struct net_link_queue *)(void *)(r + NET_LINK_ACTIVE_OFFSET(4));
    active->tail = (uint16_t)(active->tail + 100u);
    CHECK_EQ(net_link_rx_drop_all(&rx), -1);
    free(r);
}

/* ---------------------------------------------------------------- virtio reset */

static unsigned notified_channels;
static void count_notify(unsigned ch)
{
    notified_channels |= 1u << ch;
}
static void no_ack(unsigned ch)
{
    (void)ch;
}
static void virtio_reset_keeps_the_links(void)
{
    static struct vmm_config c;
    static struct vmm_virtio vv;
    static struct vgic vgic;
    static uint8_t ram[0x10000] __attribute__((aligned(4096)));
    memset(&c, 0, sizeof(c));
    uint64_t size = net_link_region_size(4);
    uint8_t *ours = region_new(4), *theirs = region_new(4);
    c.ram_guest_base = 0x40000000;
    c.ram_size = sizeof(ram);
    c.ram_vmm_vaddr = (uint64_t)(uintptr_t)ram;
    c.virtio_count = 1;
    c.virtio[0] = (struct vmm_config_virtio){ .guest_base = 0xa000000, .intid = 40,
        .kind = VMM_CONFIG_VIRTIO_NET, .channel = 3, .a_vaddr = (uint64_t)(uintptr_t)ours,
        .a_size = size, .b_vaddr = (uint64_t)(uintptr_t)theirs, .b_size = size, .capacity = 4 };
    vgic_init(&vgic, 1, &harness_vgic_ops, NULL);
    struct vmm_virtio_env env = { count_notify, no_ack, "a", &vgic, 0 };
    char err[200];
    CHECK(vmm_virtio_init(&vv, &c, &env, err, sizeof(err)));
    /* The peer: receives on ours, sends on theirs (one frame waiting for our old guest). */
    struct net_link_end peer_rx, peer_tx;
    CHECK(net_link_rx_init(&peer_rx, ours, size, 4, "a->b"));
    CHECK(net_link_tx_init(&peer_tx, theirs, size, 4, "b->a"));
    const uint8_t *f;
    uint32_t n;
    CHECK_EQ(net_link_rx_peek(&peer_rx, &f, &n), NET_LINK_EMPTY);
    uint8_t *buf;
    CHECK_EQ(net_link_tx_acquire(&peer_tx, &buf), NET_LINK_OK);
    CHECK_EQ(net_link_tx_publish(&peer_tx, 60), NET_LINK_OK);
    notified_channels = 0;
    vmm_virtio_guest_down(&vv);
    CHECK(notified_channels & (1u << 3));
    bool up = true;
    CHECK(net_link_rx_peer_state(&peer_rx, &up));
    CHECK(!up);
    CHECK(vmm_virtio_reset(&vv, &c, &env, err, sizeof(err)));
    CHECK(net_link_rx_peer_state(&peer_rx, &up));
    CHECK(up);
    /* Same rings, same counters: the peer's next frame goes through, no link error. */
    CHECK(!vv.devs[0].link_broken);
    CHECK_EQ(net_link_tx_acquire(&peer_tx, &buf), NET_LINK_OK);
    CHECK_EQ(net_link_tx_publish(&peer_tx, 60), NET_LINK_OK);
    CHECK_EQ(net_link_rx_drop_all(&vv.devs[0].rx), 1);
    CHECK(!peer_tx.broken && !vv.devs[0].rx.broken);
    free(ours);
    free(theirs);
}

HARNESS_SUITE(lifecycle_tests) = {
    { "lifecycle: 'never' stays stopped", policy_never_stays_stopped },
    { "lifecycle: 'on-failure' restarts after a fault or reset, to its limit", policy_on_failure_counts_to_its_limit },
    { "lifecycle: 'on-failure' keeps a power-off off; 'always' restarts it", policy_on_failure_keeps_a_poweroff_off },
    { "lifecycle: commands from the PD are checked; START resets the count", commands_are_checked },
    { "lifecycle: a long detail is cut, not overrun", long_details_are_cut_not_overrun },
    { "net link v2: the sender's state, down and up, seen by the receiver", link_state_down_and_up },
    { "net link v2: frames for a stopped guest are dropped, buffers returned", link_drop_all_returns_the_buffers },
    { "vmm_virtio: a reset keeps the rings; the peer sees down then up", virtio_reset_keeps_the_links },
    HARNESS_END,
};
