/* The MMIO bus (mmio_bus.h): registration in base order, overlaps refused, lookup and call. */
#include "harness.h"
#include "mmio_bus.h"

static enum mmio_status record(void *opaque, struct mmio_access *a)
{
    unsigned *calls = opaque;
    (*calls)++;
    if (a->offset == 0x10) {
        return mmio_bus_why(a, MMIO_BAD_ACCESS, "%u-byte %s at 0x%llx", a->width,
                            a->write ? "write" : "read", (unsigned long long)a->offset);
    }
    a->value = a->offset;
    return MMIO_OK;
}

static unsigned calls[4];

static struct mmio_region region(uint64_t base, uint64_t size, const char *name, unsigned i)
{
    return (struct mmio_region){ base, size, name, record, &calls[i] };
}

/* Three frames registered out of order: A [0x1000, 0x2000), B [0x2000, 0x2200), C at 0x9000. */
static void three(struct mmio_bus *bus)
{
    char err[160];
    mmio_bus_init(bus);
    struct mmio_region c = region(0x9000, 0x1000, "C", 2);
    struct mmio_region a = region(0x1000, 0x1000, "A", 0);
    struct mmio_region b = region(0x2000, 0x200, "B", 1);
    CHECK(mmio_bus_register(bus, &c, err, sizeof(err)));
    CHECK(mmio_bus_register(bus, &a, err, sizeof(err)));
    CHECK(mmio_bus_register(bus, &b, err, sizeof(err)));
}

static void bus_sorted_lookup(void)
{
    struct mmio_bus bus;
    three(&bus);
    CHECK_EQ(bus.count, 3);
    CHECK_EQ(bus.regions[0].base, 0x1000);
    CHECK_EQ(bus.regions[1].base, 0x2000);
    CHECK_EQ(bus.regions[2].base, 0x9000);
    CHECK(strcmp(mmio_bus_find(&bus, 0x1000)->name, "A") == 0);
    CHECK(strcmp(mmio_bus_find(&bus, 0x1fff)->name, "A") == 0);
    CHECK(strcmp(mmio_bus_find(&bus, 0x2000)->name, "B") == 0);
    CHECK(strcmp(mmio_bus_find(&bus, 0x21ff)->name, "B") == 0);
    CHECK(strcmp(mmio_bus_find(&bus, 0x9abc)->name, "C") == 0);
}

static void bus_out_of_range(void)
{
    struct mmio_bus bus;
    three(&bus);
    CHECK(mmio_bus_find(&bus, 0) == NULL);
    CHECK(mmio_bus_find(&bus, 0xfff) == NULL);       /* below the first */
    CHECK(mmio_bus_find(&bus, 0x2200) == NULL);      /* one past B, before C */
    CHECK(mmio_bus_find(&bus, 0x8fff) == NULL);
    CHECK(mmio_bus_find(&bus, 0xa000) == NULL);      /* one past the last */
    CHECK(mmio_bus_find(&bus, UINT64_MAX) == NULL);
    mmio_bus_init(&bus);
    CHECK(mmio_bus_find(&bus, 0x1000) == NULL);      /* empty bus */
    /* A region that ends at the top of the address space. */
    char err[160];
    struct mmio_region top = region(UINT64_MAX - 0xfff, 0x1000, "top", 3);
    CHECK(mmio_bus_register(&bus, &top, err, sizeof(err)));
    CHECK(mmio_bus_find(&bus, UINT64_MAX) != NULL);
    CHECK(mmio_bus_find(&bus, UINT64_MAX - 0x1000) == NULL);
}

