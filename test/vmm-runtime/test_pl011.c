#include "harness.h"
#include "pl011_emul.h"
#include "vmm.h"

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

static char seen_line[PL011_LINE_MAX + 1];

static void remember_line(void *ctx, const char *line)
{
    (*(unsigned *)ctx)++;
    strcpy(seen_line, line);
}

static void pl011_hands_each_line_to_its_hook(void)
{
    struct pl011 u;
    pl011_init(&u, "vm");
    unsigned lines = 0;
    u.on_line = remember_line;
    u.on_line_ctx = &lines;
    for (const char *p = "SEL4CP-SYNTH: counters tcp-start\r\n"; *p; p++) {
        wr(&u, 0x000, 1, (uint8_t)*p);
    }
    CHECK_EQ(lines, 1);
    CHECK(strcmp(seen_line, "SEL4CP-SYNTH: counters tcp-start") == 0);
    char label[VMM_COUNTERS_LABEL_MAX + 1];
    CHECK(vmm_counters_marker(seen_line, label));
    CHECK(strcmp(label, "tcp-start") == 0);
}

static void counters_marker_takes_only_a_short_plain_label(void)
{
    char label[VMM_COUNTERS_LABEL_MAX + 1];
    CHECK(vmm_counters_marker("SEL4CP-SYNTH: counters a_1-B trailing words", label));
    CHECK(strcmp(label, "a_1-B") == 0);
    CHECK(!vmm_counters_marker("SEL4CP-SYNTH: counters ", label));
    CHECK(!vmm_counters_marker("SEL4CP-SYNTH: counter x", label));
    CHECK(!vmm_counters_marker("x SEL4CP-SYNTH: counters x", label));
    CHECK(!vmm_counters_marker("SEL4CP-SYNTH: counters %s%n", label));
    CHECK(!vmm_counters_marker("SEL4CP-SYNTH: counters 0123456789012345678901234567890123", label));
    CHECK(vmm_counters_marker("SEL4CP-SYNTH: counters 01234567890123456789012345678901", label));
    CHECK_EQ(strlen(label), VMM_COUNTERS_LABEL_MAX);
}

HARNESS_SUITE(pl011_tests) = {
    { "pl011: each complete line goes to the on_line hook (the counters marker)",
      pl011_hands_each_line_to_its_hook },
    { "vmm counters: a marker's label is 1..32 letters, digits, '-' or '_'",
      counters_marker_takes_only_a_short_plain_label },
    { "pl011: prints prefixed lines", pl011_prints_prefixed_lines },
    { "pl011: identifies as a PL011 on the AMBA bus", pl011_identifies_as_pl011 },
    { "pl011: TX interrupt level follows UARTIMSC", pl011_tx_interrupt_follows_mask },
    { "pl011: width, alignment and frame checks", pl011_checks_accesses },
    HARNESS_END,
};
