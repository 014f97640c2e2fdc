// The VMM config blob as the encoder writes it (its layout against vmm_config.h: test/compile/abi/).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeVmmConfig, encodeVmmConfig, type VmmConfig } from '../../../src/compile/emit/vmm-config.js';
import { crc32 } from '../../../src/compile/abi/crc32.js';
import {
  VMM_CONFIG_FLAG_DTB_IN_PLACE, VMM_CONFIG_FLAG_INITRD_GZIP, VMM_CONFIG_FLAG_INITRD_IN_PLACE, VMM_CONFIG_FLAG_KERNEL_GZIP, VMM_CONFIG_FLAG_KERNEL_IN_PLACE,
  VMM_CONFIG_HEADER_SIZE, VMM_CONFIG_MAX_INTID, VMM_CONFIG_OFFSETS, VMM_CONFIG_NO_CHANNEL, VMM_CONFIG_VERSION,
} from '../../../src/compile/abi/vmm-config.js';
import { sampleVmmConfig } from './sample-vmm-config.js';

const sample = sampleVmmConfig;

test('the blob starts with S4VM, version 7, sizes and a checksum over itself', () => {
  const blob = encodeVmmConfig(sample());
  assert.is(blob.length, VMM_CONFIG_HEADER_SIZE);
  assert.equal([...blob.subarray(0, 4)], [0x53, 0x34, 0x56, 0x4d]);
  const view = new DataView(blob.buffer);
  assert.is(view.getUint16(4, true), VMM_CONFIG_VERSION);
  assert.is(VMM_CONFIG_VERSION, 7);
  assert.is(view.getUint16(6, true), VMM_CONFIG_HEADER_SIZE);
  assert.is(view.getUint32(8, true), VMM_CONFIG_HEADER_SIZE);
  // No wake route: idle vCPUs spin, and the timer channel says "none".
  assert.is(view.getUint8(VMM_CONFIG_OFFSETS.timerChannel), VMM_CONFIG_NO_CHANNEL);
  assert.is(view.getUint32(VMM_CONFIG_OFFSETS.flags, true), 0);
  assert.is(view.getBigUint64(VMM_CONFIG_OFFSETS.kernelUnpackedSize, true), 0n);
  const copy = blob.slice();
  copy.fill(0, 12, 16);
  assert.is(view.getUint32(12, true), crc32(copy));
  assert.is(view.getBigUint64(VMM_CONFIG_OFFSETS.dtb + 16, true), 0x4f00_0000n);
  assert.is(view.getUint16(VMM_CONFIG_OFFSETS.irqs + 2, true), 33);
  // No restart policy ('never'), no controller.
  assert.is(view.getUint8(VMM_CONFIG_OFFSETS.restartPolicy), 0);
  assert.is(view.getUint8(VMM_CONFIG_OFFSETS.controlChannel), VMM_CONFIG_NO_CHANNEL);
});

test('version 7: the restart policy and the control page round-trip; a backoff without the timer PD is our bug', () => {
  const c = sample();
  c.wake = { slotVaddr: 0x3000_0000n, timerChannel: 7 };
  c.restart = { policy: 'on-failure', maxRestarts: 'unlimited', backoffMs: 250 };
  c.control = { vaddr: 0x3000_1000n, channel: 9 };
  const blob = encodeVmmConfig(c);
  const view = new DataView(blob.buffer);
  assert.is(view.getUint8(VMM_CONFIG_OFFSETS.restartPolicy), 1);
  assert.is(view.getUint32(VMM_CONFIG_OFFSETS.maxRestarts, true), 0xffffffff);
  assert.is(view.getUint32(VMM_CONFIG_OFFSETS.backoffMs, true), 250);
  assert.is(view.getBigUint64(VMM_CONFIG_OFFSETS.controlVaddr, true), 0x3000_1000n);
  assert.equal(decodeVmmConfig(blob), c);
  const spin = sample();
  spin.restart = { policy: 'always', maxRestarts: 3, backoffMs: 10 };
  assert.throws(() => encodeVmmConfig(spin), /backoff needs the timer PD/);
  const clash = sample();
  clash.control = { vaddr: 0x3000_1000n, channel: clash.irqs![0]!.channel };
  assert.throws(() => encodeVmmConfig(clash), /already in use/);
});

test('encode is deterministic and decode inverts it', () => {
  const a = encodeVmmConfig(sample());
  const b = encodeVmmConfig(sample());
  assert.equal(a, b);
  assert.equal(decodeVmmConfig(a), sample());
});

/** A gzip kernel of 8 MiB that unpacks to 32 MiB, a gzip initrd of 1 MiB unpacking to 4 MiB. */
const packed = (): VmmConfig => {
  const c = sample();
  c.kernel = { ...c.kernel, size: 0x80_0000n, unpackedSize: 0x200_0000n };
  c.initrd = { ...c.initrd!, size: 0x10_0000n, unpackedSize: 0x40_0000n };
  return c;
};

test('compressed images set their flags and unpacked sizes, and decode back', () => {
  const blob = encodeVmmConfig(packed());
  const view = new DataView(blob.buffer);
  assert.is(view.getUint32(VMM_CONFIG_OFFSETS.flags, true), VMM_CONFIG_FLAG_KERNEL_GZIP | VMM_CONFIG_FLAG_INITRD_GZIP);
  assert.is(view.getBigUint64(VMM_CONFIG_OFFSETS.kernel + 8, true), 0x80_0000n);
  assert.is(view.getBigUint64(VMM_CONFIG_OFFSETS.kernelUnpackedSize, true), 0x200_0000n);
  assert.is(view.getBigUint64(VMM_CONFIG_OFFSETS.initrdUnpackedSize, true), 0x40_0000n);
  assert.equal(decodeVmmConfig(blob), packed());
  const kernelOnly = packed();
  delete kernelOnly.initrd!.unpackedSize;
  kernelOnly.initrd!.size = 0x40_0000n;
  const b2 = encodeVmmConfig(kernelOnly);
  assert.is(new DataView(b2.buffer).getUint32(VMM_CONFIG_OFFSETS.flags, true), VMM_CONFIG_FLAG_KERNEL_GZIP);
  assert.equal(decodeVmmConfig(b2), kernelOnly);
});

