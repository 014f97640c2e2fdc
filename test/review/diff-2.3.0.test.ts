// Microkit 2.3.0's elements in review: diff shows a cspace cap (flagged: the holder may now
// control the other PD), a PD's core, FPU and domain, the domain schedule; flows counts a cap as
// control of its target.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSystemXml } from '../../src/compile/parse/system-xml.js';
import { diffModels } from '../../src/review/diff.js';
import { deriveFlows } from '../../src/compile/flows.js';

const sys = (pdAttrs: string, caps: string, schedule: string): string => `<system>
  <domains><domain name="a" /><domain name="b" /><domain_schedule>${schedule}</domain_schedule></domains>
  <protection_domain name="p" ${pdAttrs}><program_image path="p.elf" />${caps}</protection_domain>
  <protection_domain name="q" domain="b"><program_image path="q.elf" /></protection_domain>
</system>`;
const model = (xml: string) => parseSystemXml(xml, '/virtual/s.system', undefined, { release: '2.3.0' }).model!;

test('a new cap is flagged; core, FPU, domain and schedule changes are listed', () => {
  const older = model(sys('domain="a"', '', '<schedule_entry domain="a" duration="1000 us" />'));
  const newer = model(sys('domain="b" cpu="0" fpu="false"', '<cspace><cap_tcb slot="1" pd="q" /></cspace>', '<schedule_entry domain="a" duration="500 us" />'));
  const d = diffModels(older, newer);
  const cap = d.changes.find((c) => c.kind === 'cap')!;
  assert.is(cap.key, 'p/slot 1');
  assert.equal(cap.privilege.map((p) => p.flag), ['cap-granted']);
  assert.match(cap.privilege[0]!.reason, /'p' now holds 'q''s thread/);
  const pd = d.changes.find((c) => c.kind === 'protection-domain' && c.key === 'p')!;
  assert.equal(pd.fields.map((f) => `${f.field}: ${f.old} -> ${f.new}`).sort(), ['cpu: undefined -> 0', 'domain: a -> b', 'fpu: undefined -> false']);
  const slot = d.changes.find((c) => c.kind === 'domain' && c.key === 'schedule slot 0')!;
  assert.equal(slot.fields.map((f) => `${f.field}: ${f.old} -> ${f.new}`), ['duration: 1000 us -> 500 us']);
});

test('flows: holding a PD\'s cap is control of it', () => {
  const m = model(sys('domain="a"', '<cspace><cap_vspace slot="2" pd="q" /></cspace>', '<schedule_entry domain="a" duration="1 us" />'));
  const f = deriveFlows(m).flows.find((x) => x.from === 'p' && x.to === 'q' && x.kind === 'control');
  assert.ok(f);
  assert.match(f!.causes[0]!.what, /holds the vspace cap of 'q' \(cspace slot 2\)/);
});

test.run();
