/*
 * Version-neutral virtual distributor state: what is enabled, pending, where it is routed,
 * and which list registers hold what. The CPU interface (priority masking, acknowledge,
 * EOI) is done by hardware; the kernel tells us about EOIs through VGICMaintenance faults
 * because every list register is written with its EOI maintenance bit set.
 */
#include "vgic.h"

#include "vmm_string.h"

void vgic_init(struct vgic *vgic, unsigned nr_vcpus, const struct vgic_ops *ops, void *ctx)
{
    memset(vgic, 0, sizeof(*vgic));
    vgic->nr_vcpus = nr_vcpus > VMM_CONFIG_MAX_VCPUS ? VMM_CONFIG_MAX_VCPUS : nr_vcpus;
    vgic->nr_irqs = VGIC_NR_IRQS;
    vgic->ops = ops;
    vgic->ctx = ctx;
    for (unsigned v = 0; v < vgic->nr_vcpus; v++) {
        struct vgic_vcpu *vc = &vgic->vcpu[v];
        vc->sleeping = true;
        for (unsigned i = 0; i < VGIC_NR_PRIVATE; i++) {
            /* SGIs are edge-triggered (GICv2 4.3.13, GICv3 12.9.7: ICFGR0 is read-only). */
            vc->private_irqs[i].edge = i < VGIC_NR_SGIS;
        }
    }
    /* Reset routing is "not forwarded" in the specs; pointing SPIs at vCPU 0 instead costs
     * nothing and helps guests that never program targets. */
    for (unsigned i = 0; i < VGIC_NR_IRQS - VGIC_NR_PRIVATE; i++) {
        vgic->spi[i].targets = 1u;
        vgic->spi[i].route = 0;
    }
}

/*
 * A guest initialises every line GICD_TYPER.ITLinesNumber advertises, one trapping access per
 * register: Linux's gic_dist_init (drivers/irqchip/irq-gic.c: ITARGETSR, then gic_dist_config in
 * irq-gic-common.c: ICFGR, IPRIORITYR, ICACTIVER, ICENABLER; irq-gic-v3.c adds IGROUPR and one
 * 64-bit IROUTER per SPI) loops up to 32 * (ITLinesNumber + 1). So the distributor advertises
 * only the lines its VM can be given, as KVM does (KVM_DEV_ARM_VGIC_GRP_NR_IRQS). Linux needs
 * every SPI its device tree names below that count (GICv2 sizes its IRQ domain with it,
 * irq_domain_create_linear(handle, gic_irqs, ...); GICv3 configures and routes only lines below
 * GIC_LINE_NR); it copes with no SPIs at all (ITLinesNumber 0: "0 SPIs implemented", every
 * loop empty), but one block of SPIs is kept so that a guest which expects some finds them.
 */
unsigned vgic_lines_for(unsigned max_intid)
{
    if (max_intid >= VGIC_NR_IRQS) {
        return 0;
    }
    unsigned lines = (max_intid / 32u + 1u) * 32u;
    return lines < VGIC_MIN_IRQS ? VGIC_MIN_IRQS : lines;
}

bool vgic_set_max_intid(struct vgic *vgic, unsigned max_intid)
{
    unsigned lines = vgic_lines_for(max_intid);
    if (lines == 0) {
        return false;
    }
    vgic->nr_irqs = lines;
    return true;
}

struct vgic_irq *vgic_irq(struct vgic *vgic, unsigned vcpu, unsigned intid)
{
    if (intid >= vgic->nr_irqs) {
        return NULL;
    }
    if (intid < VGIC_NR_PRIVATE) {
        if (vcpu >= vgic->nr_vcpus) {
            return NULL;
        }
        return &vgic->vcpu[vcpu].private_irqs[intid];
    }
    return &vgic->spi[intid - VGIC_NR_PRIVATE];
}

bool vgic_group_enabled(const struct vgic *vgic, const struct vgic_irq *irq)
{
    /* GICD_CTLR bit 0 EnableGrp0, bit 1 EnableGrp1 (GICv2 without Security Extensions,
     * GICv3 with DS = 1). */
    return (vgic->ctlr & (irq->group1 ? 2u : 1u)) != 0;
}

int vgic_spi_target(const struct vgic *vgic, unsigned intid)
{
    if (intid < VGIC_NR_PRIVATE || intid >= vgic->nr_irqs) {
        return -1;
    }
    const struct vgic_irq *irq = &vgic->spi[intid - VGIC_NR_PRIVATE];
#if defined(GIC_V2)
    for (unsigned v = 0; v < vgic->nr_vcpus; v++) {
        if (irq->targets & (1u << v)) {
            return (int)v;
        }
    }
    return -1;
#else
    /* IROUTER.Interrupt_Routing_Mode (bit 31): 1 = any participating PE; we pick vCPU 0. */
    if (irq->route & (1ull << 31)) {
        return 0;
    }
    /* Aff3 [39:32], Aff2 [23:16], Aff1 [15:8] must be zero: our vCPUs differ in Aff0 only. */
    if (irq->route & 0xff00ffff00ull) {
        return -1;
    }
    unsigned aff0 = (unsigned)(irq->route & 0xffu);
    return aff0 < vgic->nr_vcpus ? (int)aff0 : -1;
#endif
}

static bool vgic_queue_push(struct vgic_vcpu *vc, unsigned intid)
{
    if (vc->queue_len == VGIC_QUEUE_SIZE) {
        vc->queue_overflowed = true;
        return false;
    }
    vc->queue[(vc->queue_head + vc->queue_len) % VGIC_QUEUE_SIZE] = (uint16_t)intid;
    vc->queue_len++;
    return true;
}

