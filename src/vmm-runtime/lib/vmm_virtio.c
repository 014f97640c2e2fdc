/*
 * The VMM's virtio devices: one virtio-mmio device per config entry, wired to the vGIC (each
 * device's level-triggered SPI), to its network link (two net_link rings and a channel), to
 * its disk region, or to the console's input UART; its window is a region of the MMIO bus.
 * Pure apart from the callbacks in struct vmm_virtio_env, so the host tests can run it with
 * fake channels.
 */
#include "vmm_virtio.h"

#include "pl011_emul.h"
#include "vmm_fmt.h"
#include "vmm_string.h"
#include "vmm_wake.h"

/* A frame virtio-net takes from the guest fits the link, and one the link carries fits the
 * guest. */
_Static_assert(VIRTIO_NET_MAX_FRAME == NET_LINK_MAX_PLAIN_FRAME
               && VIRTIO_NET_MAX_GSO_FRAME == NET_LINK_MAX_FRAME
               && VIRTIO_NET_ETH_HLEN == NET_LINK_MIN_FRAME,
               "virtio-net and the net link carry the same Ethernet frames");

static struct virtio_mmio_dev *mmio_of(struct vmm_virtio_dev *v)
{
    switch (v->cfg->kind) {
    case VMM_CONFIG_VIRTIO_NET: return &v->u.net.dev;
    case VMM_CONFIG_VIRTIO_BLOCK: return &v->u.blk.dev;
    default: return &v->u.con.dev;
    }
}

/* The device's interrupt line went up: raise its SPI unless it is already with the guest. */
static void raise_irq(void *ctx)
{
    struct vmm_virtio_dev *v = ctx;
    if (!v->asserted) {
        v->asserted = true;
        v->irqs++;
        vgic_raise(v->owner->env.vgic, 0, v->cfg->intid);
    }
}

static bool device_failed(struct vmm_virtio_dev *v)
{
    vmm_snprintf(v->owner->report, sizeof(v->owner->report), "%s: %s", v->name,
                 virtio_mmio_report(mmio_of(v)));
    return false;
}

/* ---------------------------------------------------------------- network links */


/* Where net_link_tx_send's pieces of a frame come from: the guest's transmit chain. */
struct chain_src {
    const struct virtq_chain *c;
    size_t skip;
};

static void fill_from_chain(void *ctx, size_t offset, uint8_t *dst, size_t len)
{
    const struct chain_src *src = ctx;
    virtq_chain_read(src->c, src->skip + offset, dst, len);
}

/* virtio-net's checked transmit header as the link's frame fields (docs/net-link.md). */
static struct net_link_meta meta_of(const struct virtio_net_hdr *h)
{
    struct net_link_meta m = { 0, 0, 0, 0 };
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        m.flags |= NET_LINK_DESC_CSUM_PARTIAL;
        m.csum_start = h->csum_start;
        m.csum_offset = (uint8_t)h->csum_offset;    /* < 256: virtio_net checked it */
    }
    if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        m.flags |= h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ? NET_LINK_DESC_GSO_TCPV4
                                                           : NET_LINK_DESC_GSO_TCPV6;
        m.gso_size = h->gso_size;
    }
    return m;
}

/* virtio_net backend: copy the frame once into free buffers of the ring we send on. */
static bool link_tx(void *ctx, const struct virtq_chain *c, size_t skip, size_t len,
                    const struct virtio_net_hdr *hdr)
{
    struct vmm_virtio_dev *v = ctx;
    if (v->link_broken) {
        return true;    /* the link is down: the frame is dropped */
    }
    struct net_link_meta m = meta_of(hdr);
    struct chain_src src = { c, skip };
    enum net_link_status st = net_link_tx_send(&v->tx, (uint32_t)len, &m, fill_from_chain, &src);
    if (st == NET_LINK_EMPTY) {
        return false;   /* retried when the peer signals free buffers */
    }
    if (st == NET_LINK_ERROR) {
        v->link_broken = true;
        vmm_log("%s: link stopped: %s", v->name, v->tx.report);
    }
    return true;
}

