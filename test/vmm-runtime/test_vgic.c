#include "harness.h"
#include "vgic_mmio.h"

/* Records what the vGIC asks the kernel to put into list registers. */
struct injection {
    unsigned vcpu, lr;
    uint16_t intid;
    uint8_t priority, group;
};
static struct injection injected[64];
static unsigned n_injected;
static bool refuse;

static bool record_inject(void *ctx, unsigned vcpu, unsigned lr, uint16_t intid,
                          uint8_t priority, uint8_t group)
{
    (void)ctx;
    if (refuse) {
        return false;
    }
    if (n_injected < 64) {
        injected[n_injected++] = (struct injection){ vcpu, lr, intid, priority, group };
    }
    return true;
}

static const struct vgic_ops ops = { record_inject };
static struct vgic vgic;

static void setup(unsigned vcpus)
{
    vgic_init(&vgic, vcpus, &ops, NULL);
    n_injected = 0;
    refuse = false;
}

static uint64_t rd(unsigned vcpu, uint64_t off, unsigned width)
{
    uint64_t v = 0xdeadbeef;
    CHECK_EQ(vgic_dist_access(&vgic, vcpu, off, width, false, &v), VGIC_MMIO_OK);
    return v;
}

static void wr(unsigned vcpu, uint64_t off, unsigned width, uint64_t v)
{
    CHECK_EQ(vgic_dist_access(&vgic, vcpu, off, width, true, &v), VGIC_MMIO_OK);
}

/* Enables INTID `intid` the way the guest driver would, for either version. */
static void guest_enable(unsigned intid)
{
#if defined(GIC_V3)
    if (intid < 32) {
        uint64_t v = ~0u;
        CHECK_EQ(vgic_redist_access(&vgic, 0x10080, 4, true, &v), VGIC_MMIO_OK);
        wr(0, 0x0, 4, 0x2);
        v = 1u << intid;
        CHECK_EQ(vgic_redist_access(&vgic, 0x10100, 4, true, &v), VGIC_MMIO_OK);
        return;
    }
    wr(0, 0x80 + intid / 32 * 4, 4, ~0u);   /* Linux puts everything in group 1 on GICv3 */
    wr(0, 0x0, 4, 0x2);                      /* EnableGrp1 */
#else
    wr(0, 0x0, 4, 0x1);                      /* EnableGrp0 */
#endif
    wr(0, 0x100 + intid / 32 * 4, 4, 1u << (intid % 32));
}

static void vgic_tables_are_sorted(void)
{
#if defined(GIC_V2)
    size_t n;
    const struct vgic_reg *t = vgic_dist_table(&n);
    CHECK(vgic_mmio_table_sane(t, n));
#else
    extern const struct vgic_reg *vgic_redist_v3_table(size_t *n);
    size_t n;
    const struct vgic_reg *t = vgic_dist_table(&n);
    CHECK(vgic_mmio_table_sane(t, n));
    t = vgic_redist_v3_table(&n);
    CHECK(vgic_mmio_table_sane(t, n));
#endif
}

static void vgic_identification(void)
{
    setup(2);
#if defined(GIC_V2)
    CHECK_EQ(rd(0, 0x004, 4), 15u | (1u << 5));             /* 512 IRQs, 2 CPUs */
    CHECK_EQ(rd(0, 0xfe8, 4) & 0xf0, 0x20);
#else
    uint64_t typer = rd(0, 0x004, 4);
    CHECK_EQ(typer & 0x1f, 15);
    CHECK_EQ((typer >> 19) & 0x1f, 9);
    CHECK_EQ(rd(0, 0xffe8, 4) & 0xf0, 0x30);
    CHECK_EQ(rd(0, 0x0, 4) & 0x50, 0x50);                   /* ARE and DS read as one */
#endif
}

/* ------------------------------------------------ the lines the distributor advertises */

/* The INTIDs of a VM like examples/linux-qemu.ts with a virtio device and doorbells: a
 * passthrough IRQ (SPI 79), the PL011 (33), virtio (80, 81), the doorbells' PL061 (82). */
