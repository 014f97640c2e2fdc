/*
 * Decoding of the syndrome (ESR_EL2, which seL4 reports as the VCPUFault HSR and as the
 * VMFault FSR of a vCPU thread). Field positions: Arm ARM (DDI 0487) D19.2 "ESR_EL2".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* ESR_EL2.EC values (Arm ARM D19.2, ESR_EL2 "EC, bits [31:26]"). */
#define FAULT_EC_UNKNOWN        0x00u
#define FAULT_EC_WFX            0x01u
#define FAULT_EC_CP15_32        0x03u
#define FAULT_EC_CP15_64        0x04u
#define FAULT_EC_CP14_32        0x05u
#define FAULT_EC_CP14_LS        0x06u
#define FAULT_EC_FP_ASIMD       0x07u
#define FAULT_EC_CP14_64        0x0cu
#define FAULT_EC_BTI            0x0du
#define FAULT_EC_ILLEGAL_STATE  0x0eu
#define FAULT_EC_SVC32          0x11u
#define FAULT_EC_HVC32          0x12u
#define FAULT_EC_SMC32          0x13u
#define FAULT_EC_SVC64          0x15u
#define FAULT_EC_HVC64          0x16u
#define FAULT_EC_SMC64          0x17u
#define FAULT_EC_SYSREG         0x18u
#define FAULT_EC_SVE            0x19u
#define FAULT_EC_IABT_LOW       0x20u
#define FAULT_EC_IABT_CUR       0x21u
#define FAULT_EC_PC_ALIGN       0x22u
#define FAULT_EC_DABT_LOW       0x24u
#define FAULT_EC_DABT_CUR       0x25u
#define FAULT_EC_SP_ALIGN       0x26u
#define FAULT_EC_FP32           0x28u
#define FAULT_EC_FP64           0x2cu
#define FAULT_EC_SERROR         0x2fu
#define FAULT_EC_BREAKPT_LOW    0x30u
#define FAULT_EC_BREAKPT_CUR    0x31u
#define FAULT_EC_SOFTSTP_LOW    0x32u
#define FAULT_EC_SOFTSTP_CUR    0x33u
#define FAULT_EC_WATCHPT_LOW    0x34u
#define FAULT_EC_WATCHPT_CUR    0x35u
#define FAULT_EC_BKPT32         0x38u
#define FAULT_EC_BRK64          0x3cu

struct fault_esr {
    uint32_t ec;    /* bits [31:26] */
    bool il;        /* bit 25: 32-bit instruction */
    uint32_t iss;   /* bits [24:0] */
};

/* A data abort's instruction syndrome (ISS encoding for an exception from a Data Abort). */
struct fault_data_abort {
    bool isv;           /* bit 24: bits [23:14] hold a valid syndrome */
    unsigned size;      /* SAS, bits [23:22]: access size in bytes (1, 2, 4, 8) */
    bool sign_extend;   /* SSE, bit 21 */
    unsigned srt;       /* SRT, bits [20:16]: transfer register (31 = XZR) */
    bool sixty_four;    /* SF, bit 15: 64-bit register */
    bool acquire_release; /* AR, bit 14 */
    bool far_not_valid; /* FnV, bit 10 */
    bool external;      /* EA, bit 9 */
    bool cache_maint;   /* CM, bit 8 */
    bool s1ptw;         /* S1PTW, bit 7: stage-2 fault on a stage-1 table walk */
    bool write;         /* WnR, bit 6 */
    unsigned dfsc;      /* bits [5:0] */
};

/* A trapped MSR/MRS (EC 0x18; Arm ARM D19.2 "ISS encoding for an exception from MSR, MRS,
 * or System instruction execution in AArch64 state"). */
struct fault_sysreg {
    unsigned op0, op1, crn, crm, op2;
    unsigned rt;
    bool read;          /* Direction, bit 0: 1 = MRS */
};

struct fault_esr fault_decode_esr(uint64_t esr);

/* Name of an exception class, e.g. "DABT_LOW (data abort from a lower EL)"; never NULL. */
const char *fault_ec_name(uint32_t ec);

/* Fills *out from a data abort's ESR. Returns false when esr is not a data abort from a
 * lower EL. out->isv tells whether the access can be emulated. */
bool fault_decode_data_abort(uint64_t esr, struct fault_data_abort *out);

bool fault_decode_sysreg(uint64_t esr, struct fault_sysreg *out);

/* WFx: true for WFE, false for WFI (ISS bit 0, "TI"). */
bool fault_wfx_is_wfe(uint64_t esr);

/* The immediate of an HVC or SMC (ISS bits [15:0]). */
uint16_t fault_hvc_smc_imm(uint64_t esr);

/* Data fault status code name for the common cases ("translation fault level 2", ...). */
const char *fault_dfsc_name(unsigned dfsc);

/*
 * Value a load of `size` bytes (sign-extended if asked) leaves in a register: the register
 * width is 64 bits if sixty_four, else 32 bits with the top half cleared.
 */
uint64_t fault_load_value(const struct fault_data_abort *da, uint64_t raw);

/* Bytes of a register a store of da->size bytes writes. */
uint64_t fault_store_value(const struct fault_data_abort *da, uint64_t reg);