/* A frame from the link as virtio-net delivers it (its fields were checked by net_link). */
static struct virtio_net_frame frame_of(const struct net_link_frame *lf)
{
    struct virtio_net_frame f = { .len = lf->len, .count = lf->count, .seg = lf->seg,
                                  .seg_len = lf->seg_len };
    memset(&f.hdr, 0, sizeof(f.hdr));
    const struct net_link_meta *m = &lf->meta;
    if (m->flags & NET_LINK_DESC_CSUM_PARTIAL) {
        f.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        f.hdr.csum_start = m->csum_start;
        f.hdr.csum_offset = m->csum_offset;
    } else if (m->flags & NET_LINK_DESC_CSUM_VALID) {
        f.hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    if (m->flags & (NET_LINK_DESC_GSO_TCPV4 | NET_LINK_DESC_GSO_TCPV6)) {
        f.hdr.gso_type = (m->flags & NET_LINK_DESC_GSO_TCPV4) ? VIRTIO_NET_HDR_GSO_TCPV4
                                                               : VIRTIO_NET_HDR_GSO_TCPV6;
        f.hdr.gso_size = m->gso_size;
    }
    return f;
}

static void link_stopped(struct vmm_virtio_dev *v, const struct net_link_end *l)
{
    v->link_broken = true;
    vmm_log("%s: link stopped: %s", v->name, l->report);
}

/* Frames waiting on the ring we receive on, into the guest's receive buffers. */
static bool link_rx(struct vmm_virtio_dev *v)
{
    for (;;) {
        const struct net_link_frame *lf;
        enum net_link_status st = net_link_rx_peek_frame(&v->rx, &lf);
        if (st == NET_LINK_EMPTY || st == NET_LINK_NOT_READY) {
            return true;
        }
        if (st == NET_LINK_ERROR) {
            link_stopped(v, &v->rx);
            return true;
        }
        struct virtio_net_frame f = frame_of(lf);
        enum virtio_net_rx_status r = virtio_net_rx(&v->u.net, &f);
        if (r == VIRTIO_NET_RX_GUEST_ERROR) {
            return device_failed(v);
        }
        if (r == VIRTIO_NET_RX_NO_BUFFER) {
            return true;    /* kept on the ring; rx_ready brings us back */
        }
        if (net_link_rx_release(&v->rx) == NET_LINK_ERROR) {
            link_stopped(v, &v->rx);
            return true;
        }
    }
}

/* After any work on a link: tell the peer if it asked (sDDF-style consumer_signalled). */
static void link_signal(struct vmm_virtio_dev *v)
{
    bool tx = !v->link_broken && net_link_tx_notify_needed(&v->tx);
    bool rx = !v->link_broken && net_link_rx_notify_needed(&v->rx);
    if (tx || rx) {
        v->peer_notifies++;
        v->owner->env.notify(v->cfg->channel);
    }
}

/* The guest posted receive buffers: frames held on the ring can go in now. */
static void link_rx_ready(void *ctx)
{
    struct vmm_virtio_dev *v = ctx;
    if (!v->link_broken) {
        (void)link_rx(v);
    }
}

/* The guest-facing virtio-net device; the link ends are set up once (`first`) and kept across
 * guest restarts, so the peer's rings and counters stay valid. */
static bool init_net(struct vmm_virtio_dev *v, const struct virtio_guest_mem *mem, bool first,
                     char *err, unsigned n)
{
    const struct vmm_config_virtio *c = v->cfg;
    struct virtio_net_backend backend = { v, link_tx, link_rx_ready };
    if ((first && (!net_link_tx_init(&v->tx, (void *)(uintptr_t)c->a_vaddr, c->a_size,
                                     c->capacity, v->name)
                   || !net_link_rx_init(&v->rx, (void *)(uintptr_t)c->b_vaddr, c->b_size,
                                        c->capacity, v->name)))
        || !virtio_net_init(&v->u.net, mem, c->mac, &backend,
                            c->capacity >= VMM_VIRTIO_OFFLOAD_MIN_CAPACITY, raise_irq, v)) {
        return vmm_fail(err, n, "%s: ring or device set-up failed (capacity %u, rings 0x%llx and "
                        "0x%llx bytes)", v->name, c->capacity, (unsigned long long)c->a_size,
                        (unsigned long long)c->b_size);
    }
    v->u.net.tx_defer = true;
    virtio_net_tx_poll_mode(&v->u.net);     /* vmm_virtio_exit_done polls */
    if (!first) {
        /* The new guest sees the wire as the peer left it, and nothing the last one was sent:
         * frames still waiting were for it. Then the peer learns we are up again. */
        bool up;
        (void)net_link_rx_peer_state(&v->rx, &up);
        virtio_net_set_link(&v->u.net, v->rx.attached ? up : true);
        if (!v->link_broken && net_link_rx_drop_all(&v->rx) < 0) {
            v->link_broken = true;
            vmm_log("%s: link stopped: %s", v->name, v->rx.report);
        }
        net_link_tx_set_state(&v->tx, true);
    }
    /* Our ring's header is written (or our state changed): the peer may look (a pending
     * signal is not lost). */
    v->owner->env.notify(c->channel);
    return true;
}

/* ---------------------------------------------------------------- console */

static void uart_putc(struct vmm_virtio_dev *v, char ch)
{
    while (v->uart[PL011_UARTFR / 4] & PL011_FR_TXFF) {
    }
    v->uart[PL011_UARTDR / 4] = (uint8_t)ch;
}

/* Guest output, each line prefixed with the VM's name; straight to the UART when we own it
 * (release builds have no kernel console), else to the kernel's debug console. */
static void console_sink(void *ctx, const uint8_t *bytes, size_t len)
{
    struct vmm_virtio_dev *v = ctx;
    char out[256];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (v->at_line_start) {
            o += (size_t)vmm_snprintf(out + o, sizeof(out) - o, "%s| ", v->owner->env.vm_name);
            v->at_line_start = false;
        }
        out[o++] = (char)bytes[i];
        if (bytes[i] == '\n') {
            v->at_line_start = true;
        }
        if (o > sizeof(out) - 48 || i + 1 == len) {
            out[o] = '\0';
            if (v->uart != NULL) {
                for (size_t k = 0; k < o; k++) {
                    uart_putc(v, out[k]);
                }
            } else {
                vmm_log_sink(out);
            }
            o = 0;
        }
    }
}

