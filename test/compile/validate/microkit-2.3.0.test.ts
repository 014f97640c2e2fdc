// Microkit 2.3.0's format: each check of its tool/microkit/src/sdf.rs that the peer suite's
// fixtures do not reach, the three places where that tool is wrong (a prefilled region that makes
// it panic, a vCPU's setvar_id it never reads, domains past KernelNumDomains), 2.3.0 constructs
// refused on 2.0.1, and the emitter writing everything 2.3.0 adds so that it parses back the same.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSystemXml } from '../../../src/compile/parse/system-xml.js';
import { validateSystem } from '../../../src/compile/validate/index.js';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';
import { xmlModel } from '../../../src/compile/parse/xml-model.js';
import { loadBoards } from '../../../src/compile/load/boards.js';
import { findBoard } from '../../../src/compile/boards.js';
import type { Diagnostic } from '../../../src/compile/diagnostics/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-mk230-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const pd = (attrs = '', body = ''): string => `<protection_domain name="p" ${attrs}><program_image path="p.elf" />${body}</protection_domain>`;

/** Errors of a 2.3.0 system (written to a file, so that prefill files beside it are found). */
function errors(body: string, options: { board?: string; config?: 'debug' | 'smp-debug'; release?: '2.0.1' | '2.3.0' } = {}): Diagnostic[] {
  const file = path.join(tmp, 'system.system');
  const xml = `<system>${body}</system>`;
  writeFileSync(file, xml);
  const board = options.board ? findBoard(loadBoards(), options.board) : undefined;
  const { model, diagnostics } = xmlModel(xml, file, { board, microkit: options.release ?? '2.3.0', config: options.config, sdk: '' });
  return [...diagnostics, ...(model ? validateSystem(model) : [])].filter((d) => d.severity === 'error');
}

function assertError(body: string, id: string, options: Parameters<typeof errors>[1] = {}, message?: RegExp): void {
  const got = errors(body, options);
  const hit = got.find((d) => d.id === id);
  assert.ok(hit, `expected ${id}, got: ${got.map((d) => `${d.id}: ${d.message}`).join('; ') || 'none'}`);
  if (message) assert.match(hit!.message, message);
  assert.ok(hit!.location, `${id} has a location`);
}

test('cores: a PD or vCPU on a core seL4 does not run on (one core; four on smp-debug)', () => {
  assertError(pd('cpu="1"'), 'pd-cpu-out-of-range', {}, /less than 1/);
  assert.equal(errors(pd('cpu="3"'), { board: 'qemu_virt_aarch64', config: 'smp-debug' }), []);
  assertError(pd('cpu="4"'), 'pd-cpu-out-of-range', { board: 'qemu_virt_aarch64', config: 'smp-debug' }, /less than 4/);
  const vm = (cpu: number): string => pd('priority="200"', `<virtual_machine name="g" priority="100"><vcpu id="0" cpu="${cpu}" /></virtual_machine>`);
  assertError(vm(2), 'vcpu-cpu-out-of-range');
});

test('domains: ids, names, the schedule and its limits', () => {
  const sched = (entries: string, attrs = ''): string => `<domain_schedule ${attrs}>${entries}</domain_schedule>`;
  const dom = (domains: string, schedule: string, pdAttrs = 'domain="a"'): string => `<domains>${domains}${schedule}</domains>${pd(pdAttrs)}`;
  const one = sched('<schedule_entry domain="a" duration="1000 us" />');
  assert.equal(errors(dom('<domain name="a" />', one)), []);
  assertError(dom('<domain name="a" id="16" />', one), 'domain-id-out-of-range', {}, /less than KernelNumDomains, 16/);
  assertError(dom('<domain name="a" id="1" /><domain name="b" id="1" />', one), 'domain-duplicate-id');
  assertError(dom('<domain name="a" /><domain name="a" />', one), 'domain-duplicate-name');
  assertError(dom('<domain name="a" />', sched('<schedule_entry domain="zz" duration="1 ticks" />')), 'domain-unknown');
  assertError(dom('<domain name="a" />', sched('<schedule_entry domain="a" duration="0 us" />')), 'domain-duration-invalid', {}, /non-zero/);
  assertError(dom('<domain name="a" />', sched('<schedule_entry domain="a" duration="1000" />')), 'domain-duration-invalid', {}, /value and a unit/);
  assertError(dom('<domain name="a" />', sched('<schedule_entry domain="a" duration="1 us" />'.repeat(100))), 'domain-schedule-too-long');
  assertError(`<domains><domain name="a" /></domains>${pd('domain="a"')}`, 'domain-schedule-missing');
  assertError(`<domains><domain name="a" />${one}${one}</domains>${pd('domain="a"')}`, 'domain-schedule-twice');
  assertError(`<domains><domain name="a" />${one}</domains><domains><domain name="a" />${one}</domains>${pd('domain="a"')}`, 'domains-twice');
  assertError(dom('<domain name="a" />', one, ''), 'domain-required');
  assertError(dom('<domain name="a" />', sched('<schedule_entry domain="a" duration="1 us" />', 'start_index="1"')), 'domain-schedule-start-index');
  assertError(dom('<domain name="a" />', sched('<schedule_entry domain="a" duration="1 us" />', 'index_shift="99"')), 'domain-schedule-index-shift');
  assertError(pd('domain="a"'), 'domain-without-schedule');
  // The tool numbers unnumbered domains 0..=KernelNumDomains (one too many): 17 are refused here.
  const many = Array.from({ length: 17 }, (_, i) => `<domain name="d${i}" />`).join('');
  assertError(dom(many, sched('<schedule_entry domain="d0" duration="1 us" />'), 'domain="d0"'), 'domains-too-many');
  assertError(dom('<domain name="a" />', one), 'domains-smp', { board: 'qemu_virt_aarch64', config: 'smp-debug' });
});

