/*
 * The timer PD's configuration blob (program timer/timer.c): which time source it drives and
 * which VMMs it serves. Like the VMM's (vmm_config.h), TypeScript computes every value
 * (src/compile/emit/timer-config.ts) and the link step writes the bytes into the
 * `.timer_config` section; the C side only reads and checks them.
 *
 * Layout: little-endian, naturally aligned, offsets pinned below; the CRC-32 (as in
 * vmm_config.h) covers `total_size` bytes with the `crc32` field taken as zero.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "microkit_limits.h"
#include "vmm_wake.h"

#define TIMER_CONFIG_SECTION       ".timer_config"
#define TIMER_CONFIG_SYMBOL        timer_config_blob
#define TIMER_CONFIG_RESERVED_SIZE 4096u
/* 'S' '4' 'T' 'M' in memory order, read as a little-endian u32. */
#define TIMER_CONFIG_MAGIC         0x4d543453u
#define TIMER_CONFIG_VERSION       1u

/*
 * Time sources.
 *  ARM_PTIMER: the EL1 physical timer (CNTP_CVAL_EL0/CNTP_CTL_EL0, its PPI delivered on
 *      `irq_channel`); needs a kernel built with KernelArmExportPTMRUser. Exact deadlines.
 *  SCHED_TICK: no device at all. The PD runs on a sporadic scheduling context (budget below
 *      period, set in the .system) and, while a deadline is pending, gives up its budget with
 *      seL4_Yield, which on MCS postpones it to its next replenishment one period later; it then
 *      checks the counter. Deadlines are met within one period.
 */
#define TIMER_SOURCE_ARM_PTIMER    1u
#define TIMER_SOURCE_SCHED_TICK    2u

#define TIMER_CONFIG_NO_CHANNEL    0xffu

struct timer_config_client {
    uint64_t slot_vaddr;    /* where the client's wake slot is mapped (read-only) here */
    uint8_t channel;        /* the channel to that VMM */
    uint8_t reserved[7];    /* 0 */
};
_Static_assert(offsetof(struct timer_config_client, slot_vaddr) == 0x0, "client layout");
_Static_assert(offsetof(struct timer_config_client, channel) == 0x8, "client layout");
_Static_assert(sizeof(struct timer_config_client) == 0x10, "client layout");

struct timer_config {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;   /* sizeof(struct timer_config) for this version */
    uint32_t total_size;    /* bytes covered by the CRC; >= header_size */
    uint32_t crc32;
    uint8_t source;         /* TIMER_SOURCE_* */
    uint8_t irq_channel;    /* ARM_PTIMER: the timer PPI's channel; else TIMER_CONFIG_NO_CHANNEL */
    uint8_t client_count;   /* 1..WAKE_MAX_CLIENTS */
    uint8_t reserved0;
    uint32_t tick_us;       /* SCHED_TICK: the period the .system gives this PD (for log lines) */
    struct timer_config_client clients[WAKE_MAX_CLIENTS];
};
_Static_assert(offsetof(struct timer_config, magic) == 0x00, "timer config layout");
_Static_assert(offsetof(struct timer_config, version) == 0x04, "timer config layout");
_Static_assert(offsetof(struct timer_config, header_size) == 0x06, "timer config layout");
_Static_assert(offsetof(struct timer_config, total_size) == 0x08, "timer config layout");
_Static_assert(offsetof(struct timer_config, crc32) == 0x0c, "timer config layout");
_Static_assert(offsetof(struct timer_config, source) == 0x10, "timer config layout");
_Static_assert(offsetof(struct timer_config, irq_channel) == 0x11, "timer config layout");
_Static_assert(offsetof(struct timer_config, client_count) == 0x12, "timer config layout");
_Static_assert(offsetof(struct timer_config, reserved0) == 0x13, "timer config layout");
_Static_assert(offsetof(struct timer_config, tick_us) == 0x14, "timer config layout");
_Static_assert(offsetof(struct timer_config, clients) == 0x18, "timer config layout");
_Static_assert(sizeof(struct timer_config) == 0x3e8, "timer config layout");
_Static_assert(sizeof(struct timer_config) <= TIMER_CONFIG_RESERVED_SIZE, "config fits its section");

/*
 * Checks a blob of `len` bytes (the reserved section). Returns true when every field is sane;
 * otherwise false with one line in err naming the first problem.
 */
bool timer_config_check(const uint8_t *blob, size_t len, char *err, size_t err_size);
