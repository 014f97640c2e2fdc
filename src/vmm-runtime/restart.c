/*
 * A VM's life cycle on its VMM (vmm_lifecycle.h decides, this carries out): the first start,
 * the restart policy when the guest stops, a controlling PD's commands (vmm_control.h) and
 * the state it is told, and what a notification means while the guest is stopped.
 *
 * A restart is a cold boot of the same guest, with nothing of the last incarnation left for
 * the next to read: guest RAM cleared (and cleaned to the point of coherency, as the new
 * kernel starts with its caches off), the images placed again from their pristine copies
 * (guest_images_place), every vCPU register as the kernel first gave it (vmm_start_vcpu), the
 * vGIC and the virtual timer reset, every virtio device reset, and the peers of its network
 * links told our side went down and came back up (net_link.h version 2). Nothing the guest
 * controls decides anything here beyond the cause of its stop: the VMM has no capability to
 * any other VM, so a hostile guest can stop and restart only itself.
 */
#include <microkit.h>

#include "linux_boot.h"
#include "vmm.h"
#include "vmm_control.h"
#include "vmm_fmt.h"
#include "vmm_lifecycle.h"
#include "vmm_microkit.h"
#include "vmm_wake.h"

#include "vmm_string.h"

static volatile struct vmm_control_page *control_page(const struct vmm *vmm)
{
    return (volatile struct vmm_control_page *)(uintptr_t)vmm->config->control_vaddr;
}

static bool controlled(const struct vmm *vmm)
{
    return vmm->config->control_channel != VMM_CONFIG_NO_CHANNEL;
}

/* The state line on the console, and the state block for the controlling PD, then its
 * notification (state_seq last, after a barrier: vmm_control.h). A restart without backoff
 * prints only its "restarted" line. */
static void publish_state(struct vmm *vmm)
{
    if (vmm->life.state != VMM_VM_RESTARTING || vmm->life.backoff_ms != 0) {
        char line[LIFECYCLE_DETAIL_SIZE + 120];
        lifecycle_line(&vmm->life, vmm->name, line, sizeof(line));
        vmm_log("%s", line);
    }
    if (!controlled(vmm)) {
        return;
    }
    volatile struct vmm_control_state *st = &control_page(vmm)->state;
    const struct vmm_lifecycle *l = &vmm->life;
    st->magic = VMM_CONTROL_MAGIC;
    st->version = VMM_CONTROL_VERSION;
    st->state = l->state;
    st->cause = l->cause;
    st->restarts = l->restarts;
    st->max_restarts = l->max_restarts;
    st->incarnation = l->incarnation;
    __asm__ volatile("dmb ish" : : : "memory");
    st->state_seq = l->state_seq;
    microkit_notify(vmm->config->control_channel);
}

/* Nothing of the last incarnation stays readable: zeroes and cleans all of guest RAM. What it
 * cost goes on the console for npm run bench (bench/lifecycle.ts reads the line). */
static void clear_guest_ram(struct vmm *vmm)
{
    uint64_t start = vmm_counter_now();
    uint8_t *ram = (uint8_t *)(uintptr_t)vmm->config->ram_vmm_vaddr;
    guest_ram_zero(ram, vmm->config->ram_size);
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    uint64_t us = frequency != 0 ? (vmm_counter_now() - start) * 1000000u / frequency : 0;
    vmm_log("VM '%s' RAM cleared: %llu MiB in %llu us", vmm->name,
            (unsigned long long)(vmm->config->ram_size >> 20), (unsigned long long)us);
}

/* Starts the guest: afresh (`first` false: RAM cleared, devices reset) or at init. */
static bool start_guest(struct vmm *vmm, bool first, uint32_t cause)
{
    char err[200];
    vmm->restart_at = WAKE_NEVER;
    if (!first) {
        vmm_release_held_interrupts(vmm);
        clear_guest_ram(vmm);
    }
    if (!vmm_boot(vmm, first, err, sizeof(err))) {
        vmm_log("VM '%s' not started: %s", vmm->name, err);
        vmm->running = false;
        lifecycle_start_failed(&vmm->life, err);
        publish_state(vmm);
        return false;
    }
    lifecycle_running(&vmm->life, cause);
    publish_state(vmm);
    return true;
}