test('prefilled regions: the file found on the search path, its size, and the region size that makes the 2.3.0 tool panic', () => {
  writeFileSync(path.join(tmp, 'five.bin'), 'hello');
  writeFileSync(path.join(tmp, 'none.bin'), '');
  const map = '<map mr="m" vaddr="0x2000000" perms="r" setvar_prefill_size="n" />';
  assert.equal(errors(`<memory_region name="m" prefill_path="five.bin" />${pd('', map)}`), []);
  assert.equal(errors(`<memory_region name="m" size="0x1000" prefill_path="five.bin" />${pd('', map)}`), []);
  assertError(`<memory_region name="m" prefill_path="nope.bin" />${pd('', map)}`, 'mr-prefill-missing');
  assertError(`<memory_region name="m" prefill_path="none.bin" />${pd('', map)}`, 'mr-prefill-empty');
  writeFileSync(path.join(tmp, 'big.bin'), Buffer.alloc(0x1001));
  assertError(`<memory_region name="m" size="0x1000" prefill_path="big.bin" />${pd('', map)}`, 'mr-prefill-too-large');
  // Two pages, a file of one: capdl/builder.rs slices past the file's end.
  assertError(`<memory_region name="m" size="0x2000" prefill_path="five.bin" />${pd('', map)}`, 'mr-prefill-panics', {}, /0x1000/);
  assertError(`<memory_region name="m" size="0x1000" prefill_path="five.bin" prefill_bootinfo="fdt" />${pd('', map)}`, 'mr-prefill-and-bootinfo');
  assertError(`<memory_region name="m" prefill_bootinfo="wat" />${pd('', '<map mr="m" vaddr="0x2000000" perms="r" />')}`, 'mr-bootinfo-unsupported');
  assertError(`<memory_region name="m" prefill_bootinfo="x86_vbe" />${pd('', '<map mr="m" vaddr="0x2000000" perms="r" />')}`, 'x86-only');
  assertError(`<memory_region name="m" size="0x1000" />${pd('', map)}`, 'setvar-prefill-size-without-prefill');
});

test('cspace, the reserved name monitor, x86 elements, and a vCPU setvar_id the 2.3.0 tool never reads', () => {
  const other = '<protection_domain name="q"><program_image path="q.elf" /></protection_domain>';
  const cs = (caps: string): string => pd('', `<cspace>${caps}</cspace>`) + other;
  assert.equal(errors(cs('<cap_tcb slot="1" pd="q" /><cap_sc slot="2" pd="q" /><cap_vspace slot="3" pd="q" />')), []);
  assertError(cs('<cap_tcb slot="0" pd="q" />'), 'cap-map-slot-reserved');
  assertError(cs('<cap_tcb slot="128" pd="q" />'), 'cap-map-slot-out-of-range');
  assertError(cs('<cap_tcb slot="5" pd="q" /><cap_sc slot="5" pd="q" />'), 'cap-map-slot-twice');
  assertError(cs('<cap_tcb slot="5" pd="nobody" />'), 'cap-map-unknown-pd');
  assertError(pd('', '<cspace /><cspace />'), 'pd-duplicate-cspace');
  assertError('<protection_domain name="monitor"><program_image path="m.elf" /></protection_domain>', 'pd-reserved-name');
  assertError(pd('', '<ioport id="0" addr="0x3f8" size="8" />'), 'x86-only');
  assertError(`${pd()}<io_address_space name="d" peripheral_id="0:3.0" domain_id="1" />`, 'x86-only');
  assertError(pd('priority="200"', '<virtual_machine name="g" priority="100"><vcpu id="0" setvar_id="vcpu_id" /></virtual_machine>'), 'vcpu-setvar-id-ignored', {}, /never be set/);
});

