/* Runs every host test suite; prints one line per test and a summary, exits 1 on failure. */
#include "harness.h"

#include <stdlib.h>

#include "linux_boot.h"
#include "vmm_fmt.h"
#include "vgic.h"

unsigned harness_checks;
unsigned harness_failures;
const char *harness_current = "";
char harness_log[8192];
unsigned harness_cache_cleans;

static bool harness_inject(void *ctx, unsigned vcpu, unsigned lr, uint16_t intid, uint8_t priority,
                           uint8_t group)
{
    (void)ctx;
    (void)vcpu;
    (void)lr;
    (void)intid;
    (void)priority;
    (void)group;
    return true;
}

const struct vgic_ops harness_vgic_ops = { harness_inject };

void harness_log_clear(void)
{
    harness_log[0] = '\0';
}

void vmm_log_sink(const char *s)
{
    size_t used = strlen(harness_log);
    snprintf(harness_log + used, sizeof(harness_log) - used, "%s", s);
}

void guest_cache_clean(const void *p, uint64_t size)
{
    (void)p;
    (void)size;
    harness_cache_cleans++;
}

extern const struct harness_test fmt_tests[];
extern const struct harness_test config_tests[];
extern const struct harness_test fault_tests[];
extern const struct harness_test psci_tests[];
extern const struct harness_test linux_boot_tests[];
extern const struct harness_test vgic_tests[];
extern const struct harness_test pl011_tests[];
extern const struct harness_test inflate_tests[];
extern const struct harness_test idle_tests[];
extern const struct harness_test virtio_tests[];
extern const struct harness_test virtio_dev_tests[];
extern const struct harness_test virtio_link_tests[];
extern const struct harness_test mmio_bus_tests[];
extern const struct harness_test vmm_mmio_tests[];
extern const struct harness_test doorbell_tests[];
extern const struct harness_test lifecycle_tests[];

int main(void)
{
    const struct harness_test *suites[] = {
        fmt_tests, config_tests, fault_tests, psci_tests, linux_boot_tests, vgic_tests, pl011_tests,
        inflate_tests, idle_tests, virtio_tests, virtio_dev_tests, virtio_link_tests, mmio_bus_tests,
        vmm_mmio_tests, doorbell_tests,
        lifecycle_tests,
    };
    unsigned tests = 0;
    unsigned failed_tests = 0;
    for (size_t s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
        for (const struct harness_test *t = suites[s]; t->name != NULL; t++) {
            unsigned before = harness_failures;
            harness_current = t->name;
            harness_log_clear();
            t->fn();
            tests++;
            if (harness_failures != before) {
                failed_tests++;
                printf("not ok %s\n", t->name);
            } else {
                printf("ok %s\n", t->name);
            }
        }
    }
    printf("%s: %u tests, %u checks, %u failed tests\n", HOST_TEST_NAME, tests, harness_checks,
           failed_tests);
    return failed_tests == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
