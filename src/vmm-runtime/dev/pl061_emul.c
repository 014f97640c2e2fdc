/* Emulated PL061 GPIO (ARM DDI 0190B): the doorbell lines of a VM (pl061_emul.h). */
#include "pl061_emul.h"

#include "vmm_string.h"

/* GPIOPeriphID0-3 and GPIOPCellID0-3 (3.3.11-12): part 0x061, designer ARM (0x41), rev 1. */
static const uint8_t pl061_id[8] = { 0x61, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

void pl061_init(struct pl061 *g)
{
    memset(g, 0, sizeof(*g));
}

bool pl061_irq_level(const struct pl061 *g)
{
    return (g->ris & g->ie) != 0;
}

void pl061_pulse(struct pl061 *g, uint8_t lines)
{
    /* Both edges of the pulse happen: any edge-sensitive input latches, whichever edge
     * (GPIOIEV) or both (GPIOIBE) it watches. */
    g->ris |= lines & (uint8_t)~g->dir & (uint8_t)~g->is;
}

static uint8_t *pl061_reg(struct pl061 *g, uint64_t offset)
{
    switch (offset) {
    case PL061_GPIODIR: return &g->dir;
    case PL061_GPIOIS: return &g->is;
    case PL061_GPIOIBE: return &g->ibe;
    case PL061_GPIOIEV: return &g->iev;
    case PL061_GPIOIE: return &g->ie;
    case PL061_GPIOAFSEL: return &g->afsel;
    default: return NULL;
    }
}

/* GPIODATA at `offset`: address bits [9:2] select the lines (3.3.1). Inputs read 0 (a pulse
 * is over by the time the guest looks); outputs read their latch. */
static void pl061_data(struct pl061 *g, uint64_t offset, bool write, uint64_t *value,
                       uint8_t *rang)
{
    uint8_t mask = (uint8_t)(offset >> 2);
    if (!write) {
        *value = g->data & g->dir & mask;
        return;
    }
    uint8_t outputs = mask & g->dir;
    uint8_t v = (uint8_t)*value;
    g->data = (uint8_t)((g->data & ~outputs) | (v & outputs));
    *rang = v & outputs;
}

enum pl061_status pl061_access(struct pl061 *g, uint64_t offset, unsigned width, bool write,
                               uint64_t *value, uint8_t *rang)
{
    *rang = 0;
    if ((width != 1 && width != 2 && width != 4) || offset % width != 0 || offset >= PL061_FRAME) {
        return PL061_BAD_ACCESS;
    }
    if (!write) {
        *value = 0;
    }
    if (offset <= PL061_GPIODATA_END) {
        /* Only the low byte of each word holds bits; the mask is in the word's address. */
        if (offset % 4 == 0) {
            pl061_data(g, offset, write, value, rang);
        }
        return PL061_OK;
    }
    uint8_t *reg = pl061_reg(g, offset);
    if (reg != NULL) {
        if (write) {
            *reg = (uint8_t)*value;
        } else {
            *value = *reg;
        }
        return PL061_OK;
    }
    switch (offset) {
    case PL061_GPIORIS:
    case PL061_GPIOMIS:
        if (!write) {
            *value = offset == PL061_GPIORIS ? g->ris : (uint8_t)(g->ris & g->ie);
        }
        return PL061_OK;
    case PL061_GPIOIC:
        if (write) {
            g->ris &= (uint8_t)~*value;
        }
        return PL061_OK;
    default:
        break;
    }
    if (offset >= PL061_PERIPHID0 && offset < PL061_FRAME && offset % 4 == 0) {
        if (!write) {
            *value = pl061_id[(offset - PL061_PERIPHID0) / 4];
        }
        return PL061_OK;
    }
    return PL061_UNKNOWN_RAZWI;
}
