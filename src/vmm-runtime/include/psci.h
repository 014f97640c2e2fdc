/*
 * PSCI for the guest (Arm DEN0022, "Arm Power State Coordination Interface", 1.0 function
 * set as used by Linux). The pure part decides; the VMM carries out the returned action.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm_config.h"

/* Function ids, DEN0022 5.1 (SMC32 base 0x84000000, SMC64 base 0xC4000000). */
#define PSCI_FN_VERSION             0x84000000u
#define PSCI_FN_CPU_SUSPEND_32      0x84000001u
#define PSCI_FN_CPU_OFF             0x84000002u
#define PSCI_FN_CPU_ON_32           0x84000003u
#define PSCI_FN_AFFINITY_INFO_32    0x84000004u
#define PSCI_FN_MIGRATE_32          0x84000005u
#define PSCI_FN_MIGRATE_INFO_TYPE   0x84000006u
#define PSCI_FN_MIGRATE_INFO_UP_32  0x84000007u
#define PSCI_FN_SYSTEM_OFF          0x84000008u
#define PSCI_FN_SYSTEM_RESET        0x84000009u
#define PSCI_FN_FEATURES            0x8400000au
#define PSCI_FN_CPU_SUSPEND_64      0xc4000001u
#define PSCI_FN_CPU_ON_64           0xc4000003u
#define PSCI_FN_AFFINITY_INFO_64    0xc4000004u
#define PSCI_FN_MIGRATE_64          0xc4000005u
#define PSCI_FN_MIGRATE_INFO_UP_64  0xc4000007u

/* Return codes, DEN0022 5.2.2. */
#define PSCI_SUCCESS             0
#define PSCI_NOT_SUPPORTED      (-1)
#define PSCI_INVALID_PARAMETERS (-2)
#define PSCI_DENIED             (-3)
#define PSCI_ALREADY_ON         (-4)
#define PSCI_ON_PENDING         (-5)
#define PSCI_INTERNAL_FAILURE   (-6)
#define PSCI_NOT_PRESENT        (-7)
#define PSCI_DISABLED           (-8)
#define PSCI_INVALID_ADDRESS    (-9)

/* PSCI_VERSION result: major in [30:16], minor in [15:0]. We implement 1.0. */
#define PSCI_VERSION_1_0         0x00010000u

/* AFFINITY_INFO results, DEN0022 5.7. */
#define PSCI_AFFINITY_ON         0
#define PSCI_AFFINITY_OFF        1

/* MIGRATE_INFO_TYPE result 2: no Trusted OS, migration not needed (DEN0022 5.9). */
#define PSCI_MIGRATE_INFO_NO_TOS 2

enum psci_action {
    PSCI_ACTION_RETURN,         /* write x0 = result and resume the caller */
    PSCI_ACTION_CPU_ON,         /* start target_vcpu at entry with x0 = context_id; x0 = 0 */
    PSCI_ACTION_CPU_OFF,        /* stop the calling vCPU */
    PSCI_ACTION_SYSTEM_OFF,     /* stop every vCPU of the VM */
    PSCI_ACTION_SYSTEM_RESET,   /* restart the VM (the VMM may treat it as off) */
};

/* What PSCI needs to know about the VM. vCPU i has MPIDR affinity Aff0 = i. */
struct psci_vm {
    unsigned vcpu_count;
    bool on[VMM_CONFIG_MAX_VCPUS];
    uint64_t ram_base;
    uint64_t ram_size;
};

struct psci_result {
    enum psci_action action;
    int64_t x0;
    unsigned target_vcpu;
    uint64_t entry;
    uint64_t context_id;
};

/* Handles one PSCI call with function id fid and arguments a1..a3 (x1..x3) from vCPU
 * `caller`. SMC32 ids take their arguments from the low 32 bits. */
struct psci_result psci_call(const struct psci_vm *vm, unsigned caller, uint32_t fid,
                             uint64_t a1, uint64_t a2, uint64_t a3);

/* True for the function ids PSCI owns (standard secure service, DEN0022 5.1). */
bool psci_is_psci_fid(uint32_t fid);

const char *psci_fn_name(uint32_t fid);
