/*
 * The VMM configuration blob: the one channel through which sel4cp-synth tells the runtime
 * about its virtual machine. TypeScript computes every value (src/compile/emit/vmm-config.ts)
 * and the link step writes the bytes into the `.vmm_config` section of the runtime ELF; the C
 * side only reads and checks them.
 *
 * Layout: little-endian, every field naturally aligned so the compiler inserts no padding;
 * the _Static_asserts below pin each offset, and the TypeScript encoder uses the same numbers.
 * The CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) covers `total_size` bytes with the
 * `crc32` field taken as zero.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "microkit_limits.h"

#define VMM_CONFIG_SECTION       ".vmm_config"
#define VMM_CONFIG_SYMBOL        vmm_config_blob
#define VMM_CONFIG_RESERVED_SIZE 4096u
/* 'S' '4' 'V' 'M' in memory order, read as a little-endian u32. */
#define VMM_CONFIG_MAGIC         0x4d563453u
#define VMM_CONFIG_VERSION       7u

#define VMM_CONFIG_NAME_SIZE     32u
#define VMM_CONFIG_MAX_VCPUS     8u
#define VMM_CONFIG_MAX_IRQS      32u
#define VMM_CONFIG_MAX_DEVICES   4u
#define VMM_CONFIG_MAX_VIRTIO    4u
/* The highest INTID the vGIC implements (VGIC_NR_IRQS - 1, so 480 SPIs): every INTID in the
 * blob is an SPI 32..VMM_CONFIG_MAX_INTID. */
#define VMM_CONFIG_MAX_INTID     511u

/* Channel ids 0..61 (microkit_limits.h); child ids are the low 6 bits of a fault badge. */
#define VMM_CONFIG_MAX_CHANNEL   MICROKIT_LIMIT_MAX_CHANNEL
#define VMM_CONFIG_MAX_CHILD     63u

#define VMM_CONFIG_TRIGGER_LEVEL 0u
#define VMM_CONFIG_TRIGGER_EDGE  1u

#define VMM_CONFIG_DEVICE_NONE   0u
#define VMM_CONFIG_DEVICE_PL011  1u
/* Version 5: the PL061 GPIO controller that carries the VM's doorbells (pl061_emul.h). */
#define VMM_CONFIG_DEVICE_PL061  2u

/* Version 5: doorbells, two lines each of the VM's PL061 (docs/doorbell.md). */
#define VMM_CONFIG_MAX_DOORBELLS 4u
#define VMM_CONFIG_DOORBELL_LINES 8u
/* The VMM's end of the channel may notify the peer (Microkit 2.3.0 `notify`); without the flag
 * the doorbell only receives and its ring line is not wired. */
#define VMM_CONFIG_DOORBELL_CAN_RING (1u << 0)

/* Version 4: devices the VMM plays over virtio-mmio (virtio 1.2 §4.2.2). */
#define VMM_CONFIG_VIRTIO_NET      1u
#define VMM_CONFIG_VIRTIO_BLOCK    2u
#define VMM_CONFIG_VIRTIO_CONSOLE  3u
#define VMM_CONFIG_VIRTIO_READ_ONLY (1u << 0)   /* block: the guest sees VIRTIO_BLK_F_RO */
#define VMM_CONFIG_VIRTIO_WINDOW   0x1000u      /* one page of guest-physical space each */

/* Version 7: what the VMM does when its guest stops (vmm_lifecycle.h), and the PD that may
 * control it (vmm_control.h). */
#define VMM_CONFIG_RESTART_NEVER      0u
#define VMM_CONFIG_RESTART_ON_FAILURE 1u
#define VMM_CONFIG_RESTART_ALWAYS     2u
#define VMM_CONFIG_RESTARTS_UNLIMITED 0xffffffffu
/* The longest backoff before a restart: one minute. */
#define VMM_CONFIG_MAX_BACKOFF_MS     60000u

/* Flag bits (version 2; version 1 had none). A compressed image is one gzip member (RFC 1952)
 * of `size` bytes in the VMM's address space that unpacks to its `*_unpacked_size` bytes at its
 * guest address; the DTB is small and always stored as is. */
