/*
 * The virtual GIC distributor: version-neutral interrupt state (this file, gic/vgic.c) and
 * per-version register tables (gic/vgic_dist_v2.c, gic/vgic_dist_v3.c) over one table-driven
 * MMIO dispatcher (gic/vgic_mmio.c). The CPU interface is the hardware's: GICv2 maps the GICV
 * frame at the guest's GICC address, GICv3 uses the ICH/ICV system registers; we only feed
 * its list registers through seL4_ARM_VCPU_InjectIRQ.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_config.h"

#if defined(GIC_V2) && defined(GIC_V3)
#error "define exactly one of GIC_V2 and GIC_V3"
#elif defined(GIC_V2)
#define VGIC_VERSION 2u
#elif defined(GIC_V3)
#define VGIC_VERSION 3u
#else
#error "define GIC_V2 or GIC_V3 (the runtime is built for one GIC flavour)"
#endif

/* At most INTIDs 0..VGIC_NR_IRQS-1 are implemented: 16 SGIs, 16 PPIs, 480 SPIs; the arrays are
 * this size. The distributor advertises fewer (struct vgic nr_irqs): only the lines its VM can
 * be given (vgic_set_max_intid), since a guest initialises every advertised line with one
 * trapping write per register (Linux's gic_dist_init). The config check bounds every INTID by
 * VMM_CONFIG_MAX_INTID, this limit. */
#define VGIC_NR_IRQS       (VMM_CONFIG_MAX_INTID + 1u)
_Static_assert(VGIC_NR_IRQS % 32u == 0 && VGIC_NR_IRQS <= 1024u,
               "GICD_TYPER.ITLinesNumber counts lines in blocks of 32, at most 32 blocks");
/* Fewest lines advertised: SGIs and PPIs, and one block of 32 SPIs (ITLinesNumber = 1). */
#define VGIC_MIN_IRQS      64u
#define VGIC_NR_PRIVATE    32u
#define VGIC_NR_SGIS       16u
/* seL4 rejects list-register indexes beyond what the hardware has; 4 is what GIC-400,
 * GIC-500/600 CPU interfaces and QEMU provide (GICH_VTR.ListRegs / ICH_VTR_EL2.ListRegs). */
#define VGIC_NR_LRS        4u
/* The vCPU limit is the config's; a GICv2 ITARGETSR byte has one bit per CPU (IHI0048B 4.3.12). */
_Static_assert(VMM_CONFIG_MAX_VCPUS <= 8, "GICv2 targets at most 8 CPUs");
#define VGIC_QUEUE_SIZE    64u

/* The architected virtual timer PPI (Arm ARM D11.2, Linux "arm,armv8-timer" 4th interrupt). */
#define VGIC_VTIMER_INTID  27u

struct vgic_irq {
    bool enabled;
    bool pending;       /* waiting to be placed in a list register */
    bool active;        /* as set through ISACTIVER/ICACTIVER */
    bool in_lr;         /* owned by the hardware CPU interface until the guest's EOI */
    bool queued;        /* in its vCPU's overflow queue */
    bool group1;
    bool edge;
    uint8_t priority;
    uint8_t targets;    /* GICv2 ITARGETSR CPU mask (SPIs) */
    uint64_t route;     /* GICv3 IROUTER (SPIs) */
};

struct vgic_vcpu {
    struct vgic_irq private_irqs[VGIC_NR_PRIVATE];
    uint16_t lr[VGIC_NR_LRS];           /* INTID + 1 held by each list register; 0 = free */
    uint16_t queue[VGIC_QUEUE_SIZE];    /* pending INTIDs waiting for a free list register */
    unsigned queue_head;
    unsigned queue_len;
    bool queue_overflowed;
    bool online;
    bool sleeping;                      /* GICv3 GICR_WAKER.ProcessorSleep */
    uint32_t gicr_ctlr;
};

struct vgic_ops {
    /* Places INTID `intid` in list register `lr` of `vcpu` (seL4_ARM_VCPU_InjectIRQ).
     * priority is the 5-bit list-register priority; returns false if the kernel refused. */
    bool (*inject)(void *ctx, unsigned vcpu, unsigned lr, uint16_t intid, uint8_t priority,
                   uint8_t group);
};

struct vgic {
    unsigned nr_vcpus;
    /* INTIDs the distributor implements and advertises, 32 * (GICD_TYPER.ITLinesNumber + 1):
     * VGIC_MIN_IRQS..VGIC_NR_IRQS, a multiple of 32. Registers of INTIDs at or above it are
     * RAZ/WI (IHI0048B 3.1.2, IHI0069 12.9.38) and no INTID above it is raised. */
    unsigned nr_irqs;
    uint32_t ctlr;
    struct vgic_vcpu vcpu[VMM_CONFIG_MAX_VCPUS];
    struct vgic_irq spi[VGIC_NR_IRQS - VGIC_NR_PRIVATE];
    const struct vgic_ops *ops;
    void *ctx;
    unsigned inject_failures;
    unsigned raise_refused;             /* vgic_raise of an INTID not implemented (a bug) */
};

/* Resets the vGIC with all VGIC_NR_IRQS lines; vgic_set_max_intid then narrows them. */
void vgic_init(struct vgic *vgic, unsigned nr_vcpus, const struct vgic_ops *ops, void *ctx);

