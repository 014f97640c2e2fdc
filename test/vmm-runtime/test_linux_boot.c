#include "harness.h"
#include "linux_boot.h"
#include "inflate.h"

#include <stdlib.h>

#define RAM_BASE 0x40000000ull
#define RAM_SIZE 0x01000000ull  /* 16 MiB is plenty for fake images */

static uint8_t *ram;
static uint8_t kernel[0x3000];
static uint8_t dtb[0x100];
static uint8_t initrd[0x800];
static struct vmm_config cfg;
static struct guest_ram window;

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void setup(void)
{
    if (ram == NULL) {
        ram = malloc(RAM_SIZE);
    }
    memset(ram, 0xaa, RAM_SIZE);
    memset(kernel, 0x11, sizeof(kernel));
    put_le64(kernel + 8, 0);                 /* text_offset */
    put_le64(kernel + 16, 0x5000);           /* image_size: 8 KiB of BSS beyond the file */
    put_le64(kernel + 24, 0xa);              /* flags: LE, 4K pages, anywhere */
    memcpy(kernel + 0x38, "ARM\x64", 4);
    memset(dtb, 0x22, sizeof(dtb));
    dtb[0] = 0xd0; dtb[1] = 0x0d; dtb[2] = 0xfe; dtb[3] = 0xed;
    dtb[4] = 0; dtb[5] = 0; dtb[6] = 0x01; dtb[7] = 0x00;    /* totalsize 0x100 */
    memset(initrd, 0x33, sizeof(initrd));
    memset(&cfg, 0, sizeof(cfg));
    cfg.kernel = (struct vmm_config_image){ (uintptr_t)kernel, sizeof(kernel), RAM_BASE + 0x200000 };
    cfg.dtb = (struct vmm_config_image){ (uintptr_t)dtb, sizeof(dtb), RAM_BASE + 0xf00000 };
    cfg.initrd = (struct vmm_config_image){ (uintptr_t)initrd, sizeof(initrd), RAM_BASE + 0xe00000 };
    window = (struct guest_ram){ RAM_BASE, RAM_SIZE, ram };
    harness_cache_cleans = 0;
}

static void boot_loads_and_cleans(void)
{
    char err[200] = "";
    setup();
    CHECK(guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
    CHECK(memcmp(ram + 0x200000, kernel, sizeof(kernel)) == 0);
    CHECK_EQ(ram[0x200000 + sizeof(kernel)], 0);            /* BSS cleared */
    CHECK_EQ(ram[0x200000 + 0x5000 - 1], 0);
    CHECK_EQ(ram[0x200000 + 0x5000], 0xaa);                 /* nothing beyond image_size */
    CHECK(memcmp(ram + 0xf00000, dtb, sizeof(dtb)) == 0);
    CHECK(memcmp(ram + 0xe00000, initrd, sizeof(initrd)) == 0);
    CHECK_EQ(harness_cache_cleans, 3);
}

static void boot_rejects_bad_magic(void)
{
    char err[200];
    setup();
    kernel[0x38] = 'X';
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "not an arm64 Linux Image");
    CHECK_EQ(ram[0x200000], 0xaa);                          /* nothing copied */
}

static void boot_rejects_old_or_big_endian(void)
{
    char err[200];
    setup();
    put_le64(kernel + 16, 0);
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "image_size 0");
    setup();
    put_le64(kernel + 24, 1);
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "big-endian");
}

static void boot_checks_alignment(void)
{
    char err[200];
    setup();
    cfg.kernel.guest_addr = RAM_BASE + 0x201000;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "2 MiB boundary");
    setup();
    put_le64(kernel + 8, 0x80000);          /* text_offset 512 KiB */
    cfg.kernel.guest_addr = RAM_BASE + 0x280000;
    CHECK(guest_load_linux(&cfg, &window, err, sizeof(err)));
    setup();
    cfg.dtb.guest_addr = RAM_BASE + 0xf00004;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "8-byte aligned");
}

static void boot_checks_footprint(void)
{
    char err[200];
    /* The file fits below the DTB but its BSS (image_size) would run into it. */
    setup();
    cfg.dtb.guest_addr = RAM_BASE + 0x204000;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "DTB at 0x40204000 overlaps the kernel footprint");
    setup();
    cfg.initrd.guest_addr = RAM_BASE + 0x204800;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "initrd at 0x40204800 overlaps");
    /* BSS past the end of RAM. */
    setup();
    cfg.kernel.guest_addr = RAM_BASE + RAM_SIZE - 0x200000;
    put_le64(kernel + 16, 0x200001);
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "outside guest RAM");
}

static void boot_checks_dtb(void)
{
    char err[200];
    setup();
    dtb[0] = 0;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "FDT magic");
    setup();
    dtb[6] = 0x02;                      /* totalsize 0x200 > 0x100 stored */
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "DTB header says 512 bytes");
}

