/*
 * Cache maintenance by virtual address from EL0. seL4 sets SCTLR_EL1.UCI/UCT for native
 * threads (CONFIG_AARCH64_USER_CACHE_ENABLE), so DC CIVAC, IC IVAU and CTR_EL0 are usable here.
 * Arm ARM D7.5 "Cache maintenance instructions"; line sizes from CTR_EL0 (D19.2).
 */
#include "linux_boot.h"
#include "vmm_string.h"

void guest_cache_clean(const void *p, uint64_t size)
{
    if (size == 0) {
        return;
    }
    uint64_t ctr;
    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    uint64_t dline = 4u << ((ctr >> 16) & 0xfu);   /* DminLine: log2 words */
    uint64_t iline = 4u << (ctr & 0xfu);           /* IminLine: log2 words */
    uint64_t start = (uint64_t)(uintptr_t)p;
    uint64_t end = start + size;

    for (uint64_t a = start & ~(dline - 1); a < end; a += dline) {
        __asm__ volatile("dc civac, %0" : : "r"(a) : "memory");
    }
    __asm__ volatile("dsb sy" : : : "memory");
    for (uint64_t a = start & ~(iline - 1); a < end; a += iline) {
        __asm__ volatile("ic ivau, %0" : : "r"(a) : "memory");
    }
    __asm__ volatile("dsb sy\n\tisb" : : : "memory");
}

void guest_ram_zero(void *p, uint64_t size)
{
    uint64_t dczid;
    __asm__ volatile("mrs %0, dczid_el0" : "=r"(dczid));
    /* DCZID_EL0 (Arm ARM D19.2): DZP set when DC ZVA is prohibited here (SCTLR_EL1.DZE clear
     * for EL0); BS is log2 of the block size in words. */
    uint64_t block = 4u << (dczid & 0xfu);
    uint64_t start = (uint64_t)(uintptr_t)p;
    uint64_t end = start + size;
    if (!(dczid & (1u << 4)) && start % block == 0 && size % block == 0) {
        for (uint64_t a = start; a < end; a += block) {
            __asm__ volatile("dc zva, %0" : : "r"(a) : "memory");
        }
    } else {
        memset(p, 0, size);
    }
    uint64_t ctr;
    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    uint64_t dline = 4u << ((ctr >> 16) & 0xfu);
    for (uint64_t a = start & ~(dline - 1); a < end; a += dline) {
        __asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
    }
    __asm__ volatile("dsb sy" : : : "memory");
}
