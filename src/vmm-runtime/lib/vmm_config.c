/*
 * Checks of the configuration blob. Everything here is guest- or tool-supplied data as far as
 * the runtime is concerned, so each field is checked with an `if` and the first failure is
 * reported as one line; the VMM then refuses to start the guest.
 */
#include "vmm_config.h"
#include "virtio_blk.h"
#include "vmm_blob.h"
#include "vmm_fmt.h"
#include "vmm_wake.h"

#include "vmm_string.h"

#define PAGE_SIZE 0x1000u

/* Shared peripheral interrupts: INTIDs 32..1019 (GICv2 IHI0048B 2.2.1, GICv3 IHI0069 2.2.1),
 * of which the vGIC implements 32..VMM_CONFIG_MAX_INTID. */
_Static_assert(VMM_CONFIG_MAX_INTID <= 1019, "INTIDs 1020..1023 are special");
static bool is_spi(unsigned intid)
{
    return intid >= 32 && intid <= VMM_CONFIG_MAX_INTID;
}

unsigned vmm_config_max_intid(const struct vmm_config *c)
{
    unsigned max = 31;
    for (unsigned i = 0; i < c->irq_count && i < VMM_CONFIG_MAX_IRQS; i++) {
        max = c->irqs[i].intid > max ? c->irqs[i].intid : max;
    }
    for (unsigned i = 0; i < c->device_count && i < VMM_CONFIG_MAX_DEVICES; i++) {
        max = c->devices[i].intid > max ? c->devices[i].intid : max;
    }
    for (unsigned i = 0; i < c->virtio_count && i < VMM_CONFIG_MAX_VIRTIO; i++) {
        max = c->virtio[i].intid > max ? c->virtio[i].intid : max;
    }
    return max;
}

uint32_t vmm_config_crc32(const uint8_t *data, size_t len)
{
    return blob_crc32(data, len);
}

/* [base, base + size) as a half-open range; false if it wraps around 2^64. */
static bool range_valid(uint64_t base, uint64_t size)
{
    return size <= UINT64_MAX - base;
}

static bool range_inside(uint64_t base, uint64_t size, uint64_t outer_base, uint64_t outer_size)
{
    return range_valid(base, size) && base >= outer_base && size <= outer_size
           && base - outer_base <= outer_size - size;
}

static bool ranges_overlap(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size)
{
    if (a_size == 0 || b_size == 0) {
        return false;
    }
    return a < b + b_size && b < a + a_size;
}

uint64_t vmm_config_kernel_guest_size(const struct vmm_config *c)
{
    return (c->flags & VMM_CONFIG_FLAG_KERNEL_GZIP) ? c->kernel_unpacked_size : c->kernel.size;
}

uint64_t vmm_config_initrd_guest_size(const struct vmm_config *c)
{
    return (c->flags & VMM_CONFIG_FLAG_INITRD_GZIP) ? c->initrd_unpacked_size : c->initrd.size;
}

/* `unpacked` is the image's *_unpacked_size field; `compressed` its *_GZIP flag; `in_place`
 * its *_IN_PLACE flag (then `vmm_vaddr` is a pristine copy, or 0 for none). */
static bool check_image(const struct vmm_config *c, const char *what,
                        const struct vmm_config_image *img, bool required, bool compressed,
                        bool in_place, uint64_t unpacked, char *err, size_t err_size)
{
    if (in_place && (compressed || img->size == 0)) {
        return vmm_fail(err, err_size, "%s image is in place but compressed or empty", what);
    }
    if (!compressed && unpacked != 0) {
        return vmm_fail(err, err_size, "%s image is stored as is but has an unpacked size 0x%llx",
                    what, (unsigned long long)unpacked);
    }
    if (img->size == 0) {
        if (required || compressed) {
            return vmm_fail(err, err_size, "%s image is missing (size 0)", what);
        }
        if (img->vmm_vaddr != 0 || img->guest_addr != 0) {
            return vmm_fail(err, err_size, "absent %s image has non-zero addresses", what);
        }
        return true;
    }
    if (compressed && (img->size < VMM_CONFIG_GZIP_MIN_SIZE || unpacked == 0)) {
        return vmm_fail(err, err_size, "compressed %s image of 0x%llx bytes unpacking to 0x%llx "
                    "bytes is too small to be a gzip member", what,
                    (unsigned long long)img->size, (unsigned long long)unpacked);
    }
    uint64_t guest_size = compressed ? unpacked : img->size;
    if (!range_inside(img->guest_addr, guest_size, c->ram_guest_base, c->ram_size)) {
        return vmm_fail(err, err_size,
                    "%s image [0x%llx..+0x%llx) is outside guest RAM [0x%llx..+0x%llx)", what,
                    (unsigned long long)img->guest_addr, (unsigned long long)guest_size,
                    (unsigned long long)c->ram_guest_base, (unsigned long long)c->ram_size);
    }
    if (in_place && img->vmm_vaddr == 0) {
        return true;
    }
    if (!range_valid(img->vmm_vaddr, img->size) || img->vmm_vaddr == 0) {
        return vmm_fail(err, err_size, "%s image source 0x%llx+0x%llx is not a valid VMM range", what,
                    (unsigned long long)img->vmm_vaddr, (unsigned long long)img->size);
    }
    if (ranges_overlap(img->vmm_vaddr, img->size, c->ram_vmm_vaddr, c->ram_size)) {
        return vmm_fail(err, err_size, "%s image source overlaps the VMM's guest RAM mapping", what);
    }
    return true;
}