/* The input UART's interrupt: drain its receive FIFO into the console. The interrupt is
 * cleared first and the FIFO then read until empty: a character that arrives after the last
 * read raises it again, whereas one that arrived before a clear done after the reads would
 * wait in the FIFO with no interrupt to announce it (QEMU's PL011 raises RX only when its
 * FIFO goes from empty to one character), and input would stop. */
static bool console_input(struct vmm_virtio_dev *v)
{
    v->uart[PL011_UARTICR / 4] = PL011_INT_RX | PL011_INT_RT;
    bool ok;
    size_t n;
    do {
        uint8_t buf[64];
        n = 0;
        while (n < sizeof(buf) && !(v->uart[PL011_UARTFR / 4] & PL011_FR_RXFE)) {
            buf[n++] = (uint8_t)v->uart[PL011_UARTDR / 4];
        }
        ok = n == 0 || virtio_console_input(&v->u.con, buf, n);
    } while (ok && n != 0);
    v->owner->env.irq_ack(v->cfg->channel);
    return ok || device_failed(v);
}

/* ---------------------------------------------------------------- life cycle */

static bool init_one(struct vmm_virtio_dev *v, const struct virtio_guest_mem *mem, bool first,
                     char *err, unsigned n)
{
    const struct vmm_config_virtio *c = v->cfg;
    switch (c->kind) {
    case VMM_CONFIG_VIRTIO_NET:
        vmm_snprintf(v->name, sizeof(v->name), "VM '%s' virtio-net %u", v->owner->env.vm_name,
                     (unsigned)(v - v->owner->devs));
        return init_net(v, mem, first, err, n);
    case VMM_CONFIG_VIRTIO_BLOCK:
        vmm_snprintf(v->name, sizeof(v->name), "VM '%s' virtio-blk %u", v->owner->env.vm_name,
                     (unsigned)(v - v->owner->devs));
        /* The disk is copied in once (the image travels in the VMM's ELF on Microkit 2.0.1;
         * a prefilled region needs no copy): like a real disk, what a guest wrote is still
         * there after a restart. */
        if (first && c->b_size != 0) {
            memcpy((void *)(uintptr_t)c->a_vaddr, (const void *)(uintptr_t)c->b_vaddr, c->b_size);
            v->owner->disk_bytes_copied += c->b_size;
        }
        if (!virtio_blk_init(&v->u.blk, mem, (uint8_t *)(uintptr_t)c->a_vaddr,
                             c->a_size / VIRTIO_BLK_SECTOR_SIZE,
                             (c->flags & VMM_CONFIG_VIRTIO_READ_ONLY) != 0, v->name, raise_irq,
                             v)) {
            return vmm_fail(err, n, "%s: device set-up failed", v->name);
        }
        return true;
    default:
        vmm_snprintf(v->name, sizeof(v->name), "VM '%s' virtio-console",
                     v->owner->env.vm_name);
        v->at_line_start = true;
        if (c->a_vaddr != 0) {
            v->uart = (volatile uint32_t *)(uintptr_t)c->a_vaddr;
            v->uart[PL011_UARTIMSC / 4] |= PL011_INT_RX | PL011_INT_RT;
        }
        if (!virtio_console_init(&v->u.con, mem, console_sink, v, raise_irq, v)) {
            return vmm_fail(err, n, "%s: device set-up failed", v->name);
        }
        return true;
    }
}

