// Two Linux guests and a native filter between them, with an isolation policy that says what
// may flow where: the frontend talks to the filter, the filter to the backend, and nothing else
// reaches the backend. A shared buffer each way carries the data, a channel the doorbell.
//
//   npx sel4cp-synth flows examples/policy-qemu.ts                         # every flow, judged
//   npx sel4cp-synth flows examples/policy-qemu.ts --from frontend --to backend
//   npx sel4cp-synth graph examples/policy-qemu.ts --flows -o flows.svg
//   npx sel4cp-synth check examples/policy-qemu.ts -c mistake=1            # the policy catches it
import {
  addr, allow, channel, context, contextFile, emulated, kib, map, memoryRegion, mib, only, passthrough, policy, protectionDomain,
  system, virtualMachine,
} from 'sel4cp-synth';

const kernel = contextFile('kernel', '../.cache/guest/Image');
const initrd = contextFile('initrd', '../.cache/guest/initramfs.cpio');

// frontend -> filter and filter -> backend: one buffer each way, writable by one side only.
const toFilter = memoryRegion('to_filter', { size: kib(64), shared: true });
const toBackend = memoryRegion('to_backend', { size: kib(64), shared: true });
// Far above guest RAM and the virtio-mmio windows that follow it, should the VM gain a virtio device.
const BUFFER_GPA = addr(0x6000_0000);

// With -c mistake=1 the frontend also maps the backend's buffer, writable: a path round the filter.
const mistake = context('mistake', '0') === '1';

const frontend = virtualMachine('frontend', {
  kernel,
  initrd,
  ram: mib(128),
  passthrough: [passthrough('uart0')],
  maps: [
    map(toFilter, { vaddr: BUFFER_GPA, perms: 'rw' }),
    ...(mistake ? [map(toBackend, { vaddr: addr(0x6001_0000), perms: 'rw' })] : []),
  ],
});

const backend = virtualMachine('backend', {
  kernel,
  initrd,
  ram: mib(128),
  emulated: [emulated('uart0')],
  maps: [map(toBackend, { vaddr: BUFFER_GPA, perms: 'r' })],
  vmm: { priority: 250 },
  priority: 90,
});

const filter = protectionDomain('filter', {
  program: contextFile('filter', 'filter.elf'),
  priority: 200,
  maps: [map(toFilter, { perms: 'r' }), map(toBackend, { perms: 'rw' })],
});

export default system({
  board: 'qemu_virt_aarch64',
  virtualMachines: [frontend, backend],
  protectionDomains: [filter],
  channels: [channel(frontend, filter), channel(filter, backend)],
  policy: policy({
    rules: [
      allow(frontend, filter),
      allow(filter, frontend, { kinds: ['notify'] }),
      allow(filter, backend),
      allow(backend, filter, { kinds: ['notify'] }),
      only(backend, [filter]),
    ],
  }),
});
