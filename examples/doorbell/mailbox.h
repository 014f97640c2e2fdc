/*
 * The mailbox of examples/doorbell-qemu.ts: one page shared by the guest program (client.c)
 * and the native PD (echo.c). The guest writes a request and rings; the PD answers and
 * notifies. Every field is an aligned 32-bit word: the guest maps the page through /dev/mem,
 * which Linux maps as Device memory, where unaligned accesses fault.
 */
#pragma once

#include <stdint.h>

#define MAILBOX_SIZE 4096

struct mailbox {
    uint32_t request_seq;       /* written by the guest, last */
    uint32_t request_value;
    uint32_t pad0[14];
    uint32_t reply_seq;         /* written by the PD, last */
    uint32_t reply_value;
};

/* What message `seq` carries, and what its reply must carry. */
static inline uint32_t mailbox_request_value(uint32_t seq) { return seq * 2654435761u; }
static inline uint32_t mailbox_reply_value(uint32_t seq) { return ~mailbox_request_value(seq) ^ seq; }
