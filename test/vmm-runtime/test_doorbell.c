/* The doorbell PL061 (dev/pl061_emul.c) and its wiring (lib/doorbell.c), driven the way
 * Linux's gpio-pl061 driver and a guest program on the GPIO character device drive it, and the
 * way a hostile guest might. */
#include "harness.h"
#include "vmm.h"

static struct vmm vm;
static struct vmm_config vm_config;
static unsigned rung[64];

static void count_notify(unsigned channel)
{
    rung[channel]++;
}

#define VM_GPIO 0x0a003000ull
#define GPIO_SPI 48u

/* One PL061 (SPI 48) with two doorbells: channel 5 on lines 0 (ring) / 1 (notify), and a
 * receive-only one on channel 9, line 2. */
static void setup(void)
{
    memset(&vm, 0, sizeof(vm));
    memset(&vm_config, 0, sizeof(vm_config));
    memset(rung, 0, sizeof(rung));
    vm_config.vcpu_count = 1;
    vm_config.gicd_base = 0x08000000;
    vm_config.device_count = 1;
    vm_config.devices[0] = (struct vmm_config_device){ VM_GPIO, 0x1000, VMM_CONFIG_DEVICE_PL061,
                                                       GPIO_SPI, 0 };
    vm_config.doorbell_count = 2;
    vm_config.doorbells[0] = (struct vmm_config_doorbell){ .channel = 5, .ring_line = 0,
                                                           .notify_line = 1,
                                                           .flags = VMM_CONFIG_DOORBELL_CAN_RING };
    vm_config.doorbells[1] = (struct vmm_config_doorbell){ .channel = 9, .ring_line = 3,
                                                           .notify_line = 2 };
    vm.config = &vm_config;
    vgic_init(&vm.vgic, 1, &harness_vgic_ops, NULL);
    struct vgic_irq *irq = vgic_irq(&vm.vgic, 0, GPIO_SPI);
    irq->enabled = true;
    irq->group1 = true;
    vm.vgic.ctlr = 3;
    char err[160];
    CHECK(vmm_mmio_register(&vm, err, sizeof(err)));
    CHECK(vmm_doorbells_register(&vm.doorbells, &vm_config, count_notify, &vm.vgic, &vm.bus, err,
                                 sizeof(err)));
}

static enum mmio_status gpio(uint64_t off, unsigned width, bool write, uint64_t *value,
                             struct mmio_access *a)
{
    *a = (struct mmio_access){ .vcpu = 0, .width = width, .write = write, .value = *value };
    const struct mmio_region *r = mmio_bus_find(&vm.bus, VM_GPIO + off);
    CHECK(r != NULL);
    enum mmio_status st = mmio_bus_access(r, VM_GPIO + off, a);
    *value = a->value;
    return st;
}

static uint64_t rd(uint64_t off)
{
    struct mmio_access a;
    uint64_t v = 0xdead;
    CHECK_EQ(gpio(off, 1, false, &v, &a), MMIO_OK);
    return v;
}

static void wr(uint64_t off, uint64_t v)
{
    struct mmio_access a;
    CHECK_EQ(gpio(off, 1, true, &v, &a), MMIO_OK);
}

/* What Linux does for the ring line as an output and the notify line as a rising-edge input. */
static void linux_configures(void)
{
    wr(PL061_GPIOIE, 0);                                    /* pl061_probe */
    wr(PL061_GPIODIR, rd(PL061_GPIODIR) | 0x01);            /* direction_output(0) */
    wr(PL061_GPIOIS, rd(PL061_GPIOIS) & ~0x02u);            /* irq_type(1, EDGE_RISING) */
    wr(PL061_GPIOIBE, rd(PL061_GPIOIBE) & ~0x02u);
    wr(PL061_GPIOIEV, rd(PL061_GPIOIEV) | 0x02);
    wr(PL061_GPIOIE, rd(PL061_GPIOIE) | 0x02);              /* irq_unmask(1) */
}

static void doorbell_identifies_as_pl061(void)
{
    setup();
    struct mmio_access a;
    uint32_t periph = 0, cell = 0;
    for (unsigned i = 0; i < 4; i++) {
        uint64_t v = 0;
        CHECK_EQ(gpio(0xfe0 + 4 * i, 4, false, &v, &a), MMIO_OK);
        periph |= (uint32_t)v << (8 * i);
        CHECK_EQ(gpio(0xff0 + 4 * i, 4, false, &v, &a), MMIO_OK);
        cell |= (uint32_t)v << (8 * i);
    }
    /* Linux's amba table: id 0x00041061, mask 0x000fffff (drivers/gpio/gpio-pl061.c). */
    CHECK_EQ(periph & 0x000fffffu, 0x00041061u);
    CHECK_EQ(cell, 0xb105f00du);
}

