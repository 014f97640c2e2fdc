// The QEMU command line for a synthesised system: the board's machine, the loader.img, and the
// devices the system's passthroughs ask QEMU to attach to its virtio-mmio transports (a NIC on
// a restricted user network, a disk file). Pure: `run`, the tests and the benches all call it,
// so they boot the machine the systems.ts was written for.
import { kernelLimits } from '../compile/model/target.js';
import type { GuestModel, QemuAttachmentModel, SystemModel } from '../compile/model/index.js';
import type { Board } from '../compile/boards.js';

/** QEMU option values escape a comma by doubling it (docs/system/invocation: "-device loader,file=..."). */
const optionValue = (v: string): string => v.replace(/,/g, ',,');

/**
 * QEMU's arguments for a board's loader.img. A multicore kernel (Microkit 2.3.0 smp-*) needs as
 * many CPUs as it was built for: its loader starts each one and stops when PSCI refuses a CPU
 * that is not there (seen with -smp 2 on a 4-core build). `-nic none` drops the network card
 * QEMU adds by default (virtio-net-pci on an unrestricted user network); the devices the
 * system attaches follow (qemuDeviceArgs).
 */
export function qemuArgs(board: Board, loaderImage: string, model?: Pick<SystemModel, 'microkit' | 'config' | 'board' | 'kernel'> & Partial<Pick<SystemModel, 'guests'>>): string[] {
  const q = board.qemu!;
  const cores = model ? kernelLimits(model).numCores : 1;
  return [
    '-machine', q.machine,
    '-cpu', q.cpu,
    '-m', q.memory,
    '-smp', String(Math.max(board.cpus.count, cores)),
    '-nographic',
    '-nic', 'none',
    '-device', `loader,file=${optionValue(loaderImage)},addr=0x${q.loaderAddress.toString(16)},cpu-num=0`,
    ...qemuDeviceArgs(model?.guests ?? []),
  ];
}

/** Every device the guests' passthroughs attach, in transport order. */
export function qemuAttachments(guests: readonly Pick<GuestModel, 'passthrough'>[]): QemuAttachmentModel[] {
  return guests.flatMap((g) => g.passthrough.flatMap((p) => (p.qemu?.transport !== undefined ? [p.qemu] : [])))
    .sort((a, b) => a.transport! - b.transport!);
}

/**
 * QEMU's arguments for the attached devices, each pinned to its transport with
 * `bus=virtio-mmio-bus.N` (unpinned, QEMU would take the highest free transport). A NIC's user
 * network is `restrict=on` (docs/system/invocation "-netdev user": the guest reaches neither the
 * host nor beyond; explicit forwards still work), its `hostfwd`s listen on 127.0.0.1 only and
 * its `guestfwd`s connect to 127.0.0.1 only.
 */
export function qemuDeviceArgs(guests: readonly Pick<GuestModel, 'passthrough'>[]): string[] {
  return qemuAttachments(guests).flatMap((a) => {
    const bus = `bus=virtio-mmio-bus.${a.transport!}`;
    if (a.kind === 'disk') {
      const id = `disk${a.transport!}`;
      return [
        '-drive', `if=none,id=${id},format=raw,file=${optionValue(a.file)}${a.readOnly ? ',readonly=on' : ''}`,
        '-device', `virtio-blk-device,drive=${id},${bus}`,
      ];
    }
    const id = `net${a.transport!}`;
    const user = [
      `user,id=${id},restrict=on`,
      ...a.forward.map((f) => `hostfwd=tcp:127.0.0.1:${f.hostPort}-${f.guestAddress}:${f.guestPort}`),
      // The chardev behind a guestfwd connects when QEMU starts (net/slirp.c slirp_guestfwd) and
      // QEMU refuses to start if nobody listens; reconnect=1 (",," escapes the comma) lets it
      // start anyway and connect again a second after the service closes the connection.
      ...a.hostServices.map((s) => `guestfwd=tcp:${s.address}:${s.port}-tcp:127.0.0.1:${s.hostPort},,reconnect=1`),
    ];
    return ['-netdev', user.join(','), '-device', `virtio-net-device,netdev=${id},mac=${a.mac},${bus}`];
  });
}
