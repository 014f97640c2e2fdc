// Restart policies and controllers in the model (no SDK, no QEMU): control(vm, { by }) becomes a
// page mapped into the VM's VMM and the PD (whose symbol finds it), a channel, the VMM's config
// blob (version 7, decoded back) and a control flow; graph draws it, diff lists a new controller
// as a widening; no VM controls another.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deriveFlows, flowPath } from '../../src/compile/flows.js';
import { emitSystemXml } from '../../src/compile/emit/system-xml.js';
import { allProtectionDomains, type SystemModel } from '../../src/compile/model/index.js';
import { diffModels, privilegeChanges } from '../../src/review/diff.js';
import { systemToDot } from '../../src/review/graph.js';
import { resolvedModel } from './resolved-model.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-lifecycle-model-'));
const disk = path.join(work, 'disk.img');
writeFileSync(disk, new Uint8Array(4096));
test.after(() => rmSync(work, { recursive: true, force: true }));

const FIXTURE = 'test/fixtures/systems/lifecycle.ts';
const model = (): Promise<SystemModel> => resolvedModel(FIXTURE, { disk });

test('control(web, { by: ctl, id: 1 }): a page in the VMM and the PD (setvar_vaddr), a channel with the PD\'s id', async () => {
  const m = await model();
  const c = m.controls?.[0];
  assert.ok(c);
  assert.equal([c.vm, c.vmm, c.by, c.mr], ['web', 'web_vmm', 'ctl', 'web_control']);
  assert.is(c.channel.b.id, 1);
  const pds = allProtectionDomains(m);
  const ctl = pds.find((p) => p.name === 'ctl')!;
  const map = ctl.maps.find((x) => x.mr === 'web_control')!;
  assert.equal([map.perms, map.setvarVaddr], ['rw', 'web_control']);
  assert.ok(pds.find((p) => p.name === 'web_vmm')!.maps.some((x) => x.mr === 'web_control' && x.perms === 'rw'));
  assert.equal(m.guests.find((g) => g.vm === 'web')?.restart, { policy: 'on-failure', maxRestarts: 5, backoffMs: 1500 });
  assert.is(m.guests.find((g) => g.vm === 'peer')?.restart, undefined);
  const xml = emitSystemXml(m, { toolVersion: 'test' });
  assert.match(xml, /<memory_region name="web_control" size="0x1000"/);
  assert.match(xml, /control page of virtual machine 'web': 'ctl' may stop, start and restart it/);
  assert.match(xml, /<map mr="web_control" vaddr="0x[0-9a-f]+" perms="rw" setvar_vaddr="web_control"/);
});

test('flows: ctl controls web; web and peer control nothing, and nothing but ctl reaches web by control', async () => {
  const g = deriveFlows(await model());
  const control = g.flows.filter((f) => f.kind === 'control');
  assert.equal(control.map((f) => `${f.from} -> ${f.to}`), ['ctl -> web']);
  assert.match(control[0]!.causes[0]!.what, "'ctl' may stop, start and restart virtual machine 'web'");
  assert.ok(flowPath(g, 'ctl', 'web'));
});

test('graph: the controller\'s edge', async () => {
  assert.match(systemToDot(await model()), /"pd:ctl" -> "vm:web" \[label="controls \(stop, start, restart\) · ch 1"/);
});

test('diff: a controller added is a privilege change; removing it is not', async () => {
  const withControl = await model();
  const without: SystemModel = { ...withControl, controls: undefined };
  const added = privilegeChanges(diffModels(without, withControl));
  const c = added.find((x) => x.kind === 'control');
  assert.ok(c, JSON.stringify(added.map((x) => x.kind)));
  assert.equal(c.privilege.map((p) => p.flag), ['controller-added']);
  assert.match(c.privilege[0]!.reason, "'ctl' may now stop, start and restart virtual machine 'web'");
  assert.ok(added.some((x) => x.kind === 'flow' && x.key === 'ctl -> web (control)'));
  assert.not.ok(privilegeChanges(diffModels(withControl, without)).some((x) => x.kind === 'control'));
});

test.run();