#define VMM_CONFIG_FLAG_KERNEL_GZIP  (1u << 0)
#define VMM_CONFIG_FLAG_INITRD_GZIP  (1u << 1)
/* Version 3: an idle vCPU (WFI, or WFE while a sibling runs) is suspended until it has
 * something to do, woken on time through the timer PD (vmm_wake.h, `wake_slot_vaddr`,
 * `timer_channel`); without the flag it is resumed at once and spins. */
#define VMM_CONFIG_FLAG_IDLE_BLOCK   (1u << 2)
/* Version 6: the image is already at its guest address when the VMM starts (Microkit 2.3.0
 * prefilled regions, src/compile/guest/prefill.ts), so the first boot copies nothing; its
 * `vmm_vaddr` is then a read-only pristine copy to place it from again (a restart), or 0 when
 * the guest has none and cannot be restarted. Never with the *_GZIP flag. */
#define VMM_CONFIG_FLAG_KERNEL_IN_PLACE  (1u << 3)
#define VMM_CONFIG_FLAG_DTB_IN_PLACE     (1u << 4)
#define VMM_CONFIG_FLAG_INITRD_IN_PLACE  (1u << 5)
/* Version 6: the images in place are not mapped into the VMM at all (a guest without virtio
 * devices and without pristine copies: the VMM never needs that memory), so the VMM neither reads
 * nor checks them there; the build checked them (src/compile/load/images.ts). */
#define VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED (1u << 6)
#define VMM_CONFIG_FLAGS_KNOWN       (VMM_CONFIG_FLAG_KERNEL_GZIP | VMM_CONFIG_FLAG_INITRD_GZIP \
                                      | VMM_CONFIG_FLAG_IDLE_BLOCK | VMM_CONFIG_FLAG_KERNEL_IN_PLACE \
                                      | VMM_CONFIG_FLAG_DTB_IN_PLACE \
                                      | VMM_CONFIG_FLAG_INITRD_IN_PLACE \
                                      | VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED)
#define VMM_CONFIG_NO_CHANNEL        0xffu
/* RFC 1952 2.3: a 10-byte header and an 8-byte trailer around the DEFLATE data. */
#define VMM_CONFIG_GZIP_MIN_SIZE     18u

/* Where one boot image sits in the VMM's address space and where it goes in the guest. */
struct vmm_config_image {
    uint64_t vmm_vaddr;
    uint64_t size;          /* bytes stored in the VMM (compressed or not); 0: absent (allowed
                             * for the initrd only) */
    uint64_t guest_addr;
};
_Static_assert(offsetof(struct vmm_config_image, vmm_vaddr) == 0x00, "image layout");
_Static_assert(offsetof(struct vmm_config_image, size) == 0x08, "image layout");
_Static_assert(offsetof(struct vmm_config_image, guest_addr) == 0x10, "image layout");
_Static_assert(sizeof(struct vmm_config_image) == 0x18, "image layout");

/* A device interrupt passed through: the Microkit channel the VMM is notified on, and the
 * interrupt number the guest sees. */
struct vmm_config_irq {
    uint8_t channel;
    uint8_t trigger;        /* VMM_CONFIG_TRIGGER_* */
    uint16_t intid;         /* GIC INTID, an SPI: 32..1019 */
    uint32_t reserved;      /* 0 */
};
_Static_assert(offsetof(struct vmm_config_irq, channel) == 0x0, "irq layout");
_Static_assert(offsetof(struct vmm_config_irq, trigger) == 0x1, "irq layout");
_Static_assert(offsetof(struct vmm_config_irq, intid) == 0x2, "irq layout");
_Static_assert(offsetof(struct vmm_config_irq, reserved) == 0x4, "irq layout");
_Static_assert(sizeof(struct vmm_config_irq) == 0x8, "irq layout");

/* A device the VMM emulates by trapping the guest's accesses to its window. */
struct vmm_config_device {
    uint64_t guest_base;
    uint64_t size;
    uint16_t kind;          /* VMM_CONFIG_DEVICE_* */
    uint16_t intid;         /* 0: no interrupt */
    uint32_t reserved;      /* 0 */
};
_Static_assert(offsetof(struct vmm_config_device, guest_base) == 0x00, "device layout");
_Static_assert(offsetof(struct vmm_config_device, size) == 0x08, "device layout");
_Static_assert(offsetof(struct vmm_config_device, kind) == 0x10, "device layout");
_Static_assert(offsetof(struct vmm_config_device, intid) == 0x12, "device layout");
_Static_assert(offsetof(struct vmm_config_device, reserved) == 0x14, "device layout");
_Static_assert(sizeof(struct vmm_config_device) == 0x18, "device layout");

