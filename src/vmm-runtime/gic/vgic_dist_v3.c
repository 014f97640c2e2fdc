/*
 * GICv3 distributor and redistributor registers (ARM IHI0069, 12.8 "The GIC Distributor
 * register map", 12.10 "The GIC Redistributor register map"). Presented with a single
 * Security state (GICD_CTLR.DS = 1), affinity routing always on (ARE RAO/WI), no LPIs.
 */
#include "vgic_mmio.h"

#if defined(GIC_V3)

#define GICD_CTLR_ENABLE_GRP0   (1u << 0)
#define GICD_CTLR_ENABLE_GRP1   (1u << 1)
#define GICD_CTLR_ARE           (1u << 4)
#define GICD_CTLR_DS            (1u << 6)
/* PIDR2.ArchRev [7:4] = 3 for GICv3 (12.9.27, 12.11.x); Linux checks it on every frame. */
#define GIC_PIDR2_V3            0x3bu
#define GICR_WAKER_SLEEP        (1u << 1)
#define GICR_WAKER_CHILDREN     (1u << 2)
#define GICR_TYPER_LAST         (1u << 4)
#define GICR_SGI_FRAME          0x10000u

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
    return GIC_PIDR2_V3;
}

static uint64_t read_ctlr(struct vgic *vgic, const struct vgic_access *a)
{
    (void)a;
    /* RWP [31] reads 0: our writes take effect at once. */
    return vgic->ctlr | GICD_CTLR_ARE | GICD_CTLR_DS;
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
    /* ITLinesNumber [4:0] (nr_irqs = 32 * (N + 1)), CPUNumber [7:5], IDbits [23:19] = 9
     * (10-bit INTIDs), No1N [25] = 1 (no 1-of-N delivery); SecurityExtn, MBIS, LPIS and
     * ESPI [8] = 0 (no extended SPIs) (12.9.38). */
    return (vgic->nr_irqs / 32u - 1u) | ((uint64_t)(vgic->nr_vcpus - 1u) << 5) | (9u << 19)
           | (1u << 25);
}

/* GICD_IROUTER<n> (12.9.22): 64 bits per SPI; Aff3 [39:32], IRM [31], Aff2..Aff0 [23:0].
 * 32-bit accesses reach one half. */
static uint64_t read_irouter(struct vgic *vgic, const struct vgic_access *a)
{
    uint64_t route = vgic_irq(vgic, a->vcpu, a->intid)->route;
    if (a->width == 4) {
        return (a->offset & 4u) ? route >> 32 : route & 0xffffffffu;
    }
    return route;
}

static void write_irouter(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    const uint64_t implemented = 0xff80ffffffull;    /* Aff3, IRM, Aff2..Aff0 */
    struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid);
    uint64_t route = irq->route;
    if (a->width == 4) {
        if (a->offset & 4u) {
            route = (route & 0xffffffffu) | (value << 32);
        } else {
            route = (route & ~0xffffffffull) | value;
        }
    } else {
        route = value;
    }
    irq->route = route & implemented;
    vgic_try_deliver(vgic, a->vcpu, a->intid);
}

#define W32 VGIC_W32
#define W8_32 (VGIC_W8 | VGIC_W32)
#define W32_64 (VGIC_W32 | VGIC_W64)
#define SPI VGIC_REG_SPI_ONLY

