/* The MMIO bus (include/mmio_bus.h): one table of emulated frames, sorted by base. */
#include "mmio_bus.h"

#include <stdarg.h>

#include "vmm_fmt.h"

void mmio_bus_init(struct mmio_bus *bus)
{
    bus->count = 0;
}

/* The last byte of a region (its size is not zero and it does not wrap). */
static uint64_t last_byte(const struct mmio_region *r)
{
    return r->base + (r->size - 1u);
}

bool mmio_bus_register(struct mmio_bus *bus, const struct mmio_region *r, char *err,
                       size_t err_size)
{
    if (r->size == 0 || r->base > UINT64_MAX - (r->size - 1u)) {
        return vmm_fail(err, err_size, "%s window 0x%llx+0x%llx is empty or wraps", r->name,
                        (unsigned long long)r->base, (unsigned long long)r->size);
    }
    unsigned at = 0;
    while (at < bus->count && bus->regions[at].base < r->base) {
        at++;
    }
    /* Sorted and disjoint: only the neighbours on either side can overlap. */
    const struct mmio_region *below = at > 0 ? &bus->regions[at - 1] : NULL;
    const struct mmio_region *above = at < bus->count ? &bus->regions[at] : NULL;
    const struct mmio_region *clash = below != NULL && last_byte(below) >= r->base ? below
                                      : above != NULL && above->base <= last_byte(r) ? above
                                      : NULL;
    if (clash != NULL) {
        return vmm_fail(err, err_size, "%s window 0x%llx+0x%llx overlaps %s window 0x%llx+0x%llx",
                        r->name, (unsigned long long)r->base, (unsigned long long)r->size,
                        clash->name, (unsigned long long)clash->base,
                        (unsigned long long)clash->size);
    }
    if (bus->count == MMIO_BUS_MAX_REGIONS) {
        return vmm_fail(err, err_size, "%s window 0x%llx: the MMIO bus is full (%u regions)",
                        r->name, (unsigned long long)r->base, MMIO_BUS_MAX_REGIONS);
    }
    for (unsigned i = bus->count; i > at; i--) {
        bus->regions[i] = bus->regions[i - 1];
    }
    bus->regions[at] = *r;
    bus->count++;
    return true;
}

const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus, uint64_t addr)
{
    /* The last region whose base is at or below addr, if addr is inside it. */
    unsigned lo = 0;
    unsigned hi = bus->count;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (bus->regions[mid].base <= addr) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == 0) {
        return NULL;
    }
    const struct mmio_region *r = &bus->regions[lo - 1];
    return addr - r->base < r->size ? r : NULL;
}

enum mmio_status mmio_bus_access(const struct mmio_region *r, uint64_t addr,
                                 struct mmio_access *a)
{
    a->offset = addr - r->base;
    a->why = NULL;
    return r->access(r->opaque, a);
}

enum mmio_status mmio_bus_why(struct mmio_access *a, enum mmio_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmm_vsnprintf(a->text, sizeof(a->text), fmt, ap);
    va_end(ap);
    a->why = a->text;
    return status;
}
