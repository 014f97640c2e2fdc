import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { makeNode, type Fdt } from '../../../src/compile/dtb/fdt.js';
import { readFdt } from '../../../src/compile/dtb/fdt-read.js';
import { propNumber, u32Value } from '../../../src/compile/dtb/props.js';
import { getNode, readReg } from '../../../src/compile/dtb/tree.js';
import { prepareLinuxBoot } from '../../../src/compile/guest/linux-boot.js';
import { missing, testIf } from '../../helpers.js';
import { guestCacheDir } from '../dtb/helpers.js';

const MiB = 0x10_0000n;

function tinyTree(): Fdt {
  return {
    bootCpuidPhys: 0,
    memReserve: [],
    root: makeNode('', [{ name: '#address-cells', value: u32Value(2) }, { name: '#size-cells', value: u32Value(2) }]),
  };
}

function checkInitrdMatches(initrdSize: bigint): void {
  const boot = prepareLinuxBoot({
    tree: tinyTree(),
    ramBase: 0x4000_0000n,
    ramSize: 256n * MiB,
    kernel: { textOffset: 0n, imageSize: 33n * MiB, fileSize: 31n * MiB },
    initrdSize,
    bootargs: 'console=ttyAMA0',
  });
  const back = readFdt(boot.dtb);
  const chosen = getNode(back, '/chosen').node;
  assert.is(propNumber(chosen, 'linux,initrd-start'), boot.placement.initrd!.gpa);
  assert.is(propNumber(chosen, 'linux,initrd-end'), boot.placement.initrd!.gpa + initrdSize);
  assert.is(boot.placement.initrd!.size, initrdSize);
  assert.is(BigInt(boot.dtb.length), boot.placement.dtb.size);
  assert.equal(readReg(getNode(back, '/memory')), [{ address: 0x4000_0000n, size: 256n * MiB }]);
}

test('the injected initrd range is the placement of an initrd of the given size', () => {
  for (const size of [1n, 4095n, 4096n, 0x1c33a0n, 20n * MiB + 3n]) checkInitrdMatches(size);
});

testIf(missing('guest-initrd'), 'the injected initrd range matches the real initramfs file size', () => {
  const file = join(guestCacheDir, 'initramfs.cpio');
  checkInitrdMatches(BigInt(statSync(file).size));
});

test('no initrd: no range in /chosen, no initrd in the placement', () => {
  const boot = prepareLinuxBoot({
    tree: tinyTree(),
    ramBase: 0x4000_0000n,
    ramSize: 64n * MiB,
    kernel: { textOffset: 0n, imageSize: 33n * MiB, fileSize: 31n * MiB },
  });
  assert.is(boot.placement.initrd, undefined);
  assert.is(propNumber(getNode(readFdt(boot.dtb), '/chosen').node, 'linux,initrd-start'), undefined);
});

test.run();