static bool outside_ram(const struct vmm_config *c, uint64_t base, uint64_t size)
{
    return !ranges_overlap(base, size, c->ram_guest_base, c->ram_size);
}

/* Name, flags, GIC version and the vCPU table. */
static bool check_identity(const struct vmm_config *c, unsigned built_gic_version, char *err, size_t err_size)
{
    if (memchr(c->vm_name, '\0', sizeof(c->vm_name)) == NULL || c->vm_name[0] == '\0') {
        return vmm_fail(err, err_size, "VM name is empty or not NUL-terminated");
    }
    if (c->flags & ~VMM_CONFIG_FLAGS_KNOWN) {
        return vmm_fail(err, err_size, "unknown flags 0x%x", c->flags);
    }
    if (c->gic_version != 2 && c->gic_version != 3) {
        return vmm_fail(err, err_size, "GIC version %u is neither 2 nor 3", c->gic_version);
    }
    if (c->gic_version != built_gic_version) {
        return vmm_fail(err, err_size, "config is for GICv%u but this runtime was built for GICv%u",
                    c->gic_version, built_gic_version);
    }
    if (c->vcpu_count == 0 || c->vcpu_count > VMM_CONFIG_MAX_VCPUS) {
        return vmm_fail(err, err_size, "vCPU count %u is outside 1..%u", c->vcpu_count,
                    VMM_CONFIG_MAX_VCPUS);
    }
    for (unsigned i = 0; i < VMM_CONFIG_MAX_VCPUS; i++) {
        if (i >= c->vcpu_count) {
            if (c->vcpu_ids[i] != 0) {
                return vmm_fail(err, err_size, "unused vCPU slot %u is not zero", i);
            }
            continue;
        }
        if (c->vcpu_ids[i] > VMM_CONFIG_MAX_CHILD) {
            return vmm_fail(err, err_size, "vCPU %u has id %u > %u", i, c->vcpu_ids[i],
                        VMM_CONFIG_MAX_CHILD);
        }
        for (unsigned j = 0; j < i; j++) {
            if (c->vcpu_ids[j] == c->vcpu_ids[i]) {
                return vmm_fail(err, err_size, "vCPUs %u and %u share id %u", j, i, c->vcpu_ids[i]);
            }
        }
    }

    return true;
}

