#include "harness.h"
#include "vmm_config.h"

static uint8_t blob[VMM_CONFIG_RESERVED_SIZE];

static struct vmm_config *cfg(void)
{
    return (struct vmm_config *)(void *)blob;
}

static void seal(void)
{
    cfg()->crc32 = 0;
    cfg()->crc32 = vmm_config_crc32(blob, cfg()->total_size);
}

/* A GICv2 QEMU-virt-like VM with 256 MiB of RAM at 0x40000000. */
static void make_valid(void)
{
    memset(blob, 0, sizeof(blob));
    struct vmm_config *c = cfg();
    c->magic = VMM_CONFIG_MAGIC;
    c->version = VMM_CONFIG_VERSION;
    c->header_size = sizeof(struct vmm_config);
    c->total_size = sizeof(struct vmm_config);
    strcpy(c->vm_name, "linux");
    c->gic_version = 2;
    c->vcpu_count = 1;
    c->gicd_base = 0x8000000;
    c->gicc_base = 0x8010000;
    c->ram_guest_base = 0x40000000;
    c->ram_size = 0x10000000;
    c->ram_vmm_vaddr = 0x20000000;
    c->kernel = (struct vmm_config_image){ 0x10000000, 0x2000000, 0x40000000 };
    c->dtb = (struct vmm_config_image){ 0x12000000, 0x10000, 0x4f000000 };
    c->initrd = (struct vmm_config_image){ 0x12010000, 0x400000, 0x4d000000 };
    c->entry = 0x40000000;
    c->irq_count = 1;
    c->irqs[0] = (struct vmm_config_irq){ .channel = 1, .trigger = 0, .intid = 33 };
    c->timer_channel = VMM_CONFIG_NO_CHANNEL;
    c->control_channel = VMM_CONFIG_NO_CHANNEL;
    seal();
}

/* Idle vCPUs block: a wake slot above the guest RAM mapping, the timer on channel 2. */
static void with_wake(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_IDLE_BLOCK;
    c->wake_slot_vaddr = 0x30001000;
    c->timer_channel = 2;
}

/* Version 6: the restart policy and the control page. */
static void with_control(struct vmm_config *c)
{
    c->control_channel = 5;
    c->control_vaddr = 0x30002000;
}

static bool check(char *err, size_t n)
{
    return vmm_config_check(blob, sizeof(blob), 2, err, n);
}

