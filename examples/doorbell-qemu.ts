// A Linux guest and a native PD that exchange messages through a shared page and doorbells
// (docs/doorbell.md): the channel between the VM and the PD becomes two GPIO lines in the
// guest, one that rings the PD and one with an edge each time the PD notifies back. The guest
// program (doorbell/client.c) writes a request into the mailbox, rings, waits for the edge and
// checks the reply; the PD (doorbell/echo.c, built by sel4cp-synth) answers each request.
//
//   aarch64-linux-gnu-gcc -static -nostdlib -ffreestanding -fno-stack-protector -O2 \
//       -o examples/doorbell/doorbell-client examples/doorbell/client.c
//   npx sel4cp-synth run examples/doorbell-qemu.ts            # needs the SDK (MICROKIT_SDK)
//
// -c messages=N sets how many (default 1000); the guest prints "doorbell-client: N messages
// exchanged in order with echo".
import { addr, channel, context, contextFile, end, initramfs, kib, map, memoryRegion, mib, passthrough, protectionDomain, system, virtualMachine } from 'sel4cp-synth';

const messages = context('messages', '1000');
// Outside guest RAM and the windows that follow it: the guest maps it through /dev/mem.
const MAILBOX_GPA = addr(0x6000_0000);

const mailbox = memoryRegion('mailbox', { size: kib(4), shared: true });

const rootfs = initramfs({
  busybox: contextFile('busybox', '../.cache/guest/busybox'),
  applets: ['sh', 'mount', 'echo', 'sleep'],
  files: { '/bin/doorbell-client': contextFile('client', 'doorbell/doorbell-client') },
  init: `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "SEL4CP-SYNTH: doorbell start"
doorbell-client echo ${messages} 0x${MAILBOX_GPA.toString(16)}
echo "SEL4CP-SYNTH: doorbell done $?"
while :; do sleep 60; done
`,
});

const guest = virtualMachine('guest', {
  kernel: contextFile('kernel', '../.cache/guest/Image'),
  initrd: rootfs,
  ram: mib(256),
  passthrough: [passthrough('uart0')],
  maps: [map(mailbox, { vaddr: MAILBOX_GPA, perms: 'rw', cached: false })],
});

// Above the guest (100) and below its VMM (254): a ring is answered as soon as the VMM passes it on.
const echo = protectionDomain('echo', {
  sources: ['doorbell/echo.c'],
  priority: 200,
  maps: [map(mailbox, { perms: 'rw', cached: false, setvarVaddr: 'mailbox' })],
});

export default system({
  board: 'qemu_virt_aarch64',
  protectionDomains: [echo],
  virtualMachines: [guest],
  // Channel id 1 at the PD's end is compiled into echo.c (GUEST_CHANNEL).
  channels: [channel(guest, end(echo, { id: 1 }))],
});