/* Guest RAM, its VMM mapping, and the GIC frames the guest sees. */
static bool check_ram_and_gic(const struct vmm_config *c, char *err, size_t err_size)
{
    if (c->ram_size == 0 || c->ram_guest_base % PAGE_SIZE != 0 || c->ram_size % PAGE_SIZE != 0
        || !range_valid(c->ram_guest_base, c->ram_size)) {
        return vmm_fail(err, err_size, "guest RAM [0x%llx..+0x%llx) is empty, unaligned or wraps",
                    (unsigned long long)c->ram_guest_base, (unsigned long long)c->ram_size);
    }
    if (c->ram_vmm_vaddr == 0 || c->ram_vmm_vaddr % PAGE_SIZE != 0
        || !range_valid(c->ram_vmm_vaddr, c->ram_size)) {
        return vmm_fail(err, err_size, "guest RAM VMM mapping 0x%llx is zero, unaligned or wraps",
                    (unsigned long long)c->ram_vmm_vaddr);
    }

    uint64_t gicd_size = c->gic_version == 2 ? VMM_GICD_V2_SIZE : VMM_GICD_V3_SIZE;
    if (c->gicd_base == 0 || c->gicd_base % gicd_size != 0 || !range_valid(c->gicd_base, gicd_size)
        || !outside_ram(c, c->gicd_base, gicd_size)) {
        return vmm_fail(err, err_size, "GIC distributor 0x%llx is zero, unaligned or inside guest RAM",
                    (unsigned long long)c->gicd_base);
    }
    if (c->gic_version == 2) {
        if (c->gicr_base != 0) {
            return vmm_fail(err, err_size, "GICv2 config has a redistributor address");
        }
        if (c->gicc_base == 0 || c->gicc_base % PAGE_SIZE != 0
            || !range_valid(c->gicc_base, VMM_GICC_V2_SIZE)
            || !outside_ram(c, c->gicc_base, VMM_GICC_V2_SIZE)
            || ranges_overlap(c->gicc_base, VMM_GICC_V2_SIZE, c->gicd_base, gicd_size)) {
            return vmm_fail(err, err_size, "GIC CPU interface 0x%llx is zero, unaligned or overlaps",
                        (unsigned long long)c->gicc_base);
        }
    } else {
        uint64_t gicr_size = (uint64_t)c->vcpu_count * VMM_GICR_STRIDE;
        if (c->gicc_base != 0) {
            return vmm_fail(err, err_size, "GICv3 config has a GICv2 CPU interface address");
        }
        if (c->gicr_base == 0 || c->gicr_base % 0x10000u != 0
            || !range_valid(c->gicr_base, gicr_size) || !outside_ram(c, c->gicr_base, gicr_size)
            || ranges_overlap(c->gicr_base, gicr_size, c->gicd_base, gicd_size)) {
            return vmm_fail(err, err_size, "GIC redistributors 0x%llx are zero, unaligned or overlap",
                        (unsigned long long)c->gicr_base);
        }
    }

    return true;
}

/* Kernel, DTB and initrd: each inside guest RAM, apart from each other; the entry point. */
static bool check_images(const struct vmm_config *c, char *err, size_t err_size)
{
    if (!check_image(c, "kernel", &c->kernel, true, c->flags & VMM_CONFIG_FLAG_KERNEL_GZIP,
                     c->flags & VMM_CONFIG_FLAG_KERNEL_IN_PLACE, c->kernel_unpacked_size, err,
                     err_size)
        || !check_image(c, "DTB", &c->dtb, true, false, c->flags & VMM_CONFIG_FLAG_DTB_IN_PLACE, 0,
                        err, err_size)
        || !check_image(c, "initrd", &c->initrd, false, c->flags & VMM_CONFIG_FLAG_INITRD_GZIP,
                        c->flags & VMM_CONFIG_FLAG_INITRD_IN_PLACE, c->initrd_unpacked_size, err,
                        err_size)) {
        return false;
    }
    const uint32_t all_in_place = VMM_CONFIG_FLAG_KERNEL_IN_PLACE | VMM_CONFIG_FLAG_DTB_IN_PLACE
                                  | (c->initrd.size != 0 ? VMM_CONFIG_FLAG_INITRD_IN_PLACE : 0);
    if ((c->flags & VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED)
        && ((c->flags & all_in_place) != all_in_place || c->kernel.vmm_vaddr != 0
            || c->dtb.vmm_vaddr != 0 || c->initrd.vmm_vaddr != 0 || c->virtio_count != 0)) {
        return vmm_fail(err, err_size, "images not mapped into the VMM must all be in place, "
                        "without pristine copies or virtio devices");
    }
    /* Unpacked extents: what each image occupies in guest RAM. */
    uint64_t kernel_size = vmm_config_kernel_guest_size(c);
    uint64_t initrd_size = vmm_config_initrd_guest_size(c);
    if (ranges_overlap(c->kernel.guest_addr, kernel_size, c->dtb.guest_addr, c->dtb.size)
        || ranges_overlap(c->kernel.guest_addr, kernel_size, c->initrd.guest_addr, initrd_size)
        || ranges_overlap(c->dtb.guest_addr, c->dtb.size, c->initrd.guest_addr, initrd_size)) {
        return vmm_fail(err, err_size, "kernel, DTB and initrd overlap in guest RAM");
    }
    if (c->entry < c->kernel.guest_addr || c->entry - c->kernel.guest_addr >= kernel_size) {
        return vmm_fail(err, err_size, "entry point 0x%llx is outside the kernel image",
                    (unsigned long long)c->entry);
    }

    return true;
}