/* Puts a deliverable IRQ into a free list register of `vcpu`, or queues it. */
static void vgic_forward(struct vgic *vgic, unsigned vcpu, unsigned intid, struct vgic_irq *irq)
{
    struct vgic_vcpu *vc = &vgic->vcpu[vcpu];
    for (unsigned lr = 0; lr < VGIC_NR_LRS; lr++) {
        if (vc->lr[lr] != 0) {
            continue;
        }
        /* The list register priority field holds priority[7:3] (GICv2 5.3.5 GICH_LR). */
        uint8_t prio = irq->priority >> 3;
        if (vgic->ops == NULL || vgic->ops->inject == NULL
            || !vgic->ops->inject(vgic->ctx, vcpu, lr, (uint16_t)intid, prio,
                                  irq->group1 ? 1 : 0)) {
            vgic->inject_failures++;
            return;
        }
        vc->lr[lr] = (uint16_t)(intid + 1u);
        irq->in_lr = true;
        irq->pending = false;
        return;
    }
    if (!irq->queued && vgic_queue_push(vc, intid)) {
        irq->queued = true;
    }
}

static int vgic_target(struct vgic *vgic, unsigned vcpu, unsigned intid)
{
    if (intid < VGIC_NR_PRIVATE) {
        return vcpu < vgic->nr_vcpus ? (int)vcpu : -1;
    }
    return vgic_spi_target(vgic, intid);
}

void vgic_try_deliver(struct vgic *vgic, unsigned vcpu, unsigned intid)
{
    struct vgic_irq *irq = vgic_irq(vgic, vcpu, intid);
    if (irq == NULL || !irq->pending || !irq->enabled || irq->in_lr
        || !vgic_group_enabled(vgic, irq)) {
        return;
    }
    int target = vgic_target(vgic, vcpu, intid);
    if (target < 0) {
        return;
    }
    vgic_forward(vgic, (unsigned)target, intid, irq);
}

void vgic_deliver_all(struct vgic *vgic)
{
    for (unsigned v = 0; v < vgic->nr_vcpus; v++) {
        for (unsigned i = 0; i < VGIC_NR_PRIVATE; i++) {
            vgic_try_deliver(vgic, v, i);
        }
    }
    for (unsigned i = VGIC_NR_PRIVATE; i < vgic->nr_irqs; i++) {
        vgic_try_deliver(vgic, 0, i);
    }
}

bool vgic_raise(struct vgic *vgic, unsigned vcpu, unsigned intid)
{
    struct vgic_irq *irq = vgic_irq(vgic, vcpu, intid);
    if (irq == NULL) {
        vgic->raise_refused++;
        return false;
    }
    irq->pending = true;
    vgic_try_deliver(vgic, vcpu, intid);
    return true;
}

static void vgic_refill(struct vgic *vgic, unsigned vcpu)
{
    struct vgic_vcpu *vc = &vgic->vcpu[vcpu];
    while (vc->queue_len > 0) {
        bool free_lr = false;
        for (unsigned lr = 0; lr < VGIC_NR_LRS; lr++) {
            free_lr = free_lr || vc->lr[lr] == 0;
        }
        if (!free_lr) {
            return;
        }
        unsigned intid = vc->queue[vc->queue_head];
        vc->queue_head = (vc->queue_head + 1u) % VGIC_QUEUE_SIZE;
        vc->queue_len--;
        struct vgic_irq *irq = vgic_irq(vgic, vcpu, intid);
        if (irq != NULL) {
            irq->queued = false;
            vgic_try_deliver(vgic, vcpu, intid);
        }
    }
    if (vc->queue_overflowed) {
        vc->queue_overflowed = false;
        vgic_deliver_all(vgic);
    }
}

bool vgic_vcpu_has_work(const struct vgic *vgic, unsigned vcpu)
{
    if (vcpu >= vgic->nr_vcpus) {
        return false;
    }
    const struct vgic_vcpu *vc = &vgic->vcpu[vcpu];
    for (unsigned lr = 0; lr < VGIC_NR_LRS; lr++) {
        if (vc->lr[lr] != 0) {
            return true;
        }
    }
    return vc->queue_len > 0 || vc->queue_overflowed;
}

int vgic_maintenance(struct vgic *vgic, unsigned vcpu, unsigned lr)
{
    if (vcpu >= vgic->nr_vcpus || lr >= VGIC_NR_LRS) {
        return -1;
    }
    struct vgic_vcpu *vc = &vgic->vcpu[vcpu];
    if (vc->lr[lr] == 0) {
        return -1;
    }
    unsigned intid = vc->lr[lr] - 1u;
    vc->lr[lr] = 0;
    struct vgic_irq *irq = vgic_irq(vgic, vcpu, intid);
    if (irq != NULL) {
        irq->in_lr = false;
        irq->active = false;
        /* Raised again while the guest handled it (an edge, or an SGI): forward again. */
        vgic_try_deliver(vgic, vcpu, intid);
    }
    vgic_refill(vgic, vcpu);
    return (int)intid;
}

#if defined(GIC_V3)
void vgic_v3_sgi1r_write(struct vgic *vgic, unsigned vcpu, uint64_t value)
{
    /* ICC_SGI1R_EL1: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32],
     * IRM [40], RS [47:44], Aff3 [55:48] (IHI0069 12.11.28). */
    unsigned intid = (unsigned)(value >> 24) & 0xfu;
    bool irm = ((value >> 40) & 1u) != 0;
    uint64_t upper = value & ((0xffull << 16) | (0xffull << 32) | (0xfull << 44) | (0xffull << 48));
    for (unsigned v = 0; v < vgic->nr_vcpus; v++) {
        bool hit = irm ? v != vcpu : (upper == 0 && ((value >> v) & 1u) != 0);
        if (hit) {
            vgic_raise(vgic, v, intid);
        }
    }
}
#endif
