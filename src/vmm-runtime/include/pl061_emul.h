/*
 * An emulated PL061 GPIO controller: the guest's side of its doorbells (docs/doorbell.md).
 * Each channel between the VM and a peer (a native PD or another VM) is two of its eight lines:
 * an output line the guest writes 1 to, to notify the peer ("ring"), and an input line that
 * sees a rising edge each time the peer notifies the VM. Linux drives it with its built-in
 * gpio-pl061 driver, and a guest program with the GPIO character device (edge events on the
 * input line, values on the output line); no driver of ours runs in the guest.
 *
 * Register map: ARM PrimeSpec GPIO (PL061) TRM, DDI 0190B, 3.2 and 3.3. Pure: no microkit.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PL061_LINES         8u
#define PL061_FRAME         0x1000u

/* DDI 0190B table 3-1. GPIODATA is 256 words: address bits [9:2] mask the bits accessed. */
#define PL061_GPIODATA      0x000u
#define PL061_GPIODATA_END  0x3fcu
#define PL061_GPIODIR       0x400u
#define PL061_GPIOIS        0x404u
#define PL061_GPIOIBE       0x408u
#define PL061_GPIOIEV       0x40cu
#define PL061_GPIOIE        0x410u
#define PL061_GPIORIS       0x414u
#define PL061_GPIOMIS       0x418u
#define PL061_GPIOIC        0x41cu
#define PL061_GPIOAFSEL     0x420u
#define PL061_PERIPHID0     0xfe0u

struct pl061 {
    uint8_t data;       /* the output latch (what the guest last wrote to each line) */
    uint8_t dir;        /* GPIODIR: 1 = output */
    uint8_t is;         /* GPIOIS: 1 = level-sensitive */
    uint8_t ibe;        /* GPIOIBE: 1 = both edges */
    uint8_t iev;        /* GPIOIEV: 1 = rising edge / high level */
    uint8_t ie;         /* GPIOIE: interrupt mask, 1 = enabled */
    uint8_t ris;        /* GPIORIS: edges latched since the last GPIOIC */
    uint8_t afsel;      /* GPIOAFSEL: read back only (no alternate functions here) */
};

enum pl061_status {
    PL061_OK,
    PL061_BAD_ACCESS,       /* width other than 1/2/4, misaligned, or outside the 4 KiB frame */
    PL061_UNKNOWN_RAZWI,    /* reserved offset: read as zero, write ignored */
};

/* Reset values, DDI 0190B table 3-1: all registers 0 (every line an input, interrupts off). */
void pl061_init(struct pl061 *g);

/*
 * A guest access at `offset` into the window. For a write to GPIODATA, *rang receives the lines
 * that are outputs and were written 1 (each such write is a ring, also when the line was
 * already 1: Linux writes the register on every set).
 */
enum pl061_status pl061_access(struct pl061 *g, uint64_t offset, unsigned width, bool write,
                               uint64_t *value, uint8_t *rang);

/*
 * The peer notified: the input `lines` pulse (go high, then low again, so a level-sensitive
 * line sees nothing and reads 0 afterwards). An edge-sensitive input latches in GPIORIS; lines
 * the guest drives as outputs do not.
 */
void pl061_pulse(struct pl061 *g, uint8_t lines);

/* The level of the controller's combined interrupt (GPIOINTR = any bit of GPIOMIS). */
bool pl061_irq_level(const struct pl061 *g);
