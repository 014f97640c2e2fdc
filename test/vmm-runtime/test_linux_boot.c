#include "harness.h"
#include "linux_boot.h"

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

HARNESS_SUITE(linux_boot_tests) = {
    { "linux_boot: copies kernel, DTB, initrd and cleans caches", boot_loads_and_cleans },
    { "linux_boot: rejects a non-Image kernel", boot_rejects_bad_magic },
    { "linux_boot: rejects pre-3.17 and big-endian Images", boot_rejects_old_or_big_endian },
    { "linux_boot: checks 2 MiB and 8-byte alignment", boot_checks_alignment },
    { "linux_boot: checks the kernel footprint incl. BSS", boot_checks_footprint },
    { "linux_boot: checks the DTB header", boot_checks_dtb },
    { "linux_boot: guest_ram_ptr is overflow-safe", boot_ram_ptr_is_overflow_safe },
    HARNESS_END,
};