/* The lines a distributor advertises when `max_intid` is the highest INTID its VM can be given:
 * the smallest 32 * (N + 1) above it, at least VGIC_MIN_IRQS; 0 if it exceeds VGIC_NR_IRQS. */
unsigned vgic_lines_for(unsigned max_intid);

/* Right after vgic_init: implement and advertise only vgic_lines_for(max_intid) INTIDs. False
 * (all VGIC_NR_IRQS kept) when max_intid is beyond what the vGIC can implement. */
bool vgic_set_max_intid(struct vgic *vgic, unsigned max_intid);

/* The state of INTID `intid` as seen by `vcpu` (private INTIDs are banked per vCPU);
 * NULL if intid is not implemented (>= nr_irqs) or vcpu is out of range. */
struct vgic_irq *vgic_irq(struct vgic *vgic, unsigned vcpu, unsigned intid);

/* Whether the distributor forwards interrupts of the IRQ's group (GICD_CTLR EnableGrp0/1). */
bool vgic_group_enabled(const struct vgic *vgic, const struct vgic_irq *irq);

/* The vCPU an SPI is routed to (ITARGETSR / IROUTER), or -1 if none. */
int vgic_spi_target(const struct vgic *vgic, unsigned intid);

/* A device (passthrough, emulated, or the virtual timer for private INTIDs of `vcpu`) raises
 * `intid`: mark it pending and forward it if enabled. Returns false, and counts it in
 * raise_refused, for an INTID the distributor does not implement (or a vCPU out of range). */
bool vgic_raise(struct vgic *vgic, unsigned vcpu, unsigned intid);

/* Tries to forward a pending interrupt (after an enable or a CTLR write). */
void vgic_try_deliver(struct vgic *vgic, unsigned vcpu, unsigned intid);

/* Forwards every pending, enabled interrupt (after GICD_CTLR enables a group). */
void vgic_deliver_all(struct vgic *vgic);

/* Whether `vcpu` has an interrupt forwarded to it that it has not EOI'd yet (held by a list
 * register or queued for one): the wake-up condition of WFI (Arm ARM D1.16.2: a pending virtual
 * interrupt wakes the PE even if PSTATE masks it). A list register is freed at the guest's EOI
 * (the maintenance interrupt), so an occupied one is, in practice, pending; erring towards
 * "has work" only costs a spurious wake-up, which WFI allows. */
bool vgic_vcpu_has_work(const struct vgic *vgic, unsigned vcpu);

/* The guest EOI'd list register `lr` of `vcpu` (a VGICMaintenance fault). Frees it, refills
 * free list registers from the queue, and returns the INTID that was EOI'd, or -1 if the list
 * register held none. */
int vgic_maintenance(struct vgic *vgic, unsigned vcpu, unsigned lr);

#if defined(GIC_V3)
/* A trapped write of ICC_SGI1R_EL1 by `vcpu` (GICv3 IHI0069 12.11.x): raise the SGI on the
 * targeted vCPUs. */
void vgic_v3_sgi1r_write(struct vgic *vgic, unsigned vcpu, uint64_t value);
#endif

/* MMIO outcome: the dispatcher checks width, alignment and INTID before any handler runs. */
enum vgic_mmio_status {
    VGIC_MMIO_OK,
    VGIC_MMIO_UNKNOWN_RAZWI,    /* no register at this offset: read as zero, write ignored */
    VGIC_MMIO_IRQ_RAZWI,        /* register of an unimplemented INTID: RAZ/WI */
    VGIC_MMIO_BAD_WIDTH,        /* access width the register does not allow */
    VGIC_MMIO_MISALIGNED,       /* offset not a multiple of the width */
    VGIC_MMIO_OUT_OF_RANGE,     /* outside the frame */
};

const char *vgic_mmio_status_name(enum vgic_mmio_status s);

/* A guest access to the distributor frame at `offset` by `vcpu`; *value is read into or
 * written from (low `width` bytes). */
enum vgic_mmio_status vgic_dist_access(struct vgic *vgic, unsigned vcpu, uint64_t offset,
                                       unsigned width, bool write, uint64_t *value);

/* Name of the register at a distributor offset (for log lines), or "unknown". */
const char *vgic_dist_reg_name(uint64_t offset);

#if defined(GIC_V3)
/* A guest access to the redistributor region (all vCPUs' frames, 0x20000 bytes each). */
enum vgic_mmio_status vgic_redist_access(struct vgic *vgic, uint64_t offset, unsigned width,
                                         bool write, uint64_t *value);
#endif

struct mmio_bus;

/* Registers the distributor frame at gicd_base (and, GICv3, the nr_vcpus redistributors at
 * gicr_base) on the VMM's MMIO bus. An unknown register or an unimplemented INTID's is logged
 * and ignored; any other refused access stops the VM. False with a line in err on an overlap. */
bool vgic_register_frames(struct vgic *vgic, struct mmio_bus *bus, uint64_t gicd_base,
                          uint64_t gicr_base, unsigned nr_vcpus, char *err, size_t err_size);

/* Sizes of the emulated frames of the GIC version built (vmm_config.h has both versions'). */
#if defined(GIC_V2)
#define VGIC_DIST_SIZE VMM_GICD_V2_SIZE
#else
#define VGIC_DIST_SIZE VMM_GICD_V3_SIZE
#define VGIC_REDIST_STRIDE VMM_GICR_STRIDE
#endif
