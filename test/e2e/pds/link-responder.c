/*
 * A native PD at the far end of a network link: the smallest host a VM can ping. It serves the
 * link `uplink` of test/fixtures/systems/vm-pd-link.ts with the ring protocol of
 * docs/net-link.md (src/vmm-runtime/virtio/net_link.c, linked in), as a user's PD would, and
 * answers two kinds of frame for its own address 10.0.0.254 (MAC 02:00:00:00:00:fe):
 *
 *   - ARP requests (RFC 826) with ARP replies, so the guest learns the MAC;
 *   - ICMP echo requests (RFC 792) with echo replies;
 *   - UDP to the discard port 9 (RFC 863): counted, not answered, so that a guest can measure
 *     how fast a PD takes frames off the link. A datagram "report" to that port prints the
 *     count since the last report and the time from the first datagram to the last.
 *
 * Everything else is dropped. It prints one line per event a test looks for:
 *
 *     link-responder: link up (tx ring 0x..., rx ring 0x...)
 *     link-responder: answered ARP request from 10.0.0.1
 *     link-responder: answered 5 pings
 *     link-responder: discarded 16777216 UDP bytes in 2048 datagrams (11585 frames), 812345 us from first to last
 *
 * The rings are found through the symbols Microkit's setvar_vaddr patches (uplink_tx: the ring
 * this PD sends on, uplink_rx: the one it receives on), the channel to the VM's VMM has the id
 * the fixture gives with end(responder, { id: LINK_CHANNEL }).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microkit.h>

#include "net_link.h"
#include "vmm_fmt.h"
#include "vmm_string.h"

/* Must match the fixture: end(responder, { id: 3 }) and netLink()'s capacity (default 512). */
#define LINK_CHANNEL  3
#define LINK_CAPACITY NET_LINK_DEFAULT_CAPACITY

/* Patched by the Microkit tool (setvar_vaddr="uplink_tx" / "uplink_rx") to where the rings are
 * mapped; 0 if the system description does not map them. */
uintptr_t uplink_tx;
uintptr_t uplink_rx;

static const uint8_t own_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };
static const uint8_t own_ip[4] = { 10, 0, 0, 254 };

static struct net_link_end tx, rx;
static bool link_ok;
/* The frame being answered: copied out of the shared ring once, so the peer cannot change it
 * between the checks and the use, and turned into its reply in place. */
static uint8_t frame[NET_LINK_MAX_FRAME];
static unsigned long pings, arps;

/* vmm_log (lib/fmt.c) prints through this, after this prefix. */
const char vmm_log_prefix[] = "link-responder: ";

void vmm_log_sink(const char *s)
{
    microkit_dbg_puts(s);
}

/* ---------------------------------------------------------------- frame helpers */

#define ETH_HEADER   14u
#define ETH_TYPE_IP  0x0800u
#define ETH_TYPE_ARP 0x0806u

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of the
 * 16-bit big-endian words, an odd last byte padded with zero. Over data that carries a valid
 * checksum it is 0. */
