/*
 * The table-driven register dispatcher shared by the GICv2 and GICv3 frames. Each frame is a
 * table of registers sorted by offset; vgic_mmio_dispatch finds the register, checks width,
 * alignment and INTID, and only then calls its handler. Handlers therefore never see an
 * access they would have to reject.
 */
#pragma once

#include "vgic.h"

/* Allowed access widths, as a bit set. */
#define VGIC_W8   (1u << 0)
#define VGIC_W16  (1u << 1)
#define VGIC_W32  (1u << 2)
#define VGIC_W64  (1u << 3)

/* Per-IRQ register whose INTIDs below 32 are RAZ/WI in this frame (GICv3 distributor with
 * affinity routing: those live in the redistributors, IHI0069 12.9). */
#define VGIC_REG_SPI_ONLY (1u << 0)

struct vgic_access {
    unsigned vcpu;      /* whose banked state the access reaches */
    uint32_t offset;    /* byte offset from the start of the register (range) */
    uint32_t intid;     /* per-IRQ registers: first INTID covered */
    unsigned count;     /* per-IRQ registers: INTIDs covered (at least 1) */
    unsigned width;     /* bytes: 1, 2, 4 or 8 */
};

typedef uint64_t (*vgic_read_fn)(struct vgic *vgic, const struct vgic_access *a);
typedef void (*vgic_write_fn)(struct vgic *vgic, const struct vgic_access *a, uint64_t value);

struct vgic_reg {
    uint32_t offset;        /* first byte */
    uint32_t length;        /* bytes covered */
    uint8_t bits_per_irq;   /* 0: not a per-IRQ register */
    uint8_t widths;         /* VGIC_W* */
    uint8_t flags;          /* VGIC_REG_* */
    const char *name;
    vgic_read_fn read;      /* NULL: reads as zero */
    vgic_write_fn write;    /* NULL: writes ignored */
};

enum vgic_mmio_status vgic_mmio_dispatch(const struct vgic_reg *table, size_t n,
                                         struct vgic *vgic, unsigned vcpu, uint64_t offset,
                                         uint64_t frame_size, unsigned width, bool write,
                                         uint64_t *value);

const struct vgic_reg *vgic_mmio_find(const struct vgic_reg *table, size_t n, uint64_t offset);

/* The distributor's register table of the GIC version built (gic/vgic_dist_v2.c or _v3.c). */
const struct vgic_reg *vgic_dist_table(size_t *n);

/* True when the table is sorted and its registers do not overlap (checked by the tests). */
bool vgic_mmio_table_sane(const struct vgic_reg *table, size_t n);

/* Per-IRQ handlers with the same layout in both versions. */
uint64_t vgic_read_group(struct vgic *vgic, const struct vgic_access *a);
void vgic_write_group(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
uint64_t vgic_read_enable(struct vgic *vgic, const struct vgic_access *a);
void vgic_write_set_enable(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
void vgic_write_clear_enable(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
uint64_t vgic_read_pending(struct vgic *vgic, const struct vgic_access *a);
void vgic_write_set_pending(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
void vgic_write_clear_pending(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
uint64_t vgic_read_active(struct vgic *vgic, const struct vgic_access *a);
void vgic_write_set_active(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
void vgic_write_clear_active(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
uint64_t vgic_read_priority(struct vgic *vgic, const struct vgic_access *a);
void vgic_write_priority(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
uint64_t vgic_read_config(struct vgic *vgic, const struct vgic_access *a);
void vgic_write_config(struct vgic *vgic, const struct vgic_access *a, uint64_t value);
