// The Microkit 2.0.1 tool's own SDF test fixtures are our peer suite: every invalid fixture must
// be rejected (exit 1, a clear message, no stack trace) for the reason the Microkit tool gives,
// and every example system must be accepted. Needs MICROKIT_SRC (a checkout of seL4/microkit at
// tag 2.0.1); without it its tests are skipped, with one SKIP line each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { missing, runCli, testIf } from '../../helpers.js';
import { parseSystemXml } from '../../../src/compile/parse/system-xml.js';
import { emitSystemXml } from '../../../src/compile/emit/system-xml.js';

/** The model without source locations: what must survive a trip through our emitter. */
function meaning(xml: string, file: string): unknown {
  const { model } = parseSystemXml(xml, file, undefined);
  return JSON.parse(JSON.stringify(model, (k, v) => (k === 'loc' || k === 'file' ? undefined : typeof v === 'bigint' ? `0x${v.toString(16)}` : v)));
}

/** For each Microkit fixture, the id of the error that corresponds to the Microkit tool's message. */
const EXPECTED: Record<string, string> = {
  ch_bidirectional_ppc: 'channel-pp-both-ways',
  ch_end_invalid_notify: 'xml-bad-bool',
  ch_end_invalid_pp: 'xml-bad-bool',
  ch_id_greater_than_max: 'channel-id-out-of-range',
  ch_id_less_than_0: 'channel-id-out-of-range',
  ch_invalid_attrs: 'xml-invalid-attribute',
  ch_invalid_element: 'xml-invalid-element',
  ch_invalid_pd: 'channel-unknown-pd',
  ch_missing_id: 'xml-missing-attribute',
  ch_missing_pd: 'xml-missing-attribute',
  ch_not_enough_ends: 'channel-end-count',
  ch_ppcall_priority: 'channel-pp-priority',
  ch_too_many_ends: 'channel-end-count',
  irq_id_greater_than_max: 'irq-id-out-of-range',
  irq_id_less_than_0: 'irq-id-out-of-range',
  irq_invalid_trigger: 'irq-invalid-trigger',
  mr_addr_not_aligned_to_page_size: 'mr-paddr-unaligned',
  mr_invalid_attrs: 'xml-invalid-attribute',
  mr_malformed_size: 'xml-bad-number',
  mr_missing_name: 'xml-missing-attribute',
  mr_missing_size: 'xml-missing-attribute',
  mr_overlapping_phys_addr: 'mr-overlapping-paddr',
  mr_size_not_multiple_of_page_size: 'mr-size-not-page-multiple',
  mr_unsupported_page_size: 'mr-page-size-unsupported',
  pd_budget_gt_period: 'budget-gt-period',
  pd_child_missing_id: 'xml-missing-attribute',
  pd_duplicate_child_id: 'pd-duplicate-child-id',
  pd_duplicate_child_id_vcpu: 'pd-child-id-clashes-vcpu',
  pd_duplicate_program_image: 'pd-duplicate-program-image',
  pd_duplicate_setvar: 'pd-duplicate-setvar',
  pd_invalid_attrs: 'xml-invalid-attribute',
  pd_missing_id: 'xml-missing-attribute',
  pd_missing_irq: 'xml-missing-attribute',
  pd_missing_mr: 'xml-missing-attribute',
  pd_missing_name: 'xml-missing-attribute',
  pd_missing_path: 'xml-missing-attribute',
  pd_missing_program_image: 'pd-missing-program',
  pd_missing_region_paddr: 'xml-missing-attribute',
  pd_missing_symbol: 'xml-missing-attribute',
  pd_missing_vaddr: 'xml-missing-attribute',
  pd_overlapping_maps: 'map-overlap',
  pd_parent_has_id: 'xml-invalid-attribute',
  pd_program_image_invalid_attrs: 'xml-invalid-attribute',
  pd_small_stack_size: 'pd-stack-size-range',
  pd_unaligned_stack_size: 'pd-stack-size-unaligned',
  pd_write_only_mr: 'map-write-only',
  sys_channel_duplicate_a_id: 'duplicate-channel-id',
  sys_channel_duplicate_b_id: 'duplicate-channel-id',
  sys_duplicate_irq_id: 'duplicate-channel-id',
  sys_duplicate_irq_number: 'irq-claimed-twice',
  sys_duplicate_mr_name: 'duplicate-mr-name',
  sys_duplicate_pd_name: 'duplicate-pd-name',
  sys_map_invalid_mr: 'map-unknown-region',
  sys_map_not_aligned: 'map-vaddr-unaligned',
  sys_map_too_high: 'map-vaddr-too-high',
  sys_no_protection_domains: 'no-protection-domains',
  sys_text_elements: 'xml-unexpected-text',
  sys_too_many_pds: 'too-many-pds',
  vm_duplicate_name: 'duplicate-vm-name',
  vm_invalid_vcpu_cpu: 'xml-invalid-attribute',
  vm_invalid_vcpu_id: 'vm-vcpu-id-out-of-range',
  vm_missing_mr: 'map-unknown-region',
  vm_missing_vcpu: 'vm-missing-vcpu',
  vm_missing_vcpu_id: 'xml-missing-attribute',
  vm_not_child: 'vm-not-child',
  vm_overlapping_maps: 'map-overlap',
};

