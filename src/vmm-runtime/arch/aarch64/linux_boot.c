/* Linux arm64 boot-image loading (Documentation/arch/arm64/booting.rst). */
#include "linux_boot.h"
#include "inflate.h"
#include "vmm_fmt.h"

#include "vmm_string.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint8_t *guest_ram_ptr(const struct guest_ram *ram, uint64_t addr, uint64_t size)
{
    if (addr < ram->guest_base) {
        return NULL;
    }
    uint64_t off = addr - ram->guest_base;
    if (off > ram->size || size > ram->size - off) {
        return NULL;
    }
    return ram->vmm + off;
}

bool guest_check_linux_header(const uint8_t *image, uint64_t size, struct linux_image_info *out,
                              char *err, size_t err_size)
{
    if (size < sizeof(struct linux_image_header)) {
        return vmm_fail(err, err_size, "kernel image of %llu bytes is smaller than its header",
                    (unsigned long long)size);
    }
    uint32_t magic = le32(image + offsetof(struct linux_image_header, magic));
    if (magic != LINUX_IMAGE_MAGIC) {
        return vmm_fail(err, err_size, "kernel image has magic 0x%08x, not an arm64 Linux Image "
                    "(expected 0x%08x 'ARM\\x64')", magic, LINUX_IMAGE_MAGIC);
    }
    out->text_offset = le64(image + offsetof(struct linux_image_header, text_offset));
    out->image_size = le64(image + offsetof(struct linux_image_header, image_size));
    uint64_t flags = le64(image + offsetof(struct linux_image_header, flags));
    out->little_endian = (flags & 1u) == 0;
    if (out->image_size == 0) {
        return vmm_fail(err, err_size, "kernel Image has image_size 0 (Linux before 3.17), "
                    "which this VMM does not load");
    }
    if (!out->little_endian) {
        return vmm_fail(err, err_size, "kernel Image is big-endian (flags bit 0)");
    }
    if (out->image_size < size) {
        /* The footprint must at least hold the file. */
        out->image_size = size;
    }
    return true;
}

/* Unpacks a gzip image into guest RAM at dst, which has room for exactly `unpacked` bytes. */
static bool unpack_image(const char *what, const uint8_t *src, uint64_t size, uint8_t *dst,
                         uint64_t unpacked, char *err, size_t err_size)
{
    size_t produced = 0;
    enum inflate_status st = inflate_gzip(src, (size_t)size, dst, (size_t)unpacked, &produced);
    if (st == INFLATE_OUTPUT_FULL) {
        return vmm_fail(err, err_size, "compressed %s image unpacks to more than the 0x%llx bytes "
                    "the config gives", what, (unsigned long long)unpacked);
    }
    if (st != INFLATE_OK) {
        return vmm_fail(err, err_size, "compressed %s image is corrupt: %s (after 0x%llx bytes "
                    "unpacked)", what, inflate_strerror(st), (unsigned long long)produced);
    }
    if (produced != unpacked) {
        return vmm_fail(err, err_size, "compressed %s image unpacks to 0x%llx bytes, the config "
                    "says 0x%llx", what, (unsigned long long)produced,
                    (unsigned long long)unpacked);
    }
    return true;
}

/* Where each image goes in guest RAM, checked: the phases of guest_place_linux share this. */
struct linux_load {
    bool restart;               /* guest RAM holds a previous run: in-place images come again */
    uint64_t copied;            /* bytes written into guest RAM from a copy elsewhere */
    const uint8_t *kernel;      /* the Image to copy (already in place when it was unpacked) */
    uint8_t *kernel_dst;
    uint64_t kernel_size;       /* bytes in guest RAM (the unpacked size for a compressed one) */
    uint64_t k_lo, k_hi;        /* the kernel's footprint, BSS included */
    struct linux_image_info info;
    const uint8_t *dtb;         /* where each comes from (its destination when in place) */
    const uint8_t *initrd;
    uint8_t *dtb_dst;
    uint8_t *initrd_dst;        /* NULL: no initrd */
    uint64_t initrd_size;
};

static bool overlaps_kernel(const struct linux_load *l, uint64_t base, uint64_t size)
{
    return base < l->k_hi && l->k_lo < base + size;
}

/* Where an image's bytes come from: the VMM's copy; for one in place (prefilled), guest RAM
 * itself on the first boot and its pristine copy on a restart (NULL: it has none). */
static const uint8_t *image_source(const struct vmm_config *cfg, const struct guest_ram *ram,
                                   const struct vmm_config_image *img, uint32_t in_place_flag,
                                   bool restart)
{
    if (!(cfg->flags & in_place_flag) || restart) {
        return (const uint8_t *)(uintptr_t)img->vmm_vaddr;
    }
    return guest_ram_ptr(ram, img->guest_addr, img->size);
}