void vmm_life_init(struct vmm *vmm)
{
    lifecycle_init(&vmm->life, vmm->config);
    vmm->restart_at = WAKE_NEVER;
    vmm->irqs_held = 0;
    start_guest(vmm, true, VMM_CAUSE_BOOT);
}

/* The restart policy's backoff: the timer PD is asked to notify us when it has passed. */
static void schedule_restart(struct vmm *vmm)
{
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    uint64_t ticks = frequency / 1000u * vmm->life.backoff_ms;
    vmm->restart_at = wake_add(vmm_counter_now(), ticks);
    vmm_post_wake_deadline(vmm);
}

void vmm_guest_stopped(struct vmm *vmm, uint32_t cause, const char *detail)
{
    vmm_virtio_guest_down(&vmm->virtio);
    enum lifecycle_action a = lifecycle_guest_stopped(&vmm->life, cause, detail);
    publish_state(vmm);
    if (a != LIFECYCLE_RESTART) {
        return;
    }
    if (vmm->life.backoff_ms != 0 && vmm_idle_blocks(vmm)) {
        schedule_restart(vmm);
        return;
    }
    start_guest(vmm, false, cause);
}

/* A STOP of the running (or restarting) guest. */
static void stop_by_command(struct vmm *vmm)
{
    vmm->restart_at = WAKE_NEVER;
    if (vmm->running) {
        vmm_log("VM '%s' stopped: by a command of its controller", vmm->name);
        vmm_halt(vmm);
        vmm_virtio_guest_down(&vmm->virtio);
    }
    lifecycle_stopped_by_command(&vmm->life);
    publish_state(vmm);
}

/* The controlling PD notified: its command block, read once and checked (vmm_control.h). */
static void control_notified(struct vmm *vmm)
{
    volatile struct vmm_control_page *page = control_page(vmm);
    uint32_t seq = page->command.seq;
    if (seq == vmm->life.command_seq) {
        return;
    }
    __asm__ volatile("dmb ish" : : : "memory");    /* the seq before the command it covers */
    uint32_t command = page->command.command;
    vmm->life.command_seq = seq;
    int32_t result;
    enum lifecycle_action a = lifecycle_command(&vmm->life, command, &result);
    if (a == LIFECYCLE_STOP || (a == LIFECYCLE_RESTART && vmm->life.state != VMM_VM_STOPPED)) {
        stop_by_command(vmm);
    }
    if ((a == LIFECYCLE_START || a == LIFECYCLE_RESTART)
        && !start_guest(vmm, false, VMM_CAUSE_COMMAND)) {
        result = VMM_CONTROL_E_FAILED;
    }
    if (result != VMM_CONTROL_OK) {
        vmm_log("VM '%s': command %u of its controller refused (%d)", vmm->name, command,
                (int)result);
    }
    page->state.result = result;
    __asm__ volatile("dmb ish" : : : "memory");
    page->state.acked_seq = seq;
    microkit_notify(vmm->config->control_channel);
}

/* While stopped: a link peer's frames are dropped, a passthrough IRQ is held (acked when the
 * guest starts again), and the timer PD's notification may mean the backoff has passed. */
static void notified_stopped(struct vmm *vmm, unsigned ch)
{
    const struct vmm_config *config = vmm->config;
    if (vmm_idle_blocks(vmm) && ch == config->timer_channel) {
        vcpu_idle_timer_fired(&vmm->idle);
        if (vmm->restart_at != WAKE_NEVER && vmm_counter_now() >= vmm->restart_at) {
            start_guest(vmm, false, vmm->life.cause);
        } else {
            vmm_post_wake_deadline(vmm);
        }
        return;
    }
    if (vmm_virtio_notified_down(&vmm->virtio, ch)) {
        return;
    }
    for (unsigned i = 0; i < config->irq_count; i++) {
        if (config->irqs[i].channel == ch) {
            vmm->irqs_held |= 1ull << ch;
        }
    }
}

bool vmm_life_notified(struct vmm *vmm, unsigned ch)
{
    if (vmm->life.state == 0) {
        /* init() never got as far as the life cycle (its frames were refused): nothing runs,
         * and nothing may start it. */
        return true;
    }
    if (controlled(vmm) && ch == vmm->config->control_channel) {
        control_notified(vmm);
        return true;
    }
    if (!vmm->running) {
        notified_stopped(vmm, ch);
        return true;
    }
    return false;
}