/* An access to the device's window (a region of the MMIO bus). */
static enum mmio_status window_access(void *opaque, struct mmio_access *a)
{
    struct vmm_virtio_dev *v = opaque;
    v->accesses++;
    if (v->cfg->kind == VMM_CONFIG_VIRTIO_NET && a->write && a->offset == VIRTIO_MMIO_QUEUE_NOTIFY
        && a->value == VIRTIO_NET_TX_QUEUE) {
        v->owner->tx_kick = true;   /* this exit sends: its completions wait (virtio_net.h) */
    }
    bool ok = virtio_mmio_access(mmio_of(v), a->offset, a->write, a->width, &a->value);
    if (v->cfg->kind == VMM_CONFIG_VIRTIO_NET && !v->link_broken) {
        link_signal(v);
    }
    if (!ok) {
        device_failed(v);
        a->why = v->owner->report;
        return MMIO_DEVICE_FAILED;
    }
    return MMIO_OK;
}

bool vmm_virtio_register(struct vmm_virtio *vv, const struct vmm_config *c, struct mmio_bus *bus,
                         char *err, size_t err_size)
{
    for (unsigned i = 0; i < c->virtio_count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        v->owner = vv;
        v->cfg = &c->virtio[i];
        struct mmio_region r = { c->virtio[i].guest_base, VMM_CONFIG_VIRTIO_WINDOW, "virtio",
                                 window_access, v };
        if (!mmio_bus_register(bus, &r, err, err_size)) {
            return false;
        }
    }
    return true;
}

/* Sets up (first) or resets every device; a reset keeps each link's ends and its state. */
static bool setup_all(struct vmm_virtio *vv, const struct vmm_config *c,
                      const struct vmm_virtio_env *env, bool first, char *err, unsigned err_size)
{
    vv->env = *env;
    vv->count = c->virtio_count;
    vv->report[0] = '\0';
    vv->disk_bytes_copied = 0;
    struct virtio_guest_mem mem = { c->ram_guest_base, c->ram_size,
                                    (uint8_t *)(uintptr_t)c->ram_vmm_vaddr };
    for (unsigned i = 0; i < vv->count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        if (first) {
            memset(v, 0, sizeof(*v));
        } else {
            memset(&v->u, 0, sizeof(v->u));
            v->asserted = false;
            v->tx_held = false;
        }
        v->owner = vv;
        v->cfg = &c->virtio[i];
        if (!init_one(v, &mem, first, err, err_size)) {
            return false;
        }
        struct vgic_irq *irq = vgic_irq(env->vgic, 0, c->virtio[i].intid);
        if (irq != NULL) {
            irq->edge = false;
        }
    }
    return true;
}

