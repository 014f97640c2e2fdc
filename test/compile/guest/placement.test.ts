import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { placeLinuxGuest, PlacementError } from '../../../src/compile/guest/placement.js';

const MiB = 0x10_0000n;
const kernel = { textOffset: 0n, imageSize: 33n * MiB, fileSize: 31n * MiB };

test('kernel at the 2 MiB-aligned RAM base, DTB in the top 2 MiB block, initrd just below it', () => {
  const p = placeLinuxGuest({ ramBase: 0x4000_0000n, ramSize: 256n * MiB, kernel, dtbSize: 7000n, initrdSize: 0x1c33a0n });
  assert.equal(p.kernel, { gpa: 0x4000_0000n, size: 33n * MiB });
  assert.is(p.entry, 0x4000_0000n);
  assert.equal(p.dtb, { gpa: 0x4fe0_0000n, size: 7000n });
  assert.equal(p.initrd, { gpa: 0x4fc3_c000n, size: 0x1c33a0n });
  assert.ok(p.initrd!.gpa + p.initrd!.size <= p.dtb.gpa);
});

test('booting.rst rules hold for many shapes', () => {
  for (const base of [0x4000_0000n, 0x4010_0000n, 0x8_0000_0000n]) {
    for (const ram of [64n * MiB, 100n * MiB + 0x3000n, 1024n * MiB]) {
      for (const textOffset of [0n, 0x8_0000n]) {
        for (const dtb of [8n, 0x1234n, 2n * MiB]) {
          for (const initrd of [undefined, 1n, 5n * MiB + 7n]) {
            const input = { ramBase: base, ramSize: ram, kernel: { ...kernel, textOffset }, dtbSize: dtb, ...(initrd ? { initrdSize: initrd } : {}) };
            const p = placeLinuxGuest(input);
            assert.is((p.kernel.gpa - textOffset) % (2n * MiB), 0n);
            assert.ok(p.kernel.gpa >= base);
            assert.is(p.dtb.gpa % 8n, 0n);
            assert.is(p.dtb.gpa / (2n * MiB), (p.dtb.gpa + p.dtb.size - 1n) / (2n * MiB), 'DTB within one 2 MiB block');
            assert.ok(p.dtb.gpa + p.dtb.size <= base + ram);
            assert.ok(p.kernel.gpa + p.kernel.size <= (p.initrd?.gpa ?? p.dtb.gpa));
            if (p.initrd) assert.ok(p.initrd.gpa + p.initrd.size <= p.dtb.gpa);
            assert.equal(placeLinuxGuest(input), p, 'deterministic');
          }
        }
      }
    }
  }
});

test('what does not fit is a PlacementError listing every size', () => {
  try {
    placeLinuxGuest({ ramBase: 0x4000_0000n, ramSize: 32n * MiB, kernel, dtbSize: 7000n, initrdSize: 2n * MiB });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PlacementError);
    assert.is((e as PlacementError).code, 'placement-does-not-fit');
    for (const s of ['0x2000000', 'image_size 0x2100000', 'file 0x1f00000', 'DTB 0x1b58', 'initrd 0x200000']) {
      assert.ok((e as Error).message.includes(s), `${s} in ${(e as Error).message}`);
    }
  }
  assert.throws(() => placeLinuxGuest({ ramBase: 0n, ramSize: 256n * MiB, kernel, dtbSize: 2n * MiB + 1n }), /more than the 2 MiB/);
  assert.throws(() => placeLinuxGuest({ ramBase: 0n, ramSize: 256n * MiB, kernel: { ...kernel, textOffset: 0x123n }, dtbSize: 8n }), /text_offset/);
  assert.throws(() => placeLinuxGuest({ ramBase: 0n, ramSize: 256n * MiB, kernel, dtbSize: 8n, initrdSize: 0n }), /initrd is empty/);
});

test.run();
