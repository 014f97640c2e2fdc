/*
 * Loading an arm64 Linux kernel Image, its device tree and initrd into guest RAM
 * (Linux Documentation/arch/arm64/booting.rst).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm_config.h"

/* booting.rst "Call the kernel image": the 64-byte header at the start of the Image. */
struct linux_image_header {
    uint32_t code0;
    uint32_t code1;
    uint64_t text_offset;   /* little-endian */
    uint64_t image_size;    /* effective size incl. BSS; 0 before Linux 3.17 */
    uint64_t flags;
    uint64_t res2;
    uint64_t res3;
    uint64_t res4;
    uint32_t magic;         /* LINUX_IMAGE_MAGIC */
    uint32_t res5;
};
_Static_assert(offsetof(struct linux_image_header, text_offset) == 0x08, "Image header");
_Static_assert(offsetof(struct linux_image_header, image_size) == 0x10, "Image header");
_Static_assert(offsetof(struct linux_image_header, flags) == 0x18, "Image header");
_Static_assert(offsetof(struct linux_image_header, magic) == 0x38, "Image header");
_Static_assert(sizeof(struct linux_image_header) == 0x40, "Image header");

/* "ARM\x64" read little-endian. */
#define LINUX_IMAGE_MAGIC 0x644d5241u
/* booting.rst: the Image goes text_offset bytes above a 2 MiB-aligned base; the DTB must be
 * 8-byte aligned and at most 2 MiB. */
#define LINUX_IMAGE_ALIGN 0x200000u
#define LINUX_DTB_ALIGN   8u
#define LINUX_DTB_MAX     0x200000u
/* Flattened device tree magic (devicetree specification 5.2), big-endian in the blob. */
#define FDT_MAGIC         0xd00dfeedu

/* What the boot code needs to know about the guest RAM window. */
struct guest_ram {
    uint64_t guest_base;
    uint64_t size;
    uint8_t *vmm;           /* the VMM's mapping of guest_base */
};

struct linux_image_info {
    uint64_t text_offset;
    uint64_t image_size;
    bool little_endian;
};

/* Checks the header of an Image of `size` bytes. */
bool guest_check_linux_header(const uint8_t *image, uint64_t size, struct linux_image_info *out,
                              char *err, size_t err_size);

/* Checks placement (alignment, kernel footprint incl. BSS inside RAM, no overlap with the
 * DTB or initrd), then copies the three images from the VMM's address space into guest RAM
 * (unpacking a compressed kernel or initrd in place; a corrupt stream or one that unpacks to
 * another size than the config says is an error) and makes them visible to a guest running
 * with its MMU and caches off. */
bool guest_load_linux(const struct vmm_config *cfg, const struct guest_ram *ram,
                      char *err, size_t err_size);

/* The same, first boot or again (`restart`: guest RAM holds a previous run). An image the config
 * marks in place (*_IN_PLACE, prefilled on Microkit 2.3.0) is checked where it is and not copied
 * on the first boot; on a restart it is copied from its pristine copy, and without one this
 * fails. *copied: the bytes written into guest RAM from elsewhere (copied or unpacked). */
bool guest_place_linux(const struct vmm_config *cfg, const struct guest_ram *ram, bool restart,
                       uint64_t *copied, char *err, size_t err_size);

/* Returns a host pointer to guest-physical [addr, addr + size), or NULL if that range is not
 * entirely inside the RAM window (overflow-safe). */
uint8_t *guest_ram_ptr(const struct guest_ram *ram, uint64_t addr, uint64_t size);

/* Cleans [p, p + size) to the point of coherency and invalidates the instruction cache for it.
 * The target implementation is in arch/aarch64/cache.c; host tests provide a recording stub. */
void guest_cache_clean(const void *p, uint64_t size);

/* Zeroes [p, p + size) (DC ZVA where allowed, else memset) and cleans it to the point of
 * coherency, so that a guest starting with its MMU and caches off reads zeros, never what the
 * memory held before (a restart: nothing of the last guest may be read by the next). Target
 * only (arch/aarch64/cache.c). */
void guest_ram_zero(void *p, uint64_t size);
