/* Emulated PL011 (ARM DDI 0183G): transmit-only, output prefixed with the VM's name. */
#include "pl011_emul.h"
#include "vmm_fmt.h"

#include "vmm_string.h"

/* Register offsets, DDI 0183G table 3-1. */
#define UARTDR      0x000u
#define UARTRSR     0x004u
#define UARTFR      0x018u
#define UARTILPR    0x020u
#define UARTIBRD    0x024u
#define UARTFBRD    0x028u
#define UARTLCR_H   0x02cu
#define UARTCR      0x030u
#define UARTIFLS    0x034u
#define UARTIMSC    0x038u
#define UARTRIS     0x03cu
#define UARTMIS     0x040u
#define UARTICR     0x044u
#define UARTDMACR   0x048u
#define UARTPERIPHID0 0xfe0u
#define PL011_FRAME 0x1000u

/* UARTFR bits (3.3.3): RXFE [4], TXFE [7]. Never busy, never full. */
#define FR_RXFE     (1u << 4)
#define FR_TXFE     (1u << 7)
/* Interrupt bit TXIM/TXRIS [5] (3.3.10-13). */
#define INT_TX      (1u << 5)

/* UARTPeriphID0-3 and UARTPCellID0-3 (3.3.14-15): part 0x011, designer ARM (0x41), rev 1. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

void pl011_init(struct pl011 *u, const char *name)
{
    memset(u, 0, sizeof(*u));
    u->name = name;
    /* Reset values, DDI 0183G table 3-1: UARTCR has TXE and RXE set; UARTIFLS half-full. */
    u->cr = 0x300;
    u->ifls = 0x12;
}

void pl011_flush(struct pl011 *u)
{
    if (u->line_len == 0) {
        return;
    }
    u->line[u->line_len] = '\0';
    char out[PL011_LINE_MAX + 48];
    vmm_snprintf(out, sizeof(out), "%s| %s\n", u->name, u->line);
    vmm_log_sink(out);
    u->line_len = 0;
}

static void pl011_putc(struct pl011 *u, char c)
{
    u->chars_out++;
    if (c == '\r') {
        return;
    }
    if (c == '\n') {
        if (u->line_len == 0) {
            u->line[u->line_len++] = ' ';
        }
        pl011_flush(u);
        return;
    }
    u->line[u->line_len++] = c;
    if (u->line_len == PL011_LINE_MAX) {
        pl011_flush(u);
    }
}

/* The transmit FIFO is drained at once, so it is always at or below any trigger level:
 * the raw TX interrupt is permanently asserted and only UARTIMSC gates it. */
static uint32_t pl011_ris(const struct pl011 *u)
{
    (void)u;
    return INT_TX;
}

bool pl011_irq_level(const struct pl011 *u)
{
    return (pl011_ris(u) & u->imsc) != 0;
}

enum pl011_status pl011_access(struct pl011 *u, uint64_t offset, unsigned width, bool write,
                               uint64_t *value)
{
    if ((width != 1 && width != 2 && width != 4) || offset >= PL011_FRAME
        || offset % width != 0) {
        return PL011_BAD_ACCESS;
    }
    /* Sub-word accesses reach the low bits of the word register they fall in. */
    uint32_t reg = (uint32_t)offset & ~3u;
    unsigned shift = ((uint32_t)offset & 3u) * 8u;
    if (write) {
        uint32_t v = (uint32_t)(*value << shift);
        switch (reg) {
        case UARTDR:    if (shift == 0) pl011_putc(u, (char)(v & 0xffu)); break;
        case UARTRSR:   break;  /* UARTECR: clears errors we never have */
        case UARTILPR:  u->ilpr = v & 0xffu; break;
        case UARTIBRD:  u->ibrd = v & 0xffffu; break;
        case UARTFBRD:  u->fbrd = v & 0x3fu; break;
        case UARTLCR_H: u->lcr_h = v & 0xffu; break;
        case UARTCR:    u->cr = v & 0xff87u; break;
        case UARTIFLS:  u->ifls = v & 0x3fu; break;
        case UARTIMSC:  u->imsc = v & 0x7ffu; break;
        case UARTICR:   break;  /* TX stays asserted (see pl011_ris) */
        case UARTDMACR: u->dmacr = v & 0x7u; break;
        case UARTFR:
        case UARTRIS:
        case UARTMIS:   break;  /* read-only */
        default:
            return reg >= UARTPERIPHID0 ? PL011_OK : PL011_UNKNOWN_RAZWI;
        }
        return PL011_OK;
    }
    uint32_t v;
    switch (reg) {
    case UARTDR:    v = 0; break;   /* empty receive FIFO */
    case UARTRSR:   v = 0; break;
    case UARTFR:    v = FR_RXFE | FR_TXFE; break;
    case UARTILPR:  v = u->ilpr; break;
    case UARTIBRD:  v = u->ibrd; break;
    case UARTFBRD:  v = u->fbrd; break;
    case UARTLCR_H: v = u->lcr_h; break;
    case UARTCR:    v = u->cr; break;
    case UARTIFLS:  v = u->ifls; break;
    case UARTIMSC:  v = u->imsc; break;
    case UARTRIS:   v = pl011_ris(u); break;
    case UARTMIS:   v = pl011_ris(u) & u->imsc; break;
    case UARTICR:   v = 0; break;
    case UARTDMACR: v = u->dmacr; break;
    default:
        if (reg >= UARTPERIPHID0) {
            v = pl011_id[(reg - UARTPERIPHID0) / 4u];
            break;
        }
        *value = 0;
        return PL011_UNKNOWN_RAZWI;
    }
    v >>= shift;
    *value = width == 4 ? v : v & ((1u << (width * 8u)) - 1u);
    return PL011_OK;
}