static void lines_config(struct vmm_config *c)
{
    memset(c, 0, sizeof(*c));
    c->irq_count = 1;
    c->irqs[0] = (struct vmm_config_irq){ .channel = 1, .intid = 79 };
    c->device_count = 2;
    c->devices[0] = (struct vmm_config_device){ .kind = VMM_CONFIG_DEVICE_PL011, .intid = 33 };
    c->devices[1] = (struct vmm_config_device){ .kind = VMM_CONFIG_DEVICE_PL061, .intid = 82 };
    c->virtio_count = 2;
    c->virtio[0].intid = 80;
    c->virtio[1].intid = 81;
}

/* GICD_TYPER.ITLinesNumber as a guest reads it. */
static unsigned it_lines(void)
{
    return (unsigned)rd(0, 0x004, 4) & 0x1fu;
}

static void vgic_lines_follow_the_config(void)
{
    struct vmm_config c;
    lines_config(&c);
    CHECK_EQ(vmm_config_max_intid(&c), 82);
    /* Each source counts, and only the first *_count entries. */
    c.devices[1].intid = 0;
    CHECK_EQ(vmm_config_max_intid(&c), 81);
    c.virtio_count = 1;
    CHECK_EQ(vmm_config_max_intid(&c), 80);
    c.virtio_count = 0;
    CHECK_EQ(vmm_config_max_intid(&c), 79);
    c.irq_count = 0;
    CHECK_EQ(vmm_config_max_intid(&c), 33);
    c.device_count = 0;
    CHECK_EQ(vmm_config_max_intid(&c), 31);
    c.irqs[0].intid = 300;   /* beyond irq_count: not a source */
    CHECK_EQ(vmm_config_max_intid(&c), 31);
    /* The smallest 32 * (N + 1) above the INTID, at least one block of SPIs. */
    CHECK_EQ(vgic_lines_for(31), 64);
    CHECK_EQ(vgic_lines_for(63), 64);
    CHECK_EQ(vgic_lines_for(64), 96);
    CHECK_EQ(vgic_lines_for(95), 96);
    CHECK_EQ(vgic_lines_for(96), 128);
    CHECK_EQ(vgic_lines_for(VGIC_NR_IRQS - 1), VGIC_NR_IRQS);
    CHECK_EQ(vgic_lines_for(VGIC_NR_IRQS), 0);
    /* GICD_TYPER reports it: 96 lines are ITLinesNumber 2, with 2 vCPUs. */
    setup(2);
    lines_config(&c);
    CHECK(vgic_set_max_intid(&vgic, vmm_config_max_intid(&c)));
    CHECK_EQ(vgic.nr_irqs, 96);
    CHECK_EQ(it_lines(), 2);
    CHECK_EQ((rd(0, 0x004, 4) >> 5) & 7u, 1);
    CHECK(vgic_set_max_intid(&vgic, 31));
    CHECK_EQ(it_lines(), 1);
    CHECK(vgic_set_max_intid(&vgic, VGIC_NR_IRQS - 1));
    CHECK_EQ(it_lines(), VGIC_NR_IRQS / 32 - 1);
    /* Beyond the vGIC: refused, the count unchanged. */
    CHECK(vgic_set_max_intid(&vgic, 82));
    CHECK(!vgic_set_max_intid(&vgic, VGIC_NR_IRQS));
    CHECK_EQ(it_lines(), 2);
}

/* The per-INTID distributor registers of the version built: first offset, bits per INTID, and
 * an access width each register allows. */
struct per_irq_reg {
    uint32_t base;
    unsigned bits;
    unsigned width;
};

static const struct per_irq_reg per_irq_regs[] = {
    { 0x080, 1, 4 }, { 0x100, 1, 4 }, { 0x180, 1, 4 }, { 0x200, 1, 4 }, { 0x280, 1, 4 },
    { 0x300, 1, 4 }, { 0x380, 1, 4 }, { 0x400, 8, 4 }, { 0x400, 8, 1 }, { 0xc00, 2, 4 },
#if defined(GIC_V2)
    { 0x800, 8, 4 }, { 0x800, 8, 1 },
#else
    { 0x6000, 64, 8 }, { 0x6000, 64, 4 },
#endif
};

