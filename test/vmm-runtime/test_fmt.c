#include "harness.h"
#include "vmm_fmt.h"

static void fmt_conversions(void)
{
    char buf[128];
    vmm_snprintf(buf, sizeof(buf), "%s=%u %d %x %08llx %lx %c %zu %%", "a", 42u, -7, 0xbeefu,
                 0x1234ull, 0xfffffffffful, 'z', (size_t)9);
    CHECK(strcmp(buf, "a=42 -7 beef 00001234 ffffffffff z 9 %") == 0);
    vmm_snprintf(buf, sizeof(buf), "%lld %5s|", (long long)INT64_MIN, "ab");
    CHECK(strcmp(buf, "-9223372036854775808    ab|") == 0);
}

static void fmt_edges(void)
{
    char buf[64];
    vmm_snprintf(buf, sizeof(buf), "%X %p %05d %ld %zd %3c|", 0xbeefu, (void *)0x10, -3, -5l,
                 (size_t)5, 'q');
    CHECK(strcmp(buf, "BEEF 0x10 -0003 -5 5 q|") == 0);
    /* Formats the compiler's format check would refuse, through a pointer it does not check. */
    int (*unchecked)(char *, size_t, const char *, ...) = vmm_snprintf;
    unchecked(buf, sizeof(buf), "%q %s end%", (const char *)NULL);
    CHECK(strcmp(buf, "%q (null) end") == 0);
    unchecked(buf, sizeof(buf), "x%08");
    CHECK(strcmp(buf, "x") == 0);
}

static void fmt_truncates(void)
{
    char buf[6];
    int n = vmm_snprintf(buf, sizeof(buf), "%s", "abcdefgh");
    CHECK(strcmp(buf, "abcde") == 0);
    CHECK_EQ(n, 5);
    n = vmm_snprintf(buf, 0, "%s", "abc");
    CHECK_EQ(n, 0);
}

static void log_prefixes_and_ends_lines(void)
{
    vmm_log("vm '%s' stopped", "linux");
    CHECK(strcmp(harness_log, "vmm: vm 'linux' stopped\n") == 0);
}

HARNESS_SUITE(fmt_tests) = {
    { "fmt: conversions", fmt_conversions },
    { "fmt: upper-case hex, pointers, signs, a trailing or unknown conversion", fmt_edges },
    { "fmt: truncates and terminates", fmt_truncates },
    { "fmt: vmm_log prefixes and ends lines", log_prefixes_and_ends_lines },
    HARNESS_END,
};
