/*
 * The register dispatcher and the per-IRQ handlers common to GICv2 and GICv3 (the layouts of
 * IGROUPR, IS/ICENABLER, IS/ICPENDR, IS/ICACTIVER, IPRIORITYR and ICFGR are the same in
 * IHI0048B 4.3 and IHI0069 12.9).
 *
 * Unknown offsets are RAZ/WI, reported to the caller so it can log them: both specs define
 * reserved distributor offsets as RES0, and guests probe optional registers (GICD_TYPER2,
 * implementation-defined ID registers), so stopping the VM there would be wrong. Wrong
 * widths and misaligned accesses are UNPREDICTABLE in the specs and never come from a
 * correct driver, so those are reported as errors and the VMM stops the VM.
 */
#include "vgic_mmio.h"

#include "mmio_bus.h"

const char *vgic_mmio_status_name(enum vgic_mmio_status s)
{
    switch (s) {
    case VGIC_MMIO_OK:            return "ok";
    case VGIC_MMIO_UNKNOWN_RAZWI: return "unknown register (RAZ/WI)";
    case VGIC_MMIO_IRQ_RAZWI:     return "unimplemented interrupt (RAZ/WI)";
    case VGIC_MMIO_BAD_WIDTH:     return "access width not allowed for this register";
    case VGIC_MMIO_MISALIGNED:    return "misaligned access";
    case VGIC_MMIO_OUT_OF_RANGE:  return "offset outside the frame";
    }
    return "?";
}

const struct vgic_reg *vgic_mmio_find(const struct vgic_reg *table, size_t n, uint64_t offset)
{
    size_t lo = 0;
    size_t hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vgic_reg *r = &table[mid];
        if (offset < r->offset) {
            hi = mid;
        } else if (offset - r->offset >= r->length) {
            lo = mid + 1;
        } else {
            return r;
        }
    }
    return NULL;
}

bool vgic_mmio_table_sane(const struct vgic_reg *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct vgic_reg *r = &table[i];
        if (r->length == 0 || r->widths == 0 || r->name == NULL) {
            return false;
        }
        if (i > 0 && table[i - 1].offset + table[i - 1].length > r->offset) {
            return false;
        }
        if (r->bits_per_irq != 0 && r->bits_per_irq != 1 && r->bits_per_irq != 2
            && r->bits_per_irq != 8 && r->bits_per_irq != 64) {
            return false;
        }
    }
    return true;
}

enum vgic_mmio_status vgic_mmio_dispatch(const struct vgic_reg *table, size_t n,
                                         struct vgic *vgic, unsigned vcpu, uint64_t offset,
                                         uint64_t frame_size, unsigned width, bool write,
                                         uint64_t *value)
{
    unsigned wbit;
    switch (width) {
    case 1: wbit = VGIC_W8; break;
    case 2: wbit = VGIC_W16; break;
    case 4: wbit = VGIC_W32; break;
    case 8: wbit = VGIC_W64; break;
    default: return VGIC_MMIO_BAD_WIDTH;
    }
    if (offset >= frame_size || width > frame_size - offset) {
        return VGIC_MMIO_OUT_OF_RANGE;
    }
    if (offset % width != 0) {
        return VGIC_MMIO_MISALIGNED;
    }
    const struct vgic_reg *r = vgic_mmio_find(table, n, offset);
    if (r == NULL) {
        if (!write) {
            *value = 0;
        }
        return VGIC_MMIO_UNKNOWN_RAZWI;
    }
    if ((r->widths & wbit) == 0 || offset - r->offset > r->length - width) {
        return VGIC_MMIO_BAD_WIDTH;
    }
    struct vgic_access a = {
        .vcpu = vcpu,
        .offset = (uint32_t)(offset - r->offset),
        .intid = 0,
        .count = 0,
        .width = width,
    };
    if (r->bits_per_irq != 0) {
        a.intid = (uint32_t)((uint64_t)a.offset * 8u / r->bits_per_irq);
        a.count = width * 8u / r->bits_per_irq;
        if (a.count == 0) {
            a.count = 1;    /* a 32-bit half of a 64-bit per-IRQ register */
        }
        /* INTIDs the distributor does not implement (at or above nr_irqs, which
         * GICD_TYPER advertises) are RAZ/WI: IHI0048B 3.1.2 and 4.3, IHI0069 12.9. nr_irqs is a
         * multiple of 32, so an aligned access is wholly below or wholly above it. */
        if (a.intid >= vgic->nr_irqs || a.count > vgic->nr_irqs - a.intid
            || ((r->flags & VGIC_REG_SPI_ONLY) && a.intid < VGIC_NR_PRIVATE)
            || vcpu >= vgic->nr_vcpus) {
            if (!write) {
                *value = 0;
            }
            return VGIC_MMIO_IRQ_RAZWI;
        }
    }
    if (write) {
        if (r->write != NULL) {
            uint64_t mask = width == 8 ? ~0ull : (1ull << (width * 8u)) - 1u;
            r->write(vgic, &a, *value & mask);
        }
    } else {
        *value = r->read != NULL ? r->read(vgic, &a) : 0;
    }
    return VGIC_MMIO_OK;
}

