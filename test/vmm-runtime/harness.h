/* A minimal test harness for the runtime's host tests: no external framework. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern unsigned harness_checks;
extern unsigned harness_failures;
extern const char *harness_current;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        harness_checks++;                                                                  \
        if (!(cond)) {                                                                     \
            harness_failures++;                                                            \
            fprintf(stderr, "FAIL %s (%s:%d): %s\n", harness_current, __FILE__, __LINE__, \
                    #cond);                                                                \
        }                                                                                  \
    } while (0)

#define CHECK_EQ(a, b)                                                                     \
    do {                                                                                   \
        unsigned long long check_a_ = (unsigned long long)(a);                             \
        unsigned long long check_b_ = (unsigned long long)(b);                             \
        harness_checks++;                                                                  \
        if (check_a_ != check_b_) {                                                        \
            harness_failures++;                                                            \
            fprintf(stderr, "FAIL %s (%s:%d): %s == %s: 0x%llx != 0x%llx\n",               \
                    harness_current, __FILE__, __LINE__, #a, #b, check_a_, check_b_);      \
        }                                                                                  \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                   \
    do {                                                                                   \
        harness_checks++;                                                                  \
        if (strstr((haystack), (needle)) == NULL) {                                        \
            harness_failures++;                                                            \
            fprintf(stderr, "FAIL %s (%s:%d): '%s' does not contain '%s'\n",               \
                    harness_current, __FILE__, __LINE__, (haystack), (needle));            \
        }                                                                                  \
    } while (0)

typedef void (*harness_fn)(void);

struct harness_test {
    const char *name;
    harness_fn fn;
};

/* Each test file exports a table of its tests. */
#define HARNESS_SUITE(name) const struct harness_test name[]
#define HARNESS_END { NULL, NULL }

/* Host stubs shared by the tests. */
extern char harness_log[8192];
void harness_log_clear(void);
extern unsigned harness_cache_cleans;

/* vGIC ops whose injection always succeeds, for tests that build a vGIC but watch its state. */
struct vgic_ops;
extern const struct vgic_ops harness_vgic_ops;

/* xorshift32 (Marsaglia 2003): a fixed sequence from a fixed seed, so a randomised test that
 * fails fails again the same way. */
static inline uint32_t harness_xorshift32(uint32_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}
