/**
 * Native check of the generated guest DTB and of the boot placement: Debian's arm64 kernel, our
 * initramfs and our guest DTB for qemu_virt_aarch64 are loaded by QEMU's generic loader at the
 * addresses `prepareLinuxBoot` computed (no `-kernel`, so QEMU changes nothing in the DTB), and
 * a five-instruction stub enters the kernel as booting.rst asks (x0 = DTB, x1-x3 = 0). Reaching
 * the initramfs marker proves the DTB, the /chosen initrd range and the placement before any
 * VMM is involved.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFdt } from '../../src/compile/dtb/fdt-read.js';
import { makeGuestDtb } from '../../src/compile/dtb/guest-dtb.js';
import { GUEST_MARKER } from '../../src/compile/initramfs/busybox-initramfs.js';
import { prepareLinuxBoot } from '../../src/compile/guest/linux-boot.js';
import { readLinuxImage } from '../../src/compile/guest/linux-image.js';
import { QEMU_AARCH64, startQemu } from '../../src/run/qemu.js';
import { missing, testIf } from '../helpers.js';
import { guestCacheDir, have, qemuVirtDtb } from '../compile/dtb/helpers.js';

const TIMEOUT_MS = 120_000;
const kernelFile = join(guestCacheDir, 'Image');
const initrdFile = join(guestCacheDir, 'initramfs.cpio');
/**
 * Guest RAM starts 2 MiB into QEMU's RAM: without `-kernel`, QEMU copies its own DTB to the
 * base of RAM for firmware, and the loader refuses overlapping images.
 */
const RAM_BASE = 0x4020_0000n;
const RAM_SIZE = 0x0fe0_0000n;
const QEMU_MEMORY = '256M';

/** `ldr x0, dtb; mov x1..x3, xzr; ldr x4, entry; br x4; dtb: .quad; entry: .quad` (A64, little-endian). */
function entryStub(dtb: bigint, entry: bigint): Uint8Array {
  const out = new Uint8Array(40);
  const dv = new DataView(out.buffer);
  const ldrLiteral = (rt: number, offset: number): number => (0x58000000 | ((offset / 4) << 5) | rt) >>> 0;
  [ldrLiteral(0, 24), 0xaa1f03e1, 0xaa1f03e2, 0xaa1f03e3, ldrLiteral(4, 16), 0xd61f0080].forEach((insn, i) => dv.setUint32(i * 4, insn, true));
  dv.setBigUint64(24, dtb, true);
  dv.setBigUint64(32, entry, true);
  return out;
}

async function bootWith(gicVersion: 2 | 3): Promise<void> {
  assert.ok(have(QEMU_AARCH64));
  const guest = makeGuestDtb(readFdt(qemuVirtDtb(gicVersion)), {
    keep: ['/pl011@9000000'],
    memory: [{ base: RAM_BASE, size: RAM_SIZE }],
    gic: gicVersion === 2
      ? { version: 2, distributor: 0x800_0000n, cpuInterface: 0x801_0000n }
      : { version: 3, distributor: 0x800_0000n, redistributor: 0x80a_0000n },
    vcpus: 1,
    // No VMM here: QEMU itself implements PSCI, through SMC when EL2 is enabled.
    psciMethod: 'smc',
  });
  const kernel = readLinuxImage(new Uint8Array(readFileSync(kernelFile)));
  const boot = prepareLinuxBoot({
    tree: guest.tree,
    ramBase: RAM_BASE,
    ramSize: RAM_SIZE,
    kernel,
    initrdSize: BigInt(statSync(initrdFile).size),
    bootargs: 'console=ttyAMA0',
  });
  const { placement } = boot;
  const stubAt = ((placement.kernel.gpa + placement.kernel.size + 0xfffn) / 0x1000n) * 0x1000n;
  assert.ok(stubAt + 40n <= placement.initrd!.gpa);

  const dir = mkdtempSync(join(tmpdir(), 'sel4cp-guest-boot-'));
  const q = (() => {
    const files = { image: join(dir, 'Image'), dtb: join(dir, 'guest.dtb'), stub: join(dir, 'stub.bin') };
    writeFileSync(files.image, kernel.image);
    writeFileSync(files.dtb, boot.dtb);
    writeFileSync(files.stub, entryStub(placement.dtb.gpa, placement.entry));
    const load = (file: string, addr: bigint): string[] => ['-device', `loader,file=${file},addr=0x${addr.toString(16)},force-raw=on`];
    return startQemu({
      args: [
        '-machine', `virt,virtualization=on,gic-version=${gicVersion}`, '-cpu', 'cortex-a53', '-m', QEMU_MEMORY, '-nographic', '-no-reboot',
        ...load(files.image, placement.kernel.gpa),
        ...load(initrdFile, placement.initrd!.gpa),
        ...load(files.dtb, placement.dtb.gpa),
        ...load(files.stub, stubAt),
        '-device', `loader,addr=0x${stubAt.toString(16)},cpu-num=0`,
      ],
    });
  })();
  try {
    const marker = await q.waitFor(GUEST_MARKER, TIMEOUT_MS);
    const exit = await q.waitForExit(TIMEOUT_MS - marker.elapsedMs);
    assert.is(exit.code, 0, `QEMU exit status\n${q.tail()}`);
    console.log(`guest DTB boot (GICv${gicVersion}): "${GUEST_MARKER}" after ${(marker.elapsedMs / 1000).toFixed(2)} s (kernel 0x${placement.kernel.gpa.toString(16)}, initrd 0x${placement.initrd!.gpa.toString(16)}, DTB 0x${placement.dtb.gpa.toString(16)})`);
  } finally {
    await q.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const needs = missing('guest-kernel', 'guest-initrd', 'qemu');
testIf(needs, 'Debian kernel boots to userspace with our GICv2 guest DTB at our placement', () => bootWith(2));
testIf(needs, 'Debian kernel boots to userspace with our GICv3 guest DTB at our placement', () => bootWith(3));

test.run();