bool vmm_virtio_init(struct vmm_virtio *vv, const struct vmm_config *c,
                     const struct vmm_virtio_env *env, char *err, unsigned err_size)
{
    return setup_all(vv, c, env, true, err, err_size);
}

bool vmm_virtio_reset(struct vmm_virtio *vv, const struct vmm_config *c,
                      const struct vmm_virtio_env *env, char *err, unsigned err_size)
{
    return setup_all(vv, c, env, false, err, err_size);
}

void vmm_virtio_guest_down(struct vmm_virtio *vv)
{
    for (unsigned i = 0; i < vv->count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->kind != VMM_CONFIG_VIRTIO_NET || v->link_broken) {
            continue;
        }
        net_link_tx_set_state(&v->tx, false);
        if (net_link_rx_drop_all(&v->rx) < 0) {
            v->link_broken = true;
            vmm_log("%s: link stopped: %s", v->name, v->rx.report);
        }
        link_signal(v);
        v->owner->env.notify(v->cfg->channel);
    }
}

bool vmm_virtio_notified_down(struct vmm_virtio *vv, unsigned channel)
{
    bool mine = false;
    for (unsigned i = 0; i < vv->count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->channel != channel || v->cfg->kind == VMM_CONFIG_VIRTIO_BLOCK) {
            continue;
        }
        mine = true;
        if (v->cfg->kind == VMM_CONFIG_VIRTIO_CONSOLE) {
            /* Typed while the guest is down: read and dropped, the interrupt acked. */
            if (v->uart != NULL) {
                v->uart[PL011_UARTICR / 4] = PL011_INT_RX | PL011_INT_RT;
                while (!(v->uart[PL011_UARTFR / 4] & PL011_FR_RXFE)) {
                    (void)v->uart[PL011_UARTDR / 4];
                }
                v->owner->env.irq_ack(channel);
            }
            continue;
        }
        if (!v->link_broken && net_link_rx_drop_all(&v->rx) < 0) {
            v->link_broken = true;
            vmm_log("%s: link stopped: %s", v->name, v->rx.report);
        }
        if (!v->link_broken) {
            link_signal(v);
        }
    }
    return mine;
}

/* The peer's side of the wire went down or came up: the guest sees it as the link status. */
static void link_state(struct vmm_virtio_dev *v)
{
    bool up;
    if (net_link_rx_peer_state(&v->rx, &up)) {
        vmm_log("%s: link %s (the peer's side)", v->name, up ? "up" : "down");
        virtio_net_set_link(&v->u.net, up);
    }
}

bool vmm_virtio_notified(struct vmm_virtio *vv, unsigned channel, bool *guest_error)
{
    *guest_error = false;
    bool mine = false;
    for (unsigned i = 0; i < vv->count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->channel != channel || virtio_mmio_broken(mmio_of(v))) {
            continue;
        }
        mine = true;
        bool ok = true;
        if (v->cfg->kind == VMM_CONFIG_VIRTIO_NET && !v->link_broken) {
            ok = link_rx(v) && virtio_net_tx_kick(&v->u.net);
            link_state(v);
            link_signal(v);
        } else if (v->cfg->kind == VMM_CONFIG_VIRTIO_CONSOLE && v->uart != NULL) {
            ok = console_input(v);
        }
        if (!ok) {
            device_failed(v);
            *guest_error = true;
        }
    }
    return mine;
}

/* Whether held sent chains go back now (vmm_virtio_exit_done's rule); starts the hold. */
static bool tx_return_due(struct vmm_virtio_dev *v, bool kick, uint64_t now)
{
    if (v->u.net.tx_done_count == 0) {
        v->tx_held = false;
        return false;
    }
    if (!v->tx_held) {
        v->tx_held = true;
        v->tx_hold_until = now + v->owner->env.tx_hold_ticks;
    }
    return !kick && (virtio_mmio_irq_pending(&v->u.net.dev) || now >= v->tx_hold_until);
}

