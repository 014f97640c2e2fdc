// The Microkit 2.3.0 tool's own SDF tests are our second peer suite. Its tests/test.rs says, for
// each fixture, under which kernel configuration it must fail (and with which message) or pass;
// this reads that file, so every fixture the tool's suite has is covered here:
// - AArch64 configurations (one core, or four for SMP): each failing fixture is rejected by
//   `check --microkit 2.3.0` (exit 1) with the error that corresponds to the tool's message, at
//   a location in the fixture; each passing fixture is accepted;
// - the x86-64 configuration: every board here is AArch64, so a fixture that uses an x86 element
//   (ioport, io_address_space, I/O APIC or MSI irqs, x86 boot information) is rejected as
//   `x86-only`, and one that only breaks an x86 rule (PPC into a VMM, VM priority, ...) must be
//   accepted, as the tool accepts it for AArch64.
// And every ARM example of the release is accepted. Needs MICROKIT_SRC_2_3_0 (a checkout of
// seL4/microkit at tag 2.3.0); without it its tests are skipped, with one SKIP line each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { missing, runCli, testIf } from '../../helpers.js';

/** For each fixture tests/test.rs expects to fail on AArch64, the error that is the tool's reason. */
const EXPECTED: Record<string, string> = {
  mr_malformed_size: 'xml-bad-number',
  mr_unsupported_page_size: 'mr-page-size-unsupported',
  mr_size_not_multiple_of_page_size: 'mr-size-not-page-multiple',
  mr_addr_not_aligned_to_page_size: 'mr-paddr-unaligned',
  mr_missing_size: 'xml-missing-attribute',
  mr_missing_name: 'xml-missing-attribute',
  mr_invalid_attrs: 'xml-invalid-attribute',
  mr_overlapping_phys_addr: 'mr-overlapping-paddr',
  mr_prefill_empty_file: 'mr-prefill-empty',
  mr_prefill_does_not_exists: 'mr-prefill-missing',
  mr_prefill_size_without_prefill: 'setvar-prefill-size-without-prefill',
  pd_missing_name: 'xml-missing-attribute',
  pd_missing_program_image: 'pd-missing-program',
  pd_missing_path: 'xml-missing-attribute',
  pd_missing_mr: 'xml-missing-attribute',
  pd_missing_vaddr: 'xml-missing-attribute',
  pd_missing_irq: 'xml-missing-attribute',
  pd_missing_id: 'xml-missing-attribute',
  pd_missing_symbol: 'xml-missing-attribute',
  pd_missing_region_paddr: 'xml-missing-attribute',
  pd_duplicate_setvar: 'pd-duplicate-setvar',
  pd_duplicate_program_image: 'pd-duplicate-program-image',
  pd_invalid_attrs: 'xml-invalid-attribute',
  pd_program_image_invalid_attrs: 'xml-invalid-attribute',
  pd_budget_gt_period: 'budget-gt-period',
  irq_id_greater_than_max: 'irq-id-out-of-range',
  irq_id_less_than_0: 'irq-id-out-of-range',
  pd_write_only_mr: 'map-write-only',
  irq_invalid_trigger: 'irq-invalid-trigger',
  irq_ioapic_on_arm: 'x86-only',
  irq_msi_on_arm: 'x86-only',
  pd_parent_has_id: 'xml-invalid-attribute',
  pd_child_missing_id: 'xml-missing-attribute',
  pd_duplicate_child_id: 'pd-duplicate-child-id',
  pd_duplicate_child_id_vcpu: 'pd-child-id-clashes-vcpu',
  pd_small_stack_size: 'pd-stack-size-range',
  pd_unaligned_stack_size: 'pd-stack-size-unaligned',
  pd_overlapping_maps: 'map-overlap',
  pd_overlapping_mixed_page_sizes: 'map-overlap',
  pd_invalid_cpu: 'pd-cpu-out-of-range',
  vm_not_child: 'vm-not-child',
  vm_duplicate_name: 'duplicate-vm-name',
  vm_missing_vcpu: 'vm-missing-vcpu',
  vm_missing_vcpu_id: 'xml-missing-attribute',
  vm_invalid_vcpu_id: 'vm-vcpu-id-out-of-range',
  vm_overlapping_maps: 'map-overlap',
  vm_missing_mr: 'map-unknown-region',
  ch_missing_id: 'xml-missing-attribute',
  ch_id_greater_than_max: 'channel-id-out-of-range',
  ch_id_less_than_0: 'channel-id-out-of-range',
  ch_invalid_attrs: 'xml-invalid-attribute',
  ch_invalid_pd: 'channel-unknown-pd',
  ch_invalid_element: 'xml-invalid-element',
  ch_not_enough_ends: 'channel-end-count',
  ch_too_many_ends: 'channel-end-count',
  ch_end_invalid_pp: 'xml-bad-bool',
  ch_end_invalid_notify: 'xml-bad-bool',
  ch_bidirectional_ppc: 'channel-pp-both-ways',
  ch_ppcall_priority: 'channel-pp-priority',
  domain_smp: 'domains-smp',
  domain_exceed_max_domains: 'domains-too-many',
  domain_assign_pd_to_invalid_domain: 'domain-unknown',
  domain_invalid_timeslice: 'domain-duration-invalid',
  domain_no_schedule: 'domain-without-schedule',
  domain_no_pd_domain: 'domain-required',
  domain_invalid_start_index: 'xml-bad-number',
  domain_out_of_bounds_start_index: 'domain-schedule-start-index',
  domain_invalid_shift: 'xml-bad-number',
  domain_out_of_bounds_shift: 'domain-schedule-index-shift',
  sys_duplicate_pd_name: 'duplicate-pd-name',
  sys_duplicate_mr_name: 'duplicate-mr-name',
  sys_duplicate_irq_number: 'irq-claimed-twice',
  sys_duplicate_irq_id: 'duplicate-channel-id',
  sys_channel_duplicate_a_id: 'duplicate-channel-id',
  sys_channel_duplicate_b_id: 'duplicate-channel-id',
  sys_no_protection_domains: 'no-protection-domains',
  sys_text_elements: 'xml-unexpected-text',
  sys_map_invalid_mr: 'map-unknown-region',
  sys_map_not_aligned: 'map-vaddr-unaligned',
  sys_map_too_high: 'map-vaddr-too-high',
  sys_map_range_too_high: 'map-vaddr-too-high',
  sys_too_many_pds: 'too-many-pds',
  wrong_fpu_flag_value: 'xml-bad-bool',
  pd_cap_mappings_overlapping: 'cap-map-slot-twice',
  cap_mappings_slot_invalid: 'cap-map-slot-reserved',
  pd_cap_mappings_invalid: 'xml-invalid-element',
  pd_cap_mappings_invalid_pd_ref: 'cap-map-unknown-pd',
};

