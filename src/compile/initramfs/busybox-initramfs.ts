/**
 * The test guest's root file system: a static busybox and an /init that proves the guest
 * reached user space, optionally proves console input works, and powers the machine off.
 * Pure: the busybox binary comes in as bytes, the cpio archive goes out as bytes.
 */
import { type CpioEntry, writeCpio } from './cpio.js';

/** Printed by /init once user space runs; tests and `sel4cp-synth run --expect` wait for it. */
export const GUEST_MARKER = 'SEL4CP-SYNTH: guest up';

/** /init prints this followed by the line it read from the console when echo is requested. */
export const GUEST_ECHO_PREFIX = 'SEL4CP-SYNTH: read ';

/**
 * Kernel command-line parameter asking /init to read one console line and echo it. The dot
 * makes the kernel treat it as a (built-in) module parameter, so it is neither passed to init
 * as an argument nor as an environment variable; /init finds it in /proc/cmdline.
 */
export const GUEST_ECHO_PARAM = 'sel4cp_synth.echo=1';

/**
 * Kernel command-line parameter giving the guest its network address, `sel4cp_synth.ip=
 * 10.0.0.1/24` (address/prefix length); networkSetupScript() reads it. Like GUEST_ECHO_PARAM,
 * the dot keeps it from init's arguments and environment, so one initramfs serves every guest
 * on a link and each guest's address is in its own bootargs.
 */
export const GUEST_IP_PARAM = 'sel4cp_synth.ip';

/**
 * Kernel command-line parameter giving the guest its default route, `sel4cp_synth.gw=10.0.2.2`;
 * networkSetupScript() reads it (with GUEST_IP_PARAM).
 */
export const GUEST_GW_PARAM = 'sel4cp_synth.gw';

/**
 * Kernel command-line parameter naming, by MAC, the interfaces a driver VM joins in one bridge
 * (`sel4cp_synth.bridge=02:51:00:00:00:00,02:53:...`): sel4cp-synth adds it to the bootargs of a
 * virtualMachine({ bridge: true }) and networkSetupScript() reads it.
 */
export const GUEST_BRIDGE_PARAM = 'sel4cp_synth.bridge';

/** networkSetupScript() prints this followed by the interface and address once it is up. */
export const GUEST_NET_UP_PREFIX = 'SEL4CP-SYNTH: net up ';

/** networkSetupScript() prints this followed by the bridge's ports once a driver VM's bridge forwards. */
export const GUEST_BRIDGE_UP_PREFIX = 'SEL4CP-SYNTH: bridge br0 up ';

/** The busybox applets networkSetupScript() runs; `read`, `case` and `[` are shell built-ins. */
export const NETWORK_APPLETS = ['ip', 'sleep', 'brctl'] as const;

/**
 * Kernel command line for the test guest on QEMU's virt machine, whose console is the PL011
 * that Linux names `ttyAMA0`; `echo` adds GUEST_ECHO_PARAM, `ip` GUEST_IP_PARAM=ip.
 */
export function qemuVirtGuestCmdline(options: { echo?: boolean; ip?: string } = {}): string {
  return ['console=ttyAMA0', ...(options.echo ? [GUEST_ECHO_PARAM] : []), ...(options.ip ? [`${GUEST_IP_PARAM}=${options.ip}`] : [])].join(' ');
}

/**
 * Shell text for an /init (busybox sh) that configures the network from the kernel command
 * line. With `sel4cp_synth.bridge=MAC,...` there (a driver VM: virtualMachine({ bridge: true })
 * puts it there), it waits up to `waitSeconds` for each interface of those MACs, joins them in
 * a bridge `br0` (module `bridge`, applet `brctl`) and prints GUEST_BRIDGE_UP_PREFIX and the
 * ports. With `sel4cp_synth.ip=ADDRESS/PREFIX`, it waits up to `waitSeconds` for `device` to
 * appear (a virtio-net device probes when its driver loads, a real NIC may take longer), brings
 * up `lo` and `device` (`br0` on a driver VM) with that address, adds the default route of
 * `sel4cp_synth.gw=ADDRESS` when given, and prints GUEST_NET_UP_PREFIX, the device and the
 * address; without either parameter it does nothing. It needs /proc and /sys mounted and the
 * applets NETWORK_APPLETS; its variables and functions start with `sel4cp_`.
 *
 * ```ts
 * initramfs({ busybox, applets: ['sh', 'mount', ...NETWORK_APPLETS], modules: ['virtio_mmio', 'virtio_net'],
 *   init: `#!/bin/sh\nexport PATH=/bin\nmount -t proc proc /proc\nmount -t sysfs sysfs /sys\n${networkSetupScript()}exec sh\n` })
 * ```
 */