static uint16_t inet_checksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += get16(p + i);
    }
    if (n % 2 != 0) {
        sum += (uint32_t)p[n - 1] << 8;
    }
    while (sum >> 16 != 0) {
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* The reply goes back to whoever sent the request, from us. */
static void eth_reply_header(uint8_t *f)
{
    memcpy(f, f + 6, 6);
    memcpy(f + 6, own_mac, 6);
}

/* ---------------------------------------------------------------- ARP (RFC 826) */

/* Ethernet/IPv4 ARP packet after the Ethernet header: htype(2) ptype(2) hlen(1) plen(1) oper(2)
 * sha(6) spa(4) tha(6) tpa(4). */
#define ARP_LEN     28u
#define ARP_REQUEST 1u
#define ARP_REPLY   2u

/* A request for our address becomes its reply in place; returns the reply's length or 0. */
static uint32_t arp_answer(uint8_t *f, uint32_t len)
{
    uint8_t *a = f + ETH_HEADER;
    if (len < ETH_HEADER + ARP_LEN || get16(a) != 1u || get16(a + 2) != ETH_TYPE_IP
        || a[4] != 6u || a[5] != 4u || get16(a + 6) != ARP_REQUEST
        || memcmp(a + 24, own_ip, 4) != 0) {
        return 0;
    }
    /* RFC 826 "Packet Reception": swap the sender fields into the target fields, put ours in
     * the sender fields, set the opcode to reply and send it to the requester. */
    memcpy(a + 18, a + 8, 10);       /* tha, tpa := sha, spa */
    memcpy(a + 8, own_mac, 6);       /* sha */
    memcpy(a + 14, own_ip, 4);       /* spa */
    put16(a + 6, ARP_REPLY);
    eth_reply_header(f);
    return ETH_HEADER + ARP_LEN;
}

/* ---------------------------------------------------------------- ICMP echo (RFC 792) */

#define IP_PROTO_ICMP    1u
#define ICMP_ECHO_REPLY  0u
#define ICMP_ECHO        8u

/* An echo request to our address becomes its echo reply in place; returns the reply's length
 * (the IP datagram's, without Ethernet padding) or 0. */
static uint32_t icmp_answer(uint8_t *f, uint32_t len)
{
    uint8_t *ip = f + ETH_HEADER;
    if (len < ETH_HEADER + 20u || memcmp(f, own_mac, 6) != 0 || ip[0] >> 4 != 4u) {
        return 0;
    }
    uint32_t ihl = (ip[0] & 0xfu) * 4u;
    uint32_t total = get16(ip + 2);
    /* One whole, unfragmented datagram (flags MF and offset 0) for us, its header intact. */
    if (ihl < 20u || total < ihl + 8u || ETH_HEADER + total > len || ip[9] != IP_PROTO_ICMP
        || (get16(ip + 6) & 0x3fffu) != 0 || memcmp(ip + 16, own_ip, 4) != 0
        || inet_checksum(ip, ihl) != 0) {
        return 0;
    }
    uint8_t *icmp = ip + ihl;
    uint32_t icmp_len = total - ihl;
    if (icmp[0] != ICMP_ECHO || icmp[1] != 0u || inet_checksum(icmp, icmp_len) != 0) {
        return 0;
    }
    /* RFC 792 "Echo or Echo Reply Message": the addresses are reversed, the type becomes 0 and
     * the checksum is recomputed; identifier, sequence number and data come back unchanged. */
    uint8_t src[4];
    memcpy(src, ip + 12, 4);
    memcpy(ip + 12, ip + 16, 4);
    memcpy(ip + 16, src, 4);
    /* The IPv4 header checksum stays valid: swapping the two addresses only reorders four of
     * its 16-bit words, and a ones' complement sum does not depend on their order. The TTL is
     * left as it came (the guest is one hop away). */
    icmp[0] = ICMP_ECHO_REPLY;
    put16(icmp + 2, 0);
    put16(icmp + 2, inet_checksum(icmp, icmp_len));
    eth_reply_header(f);
    return ETH_HEADER + total;
}

/* ---------------------------------------------------------------- UDP discard (RFC 863) */

#define IP_PROTO_UDP     17u
#define UDP_HEADER       8u
#define DISCARD_PORT     9u

static unsigned long discard_bytes, discard_datagrams, discard_frames;
static uint64_t discard_first, discard_last;

static uint64_t counter_now(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, cntpct_el0" : "=r"(v));
    return v;
}

static void discard_report(void)
{
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    /* Below 2^64 for a run of days at the counter's usual 1-100 MHz. */
    uint64_t ticks = discard_last - discard_first;
    unsigned long us = frequency ? (unsigned long)(ticks * 1000000u / frequency) : 0;
    vmm_log("discarded %lu UDP bytes in %lu datagrams (%lu frames), %lu us from first to last",
            discard_bytes, discard_datagrams, discard_frames, us);
    discard_bytes = discard_datagrams = discard_frames = 0;
}

/* A UDP datagram, or a fragment of one, for our address: counted. Fragments after the first
 * carry no UDP header, so a datagram is told by its first fragment (offset 0), which also
 * holds the port. Returns whether the frame was one. */
static bool udp_discard(const uint8_t *f, uint32_t len)
{
    const uint8_t *ip = f + ETH_HEADER;
    if (len < ETH_HEADER + 20u || memcmp(f, own_mac, 6) != 0 || ip[0] >> 4 != 4u
        || ip[9] != IP_PROTO_UDP || memcmp(ip + 16, own_ip, 4) != 0) {
        return false;
    }
    uint32_t ihl = (ip[0] & 0xfu) * 4u;
    uint32_t total = get16(ip + 2);
    if (ihl < 20u || total < ihl || ETH_HEADER + total > len) {
        return false;
    }
    uint32_t payload = total - ihl;
    bool first = (get16(ip + 6) & 0x1fffu) == 0;
    if (first) {
        const uint8_t *udp = ip + ihl;
        if (payload < UDP_HEADER || get16(udp + 2) != DISCARD_PORT) {
            return false;
        }
        payload -= UDP_HEADER;
        if (payload >= 6u && memcmp(udp + UDP_HEADER, "report", 6) == 0) {
            discard_report();
            return true;
        }
        discard_datagrams++;
    }
    uint64_t now = counter_now();
    if (discard_frames++ == 0) {
        discard_first = now;
    }
    discard_last = now;
    discard_bytes += payload;
    return true;
}

/* The reply to the frame in `frame`, made in place; its length, or 0 to drop the frame. The
 * EtherType is the same in the request and its reply. */
static uint32_t answer(uint32_t len)
{
    switch (get16(frame + 12)) {
    case ETH_TYPE_ARP:
        return arp_answer(frame, len);
    case ETH_TYPE_IP:
        return udp_discard(frame, len) ? 0 : icmp_answer(frame, len);
    default:
        return 0;   /* IPv6 neighbour discovery and the like: not ours to answer */
    }
}

/* A reply has gone out: count it (once, however often a frame had to wait for a buffer). */
static void answered(void)
{
    if (get16(frame + 12) == ETH_TYPE_ARP) {
        const uint8_t *tpa = frame + ETH_HEADER + 24;   /* the requester's address, now */
        if (arps++ == 0) {
            vmm_log("answered ARP request from %u.%u.%u.%u", tpa[0], tpa[1], tpa[2], tpa[3]);
        }
    } else if (++pings % 5 == 0) {
        vmm_log("answered %lu pings", pings);
    }
}

/* ---------------------------------------------------------------- the link */

static void link_stop(const struct net_link_end *l)
{
    link_ok = false;
    vmm_log("link stopped: %s", l->report);
}

/* Send `len` bytes of `frame`. false when no buffer is free (the VMM will signal when it returns
 * one) or the link broke. */
static bool send_reply(uint32_t len)
{
    uint8_t *buf;
    enum net_link_status st = net_link_tx_acquire(&tx, &buf);
    if (st == NET_LINK_EMPTY) {
        return false;
    }
    if (st == NET_LINK_OK) {
        memcpy(buf, frame, len);
        st = net_link_tx_publish(&tx, len);
    }
    if (st == NET_LINK_ERROR) {
        link_stop(&tx);
        return false;
    }
    return true;
}

/*
 * Every frame waiting on the receive ring: copied out, answered, its buffer returned. A frame
 * whose reply finds no free transmit buffer stays at the head of the ring (peeked, not released)
 * until the VMM returns buffers and notifies. Then one notification for the batch, if the VMM
 * asked for one (docs/net-link.md, Notifications).
 */
static void serve(void)
{
    while (link_ok) {
        const uint8_t *shared;
        uint32_t len;
        enum net_link_status st = net_link_rx_peek(&rx, &shared, &len);
        if (st == NET_LINK_EMPTY || st == NET_LINK_NOT_READY) {
            break;
        }
        if (st == NET_LINK_ERROR) {
            link_stop(&rx);
            break;
        }
        memcpy(frame, shared, len);     /* 14..1514 bytes, checked by net_link_rx_peek */
        uint32_t reply = answer(len);
        if (reply != 0) {
            if (!send_reply(reply)) {
                break;
            }
            answered();
        }
        if (net_link_rx_release(&rx) == NET_LINK_ERROR) {
            link_stop(&rx);
        }
    }
    bool notify_tx = link_ok && net_link_tx_notify_needed(&tx);
    bool notify_rx = link_ok && net_link_rx_notify_needed(&rx);
    if (notify_tx || notify_rx) {
        microkit_notify(LINK_CHANNEL);
    }
}

void init(void)
{
    uint64_t size = net_link_region_size(LINK_CAPACITY);
    if (!net_link_tx_init(&tx, (void *)uplink_tx, size, LINK_CAPACITY, "uplink, to the VM")
        || !net_link_rx_init(&rx, (void *)uplink_rx, size, LINK_CAPACITY, "uplink, from the VM")) {
        vmm_log("no rings (uplink_tx 0x%lx, uplink_rx 0x%lx): are they mapped with setvar_vaddr?",
                (unsigned long)uplink_tx, (unsigned long)uplink_rx);
        return;
    }
    link_ok = true;
    vmm_log("link up (tx ring 0x%lx, rx ring 0x%lx)", (unsigned long)uplink_tx,
            (unsigned long)uplink_rx);
    /* Our ring's header is written: the VMM may attach. Frames it sent already are served. */
    microkit_notify(LINK_CHANNEL);
    serve();
}

void notified(microkit_channel ch)
{
    if (ch == LINK_CHANNEL) {
        serve();
    } else {
        vmm_log("notification on unexpected channel %u", (unsigned)ch);
    }
}
