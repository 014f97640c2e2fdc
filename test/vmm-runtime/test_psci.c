#include "harness.h"
#include "smc.h"

static struct psci_vm vm2(void)
{
    struct psci_vm vm = { .vcpu_count = 2, .on = { true, false },
                          .ram_base = 0x40000000, .ram_size = 0x10000000 };
    return vm;
}

static struct psci_result call(const struct psci_vm *vm, uint64_t x0, uint64_t x1, uint64_t x2,
                               uint64_t x3)
{
    uint64_t args[8] = { x0, x1, x2, x3, 0, 0, 0, 0 };
    struct psci_result r;
    smc_handle(vm, 0, args, &r);
    return r;
}

static void psci_version_and_features(void)
{
    struct psci_vm vm = vm2();
    struct psci_result r = call(&vm, PSCI_FN_VERSION, 0, 0, 0);
    CHECK_EQ(r.action, PSCI_ACTION_RETURN);
    CHECK_EQ(r.x0, 0x10000);
    CHECK_EQ(call(&vm, PSCI_FN_FEATURES, PSCI_FN_CPU_ON_64, 0, 0).x0, PSCI_SUCCESS);
    CHECK_EQ(call(&vm, PSCI_FN_FEATURES, PSCI_FN_SYSTEM_OFF, 0, 0).x0, PSCI_SUCCESS);
    CHECK_EQ(call(&vm, PSCI_FN_FEATURES, PSCI_FN_CPU_SUSPEND_64, 0, 0).x0,
             (uint64_t)(int64_t)PSCI_NOT_SUPPORTED);
    /* SMCCC_VERSION (arch service) is not PSCI: Linux then assumes SMCCC 1.0. */
    CHECK_EQ(call(&vm, PSCI_FN_FEATURES, 0x80000000u, 0, 0).x0,
             (uint64_t)(int64_t)PSCI_NOT_SUPPORTED);
    CHECK_EQ(call(&vm, PSCI_FN_MIGRATE_INFO_TYPE, 0, 0, 0).x0, 2);
}

static void psci_cpu_on(void)
{
    struct psci_vm vm = vm2();
    struct psci_result r = call(&vm, PSCI_FN_CPU_ON_64, 1, 0x40080000, 0x1234);
    CHECK_EQ(r.action, PSCI_ACTION_CPU_ON);
    CHECK_EQ(r.x0, PSCI_SUCCESS);
    CHECK_EQ(r.target_vcpu, 1);
    CHECK_EQ(r.entry, 0x40080000);
    CHECK_EQ(r.context_id, 0x1234);
    CHECK_EQ(call(&vm, PSCI_FN_CPU_ON_64, 0, 0x40080000, 0).x0,
             (uint64_t)(int64_t)PSCI_ALREADY_ON);
    CHECK_EQ(call(&vm, PSCI_FN_CPU_ON_64, 2, 0x40080000, 0).x0,
             (uint64_t)(int64_t)PSCI_INVALID_PARAMETERS);
    CHECK_EQ(call(&vm, PSCI_FN_CPU_ON_64, 0x100, 0x40080000, 0).x0,
             (uint64_t)(int64_t)PSCI_INVALID_PARAMETERS);
    CHECK_EQ(call(&vm, PSCI_FN_CPU_ON_64, 1, 0x80000000, 0).x0,
             (uint64_t)(int64_t)PSCI_INVALID_ADDRESS);
}

static void psci_smc32_masks_arguments(void)
{
    struct psci_vm vm = vm2();
    /* CPU_ON (SMC32): the upper halves of x1..x3 are not part of the call. */
    struct psci_result r = call(&vm, PSCI_FN_CPU_ON_32, 0xffffffff00000001ull,
                                0xffffffff40080000ull, 0xffffffff00000005ull);
    CHECK_EQ(r.action, PSCI_ACTION_CPU_ON);
    CHECK_EQ(r.entry, 0x40080000);
    CHECK_EQ(r.context_id, 5);
    /* The function id is w0: garbage in the upper half of x0 is ignored. */
    CHECK_EQ(call(&vm, 0xdead000084000000ull, 0, 0, 0).x0, 0x10000);
}

static void psci_affinity_off_reset(void)
{
    struct psci_vm vm = vm2();
    CHECK_EQ(call(&vm, PSCI_FN_AFFINITY_INFO_64, 0, 0, 0).x0, PSCI_AFFINITY_ON);
    CHECK_EQ(call(&vm, PSCI_FN_AFFINITY_INFO_64, 1, 0, 0).x0, PSCI_AFFINITY_OFF);
    CHECK_EQ(call(&vm, PSCI_FN_AFFINITY_INFO_64, 1, 1, 0).x0,
             (uint64_t)(int64_t)PSCI_INVALID_PARAMETERS);
    CHECK_EQ(call(&vm, PSCI_FN_CPU_OFF, 0, 0, 0).action, PSCI_ACTION_CPU_OFF);
    CHECK_EQ(call(&vm, PSCI_FN_SYSTEM_OFF, 0, 0, 0).action, PSCI_ACTION_SYSTEM_OFF);
    CHECK_EQ(call(&vm, PSCI_FN_SYSTEM_RESET, 0, 0, 0).action, PSCI_ACTION_SYSTEM_RESET);
}

static void psci_rest_not_supported(void)
{
    struct psci_vm vm = vm2();
    const uint64_t others[] = {
        PSCI_FN_CPU_SUSPEND_64, PSCI_FN_MIGRATE_64, PSCI_FN_MIGRATE_INFO_UP_64,
        0x8400000eu /* SYSTEM_SUSPEND */, 0x84000012u /* SYSTEM_RESET2 */,
        0x80000000u /* SMCCC_VERSION */, 0xc2000001u /* SiP */, 0x86000000u /* hypervisor */,
        0x04000000u /* yielding call */,
    };
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        struct psci_result r = call(&vm, others[i], 0, 0, 0);
        CHECK_EQ(r.action, PSCI_ACTION_RETURN);
        CHECK_EQ(r.x0, (uint64_t)(int64_t)PSCI_NOT_SUPPORTED);
    }
}

static void smc_decodes_fid(void)
{
    struct smc_fid f = smc_decode_fid(0xc4000003u);
    CHECK(f.fast);
    CHECK(f.smc64);
    CHECK_EQ(f.owner, SMCCC_OWNER_STANDARD);
    CHECK_EQ(f.function, 3);
    CHECK(f.valid);
    CHECK(!smc_decode_fid(0x84010000u).valid);
    CHECK(strcmp(psci_fn_name(PSCI_FN_CPU_ON_32), "CPU_ON") == 0);
}

HARNESS_SUITE(psci_tests) = {
    { "psci: VERSION, FEATURES, MIGRATE_INFO_TYPE", psci_version_and_features },
    { "psci: CPU_ON checks target, state and address", psci_cpu_on },
    { "psci: SMC32 calls use 32-bit arguments", psci_smc32_masks_arguments },
    { "psci: AFFINITY_INFO, CPU_OFF, SYSTEM_OFF, SYSTEM_RESET", psci_affinity_off_reset },
    { "psci: everything else is NOT_SUPPORTED", psci_rest_not_supported },
    { "smc: decodes SMCCC function ids", smc_decodes_fid },
    HARNESS_END,
};