static void vgic_unadvertised_lines_are_razwi(void)
{
    setup(1);
    CHECK(vgic_set_max_intid(&vgic, 82));   /* 96 lines */
    static struct vgic before;
    memcpy(&before, &vgic, sizeof(vgic));
    /* A guest writing all ones to every field of every INTID from 96 to 1019, in each width
     * the register allows, reads zeros back and changes nothing. */
    unsigned razwi = 0;
    for (size_t r = 0; r < sizeof(per_irq_regs) / sizeof(per_irq_regs[0]); r++) {
        const struct per_irq_reg *reg = &per_irq_regs[r];
        unsigned per_access = reg->bits >= reg->width * 8 ? 1 : reg->width * 8 / reg->bits;
        for (unsigned intid = 96; intid < 1020; intid += per_access) {
            uint64_t off = reg->base + (uint64_t)intid * reg->bits / 8;
            if (reg->bits == 64 && reg->width == 4) {
                off += 4;   /* the upper half of IROUTER */
            }
            uint64_t v = ~0ull;
            CHECK_EQ(vgic_dist_access(&vgic, 0, off, reg->width, true, &v), VGIC_MMIO_IRQ_RAZWI);
            v = 0x5a5a;
            CHECK_EQ(vgic_dist_access(&vgic, 0, off, reg->width, false, &v), VGIC_MMIO_IRQ_RAZWI);
            CHECK_EQ(v, 0);
            razwi++;
        }
    }
    CHECK(razwi > 1000);
    CHECK(memcmp(&before, &vgic, sizeof(vgic)) == 0);
    CHECK_EQ(n_injected, 0);
    /* The last advertised line still works; the first one above cannot be raised. */
    CHECK(vgic_irq(&vgic, 0, 95) != NULL);
    CHECK(vgic_irq(&vgic, 0, 96) == NULL);
    CHECK_EQ(vgic_spi_target(&vgic, 96), -1);
    guest_enable(95);
    CHECK(vgic_raise(&vgic, 0, 95));
    CHECK_EQ(n_injected, 1);
    CHECK(!vgic_raise(&vgic, 0, 96));
    CHECK(!vgic_raise(&vgic, 0, VGIC_NR_IRQS - 1));
    CHECK_EQ(vgic.raise_refused, 2);
    CHECK_EQ(n_injected, 1);
}

/* Linux's distributor set-up (6.1: irq-gic.c gic_init_bases/gic_dist_init and
 * irq-gic-common.c gic_dist_config; irq-gic-v3.c gic_dist_init), access by access: it reads
 * GICD_TYPER and writes every register of every line it reports. Returns the accesses, each
 * of which must be answered as an implemented register. */
static unsigned linux_dist_init(void)
{
    unsigned n = 0;
    unsigned gic_irqs = (it_lines() + 1u) * 32u;
    gic_irqs = gic_irqs > 1020 ? 1020 : gic_irqs;
    n++;
    wr(0, 0x000, 4, 0), n++;                                        /* GICD_CTLR: disable */
#if defined(GIC_V2)
    rd(0, 0x800, 4), n++;               /* gic_get_cpumask: ITARGETSR0 holds our CPU's bit */
    for (unsigned i = 32; i < gic_irqs; i += 4) {
        wr(0, 0x800 + i, 4, 0x01010101), n++;                       /* ITARGETSR */
    }
#else
    for (unsigned i = 32; i < gic_irqs; i += 32) {
        wr(0, 0x080 + i / 8, 4, ~0u), n++;                          /* IGROUPR */
    }
#endif
    for (unsigned i = 32; i < gic_irqs; i += 16) {
        wr(0, 0xc00 + i / 4, 4, 0), n++;                            /* ICFGR: level */
    }
    for (unsigned i = 32; i < gic_irqs; i += 4) {
        wr(0, 0x400 + i, 4, 0xa0a0a0a0), n++;                       /* IPRIORITYR */
    }
    for (unsigned i = 32; i < gic_irqs; i += 32) {
        wr(0, 0x380 + i / 8, 4, ~0u), n++;                          /* ICACTIVER */
        wr(0, 0x180 + i / 8, 4, ~0u), n++;                          /* ICENABLER */
    }
#if defined(GIC_V2)
    wr(0, 0x000, 4, 1), n++;                                        /* GICD_CTLR: enable */
#else
    wr(0, 0x000, 4, 0x12), n++;                                     /* ARE_NS, EnableGrp1 */
    for (unsigned i = 32; i < gic_irqs; i++) {
        wr(0, 0x6000 + (uint64_t)i * 8, 8, 0), n++;                 /* IROUTER: the boot CPU */
    }
#endif
    return n;
}

