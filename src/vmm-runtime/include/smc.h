/*
 * SMC Calling Convention (Arm DEN0028) routing of a guest SMC or HVC: function id in w0,
 * arguments in x1..x6, results in x0..x3. PSCI is the only service we provide; every other
 * call gets SMCCC_RET_NOT_SUPPORTED.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "psci.h"

/* DEN0028 2.5: Unknown function identifier. */
#define SMCCC_RET_NOT_SUPPORTED (-1)

/* Owning entity numbers, DEN0028 table 6-1 (bits [29:24]). */
#define SMCCC_OWNER_ARCH        0u
#define SMCCC_OWNER_CPU         1u
#define SMCCC_OWNER_SIP         2u
#define SMCCC_OWNER_OEM         3u
#define SMCCC_OWNER_STANDARD    4u
#define SMCCC_OWNER_HYPERVISOR  5u

struct smc_fid {
    bool fast;          /* bit 31: fast call */
    bool smc64;         /* bit 30: SMC64/HVC64 calling convention */
    unsigned owner;     /* bits [29:24] */
    unsigned function;  /* bits [15:0] */
    bool valid;         /* bits [23:16] are zero, as DEN0028 requires for fast calls */
};

struct smc_fid smc_decode_fid(uint64_t x0);

/* Routes one call. args[0..7] are x0..x7. On return *result says what to do; for calls we
 * do not implement it is a RETURN with x0 = SMCCC_RET_NOT_SUPPORTED. */
void smc_handle(const struct psci_vm *vm, unsigned caller, const uint64_t args[8],
                struct psci_result *result);
