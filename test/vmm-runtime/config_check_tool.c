/*
 * Host checker: runs the runtime's start-up check on a blob file, the way the VMM (or the timer
 * PD) does. Usage: vmm-config-check FILE GIC_VERSION for a VMM blob, vmm-config-check FILE timer
 * for a timer PD blob. Prints "ok" or the rejection line the program would print; exits 0 or 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timer_config.h"
#include "vmm_config.h"

void vmm_log_sink(const char *s)
{
    fputs(s, stdout);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FILE GIC_VERSION|timer\n", argv[0]);
        return 2;
    }
    static uint8_t blob[VMM_CONFIG_RESERVED_SIZE];
    _Static_assert(TIMER_CONFIG_RESERVED_SIZE == VMM_CONFIG_RESERVED_SIZE, "one buffer fits both");
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    size_t n = fread(blob, 1, sizeof(blob), f);
    fclose(f);
    (void)n;    /* the section is always the full reserved size, zero-padded */
    char err[256];
    if (strcmp(argv[2], "timer") == 0) {
        if (!timer_config_check(blob, sizeof(blob), err, sizeof(err))) {
            printf("vmm_timer: config blob rejected: %s\n", err);
            return 1;
        }
        printf("ok\n");
        return 0;
    }
    if (!vmm_config_check(blob, sizeof(blob), (unsigned)atoi(argv[2]), err, sizeof(err))) {
        printf("vmm: config blob rejected: %s\n", err);
        return 1;
    }
    printf("ok\n");
    return 0;
}