/* Passthrough interrupts. */
static bool check_irqs(const struct vmm_config *c, char *err, size_t err_size)
{
    if (c->irq_count > VMM_CONFIG_MAX_IRQS) {
        return vmm_fail(err, err_size, "%u passthrough IRQs, at most %u", c->irq_count,
                    VMM_CONFIG_MAX_IRQS);
    }
    for (unsigned i = 0; i < c->irq_count; i++) {
        const struct vmm_config_irq *irq = &c->irqs[i];
        if (irq->channel > VMM_CONFIG_MAX_CHANNEL) {
            return vmm_fail(err, err_size, "IRQ %u: channel %u > %u", i, irq->channel,
                        VMM_CONFIG_MAX_CHANNEL);
        }
        if (!is_spi(irq->intid)) {
            return vmm_fail(err, err_size, "IRQ %u: INTID %u is not an SPI the vGIC implements (32..%u)", i,
                            irq->intid, VMM_CONFIG_MAX_INTID);
        }
        if (irq->trigger != VMM_CONFIG_TRIGGER_LEVEL && irq->trigger != VMM_CONFIG_TRIGGER_EDGE) {
            return vmm_fail(err, err_size, "IRQ %u: trigger %u is neither level nor edge", i,
                        irq->trigger);
        }
        if (irq->reserved != 0) {
            return vmm_fail(err, err_size, "IRQ %u: reserved field is not zero", i);
        }
        for (unsigned j = 0; j < i; j++) {
            if (c->irqs[j].channel == irq->channel || c->irqs[j].intid == irq->intid) {
                return vmm_fail(err, err_size, "IRQs %u and %u share a channel or an INTID", j, i);
            }
        }
    }
    return true;
}

/* Emulated devices: windows outside RAM and the GIC. */
static bool check_devices(const struct vmm_config *c, char *err, size_t err_size)
{
    if (c->device_count > VMM_CONFIG_MAX_DEVICES) {
        return vmm_fail(err, err_size, "%u emulated devices, at most %u", c->device_count,
                    VMM_CONFIG_MAX_DEVICES);
    }
    for (unsigned i = 0; i < c->device_count; i++) {
        const struct vmm_config_device *d = &c->devices[i];
        if (d->kind != VMM_CONFIG_DEVICE_PL011 && d->kind != VMM_CONFIG_DEVICE_PL061) {
            return vmm_fail(err, err_size, "device %u: unknown kind %u", i, d->kind);
        }
        for (unsigned j = 0; j < i; j++) {
            if (d->kind == VMM_CONFIG_DEVICE_PL061 && c->devices[j].kind == VMM_CONFIG_DEVICE_PL061) {
                return vmm_fail(err, err_size, "devices %u and %u are both PL061s; a VM has one", j, i);
            }
        }
        uint64_t gicd_size = c->gic_version == 2 ? VMM_GICD_V2_SIZE : VMM_GICD_V3_SIZE;
    uint64_t gic_other = c->gic_version == 2 ? c->gicc_base : c->gicr_base;
        uint64_t gic_other_size = c->gic_version == 2 ? VMM_GICC_V2_SIZE
                                  : (uint64_t)c->vcpu_count * VMM_GICR_STRIDE;
        if (d->size == 0 || d->guest_base % PAGE_SIZE != 0 || !range_valid(d->guest_base, d->size)
            || !outside_ram(c, d->guest_base, d->size)
            || ranges_overlap(d->guest_base, d->size, c->gicd_base, gicd_size)
            || ranges_overlap(d->guest_base, d->size, gic_other, gic_other_size)) {
            return vmm_fail(err, err_size, "device %u: window 0x%llx+0x%llx is empty, unaligned or "
                        "overlaps RAM or the GIC", i, (unsigned long long)d->guest_base,
                        (unsigned long long)d->size);
        }
        if (d->intid != 0 && !is_spi(d->intid)) {
            return vmm_fail(err, err_size, "device %u: INTID %u is not an SPI", i, d->intid);
        }
        if (d->reserved != 0) {
            return vmm_fail(err, err_size, "device %u: reserved field is not zero", i);
        }
    }
    return true;
}

