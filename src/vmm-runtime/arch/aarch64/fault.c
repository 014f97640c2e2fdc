/* ESR_EL2 decoding; field positions from the Arm ARM (DDI 0487) D19.2, ESR_EL2. */
#include "fault.h"

struct fault_esr fault_decode_esr(uint64_t esr)
{
    struct fault_esr out = {
        .ec = (uint32_t)(esr >> 26) & 0x3fu,
        .il = ((esr >> 25) & 1u) != 0,
        .iss = (uint32_t)esr & 0x1ffffffu,
    };
    return out;
}

const char *fault_ec_name(uint32_t ec)
{
    switch (ec) {
    case FAULT_EC_UNKNOWN:       return "UNKNOWN (unknown reason)";
    case FAULT_EC_WFX:           return "WFX (trapped WFI/WFE)";
    case FAULT_EC_CP15_32:       return "CP15_32 (trapped AArch32 MCR/MRC cp15)";
    case FAULT_EC_CP15_64:       return "CP15_64 (trapped AArch32 MCRR/MRRC cp15)";
    case FAULT_EC_CP14_32:       return "CP14_32 (trapped AArch32 MCR/MRC cp14)";
    case FAULT_EC_CP14_LS:       return "CP14_LS (trapped AArch32 LDC/STC)";
    case FAULT_EC_FP_ASIMD:      return "FP_ASIMD (trapped SIMD/FP access)";
    case FAULT_EC_CP14_64:       return "CP14_64 (trapped AArch32 MRRC cp14)";
    case FAULT_EC_BTI:           return "BTI (branch target exception)";
    case FAULT_EC_ILLEGAL_STATE: return "ILLEGAL_STATE (illegal execution state)";
    case FAULT_EC_SVC32:         return "SVC32 (AArch32 SVC)";
    case FAULT_EC_HVC32:         return "HVC32 (AArch32 HVC)";
    case FAULT_EC_SMC32:         return "SMC32 (AArch32 SMC)";
    case FAULT_EC_SVC64:         return "SVC64 (AArch64 SVC)";
    case FAULT_EC_HVC64:         return "HVC64 (AArch64 HVC)";
    case FAULT_EC_SMC64:         return "SMC64 (AArch64 SMC)";
    case FAULT_EC_SYSREG:        return "SYSREG (trapped MSR/MRS/system instruction)";
    case FAULT_EC_SVE:           return "SVE (trapped SVE access)";
    case FAULT_EC_IABT_LOW:      return "IABT_LOW (instruction abort from a lower EL)";
    case FAULT_EC_IABT_CUR:      return "IABT_CUR (instruction abort at the same EL)";
    case FAULT_EC_PC_ALIGN:      return "PC_ALIGN (PC alignment fault)";
    case FAULT_EC_DABT_LOW:      return "DABT_LOW (data abort from a lower EL)";
    case FAULT_EC_DABT_CUR:      return "DABT_CUR (data abort at the same EL)";
    case FAULT_EC_SP_ALIGN:      return "SP_ALIGN (SP alignment fault)";
    case FAULT_EC_FP32:          return "FP32 (AArch32 floating-point exception)";
    case FAULT_EC_FP64:          return "FP64 (AArch64 floating-point exception)";
    case FAULT_EC_SERROR:        return "SERROR (SError interrupt)";
    case FAULT_EC_BREAKPT_LOW:   return "BREAKPT_LOW (breakpoint from a lower EL)";
    case FAULT_EC_BREAKPT_CUR:   return "BREAKPT_CUR (breakpoint at the same EL)";
    case FAULT_EC_SOFTSTP_LOW:   return "SOFTSTP_LOW (software step from a lower EL)";
    case FAULT_EC_SOFTSTP_CUR:   return "SOFTSTP_CUR (software step at the same EL)";
    case FAULT_EC_WATCHPT_LOW:   return "WATCHPT_LOW (watchpoint from a lower EL)";
    case FAULT_EC_WATCHPT_CUR:   return "WATCHPT_CUR (watchpoint at the same EL)";
    case FAULT_EC_BKPT32:        return "BKPT32 (AArch32 BKPT)";
    case FAULT_EC_BRK64:         return "BRK64 (AArch64 BRK)";
    default:                     return "RESERVED (unallocated exception class)";
    }
}