test('images in place (prefilled) set their flags, may have no pristine copy, and decode back', () => {
  const c = sample();
  c.kernel = { ...c.kernel, vmmVaddr: 0n, inPlace: true };
  c.dtb = { ...c.dtb, vmmVaddr: 0n, inPlace: true };
  c.initrd = { ...c.initrd!, vmmVaddr: 0x30_0000_0000n, inPlace: true };
  const blob = encodeVmmConfig(c);
  const flags = new DataView(blob.buffer).getUint32(VMM_CONFIG_OFFSETS.flags, true);
  assert.is(flags, VMM_CONFIG_FLAG_KERNEL_IN_PLACE | VMM_CONFIG_FLAG_DTB_IN_PLACE | VMM_CONFIG_FLAG_INITRD_IN_PLACE);
  assert.equal(decodeVmmConfig(blob), c);
  // Not copied from anywhere, so it cannot be compressed.
  assert.throws(() => encodeVmmConfig({ ...c, kernel: { ...c.kernel, unpackedSize: 0x200_0000n } }), /in place and compressed/);
  // Not mapped into the VMM: only when every image is in place without a copy, and no virtio device.
  const unmapped = { ...c, initrd: { ...c.initrd!, vmmVaddr: 0n }, imagesUnmapped: true };
  assert.equal(decodeVmmConfig(encodeVmmConfig(unmapped)), unmapped);
  assert.throws(() => encodeVmmConfig({ ...c, imagesUnmapped: true }), /not mapped into the VMM/);
  // Copied images still need their source.
  assert.throws(() => encodeVmmConfig({ ...c, dtb: { ...c.dtb, inPlace: false } }), /no VMM address/);
});

test('placement checks use the unpacked sizes', () => {
  const bad: [string, (c: VmmConfig) => void, RegExp][] = [
    ['unpacked past RAM', (c) => { c.kernel.unpackedSize = 0x1000_0001n; }, /kernel image lies outside guest RAM/],
    ['unpacked over the initrd', (c) => { c.kernel.unpackedSize = 0xd80_0000n; }, /kernel and initrd overlap/],
    ['too small for gzip', (c) => { c.kernel.size = 17n; }, /cannot be a gzip member/],
    ['unpacks to nothing', (c) => { c.initrd!.unpackedSize = 0n; }, /cannot be a gzip member/],
    ['compressed DTB', (c) => { c.dtb.unpackedSize = 0x2_0000n; }, /DTB is always stored as is/],
  ];
  for (const [what, mutate, message] of bad) {
    const c = packed();
    mutate(c);
    assert.throws(() => encodeVmmConfig(c), message, what);
  }
});

test('every INTID is an SPI the VMM\'s vGIC implements (32..VMM_CONFIG_MAX_INTID)', () => {
  const top = VMM_CONFIG_MAX_INTID;
  assert.ok(encodeVmmConfig({ ...sample(), irqs: [{ channel: 1, intid: top, trigger: 'level' }] }));
  assert.throws(() => encodeVmmConfig({ ...sample(), irqs: [{ channel: 1, intid: top + 1, trigger: 'level' }] }), /IRQ 0 INTID 512 is outside 32\.\.511/);
  assert.throws(() => encodeVmmConfig({ ...sample(), devices: [{ kind: 'pl011', guestBase: 0x900_0000n, size: 0x1000n, intid: top + 1 }] }), /device 0 INTID 512 is outside/);
});

test('decode rejects a bad checksum, magic or version', () => {
  const blob = encodeVmmConfig(sample());
  const flip = (off: number) => {
    const c = blob.slice();
    c[off] = (c[off] ?? 0) ^ 1;
    return c;
  };
  assert.throws(() => decodeVmmConfig(flip(0x100)), /bad checksum/);
  assert.throws(() => decodeVmmConfig(flip(0)), /bad magic/);
  assert.throws(() => decodeVmmConfig(flip(4)), /unsupported version/);
});

test('encode throws on our own bugs', () => {
  const bad: [string, (c: VmmConfig) => void, RegExp][] = [
    ['long name', (c) => { c.vmName = 'x'.repeat(32); }, /VM name/],
    ['no vCPU', (c) => { c.vcpuIds = []; }, /vCPU count/],
    ['kernel outside RAM', (c) => { c.kernel.guestAddr = 0x3000_0000n; }, /kernel image lies outside guest RAM/],
    ['overlap', (c) => { c.initrd!.guestAddr = 0x4100_0000n; }, /kernel and initrd overlap/],
    ['entry', (c) => { c.entry = 0x4800_0000n; }, /entry point/],
    ['irq', (c) => { c.irqs = [{ channel: 62, intid: 33, trigger: 'level' }]; }, /channel 62/],
    ['ppi', (c) => { c.irqs = [{ channel: 1, intid: 27, trigger: 'level' }]; }, /INTID 27/],
    ['gicr on v2', (c) => { c.gicrBase = 0x80a_0000n; }, /no redistributor/],
    ['u64', (c) => { c.ram.size = 1n << 64n; }, /64 bits/],
  ];
  for (const [what, mutate, message] of bad) {
    const c = sample();
    mutate(c);
    assert.throws(() => encodeVmmConfig(c), message, what);
  }
});

test.run();