static void vgic_linux_touches_only_advertised_lines(void)
{
    /* Every access is to an implemented line (rd/wr check VGIC_MMIO_OK), and the count follows
     * the lines: per block of 32 SPIs, GICv2 writes 8 ITARGETSR + 2 ICFGR + 8 IPRIORITYR +
     * ICACTIVER + ICENABLER, GICv3 IGROUPR + 2 + 8 + 2 and 32 IROUTER. */
    const unsigned per_block = VGIC_VERSION == 2 ? 20 : 45;
    const unsigned fixed = VGIC_VERSION == 2 ? 4 : 3;
    setup(1);
    struct vmm_config c;
    lines_config(&c);
    CHECK(vgic_set_max_intid(&vgic, vmm_config_max_intid(&c)));
    unsigned few = linux_dist_init();
    CHECK_EQ(few, fixed + 2 * per_block);
    /* The SPIs Linux configured are the VM's: 79..82 are level, priority 0xa0, on vCPU 0. */
    for (unsigned intid = 32; intid < 96; intid++) {
        CHECK_EQ(vgic_irq(&vgic, 0, intid)->priority, 0xa0);
        CHECK(!vgic_irq(&vgic, 0, intid)->edge);
        CHECK_EQ(vgic_spi_target(&vgic, intid), 0);
    }
    /* The same guest on a distributor advertising every line the vGIC has. */
    setup(1);
    unsigned all = linux_dist_init();
    CHECK_EQ(all, fixed + (VGIC_NR_IRQS - 32) / 32 * per_block);
    CHECK(few * 5 < all);
}

static void vgic_checks_width_alignment_range(void)
{
    setup(1);
    uint64_t v = 0;
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x102, 4, false, &v), VGIC_MMIO_MISALIGNED);
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x100, 1, false, &v), VGIC_MMIO_BAD_WIDTH);
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x100, 8, false, &v), VGIC_MMIO_BAD_WIDTH);
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x100, 3, false, &v), VGIC_MMIO_BAD_WIDTH);
    CHECK_EQ(vgic_dist_access(&vgic, 0, VGIC_DIST_SIZE, 4, false, &v), VGIC_MMIO_OUT_OF_RANGE);
    /* Priorities are byte-accessible. */
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x421, 1, false, &v), VGIC_MMIO_OK);
    /* A reserved offset reads as zero and ignores writes. */
    v = 0x55;
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x040, 4, false, &v), VGIC_MMIO_UNKNOWN_RAZWI);
    CHECK_EQ(v, 0);
    /* INTIDs beyond the implemented 512 are RAZ/WI. */
    v = ~0ull;
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x100 + 512 / 8, 4, true, &v), VGIC_MMIO_IRQ_RAZWI);
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x100 + 512 / 8, 4, false, &v), VGIC_MMIO_IRQ_RAZWI);
    CHECK_EQ(v, 0);
    CHECK_CONTAINS(vgic_dist_reg_name(0x104), "GICD_ISENABLER");
}

static void vgic_enable_pending_registers(void)
{
    setup(1);
    wr(0, 0x104, 4, 0x3);                   /* ISENABLER1: INTIDs 32, 33 */
    CHECK_EQ(rd(0, 0x104, 4), 0x3);
    CHECK_EQ(rd(0, 0x184, 4), 0x3);
    wr(0, 0x184, 4, 0x1);                   /* ICENABLER1: 32 */
    CHECK_EQ(rd(0, 0x104, 4), 0x2);
    wr(0, 0x204, 4, 0x4);                   /* ISPENDR1: 34 */
    CHECK_EQ(rd(0, 0x204, 4), 0x4);
    wr(0, 0x284, 4, 0x4);
    CHECK_EQ(rd(0, 0x204, 4), 0x0);
    wr(0, 0x304, 4, 0x8);
    CHECK_EQ(rd(0, 0x304, 4), 0x8);
    wr(0, 0x384, 4, 0x8);
    CHECK_EQ(rd(0, 0x304, 4), 0x0);
}

