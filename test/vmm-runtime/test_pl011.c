#include "harness.h"
#include "pl011_emul.h"

static uint64_t rd(struct pl011 *u, uint64_t off, unsigned width)
{
    uint64_t v = 0xdead;
    CHECK_EQ(pl011_access(u, off, width, false, &v), PL011_OK);
    return v;
}

static void wr(struct pl011 *u, uint64_t off, unsigned width, uint64_t v)
{
    CHECK_EQ(pl011_access(u, off, width, true, &v), PL011_OK);
}

static void pl011_prints_prefixed_lines(void)
{
    struct pl011 u;
    pl011_init(&u, "linux2");
    const char *s = "hello\r\nworld";
    for (const char *p = s; *p; p++) {
        wr(&u, 0x000, 2, (uint8_t)*p);
    }
    CHECK(strcmp(harness_log, "linux2| hello\n") == 0);
    pl011_flush(&u);
    CHECK(strcmp(harness_log, "linux2| hello\nlinux2| world\n") == 0);
    CHECK_EQ(u.chars_out, 12);
}

static void pl011_identifies_as_pl011(void)
{
    struct pl011 u;
    pl011_init(&u, "vm");
    /* Linux's AMBA bus reads the IDs as 32-bit words: 0x00141011 / 0xb105f00d. */
    uint32_t periph = 0, cell = 0;
    for (unsigned i = 0; i < 4; i++) {
        periph |= (uint32_t)rd(&u, 0xfe0 + 4 * i, 4) << (8 * i);
        cell |= (uint32_t)rd(&u, 0xff0 + 4 * i, 4) << (8 * i);
    }
    CHECK_EQ(periph, 0x00141011u);
    CHECK_EQ(cell, 0xb105f00du);
    CHECK_EQ(rd(&u, 0x018, 2), 0x90);   /* TXFE | RXFE, never busy */
}

static void pl011_tx_interrupt_follows_mask(void)
{
    struct pl011 u;
    pl011_init(&u, "vm");
    CHECK(!pl011_irq_level(&u));
    wr(&u, 0x038, 2, 0x20);             /* TXIM */
    CHECK(pl011_irq_level(&u));
    CHECK_EQ(rd(&u, 0x040, 2), 0x20);
    wr(&u, 0x044, 2, 0x7ff);            /* ICR cannot clear an empty FIFO's TX interrupt */
    CHECK(pl011_irq_level(&u));
    wr(&u, 0x038, 2, 0x50);             /* RXIM | RTIM only: nothing to receive */
    CHECK(!pl011_irq_level(&u));
}

static void pl011_checks_accesses(void)
{
    struct pl011 u;
    pl011_init(&u, "vm");
    uint64_t v = 0;
    CHECK_EQ(pl011_access(&u, 0x002, 4, false, &v), PL011_BAD_ACCESS);
    CHECK_EQ(pl011_access(&u, 0x000, 8, false, &v), PL011_BAD_ACCESS);
    CHECK_EQ(pl011_access(&u, 0x1000, 4, false, &v), PL011_BAD_ACCESS);
    v = 5;
    CHECK_EQ(pl011_access(&u, 0x080, 4, false, &v), PL011_UNKNOWN_RAZWI);
    CHECK_EQ(v, 0);
    wr(&u, 0x02c, 1, 0x70);
    CHECK_EQ(rd(&u, 0x02c, 4), 0x70);
    CHECK_EQ(rd(&u, 0x030, 4), 0x300);  /* reset: TXE | RXE */
}

HARNESS_SUITE(pl011_tests) = {
    { "pl011: prints prefixed lines", pl011_prints_prefixed_lines },
    { "pl011: identifies as a PL011 on the AMBA bus", pl011_identifies_as_pl011 },
    { "pl011: TX interrupt level follows UARTIMSC", pl011_tx_interrupt_follows_mask },
    { "pl011: width, alignment and frame checks", pl011_checks_accesses },
    HARNESS_END,
};
