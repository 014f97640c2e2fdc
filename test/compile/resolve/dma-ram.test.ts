// Guest RAM where DMA works, on every shipped board: a guest given a bus master (a device the
// board file marks dma: ethernet, MMC, USB, virtio-mmio) gets RAM at guest-physical = physical,
// inside the board's RAM and clear of its reserved memory, seL4's kernel, the Microkit loader and
// every other fixed region; a guest without one keeps the board's default guest RAM base.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { KERNEL_WINDOW, LOADER_WINDOW } from '../../../src/compile/resolve/dma-ram.js';
import { resolvedModel } from '../resolved-model.js';

for (const board of loadBoards()) {
  const device = board.devices.find((d) => d.dma && d.status === 'okay') ?? board.devices.find((d) => d.dma);
  if (!device) continue;
  test(`${board.name}: a guest given ${device.name} (${device.kind}) gets its RAM at guest-physical = physical, where nothing else is`, async () => {
    const model = await resolvedModel('test/fixtures/systems/dma-guest.ts', { device: device.name }, board.name);
    const guest = model.guests[0]!;
    const region = model.memoryRegions.find((m) => m.name === guest.ram.mr)!;
    assert.is(region.physAddr, guest.ram.gpa, 'physical = guest-physical');
    const at = guest.ram.gpa;
    const end = at + guest.ram.size;
    assert.ok(board.ram.some((r) => at >= r.base && end <= r.base + r.size), 'inside the board\'s RAM');
    for (const b of board.kernelReservedRam.filter((x) => !x.forGuests)) assert.ok(end <= b.base || at >= b.base + b.size, `clear of ${b.reason}`);
    assert.ok(end <= board.loaderLinkAddress || at >= board.loaderLinkAddress + LOADER_WINDOW, "clear of the loader's image");
    // seL4 loads its kernel at the start of the first RAM it uses: the board's RAM less every reservation.
    let kernel = board.ram[0]!.base;
    while (board.kernelReservedRam.some((b) => kernel >= b.base && kernel < b.base + b.size)) kernel = board.kernelReservedRam.find((b) => kernel >= b.base && kernel < b.base + b.size)!.base + board.kernelReservedRam.find((b) => kernel >= b.base && kernel < b.base + b.size)!.size;
    assert.ok(end <= kernel || at >= kernel + KERNEL_WINDOW, `clear of seL4's kernel at 0x${kernel.toString(16)}`);
  });
}

test('a guest without a bus master keeps the board\'s guest RAM base', async () => {
  const model = await resolvedModel('test/fixtures/systems/dma-guest.ts', { device: 'uart_AO_B' }, 'odroidc2');
  assert.is(model.guests[0]!.ram.gpa, 0x20000000n);
});

test('a hand-described device with dma: true is a bus master too: identity RAM, and a dma flag in the model', async () => {
  const model = await resolvedModel('test/fixtures/systems/dma-spec.ts', { dma: '1' }, 'qemu_virt_aarch64');
  const guest = model.guests[0]!;
  assert.is(model.memoryRegions.find((m) => m.name === guest.ram.mr)!.physAddr, guest.ram.gpa);
  assert.is(guest.passthrough.find((p) => p.device === 'fpga_dma')?.dma, true);
  const plain = await resolvedModel('test/fixtures/systems/dma-spec.ts', { dma: '0' }, 'qemu_virt_aarch64');
  assert.is(plain.guests[0]!.passthrough.find((p) => p.device === 'fpga_dma')?.dma, false);
  assert.is(plain.guests[0]!.ram.gpa, 0x40000000n);
});

test.run();