bool fault_decode_data_abort(uint64_t esr, struct fault_data_abort *out)
{
    struct fault_esr e = fault_decode_esr(esr);
    if (e.ec != FAULT_EC_DABT_LOW) {
        return false;
    }
    uint32_t iss = e.iss;
    out->isv = ((iss >> 24) & 1u) != 0;
    out->size = 1u << ((iss >> 22) & 3u);
    out->sign_extend = ((iss >> 21) & 1u) != 0;
    out->srt = (iss >> 16) & 0x1fu;
    out->sixty_four = ((iss >> 15) & 1u) != 0;
    out->acquire_release = ((iss >> 14) & 1u) != 0;
    out->far_not_valid = ((iss >> 10) & 1u) != 0;
    out->external = ((iss >> 9) & 1u) != 0;
    out->cache_maint = ((iss >> 8) & 1u) != 0;
    out->s1ptw = ((iss >> 7) & 1u) != 0;
    out->write = ((iss >> 6) & 1u) != 0;
    out->dfsc = iss & 0x3fu;
    if (!out->isv) {
        /* Bits [23:14] are RES0 without ISV; do not let a reader act on them. */
        out->size = 0;
        out->sign_extend = false;
        out->srt = 0;
        out->sixty_four = false;
        out->acquire_release = false;
    }
    return true;
}

bool fault_decode_sysreg(uint64_t esr, struct fault_sysreg *out)
{
    struct fault_esr e = fault_decode_esr(esr);
    if (e.ec != FAULT_EC_SYSREG) {
        return false;
    }
    out->op0 = (e.iss >> 20) & 3u;
    out->op2 = (e.iss >> 17) & 7u;
    out->op1 = (e.iss >> 14) & 7u;
    out->crn = (e.iss >> 10) & 0xfu;
    out->rt = (e.iss >> 5) & 0x1fu;
    out->crm = (e.iss >> 1) & 0xfu;
    out->read = (e.iss & 1u) != 0;
    return true;
}

bool fault_wfx_is_wfe(uint64_t esr)
{
    return (esr & 1u) != 0;
}

uint16_t fault_hvc_smc_imm(uint64_t esr)
{
    return (uint16_t)(esr & 0xffffu);
}

const char *fault_dfsc_name(unsigned dfsc)
{
    switch (dfsc) {
    case 0x00: return "address size fault level 0";
    case 0x01: return "address size fault level 1";
    case 0x02: return "address size fault level 2";
    case 0x03: return "address size fault level 3";
    case 0x04: return "translation fault level 0";
    case 0x05: return "translation fault level 1";
    case 0x06: return "translation fault level 2";
    case 0x07: return "translation fault level 3";
    case 0x09: return "access flag fault level 1";
    case 0x0a: return "access flag fault level 2";
    case 0x0b: return "access flag fault level 3";
    case 0x0d: return "permission fault level 1";
    case 0x0e: return "permission fault level 2";
    case 0x0f: return "permission fault level 3";
    case 0x10: return "synchronous external abort";
    case 0x21: return "alignment fault";
    default:   return "other fault status";
    }
}

uint64_t fault_load_value(const struct fault_data_abort *da, uint64_t raw)
{
    unsigned bits = da->size * 8u;
    uint64_t value = bits >= 64 ? raw : raw & ((1ull << bits) - 1u);
    if (da->sign_extend && bits < 64 && (value >> (bits - 1u)) & 1u) {
        value |= ~0ull << bits;
    }
    if (!da->sixty_four) {
        value &= 0xffffffffull;
    }
    return value;
}

uint64_t fault_store_value(const struct fault_data_abort *da, uint64_t reg)
{
    unsigned bits = da->size * 8u;
    return bits >= 64 ? reg : reg & ((1ull << bits) - 1u);
}