static void vgic_priority_and_config(void)
{
    setup(1);
    wr(0, 0x420, 4, 0xa0b0c0d7);            /* IPRIORITYR8: INTIDs 32..35 */
    CHECK_EQ(rd(0, 0x420, 4), 0xa0b0c0d0);  /* 5 priority bits implemented */
    wr(0, 0x421, 1, 0x48);
    CHECK_EQ(rd(0, 0x420, 4), 0xa0b048d0);
    CHECK_EQ(rd(0, 0x422, 1), 0xb0);
    wr(0, 0xc08, 4, 0x2);                   /* ICFGR2: INTID 32 edge */
    CHECK_EQ(rd(0, 0xc08, 4), 0x2);
    CHECK(vgic_irq(&vgic, 0, 32)->edge);
#if defined(GIC_V2)
    CHECK_EQ(rd(0, 0xc00, 4), 0xaaaaaaaau); /* SGIs: read-only edge */
    wr(0, 0xc00, 4, 0);
    CHECK_EQ(rd(0, 0xc00, 4), 0xaaaaaaaau);
#endif
}

static void vgic_forwards_through_list_registers(void)
{
    setup(1);
    wr(0, 0x420, 4, 0xa0);                  /* INTID 32 priority 0xa0 */
    CHECK(vgic_raise(&vgic, 0, 32));
    CHECK_EQ(n_injected, 0);                /* not enabled yet: stays pending */
    CHECK(vgic_irq(&vgic, 0, 32)->pending);
    guest_enable(32);
    CHECK_EQ(n_injected, 1);
    CHECK_EQ(injected[0].intid, 32);
    CHECK_EQ(injected[0].lr, 0);
    CHECK_EQ(injected[0].priority, 0xa0 >> 3);
    CHECK_EQ(injected[0].group, VGIC_VERSION == 3 ? 1 : 0);
    CHECK(vgic_irq(&vgic, 0, 32)->in_lr);
    /* Raised again while in the list register: forwarded again after EOI, not before. */
    vgic_raise(&vgic, 0, 32);
    CHECK_EQ(n_injected, 1);
    CHECK_EQ(vgic_maintenance(&vgic, 0, 0), 32);
    CHECK_EQ(n_injected, 2);
    CHECK_EQ(vgic_maintenance(&vgic, 0, 0), 32);
    CHECK_EQ(vgic_maintenance(&vgic, 0, 0), -1);    /* empty list register */
    CHECK_EQ(vgic_maintenance(&vgic, 0, 9), -1);    /* out of range */
}

static void vgic_queues_when_list_registers_full(void)
{
    setup(1);
    for (unsigned i = 0; i < 6; i++) {
        guest_enable(40 + i);
        vgic_raise(&vgic, 0, 40 + i);
    }
    CHECK_EQ(n_injected, VGIC_NR_LRS);
    CHECK(vgic_irq(&vgic, 0, 44)->queued);
    CHECK_EQ(vgic_maintenance(&vgic, 0, 2), 42);
    CHECK_EQ(n_injected, VGIC_NR_LRS + 1);
    CHECK_EQ(injected[VGIC_NR_LRS].intid, 44);
    CHECK_EQ(injected[VGIC_NR_LRS].lr, 2);
    CHECK_EQ(vgic_maintenance(&vgic, 0, 0), 40);
    CHECK_EQ(injected[VGIC_NR_LRS + 1].intid, 45);
}

static void vgic_refused_injection_stays_pending(void)
{
    setup(1);
    guest_enable(50);
    refuse = true;
    vgic_raise(&vgic, 0, 50);
    CHECK_EQ(vgic.inject_failures, 1);
    CHECK(vgic_irq(&vgic, 0, 50)->pending);
    CHECK(!vgic_irq(&vgic, 0, 50)->in_lr);
}

static void vgic_distributor_disable_holds_interrupts(void)
{
    setup(1);
    guest_enable(60);
    wr(0, 0x0, 4, 0);
    vgic_raise(&vgic, 0, 60);
    CHECK_EQ(n_injected, 0);
    wr(0, 0x0, 4, VGIC_VERSION == 3 ? 2 : 1);
    CHECK_EQ(n_injected, 1);
    CHECK_EQ(injected[0].intid, 60);
}