bool vmm_virtio_exit_done(struct vmm_virtio *vv, uint64_t now)
{
    bool kick = vv->tx_kick;
    vv->tx_kick = false;
    for (unsigned i = 0; i < vv->count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->kind != VMM_CONFIG_VIRTIO_NET || virtio_mmio_broken(&v->u.net.dev)) {
            continue;
        }
        /* Transmit polling (virtio_net.h): what the guest queued since its last exit (over
         * a broken link too, which drops it, so the chains go back). */
        if (!virtio_net_tx_poll(&v->u.net)) {
            return device_failed(v);
        }
        link_signal(v);
        if (tx_return_due(v, kick, now)) {
            v->tx_held = false;
            if (!virtio_net_tx_return(&v->u.net)) {
                return device_failed(v);
            }
        }
    }
    return true;
}

bool vmm_virtio_idle(struct vmm_virtio *vv, uint64_t now, uint64_t *wake)
{
    *wake = WAKE_NEVER;
    if (!vmm_virtio_exit_done(vv, now)) {
        return false;
    }
    for (unsigned i = 0; i < vv->count; i++) {
        const struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->kind == VMM_CONFIG_VIRTIO_NET && v->tx_held && v->tx_hold_until < *wake) {
            *wake = v->tx_hold_until;
        }
    }
    return true;
}

bool vmm_virtio_eoi(struct vmm_virtio *vv, unsigned intid)
{
    for (unsigned i = 0; i < vv->count; i++) {
        struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->intid != intid) {
            continue;
        }
        v->asserted = false;
        if (virtio_mmio_irq_pending(mmio_of(v))) {
            raise_irq(v);
        }
        return true;
    }
    return false;
}

const char *vmm_virtio_report(const struct vmm_virtio *vv)
{
    return vv->report;
}

void vmm_virtio_log_stats(const struct vmm_virtio *vv)
{
    for (unsigned i = 0; i < vv->count; i++) {
        const struct vmm_virtio_dev *v = &vv->devs[i];
        if (v->cfg->kind == VMM_CONFIG_VIRTIO_NET) {
            const struct virtio_net *n = &v->u.net;
            vmm_log("%s: tx %lu frames (%lu dropped), rx %lu frames (%lu dropped)", v->name,
                    n->tx_frames, n->tx_dropped, n->rx_frames, n->rx_dropped);
        } else if (v->cfg->kind == VMM_CONFIG_VIRTIO_BLOCK) {
            vmm_log("%s: %lu reads, %lu writes, %lu errors", v->name, v->u.blk.reads,
                    v->u.blk.writes, v->u.blk.errors);
        }
    }
}

void vmm_virtio_log_counters(const struct vmm_virtio *vv, const char *label)
{
    for (unsigned i = 0; i < vv->count; i++) {
        const struct vmm_virtio_dev *v = &vv->devs[i];
        const struct virtio_mmio_dev *d = &v->u.net.dev;
        unsigned long txf = 0, rxf = 0;
        unsigned long long txb = 0, rxb = 0;
        if (v->cfg->kind == VMM_CONFIG_VIRTIO_NET) {
            txf = v->u.net.tx_frames;
            rxf = v->u.net.rx_frames;
            txb = v->u.net.tx_bytes;
            rxb = v->u.net.rx_bytes;
        } else if (v->cfg->kind == VMM_CONFIG_VIRTIO_BLOCK) {
            d = &v->u.blk.dev;
        } else {
            d = &v->u.con.dev;
        }
        vmm_log("%s counters '%s': mmio=%lu kicks=%lu irqs=%lu peer_notify=%lu tx_frames=%lu "
                "tx_bytes=%llu rx_frames=%lu rx_bytes=%llu", v->name, label, v->accesses,
                d->queue_notifies, v->irqs, v->peer_notifies, txf, txb, rxf, rxb);
    }
}
