// A driver VM (virtualMachine({ bridge: true })): its kernel command line names the interfaces to
// bridge by the MACs the guest will see — its QEMU card's (given to QEMU by src/run/machine.ts)
// and its link end's (given to its virtio-net device by the VMM config) — and nothing is added
// to a VM that does not bridge.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { qemuDeviceArgs } from '../../../src/run/machine.js';
import { resolvedModel } from '../resolved-model.js';

test('the driver VM of examples/driver-vm-qemu.ts: its card and its link end, by MAC, on its command line', async () => {
  const model = await resolvedModel('examples/driver-vm-qemu.ts');
  const net = model.guests.find((g) => g.vm === 'net')!;
  const app = model.guests.find((g) => g.vm === 'app')!;
  const card = net.passthrough.find((p) => p.qemu)!.qemu!;
  assert.is(card.kind, 'nic');
  const linkEnd = net.virtio.find((d) => d.net)!.net!.mac;
  const param = /sel4cp_synth\.bridge=(\S+)/.exec(net.bootargs)?.[1];
  assert.equal(param?.split(','), [card.kind === 'nic' ? card.mac : '', linkEnd]);
  assert.ok(qemuDeviceArgs(model.guests).some((a) => a.includes(`mac=${param!.split(',')[0]}`)), 'QEMU gives the card that MAC');
  assert.not.match(app.bootargs, 'sel4cp_synth.bridge');
  assert.is(new Set(param!.split(',')).size, 2, 'two different MACs');
});

test.run();