/*
 * A virtio-mmio device (version 4). The two memory windows mean, per kind:
 *   net:     a = the link ring this VMM sends on, b = the ring it receives on (net_link.h);
 *            channel = the link's channel to the peer; mac; capacity = frames per ring.
 *   block:   a = the disk region (read-write in the VMM), b = the disk image in the VMM's image
 *            segment, copied into a at boot (b_size bytes, at most a_size); b absent (0, 0):
 *            the region holds the image already (version 6: prefilled on Microkit 2.3.0).
 *   console: a = the input UART's registers (0 for output only), channel = its IRQ's channel.
 */
struct vmm_config_virtio {
    uint64_t guest_base;    /* page-aligned, VMM_CONFIG_VIRTIO_WINDOW bytes, unmapped */
    uint16_t intid;         /* the SPI the guest sees */
    uint8_t kind;           /* VMM_CONFIG_VIRTIO_* */
    uint8_t flags;          /* VMM_CONFIG_VIRTIO_READ_ONLY */
    uint8_t channel;        /* VMM_CONFIG_NO_CHANNEL when none */
    uint8_t reserved0[3];   /* 0 */
    uint64_t a_vaddr;
    uint64_t a_size;
    uint64_t b_vaddr;
    uint64_t b_size;
    uint8_t mac[6];
    uint16_t reserved1;     /* 0 */
    uint32_t capacity;
    uint32_t reserved2;     /* 0 */
};
_Static_assert(offsetof(struct vmm_config_virtio, guest_base) == 0x00, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, intid) == 0x08, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, kind) == 0x0a, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, flags) == 0x0b, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, channel) == 0x0c, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, a_vaddr) == 0x10, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, a_size) == 0x18, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, b_vaddr) == 0x20, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, b_size) == 0x28, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, mac) == 0x30, "virtio layout");
_Static_assert(offsetof(struct vmm_config_virtio, capacity) == 0x38, "virtio layout");
_Static_assert(sizeof(struct vmm_config_virtio) == 0x40, "virtio layout");

/*
 * A doorbell (version 5): the channel between this VMM and a peer, seen by the guest as two
 * lines of the PL061 `devices[device]`. A write of 1 to `ring_line` notifies `channel`; a
 * notification on `channel` is a rising edge on `notify_line`.
 */
struct vmm_config_doorbell {
    uint8_t channel;
    uint8_t device;         /* index into devices[], a VMM_CONFIG_DEVICE_PL061 */
    uint8_t ring_line;      /* 0..7; with VMM_CONFIG_DOORBELL_CAN_RING only */
    uint8_t notify_line;    /* 0..7 */
    uint8_t flags;          /* VMM_CONFIG_DOORBELL_* */
    uint8_t reserved[3];    /* 0 */
};
_Static_assert(offsetof(struct vmm_config_doorbell, channel) == 0x0, "doorbell layout");
_Static_assert(offsetof(struct vmm_config_doorbell, device) == 0x1, "doorbell layout");
_Static_assert(offsetof(struct vmm_config_doorbell, ring_line) == 0x2, "doorbell layout");
_Static_assert(offsetof(struct vmm_config_doorbell, notify_line) == 0x3, "doorbell layout");
_Static_assert(offsetof(struct vmm_config_doorbell, flags) == 0x4, "doorbell layout");
_Static_assert(sizeof(struct vmm_config_doorbell) == 0x8, "doorbell layout");