/* Version 3: the wake-up route to the timer PD, present exactly when idle vCPUs block. */
static bool check_wake(const struct vmm_config *c, char *err, size_t err_size)
{
    for (unsigned i = 0; i < sizeof(c->reserved3); i++) {
        if (c->reserved3[i] != 0) {
            return vmm_fail(err, err_size, "reserved bytes after the timer channel are not zero");
        }
    }
    if (!(c->flags & VMM_CONFIG_FLAG_IDLE_BLOCK)) {
        if (c->wake_slot_vaddr != 0 || c->timer_channel != VMM_CONFIG_NO_CHANNEL) {
            return vmm_fail(err, err_size, "idle vCPUs spin, but a wake slot or timer channel is "
                            "given");
        }
        return true;
    }
    if (c->wake_slot_vaddr == 0 || c->wake_slot_vaddr % WAKE_SLOT_REGION_SIZE != 0
        || !range_valid(c->wake_slot_vaddr, WAKE_SLOT_REGION_SIZE)
        || ranges_overlap(c->wake_slot_vaddr, WAKE_SLOT_REGION_SIZE, c->ram_vmm_vaddr, c->ram_size)) {
        return vmm_fail(err, err_size, "wake slot 0x%llx is zero, unaligned or inside the guest "
                        "RAM mapping", (unsigned long long)c->wake_slot_vaddr);
    }
    if (c->timer_channel > VMM_CONFIG_MAX_CHANNEL) {
        return vmm_fail(err, err_size, "timer channel %u > %u", c->timer_channel,
                        VMM_CONFIG_MAX_CHANNEL);
    }
    for (unsigned i = 0; i < c->irq_count; i++) {
        if (c->irqs[i].channel == c->timer_channel) {
            return vmm_fail(err, err_size, "timer channel %u is also IRQ %u's", c->timer_channel, i);
        }
    }
    return true;
}

static bool zero_bytes(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) {
            return false;
        }
    }
    return true;
}

/* One virtio device's memory windows, per kind (see struct vmm_config_virtio). */
static bool check_virtio_windows(const struct vmm_config *c, unsigned i, char *err, size_t err_size)
{
    const struct vmm_config_virtio *v = &c->virtio[i];
    bool needs_a = v->kind != VMM_CONFIG_VIRTIO_CONSOLE || v->a_vaddr != 0;
    /* A block device's image window is absent when its disk region was prefilled. */
    bool needs_b = v->kind == VMM_CONFIG_VIRTIO_NET
                   || (v->kind == VMM_CONFIG_VIRTIO_BLOCK && (v->b_vaddr != 0 || v->b_size != 0));
    if ((needs_a && (v->a_vaddr == 0 || v->a_size == 0 || !range_valid(v->a_vaddr, v->a_size)))
        || (needs_b && (v->b_vaddr == 0 || v->b_size == 0 || !range_valid(v->b_vaddr, v->b_size)))
        || (!needs_b && (v->b_vaddr != 0 || v->b_size != 0))) {
        return vmm_fail(err, err_size, "virtio device %u: a memory window is missing, empty or wraps", i);
    }
    if ((needs_a && ranges_overlap(v->a_vaddr, v->a_size, c->ram_vmm_vaddr, c->ram_size))
        || (needs_b && ranges_overlap(v->b_vaddr, v->b_size, c->ram_vmm_vaddr, c->ram_size))) {
        return vmm_fail(err, err_size, "virtio device %u: a memory window overlaps the guest RAM mapping", i);
    }
    if (v->kind == VMM_CONFIG_VIRTIO_BLOCK && (v->b_size > v->a_size || v->a_size % VIRTIO_BLK_SECTOR_SIZE != 0)) {
        return vmm_fail(err, err_size, "virtio device %u: disk image of 0x%llx bytes does not fit its "
                        "region of 0x%llx, or the region is not whole sectors", i,
                        (unsigned long long)v->b_size, (unsigned long long)v->a_size);
    }
    if (v->kind == VMM_CONFIG_VIRTIO_NET && (v->capacity == 0 || (v->capacity & (v->capacity - 1)) != 0)) {
        return vmm_fail(err, err_size, "virtio device %u: ring capacity %u is not a power of two", i,
                        v->capacity);
    }
    return true;
}

