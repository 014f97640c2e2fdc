/*
 * Checks of the timer PD's configuration blob (timer_config.h): the preamble and CRC, then
 * every field, before the timer PD reads a single slot address from it.
 */
#include "timer_config.h"
#include "vmm_blob.h"
#include "vmm_fmt.h"

static bool check_client(const struct timer_config *c, unsigned i, char *err, size_t err_size)
{
    const struct timer_config_client *cl = &c->clients[i];
    if (cl->channel > MICROKIT_LIMIT_MAX_CHANNEL) {
        return vmm_fail(err, err_size, "client %u has channel %u, beyond %u", i, cl->channel,
                        MICROKIT_LIMIT_MAX_CHANNEL);
    }
    if (cl->channel == c->irq_channel) {
        return vmm_fail(err, err_size, "client %u shares channel %u with the timer interrupt", i,
                        cl->channel);
    }
    if (cl->slot_vaddr == 0 || cl->slot_vaddr % WAKE_SLOT_REGION_SIZE != 0) {
        return vmm_fail(err, err_size, "client %u has wake slot address 0x%llx, not a non-zero "
                        "page address", i, (unsigned long long)cl->slot_vaddr);
    }
    for (unsigned k = 0; k < 7; k++) {
        if (cl->reserved[k] != 0) {
            return vmm_fail(err, err_size, "client %u has non-zero reserved bytes", i);
        }
    }
    for (unsigned j = 0; j < i; j++) {
        if (c->clients[j].channel == cl->channel || c->clients[j].slot_vaddr == cl->slot_vaddr) {
            return vmm_fail(err, err_size, "clients %u and %u share a channel or a wake slot", j,
                            i);
        }
    }
    return true;
}

bool timer_config_check(const uint8_t *blob, size_t len, char *err, size_t err_size)
{
    static const struct blob_kind kind = {
        TIMER_CONFIG_MAGIC, "S4TM", TIMER_CONFIG_VERSION, sizeof(struct timer_config),
        TIMER_CONFIG_RESERVED_SIZE,
    };
    if (!blob_check_preamble(blob, len, &kind, err, err_size)) {
        return false;
    }
    /* The section is 8-byte aligned (timer/timer.c), so the struct view is safe. */
    const struct timer_config *c = (const struct timer_config *)(const void *)blob;
    if (c->source == TIMER_SOURCE_ARM_PTIMER) {
        if (c->irq_channel > MICROKIT_LIMIT_MAX_CHANNEL) {
            return vmm_fail(err, err_size, "the physical timer needs an interrupt channel, not %u",
                            c->irq_channel);
        }
    } else if (c->source == TIMER_SOURCE_SCHED_TICK) {
        if (c->irq_channel != TIMER_CONFIG_NO_CHANNEL) {
            return vmm_fail(err, err_size, "the scheduling tick has no interrupt, but channel %u "
                            "is given", c->irq_channel);
        }
        if (c->tick_us == 0) {
            return vmm_fail(err, err_size, "the scheduling tick has a period of 0 us");
        }
    } else {
        return vmm_fail(err, err_size, "unknown time source %u", c->source);
    }
    if (c->reserved0 != 0) {
        return vmm_fail(err, err_size, "non-zero reserved byte");
    }
    if (c->client_count == 0 || c->client_count > WAKE_MAX_CLIENTS) {
        return vmm_fail(err, err_size, "client count %u is outside 1..%u", c->client_count,
                        WAKE_MAX_CLIENTS);
    }
    for (unsigned i = 0; i < c->client_count; i++) {
        if (!check_client(c, i, err, err_size)) {
            return false;
        }
    }
    return true;
}
