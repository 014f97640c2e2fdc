/*
 * The VMM's MMIO bus (like Linux KVM's kvm_io_bus): every emulated frame of guest-physical
 * space (the GIC distributor and redistributors, each emulated PL011, each virtio-mmio
 * window) registers {base, size, access handler, opaque} once at start-up into one table kept
 * sorted by base. A stage-2 data abort then is a lookup (binary search) and a call. A
 * registration that is empty, wraps around 2^64 or overlaps one already there is refused with
 * a line saying which, so no address ever has two handlers. Pure: the host tests drive it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_config.h"

/* The GIC distributor, the redistributors (GICv3), an emulated PL011 each, a virtio window each. */
#define MMIO_BUS_MAX_REGIONS (2u + VMM_CONFIG_MAX_DEVICES + VMM_CONFIG_MAX_VIRTIO)

/* What a handler found; for anything but MMIO_OK it says what in `why`. */
enum mmio_status {
    MMIO_OK,            /* done; a read's result is in `value` */
    MMIO_IGNORED,       /* done as read-as-zero / write-ignored, worth a log line */
    MMIO_BAD_ACCESS,    /* the access itself is invalid (width, alignment, offset): stop the VM
                         * with a decoded line */
    MMIO_DEVICE_FAILED, /* the device found a guest error and is broken: stop the VM */
};

/* One trapped access, as the handler sees it. */
struct mmio_access {
    unsigned vcpu;      /* the vCPU that made it */
    uint64_t offset;    /* from the region's base (set by mmio_bus_access) */
    unsigned width;     /* bytes: 1, 2, 4 or 8 (checked by the handler) */
    bool write;
    uint64_t value;     /* written, or read into (low `width` bytes) */
    const char *why;    /* set by the handler unless MMIO_OK: one line, often in `text` */
    char text[128];
};

typedef enum mmio_status (*mmio_handler)(void *opaque, struct mmio_access *a);

struct mmio_region {
    uint64_t base;
    uint64_t size;
    const char *name;   /* "GICD", "PL011", ...: for log lines */
    mmio_handler access;
    void *opaque;       /* the device's state, passed to `access` */
};

struct mmio_bus {
    unsigned count;
    struct mmio_region regions[MMIO_BUS_MAX_REGIONS];   /* sorted by base, disjoint */
};

void mmio_bus_init(struct mmio_bus *bus);

/* Adds a region in its place by base. False, with one line in err, when it is empty, wraps,
 * overlaps a region already registered, or the table is full. */
bool mmio_bus_register(struct mmio_bus *bus, const struct mmio_region *r, char *err,
                       size_t err_size);

/* The region holding guest-physical `addr`, or NULL. */
const struct mmio_region *mmio_bus_find(const struct mmio_bus *bus, uint64_t addr);

/* Calls region r's handler for an access at guest-physical `addr` inside it (sets a->offset
 * and clears a->why first). */
enum mmio_status mmio_bus_access(const struct mmio_region *r, uint64_t addr,
                                 struct mmio_access *a);

/* Fills a->text like vmm_snprintf, points a->why at it and returns `status`: a handler's
 * "this is what happened". */
enum mmio_status mmio_bus_why(struct mmio_access *a, enum mmio_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