static const struct vgic_reg dist_v3[] = {
    { 0x0000, 4,      0,  W32,    0,   "GICD_CTLR",       read_ctlr, write_ctlr },
    { 0x0004, 4,      0,  W32,    0,   "GICD_TYPER",      read_typer, NULL },
    { 0x0008, 4,      0,  W32,    0,   "GICD_IIDR",       read_zero, NULL },
    { 0x000c, 4,      0,  W32,    0,   "GICD_TYPER2",     read_zero, NULL },
    { 0x0010, 4,      0,  W32,    0,   "GICD_STATUSR",    NULL, NULL },
    { 0x0080, 0x80,   1,  W32,    SPI, "GICD_IGROUPR",    vgic_read_group, vgic_write_group },
    { 0x0100, 0x80,   1,  W32,    SPI, "GICD_ISENABLER",  vgic_read_enable, vgic_write_set_enable },
    { 0x0180, 0x80,   1,  W32,    SPI, "GICD_ICENABLER",  vgic_read_enable, vgic_write_clear_enable },
    { 0x0200, 0x80,   1,  W32,    SPI, "GICD_ISPENDR",    vgic_read_pending, vgic_write_set_pending },
    { 0x0280, 0x80,   1,  W32,    SPI, "GICD_ICPENDR",    vgic_read_pending, vgic_write_clear_pending },
    { 0x0300, 0x80,   1,  W32,    SPI, "GICD_ISACTIVER",  vgic_read_active, vgic_write_set_active },
    { 0x0380, 0x80,   1,  W32,    SPI, "GICD_ICACTIVER",  vgic_read_active, vgic_write_clear_active },
    { 0x0400, 0x3fc,  8,  W8_32,  SPI, "GICD_IPRIORITYR", vgic_read_priority, vgic_write_priority },
    { 0x0800, 0x3fc,  0,  W8_32,  0,   "GICD_ITARGETSR",  NULL, NULL },
    { 0x0c00, 0x100,  2,  W32,    SPI, "GICD_ICFGR",      vgic_read_config, vgic_write_config },
    { 0x0d00, 0x80,   0,  W32,    0,   "GICD_IGRPMODR",   NULL, NULL },
    { 0x0e00, 0x100,  0,  W32,    0,   "GICD_NSACR",      NULL, NULL },
    { 0x0f00, 4,      0,  W32,    0,   "GICD_SGIR",       NULL, NULL },
    { 0x6000, 0x1fe0, 64, W32_64, SPI, "GICD_IROUTER",    read_irouter, write_irouter },
    { 0xffd0, 0x18,   0,  W32,    0,   "GICD_PIDR4..PIDR1", NULL, NULL },
    { 0xffe8, 4,      0,  W32,    0,   "GICD_PIDR2",      read_pidr2, NULL },
    { 0xffec, 0x14,   0,  W32,    0,   "GICD_PIDR3/CIDR", NULL, NULL },
};

/* Redistributor registers of one vCPU: RD_base frame, then SGI_base at +0x10000. a->vcpu
 * is the redistributor's vCPU, not the accessing one. */
static uint64_t read_gicr_ctlr(struct vgic *vgic, const struct vgic_access *a)
{
    return vgic->vcpu[a->vcpu].gicr_ctlr;
}

static uint64_t read_gicr_typer(struct vgic *vgic, const struct vgic_access *a)
{
    /* Affinity_Value [63:32] (Aff0 = vCPU), Processor_Number [23:8], Last [4] (12.11.37). */
    uint64_t typer = ((uint64_t)a->vcpu << 32) | ((uint64_t)a->vcpu << 8);
    if (a->vcpu + 1u == vgic->nr_vcpus) {
        typer |= GICR_TYPER_LAST;
    }
    if (a->width == 4) {
        return (a->offset & 4u) ? typer >> 32 : typer & 0xffffffffu;
    }
    return typer;
}

static uint64_t read_gicr_waker(struct vgic *vgic, const struct vgic_access *a)
{
    /* ChildrenAsleep follows ProcessorSleep at once (12.11.44). */
    return vgic->vcpu[a->vcpu].sleeping ? (GICR_WAKER_SLEEP | GICR_WAKER_CHILDREN) : 0;
}

static void write_gicr_waker(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    vgic->vcpu[a->vcpu].sleeping = (value & GICR_WAKER_SLEEP) != 0;
}

#define SGIF GICR_SGI_FRAME

