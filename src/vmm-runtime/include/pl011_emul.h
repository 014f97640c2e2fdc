/*
 * An emulated PL011 UART for a VM that does not own the real one (QEMU's virt machine has a
 * single PL011). Register map: ARM PrimeCell UART (PL011) TRM, DDI 0183G, 3.2. Output goes
 * to the VMM's console one line at a time, prefixed with the VM's name; there is no input
 * (the receive FIFO is always empty).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PL011_LINE_MAX 160u

struct pl011 {
    const char *name;       /* prefix for output lines */
    uint32_t cr, lcr_h, ibrd, fbrd, ifls, imsc, dmacr, ilpr;
    char line[PL011_LINE_MAX + 1];
    unsigned line_len;
    unsigned long chars_out;
};

enum pl011_status {
    PL011_OK,
    PL011_BAD_ACCESS,       /* width other than 1/2/4, misaligned, or outside the 4 KiB frame */
    PL011_UNKNOWN_RAZWI,    /* reserved offset: read as zero, write ignored */
};

void pl011_init(struct pl011 *u, const char *name);

/* A guest access at `offset` into the device window. */
enum pl011_status pl011_access(struct pl011 *u, uint64_t offset, unsigned width, bool write,
                               uint64_t *value);

/* The level of the UART's interrupt line (UARTINTR = any bit of UARTMIS). */
bool pl011_irq_level(const struct pl011 *u);

/* Emits a partial line (e.g. when the VM stops). */
void pl011_flush(struct pl011 *u);
