/*
 * GICv2 distributor registers (ARM IHI0048B, 4.1.2 "Distributor register map" and 4.3).
 * Presented as a GIC without the Security Extensions, with the interrupts its VM can be given
 * (struct vgic nr_irqs, at most VGIC_NR_IRQS).
 */
#include "vgic_mmio.h"

#if defined(GIC_V2)

#define GICD_CTLR_ENABLE_GRP0   (1u << 0)
#define GICD_CTLR_ENABLE_GRP1   (1u << 1)
/* GICD_PIDR2.ArchRev [7:4] = 2 for GICv2 (4.3.37 and the Arm CoreSight ID scheme). */
#define GICD_PIDR2_V2           0x2bu

static uint64_t read_ctlr(struct vgic *vgic, const struct vgic_access *a)
{
    (void)a;
    return vgic->ctlr;
}

static void write_ctlr(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    (void)a;
    vgic->ctlr = (uint32_t)value & (GICD_CTLR_ENABLE_GRP0 | GICD_CTLR_ENABLE_GRP1);
    vgic_deliver_all(vgic);
}

static uint64_t read_typer(struct vgic *vgic, const struct vgic_access *a)
{
    (void)a;
    /* ITLinesNumber [4:0] (nr_irqs = 32 * (N + 1)), CPUNumber [7:5], SecurityExtn [10] = 0
     * (4.3.2). */
    return (vgic->nr_irqs / 32u - 1u) | ((uint64_t)(vgic->nr_vcpus - 1u) << 5);
}

static uint64_t read_zero(struct vgic *vgic, const struct vgic_access *a)
{
    (void)vgic;
    (void)a;
    return 0;
}

static uint64_t read_pidr2(struct vgic *vgic, const struct vgic_access *a)
{
    (void)vgic;
    (void)a;
    return GICD_PIDR2_V2;
}

/* ITARGETSR: one byte per INTID. Bytes for SGIs/PPIs read as the accessing CPU's own bit
 * (4.3.12); SPI targets are limited to vCPUs that exist. */
static uint64_t read_targets(struct vgic *vgic, const struct vgic_access *a)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < a->count; i++) {
        unsigned intid = a->intid + i;
        uint8_t t;
        if (intid < VGIC_NR_PRIVATE) {
            t = (uint8_t)(1u << a->vcpu);
        } else {
            t = vgic_irq(vgic, a->vcpu, intid)->targets;
        }
        v |= (uint64_t)t << (8 * i);
    }
    return v;
}

static void write_targets(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    uint8_t exists = (uint8_t)((1u << vgic->nr_vcpus) - 1u);
    for (unsigned i = 0; i < a->count; i++) {
        unsigned intid = a->intid + i;
        if (intid < VGIC_NR_PRIVATE) {
            continue;
        }
        vgic_irq(vgic, a->vcpu, intid)->targets = (uint8_t)(value >> (8 * i)) & exists;
        vgic_try_deliver(vgic, a->vcpu, intid);
    }
}

/* GICD_SGIR (4.3.15): TargetListFilter [25:24], CPUTargetList [23:16], SGIINTID [3:0]. */
static void write_sgir(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    unsigned filter = (unsigned)(value >> 24) & 3u;
    unsigned list = (unsigned)(value >> 16) & 0xffu;
    unsigned sgi = (unsigned)value & 0xfu;
    for (unsigned v = 0; v < vgic->nr_vcpus; v++) {
        bool hit = (filter == 0 && (list & (1u << v)))
                   || (filter == 1 && v != a->vcpu)
                   || (filter == 2 && v == a->vcpu);
        if (hit) {
            vgic_raise(vgic, v, sgi);
        }
    }
}

/* SPENDSGIR/CPENDSGIR: one byte per SGI, one bit per source CPU (4.3.16/17). We do not
 * track sources (seL4's list-register interface cannot carry one), so we report CPU 0. */
static uint64_t read_sgi_pending(struct vgic *vgic, const struct vgic_access *a)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq->pending || irq->in_lr) {
            v |= 1ull << (8 * i);
        }
    }
    return v;
}

static void write_sgi_set_pending(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        if ((value >> (8 * i)) & 0xffu) {
            vgic_raise(vgic, a->vcpu, a->intid + i);
        }
    }
}

static void write_sgi_clear_pending(struct vgic *vgic, const struct vgic_access *a,
                                    uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        if ((value >> (8 * i)) & 0xffu) {
            vgic_irq(vgic, a->vcpu, a->intid + i)->pending = false;
        }
    }
}

#define W32 VGIC_W32
#define W8_32 (VGIC_W8 | VGIC_W32)

static const struct vgic_reg dist_v2[] = {
    { 0x000, 4,     0, W32,   0, "GICD_CTLR",       read_ctlr, write_ctlr },
    { 0x004, 4,     0, W32,   0, "GICD_TYPER",      read_typer, NULL },
    { 0x008, 4,     0, W32,   0, "GICD_IIDR",       read_zero, NULL },
    { 0x080, 0x80,  1, W32,   0, "GICD_IGROUPR",    vgic_read_group, vgic_write_group },
    { 0x100, 0x80,  1, W32,   0, "GICD_ISENABLER",  vgic_read_enable, vgic_write_set_enable },
    { 0x180, 0x80,  1, W32,   0, "GICD_ICENABLER",  vgic_read_enable, vgic_write_clear_enable },
    { 0x200, 0x80,  1, W32,   0, "GICD_ISPENDR",    vgic_read_pending, vgic_write_set_pending },
    { 0x280, 0x80,  1, W32,   0, "GICD_ICPENDR",    vgic_read_pending, vgic_write_clear_pending },
    { 0x300, 0x80,  1, W32,   0, "GICD_ISACTIVER",  vgic_read_active, vgic_write_set_active },
    { 0x380, 0x80,  1, W32,   0, "GICD_ICACTIVER",  vgic_read_active, vgic_write_clear_active },
    { 0x400, 0x3fc, 8, W8_32, 0, "GICD_IPRIORITYR", vgic_read_priority, vgic_write_priority },
    { 0x800, 0x3fc, 8, W8_32, 0, "GICD_ITARGETSR",  read_targets, write_targets },
    { 0xc00, 0x100, 2, W32,   0, "GICD_ICFGR",      vgic_read_config, vgic_write_config },
    { 0xe00, 0x100, 0, W32,   0, "GICD_NSACR",      NULL, NULL },
    { 0xf00, 4,     0, W32,   0, "GICD_SGIR",       NULL, write_sgir },
    { 0xf10, 0x10,  8, W8_32, 0, "GICD_CPENDSGIR",  read_sgi_pending, write_sgi_clear_pending },
    { 0xf20, 0x10,  8, W8_32, 0, "GICD_SPENDSGIR",  read_sgi_pending, write_sgi_set_pending },
    { 0xfd0, 0x18,  0, W32,   0, "GICD_PIDR4..PIDR1", NULL, NULL },
    { 0xfe8, 4,     0, W32,   0, "GICD_PIDR2",      read_pidr2, NULL },
    { 0xfec, 0x14,  0, W32,   0, "GICD_PIDR3/CIDR", NULL, NULL },
};

const struct vgic_reg *vgic_dist_table(size_t *n)
{
    *n = sizeof(dist_v2) / sizeof(dist_v2[0]);
    return dist_v2;
}

#endif
