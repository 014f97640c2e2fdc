/*
 * The guest side of examples/doorbell-qemu.ts: a Linux program that exchanges messages with the
 * native PD `echo` through a shared region and the VM's doorbell (docs/doorbell.md).
 *
 *   doorbell-client PEER MESSAGES MAILBOX_ADDRESS
 *
 * finds the GPIO lines `<PEER>-ring` and `<PEER>-notify` by name on the VM's GPIO chips (the
 * PL061 the VMM plays), maps the mailbox region through /dev/mem, then MESSAGES times: writes a
 * message, rings the peer, waits for the notify line's edge and checks the reply.
 *
 * Freestanding (raw Linux system calls, no libc), so Debian's gcc-aarch64-linux-gnu builds it
 * without an arm64 libc:
 *   aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 \
 *       -o doorbell-client client.c
 * The GPIO character device ABI is Linux's include/uapi/linux/gpio.h (v2, Linux 5.10+).
 */
#include <stdint.h>

#include "mailbox.h"

/* The compiler may call these for struct initialisers and copies; no libc provides them.
 * The volatile pointer keeps GCC from turning the loops back into calls to themselves. */
void *memset(void *dst, int c, unsigned long n);
void *memset(void *dst, int c, unsigned long n)
{
    volatile unsigned char *d = dst;
    while (n-- > 0) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n);
void *memcpy(void *dst, const void *src, unsigned long n)
{
    volatile unsigned char *d = dst;
    const unsigned char *s = src;
    while (n-- > 0) {
        *d++ = *s++;
    }
    return dst;
}

/* ---------------------------------------------------------------- system calls */