static void vgic_private_interrupts_are_banked(void)
{
    setup(2);
    CHECK(vgic_irq(&vgic, 0, 27) != vgic_irq(&vgic, 1, 27));
    CHECK(vgic_irq(&vgic, 0, 40) == vgic_irq(&vgic, 1, 40));
    CHECK(vgic_irq(&vgic, 2, 27) == NULL);
    CHECK(vgic_irq(&vgic, 0, VGIC_NR_IRQS) == NULL);
    guest_enable(VGIC_VTIMER_INTID);
    vgic_raise(&vgic, 0, VGIC_VTIMER_INTID);
    CHECK_EQ(n_injected, 1);
    CHECK_EQ(injected[0].vcpu, 0);
    CHECK_EQ(injected[0].intid, VGIC_VTIMER_INTID);
}

#if defined(GIC_V2)
static void vgic_v2_targets_and_sgis(void)
{
    setup(2);
    CHECK_EQ(rd(1, 0x800, 4), 0x02020202u);     /* banked: own CPU for SGIs */
    wr(0, 0x820, 4, 0x0f020102);                /* INTID 32 -> CPU1, 33 -> CPU0, ... */
    CHECK_EQ(rd(0, 0x820, 4), 0x03020102);      /* only CPUs that exist */
    CHECK_EQ(vgic_spi_target(&vgic, 32), 1);
    CHECK_EQ(vgic_spi_target(&vgic, 33), 0);
    wr(0, 0x0, 4, 1);
    wr(0, 0x104, 4, 0x1);
    vgic_raise(&vgic, 0, 32);
    CHECK_EQ(injected[0].vcpu, 1);
    /* SGIR: SGI 3 to CPU list {1}; then "all but self" from CPU 1. */
    wr(0, 0x100, 4, 0xffff);
    vgic.vcpu[1].private_irqs[3].enabled = true;
    wr(0, 0xf00, 4, (0u << 24) | (0x2u << 16) | 3u);
    CHECK_EQ(injected[1].vcpu, 1);
    CHECK_EQ(injected[1].intid, 3);
    wr(1, 0xf00, 4, (1u << 24) | 5u);
    CHECK_EQ(injected[2].vcpu, 0);
    CHECK_EQ(injected[2].intid, 5);
    /* SPENDSGIR/CPENDSGIR. */
    wr(0, 0xf2c, 1, 0);
    wr(0, 0x180, 4, 1u << 14);                  /* disable SGI 14 on CPU 0 */
    wr(0, 0xf2f, 1, 0x1);                       /* SGI 15 (byte 3 of SPENDSGIR3) */
    CHECK(vgic_irq(&vgic, 0, 15)->in_lr);       /* enabled: went to a list register */
    CHECK_EQ(rd(0, 0xf2c, 4) >> 24, 0x1);       /* and still reads as pending */
    wr(0, 0xf2e, 1, 0x1);                       /* SGI 14, disabled: stays pending */
    CHECK_EQ((rd(0, 0xf2c, 4) >> 16) & 0xff, 1);
    wr(0, 0xf1e, 1, 0xff);
    CHECK_EQ((rd(0, 0xf2c, 4) >> 16) & 0xff, 0);
}
#endif

#if defined(GIC_V3)
static uint64_t rrd(uint64_t off, unsigned width)
{
    uint64_t v = 0xdeadbeef;
    CHECK_EQ(vgic_redist_access(&vgic, off, width, false, &v), VGIC_MMIO_OK);
    return v;
}

static void vgic_v3_redistributors(void)
{
    setup(2);
    uint64_t t0 = rrd(0x8, 8);
    uint64_t t1 = rrd(0x20000 + 0x8, 8);
    CHECK_EQ(t0 >> 32, 0);
    CHECK_EQ(t0 & 0x10, 0);                     /* not Last */
    CHECK_EQ(t1 >> 32, 1);
    CHECK_EQ(t1 & 0x10, 0x10);                  /* Last */
    CHECK_EQ(rrd(0x20000 + 0xc, 4), 1);         /* upper half alone */
    CHECK_EQ(rrd(0xffe8, 4) & 0xf0, 0x30);
    CHECK_EQ(rrd(0x14, 4), 0x6);                /* asleep at reset */
    uint64_t v = 0;
    CHECK_EQ(vgic_redist_access(&vgic, 0x14, 4, true, &v), VGIC_MMIO_OK);
    CHECK_EQ(rrd(0x14, 4), 0);                  /* ChildrenAsleep follows */
    CHECK_EQ(vgic_redist_access(&vgic, 0x40000, 4, false, &v), VGIC_MMIO_OUT_OF_RANGE);
    /* SGI_base frame of vCPU 1: priorities are per vCPU. */
    v = 0x80;
    CHECK_EQ(vgic_redist_access(&vgic, 0x20000 + 0x10000 + 0x41b, 1, true, &v), VGIC_MMIO_OK);
    CHECK_EQ(vgic_irq(&vgic, 1, 27)->priority, 0x80);
    CHECK_EQ(vgic_irq(&vgic, 0, 27)->priority, 0);
    /* Distributor copies of private INTIDs are RAZ/WI under affinity routing. */
    v = ~0ull;
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x100, 4, true, &v), VGIC_MMIO_IRQ_RAZWI);
    CHECK(!vgic_irq(&vgic, 0, 0)->enabled);
}

