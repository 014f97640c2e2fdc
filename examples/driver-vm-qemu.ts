// A driver VM. `net` owns the network card: QEMU attaches one to the virtio-mmio transport passed
// through to it (the guest drives QEMU's virtio-net itself, DMA included; its RAM sits at
// guest-physical = physical). `app` has no device at all, only a network link to `net`, and
// serves a page with busybox httpd. `bridge: true` makes `net` join its card and its end of the
// link in a Linux bridge (networkSetupScript() builds it from the MACs sel4cp-synth puts on its
// kernel command line), so `app` sits on QEMU's user network at 10.0.2.15:
//
//   host 127.0.0.1:8080 --QEMU hostfwd--> card --net's br0--> link --> app:80 (httpd)
//   app --> 10.0.2.100:9000 --link--> net's br0 --> card --QEMU guestfwd--> host 127.0.0.1:9000
//
// QEMU's network is restricted to the host's loopback: nothing else reaches the guests, and they
// reach nothing else. Run it, and from another terminal fetch the page:
//
//   npx sel4cp-synth run examples/driver-vm-qemu.ts
//   curl http://127.0.0.1:8080/
//
// At boot `app` also sends `GET /from-app` to 10.0.2.100:9000 (a few tries), which QEMU
// connects to a service on the host's 127.0.0.1:9000 if one listens, e.g.
// `python3 -m http.server 9000 --bind 127.0.0.1`, and prints the MD5 of the answer.
// -c http=PORT / -c service=PORT change the host ports, -c page=WORD the word in the page; with
// -c probe=PORT `app` also tries the host's PORT through QEMU's gateway, which the restricted
// network must not let through (the driver-VM test listens there).
import {
  context, contextFile, emulated, guestImage, initramfs, mib, netLink, NETWORK_APPLETS, networkSetupScript,
  passthrough, qemuNic, system, virtualMachine,
} from 'sel4cp-synth';

// The test guest's kernel and busybox that `npx sel4cp-synth guest` fetches (-c kernel=PATH,
// -c busybox=PATH for others); the modules come from the same place.
const kernel = contextFile('kernel', guestImage('Image'));
const busybox = contextFile('busybox', guestImage('busybox'));
const start = `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /www
${networkSetupScript()}`;

const netRootfs = initramfs({
  busybox,
  applets: ['sh', 'mount', 'mkdir', ...NETWORK_APPLETS],
  // bridge brings stp and llc (modules.dep).
  modules: ['virtio_mmio', 'virtio_net', 'bridge'],
  init: `${start}
while :; do sleep 3600; done
`,
});

const appRootfs = initramfs({
  busybox,
  applets: ['sh', 'mount', 'mkdir', 'cat', 'httpd', 'nc', 'printf', 'timeout', 'md5sum', 'seq', ...NETWORK_APPLETS],
  modules: ['virtio_mmio', 'virtio_net'],
  init: `${start}
for word in $(cat /proc/cmdline); do
  case "$word" in
    sel4cp_synth.page=*) page=\${word#*=} ;;
    sel4cp_synth.probe=*) probe=\${word#*=} ;;
  esac
done
echo "hello from app: $page" > /www/index.html
httpd -p 80 -h /www && echo "SEL4CP-SYNTH: app serves http on port 80"
# QEMU keeps one connection to the host service for all of the guest's connections and never
# closes the guest's side: nc is given 5 s for the answer.
for try in $(seq 1 30); do
  printf 'GET /from-app HTTP/1.0\r\n\r\n' | timeout 5 nc 10.0.2.100 9000 > /tmp/got
  if [ -s /tmp/got ]; then
    set -- $(md5sum /tmp/got); echo "SEL4CP-SYNTH: app fetched md5 $1 from the host"; break
  fi
  sleep 1
done
# The network is restricted: the host itself (QEMU's gateway 10.0.2.2) must not answer.
if [ -n "$probe" ]; then
  echo probe | timeout 5 nc 10.0.2.2 "$probe" > /dev/null 2>&1
  echo "SEL4CP-SYNTH: app probed the host's port $probe"
fi
while :; do sleep 3600; done
`,
});

const probe = context('probe', '');

const card = qemuNic({
  forward: [{ hostPort: Number(context('http', '8080')), guestPort: 80, guestAddress: '10.0.2.15' }],
  hostServices: [{ port: 9000, hostPort: Number(context('service', '9000')), address: '10.0.2.100' }],
});

const net = virtualMachine('net', {
  kernel, initrd: netRootfs, ram: mib(128), bridge: true,
  bootargs: 'console=ttyAMA0',
  emulated: [emulated('uart0')],
  passthrough: [passthrough('virtio_mmio_a000000', { qemu: card })],
});

const app = virtualMachine('app', {
  kernel, initrd: appRootfs, ram: mib(128),
  bootargs: `console=ttyAMA0 sel4cp_synth.ip=10.0.2.15/24 sel4cp_synth.gw=10.0.2.2 sel4cp_synth.page=${context('page', 'hello')}${probe ? ` sel4cp_synth.probe=${probe}` : ''}`,
  emulated: [emulated('uart0')],
});

export default system({ board: 'qemu_virt_aarch64', virtualMachines: [net, app], links: [netLink('lan', net, app)] });