static void boot_ram_ptr_is_overflow_safe(void)
{
    setup();
    CHECK(guest_ram_ptr(&window, RAM_BASE, RAM_SIZE) == ram);
    CHECK(guest_ram_ptr(&window, RAM_BASE + RAM_SIZE, 0) == ram + RAM_SIZE);
    CHECK(guest_ram_ptr(&window, RAM_BASE + RAM_SIZE, 1) == NULL);
    CHECK(guest_ram_ptr(&window, RAM_BASE - 1, 1) == NULL);
    CHECK(guest_ram_ptr(&window, RAM_BASE + 1, ~0ull) == NULL);
    CHECK(guest_ram_ptr(&window, ~0ull, 2) == NULL);
}

/* Wraps data in a gzip member of stored blocks (RFC 1952 around RFC 1951 3.2.4). */
static size_t gzip_stored(const uint8_t *data, size_t len, uint8_t *outb)
{
    static const uint8_t header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
    size_t n = 0;
    memcpy(outb, header, sizeof(header));
    n += sizeof(header);
    size_t done = 0;
    do {
        size_t chunk = len - done < 0xffff ? len - done : 0xffff;
        outb[n++] = done + chunk == len ? 1 : 0;
        outb[n++] = (uint8_t)chunk;
        outb[n++] = (uint8_t)(chunk >> 8);
        outb[n++] = (uint8_t)~chunk;
        outb[n++] = (uint8_t)(~chunk >> 8);
        memcpy(outb + n, data + done, chunk);
        n += chunk;
        done += chunk;
    } while (done < len);
    uint32_t crc = inflate_crc32(0, data, len);
    for (unsigned i = 0; i < 4; i++) outb[n++] = (uint8_t)(crc >> (8 * i));
    for (unsigned i = 0; i < 4; i++) outb[n++] = (uint8_t)(len >> (8 * i));
    return n;
}

static uint8_t packed_kernel[sizeof(kernel) + 64];
static uint8_t packed_initrd[sizeof(initrd) + 64];

static void setup_packed(void)
{
    setup();
    cfg.flags = VMM_CONFIG_FLAG_KERNEL_GZIP | VMM_CONFIG_FLAG_INITRD_GZIP;
    cfg.kernel.vmm_vaddr = (uintptr_t)packed_kernel;
    cfg.kernel.size = gzip_stored(kernel, sizeof(kernel), packed_kernel);
    cfg.kernel_unpacked_size = sizeof(kernel);
    cfg.initrd.vmm_vaddr = (uintptr_t)packed_initrd;
    cfg.initrd.size = gzip_stored(initrd, sizeof(initrd), packed_initrd);
    cfg.initrd_unpacked_size = sizeof(initrd);
}

static void boot_unpacks_compressed_images(void)
{
    char err[200] = "";
    setup_packed();
    CHECK(guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
    CHECK(memcmp(ram + 0x200000, kernel, sizeof(kernel)) == 0);
    CHECK_EQ(ram[0x200000 + sizeof(kernel)], 0);            /* BSS cleared */
    CHECK_EQ(ram[0x200000 + 0x5000], 0xaa);
    CHECK(memcmp(ram + 0xf00000, dtb, sizeof(dtb)) == 0);
    CHECK(memcmp(ram + 0xe00000, initrd, sizeof(initrd)) == 0);
    CHECK_EQ(ram[0xe00000 + sizeof(initrd)], 0xaa);         /* nothing beyond the output */
    CHECK_EQ(harness_cache_cleans, 3);
}

static void boot_rejects_bad_streams(void)
{
    char err[200];
    setup_packed();
    packed_kernel[cfg.kernel.size - 8] ^= 1;                /* CRC-32 of the kernel */
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "compressed kernel image is corrupt: checksum");
    CHECK_EQ(harness_cache_cleans, 0);
    setup_packed();
    packed_initrd[12] ^= 0xff;                              /* stored LEN */
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "compressed initrd image is corrupt: stored block length");
    setup_packed();
    cfg.kernel.size -= 1;                                   /* truncated */
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "compressed kernel image is corrupt: stream is truncated");
    CHECK(strchr(err, '\n') == NULL);
}

static void boot_checks_unpacked_size(void)
{
    char err[200];
    setup_packed();
    cfg.kernel_unpacked_size = sizeof(kernel) + 0x1000;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "compressed kernel image unpacks to 0x3000 bytes, the config says 0x4000");
    setup_packed();
    cfg.initrd_unpacked_size = sizeof(initrd) - 1;
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "compressed initrd image unpacks to more than the 0x7ff bytes");
    CHECK_EQ(ram[0xe00000 + sizeof(initrd) - 1], 0xaa);     /* the bound held */
    /* Not a Linux Image once unpacked. */
    setup();
    kernel[0x38] = 'X';
    uint8_t saved[0x40];
    memcpy(saved, kernel, sizeof(saved));
    setup_packed();
    memcpy(kernel, saved, sizeof(saved));
    cfg.kernel.size = gzip_stored(kernel, sizeof(kernel), packed_kernel);
    CHECK(!guest_load_linux(&cfg, &window, err, sizeof(err)));
    CHECK_CONTAINS(err, "not an arm64 Linux Image");
}