/* Version 4: virtio devices, each a page of guest-physical space outside RAM and the GIC. */
static bool check_virtio(const struct vmm_config *c, char *err, size_t err_size)
{
    if (!zero_bytes(c->reserved4, sizeof(c->reserved4)) || c->virtio_count > VMM_CONFIG_MAX_VIRTIO) {
        return vmm_fail(err, err_size, "%u virtio devices (at most %u), or reserved bytes set",
                        c->virtio_count, VMM_CONFIG_MAX_VIRTIO);
    }
    for (unsigned i = 0; i < c->virtio_count; i++) {
        const struct vmm_config_virtio *v = &c->virtio[i];
        if (v->kind < VMM_CONFIG_VIRTIO_NET || v->kind > VMM_CONFIG_VIRTIO_CONSOLE
            || (v->flags & ~VMM_CONFIG_VIRTIO_READ_ONLY) != 0
            || !zero_bytes(v->reserved0, sizeof(v->reserved0)) || v->reserved1 != 0 || v->reserved2 != 0) {
            return vmm_fail(err, err_size, "virtio device %u: kind %u, flags 0x%x or reserved fields", i,
                            v->kind, v->flags);
        }
        if (v->guest_base % PAGE_SIZE != 0 || !range_valid(v->guest_base, VMM_CONFIG_VIRTIO_WINDOW)
            || !outside_ram(c, v->guest_base, VMM_CONFIG_VIRTIO_WINDOW)) {
            return vmm_fail(err, err_size, "virtio device %u: window 0x%llx is unaligned or in RAM", i,
                            (unsigned long long)v->guest_base);
        }
        if (!is_spi(v->intid)) {
            return vmm_fail(err, err_size, "virtio device %u: INTID %u is not an SPI", i, v->intid);
        }
        if (v->channel != VMM_CONFIG_NO_CHANNEL && v->channel > VMM_CONFIG_MAX_CHANNEL) {
            return vmm_fail(err, err_size, "virtio device %u: channel %u > %u", i, v->channel,
                            VMM_CONFIG_MAX_CHANNEL);
        }
        for (unsigned j = 0; j < i; j++) {
            if (c->virtio[j].guest_base == v->guest_base || c->virtio[j].intid == v->intid) {
                return vmm_fail(err, err_size, "virtio devices %u and %u share a window or an INTID", j, i);
            }
        }
        if (!check_virtio_windows(c, i, err, err_size)) {
            return false;
        }
    }
    return true;
}

/* Whether `ch` already serves a passthrough IRQ, the timer PD or a virtio device. */
static bool channel_taken(const struct vmm_config *c, unsigned ch)
{
    for (unsigned i = 0; i < c->irq_count; i++) {
        if (c->irqs[i].channel == ch) {
            return true;
        }
    }
    for (unsigned i = 0; i < c->virtio_count; i++) {
        if (c->virtio[i].channel == ch) {
            return true;
        }
    }
    return c->timer_channel == ch;
}

/* Version 5: doorbells on the VM's PL061, each on a channel of its own and lines of its own. */
static bool check_doorbells(const struct vmm_config *c, char *err, size_t err_size)
{
    if (!zero_bytes(c->reserved5, sizeof(c->reserved5)) || c->doorbell_count > VMM_CONFIG_MAX_DOORBELLS) {
        return vmm_fail(err, err_size, "%u doorbells (at most %u), or reserved bytes set",
                        c->doorbell_count, VMM_CONFIG_MAX_DOORBELLS);
    }
    unsigned lines = 0;
    for (unsigned i = 0; i < c->doorbell_count; i++) {
        const struct vmm_config_doorbell *d = &c->doorbells[i];
        bool rings = (d->flags & VMM_CONFIG_DOORBELL_CAN_RING) != 0;
        if ((d->flags & ~VMM_CONFIG_DOORBELL_CAN_RING) != 0 || !zero_bytes(d->reserved, sizeof(d->reserved))
            || d->device >= c->device_count || c->devices[d->device].kind != VMM_CONFIG_DEVICE_PL061
            || c->devices[d->device].intid == 0) {
            return vmm_fail(err, err_size, "doorbell %u: flags 0x%x, device %u (no PL061 with an "
                            "interrupt) or reserved bytes", i, d->flags, d->device);
        }
        if (d->channel > VMM_CONFIG_MAX_CHANNEL || channel_taken(c, d->channel)) {
            return vmm_fail(err, err_size, "doorbell %u: channel %u is out of range or taken", i,
                            d->channel);
        }
        if (d->notify_line >= VMM_CONFIG_DOORBELL_LINES || (rings && d->ring_line >= VMM_CONFIG_DOORBELL_LINES)) {
            return vmm_fail(err, err_size, "doorbell %u: line %u/%u out of range", i, d->ring_line,
                            d->notify_line);
        }
        unsigned mine = (1u << d->notify_line) | (rings ? 1u << d->ring_line : 0u);
        if ((rings && d->ring_line == d->notify_line) || (lines & mine) != 0) {
            return vmm_fail(err, err_size, "doorbell %u: lines %u/%u shared", i, d->ring_line,
                            d->notify_line);
        }
        lines |= mine;
        for (unsigned j = 0; j < i; j++) {
            if (c->doorbells[j].channel == d->channel) {
                return vmm_fail(err, err_size, "doorbells %u and %u share channel %u", j, i, d->channel);
            }
        }
    }
    return true;
}