/* Helpers for 1-bit-per-IRQ registers. */
static uint64_t read_bits(struct vgic *vgic, const struct vgic_access *a,
                          bool (*get)(const struct vgic_irq *))
{
    uint64_t v = 0;
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL && get(irq)) {
            v |= 1ull << i;
        }
    }
    return v;
}

static bool get_group(const struct vgic_irq *irq) { return irq->group1; }
static bool get_enabled(const struct vgic_irq *irq) { return irq->enabled; }
static bool get_pending(const struct vgic_irq *irq) { return irq->pending || irq->in_lr; }
static bool get_active(const struct vgic_irq *irq) { return irq->active; }

uint64_t vgic_read_group(struct vgic *vgic, const struct vgic_access *a)
{
    return read_bits(vgic, a, get_group);
}

void vgic_write_group(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL) {
            irq->group1 = ((value >> i) & 1u) != 0;
        }
    }
}

uint64_t vgic_read_enable(struct vgic *vgic, const struct vgic_access *a)
{
    return read_bits(vgic, a, get_enabled);
}

void vgic_write_set_enable(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL && ((value >> i) & 1u)) {
            irq->enabled = true;
            vgic_try_deliver(vgic, a->vcpu, a->intid + i);
        }
    }
}

void vgic_write_clear_enable(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL && ((value >> i) & 1u)) {
            irq->enabled = false;
        }
    }
}

uint64_t vgic_read_pending(struct vgic *vgic, const struct vgic_access *a)
{
    return read_bits(vgic, a, get_pending);
}

void vgic_write_set_pending(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        if ((value >> i) & 1u) {
            vgic_raise(vgic, a->vcpu, a->intid + i);
        }
    }
}

void vgic_write_clear_pending(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        /* An interrupt already in a list register belongs to the hardware until EOI. */
        if (irq != NULL && ((value >> i) & 1u)) {
            irq->pending = false;
        }
    }
}

uint64_t vgic_read_active(struct vgic *vgic, const struct vgic_access *a)
{
    return read_bits(vgic, a, get_active);
}

void vgic_write_set_active(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL && ((value >> i) & 1u)) {
            irq->active = true;
        }
    }
}

void vgic_write_clear_active(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL && ((value >> i) & 1u)) {
            irq->active = false;
        }
    }
}

/* Priority: one byte per INTID; 5 bits implemented (the list register holds priority[7:3]),
 * so bits [2:0] are RAZ/WI as the specs allow (IHI0048B 3.3, IHI0069 4.8). */
uint64_t vgic_read_priority(struct vgic *vgic, const struct vgic_access *a)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL) {
            v |= (uint64_t)irq->priority << (8 * i);
        }
    }
    return v;
}

void vgic_write_priority(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL) {
            irq->priority = (uint8_t)(value >> (8 * i)) & 0xf8u;
        }
    }
}