interface Case {
  expect: 'error' | 'success';
  config: 'aarch64' | 'smp' | 'x86_64';
  fixture: string;
}

/** The cases of tests/test.rs: check_error / check_missing / check_success(&CONFIG, "file.system", ...). */
function readCases(testRs: string): Case[] {
  const configOf = (c: string): Case['config'] => (c.startsWith('SMP_') ? 'smp' : c.includes('X86') ? 'x86_64' : 'aarch64');
  return [...testRs.matchAll(/check_(error|missing|success)\(\s*&(\w+),\s*"([\w.]+)\.system"/g)].map((m) => ({
    expect: m[1] === 'success' ? 'success' : 'error',
    config: configOf(m[2]!),
    fixture: m[3]!,
  }));
}

/** x86 elements a fixture uses (what makes it x86-only here). */
const X86 = /<ioport\b|<io_address_space\b|<irq\b[^>]*\b(pin|pcidev)=|prefill_bootinfo="x86_(vbe|mbmmap|acpi_rsdp|framebuffer|tsc_freq)"/;

/**
 * x86-configuration failures with nothing x86 in them: on AArch64 most are valid (the rule is
 * x86's); these two are wrong everywhere, and the tool with its AArch64 configuration would say so
 * too (an unknown boot information type; maps of a region the fixture never declares).
 */
const X86_CASES_INVALID_EVERYWHERE: Record<string, string> = {
  mr_prefill_bootinfo_type_invalid: 'mr-bootinfo-unsupported',
  vm_x86_vm_with_child_invalid: 'map-unknown-region',
};

const src = process.env['MICROKIT_SRC_2_3_0'] ?? '';
const tests = path.join(src, 'tool', 'microkit', 'tests');
const needs = missing('microkit-src-2.3.0');

function check(file: string, c: Case): ReturnType<typeof runCli> {
  const smp = c.config === 'smp' ? ['--board', 'qemu_virt_aarch64', '--config', 'smp-debug'] : [];
  return runCli(['check', file, '--microkit', '2.3.0', '--search-path', path.join(tests, 'prefills'), ...smp], { env: { MICROKIT_SDK: '' } });
}

if (needs) {
  testIf(needs, 'every Microkit 2.3.0 test case has an expectation here', () => {});
  testIf(needs, 'Microkit 2.3.0: fixtures rejected and accepted as its tests/test.rs says', () => {});
  testIf(needs, 'Microkit 2.3.0: every ARM example is accepted', () => {});
} else {
  const cases = readCases(readFileSync(path.join(tests, 'test.rs'), 'utf8'));
  const score = { rejected: 0, accepted: 0, x86: 0, x86Rules: 0 };

  test('every Microkit 2.3.0 test case has an expectation here', () => {
    assert.ok(cases.length >= 130, `read ${cases.length} cases from tests/test.rs`);
    const unknown = cases.filter((c) => c.config !== 'x86_64' && c.expect === 'error' && !(c.fixture in EXPECTED)).map((c) => c.fixture);
    assert.equal(unknown, []);
    for (const c of cases) assert.ok(existsSync(path.join(tests, 'sdf', `${c.fixture}.system`)), c.fixture);
  });

  for (const c of cases) {
    test(`2.3.0 ${c.config} ${c.expect}: ${c.fixture}`, () => {
      const file = path.join(tests, 'sdf', `${c.fixture}.system`);
      const r = check(file, c);
      assert.not.match(r.stderr, /internal error/);
      const x86 = X86.test(readFileSync(file, 'utf8'));
      if (c.config === 'x86_64' || x86) {
        if (x86) {
          assert.is(r.status, 1, r.stderr);
          assert.match(r.stderr, new RegExp(`${c.fixture}\\.system:\\d+:\\d+: error\\[x86-only\\]`));
          score.x86++;
        } else if (c.expect === 'error' && c.fixture in X86_CASES_INVALID_EVERYWHERE) {
          assert.is(r.status, 1, r.stderr);
          assert.match(r.stderr, new RegExp(`${c.fixture}\\.system:\\d+:\\d+: error\\[${X86_CASES_INVALID_EVERYWHERE[c.fixture]}\\]`));
          score.rejected++;
        } else {
          // An x86 rule (or an x86 success) with nothing x86 in it: valid on AArch64.
          assert.is(r.status, 0, r.stderr);
          score.x86Rules++;
        }
      } else if (c.expect === 'error') {
        assert.is(r.status, 1, `${c.fixture}: exit ${r.status}\n${r.stdout}${r.stderr}`);
        const want = EXPECTED[c.fixture]!;
        assert.match(r.stderr, new RegExp(`${c.fixture}\\.system:\\d+:\\d+: error\\[${want}\\]`), `${c.fixture}: expected error[${want}] at its location, got:\n${r.stderr}`);
        score.rejected++;
      } else {
        assert.is(r.status, 0, r.stderr);
        score.accepted++;
      }
    });
  }

  // The x86 examples (x86_64_*, and bootinfo, whose README says it is x86 only) use x86 elements.
  const examples = readdirSync(path.join(src, 'example'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(path.join(src, 'example', d.name)).filter((f) => f.endsWith('.system')).map((f) => path.join(src, 'example', d.name, f)))
    .filter((f) => !X86.test(readFileSync(f, 'utf8')))
    .sort();
  test('2.3.0: the ARM examples are the ones without x86 elements', () => {
    assert.ok(examples.length >= 10, `${examples.length} ARM examples`);
    assert.not.ok(examples.some((e) => /x86_64/.test(e)));
  });
  for (const e of examples) {
    test(`2.3.0 accepts example ${path.basename(e)}`, () => {
      const r = runCli(['check', e, '--microkit', '2.3.0'], { env: { MICROKIT_SDK: '' } });
      assert.is(r.status, 0, r.stderr);
    });
  }

  test.after(() => {
    process.stdout.write(`peer score (Microkit 2.3.0): ${score.rejected} failing AArch64 fixtures rejected for the expected reason, ${score.accepted} passing ones accepted; `
      + `${score.x86} x86 fixtures rejected as x86-only, ${score.x86Rules} x86-only rules accepted on AArch64; ${examples.length} ARM examples accepted\n`);
  });
}

test.run();