static void doorbell_rings_on_each_write_of_one(void)
{
    setup();
    linux_configures();
    wr(1u << (0 + 2), 1);       /* pl061_set_value(0, 1): the mask is in the address */
    CHECK_EQ(rung[5], 1);
    wr(1u << (0 + 2), 1);       /* again, although the line is already high */
    CHECK_EQ(rung[5], 2);
    wr(1u << (0 + 2), 0);
    CHECK_EQ(rung[5], 2);
    CHECK_EQ(rd(1u << 2), 0);
    /* An input line, a line outside the address mask and the receive-only doorbell's line 3
     * (not an output, and not wired to ring) never ring. */
    wr(1u << (1 + 2), 0x02);
    wr(1u << (0 + 2), 0xfe);
    wr(PL061_GPIODIR, rd(PL061_GPIODIR) | 0x08);
    wr(1u << (3 + 2), 0x08);
    CHECK_EQ(rung[5], 2);
    CHECK_EQ(rung[9], 0);
    CHECK_EQ(vm.doorbells.rings, 2);
}

static void doorbell_peer_notification_is_an_edge(void)
{
    setup();
    struct vgic_irq *irq = vgic_irq(&vm.vgic, 0, GPIO_SPI);
    /* Before Linux unmasks the line, a notification latches but raises nothing. */
    CHECK(vmm_doorbells_notified(&vm.doorbells, 5));
    CHECK(!irq->pending && !irq->in_lr);
    wr(PL061_GPIOIC, 0xff);
    linux_configures();
    CHECK(vmm_doorbells_notified(&vm.doorbells, 5));
    CHECK(irq->pending || irq->in_lr);
    CHECK_EQ(rd(PL061_GPIOMIS), 0x02);
    CHECK_EQ(rd(1u << (1 + 2)), 0);     /* the pulse is over */
    /* The receive-only doorbell latches on line 2, masked (Linux did not ask for it). */
    CHECK(vmm_doorbells_notified(&vm.doorbells, 9));
    CHECK_EQ(rd(PL061_GPIORIS), 0x06);
    CHECK_EQ(rd(PL061_GPIOMIS), 0x02);
    CHECK(!vmm_doorbells_notified(&vm.doorbells, 7));
    /* handle_edge_irq acks (GPIOIC) before the handler runs; at EOI the line is low. */
    wr(PL061_GPIOIC, 0x02);
    CHECK(!pl061_irq_level(&vm.doorbells.gpio));
    CHECK(vmm_doorbells_eoi(&vm.doorbells, GPIO_SPI));
    CHECK(!vmm_doorbells_eoi(&vm.doorbells, GPIO_SPI + 1));
    CHECK_EQ(vm.doorbells.notifications, 3);
}

static void doorbell_level_still_high_at_eoi_is_raised_again(void)
{
    setup();
    linux_configures();
    struct vgic_irq *irq = vgic_irq(&vm.vgic, 0, GPIO_SPI);
    CHECK(vmm_doorbells_notified(&vm.doorbells, 5));
    irq->pending = false;
    irq->in_lr = false;
    CHECK(vmm_doorbells_eoi(&vm.doorbells, GPIO_SPI));     /* not acked: still asserted */
    CHECK(irq->pending || irq->in_lr);
}

static void doorbell_refuses_bad_accesses(void)
{
    setup();
    struct mmio_access a;
    uint64_t v = 1;
    CHECK_EQ(gpio(1u << 2, 8, true, &v, &a), MMIO_BAD_ACCESS);
    CHECK(strcmp(a.why, "8-byte write of the doorbell PL061 at +0x4 (bad width or alignment)") == 0);
    CHECK_EQ(gpio(0x402, 4, false, &v, &a), MMIO_BAD_ACCESS);
    CHECK_EQ(gpio(0x800, 4, true, &v, &a), MMIO_IGNORED);
    CHECK_CONTAINS(a.why, "reserved offset 0x800");
    CHECK_EQ(rung[5], 0);
    /* A reset forgets the guest's configuration and latched edges. */
    linux_configures();
    CHECK(vmm_doorbells_notified(&vm.doorbells, 5));
    vmm_doorbells_reset(&vm.doorbells);
    CHECK_EQ(rd(PL061_GPIODIR), 0);
    CHECK_EQ(rd(PL061_GPIORIS), 0);
}

HARNESS_SUITE(doorbell_tests) = {
    { "doorbell: the PL061 identifies as one to Linux's AMBA bus", doorbell_identifies_as_pl061 },
    { "doorbell: each write of 1 to the ring line notifies its channel, nothing else does", doorbell_rings_on_each_write_of_one },
    { "doorbell: a peer's notification is an edge on the notify line and raises the SPI", doorbell_peer_notification_is_an_edge },
    { "doorbell: a line still asserted at EOI is raised again", doorbell_level_still_high_at_eoi_is_raised_again },
    { "doorbell: bad widths stop, reserved offsets are ignored, reset clears", doorbell_refuses_bad_accesses },
    HARNESS_END,
};
