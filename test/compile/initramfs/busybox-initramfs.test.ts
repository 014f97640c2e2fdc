// The test guest's initramfs (src/compile/initramfs/busybox-initramfs.ts): its layout, the /init
// scripts (each parsed by sh -n) and the network snippet a declared /init can use. The archive
// format itself: cpio.test.ts.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  GUEST_BUSY_PARAM, GUEST_ECHO_PARAM, GUEST_IDLE_PREFIX, GUEST_IP_PARAM, GUEST_MARKER, GUEST_SLEPT_PREFIX, busyboxInitramfsEntries, idleInitScript, initScript,
  networkSetupScript, qemuVirtGuestCmdline,
} from '../../../src/compile/initramfs/busybox-initramfs.js';

test('busybox initramfs: layout and /init script', () => {
  const names = busyboxInitramfsEntries(new Uint8Array(4)).map((e) => e.path).sort();
  assert.equal(names, ['bin', 'bin/busybox', 'bin/mount', 'bin/poweroff', 'bin/sh', 'bin/sleep', 'dev', 'dev/console', 'init', 'proc', 'sys']);
  const script = initScript();
  assert.ok(script.startsWith('#!/bin/sh\n'));
  assert.ok(script.includes(`echo "${GUEST_MARKER}"`));
  assert.ok(script.includes(`*" ${GUEST_ECHO_PARAM} "*)`));
  assert.ok(script.trimEnd().endsWith('poweroff -f'));
});

test('the idle /init: marker, a timed sleep 1, then a count each second; both scripts parse (sh -n)', () => {
  const idle = idleInitScript();
  assert.ok(idle.includes(`echo "${GUEST_MARKER}"`));
  assert.ok(idle.includes(`echo "${GUEST_SLEPT_PREFIX}$before to $after"`));
  assert.ok(idle.includes(`echo "${GUEST_IDLE_PREFIX}$n"`));
  assert.ok(idle.includes(`${GUEST_BUSY_PARAM}) (while :; do :; done) & ;;`));
  const entries = busyboxInitramfsEntries(new Uint8Array(4), idle);
  assert.is(entries.find((e) => e.path === 'init' && e.kind === 'file')?.kind, 'file');
  for (const script of [initScript(), idle]) {
    const r = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
  }
});

test('the network snippet: the address from sel4cp_synth.ip on the command line, for the device named', () => {
  assert.is(GUEST_IP_PARAM, 'sel4cp_synth.ip');
  assert.is(qemuVirtGuestCmdline({ echo: true, ip: '10.0.0.1/24' }), 'console=ttyAMA0 sel4cp_synth.echo=1 sel4cp_synth.ip=10.0.0.1/24');
  assert.is(qemuVirtGuestCmdline(), 'console=ttyAMA0');
  const sh = networkSetupScript({ device: 'eth1', waitSeconds: 2 });
  assert.match(sh, 'sel4cp_synth.ip=*) sel4cp_ip=${sel4cp_word#*=} ;;');
  assert.match(sh, 'sel4cp_dev=eth1\n');
  assert.match(sh, 'ip addr add "$sel4cp_ip" dev "$sel4cp_dev" && ip link set dev "$sel4cp_dev" up');
  // A driver VM: the interfaces of the MACs on its command line in br0, which then takes the address.
  assert.match(sh, 'sel4cp_synth.bridge=*) sel4cp_bridge=${sel4cp_word#*=} ;;');
  assert.match(sh, 'brctl addif br0 "$sel4cp_port"');
  assert.match(sh, 'sel4cp_dev=br0\n');
  assert.match(sh, 'sel4cp_synth.gw=*) sel4cp_gw=${sel4cp_word#*=} ;;');
  assert.match(sh, 'ip route add default via "$sel4cp_gw"');
  assert.match(sh, '[ "$sel4cp_n" -lt 2 ]');
  assert.throws(() => networkSetupScript({ device: 'eth0; reboot' }), /not an interface name/);
  assert.throws(() => networkSetupScript({ waitSeconds: 1.5 }), /whole number/);
});

test.run();