struct vmm_config {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;   /* sizeof(struct vmm_config) for this version */
    uint32_t total_size;    /* bytes covered by the CRC; >= header_size */
    uint32_t crc32;
    char vm_name[VMM_CONFIG_NAME_SIZE];     /* NUL-terminated */
    uint8_t gic_version;    /* 2 or 3 */
    uint8_t vcpu_count;     /* 1..VMM_CONFIG_MAX_VCPUS */
    uint8_t irq_count;
    uint8_t device_count;
    uint32_t flags;
    uint8_t vcpu_ids[VMM_CONFIG_MAX_VCPUS]; /* Microkit child id of each vCPU */
    uint64_t gicd_base;     /* guest-physical distributor */
    uint64_t gicr_base;     /* GICv3: first redistributor (0x20000 per vCPU); GICv2: 0 */
    uint64_t gicc_base;     /* GICv2: CPU interface (the GICV frame is mapped there); GICv3: 0 */
    uint64_t ram_guest_base;
    uint64_t ram_size;
    uint64_t ram_vmm_vaddr; /* where the VMM sees the guest RAM */
    uint64_t entry;         /* guest-physical PC of vCPU 0 */
    struct vmm_config_image kernel;
    struct vmm_config_image dtb;
    struct vmm_config_image initrd;
    struct vmm_config_irq irqs[VMM_CONFIG_MAX_IRQS];
    struct vmm_config_device devices[VMM_CONFIG_MAX_DEVICES];
    /* Version 2: bytes the kernel / initrd unpack to in guest RAM when its *_GZIP flag is set
     * (the output bound and the size the result must have); 0 when stored as is. */
    uint64_t kernel_unpacked_size;
    uint64_t initrd_unpacked_size;
    /* Version 3: with VMM_CONFIG_FLAG_IDLE_BLOCK, where this VMM's wake slot is mapped and the
     * channel to the timer PD; 0 and VMM_CONFIG_NO_CHANNEL without. */
    uint64_t wake_slot_vaddr;
    uint8_t timer_channel;
    uint8_t reserved3[7];   /* 0 */
    /* Version 4: virtio devices. */
    uint8_t virtio_count;
    uint8_t reserved4[7];   /* 0 */
    struct vmm_config_virtio virtio[VMM_CONFIG_MAX_VIRTIO];
    /* Version 5: doorbells. */
    uint8_t doorbell_count;
    uint8_t reserved5[7];   /* 0 */
    struct vmm_config_doorbell doorbells[VMM_CONFIG_MAX_DOORBELLS];
    /* Version 7: the restart policy (VMM_CONFIG_RESTART_*), at most `max_restarts` restarts
     * (VMM_CONFIG_RESTARTS_UNLIMITED) each `backoff_ms` after the stop (needs the wake slot:
     * VMM_CONFIG_FLAG_IDLE_BLOCK); the control page (vmm_control.h) and the channel to the PD
     * that controls the VM: 0 and VMM_CONFIG_NO_CHANNEL when none does. */
    uint8_t restart_policy;
    uint8_t control_channel;
    uint16_t reserved6;     /* 0 */
    uint32_t max_restarts;
    uint32_t backoff_ms;
    uint32_t reserved7;     /* 0 */
    uint64_t control_vaddr;
};
_Static_assert(offsetof(struct vmm_config, magic) == 0x000, "config layout");
_Static_assert(offsetof(struct vmm_config, version) == 0x004, "config layout");
_Static_assert(offsetof(struct vmm_config, header_size) == 0x006, "config layout");
_Static_assert(offsetof(struct vmm_config, total_size) == 0x008, "config layout");
_Static_assert(offsetof(struct vmm_config, crc32) == 0x00c, "config layout");
_Static_assert(offsetof(struct vmm_config, vm_name) == 0x010, "config layout");
_Static_assert(offsetof(struct vmm_config, gic_version) == 0x030, "config layout");
_Static_assert(offsetof(struct vmm_config, vcpu_count) == 0x031, "config layout");
_Static_assert(offsetof(struct vmm_config, irq_count) == 0x032, "config layout");
_Static_assert(offsetof(struct vmm_config, device_count) == 0x033, "config layout");
_Static_assert(offsetof(struct vmm_config, flags) == 0x034, "config layout");
_Static_assert(offsetof(struct vmm_config, vcpu_ids) == 0x038, "config layout");
_Static_assert(offsetof(struct vmm_config, gicd_base) == 0x040, "config layout");
_Static_assert(offsetof(struct vmm_config, gicr_base) == 0x048, "config layout");
_Static_assert(offsetof(struct vmm_config, gicc_base) == 0x050, "config layout");
_Static_assert(offsetof(struct vmm_config, ram_guest_base) == 0x058, "config layout");
_Static_assert(offsetof(struct vmm_config, ram_size) == 0x060, "config layout");
_Static_assert(offsetof(struct vmm_config, ram_vmm_vaddr) == 0x068, "config layout");
_Static_assert(offsetof(struct vmm_config, entry) == 0x070, "config layout");
_Static_assert(offsetof(struct vmm_config, kernel) == 0x078, "config layout");
_Static_assert(offsetof(struct vmm_config, dtb) == 0x090, "config layout");
_Static_assert(offsetof(struct vmm_config, initrd) == 0x0a8, "config layout");
_Static_assert(offsetof(struct vmm_config, irqs) == 0x0c0, "config layout");
_Static_assert(offsetof(struct vmm_config, devices) == 0x1c0, "config layout");
_Static_assert(offsetof(struct vmm_config, kernel_unpacked_size) == 0x220, "config layout");
_Static_assert(offsetof(struct vmm_config, initrd_unpacked_size) == 0x228, "config layout");
_Static_assert(offsetof(struct vmm_config, wake_slot_vaddr) == 0x230, "config layout");
_Static_assert(offsetof(struct vmm_config, timer_channel) == 0x238, "config layout");
_Static_assert(offsetof(struct vmm_config, reserved3) == 0x239, "config layout");
_Static_assert(offsetof(struct vmm_config, virtio_count) == 0x240, "config layout");
_Static_assert(offsetof(struct vmm_config, virtio) == 0x248, "config layout");
_Static_assert(offsetof(struct vmm_config, doorbell_count) == 0x348, "config layout");
_Static_assert(offsetof(struct vmm_config, doorbells) == 0x350, "config layout");
_Static_assert(offsetof(struct vmm_config, restart_policy) == 0x370, "config layout");
_Static_assert(offsetof(struct vmm_config, control_channel) == 0x371, "config layout");
_Static_assert(offsetof(struct vmm_config, reserved6) == 0x372, "config layout");
_Static_assert(offsetof(struct vmm_config, max_restarts) == 0x374, "config layout");
_Static_assert(offsetof(struct vmm_config, backoff_ms) == 0x378, "config layout");
_Static_assert(offsetof(struct vmm_config, reserved7) == 0x37c, "config layout");
_Static_assert(offsetof(struct vmm_config, control_vaddr) == 0x380, "config layout");
_Static_assert(sizeof(struct vmm_config) == 0x388, "config layout");
_Static_assert(sizeof(struct vmm_config) <= VMM_CONFIG_RESERVED_SIZE, "config fits its section");

