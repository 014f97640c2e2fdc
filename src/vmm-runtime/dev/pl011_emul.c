/* Emulated PL011 (ARM DDI 0183G): transmit-only, output prefixed with the VM's name. */
#include "pl011_emul.h"
#include "vmm_fmt.h"

#include "vmm_string.h"

#define PL011_FRAME 0x1000u

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
    if (u->on_line != NULL) {
        u->on_line(u->on_line_ctx, u->line);
    }
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
    return PL011_INT_TX;
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
        case PL011_UARTDR:    if (shift == 0) pl011_putc(u, (char)(v & 0xffu)); break;
        case PL011_UARTRSR:   break;  /* UARTECR: clears errors we never have */
        case PL011_UARTILPR:  u->ilpr = v & 0xffu; break;
        case PL011_UARTIBRD:  u->ibrd = v & 0xffffu; break;
        case PL011_UARTFBRD:  u->fbrd = v & 0x3fu; break;
        case PL011_UARTLCR_H: u->lcr_h = v & 0xffu; break;
        case PL011_UARTCR:    u->cr = v & 0xff87u; break;
        case PL011_UARTIFLS:  u->ifls = v & 0x3fu; break;
        case PL011_UARTIMSC:  u->imsc = v & 0x7ffu; break;
        case PL011_UARTICR:   break;  /* TX stays asserted (see pl011_ris) */
        case PL011_UARTDMACR: u->dmacr = v & 0x7u; break;
        case PL011_UARTFR:
        case PL011_UARTRIS:
        case PL011_UARTMIS:   break;  /* read-only */
        default:
            return reg >= PL011_UARTPERIPHID0 ? PL011_OK : PL011_UNKNOWN_RAZWI;
        }
        return PL011_OK;
    }
    uint32_t v;
    switch (reg) {
    case PL011_UARTDR:    v = 0; break;   /* empty receive FIFO */
    case PL011_UARTRSR:   v = 0; break;
    case PL011_UARTFR:    v = PL011_FR_RXFE | PL011_FR_TXFE; break;
    case PL011_UARTILPR:  v = u->ilpr; break;
    case PL011_UARTIBRD:  v = u->ibrd; break;
    case PL011_UARTFBRD:  v = u->fbrd; break;
    case PL011_UARTLCR_H: v = u->lcr_h; break;
    case PL011_UARTCR:    v = u->cr; break;
    case PL011_UARTIFLS:  v = u->ifls; break;
    case PL011_UARTIMSC:  v = u->imsc; break;
    case PL011_UARTRIS:   v = pl011_ris(u); break;
    case PL011_UARTMIS:   v = pl011_ris(u) & u->imsc; break;
    case PL011_UARTICR:   v = 0; break;
    case PL011_UARTDMACR: v = u->dmacr; break;
    default:
        if (reg >= PL011_UARTPERIPHID0) {
            v = pl011_id[(reg - PL011_UARTPERIPHID0) / 4u];
            break;
        }
        *value = 0;
        return PL011_UNKNOWN_RAZWI;
    }
    v >>= shift;
    *value = width == 4 ? v : v & ((1u << (width * 8u)) - 1u);
    return PL011_OK;
}
