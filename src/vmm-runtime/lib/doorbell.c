/* The VM's doorbells on its emulated PL061 (vmm_doorbell.h, docs/doorbell.md). */
#include "vmm_doorbell.h"

#include "vmm_fmt.h"

/* Raises the PL061's SPI when its combined line goes from low to high. */
static void update_line(struct vmm_doorbells *db, bool before, unsigned vcpu)
{
    if (!before && pl061_irq_level(&db->gpio)) {
        vgic_raise(db->vgic, vcpu, db->intid);
    }
}

/* Notifies the channel of every doorbell whose ring line the guest wrote 1 to. */
static void ring(struct vmm_doorbells *db, uint8_t rang)
{
    const struct vmm_config *c = db->config;
    for (unsigned i = 0; i < c->doorbell_count; i++) {
        const struct vmm_config_doorbell *d = &c->doorbells[i];
        if ((d->flags & VMM_CONFIG_DOORBELL_CAN_RING) != 0 && (rang & (1u << d->ring_line)) != 0) {
            db->rings++;
            db->notify(d->channel);
        }
    }
}

static enum mmio_status gpio_access(void *opaque, struct mmio_access *a)
{
    struct vmm_doorbells *db = opaque;
    bool before = pl061_irq_level(&db->gpio);
    uint8_t rang = 0;
    enum pl061_status st = pl061_access(&db->gpio, a->offset, a->width, a->write, &a->value, &rang);
    if (st == PL061_BAD_ACCESS) {
        return mmio_bus_why(a, MMIO_BAD_ACCESS, "%u-byte %s of the doorbell PL061 at +0x%llx (bad "
                            "width or alignment)", a->width, a->write ? "write" : "read",
                            (unsigned long long)a->offset);
    }
    ring(db, rang);
    update_line(db, before, a->vcpu);
    if (st == PL061_UNKNOWN_RAZWI) {
        return mmio_bus_why(a, MMIO_IGNORED, "doorbell PL061: reserved offset 0x%llx",
                            (unsigned long long)a->offset);
    }
    return MMIO_OK;
}

bool vmm_doorbells_register(struct vmm_doorbells *db, const struct vmm_config *config,
                            void (*notify)(unsigned channel), struct vgic *vgic,
                            struct mmio_bus *bus, char *err, size_t err_size)
{
    db->config = config;
    db->notify = notify;
    db->vgic = vgic;
    db->present = false;
    db->rings = 0;
    db->notifications = 0;
    pl061_init(&db->gpio);
    for (unsigned i = 0; i < config->device_count; i++) {
        const struct vmm_config_device *d = &config->devices[i];
        if (d->kind != VMM_CONFIG_DEVICE_PL061) {
            continue;
        }
        db->present = true;
        db->intid = d->intid;
        struct mmio_region r = { d->guest_base, d->size, "PL061 doorbells", gpio_access, db };
        return mmio_bus_register(bus, &r, err, err_size);
    }
    return true;
}

void vmm_doorbells_reset(struct vmm_doorbells *db)
{
    pl061_init(&db->gpio);
}

bool vmm_doorbells_notified(struct vmm_doorbells *db, unsigned channel)
{
    const struct vmm_config *c = db->config;
    for (unsigned i = 0; c != NULL && i < c->doorbell_count; i++) {
        if (c->doorbells[i].channel == channel) {
            bool before = pl061_irq_level(&db->gpio);
            db->notifications++;
            pl061_pulse(&db->gpio, (uint8_t)(1u << c->doorbells[i].notify_line));
            update_line(db, before, 0);
            return true;
        }
    }
    return false;
}

bool vmm_doorbells_eoi(struct vmm_doorbells *db, unsigned intid)
{
    if (!db->present || intid != db->intid) {
        return false;
    }
    if (pl061_irq_level(&db->gpio)) {
        vgic_raise(db->vgic, 0, intid);
    }
    return true;
}