/* GIC frame sizes the checks use: GICv2 IHI0048B 4.1.2 (4 KiB distributor), GICv3 IHI0069
 * 12.1 (64 KiB distributor; each redistributor is an RD_base and an SGI_base 64 KiB frame). */
#define VMM_GICD_V2_SIZE  0x1000u
#define VMM_GICD_V3_SIZE  0x10000u
#define VMM_GICC_V2_SIZE  0x2000u
#define VMM_GICR_STRIDE   0x20000u

uint32_t vmm_config_crc32(const uint8_t *data, size_t len);

/* The highest INTID a checked config can ever have the VMM raise: its passthrough IRQs, its
 * emulated devices' (PL011s, the doorbells' PL061) and its virtio devices' SPIs; 31 (the
 * private INTIDs only) when it has none. The vGIC advertises no line above it. */
unsigned vmm_config_max_intid(const struct vmm_config *c);

/* Bytes an image occupies in guest RAM: its unpacked size if compressed, else its size. */
uint64_t vmm_config_kernel_guest_size(const struct vmm_config *c);
uint64_t vmm_config_initrd_guest_size(const struct vmm_config *c);

/*
 * Checks a blob of `len` bytes (the reserved section) for the GIC version this runtime was
 * built for. Returns true when every field is sane; otherwise false with one line (no newline)
 * in err naming the first problem.
 */
bool vmm_config_check(const uint8_t *blob, size_t len, unsigned built_gic_version,
                      char *err, size_t err_size);