static const struct vgic_reg redist_v3[] = {
    { 0x0000,        4,    0, W32,    0, "GICR_CTLR",        read_gicr_ctlr, NULL },
    { 0x0004,        4,    0, W32,    0, "GICR_IIDR",        read_zero, NULL },
    { 0x0008,        8,    0, W32_64, 0, "GICR_TYPER",       read_gicr_typer, NULL },
    { 0x0010,        4,    0, W32,    0, "GICR_STATUSR",     NULL, NULL },
    { 0x0014,        4,    0, W32,    0, "GICR_WAKER",       read_gicr_waker, write_gicr_waker },
    { 0x0070,        8,    0, W32_64, 0, "GICR_PROPBASER",   NULL, NULL },
    { 0x0078,        8,    0, W32_64, 0, "GICR_PENDBASER",   NULL, NULL },
    { 0xffd0,        0x18, 0, W32,    0, "GICR_PIDR4..PIDR1", NULL, NULL },
    { 0xffe8,        4,    0, W32,    0, "GICR_PIDR2",       read_pidr2, NULL },
    { 0xffec,        0x14, 0, W32,    0, "GICR_PIDR3/CIDR",  NULL, NULL },
    { SGIF + 0x0080, 4,    1, W32,    0, "GICR_IGROUPR0",    vgic_read_group, vgic_write_group },
    { SGIF + 0x0100, 4,    1, W32,    0, "GICR_ISENABLER0",  vgic_read_enable, vgic_write_set_enable },
    { SGIF + 0x0180, 4,    1, W32,    0, "GICR_ICENABLER0",  vgic_read_enable, vgic_write_clear_enable },
    { SGIF + 0x0200, 4,    1, W32,    0, "GICR_ISPENDR0",    vgic_read_pending, vgic_write_set_pending },
    { SGIF + 0x0280, 4,    1, W32,    0, "GICR_ICPENDR0",    vgic_read_pending, vgic_write_clear_pending },
    { SGIF + 0x0300, 4,    1, W32,    0, "GICR_ISACTIVER0",  vgic_read_active, vgic_write_set_active },
    { SGIF + 0x0380, 4,    1, W32,    0, "GICR_ICACTIVER0",  vgic_read_active, vgic_write_clear_active },
    { SGIF + 0x0400, 0x20, 8, W8_32,  0, "GICR_IPRIORITYR",  vgic_read_priority, vgic_write_priority },
    { SGIF + 0x0c00, 8,    2, W32,    0, "GICR_ICFGR",       vgic_read_config, vgic_write_config },
    { SGIF + 0x0d00, 4,    0, W32,    0, "GICR_IGRPMODR0",   NULL, NULL },
    { SGIF + 0x0e00, 4,    0, W32,    0, "GICR_NSACR",       NULL, NULL },
};

const struct vgic_reg *vgic_dist_table(size_t *n)
{
    *n = sizeof(dist_v3) / sizeof(dist_v3[0]);
    return dist_v3;
}

const struct vgic_reg *vgic_redist_v3_table(size_t *n);
const struct vgic_reg *vgic_redist_v3_table(size_t *n)
{
    *n = sizeof(redist_v3) / sizeof(redist_v3[0]);
    return redist_v3;
}

enum vgic_mmio_status vgic_redist_access(struct vgic *vgic, uint64_t offset, unsigned width,
                                         bool write, uint64_t *value)
{
    uint64_t vcpu = offset / VGIC_REDIST_STRIDE;
    if (vcpu >= vgic->nr_vcpus) {
        return VGIC_MMIO_OUT_OF_RANGE;
    }
    return vgic_mmio_dispatch(redist_v3, sizeof(redist_v3) / sizeof(redist_v3[0]), vgic,
                              (unsigned)vcpu, offset % VGIC_REDIST_STRIDE, VGIC_REDIST_STRIDE,
                              width, write, value);
}

#endif
