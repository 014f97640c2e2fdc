/*
 * The counters line (vmm.h): what a VM cost its VMM so far, printed when the guest asks with a
 * marker line on its console. Pure; the host tests drive it.
 */
#include "vmm.h"
#include "vmm_fmt.h"

bool vmm_counters_marker(const char *line, char *label)
{
    const char *m = VMM_COUNTERS_MARKER;
    unsigned i = 0;
    for (; m[i] != '\0'; i++) {
        if (line[i] != m[i]) {
            return false;
        }
    }
    unsigned n = 0;
    for (const char *p = line + i; *p != '\0' && *p != ' '; p++, n++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '-' || c == '_';
        if (!ok || n == VMM_COUNTERS_LABEL_MAX) {
            return false;
        }
        label[n] = c;
    }
    label[n] = '\0';
    return n > 0;
}

static unsigned long console_exits(const struct vmm *vmm)
{
    unsigned long n = 0;
    for (unsigned i = 0; vmm->config != NULL && i < vmm->config->device_count; i++) {
        n += vmm->uarts[i].accesses;
    }
    return n;
}

void vmm_counters_log(const struct vmm *vmm, const char *label)
{
    const struct vmm_exits *e = &vmm->exits;
    unsigned long exits = e->mmio + e->smc_hvc + e->wfx + e->sysreg + e->maintenance + e->vppi;
    const struct vmm_events *ev = &vmm->events;
    vmm_log("VM '%s' counters '%s': exits=%lu console=%lu mmio=%lu wfx=%lu maintenance=%lu "
            "maintenance_vtimer=%lu vppi=%lu smc_hvc=%lu sysreg=%lu notify_in=%lu "
            "notify_in_timer=%lu notify_out=%lu notify_out_timer=%lu suspends=%lu resumes=%lu "
            "vgic_inject_failures=%u vgic_raise_refused=%u",
            vmm->name, label, exits, console_exits(vmm), e->mmio, e->wfx, e->maintenance,
            e->maintenance_vtimer, e->vppi, e->smc_hvc, e->sysreg, ev->notify_in,
            ev->notify_in_timer, ev->notify_out, ev->notify_out_timer, vmm->idle.blocks,
            ev->resumes, vmm->vgic.inject_failures, vmm->vgic.raise_refused);
    vmm_virtio_log_counters(&vmm->virtio, label);
}
