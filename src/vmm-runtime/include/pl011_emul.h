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

/* Register offsets, DDI 0183G table 3-1 (also what the VMM's console input driver uses on a
 * real PL011, lib/vmm_virtio.c). */
#define PL011_UARTDR        0x000u
#define PL011_UARTRSR       0x004u
#define PL011_UARTFR        0x018u
#define PL011_UARTILPR      0x020u
#define PL011_UARTIBRD      0x024u
#define PL011_UARTFBRD      0x028u
#define PL011_UARTLCR_H     0x02cu
#define PL011_UARTCR        0x030u
#define PL011_UARTIFLS      0x034u
#define PL011_UARTIMSC      0x038u
#define PL011_UARTRIS       0x03cu
#define PL011_UARTMIS       0x040u
#define PL011_UARTICR       0x044u
#define PL011_UARTDMACR     0x048u
#define PL011_UARTPERIPHID0 0xfe0u

/* UARTFR bits (3.3.3): RXFE [4], TXFF [5], TXFE [7]. */
#define PL011_FR_RXFE       (1u << 4)
#define PL011_FR_TXFF       (1u << 5)
#define PL011_FR_TXFE       (1u << 7)
/* Interrupt bits of UARTIMSC/RIS/MIS/ICR (3.3.10-13): RX [4], TX [5], receive timeout [6]. */
#define PL011_INT_RX        (1u << 4)
#define PL011_INT_TX        (1u << 5)
#define PL011_INT_RT        (1u << 6)

struct pl011 {
    const char *name;       /* prefix for output lines */
    uint32_t cr, lcr_h, ibrd, fbrd, ifls, imsc, dmacr, ilpr;
    char line[PL011_LINE_MAX + 1];
    unsigned line_len;
    unsigned long chars_out;
    /* Called with each complete line after it is printed (NULL: none); the VMM uses it for
     * its counters marker (vmm_counters.h). */
    void (*on_line)(void *ctx, const char *line);
    void *on_line_ctx;
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
