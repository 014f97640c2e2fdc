/*
 * A native PD that only counts: the lowest-priority work of a test system. It never returns from
 * init(); every second of physical-counter time it prints how many loop iterations it ran in
 * that second, so a test can compare its share of the core with and without guests beside it.
 *
 *     counter: 123456 per s
 */
#include <stdint.h>

#include <microkit.h>

static uint64_t counter_now(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
    return v;
}

static void put_u64(uint64_t v)
{
    char digits[21];
    unsigned n = 0;
    do {
        digits[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    char out[22];
    for (unsigned i = 0; i < n; i++) {
        out[i] = digits[n - 1u - i];
    }
    out[n] = '\0';
    microkit_dbg_puts(out);
}

void init(void)
{
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    volatile uint64_t count = 0;
    uint64_t since = counter_now();
    uint64_t at_since = 0;
    for (;;) {
        count = count + 1;
        if ((count & 0x3ffu) != 0) {
            continue;
        }
        uint64_t now = counter_now();
        if (now - since >= frequency) {
            microkit_dbg_puts("counter: ");
            put_u64(count - at_since);
            microkit_dbg_puts(" per s\n");
            since = now;
            at_since = count;
        }
    }
}

void notified(microkit_channel ch)
{
    (void)ch;
}