/* ICFGR: two bits per INTID, bit 1 of each field = edge-triggered; SGIs are read-only edge. */
uint64_t vgic_read_config(struct vgic *vgic, const struct vgic_access *a)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < a->count; i++) {
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, a->intid + i);
        if (irq != NULL && irq->edge) {
            v |= 2ull << (2 * i);
        }
    }
    return v;
}

void vgic_write_config(struct vgic *vgic, const struct vgic_access *a, uint64_t value)
{
    for (unsigned i = 0; i < a->count; i++) {
        unsigned intid = a->intid + i;
        struct vgic_irq *irq = vgic_irq(vgic, a->vcpu, intid);
        if (irq != NULL && intid >= VGIC_NR_SGIS) {
            irq->edge = ((value >> (2 * i + 1)) & 1u) != 0;
        }
    }
}

/* The version-neutral entry points: the table is the built GIC version's. */
enum vgic_mmio_status vgic_dist_access(struct vgic *vgic, unsigned vcpu, uint64_t offset,
                                       unsigned width, bool write, uint64_t *value)
{
    size_t n;
    const struct vgic_reg *table = vgic_dist_table(&n);
    return vgic_mmio_dispatch(table, n, vgic, vcpu, offset, VGIC_DIST_SIZE, width, write, value);
}

const char *vgic_dist_reg_name(uint64_t offset)
{
    size_t n;
    const struct vgic_reg *table = vgic_dist_table(&n);
    const struct vgic_reg *r = vgic_mmio_find(table, n, offset);
    return r != NULL ? r->name : "unknown";
}

/* ---------------------------------------------------------------- frames on the MMIO bus */

/* A frame's access outcome as the bus reports it: an unknown register or INTID is logged
 * and ignored, any other refusal stops the VM with the register offset. */
static enum mmio_status frame_status(struct mmio_access *a, const char *frame,
                                     enum vgic_mmio_status st)
{
    const char *rw = a->write ? "write" : "read";
    if (st == VGIC_MMIO_OK) {
        return MMIO_OK;
    }
    if (st == VGIC_MMIO_UNKNOWN_RAZWI || st == VGIC_MMIO_IRQ_RAZWI) {
        return mmio_bus_why(a, MMIO_IGNORED, "%s %s at offset 0x%llx: %s", frame, rw,
                            (unsigned long long)a->offset, vgic_mmio_status_name(st));
    }
    return mmio_bus_why(a, MMIO_BAD_ACCESS, "%u-byte %s of %s+0x%llx (%s)", a->width, rw, frame,
                        (unsigned long long)a->offset, vgic_mmio_status_name(st));
}

static enum mmio_status gicd_access(void *opaque, struct mmio_access *a)
{
    return frame_status(a, "GICD", vgic_dist_access(opaque, a->vcpu, a->offset, a->width,
                                                    a->write, &a->value));
}

#if defined(GIC_V3)
static enum mmio_status gicr_access(void *opaque, struct mmio_access *a)
{
    return frame_status(a, "GICR", vgic_redist_access(opaque, a->offset, a->width, a->write,
                                                      &a->value));
}
#endif

bool vgic_register_frames(struct vgic *vgic, struct mmio_bus *bus, uint64_t gicd_base,
                          uint64_t gicr_base, unsigned nr_vcpus, char *err, size_t err_size)
{
    struct mmio_region gicd = { gicd_base, VGIC_DIST_SIZE, "GICD", gicd_access, vgic };
    if (!mmio_bus_register(bus, &gicd, err, err_size)) {
        return false;
    }
#if defined(GIC_V3)
    struct mmio_region gicr = { gicr_base, (uint64_t)nr_vcpus * VGIC_REDIST_STRIDE, "GICR",
                                gicr_access, vgic };
    return mmio_bus_register(bus, &gicr, err, err_size);
#else
    (void)gicr_base;
    (void)nr_vcpus;
    return true;
#endif
}