test('on 2.0.1: 2.3.0 attributes are invalid with a hint naming the release; 2.3.0 constructs in a model are refused at their line', () => {
  const got = errors(pd('cpu="0"'), { release: '2.0.1' });
  assert.equal(got.map((d) => d.id), ['xml-invalid-attribute']);
  assert.match(got[0]!.hint ?? '', /Microkit 2\.3\.0's.*--microkit 2\.3\.0/);
  const parsed = parseSystemXml(`<system>${pd('cpu="0" fpu="false"')}</system>`, '/virtual/x.system', undefined, { release: '2.3.0' });
  parsed.model!.microkit = '2.0.1';
  const later = validateSystem(parsed.model!).filter((d) => d.id === 'microkit-2.3.0-only');
  assert.equal(later.map((d) => d.message), [
    "cpu on protection domain 'p' is a Microkit 2.3.0 feature; this system is built for Microkit 2.0.1",
    "fpu on protection domain 'p' is a Microkit 2.3.0 feature; this system is built for Microkit 2.0.1",
  ]);
});

test('the 2.3.0 stack default and the map limit below the IPC buffer', () => {
  const parsed = parseSystemXml(`<system>${pd()}</system>`, '/virtual/x.system', undefined, { release: '2.3.0' });
  assert.is(parsed.model!.protectionDomains[0]!.stackSize, 0x2000n);
  assert.is(parseSystemXml(`<system>${pd()}</system>`, '/virtual/x.system', undefined).model!.protectionDomains[0]!.stackSize, 0x1000n);
  // sel4.rs: stack bottom = (user_top & ~0xfff) - guard page - stack = 0xffffffc000 for 8 KiB.
  const high = (vaddr: string): string => `<memory_region name="m" size="0x1000" />${pd('', `<map mr="m" vaddr="${vaddr}" />`)}`;
  assert.equal(errors(high('0xffffffb000')), []);
  assertError(high('0xffffffc000'), 'map-vaddr-too-high', {}, /below 0xffffffc000/);
});

test('what 2.3.0 adds is emitted and reads back the same', () => {
  writeFileSync(path.join(tmp, 'fill.bin'), 'abc');
  const xml = `<system>
    <memory_region name="fill" prefill_path="fill.bin" />
    <memory_region name="sized" size="0x1000" prefill_path="fill.bin" />
    <domains>
      <domain name="a" id="2" /><domain name="b" />
      <domain_schedule start_index="1" index_shift="3">
        <schedule_entry domain="a" duration="1000 us" /><schedule_entry domain="b" duration="5 ticks" /><schedule_end_marker />
      </domain_schedule>
    </domains>
    <protection_domain name="p" cpu="0" fpu="false" domain="a" priority="200">
      <program_image path="p.elf" path_for_symbols="p.debug.elf" />
      <map mr="fill" vaddr="0x2000000" perms="r" setvar_prefill_size="fill_size" />
      <irq irq="40" id="3" setvar_id="irq_ch" />
      <cspace><cap_tcb slot="1" pd="c" /><cap_vspace slot="2" pd="c" /></cspace>
      <protection_domain name="c" id="1" setvar_id="child" domain="b"><program_image path="c.elf" /></protection_domain>
      <virtual_machine name="g" priority="100"><vcpu id="0" cpu="0" /><map mr="sized" vaddr="0x40000000" /></virtual_machine>
    </protection_domain>
    <protection_domain name="q" domain="b"><program_image path="q.elf" /></protection_domain>
    <channel><end pd="p" id="5" setvar_id="to_q" /><end pd="q" id="0" /></channel>
  </system>`;
  const file = path.join(tmp, 'all.system');
  writeFileSync(file, xml);
  const first = xmlModel(xml, file, { board: undefined, microkit: '2.3.0', sdk: '' });
  assert.equal([...first.diagnostics, ...validateSystem(first.model!)].filter((d) => d.severity === 'error').map((d) => d.message), []);
  const emitted = emitSystemXml(first.model!, { toolVersion: 'test' });
  assert.match(emitted, /<memory_region name="fill" prefill_path="fill.bin"\/>/, 'a size the file decides is not written');
  writeFileSync(file, emitted);
  const again = xmlModel(emitted, file, { board: undefined, microkit: '2.3.0', sdk: '' });
  const meaning = (m: unknown): unknown => JSON.parse(JSON.stringify(m, (k, v: unknown) => (k === 'loc' ? undefined : typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
  assert.equal(meaning(again.model), meaning(first.model));
});

test.run();