export function networkSetupScript(options: { device?: string; waitSeconds?: number } = {}): string {
  const dev = options.device ?? 'eth0';
  if (!/^[\w.-]+$/.test(dev)) throw new Error(`networkSetupScript: '${dev}' is not an interface name`);
  const wait = options.waitSeconds ?? 5;
  if (!Number.isInteger(wait) || wait < 0) throw new Error(`networkSetupScript: waitSeconds must be a whole number of seconds, not ${wait}`);
  return `# sel4cp-synth network set-up: ${GUEST_BRIDGE_PARAM}=MAC,..., ${GUEST_IP_PARAM}=ADDRESS/PREFIX and
# ${GUEST_GW_PARAM}=ADDRESS on the kernel command line.
sel4cp_ip=
sel4cp_gw=
sel4cp_bridge=
sel4cp_dev=${dev}
read -r sel4cp_cmdline < /proc/cmdline
for sel4cp_word in $sel4cp_cmdline; do
  case "$sel4cp_word" in
    ${GUEST_IP_PARAM}=*) sel4cp_ip=\${sel4cp_word#*=} ;;
    ${GUEST_GW_PARAM}=*) sel4cp_gw=\${sel4cp_word#*=} ;;
    ${GUEST_BRIDGE_PARAM}=*) sel4cp_bridge=\${sel4cp_word#*=} ;;
  esac
done
# The interface whose MAC is $1 (sysfs prints it in lower case, as the tool writes it).
sel4cp_by_mac() {
  for sel4cp_d in /sys/class/net/*; do
    read -r sel4cp_a < "$sel4cp_d/address" && [ "$sel4cp_a" = "$1" ] && echo "\${sel4cp_d##*/}" && return 0
  done
  return 1
}
if [ -n "$sel4cp_bridge" ]; then
  brctl addbr br0
  sel4cp_ports=
  for sel4cp_mac in $(IFS=,; for sel4cp_m in $sel4cp_bridge; do echo "$sel4cp_m"; done); do
    sel4cp_n=0
    while ! sel4cp_by_mac "$sel4cp_mac" > /dev/null && [ "$sel4cp_n" -lt ${wait} ]; do
      sleep 1
      sel4cp_n=$((sel4cp_n + 1))
    done
    if sel4cp_port=$(sel4cp_by_mac "$sel4cp_mac") && ip link set dev "$sel4cp_port" up && brctl addif br0 "$sel4cp_port"; then
      sel4cp_ports="$sel4cp_ports $sel4cp_port"
    else
      echo "SEL4CP-SYNTH: could not add the interface of $sel4cp_mac to br0"
    fi
  done
  ip link set dev br0 up && echo "${GUEST_BRIDGE_UP_PREFIX.trimEnd()}$sel4cp_ports"
  sel4cp_dev=br0
fi
if [ -n "$sel4cp_ip" ]; then
  sel4cp_n=0
  while ! ip link show dev "$sel4cp_dev" >/dev/null 2>&1 && [ "$sel4cp_n" -lt ${wait} ]; do
    sleep 1
    sel4cp_n=$((sel4cp_n + 1))
  done
  ip link set dev lo up
  if ip addr add "$sel4cp_ip" dev "$sel4cp_dev" && ip link set dev "$sel4cp_dev" up; then
    [ -z "$sel4cp_gw" ] || ip route add default via "$sel4cp_gw"
    echo "${GUEST_NET_UP_PREFIX}$sel4cp_dev $sel4cp_ip"
  else
    echo "SEL4CP-SYNTH: could not configure $sel4cp_dev with $sel4cp_ip"
  fi
fi
`;
}

/** Busybox applets /init runs as commands; `echo`, `read` and `case` are shell built-ins. */
export const INIT_APPLETS = ['sh', 'mount', 'poweroff', 'sleep'] as const;