static long sys(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

#define SYS_ioctl 29
#define SYS_openat 56
#define SYS_close 57
#define SYS_read 63
#define SYS_write 64
#define SYS_exit_group 94
#define SYS_mmap 222
#define AT_FDCWD (-100)
#define O_RDWR 02
#define O_SYNC 04010000
#define PROT_READ 1
#define PROT_WRITE 2
#define MAP_SHARED 1

static unsigned long slen(const char *s)
{
    unsigned long n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

static void put(const char *s)
{
    sys(SYS_write, 1, (long)s, (long)slen(s), 0, 0, 0);
}

static void put_num(unsigned long v)
{
    char buf[24];
    int i = sizeof(buf) - 1;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(&buf[i]);
}

static __attribute__((noreturn)) void fail(const char *what, unsigned long n)
{
    put("doorbell-client: FAILED: ");
    put(what);
    put(" ");
    put_num(n);
    put("\n");
    sys(SYS_exit_group, 1, 0, 0, 0, 0, 0);
    __builtin_unreachable();
}

static unsigned long parse(const char *s)
{
    unsigned long v = 0;
    unsigned base = 10;
    if (s[0] == '0' && s[1] == 'x') {
        base = 16;
        s += 2;
    }
    for (; *s != '\0'; s++) {
        unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
                     : *s >= 'a' && *s <= 'f' ? (unsigned)(*s - 'a' + 10) : 99;
        if (d >= base) {
            fail("bad number in the arguments at character", (unsigned long)*s);
        }
        v = v * base + d;
    }
    return v;
}

/* ---------------------------------------------------------------- GPIO character device (v2) */

#define IOC(dir, nr, size) (((unsigned long)(dir) << 30) | ((unsigned long)(size) << 16) | (0xb4ul << 8) | (nr))
#define IOR 2
#define IOWR 3

struct gpiochip_info { char name[32]; char label[32]; uint32_t lines; };
struct gpio_v2_line_attribute { uint32_t id; uint32_t padding; uint64_t value; };
struct gpio_v2_line_config_attribute { struct gpio_v2_line_attribute attr; uint64_t mask; };
struct gpio_v2_line_config {
    uint64_t flags;
    uint32_t num_attrs;
    uint32_t padding[5];
    struct gpio_v2_line_config_attribute attrs[10];
};
struct gpio_v2_line_request {
    uint32_t offsets[64];
    char consumer[32];
    struct gpio_v2_line_config config;
    uint32_t num_lines;
    uint32_t event_buffer_size;
    uint32_t padding[5];
    int32_t fd;
};
struct gpio_v2_line_info {
    char name[32];
    char consumer[32];
    uint32_t offset;
    uint32_t num_attrs;
    uint64_t flags;
    struct gpio_v2_line_attribute attrs[10];
    uint32_t padding[4];
};
struct gpio_v2_line_values { uint64_t bits; uint64_t mask; };
struct gpio_v2_line_event {
    uint64_t timestamp_ns;
    uint32_t id, offset, seqno, line_seqno;
    uint32_t padding[6];
};
_Static_assert(sizeof(struct gpio_v2_line_request) == 592, "linux/gpio.h");
_Static_assert(sizeof(struct gpio_v2_line_info) == 256, "linux/gpio.h");
_Static_assert(sizeof(struct gpio_v2_line_event) == 48, "linux/gpio.h");

#define GPIO_GET_CHIPINFO_IOCTL IOC(IOR, 0x01, sizeof(struct gpiochip_info))
#define GPIO_V2_GET_LINEINFO_IOCTL IOC(IOWR, 0x05, sizeof(struct gpio_v2_line_info))
#define GPIO_V2_GET_LINE_IOCTL IOC(IOWR, 0x07, sizeof(struct gpio_v2_line_request))
#define GPIO_V2_LINE_SET_VALUES_IOCTL IOC(IOWR, 0x0f, sizeof(struct gpio_v2_line_values))
#define GPIO_V2_LINE_FLAG_INPUT (1ull << 2)
#define GPIO_V2_LINE_FLAG_OUTPUT (1ull << 3)
#define GPIO_V2_LINE_FLAG_EDGE_RISING (1ull << 4)

static int same(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Requests the line called `name` on any /dev/gpiochipN with `flags`; returns the request fd. */
static int request_line(const char *name, uint64_t flags)
{
    char path[] = "/dev/gpiochip0";
    for (char n = '0'; n <= '9'; n++) {
        path[sizeof(path) - 2] = n;
        long chip = sys(SYS_openat, AT_FDCWD, (long)path, O_RDWR, 0, 0, 0);
        if (chip < 0) {
            continue;
        }
        struct gpiochip_info info = { 0 };
        sys(SYS_ioctl, chip, (long)GPIO_GET_CHIPINFO_IOCTL, (long)&info, 0, 0, 0);
        for (uint32_t line = 0; line < info.lines; line++) {
            struct gpio_v2_line_info li = { .offset = line };
            if (sys(SYS_ioctl, chip, (long)GPIO_V2_GET_LINEINFO_IOCTL, (long)&li, 0, 0, 0) < 0
                || !same(li.name, name)) {
                continue;
            }
            struct gpio_v2_line_request req = { .offsets = { line }, .num_lines = 1 };
            req.config.flags = flags;
            const char *me = "doorbell-client";
            for (unsigned i = 0; me[i] != '\0'; i++) {
                req.consumer[i] = me[i];
            }
            long r = sys(SYS_ioctl, chip, (long)GPIO_V2_GET_LINE_IOCTL, (long)&req, 0, 0, 0);
            sys(SYS_close, chip, 0, 0, 0, 0, 0);
            if (r < 0) {
                fail("GPIO_V2_GET_LINE_IOCTL failed, errno", (unsigned long)-r);
            }
            return req.fd;
        }
        sys(SYS_close, chip, 0, 0, 0, 0, 0);
    }
    put("doorbell-client: no GPIO line named ");
    put(name);
    fail("(is the channel declared in the systems.ts?) chips searched:", 10);
}

/* ---------------------------------------------------------------- the exchange */

static char line_name[64];

static const char *named(const char *peer, const char *suffix)
{
    unsigned i = 0;
    for (; peer[i] != '\0' && i < 40; i++) {
        line_name[i] = peer[i];
    }
    for (unsigned j = 0; suffix[j] != '\0'; j++) {
        line_name[i++] = suffix[j];
    }
    line_name[i] = '\0';
    return line_name;
}

static int run(const char *peer, unsigned long count, unsigned long address)
{
    int notify = request_line(named(peer, "-notify"), GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING);
    int ring = request_line(named(peer, "-ring"), GPIO_V2_LINE_FLAG_OUTPUT);
    long mem = sys(SYS_openat, AT_FDCWD, (long)"/dev/mem", O_RDWR | O_SYNC, 0, 0, 0);
    if (mem < 0) {
        fail("cannot open /dev/mem, errno", (unsigned long)-mem);
    }
    long p = sys(SYS_mmap, 0, MAILBOX_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mem, (long)address);
    if (p < 0 && p > -4096) {
        fail("cannot map the mailbox through /dev/mem, errno", (unsigned long)-p);
    }
    volatile struct mailbox *box = (volatile struct mailbox *)p;
    unsigned long events = 0;
    for (uint32_t seq = 1; seq <= count; seq++) {
        box->request_value = mailbox_request_value(seq);
        box->request_seq = seq;
        /* The mailbox writes reach memory before the ring's trap to the VMM. */
        __asm__ volatile("dsb sy" ::: "memory");
        struct gpio_v2_line_values v = { 1, 1 };
        if (sys(SYS_ioctl, ring, (long)GPIO_V2_LINE_SET_VALUES_IOCTL, (long)&v, 0, 0, 0) < 0) {
            fail("ringing failed at message", seq);
        }
        /* The PD may have answered before the ioctl returned; its notification is an edge
         * all the same. One edge per reply: the next request waits for this one's. */
        do {
            struct gpio_v2_line_event e;
            if (sys(SYS_read, notify, (long)&e, sizeof(e), 0, 0, 0) != sizeof(e)) {
                fail("waiting for the notify edge failed at message", seq);
            }
            events++;
            if (box->reply_seq != seq && box->reply_seq != seq - 1) {
                fail("reply out of order: got sequence", box->reply_seq);
            }
        } while (box->reply_seq != seq);
        if (box->reply_value != mailbox_reply_value(seq)) {
            fail("wrong reply value at message", seq);
        }
    }
    put("doorbell-client: ");
    put_num(count);
    put(" messages exchanged in order with ");
    put(peer);
    put(" (");
    put_num(events);
    put(" notify edges)\n");
    return 0;
}

int start_c(long *sp);
int start_c(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    if (argc != 4) {
        put("usage: doorbell-client PEER MESSAGES MAILBOX_ADDRESS\n");
        return 2;
    }
    return run(argv[1], parse(argv[2]), parse(argv[3]));
}

/* The process entry: the stack holds argc, argv[] (Linux's ELF ABI); no libc to set up. */
__asm__(".global _start\n"
        "_start:\n"
        "    mov x0, sp\n"
        "    bl start_c\n"
        "    mov x8, #94\n"       /* exit_group(start_c's result) */
        "    svc #0\n");