static void bus_refuses_overlap(void)
{
    static const struct { uint64_t base, size; const char *clash; } cases[] = {
        { 0x0800, 0x0801, "A" },    /* the last byte reaches A's first */
        { 0x1fff, 0x0001, "A" },    /* A's last byte */
        { 0x1800, 0x1000, "A" },    /* across A and B: the one below is named */
        { 0x2100, 0x0010, "B" },    /* inside B */
        { 0x0000, 0x100000, "A" },  /* around everything */
        { 0x2000, 0x0200, "B" },    /* B again */
        { 0x8000, 0x1001, "C" },    /* reaches C from below */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mmio_bus bus;
        three(&bus);
        char err[160];
        struct mmio_region r = region(cases[i].base, cases[i].size, "new", 3);
        CHECK(!mmio_bus_register(&bus, &r, err, sizeof(err)));
        char want[32];
        snprintf(want, sizeof(want), "overlaps %s window", cases[i].clash);
        CHECK_CONTAINS(err, want);
        CHECK_EQ(bus.count, 3);
    }
    struct mmio_bus bus;
    three(&bus);
    char err[160];
    struct mmio_region r = region(0x2100, 0x10, "PL011", 3);
    CHECK(!mmio_bus_register(&bus, &r, err, sizeof(err)));
    CHECK(strcmp(err, "PL011 window 0x2100+0x10 overlaps B window 0x2000+0x200") == 0);
    /* Touching neighbours are fine: [0x2200, 0x9000) fills the gap exactly. */
    struct mmio_region gap = region(0x2200, 0x6e00, "gap", 3);
    CHECK(mmio_bus_register(&bus, &gap, err, sizeof(err)));
    CHECK(strcmp(mmio_bus_find(&bus, 0x8fff)->name, "gap") == 0);
}

static void bus_refuses_empty_wrapping_and_full(void)
{
    struct mmio_bus bus;
    mmio_bus_init(&bus);
    char err[160];
    struct mmio_region empty = region(0x1000, 0, "empty", 0);
    CHECK(!mmio_bus_register(&bus, &empty, err, sizeof(err)));
    CHECK_CONTAINS(err, "empty window 0x1000+0x0 is empty or wraps");
    struct mmio_region wraps = region(UINT64_MAX - 0xfff, 0x1001, "wraps", 0);
    CHECK(!mmio_bus_register(&bus, &wraps, err, sizeof(err)));
    CHECK_CONTAINS(err, "is empty or wraps");
    for (unsigned i = 0; i < MMIO_BUS_MAX_REGIONS; i++) {
        struct mmio_region r = region(0x10000u * (MMIO_BUS_MAX_REGIONS - i), 0x1000, "r", 0);
        CHECK(mmio_bus_register(&bus, &r, err, sizeof(err)));
    }
    struct mmio_region more = region(0x1000, 0x1000, "more", 0);
    CHECK(!mmio_bus_register(&bus, &more, err, sizeof(err)));
    CHECK_CONTAINS(err, "the MMIO bus is full");
    for (unsigned i = 1; i < bus.count; i++) {
        CHECK(bus.regions[i - 1].base < bus.regions[i].base);
    }
}

static void bus_access_calls_the_handler(void)
{
    struct mmio_bus bus;
    three(&bus);
    memset(calls, 0, sizeof(calls));
    const struct mmio_region *r = mmio_bus_find(&bus, 0x2008);
    struct mmio_access a = { .vcpu = 1, .width = 4, .write = false, .value = 0 };
    CHECK_EQ(mmio_bus_access(r, 0x2008, &a), MMIO_OK);
    CHECK_EQ(a.offset, 8);
    CHECK_EQ(a.value, 8);
    CHECK(a.why == NULL);
    CHECK_EQ(calls[1], 1);
    CHECK_EQ(calls[0] + calls[2], 0);
    a.write = true;
    CHECK_EQ(mmio_bus_access(r, 0x2010, &a), MMIO_BAD_ACCESS);
    CHECK(a.why != NULL && strcmp(a.why, "4-byte write at 0x10") == 0);
}

HARNESS_SUITE(mmio_bus_tests) = {
    { "mmio bus: registered in base order, lookup of first and last bytes", bus_sorted_lookup },
    { "mmio bus: addresses outside every region (gaps, ends, empty bus)", bus_out_of_range },
    { "mmio bus: overlapping registrations refused with a line, neighbours allowed", bus_refuses_overlap },
    { "mmio bus: empty, wrapping and one-too-many registrations refused", bus_refuses_empty_wrapping_and_full },
    { "mmio bus: an access sets the offset and calls the handler with its opaque", bus_access_calls_the_handler },
    HARNESS_END,
};