/** The idle guest prints this with the guest clock before and after `sleep 1`. */
export const GUEST_SLEPT_PREFIX = 'SEL4CP-SYNTH: sleep 1 from uptime ';
/** The idle guest prints this followed by a count, once a second, while it idles. */
export const GUEST_IDLE_PREFIX = 'SEL4CP-SYNTH: idle ';
/** Kernel parameter: the idle guest also runs a busy loop (one CPU busy, the others idle). */
export const GUEST_BUSY_PARAM = 'sel4cp_synth.busy=1';
/** Kernel parameter: the idle guest powers off after this many idle seconds. */
export const GUEST_IDLE_FOR_PARAM = 'sel4cp_synth.idle_for';

/** What both /init scripts start with: the file systems, the marker, the kernel command line. */
const INIT_PROLOGUE = `export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "${GUEST_MARKER}"
read -r cmdline < /proc/cmdline
`;

/**
 * The /init script. `poweroff -f` skips init's shutdown sequence and calls reboot(2) with
 * LINUX_REBOOT_CMD_POWER_OFF, which arm64 Linux turns into PSCI SYSTEM_OFF (PSCI 1.1,
 * function id 0x8400_0008); QEMU, or our VMM, ends the machine on that call.
 */
export function initScript(): string {
  return `#!/bin/sh
# sel4cp-synth test guest: report, optionally echo one console line, power off.
${INIT_PROLOGUE}case " $cmdline " in
  *" ${GUEST_ECHO_PARAM} "*)
    read -r line
    echo "${GUEST_ECHO_PREFIX}$line"
    ;;
esac
poweroff -f
`;
}

/**
 * The /init of the guest that stays up (`initramfs-idle.cpio`): it prints the marker, times
 * `sleep 1` with the guest's clock, then idles in `sleep 1` for ever, printing a count each
 * second, so that a test sees it keep running and a host can time it. With GUEST_BUSY_PARAM a
 * shell loop keeps one CPU busy meanwhile; with GUEST_IDLE_FOR_PARAM=N it powers off after N.
 */
export function idleInitScript(): string {
  return `#!/bin/sh
# sel4cp-synth test guest that stays up: report, time sleep 1, then idle printing a count.
${INIT_PROLOGUE}limit=
for word in $cmdline; do
  case "$word" in
    ${GUEST_BUSY_PARAM}) (while :; do :; done) & ;;
    ${GUEST_IDLE_FOR_PARAM}=*) limit=\${word#*=} ;;
  esac
done
read -r before rest < /proc/uptime
sleep 1
read -r after rest < /proc/uptime
echo "${GUEST_SLEPT_PREFIX}$before to $after"
n=0
while [ -z "$limit" ] || [ "$n" -lt "$limit" ]; do
  sleep 1
  n=$((n + 1))
  echo "${GUEST_IDLE_PREFIX}$n"
done
poweroff -f
`;
}

/** The entries of the initramfs; exported so tests and users can extend the set. */
export function busyboxInitramfsEntries(busybox: Uint8Array, init: string = initScript()): CpioEntry[] {
  return [
    { kind: 'directory', path: 'bin' },
    { kind: 'file', path: 'bin/busybox', content: busybox, mode: 0o755 },
    ...INIT_APPLETS.map((applet): CpioEntry => ({ kind: 'symlink', path: `bin/${applet}`, target: 'busybox' })),
    { kind: 'directory', path: 'dev' },
    // The kernel opens /dev/console for init's stdin/stdout/stderr before /init can mount
    // devtmpfs, so the node must be in the archive (Linux devices.txt: char 5:1).
    { kind: 'char-device', path: 'dev/console', major: 5, minor: 1, mode: 0o600 },
    { kind: 'directory', path: 'proc' },
    { kind: 'directory', path: 'sys' },
    { kind: 'file', path: 'init', content: init, mode: 0o755 },
  ];
}

/**
 * An uncompressed newc initramfs around `busybox` (an arm64 static busybox binary), with the
 * /init that powers off (initScript) or, for `'idle'`, the one that stays up (idleInitScript).
 */
export function buildBusyboxInitramfs(busybox: Uint8Array, variant: 'poweroff' | 'idle' = 'poweroff'): Uint8Array {
  return writeCpio(busyboxInitramfsEntries(busybox, variant === 'idle' ? idleInitScript() : initScript()));
}
