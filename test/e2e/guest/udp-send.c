/*
 * A guest program for the VM-to-PD throughput test and bench: sends MIB MiB of zeros as UDP
 * datagrams of SIZE bytes to IP:PORT, then one datagram "report" (test/e2e/pds/link-responder.c
 * counts what reaches its discard port and prints the count when the report arrives).
 *
 *   udp-send IP PORT MIB SIZE
 *
 * Busybox's nc has no UDP, and the point is the link, not the sender: one sendto per datagram.
 * A datagram that finds the socket's buffer full waits (a blocking socket), so nothing is lost
 * in the guest; what the link or the PD drops shows in the PD's count.
 *
 * Freestanding (raw Linux system calls, no libc), built like examples/doorbell/client.c:
 *   aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 \
 *       -o udp-send udp-send.c
 */
#include <stdint.h>

#define SYS_write 64
#define SYS_socket 198
#define SYS_sendto 206
#define AF_INET 2
#define SOCK_DGRAM 2
#define MAX_DATAGRAM 65507     /* IPv4's 65535 less the IP and UDP headers */

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

static void put(const char *s)
{
    unsigned long n = 0;
    while (s[n] != '\0') {
        n++;
    }
    (void)sys(SYS_write, 1, (long)s, (long)n, 0, 0, 0);
}

/* Decimal; -1 for anything else. */
static long parse(const char *s)
{
    long v = 0;
    if (*s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > 100000000) {
            return -1;
        }
        v = v * 10 + (*s - '0');
    }
    return v;
}

/* a.b.c.d in network order; false for anything else. */
static int parse_ip(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        long v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            v = v * 10 + (*s++ - '0');
            digits++;
        }
        if (digits == 0 || v > 255 || *s != (i == 3 ? '\0' : '.')) {
            return 0;
        }
        out[i] = (uint8_t)v;
        s += i < 3;
    }
    return 1;
}

struct sockaddr_in {
    uint16_t family;
    uint16_t port;      /* network order */
    uint8_t addr[4];
    uint8_t zero[8];
};

static uint8_t zeros[MAX_DATAGRAM];

static int run(const char *ip, long port, long mib, long size)
{
    struct sockaddr_in to = { .family = AF_INET };
    if (!parse_ip(ip, to.addr) || port <= 0 || port > 65535 || mib < 0 || size <= 0
        || size > MAX_DATAGRAM) {
        put("udp-send: bad arguments\n");
        return 2;
    }
    to.port = (uint16_t)(((port & 0xff) << 8) | (port >> 8));
    long fd = sys(SYS_socket, AF_INET, SOCK_DGRAM, 0, 0, 0, 0);
    if (fd < 0) {
        put("udp-send: FAILED: socket\n");
        return 1;
    }
    long left = mib * 1048576;
    while (left > 0) {
        long n = left < size ? left : size;
        long sent = sys(SYS_sendto, fd, (long)zeros, n, 0, (long)&to, sizeof(to));
        if (sent != n) {
            put("udp-send: FAILED: sendto\n");
            return 1;
        }
        left -= n;
    }
    if (sys(SYS_sendto, fd, (long)"report", 6, 0, (long)&to, sizeof(to)) != 6) {
        put("udp-send: FAILED: report\n");
        return 1;
    }
    return 0;
}

int start_c(long *sp);
int start_c(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    if (argc != 5) {
        put("usage: udp-send IP PORT MIB SIZE\n");
        return 2;
    }
    return run(argv[1], parse(argv[2]), parse(argv[3]), parse(argv[4]));
}

/* The process entry: the stack holds argc, argv[] (Linux's ELF ABI); no libc to set up. */
__asm__(".global _start\n"
        "_start:\n"
        "    mov x0, sp\n"
        "    bl start_c\n"
        "    mov x8, #94\n"       /* exit_group(start_c's result) */
        "    svc #0\n");