/* Copies an image unless it is in place; counts what was copied. */
static void copy_image(struct linux_load *l, uint8_t *dst, const uint8_t *src, uint64_t size)
{
    if (dst != src) {
        memcpy(dst, src, size);
        l->copied += size;
    }
}

/* The kernel: unpacked in place if compressed (its header is readable only then; nothing else
 * is written yet, and its source is in the VMM's image segment, not guest RAM), its header
 * checked, its footprint inside guest RAM at text_offset above a 2 MiB boundary. */
static bool place_kernel(const struct vmm_config *cfg, const struct guest_ram *ram,
                         struct linux_load *l, char *err, size_t err_size)
{
    l->kernel = image_source(cfg, ram, &cfg->kernel, VMM_CONFIG_FLAG_KERNEL_IN_PLACE, l->restart);
    l->kernel_size = vmm_config_kernel_guest_size(cfg);
    if (l->kernel == NULL) {
        return vmm_fail(err, err_size, "the kernel was prefilled and has no pristine copy to place "
                    "it again from");
    }
    if (cfg->flags & VMM_CONFIG_FLAG_KERNEL_GZIP) {
        uint8_t *dst = guest_ram_ptr(ram, cfg->kernel.guest_addr, l->kernel_size);
        if (dst == NULL) {
            return vmm_fail(err, err_size, "kernel [0x%llx..+0x%llx) is outside guest RAM",
                        (unsigned long long)cfg->kernel.guest_addr,
                        (unsigned long long)l->kernel_size);
        }
        if (!unpack_image("kernel", l->kernel, cfg->kernel.size, dst, l->kernel_size, err,
                          err_size)) {
            return false;
        }
        l->kernel = dst;
        l->copied += l->kernel_size;
    }
    if (!guest_check_linux_header(l->kernel, l->kernel_size, &l->info, err, err_size)) {
        return false;
    }
    if (cfg->kernel.guest_addr < l->info.text_offset
        || (cfg->kernel.guest_addr - l->info.text_offset) % LINUX_IMAGE_ALIGN != 0) {
        return vmm_fail(err, err_size, "kernel at 0x%llx is not text_offset 0x%llx above a 2 MiB "
                    "boundary", (unsigned long long)cfg->kernel.guest_addr,
                    (unsigned long long)l->info.text_offset);
    }
    l->kernel_dst = guest_ram_ptr(ram, cfg->kernel.guest_addr, l->info.image_size);
    if (l->kernel_dst == NULL) {
        return vmm_fail(err, err_size, "kernel footprint [0x%llx..+0x%llx) (image_size, incl. BSS) "
                    "is outside guest RAM", (unsigned long long)cfg->kernel.guest_addr,
                    (unsigned long long)l->info.image_size);
    }
    l->k_lo = cfg->kernel.guest_addr;
    l->k_hi = l->k_lo + l->info.image_size;
    return true;
}

/* The DTB (an FDT no larger than stored, 8-byte aligned, at most 2 MiB) and the initrd: inside
 * guest RAM and clear of the kernel's footprint. */