/* Whether `ch` is a doorbell's. */
static bool doorbell_channel(const struct vmm_config *c, unsigned ch)
{
    for (unsigned i = 0; i < c->doorbell_count && i < VMM_CONFIG_MAX_DOORBELLS; i++) {
        if (c->doorbells[i].channel == ch) {
            return true;
        }
    }
    return false;
}

/* Version 7: the restart policy, and the control page and channel (both or neither). */
static bool check_lifecycle(const struct vmm_config *c, char *err, size_t err_size)
{
    if (c->restart_policy > VMM_CONFIG_RESTART_ALWAYS || c->reserved6 != 0 || c->reserved7 != 0) {
        return vmm_fail(err, err_size, "restart policy %u is unknown, or reserved fields are set",
                        c->restart_policy);
    }
    if (c->backoff_ms > VMM_CONFIG_MAX_BACKOFF_MS
        || (c->backoff_ms != 0 && !(c->flags & VMM_CONFIG_FLAG_IDLE_BLOCK))) {
        return vmm_fail(err, err_size, "restart backoff of %u ms is above %u ms or has no timer PD "
                        "to wait on", c->backoff_ms, VMM_CONFIG_MAX_BACKOFF_MS);
    }
    if (c->control_channel == VMM_CONFIG_NO_CHANNEL) {
        if (c->control_vaddr != 0) {
            return vmm_fail(err, err_size, "a control page without a control channel");
        }
        return true;
    }
    if (c->control_channel > VMM_CONFIG_MAX_CHANNEL || channel_taken(c, c->control_channel)
        || doorbell_channel(c, c->control_channel)) {
        return vmm_fail(err, err_size, "control channel %u is above %u or already in use",
                        c->control_channel, VMM_CONFIG_MAX_CHANNEL);
    }
    if (c->control_vaddr == 0 || c->control_vaddr % PAGE_SIZE != 0
        || !range_valid(c->control_vaddr, PAGE_SIZE)
        || ranges_overlap(c->control_vaddr, PAGE_SIZE, c->ram_vmm_vaddr, c->ram_size)) {
        return vmm_fail(err, err_size, "control page 0x%llx is zero, unaligned or inside the guest "
                        "RAM mapping", (unsigned long long)c->control_vaddr);
    }
    return true;
}

bool vmm_config_check(const uint8_t *blob, size_t len, unsigned built_gic_version,
                      char *err, size_t err_size)
{
    static const struct blob_kind kind = {
        VMM_CONFIG_MAGIC, "S4VM", VMM_CONFIG_VERSION, sizeof(struct vmm_config),
        VMM_CONFIG_RESERVED_SIZE,
    };
    if (!blob_check_preamble(blob, len, &kind, err, err_size)) {
        return false;
    }
    /* From here on the blob is what the tool wrote; the field checks catch our own bugs and
     * hand-edited ELFs. The section is 8-byte aligned (see vmm.c), so the struct view is safe. */
    const struct vmm_config *c = (const struct vmm_config *)(const void *)blob;
    return check_identity(c, built_gic_version, err, err_size)
           && check_ram_and_gic(c, err, err_size)
           && check_images(c, err, err_size)
           && check_irqs(c, err, err_size)
           && check_devices(c, err, err_size)
           && check_wake(c, err, err_size)
           && check_virtio(c, err, err_size)
           && check_doorbells(c, err, err_size)
           && check_lifecycle(c, err, err_size);
}