const src = process.env['MICROKIT_SRC'] ?? '';
const sdfDir = path.join(src, 'tool', 'microkit', 'tests', 'sdf');
const needs = missing('microkit-src');

if (needs) {
  // The fixtures and examples are listed from the checkout: without it, one skipped test each.
  testIf(needs, 'every Microkit fixture has an expected error here', () => {});
  testIf(needs, 'rejects every Microkit 2.0.1 invalid fixture for the expected reason', () => {});
  testIf(needs, 'accepts every Microkit 2.0.1 example and emits it with its meaning unchanged', () => {});
} else {
  const fixtures = readdirSync(sdfDir).filter((f) => f.endsWith('.system')).sort();
  let rejected = 0;

  test('every Microkit fixture has an expected error here', () => {
    const unknown = fixtures.map((f) => f.replace(/\.system$/, '')).filter((n) => !(n in EXPECTED));
    assert.equal(unknown, [], `fixtures without an expectation: ${unknown.join(', ')}`);
  });

  for (const f of fixtures) {
    test(`rejects ${f}`, () => {
      const r = runCli(['check', path.join(sdfDir, f)]);
      assert.is(r.status, 1, `${f}: exit ${r.status}\n${r.stdout}${r.stderr}`);
      assert.not.match(r.stderr, /internal error/);
      const want = EXPECTED[f.replace(/\.system$/, '')]!;
      assert.match(r.stderr, new RegExp(`${f.replace('.', '\\.')}:\\d+:\\d+: error\\[${want}\\]`), `${f}: expected error[${want}] with its location, got:\n${r.stderr}`);
      rejected++;
    });
  }

  const examples = readdirSync(path.join(src, 'example'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(src, 'example', d.name)).filter((f) => f.endsWith('.system')).map((f) => path.join(src, 'example', d.name, f)))
    .sort();
  for (const e of examples) {
    test(`accepts example ${path.basename(e)}`, () => {
      const r = runCli(['check', e]);
      assert.is(r.status, 0, r.stderr);
    });

    test(`emits example ${path.basename(e)} with its meaning unchanged`, () => {
      const original = parseSystemXml(readFileSync(e, 'utf8'), e, undefined).model!;
      const again = emitSystemXml(original, { toolVersion: 'test' });
      assert.equal(meaning(again, e), meaning(readFileSync(e, 'utf8'), e));
    });
  }

  test.after(() => {
    process.stdout.write(`peer score: ${rejected}/${fixtures.length} Microkit 2.0.1 invalid fixtures rejected for the expected reason; ${examples.length} examples checked\n`);
  });
}

test.run();