static void config_accepts_a_restart_policy_and_control(void)
{
    char err[200] = "";
    make_valid();
    with_wake(cfg());
    with_control(cfg());
    cfg()->restart_policy = VMM_CONFIG_RESTART_ON_FAILURE;
    cfg()->max_restarts = VMM_CONFIG_RESTARTS_UNLIMITED;
    cfg()->backoff_ms = 500;
    seal();
    CHECK(check(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
}

static void config_accepts_valid(void)
{
    char err[200] = "";
    make_valid();
    CHECK(check(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
}

static void config_crc_matches_zlib(void)
{
    /* The standard CRC-32 check value (IEEE 802.3 / zlib) of "123456789". */
    CHECK_EQ(vmm_config_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

static void config_rejects_zero_section(void)
{
    char err[200];
    memset(blob, 0, sizeof(blob));
    CHECK(!check(err, sizeof(err)));
    CHECK_CONTAINS(err, "bad magic 0x00000000");
}

static void config_rejects_bad_checksum(void)
{
    char err[200];
    make_valid();
    blob[0x100] ^= 1;
    CHECK(!check(err, sizeof(err)));
    CHECK_CONTAINS(err, "checksum mismatch");
}

static void config_rejects_version(void)
{
    char err[200];
    make_valid();
    cfg()->version = 1;     /* the layout before compressed images */
    seal();
    CHECK(!check(err, sizeof(err)));
    CHECK_CONTAINS(err, "unsupported version 1");
}

static void config_rejects_gic_mismatch(void)
{
    char err[200];
    make_valid();
    CHECK(!vmm_config_check(blob, sizeof(blob), 3, err, sizeof(err)));
    CHECK_CONTAINS(err, "config is for GICv2 but this runtime was built for GICv3");
}

/* One mutation per field family; each must be rejected with the given text. */
struct mutation {
    const char *expect;
    void (*apply)(struct vmm_config *c);
};

static void m_sizes(struct vmm_config *c) { c->total_size = VMM_CONFIG_RESERVED_SIZE + 8; }
static void m_header(struct vmm_config *c) { c->header_size = 0x200; }
static void m_name(struct vmm_config *c) { memset(c->vm_name, 'x', sizeof(c->vm_name)); }
static void m_vcpus(struct vmm_config *c) { c->vcpu_count = 9; }
static void m_vcpu_dup(struct vmm_config *c) { c->vcpu_count = 2; c->vcpu_ids[1] = 0; }
static void m_ram_align(struct vmm_config *c) { c->ram_size = 0x10000001; }
static void m_ram_wrap(struct vmm_config *c) { c->ram_guest_base = 0xfffffffffffff000ull; }
static void m_kernel_out(struct vmm_config *c) { c->kernel.guest_addr = 0x3fe00000; }
static void m_kernel_wrap(struct vmm_config *c) { c->kernel.size = ~0ull - 0x100; }
static void m_dtb_missing(struct vmm_config *c) { c->dtb.size = 0; }
static void m_initrd_over(struct vmm_config *c) { c->initrd.guest_addr = 0x40100000; }
static void m_entry(struct vmm_config *c) { c->entry = 0x48000000; }
static void m_irq_count(struct vmm_config *c) { c->irq_count = 33; }
static void m_irq_intid(struct vmm_config *c) { c->irqs[0].intid = 27; }
/* INTIDs the vGIC does not implement (above VMM_CONFIG_MAX_INTID), and above every SPI. */
static void m_irq_intid_high(struct vmm_config *c) { c->irqs[0].intid = VMM_CONFIG_MAX_INTID + 1; }
static void m_irq_intid_special(struct vmm_config *c) { c->irqs[0].intid = 1020; }
static void m_device_intid_high(struct vmm_config *c)
{
    c->device_count = 1;
    c->devices[0] = (struct vmm_config_device){ .guest_base = 0x9000000, .size = 0x1000,
                                                .kind = VMM_CONFIG_DEVICE_PL011,
                                                .intid = VMM_CONFIG_MAX_INTID + 1 };
}
static void m_irq_chan(struct vmm_config *c) { c->irqs[0].channel = 62; }
static void m_irq_trigger(struct vmm_config *c) { c->irqs[0].trigger = 2; }
static void m_gicd_in_ram(struct vmm_config *c) { c->gicd_base = 0x40001000; }
static void m_gicr_on_v2(struct vmm_config *c) { c->gicr_base = 0x80a0000; }
static void m_src_over(struct vmm_config *c) { c->kernel.vmm_vaddr = 0x20001000; }
static void m_device(struct vmm_config *c)
{
    c->device_count = 1;
    c->devices[0] = (struct vmm_config_device){ .guest_base = 0x9000000, .size = 0x1000,
                                                .kind = 7 };
}
static void m_flags(struct vmm_config *c) { c->flags = 1u << 7; }
static void m_wake_no_slot(struct vmm_config *c) { with_wake(c); c->wake_slot_vaddr = 0; }
static void m_wake_in_ram(struct vmm_config *c) { with_wake(c); c->wake_slot_vaddr = 0x20001000; }
static void m_wake_unaligned(struct vmm_config *c) { with_wake(c); c->wake_slot_vaddr = 0x30000800; }
static void m_wake_channel(struct vmm_config *c) { with_wake(c); c->timer_channel = 62; }
static void m_wake_on_irq(struct vmm_config *c) { with_wake(c); c->timer_channel = 1; }
static void m_spin_with_slot(struct vmm_config *c) { c->wake_slot_vaddr = 0x30001000; }
static void m_wake_reserved(struct vmm_config *c) { with_wake(c); c->reserved3[3] = 1; }
/* Compressed images: a gzip kernel of 8 MiB that unpacks to 32 MiB at 0x40000000. */
static void packed_kernel(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_KERNEL_GZIP;
    c->kernel.size = 0x800000;
    c->kernel_unpacked_size = 0x2000000;
}
static void m_unpacked_without_flag(struct vmm_config *c) { c->initrd_unpacked_size = 0x1000; }
static void m_packed_no_unpacked(struct vmm_config *c)
{
    packed_kernel(c);
    c->kernel_unpacked_size = 0;
}
static void m_packed_tiny(struct vmm_config *c)
{
    packed_kernel(c);
    c->kernel.size = 17;
}
static void m_packed_out(struct vmm_config *c)
{
    packed_kernel(c);
    c->kernel_unpacked_size = 0x10000001;
}
static void m_packed_over_initrd(struct vmm_config *c)
{
    /* 8 MiB stored fits below the initrd at 0x4d000000; 0xd800000 unpacked does not. */
    packed_kernel(c);
    c->kernel_unpacked_size = 0xd800000;
}
static void m_packed_initrd_absent(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_INITRD_GZIP;
    c->initrd = (struct vmm_config_image){ 0, 0, 0 };
    c->initrd_unpacked_size = 0x1000;
}
static void m_packed_initrd_over_dtb(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_INITRD_GZIP;
    c->initrd_unpacked_size = 0x2000001;    /* 0x4d000000 + that reaches the DTB at 0x4f000000 */
}
static void m_packed_entry(struct vmm_config *c)
{
    packed_kernel(c);
    c->kernel_unpacked_size = 0x1000;       /* entry must lie in the unpacked kernel */
    c->entry = 0x40001000;
}
/* In place (prefilled): never compressed, never empty; a pristine copy stays out of guest RAM. */
static void m_in_place_packed(struct vmm_config *c)
{
    packed_kernel(c);
    c->flags |= VMM_CONFIG_FLAG_KERNEL_IN_PLACE;
}
static void m_in_place_absent(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_INITRD_IN_PLACE;
    c->initrd = (struct vmm_config_image){ 0, 0, 0 };
}
static void m_in_place_pristine_in_ram(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_DTB_IN_PLACE;
    c->dtb.vmm_vaddr = 0x20001000;
}
static void m_unmapped_but_copied(struct vmm_config *c)
{
    c->flags |= VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED | VMM_CONFIG_FLAG_KERNEL_IN_PLACE;
}
static void m_device_on_gicc(struct vmm_config *c)
{
    c->device_count = 1;
    c->devices[0] = (struct vmm_config_device){ .guest_base = 0x8011000, .size = 0x1000,
                                                .kind = VMM_CONFIG_DEVICE_PL011 };
}
/* A PL061 at 0x9030000 (SPI 40) with one doorbell on channel 5: lines 0 (ring) and 1. */
static void with_doorbell(struct vmm_config *c)
{
    c->device_count = 1;
    c->devices[0] = (struct vmm_config_device){ .guest_base = 0x9030000, .size = 0x1000,
                                                .kind = VMM_CONFIG_DEVICE_PL061, .intid = 40 };
    c->doorbell_count = 1;
    c->doorbells[0] = (struct vmm_config_doorbell){ .channel = 5, .device = 0, .ring_line = 0,
                                                    .notify_line = 1,
                                                    .flags = VMM_CONFIG_DOORBELL_CAN_RING };
}
static void m_doorbell_count(struct vmm_config *c) { with_doorbell(c); c->doorbell_count = 5; }
static void m_doorbell_device(struct vmm_config *c)
{
    with_doorbell(c);
    c->devices[0].kind = VMM_CONFIG_DEVICE_PL011;
}
static void m_doorbell_no_irq(struct vmm_config *c) { with_doorbell(c); c->devices[0].intid = 0; }
static void m_doorbell_on_irq(struct vmm_config *c) { with_doorbell(c); c->doorbells[0].channel = 1; }
static void m_doorbell_line(struct vmm_config *c) { with_doorbell(c); c->doorbells[0].notify_line = 200; }
static void m_doorbell_same_line(struct vmm_config *c) { with_doorbell(c); c->doorbells[0].ring_line = 1; }
static void m_doorbell_flags(struct vmm_config *c) { with_doorbell(c); c->doorbells[0].flags = 2; }
static void m_doorbell_shared(struct vmm_config *c)
{
    with_doorbell(c);
    c->doorbell_count = 2;
    c->doorbells[1] = (struct vmm_config_doorbell){ .channel = 6, .device = 0, .ring_line = 2,
                                                    .notify_line = 0,
                                                    .flags = VMM_CONFIG_DOORBELL_CAN_RING };
}
static void m_two_pl061(struct vmm_config *c)
{
    with_doorbell(c);
    c->device_count = 2;
    c->devices[1] = c->devices[0];
    c->devices[1].guest_base = 0x9040000;
}

static void m_policy(struct vmm_config *c) { c->restart_policy = 3; }
static void m_policy_reserved(struct vmm_config *c) { c->reserved7 = 1; }
static void m_backoff_no_timer(struct vmm_config *c) { c->backoff_ms = 100; }
static void m_backoff_long(struct vmm_config *c) { with_wake(c); c->backoff_ms = 60001; }
static void m_control_no_page(struct vmm_config *c) { with_control(c); c->control_vaddr = 0; }
static void m_control_page_in_ram(struct vmm_config *c) { with_control(c); c->control_vaddr = 0x20002000; }
static void m_control_on_irq(struct vmm_config *c) { with_control(c); c->control_channel = 1; }
static void m_control_on_timer(struct vmm_config *c) { with_wake(c); with_control(c); c->control_channel = 2; }
static void m_control_page_alone(struct vmm_config *c) { c->control_vaddr = 0x30002000; }
static void m_control_on_doorbell(struct vmm_config *c) { with_doorbell(c); with_control(c); }

static const struct mutation mutations[] = {
    { "5 doorbells (at most 4)", m_doorbell_count },
    { "doorbell 0: flags 0x1, device 0 (no PL061", m_doorbell_device },
    { "doorbell 0: flags 0x1, device 0 (no PL061 with an interrupt)", m_doorbell_no_irq },
    { "doorbell 0: channel 1 is out of range or taken", m_doorbell_on_irq },
    { "doorbell 0: line 0/200 out of range", m_doorbell_line },
    { "doorbell 0: lines 1/1 shared", m_doorbell_same_line },
    { "doorbell 0: flags 0x2", m_doorbell_flags },
    { "doorbell 1: lines 2/0 shared", m_doorbell_shared },
    { "devices 0 and 1 are both PL061s", m_two_pl061 },
    { "restart policy 3 is unknown", m_policy },
    { "reserved fields are set", m_policy_reserved },
    { "restart backoff of 100 ms is above 60000 ms or has no timer PD", m_backoff_no_timer },
    { "restart backoff of 60001 ms", m_backoff_long },
    { "control page 0x0 is zero", m_control_no_page },
    { "control page 0x20002000 is zero, unaligned or inside the guest RAM", m_control_page_in_ram },
    { "control channel 1 is above 61 or already in use", m_control_on_irq },
    { "control channel 2 is above 61 or already in use", m_control_on_timer },
    { "a control page without a control channel", m_control_page_alone },
    { "control channel 5 is above 61 or already in use", m_control_on_doorbell },
    { "total size", m_sizes },
    { "header size 512", m_header },
    { "VM name", m_name },
    { "vCPU count 9", m_vcpus },
    { "share id 0", m_vcpu_dup },
    { "guest RAM [0x40000000..+0x10000001)", m_ram_align },
    { "guest RAM", m_ram_wrap },
    { "kernel image [0x3fe00000..+0x2000000) is outside guest RAM", m_kernel_out },
    { "kernel image", m_kernel_wrap },
    { "DTB image is missing", m_dtb_missing },
    { "overlap in guest RAM", m_initrd_over },
    { "entry point 0x48000000", m_entry },
    { "33 passthrough IRQs", m_irq_count },
    { "INTID 27 is not an SPI", m_irq_intid },
    { "IRQ 0: INTID 512 is not an SPI the vGIC implements (32..511)", m_irq_intid_high },
    { "IRQ 0: INTID 1020 is not an SPI", m_irq_intid_special },
    { "device 0: INTID 512 is not an SPI", m_device_intid_high },
    { "channel 62", m_irq_chan },
    { "trigger 2", m_irq_trigger },
    { "GIC distributor 0x40001000", m_gicd_in_ram },
    { "redistributor", m_gicr_on_v2 },
    { "overlaps the VMM's guest RAM mapping", m_src_over },
    { "unknown kind 7", m_device },
    { "unknown flags", m_flags },
    { "kernel image is in place but compressed", m_in_place_packed },
    { "initrd image is in place but compressed or empty", m_in_place_absent },
    { "DTB image source overlaps the VMM's guest RAM mapping", m_in_place_pristine_in_ram },
    { "images not mapped into the VMM must all be in place", m_unmapped_but_copied },
    { "initrd image is stored as is but has an unpacked size 0x1000", m_unpacked_without_flag },
    { "compressed kernel image of 0x800000 bytes unpacking to 0x0 bytes", m_packed_no_unpacked },
    { "is too small to be a gzip member", m_packed_tiny },
    { "kernel image [0x40000000..+0x10000001) is outside guest RAM", m_packed_out },
    { "overlap in guest RAM", m_packed_over_initrd },
    { "initrd image is missing", m_packed_initrd_absent },
    { "overlap in guest RAM", m_packed_initrd_over_dtb },
    { "entry point 0x40001000", m_packed_entry },
    { "device 0: window 0x8011000+0x1000", m_device_on_gicc },
    { "wake slot 0x0 is zero", m_wake_no_slot },
    { "wake slot 0x20001000 is zero, unaligned or inside the guest RAM mapping", m_wake_in_ram },
    { "wake slot 0x30000800", m_wake_unaligned },
    { "timer channel 62 > 61", m_wake_channel },
    { "timer channel 1 is also IRQ 0's", m_wake_on_irq },
    { "idle vCPUs spin, but a wake slot or timer channel is given", m_spin_with_slot },
    { "reserved bytes after the timer channel", m_wake_reserved },
};

static void config_rejects_each_bad_field(void)
{
    for (size_t i = 0; i < sizeof(mutations) / sizeof(mutations[0]); i++) {
        char err[200] = "";
        make_valid();
        mutations[i].apply(cfg());
        if (cfg()->total_size <= sizeof(blob)) {
            seal();
        }
        CHECK(!check(err, sizeof(err)));
        CHECK_CONTAINS(err, mutations[i].expect);
    }
}

static void config_accepts_doorbells(void)
{
    char err[200] = "";
    make_valid();
    with_doorbell(cfg());
    /* A receive-only doorbell (its VMM end may not notify) needs no ring line. */
    cfg()->doorbell_count = 2;
    cfg()->doorbells[1] = (struct vmm_config_doorbell){ .channel = 6, .device = 0, .ring_line = 0,
                                                        .notify_line = 3 };
    seal();
    CHECK(check(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
}

static void config_accepts_gicv3(void)
{
    char err[200] = "";
    make_valid();
    cfg()->gic_version = 3;
    cfg()->gicc_base = 0;
    cfg()->gicr_base = 0x80a0000;
    cfg()->vcpu_count = 2;
    cfg()->vcpu_ids[1] = 1;
    seal();
    CHECK(vmm_config_check(blob, sizeof(blob), 3, err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
}

static void config_accepts_idle_blocking(void)
{
    char err[200] = "";
    make_valid();
    with_wake(cfg());
    seal();
    CHECK(check(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
}

static void config_accepts_compressed_images(void)
{
    char err[200] = "";
    make_valid();
    packed_kernel(cfg());
    cfg()->flags |= VMM_CONFIG_FLAG_INITRD_GZIP;
    cfg()->initrd.size = 0x1000;
    cfg()->initrd_unpacked_size = 0x400000;
    seal();
    CHECK(check(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
    CHECK_EQ(vmm_config_kernel_guest_size(cfg()), 0x2000000);
    CHECK_EQ(vmm_config_initrd_guest_size(cfg()), 0x400000);
}

static void config_accepts_images_in_place(void)
{
    char err[200] = "";
    make_valid();
    cfg()->flags |= VMM_CONFIG_FLAG_KERNEL_IN_PLACE | VMM_CONFIG_FLAG_DTB_IN_PLACE
                    | VMM_CONFIG_FLAG_INITRD_IN_PLACE;
    cfg()->kernel.vmm_vaddr = 0;            /* no pristine copy: the guest cannot be restarted */
    cfg()->dtb.vmm_vaddr = 0;
    seal();
    CHECK(check(err, sizeof(err)));
    CHECK(strcmp(err, "") == 0);
    /* Not mapped into the VMM at all: no copies of any image anywhere. */
    cfg()->initrd.vmm_vaddr = 0;
    cfg()->flags |= VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED;
    seal();
    CHECK(check(err, sizeof(err)));
}

HARNESS_SUITE(config_tests) = {
    { "config: accepts a restart policy, its backoff and a control page", config_accepts_a_restart_policy_and_control },
    { "config: accepts images in place (prefilled), with or without pristine copies", config_accepts_images_in_place },
    { "config: accepts compressed kernel and initrd", config_accepts_compressed_images },
    { "config: accepts a valid GICv2 blob", config_accepts_valid },
    { "config: accepts a valid GICv3 blob", config_accepts_gicv3 },
    { "config: accepts doorbells on a PL061, one of them receive-only", config_accepts_doorbells },
    { "config: accepts idle vCPUs that block (wake slot, timer channel)", config_accepts_idle_blocking },
    { "config: CRC-32 matches the IEEE check value", config_crc_matches_zlib },
    { "config: rejects an unwritten (zero) section", config_rejects_zero_section },
    { "config: rejects a bad checksum", config_rejects_bad_checksum },
    { "config: rejects another version", config_rejects_version },
    { "config: rejects a GIC version mismatch", config_rejects_gic_mismatch },
    { "config: rejects each bad field", config_rejects_each_bad_field },
    HARNESS_END,
};
