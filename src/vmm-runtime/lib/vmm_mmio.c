/*
 * The VM's emulated frames on its MMIO bus (vmm.h): the vGIC's (gic/vgic_mmio.c), the
 * emulated PL011s' (here) and the virtio windows (lib/vmm_virtio.c). exits.c turns a stage-2
 * data abort into a lookup on that bus and a call.
 */
#include "vmm.h"

/* A guest access to an emulated PL011; its interrupt goes to the vGIC when the line rises. */
static enum mmio_status uart_access(void *opaque, struct mmio_access *a)
{
    struct vmm_uart *u = opaque;
    u->accesses++;
    bool before = pl011_irq_level(&u->pl011);
    enum pl011_status st = pl011_access(&u->pl011, a->offset, a->width, a->write, &a->value);
    if (u->intid != 0 && !before && pl011_irq_level(&u->pl011)) {
        vgic_raise(u->vgic, a->vcpu, u->intid);
    }
    if (st == PL011_BAD_ACCESS) {
        return mmio_bus_why(a, MMIO_BAD_ACCESS, "%u-byte %s of the emulated PL011 (bad width or "
                            "alignment)", a->width, a->write ? "write" : "read");
    }
    return MMIO_OK;
}

bool vmm_mmio_register(struct vmm *vmm, char *err, size_t err_size)
{
    const struct vmm_config *c = vmm->config;
    mmio_bus_init(&vmm->bus);
    if (!vgic_register_frames(&vmm->vgic, &vmm->bus, c->gicd_base, c->gicr_base, c->vcpu_count,
                              err, err_size)) {
        return false;
    }
    for (unsigned i = 0; i < c->device_count; i++) {
        if (c->devices[i].kind != VMM_CONFIG_DEVICE_PL011) {
            continue;   /* the PL061 is the doorbells' (lib/doorbell.c) */
        }
        struct vmm_uart *u = &vmm->uarts[i];
        u->vgic = &vmm->vgic;
        u->intid = c->devices[i].intid;
        struct mmio_region r = { c->devices[i].guest_base, c->devices[i].size, "PL011",
                                 uart_access, u };
        if (!mmio_bus_register(&vmm->bus, &r, err, err_size)) {
            return false;
        }
    }
    return vmm_virtio_register(&vmm->virtio, c, &vmm->bus, err, err_size);
}