static void vgic_v3_irouter_and_sgi1r(void)
{
    setup(2);
    wr(0, 0x6000 + 8 * 33, 8, 1);               /* INTID 33 -> Aff0 1 */
    CHECK_EQ(rd(0, 0x6000 + 8 * 33, 8), 1);
    CHECK_EQ(vgic_spi_target(&vgic, 33), 1);
    wr(0, 0x6000 + 8 * 33 + 4, 4, 0x1);         /* Aff3 = 1: nobody */
    CHECK_EQ(vgic_spi_target(&vgic, 33), -1);
    wr(0, 0x6000 + 8 * 34, 4, 1u << 31);        /* IRM: any */
    CHECK_EQ(vgic_spi_target(&vgic, 34), 0);
    uint64_t v = 0;
    CHECK_EQ(vgic_dist_access(&vgic, 0, 0x6000 + 8 * 5, 8, false, &v), VGIC_MMIO_IRQ_RAZWI);
    /* ICC_SGI1R_EL1 from vCPU 0: SGI 2 to target list {1}. */
    vgic.vcpu[1].private_irqs[2].enabled = true;
    vgic.vcpu[1].private_irqs[2].group1 = true;
    wr(0, 0x0, 4, 0x2);
    vgic_v3_sgi1r_write(&vgic, 0, (2ull << 24) | 0x2);
    CHECK_EQ(n_injected, 1);
    CHECK_EQ(injected[0].vcpu, 1);
    CHECK_EQ(injected[0].intid, 2);
    /* Aff1 != 0 targets no vCPU of ours. */
    vgic_v3_sgi1r_write(&vgic, 0, (2ull << 24) | (1ull << 16) | 0x2);
    CHECK_EQ(n_injected, 1);
}
#endif

HARNESS_SUITE(vgic_tests) = {
    { "vgic: register tables are sorted and disjoint", vgic_tables_are_sorted },
    { "vgic: TYPER and PIDR2 identify the version", vgic_identification },
    { "vgic: width, alignment and INTID checked before handlers", vgic_checks_width_alignment_range },
    { "vgic: GICD_TYPER advertises the lines the config can raise", vgic_lines_follow_the_config },
    { "vgic: registers of lines not advertised are RAZ/WI, their INTIDs never raised", vgic_unadvertised_lines_are_razwi },
    { "vgic: Linux's distributor set-up touches only the advertised lines", vgic_linux_touches_only_advertised_lines },
    { "vgic: enable, pending and active registers", vgic_enable_pending_registers },
    { "vgic: priority (byte access) and config registers", vgic_priority_and_config },
    { "vgic: forwards through list registers, EOI frees them", vgic_forwards_through_list_registers },
    { "vgic: queues when list registers are full", vgic_queues_when_list_registers_full },
    { "vgic: a refused injection stays pending", vgic_refused_injection_stays_pending },
    { "vgic: a disabled distributor holds interrupts", vgic_distributor_disable_holds_interrupts },
    { "vgic: private interrupts are banked per vCPU", vgic_private_interrupts_are_banked },
#if defined(GIC_V2)
    { "vgic v2: ITARGETSR, SGIR, SPENDSGIR/CPENDSGIR", vgic_v2_targets_and_sgis },
#else
    { "vgic v3: redistributor frames, TYPER.Last, WAKER", vgic_v3_redistributors },
    { "vgic v3: IROUTER and ICC_SGI1R_EL1", vgic_v3_irouter_and_sgi1r },
#endif
    HARNESS_END,
};
