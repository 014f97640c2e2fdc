// Guest images prefilled in place (src/compile/guest/prefill.ts): guest RAM cut at the placement
// into regions that cover it exactly, mapped contiguously into the VM and its VMM; the image
// regions 4 KiB-paged without a physical address (so the 2.3.0 tool embeds their frames), the
// rest keeping its carve-out and 2 MiB pages; a pristine copy only for a guest that needs one;
// the emitted .system byte-identical for the same input. The 2.3.0 tool accepting it and the
// guest booting from it are test/e2e/microkit-2.3.0.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';
import { placeLinuxGuest } from '../../../src/compile/guest/placement.js';
import { prefillDisks, prefillGuestImages, type GuestImageBytes } from '../../../src/compile/guest/prefill.js';
import type { SystemModel } from '../../../src/compile/model/index.js';
import { resolvedModel } from '../resolved-model.js';

const PAGE = 0x1000n;
const SZ_2M = 0x20_0000n;

/** examples/linux-qemu.ts resolved for 2.3.0, with fake images of awkward sizes. */
async function linuxQemu(): Promise<{ model: SystemModel; inputs: Map<string, GuestImageBytes> }> {
  const model = { ...(await resolvedModel('examples/linux-qemu.ts')), microkit: '2.3.0' as const };
  const g = model.guests[0]!;
  const kernel = new Uint8Array(0x1f0_0123).fill(0x11);
  const dtb = new Uint8Array(0x623).fill(0x22);
  const initrd = new Uint8Array(0x1c_3420).fill(0x33);
  const placement = placeLinuxGuest({
    ramBase: g.ram.gpa, ramSize: g.ram.size, kernel: { textOffset: 0n, imageSize: 0x220_0000n, fileSize: BigInt(kernel.length) },
    dtbSize: BigInt(dtb.length), initrdSize: BigInt(initrd.length),
  });
  return { model, inputs: new Map([[g.vm, { placement, kernel, dtb, dtbFile: `${g.vm}.dtb`, initrd }]]) };
}

test('guest RAM is cut at the images into regions that cover it, mapped contiguously into the VM and the VMM', async () => {
  const { model, inputs } = await linuxQemu();
  const g = model.guests[0]!;
  const ramRegion = model.memoryRegions.find((m) => m.name === g.ram.mr)!;
  const out = prefillGuestImages(model, inputs);
  const vmm = out.model.protectionDomains.find((p) => p.name === g.vmm)!;
  const vmMaps = vmm.virtualMachine!.maps.filter((m) => m.mr.startsWith(`${g.ram.mr}_`));
  const vmmMaps = vmm.maps.filter((m) => m.mr.startsWith(`${g.ram.mr}_`));
  assert.not.ok(out.model.memoryRegions.some((m) => m.name === g.ram.mr), 'the one RAM region is gone');
  let at = 0n;
  for (const m of vmMaps) {
    const mr = out.model.memoryRegions.find((r) => r.name === m.mr)!;
    const inVmm = vmmMaps.find((v) => v.mr === m.mr);
    assert.is(m.vaddr, g.ram.gpa + at, `${m.mr} follows the one before in the VM`);
    assert.is(m.perms, 'rwx');
    // No virtio device and no pristine copy: the VMM never reads the images, so it does not map them.
    if (mr.prefill) assert.is(inVmm, undefined, `${m.mr} is not mapped into the VMM`);
    else assert.equal([inVmm?.vaddr, inVmm?.perms], [g.ram.vmmVaddr + at, 'rw'], `${m.mr} at its place in the VMM's window`);
    const page = mr.pageSize ?? PAGE;
    assert.is(m.vaddr % page, 0n, `${m.mr} is aligned to its pages`);
    assert.is(mr.size % page, 0n);
    if (mr.prefill && mr.role.kind === 'guest-ram' && mr.role.image === 'dtb') {
      assert.equal([mr.size, mr.pageSize], [SZ_2M, SZ_2M], 'the DTB region is its 2 MiB block, one page');
    } else if (mr.prefill) {
      assert.is(mr.pageSize, undefined, `${m.mr}: 4 KiB frames (embedded by the 2.3.0 tool)`);
      assert.is(mr.physAddr, undefined, `${m.mr}: no physical address (embedded by the 2.3.0 tool)`);
      assert.is(mr.size, (mr.prefill.bytes! + PAGE - 1n) / PAGE * PAGE, `${m.mr}: its file rounded up to a page, as the tool needs`);
    } else {
      assert.is(mr.physAddr, ramRegion.physAddr! + at, `${m.mr} keeps its place in the carve-out`);
    }
    at += mr.size;
  }
  assert.is(at, g.ram.size, 'the regions add up to guest RAM');
  const prefilled = Object.fromEntries(out.model.memoryRegions.filter((m) => m.prefill).map((m) => [m.name, m.prefill!.path]));
  assert.equal(prefilled, { linux_guest_ram_kernel: 'linux-kernel.img', linux_guest_ram_initrd: 'linux-initrd.img', linux_guest_ram_dtb: 'linux.dtb' });
  const p = inputs.get(g.vm)!.placement;
  const where = (name: string): bigint => vmMaps.find((m) => m.mr === name)!.vaddr;
  assert.equal([where('linux_guest_ram_kernel'), where('linux_guest_ram_dtb'), where('linux_guest_ram_initrd')], [p.kernel.gpa, p.dtb.gpa, p.initrd!.gpa]);
  // Most of guest RAM is still 2 MiB pages.
  const large = out.model.memoryRegions.filter((m) => m.pageSize === SZ_2M).reduce((n, m) => n + m.size, 0n);
  assert.ok(large * 10n >= g.ram.size * 8n, `2 MiB pages cover ${large} of ${g.ram.size}`);
  assert.equal(out.files.map((f) => [f.file, f.content.length]), [['linux-kernel.img', 0x1f0_0123], ['linux-initrd.img', 0x1c_3420]]);
  assert.equal(out.guests.get(g.vm), { sizes: { kernel: 0x1f0_0123n, dtb: 0x623n, initrd: 0x1c_3420n }, unmapped: true });
});

