#include "harness.h"
#include "fault.h"

/* str w3, [x?] trapped at stage 2: EC 0x24, IL, ISV, SAS = word, SRT = 3, WnR, DFSC L3. */
#define ESR_STR_W3   0x93830047ull
/* ldr w1, [x0]: read, SRT = 1. */
#define ESR_LDR_W1   0x93810007ull
/* ldrsb x5: SAS = byte, SSE, SF, SRT = 5. */
#define ESR_LDRSB_X5 0x93258006ull

static void fault_decodes_fields(void)
{
    struct fault_esr e = fault_decode_esr(ESR_STR_W3);
    CHECK_EQ(e.ec, FAULT_EC_DABT_LOW);
    CHECK(e.il);
    CHECK_EQ(e.iss, 0x1830047u);
    CHECK_CONTAINS(fault_ec_name(e.ec), "DABT_LOW");
}

static void fault_decodes_store(void)
{
    struct fault_data_abort da;
    CHECK(fault_decode_data_abort(ESR_STR_W3, &da));
    CHECK(da.isv);
    CHECK_EQ(da.size, 4);
    CHECK(!da.sign_extend);
    CHECK_EQ(da.srt, 3);
    CHECK(!da.sixty_four);
    CHECK(da.write);
    CHECK(!da.far_not_valid);
    CHECK_EQ(da.dfsc, 7);
    CHECK_CONTAINS(fault_dfsc_name(da.dfsc), "translation fault level 3");
    CHECK_EQ(fault_store_value(&da, 0x1122334455667788ull), 0x55667788u);
}

static void fault_decodes_load(void)
{
    struct fault_data_abort da;
    CHECK(fault_decode_data_abort(ESR_LDR_W1, &da));
    CHECK(!da.write);
    CHECK_EQ(da.srt, 1);
    CHECK_EQ(fault_load_value(&da, 0xdeadbeefcafef00dull), 0xcafef00du);
}

static void fault_sign_extends(void)
{
    struct fault_data_abort da;
    CHECK(fault_decode_data_abort(ESR_LDRSB_X5, &da));
    CHECK_EQ(da.size, 1);
    CHECK(da.sign_extend);
    CHECK(da.sixty_four);
    CHECK_EQ(da.srt, 5);
    CHECK_EQ(fault_load_value(&da, 0x80), 0xffffffffffffff80ull);
    CHECK_EQ(fault_load_value(&da, 0x7f), 0x7f);
    da.sixty_four = false;  /* ldrsb w5: the result is 32 bits wide */
    CHECK_EQ(fault_load_value(&da, 0x80), 0xffffff80ull);
}

static void fault_without_isv(void)
{
    struct fault_data_abort da;
    /* ldp/stp and friends: ISV = 0, the syndrome fields are RES0 and must be ignored. */
    CHECK(fault_decode_data_abort(0x92ff0447ull, &da));
    CHECK(!da.isv);
    CHECK_EQ(da.size, 0);
    CHECK_EQ(da.srt, 0);
    CHECK(da.far_not_valid);
    CHECK(da.write);
}

static void fault_rejects_other_classes(void)
{
    struct fault_data_abort da;
    CHECK(!fault_decode_data_abort(0x5e000000ull, &da));
    struct fault_sysreg sr;
    CHECK(!fault_decode_sysreg(ESR_STR_W3, &sr));
}

static void fault_decodes_wfx_smc_hvc(void)
{
    CHECK_EQ(fault_decode_esr(0x06000000ull).ec, FAULT_EC_WFX);
    CHECK(!fault_wfx_is_wfe(0x06000000ull));
    CHECK(fault_wfx_is_wfe(0x06000001ull));
    CHECK_EQ(fault_decode_esr(0x5e000000ull).ec, FAULT_EC_SMC64);
    CHECK_EQ(fault_decode_esr(0x5a00abcdull).ec, FAULT_EC_HVC64);
    CHECK_EQ(fault_hvc_smc_imm(0x5a00abcdull), 0xabcd);
}

static void fault_decodes_sysreg(void)
{
    /* msr ICC_SGI1R_EL1, x2: op0 3, op1 0, CRn 12, CRm 11, op2 5. */
    struct fault_sysreg sr;
    CHECK(fault_decode_sysreg(0x623a3056ull, &sr));
    CHECK_EQ(sr.op0, 3);
    CHECK_EQ(sr.op1, 0);
    CHECK_EQ(sr.crn, 12);
    CHECK_EQ(sr.crm, 11);
    CHECK_EQ(sr.op2, 5);
    CHECK_EQ(sr.rt, 2);
    CHECK(!sr.read);
}

static void fault_names_every_class(void)
{
    const uint32_t known[] = {
        0x00, 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x0d, 0x0e, 0x11, 0x12, 0x13, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x20, 0x21, 0x22, 0x24, 0x25, 0x26, 0x28, 0x2c, 0x2f, 0x30,
        0x31, 0x32, 0x33, 0x34, 0x35, 0x38, 0x3c,
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        CHECK(strncmp(fault_ec_name(known[i]), "RESERVED", 8) != 0);
    }
    CHECK_CONTAINS(fault_ec_name(0x3f), "RESERVED");
}

HARNESS_SUITE(fault_tests) = {
    { "fault: splits EC, IL, ISS", fault_decodes_fields },
    { "fault: decodes a trapped word store", fault_decodes_store },
    { "fault: decodes a trapped word load", fault_decodes_load },
    { "fault: sign-extends byte loads", fault_sign_extends },
    { "fault: ignores syndrome bits without ISV", fault_without_isv },
    { "fault: rejects other exception classes", fault_rejects_other_classes },
    { "fault: decodes WFI/WFE, SMC and HVC", fault_decodes_wfx_smc_hvc },
    { "fault: decodes a trapped MSR", fault_decodes_sysreg },
    { "fault: names every handled class", fault_names_every_class },
    HARNESS_END,
};