static bool place_dtb_and_initrd(const struct vmm_config *cfg, const struct guest_ram *ram,
                                 struct linux_load *l, char *err, size_t err_size)
{
    const uint8_t *dtb = image_source(cfg, ram, &cfg->dtb, VMM_CONFIG_FLAG_DTB_IN_PLACE, l->restart);
    if (dtb == NULL) {
        return vmm_fail(err, err_size, "the DTB was prefilled and has no pristine copy to place it "
                    "again from");
    }
    if (cfg->dtb.size < 8 || be32(dtb) != FDT_MAGIC) {
        return vmm_fail(err, err_size, "DTB does not start with the FDT magic 0x%08x", FDT_MAGIC);
    }
    if (be32(dtb + 4) > cfg->dtb.size) {
        return vmm_fail(err, err_size, "DTB header says %u bytes but only %llu are stored",
                    be32(dtb + 4), (unsigned long long)cfg->dtb.size);
    }
    if (cfg->dtb.guest_addr % LINUX_DTB_ALIGN != 0 || cfg->dtb.size > LINUX_DTB_MAX) {
        return vmm_fail(err, err_size, "DTB at 0x%llx must be 8-byte aligned and at most 2 MiB",
                    (unsigned long long)cfg->dtb.guest_addr);
    }
    l->dtb = dtb;
    l->dtb_dst = guest_ram_ptr(ram, cfg->dtb.guest_addr, cfg->dtb.size);
    if (l->dtb_dst == NULL) {
        return vmm_fail(err, err_size, "DTB is outside guest RAM");
    }
    if (overlaps_kernel(l, cfg->dtb.guest_addr, cfg->dtb.size)) {
        return vmm_fail(err, err_size, "DTB at 0x%llx overlaps the kernel footprint [0x%llx..0x%llx)",
                    (unsigned long long)cfg->dtb.guest_addr, (unsigned long long)l->k_lo,
                    (unsigned long long)l->k_hi);
    }
    l->initrd_dst = NULL;
    l->initrd_size = vmm_config_initrd_guest_size(cfg);
    if (cfg->initrd.size == 0) {
        return true;
    }
    l->initrd_dst = guest_ram_ptr(ram, cfg->initrd.guest_addr, l->initrd_size);
    if (l->initrd_dst == NULL) {
        return vmm_fail(err, err_size, "initrd is outside guest RAM");
    }
    l->initrd = image_source(cfg, ram, &cfg->initrd, VMM_CONFIG_FLAG_INITRD_IN_PLACE, l->restart);
    if (l->initrd == NULL) {
        return vmm_fail(err, err_size, "the initrd was prefilled and has no pristine copy to place "
                    "it again from");
    }
    if (overlaps_kernel(l, cfg->initrd.guest_addr, l->initrd_size)) {
        return vmm_fail(err, err_size, "initrd at 0x%llx overlaps the kernel footprint "
                    "[0x%llx..0x%llx)", (unsigned long long)cfg->initrd.guest_addr,
                    (unsigned long long)l->k_lo, (unsigned long long)l->k_hi);
    }
    return true;
}

/* Everything checked: copy (or unpack) the images into guest RAM and make them visible to a
 * kernel that starts with the MMU and D-cache off. Images in place on the first boot are left
 * alone: the Microkit loader wrote them before seL4 started and cleaned its caches to the point
 * of coherency before entering the kernel (loader.c), and nothing has written them since. */
static bool write_images(const struct vmm_config *cfg, struct linux_load *l, char *err,
                         size_t err_size)
{
    if (!(cfg->flags & VMM_CONFIG_FLAG_KERNEL_GZIP)) {
        copy_image(l, l->kernel_dst, l->kernel, l->kernel_size);
    }
    bool untouched = l->copied == 0;
    /* The BSS beyond the file is the kernel's to clear, but a clean slate makes reloads
     * (SYSTEM_RESET) deterministic; a fresh prefilled guest RAM is that slate already. */
    if (!untouched) {
        memset(l->kernel_dst + l->kernel_size, 0, l->info.image_size - l->kernel_size);
        guest_cache_clean(l->kernel_dst, l->info.image_size);
    }
    uint64_t before = l->copied;
    copy_image(l, l->dtb_dst, l->dtb, cfg->dtb.size);
    if (l->copied != before) {
        guest_cache_clean(l->dtb_dst, cfg->dtb.size);
    }
    if (l->initrd_dst == NULL) {
        return true;
    }
    before = l->copied;
    if (cfg->flags & VMM_CONFIG_FLAG_INITRD_GZIP) {
        if (!unpack_image("initrd", l->initrd, cfg->initrd.size, l->initrd_dst, l->initrd_size,
                          err, err_size)) {
            return false;
        }
        l->copied += l->initrd_size;
    } else {
        copy_image(l, l->initrd_dst, l->initrd, l->initrd_size);
    }
    if (l->copied != before) {
        guest_cache_clean(l->initrd_dst, l->initrd_size);
    }
    return true;
}

bool guest_place_linux(const struct vmm_config *cfg, const struct guest_ram *ram, bool restart,
                       uint64_t *copied, char *err, size_t err_size)
{
    struct linux_load l = { .restart = restart, .copied = 0 };
    *copied = 0;
    if (cfg->flags & VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED) {
        /* In guest RAM, and checked by the build and by vmm_config_check (inside guest RAM,
         * apart); not ours to read. */
        return !restart || vmm_fail(err, err_size, "the images were prefilled and are not mapped "
                                    "into the VMM: it cannot place them again");
    }
    bool ok = place_kernel(cfg, ram, &l, err, err_size)
              && place_dtb_and_initrd(cfg, ram, &l, err, err_size)
              && write_images(cfg, &l, err, err_size);
    *copied = l.copied;
    return ok;
}

bool guest_load_linux(const struct vmm_config *cfg, const struct guest_ram *ram,
                      char *err, size_t err_size)
{
    uint64_t copied;
    return guest_place_linux(cfg, ram, false, &copied, err, err_size);
}
