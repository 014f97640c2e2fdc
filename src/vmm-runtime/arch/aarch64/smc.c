/* SMCCC function-id decoding and routing (Arm DEN0028). */
#include "smc.h"

struct smc_fid smc_decode_fid(uint64_t x0)
{
    uint32_t fid = (uint32_t)x0;
    struct smc_fid out = {
        .fast = (fid >> 31) != 0,
        .smc64 = ((fid >> 30) & 1u) != 0,
        .owner = (fid >> 24) & 0x3fu,
        .function = fid & 0xffffu,
        .valid = ((fid >> 16) & 0xffu) == 0,
    };
    return out;
}

void smc_handle(const struct psci_vm *vm, unsigned caller, const uint64_t args[8],
                struct psci_result *result)
{
    /* DEN0028 2.6: the function id is w0; the upper half of x0 is ignored. */
    uint32_t fid = (uint32_t)args[0];
    struct smc_fid f = smc_decode_fid(fid);
    if (f.fast && f.valid && f.owner == SMCCC_OWNER_STANDARD && psci_is_psci_fid(fid)) {
        *result = psci_call(vm, caller, fid, args[1], args[2], args[3]);
        return;
    }
    struct psci_result r = { .action = PSCI_ACTION_RETURN, .x0 = SMCCC_RET_NOT_SUPPORTED };
    *result = r;
}
