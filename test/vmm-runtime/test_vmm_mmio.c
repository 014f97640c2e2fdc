/* A VM's emulated frames on its MMIO bus (lib/vmm_mmio.c): where they are, what their handlers
 * answer through the bus, and an overlap refused at start-up. */
#include "harness.h"
#include "vmm.h"

static struct vmm vm;
static struct vmm_config vm_config;

#define VM_GICD   0x08000000ull
#define VM_GICR   0x080a0000ull
#define VM_UART   0x09000000ull
#define VM_VIRTIO 0x0a000000ull

/* Two vCPUs, the GIC built, one PL011 (SPI 33), one virtio-net window. */
static bool vm_setup(char *err, size_t err_size)
{
    memset(&vm, 0, sizeof(vm));
    memset(&vm_config, 0, sizeof(vm_config));
    vm_config.vcpu_count = 2;
    vm_config.gicd_base = VM_GICD;
    vm_config.gicr_base = VGIC_VERSION == 3 ? VM_GICR : 0;
    vm_config.device_count = 1;
    vm_config.devices[0] = (struct vmm_config_device){ VM_UART, 0x1000, VMM_CONFIG_DEVICE_PL011,
                                                       33, 0 };
    vm_config.virtio_count = 1;
    vm_config.virtio[0].guest_base = VM_VIRTIO;
    vm_config.virtio[0].kind = VMM_CONFIG_VIRTIO_NET;
    vm.config = &vm_config;
    vm.name = "t";
    vgic_init(&vm.vgic, 2, &harness_vgic_ops, NULL);
    pl011_init(&vm.uarts[0].pl011, vm.name);
    return vmm_mmio_register(&vm, err, err_size);
}

static const char *name_at(uint64_t addr)
{
    const struct mmio_region *r = mmio_bus_find(&vm.bus, addr);
    return r != NULL ? r->name : "none";
}

static void vm_frames_on_the_bus(void)
{
    char err[160];
    CHECK(vm_setup(err, sizeof(err)));
    CHECK(strcmp(name_at(VM_GICD), "GICD") == 0);
    CHECK(strcmp(name_at(VM_GICD + VGIC_DIST_SIZE - 1), "GICD") == 0);
    CHECK(strcmp(name_at(VM_GICD + VGIC_DIST_SIZE), "none") == 0);
#if defined(GIC_V3)
    CHECK(strcmp(name_at(VM_GICR), "GICR") == 0);
    CHECK(strcmp(name_at(VM_GICR + 2 * VGIC_REDIST_STRIDE - 1), "GICR") == 0);
    CHECK(strcmp(name_at(VM_GICR + 2 * VGIC_REDIST_STRIDE), "none") == 0);
    CHECK_EQ(vm.bus.count, 4);
#else
    CHECK_EQ(vm.bus.count, 3);
#endif
    CHECK(strcmp(name_at(VM_UART + 0xfff), "PL011") == 0);
    CHECK(strcmp(name_at(VM_UART + 0x1000), "none") == 0);
    CHECK(strcmp(name_at(VM_VIRTIO), "virtio") == 0);
    CHECK(strcmp(name_at(VM_VIRTIO + VMM_CONFIG_VIRTIO_WINDOW - 1), "virtio") == 0);
    CHECK(strcmp(name_at(VM_VIRTIO + VMM_CONFIG_VIRTIO_WINDOW), "none") == 0);
}

static enum mmio_status vm_access(uint64_t addr, unsigned width, bool write, uint64_t *value,
                                  struct mmio_access *a)
{
    *a = (struct mmio_access){ .vcpu = 0, .width = width, .write = write, .value = *value };
    enum mmio_status st = mmio_bus_access(mmio_bus_find(&vm.bus, addr), addr, a);
    *value = a->value;
    return st;
}

static void vm_frames_answer(void)
{
    char err[160];
    CHECK(vm_setup(err, sizeof(err)));
    struct mmio_access a;
    uint64_t v = 0;
    /* The PL011's transmit interrupt, unmasked, raises its SPI in the vGIC. */
    CHECK(!vgic_irq(&vm.vgic, 0, 33)->pending);
    v = PL011_INT_TX;
    CHECK_EQ(vm_access(VM_UART + PL011_UARTIMSC, 4, true, &v, &a), MMIO_OK);
    CHECK(vgic_irq(&vm.vgic, 0, 33)->pending);
    CHECK_EQ(vm_access(VM_UART + 1, 4, true, &v, &a), MMIO_BAD_ACCESS);
    CHECK(strcmp(a.why, "4-byte write of the emulated PL011 (bad width or alignment)") == 0);
    /* The distributor: a register, an unknown offset (logged, ignored), a misaligned access. */
    CHECK_EQ(vm_access(VM_GICD + 0x004, 4, false, &v, &a), MMIO_OK);
    CHECK(v != 0);      /* GICD_TYPER */
    CHECK_EQ(vm_access(VM_GICD + 0x040, 4, false, &v, &a), MMIO_IGNORED);
    CHECK(strcmp(a.why, "GICD read at offset 0x40: unknown register (RAZ/WI)") == 0);
    CHECK_EQ(vm_access(VM_GICD + 0x102, 4, true, &v, &a), MMIO_BAD_ACCESS);
    CHECK(strcmp(a.why, "4-byte write of GICD+0x102 (misaligned access)") == 0);
#if defined(GIC_V3)
    CHECK_EQ(vm_access(VM_GICR + VGIC_REDIST_STRIDE + 0x0008, 8, false, &v, &a), MMIO_OK);
    CHECK_EQ((v >> 8) & 0xffffu, 1);  /* GICR_TYPER.Processor_Number of the second frame */
#endif
}

static void vm_frames_refuse_overlap(void)
{
    char err[160];
    CHECK(vm_setup(err, sizeof(err)));
    vm_config.devices[0].guest_base = VM_GICD;
    CHECK(!vmm_mmio_register(&vm, err, sizeof(err)));
    CHECK_CONTAINS(err, "PL011 window 0x8000000+0x1000 overlaps GICD window 0x8000000+");
    vm_config.devices[0].guest_base = VM_UART;
    vm_config.virtio[0].guest_base = VM_UART;
    CHECK(!vmm_mmio_register(&vm, err, sizeof(err)));
    CHECK(strcmp(err, "virtio window 0x9000000+0x1000 overlaps PL011 window 0x9000000+0x1000") == 0);
}

HARNESS_SUITE(vmm_mmio_tests) = {
    { "vmm mmio: a VM's GIC, PL011 and virtio frames on its bus", vm_frames_on_the_bus },
    { "vmm mmio: the frames' handlers through the bus (PL011 interrupt, GICD outcomes)", vm_frames_answer },
    { "vmm mmio: a device window over another frame is refused at start-up", vm_frames_refuse_overlap },
    HARNESS_END,
};
