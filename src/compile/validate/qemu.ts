// Devices QEMU attaches to the virtio-mmio transports passed through (passthrough's `qemu`):
// only on a QEMU board, only to a transport, each transport once, ports QEMU can bind and
// addresses on its user network (10.0.2.0/24, QEMU's docs/system/invocation "-netdev user")
// that its own services do not take.
import { error, type Diagnostic } from '../diagnostics/index.js';
import type { QemuAttachmentModel, SystemModel } from '../model/index.js';

const where = (a: QemuAttachmentModel): string => `passthrough('${a.device}') of '${a.vm}'`;

/** 10.0.2.2 is QEMU's gateway (and host), 10.0.2.3 its DNS server; .0 and .255 name no host. */
const RESERVED = new Map([[0, 'the network'], [2, "QEMU's gateway"], [3, "QEMU's DNS server"], [255, 'the broadcast address']]);

function userAddressProblem(address: string): string | undefined {
  const m = /^10\.0\.2\.(\d{1,3})$/.exec(address);
  const host = m ? Number(m[1]) : NaN;
  if (!m || host > 255) return `'${address}' is not on QEMU's user network 10.0.2.0/24`;
  const taken = RESERVED.get(host);
  return taken ? `'${address}' is ${taken}` : undefined;
}

function checkPorts(a: QemuAttachmentModel & { kind: 'nic' }, out: Diagnostic[]): void {
  const ports: [string, number][] = [
    ...a.forward.flatMap((f, i): [string, number][] => [[`forward[${i}] hostPort`, f.hostPort], [`forward[${i}] guestPort`, f.guestPort]]),
    ...a.hostServices.flatMap((s, i): [string, number][] => [[`hostServices[${i}] port`, s.port], [`hostServices[${i}] hostPort`, s.hostPort]]),
  ];
  for (const [what, port] of ports) {
    if (port < 1 || port > 65535) out.push(error('qemu-port-range', `${where(a)}: qemuNic() ${what} is ${port}; a TCP port is 1 to 65535`, a.loc));
  }
  const addresses: [string, string][] = [
    ...a.forward.map((f, i): [string, string] => [`forward[${i}] guestAddress`, f.guestAddress]),
    ...a.hostServices.map((s, i): [string, string] => [`hostServices[${i}] address`, s.address]),
  ];
  const services = new Set(a.hostServices.map((x) => x.address));
  for (const [what, address] of addresses) {
    const problem = userAddressProblem(address) ?? (what.startsWith('forward') && services.has(address) ? `'${address}' is a host service's address, which QEMU answers itself` : undefined);
    if (problem) out.push(error('qemu-user-address', `${where(a)}: qemuNic() ${what}: ${problem}`, a.loc, { hint: "use an address of 10.0.2.4 to 10.0.2.254 (the guest's default is 10.0.2.15, a host service's 10.0.2.100)" }));
  }
}

/** Two forwards on one host port, or two services at one guest address and port: QEMU could not set both up. */
function checkClashes(nics: (QemuAttachmentModel & { kind: 'nic' })[], out: Diagnostic[]): void {
  const hostPorts = new Map<number, QemuAttachmentModel>();
  const services = new Map<string, QemuAttachmentModel>();
  for (const a of nics) {
    for (const f of a.forward) {
      const first = hostPorts.get(f.hostPort);
      if (first) out.push(error('qemu-port-twice', `${where(a)}: host port 127.0.0.1:${f.hostPort} is forwarded twice`, a.loc, { notes: [{ message: `also forwarded by ${where(first)}`, location: first.loc }], hint: 'give each forward its own hostPort' }));
      else hostPorts.set(f.hostPort, a);
    }
    for (const s of a.hostServices) {
      const key = `${s.address}:${s.port}`;
      const first = services.get(key);
      if (first) out.push(error('qemu-port-twice', `${where(a)}: host service ${key} is declared twice`, a.loc, { notes: [{ message: `also declared by ${where(first)}`, location: first.loc }], hint: 'give each host service its own address or port' }));
      else services.set(key, a);
    }
  }
}

export function checkQemuDevices(system: SystemModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const attached = system.guests.flatMap((g) => g.passthrough.flatMap((p) => (p.qemu ? [p.qemu] : [])));
  if (attached.length === 0) return out;
  const board = system.board;
  if (!board?.qemu) {
    for (const a of attached) {
      out.push(error('qemu-device-board', `${where(a)}: QEMU attaches devices only on a QEMU board, and ${board ? `'${board.name}' is real hardware` : 'no board was given'}`, a.loc, {
        hint: "use board 'qemu_virt_aarch64' (or --board qemu), or leave the qemu option out",
      }));
    }
    return out;
  }
  const transports = new Map<number, QemuAttachmentModel>();
  for (const a of attached) {
    if (a.transport === undefined) {
      out.push(error('qemu-device-not-transport', `${where(a)}: '${a.device}' is not a virtio-mmio transport; QEMU attaches devices only to those`, a.loc, {
        hint: `pass one of the board's transports through, e.g. passthrough('${board.devices.find((d) => d.compatible.includes('virtio,mmio'))?.name ?? 'virtio_mmio_a000000'}', { qemu: ... })`,
      }));
      continue;
    }
    const first = transports.get(a.transport);
    if (first) {
      out.push(error('qemu-transport-twice', `${where(a)}: transport '${a.device}' already has a device attached`, a.loc, {
        notes: [{ message: `attached by ${where(first)}`, location: first.loc }], hint: 'attach each device to a transport of its own',
      }));
    } else transports.set(a.transport, a);
    const twice = a.kind === 'disk' ? attached.find((b) => b !== a && b.kind === 'disk' && b.file === a.file && attached.indexOf(b) < attached.indexOf(a)) : undefined;
    if (twice) {
      out.push(error('qemu-disk-twice', `${where(a)}: disk file ${a.kind === 'disk' ? a.file : ''} is attached twice`, a.loc, {
        notes: [{ message: `also attached by ${where(twice)}`, location: twice.loc }], hint: 'QEMU opens a disk file once for writing: give each disk its own file',
      }));
    }
    if (a.kind === 'disk' && a.size === undefined) {
      out.push(error('qemu-disk-missing', `${where(a)}: disk file not found: ${a.file}`, a.loc, { hint: 'create it first (e.g. truncate -s 64M disk.img, or mke2fs -t ext2 -d DIR disk.img 64M); a relative path is relative to the systems.ts' }));
    }
    if (a.kind === 'nic') checkPorts(a, out);
  }
  checkClashes(attached.filter((a): a is QemuAttachmentModel & { kind: 'nic' } => a.kind === 'nic'), out);
  return out;
}
