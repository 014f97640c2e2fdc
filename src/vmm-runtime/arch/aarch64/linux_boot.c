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

bool guest_load_linux(const struct vmm_config *cfg, const struct guest_ram *ram,
                      char *err, size_t err_size)
{
    const uint8_t *kernel = (const uint8_t *)(uintptr_t)cfg->kernel.vmm_vaddr;
    const uint8_t *dtb = (const uint8_t *)(uintptr_t)cfg->dtb.vmm_vaddr;
    const uint8_t *initrd = (const uint8_t *)(uintptr_t)cfg->initrd.vmm_vaddr;
    bool kernel_packed = (cfg->flags & VMM_CONFIG_FLAG_KERNEL_GZIP) != 0;
    bool initrd_packed = (cfg->flags & VMM_CONFIG_FLAG_INITRD_GZIP) != 0;
    /* What each image occupies in guest RAM (the unpacked size for a compressed one). */
    uint64_t kernel_size = vmm_config_kernel_guest_size(cfg);
    uint64_t initrd_size = vmm_config_initrd_guest_size(cfg);
    struct linux_image_info info;

    /* A compressed kernel's header is only readable once unpacked: unpack it first, straight
     * to its place in guest RAM (nothing else is written yet, and its source is in the VMM's
     * image segment, not guest RAM), then check it as if it had been copied. */
    if (kernel_packed) {
        uint8_t *dst = guest_ram_ptr(ram, cfg->kernel.guest_addr, kernel_size);
        if (dst == NULL) {
            return vmm_fail(err, err_size, "kernel [0x%llx..+0x%llx) is outside guest RAM",
                        (unsigned long long)cfg->kernel.guest_addr,
                        (unsigned long long)kernel_size);
        }
        if (!unpack_image("kernel", kernel, cfg->kernel.size, dst, kernel_size, err, err_size)) {
            return false;
        }
        kernel = dst;
    }
    if (!guest_check_linux_header(kernel, kernel_size, &info, err, err_size)) {
        return false;
    }
    if (cfg->kernel.guest_addr < info.text_offset
        || (cfg->kernel.guest_addr - info.text_offset) % LINUX_IMAGE_ALIGN != 0) {
        return vmm_fail(err, err_size, "kernel at 0x%llx is not text_offset 0x%llx above a 2 MiB "
                    "boundary", (unsigned long long)cfg->kernel.guest_addr,
                    (unsigned long long)info.text_offset);
    }
    uint8_t *kernel_dst = guest_ram_ptr(ram, cfg->kernel.guest_addr, info.image_size);
    if (kernel_dst == NULL) {
        return vmm_fail(err, err_size, "kernel footprint [0x%llx..+0x%llx) (image_size, incl. BSS) "
                    "is outside guest RAM", (unsigned long long)cfg->kernel.guest_addr,
                    (unsigned long long)info.image_size);
    }
    uint64_t k_lo = cfg->kernel.guest_addr;
    uint64_t k_hi = k_lo + info.image_size;

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
    uint8_t *dtb_dst = guest_ram_ptr(ram, cfg->dtb.guest_addr, cfg->dtb.size);
    if (dtb_dst == NULL) {
        return vmm_fail(err, err_size, "DTB is outside guest RAM");
    }
    if (cfg->dtb.guest_addr < k_hi && k_lo < cfg->dtb.guest_addr + cfg->dtb.size) {
        return vmm_fail(err, err_size, "DTB at 0x%llx overlaps the kernel footprint [0x%llx..0x%llx)",
                    (unsigned long long)cfg->dtb.guest_addr, (unsigned long long)k_lo,
                    (unsigned long long)k_hi);
    }
    uint8_t *initrd_dst = NULL;
    if (cfg->initrd.size != 0) {
        initrd_dst = guest_ram_ptr(ram, cfg->initrd.guest_addr, initrd_size);
        if (initrd_dst == NULL) {
            return vmm_fail(err, err_size, "initrd is outside guest RAM");
        }
        if (cfg->initrd.guest_addr < k_hi && k_lo < cfg->initrd.guest_addr + initrd_size) {
            return vmm_fail(err, err_size, "initrd at 0x%llx overlaps the kernel footprint "
                        "[0x%llx..0x%llx)", (unsigned long long)cfg->initrd.guest_addr,
                        (unsigned long long)k_lo, (unsigned long long)k_hi);
        }
    }

    if (!kernel_packed) {
        memcpy(kernel_dst, kernel, kernel_size);
    }
    /* The BSS beyond the file is the kernel's to clear, but a clean slate makes reloads
     * (SYSTEM_RESET) deterministic. */
    memset(kernel_dst + kernel_size, 0, info.image_size - kernel_size);
    memcpy(dtb_dst, dtb, cfg->dtb.size);
    if (initrd_dst != NULL) {
        if (initrd_packed) {
            if (!unpack_image("initrd", initrd, cfg->initrd.size, initrd_dst, initrd_size, err,
                              err_size)) {
                return false;
            }
        } else {
            memcpy(initrd_dst, initrd, initrd_size);
        }
    }
    /* booting.rst: the kernel starts with the MMU and D-cache off, so what we wrote through
     * our cacheable mapping (copied or unpacked alike) must reach the point of coherency; the
     * I-cache must not hold stale lines for the kernel text. */
    guest_cache_clean(kernel_dst, info.image_size);
    guest_cache_clean(dtb_dst, cfg->dtb.size);
    if (initrd_dst != NULL) {
        guest_cache_clean(initrd_dst, initrd_size);
    }
    return true;
}
