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
 * Kernel command line for the test guest on QEMU's virt machine, whose console is the PL011
 * that Linux names `ttyAMA0`; `echo` adds GUEST_ECHO_PARAM.
 */
export function qemuVirtGuestCmdline(options: { echo?: boolean } = {}): string {
  return options.echo ? `console=ttyAMA0 ${GUEST_ECHO_PARAM}` : 'console=ttyAMA0';
}

/** Busybox applets /init runs as commands; `echo`, `read` and `case` are shell built-ins. */
export const INIT_APPLETS = ['sh', 'mount', 'poweroff'] as const;

/**
 * The /init script. `poweroff -f` skips init's shutdown sequence and calls reboot(2) with
 * LINUX_REBOOT_CMD_POWER_OFF, which arm64 Linux turns into PSCI SYSTEM_OFF (PSCI 1.1,
 * function id 0x8400_0008); QEMU, or our VMM, ends the machine on that call.
 */
export function initScript(): string {
  return `#!/bin/sh
# sel4cp-synth test guest: report, optionally echo one console line, power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "${GUEST_MARKER}"
read -r cmdline < /proc/cmdline
case " $cmdline " in
  *" ${GUEST_ECHO_PARAM} "*)
    read -r line
    echo "${GUEST_ECHO_PREFIX}$line"
    ;;
esac
poweroff -f
`;
}

/** The entries of the initramfs; exported so tests and users can extend the set. */
export function busyboxInitramfsEntries(busybox: Uint8Array): CpioEntry[] {
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
    { kind: 'file', path: 'init', content: initScript(), mode: 0o755 },
  ];
}

/** An uncompressed newc initramfs around `busybox` (an arm64 static busybox binary). */
export function buildBusyboxInitramfs(busybox: Uint8Array): Uint8Array {
  return writeCpio(busyboxInitramfsEntries(busybox));
}