/* Microkit 2.3.0 prefilled regions: the images are in guest RAM when the VMM starts. */
static void setup_in_place(bool pristine)
{
    setup();
    memcpy(ram + 0x200000, kernel, sizeof(kernel));
    memcpy(ram + 0xf00000, dtb, sizeof(dtb));
    memcpy(ram + 0xe00000, initrd, sizeof(initrd));
    cfg.flags = VMM_CONFIG_FLAG_KERNEL_IN_PLACE | VMM_CONFIG_FLAG_DTB_IN_PLACE
                | VMM_CONFIG_FLAG_INITRD_IN_PLACE;
    if (!pristine) {
        cfg.kernel.vmm_vaddr = cfg.dtb.vmm_vaddr = cfg.initrd.vmm_vaddr = 0;
    }
}

static void boot_in_place_copies_nothing(void)
{
    char err[200] = "";
    uint64_t copied = 1;
    setup_in_place(false);
    CHECK(guest_place_linux(&cfg, &window, false, &copied, err, sizeof(err)));
    CHECK_EQ(copied, 0);
    CHECK(memcmp(ram + 0x200000, kernel, sizeof(kernel)) == 0);
    CHECK_EQ(ram[0x200000 + sizeof(kernel)], 0xaa);         /* fresh RAM: nothing written */
    CHECK_EQ(harness_cache_cleans, 0);
    /* Its header is still checked, where it is. */
    ram[0x200000 + 0x38] = 0;
    CHECK(!guest_place_linux(&cfg, &window, false, &copied, err, sizeof(err)));
    CHECK_CONTAINS(err, "not an arm64 Linux Image");
}

static void boot_in_place_restart_needs_pristine(void)
{
    char err[200] = "";
    uint64_t copied = 0;
    setup_in_place(false);
    memset(ram + 0x200000, 0x55, 0x5000);                   /* the last run wrote over it */
    CHECK(!guest_place_linux(&cfg, &window, true, &copied, err, sizeof(err)));
    CHECK_CONTAINS(err, "no pristine copy");
    setup_in_place(true);
    memset(ram + 0x200000, 0x55, 0x5000);
    memset(ram + 0xe00000, 0x55, sizeof(initrd));
    CHECK(guest_place_linux(&cfg, &window, true, &copied, err, sizeof(err)));
    CHECK_EQ(copied, sizeof(kernel) + sizeof(dtb) + sizeof(initrd));
    CHECK(memcmp(ram + 0x200000, kernel, sizeof(kernel)) == 0);
    CHECK_EQ(ram[0x200000 + 0x5000 - 1], 0);                /* BSS cleared again */
    CHECK(memcmp(ram + 0xe00000, initrd, sizeof(initrd)) == 0);
    CHECK_EQ(harness_cache_cleans, 3);
}

static void boot_unmapped_touches_nothing(void)
{
    char err[200] = "";
    uint64_t copied = 1;
    setup_in_place(false);
    cfg.flags |= VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED;
    window.vmm = NULL;                                      /* not mapped: any access would crash */
    CHECK(guest_place_linux(&cfg, &window, false, &copied, err, sizeof(err)));
    CHECK_EQ(copied, 0);
    CHECK(!guest_place_linux(&cfg, &window, true, &copied, err, sizeof(err)));
    CHECK_CONTAINS(err, "cannot place them again");
}

HARNESS_SUITE(linux_boot_tests) = {
    { "linux_boot: images in place and not mapped into the VMM are left alone", boot_unmapped_touches_nothing },
    { "linux_boot: images in place (prefilled) are checked and not copied", boot_in_place_copies_nothing },
    { "linux_boot: a restart places prefilled images from pristine copies, or refuses", boot_in_place_restart_needs_pristine },
    { "linux_boot: unpacks a compressed kernel and initrd in place", boot_unpacks_compressed_images },
    { "linux_boot: refuses corrupt or truncated compressed images", boot_rejects_bad_streams },
    { "linux_boot: checks the unpacked size against the config", boot_checks_unpacked_size },
    { "linux_boot: copies kernel, DTB, initrd and cleans caches", boot_loads_and_cleans },
    { "linux_boot: rejects a non-Image kernel", boot_rejects_bad_magic },
    { "linux_boot: rejects pre-3.17 and big-endian Images", boot_rejects_old_or_big_endian },
    { "linux_boot: checks 2 MiB and 8-byte alignment", boot_checks_alignment },
    { "linux_boot: checks the kernel footprint incl. BSS", boot_checks_footprint },
    { "linux_boot: checks the DTB header", boot_checks_dtb },
    { "linux_boot: guest_ram_ptr is overflow-safe", boot_ram_ptr_is_overflow_safe },
    HARNESS_END,
};