test('a guest that needs pristine images gets read-only copies in its VMM only; others none', async () => {
  const { model, inputs } = await linuxQemu();
  const g = model.guests[0]!;
  const plain = prefillGuestImages(model, inputs);
  assert.not.ok(plain.model.memoryRegions.some((m) => m.name.includes('pristine')));
  const restartable = { ...model, guests: [{ ...g, needsPristineImages: true }] };
  const out = prefillGuestImages(restartable, inputs);
  const vmm = out.model.protectionDomains.find((p) => p.name === g.vmm)!;
  const pristine = vmm.maps.filter((m) => m.mr.includes('pristine'));
  assert.equal(pristine.map((m) => [m.mr, m.perms]), [['linux_pristine_kernel', 'r'], ['linux_pristine_dtb', 'r'], ['linux_pristine_initrd', 'r']]);
  assert.not.ok(vmm.virtualMachine!.maps.some((m) => m.mr.includes('pristine')), 'the guest never sees them');
  assert.ok(['linux_guest_ram_kernel', 'linux_guest_ram_dtb', 'linux_guest_ram_initrd'].every((mr) => vmm.maps.some((m) => m.mr === mr && m.perms === 'rw')),
    'a VMM that places images again maps guest RAM whole');
  assert.is(out.guests.get(g.vm)!.unmapped, false);
  const copies = out.guests.get(g.vm)!.pristine!;
  assert.equal([copies.kernel, copies.dtb, copies.initrd], pristine.map((m) => m.vaddr));
  // Clear of everything else the VMM maps.
  const ends = vmm.maps.filter((m) => !m.mr.includes('pristine')).map((m) => m.vaddr + out.model.memoryRegions.find((r) => r.name === m.mr)!.size);
  assert.ok(pristine.every((m) => ends.every((e) => m.vaddr >= e)));
});

test('the .system of a prefilled system has the regions and is byte-identical for the same input; disks are prefilled from their image', async () => {
  const { model, inputs } = await linuxQemu();
  const a = emitSystemXml(prefillGuestImages(model, inputs).model, { toolVersion: 'test' });
  const b = emitSystemXml(prefillGuestImages(model, inputs).model, { toolVersion: 'test' });
  assert.is(a, b);
  assert.match(a, /<memory_region name="linux_guest_ram_kernel" size="0x1f01000" prefill_path="linux-kernel.img"\/>/);
  assert.match(a, /<memory_region name="linux_guest_ram_dtb" size="0x200000" page_size="0x200000" prefill_path="linux.dtb"\/>/);
  const disk = new Uint8Array(0x40_0000).fill(7);
  const blockModel = { ...(await resolvedModel('test/fixtures/systems/block-console.ts', { disk: '/nonexistent.img' })), microkit: '2.3.0' as const };
  const mr = blockModel.guests[0]!.virtio.find((d) => d.kind === 'block')!.disk!.mr;
  const withDisk = prefillDisks(blockModel, new Map([[mr, disk]]));
  assert.equal(withDisk.files.map((f) => f.file), ['guest-data.disk']);
  assert.equal(withDisk.model.memoryRegions.find((m) => m.name === mr)!.prefill, { path: 'guest-data.disk', file: undefined, bytes: 0x40_0000n });
});

test.run();
