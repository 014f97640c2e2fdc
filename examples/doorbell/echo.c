/*
 * The native side of examples/doorbell-qemu.ts: a Microkit PD that answers the guest's
 * messages (docs/doorbell.md). The guest writes a request into the mailbox and rings; the ring
 * is a notification on GUEST_CHANNEL. The PD checks the request, writes the reply and
 * notifies the VM back, which the guest sees as an edge on its notify line. sel4cp-synth builds
 * this file against the SDK's libmicrokit (protectionDomain({ sources })).
 *
 * Nothing from the guest is trusted: a request out of order, or with the wrong value, is
 * reported and not answered.
 */
#include <stdint.h>

#include <microkit.h>

#include "mailbox.h"

/* The channel id of this PD's end of channel(vm, end(echo, { id: 1 })) in the systems.ts. */
#define GUEST_CHANNEL 1

/* Set by the Microkit tool to where the mailbox is mapped (map(..., { setvarVaddr: 'mailbox' })). */
uintptr_t mailbox;

static uint32_t answered;

static void put_u32(uint32_t v)
{
    char out[11];
    int i = sizeof(out) - 1;
    out[i] = '\0';
    do {
        out[--i] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    microkit_dbg_puts(&out[i]);
}

static void report(const char *what, uint32_t seq)
{
    microkit_dbg_puts("echo: ");
    microkit_dbg_puts(what);
    microkit_dbg_puts(" at sequence ");
    put_u32(seq);
    microkit_dbg_puts("\n");
}

void init(void)
{
    microkit_dbg_puts("echo: ready\n");
}

void notified(microkit_channel ch)
{
    if (ch != GUEST_CHANNEL) {
        return;
    }
    volatile struct mailbox *box = (volatile struct mailbox *)mailbox;
    uint32_t seq = box->request_seq;
    if (seq != answered + 1u) {
        report("request out of order", seq);
        return;
    }
    if (box->request_value != mailbox_request_value(seq)) {
        report("request with a wrong value", seq);
        return;
    }
    box->reply_value = mailbox_reply_value(seq);
    /* The value is in memory before the sequence number that makes it valid. */
    __asm__ volatile("dmb sy" ::: "memory");
    box->reply_seq = seq;
    answered = seq;
    if (answered % 250u == 0) {
        report("answered in order up to", answered);
    }
    microkit_notify(GUEST_CHANNEL);
}
