/* PSCI 1.0 decisions (Arm DEN0022); the VMM applies the resulting action. */
#include "psci.h"

bool psci_is_psci_fid(uint32_t fid)
{
    /* Fast calls to the standard secure service (owner 4), function numbers 0x00..0x1f. */
    return (fid & 0xbfffffe0u) == 0x84000000u;
}

const char *psci_fn_name(uint32_t fid)
{
    switch (fid) {
    case PSCI_FN_VERSION:           return "PSCI_VERSION";
    case PSCI_FN_CPU_SUSPEND_32:
    case PSCI_FN_CPU_SUSPEND_64:    return "CPU_SUSPEND";
    case PSCI_FN_CPU_OFF:           return "CPU_OFF";
    case PSCI_FN_CPU_ON_32:
    case PSCI_FN_CPU_ON_64:         return "CPU_ON";
    case PSCI_FN_AFFINITY_INFO_32:
    case PSCI_FN_AFFINITY_INFO_64:  return "AFFINITY_INFO";
    case PSCI_FN_MIGRATE_32:
    case PSCI_FN_MIGRATE_64:        return "MIGRATE";
    case PSCI_FN_MIGRATE_INFO_TYPE: return "MIGRATE_INFO_TYPE";
    case PSCI_FN_MIGRATE_INFO_UP_32:
    case PSCI_FN_MIGRATE_INFO_UP_64: return "MIGRATE_INFO_UP_CPU";
    case PSCI_FN_SYSTEM_OFF:        return "SYSTEM_OFF";
    case PSCI_FN_SYSTEM_RESET:      return "SYSTEM_RESET";
    case PSCI_FN_FEATURES:          return "PSCI_FEATURES";
    default:                        return "unknown PSCI function";
    }
}

static struct psci_result ret(int64_t x0)
{
    struct psci_result r = { .action = PSCI_ACTION_RETURN, .x0 = x0 };
    return r;
}

static bool implemented(uint32_t fid)
{
    switch (fid) {
    case PSCI_FN_VERSION:
    case PSCI_FN_CPU_OFF:
    case PSCI_FN_CPU_ON_32:
    case PSCI_FN_CPU_ON_64:
    case PSCI_FN_AFFINITY_INFO_32:
    case PSCI_FN_AFFINITY_INFO_64:
    case PSCI_FN_MIGRATE_INFO_TYPE:
    case PSCI_FN_SYSTEM_OFF:
    case PSCI_FN_SYSTEM_RESET:
    case PSCI_FN_FEATURES:
        return true;
    default:
        return false;
    }
}

/* Our vCPUs have MPIDR Aff0 = index and Aff1..Aff3 = 0. */
static bool mpidr_to_vcpu(const struct psci_vm *vm, uint64_t mpidr, unsigned *out)
{
    uint64_t aff = mpidr & 0xff00ffffffull;
    if (aff >= vm->vcpu_count) {
        return false;
    }
    *out = (unsigned)aff;
    return true;
}

struct psci_result psci_call(const struct psci_vm *vm, unsigned caller, uint32_t fid,
                             uint64_t a1, uint64_t a2, uint64_t a3)
{
    /* SMC32 calls pass 32-bit arguments in W registers (SMCCC DEN0028 2.6). */
    if ((fid & 0x40000000u) == 0) {
        a1 &= 0xffffffffu;
        a2 &= 0xffffffffu;
        a3 &= 0xffffffffu;
    }
    switch (fid) {
    case PSCI_FN_VERSION:
        return ret(PSCI_VERSION_1_0);
    case PSCI_FN_FEATURES: {
        uint32_t queried = (uint32_t)a1;
        return ret(implemented(queried) ? PSCI_SUCCESS : PSCI_NOT_SUPPORTED);
    }
    case PSCI_FN_MIGRATE_INFO_TYPE:
        return ret(PSCI_MIGRATE_INFO_NO_TOS);
    case PSCI_FN_CPU_OFF: {
        struct psci_result r = ret(PSCI_SUCCESS);
        r.action = PSCI_ACTION_CPU_OFF;
        r.target_vcpu = caller;
        return r;
    }
    case PSCI_FN_CPU_ON_32:
    case PSCI_FN_CPU_ON_64: {
        unsigned target;
        if (!mpidr_to_vcpu(vm, a1, &target)) {
            return ret(PSCI_INVALID_PARAMETERS);
        }
        if (vm->on[target]) {
            return ret(PSCI_ALREADY_ON);
        }
        if (a2 < vm->ram_base || a2 - vm->ram_base >= vm->ram_size || (a2 & 3u) != 0) {
            return ret(PSCI_INVALID_ADDRESS);
        }
        struct psci_result r = ret(PSCI_SUCCESS);
        r.action = PSCI_ACTION_CPU_ON;
        r.target_vcpu = target;
        r.entry = a2;
        r.context_id = a3;
        return r;
    }
    case PSCI_FN_AFFINITY_INFO_32:
    case PSCI_FN_AFFINITY_INFO_64: {
        unsigned target;
        /* Only level 0 (a single core) is meaningful for our flat topology. */
        if (a2 != 0 || !mpidr_to_vcpu(vm, a1, &target)) {
            return ret(PSCI_INVALID_PARAMETERS);
        }
        return ret(vm->on[target] ? PSCI_AFFINITY_ON : PSCI_AFFINITY_OFF);
    }
    case PSCI_FN_SYSTEM_OFF: {
        struct psci_result r = ret(PSCI_SUCCESS);
        r.action = PSCI_ACTION_SYSTEM_OFF;
        return r;
    }
    case PSCI_FN_SYSTEM_RESET: {
        struct psci_result r = ret(PSCI_SUCCESS);
        r.action = PSCI_ACTION_SYSTEM_RESET;
        return r;
    }
    default:
        return ret(PSCI_NOT_SUPPORTED);
    }
}
