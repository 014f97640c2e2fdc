// The runtime ABI (src/compile/abi/) is the C runtime's: every layout and limit it exports is
// compared here with the header that pins it in src/vmm-runtime/include/, read as text
// (test/c-header.ts: `#define`s, `_Static_assert(offsetof(...))`, `_Static_assert(sizeof(...))`),
// never copied into this file. The comparisons go both ways where TypeScript writes the bytes
// (vmm_config.h, timer_config.h): a field or constant the header gains fails here until the
// TypeScript side has it too. The last test checks that no export of the ABI modules was left
// out, so a constant added there without a comparison fails as well.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as crc from '../../../src/compile/abi/crc32.js';
import * as netLink from '../../../src/compile/abi/net-link.js';
import * as timer from '../../../src/compile/abi/timer-config.js';
import * as vmm from '../../../src/compile/abi/vmm-config.js';
import * as control from '../../../src/compile/abi/vmm-control.js';
import * as wake from '../../../src/compile/abi/wake.js';
import { MAX_DTB_SIZE } from '../../../src/compile/guest/placement.js';
import { GIC } from '../../../src/compile/model/facts.js';
import { readCHeader, snake, type CHeaderFacts } from '../../c-header.js';
import { repoRoot } from '../../helpers.js';

const INCLUDE = 'src/vmm-runtime/include';
const MODULES = { crc, netLink, timer, vmm, wake, control } as const;
type ModuleName = keyof typeof MODULES;

/** An export of one of the ABI modules, by name. */
function exportOf(module: ModuleName, name: string): unknown {
  return (MODULES[module] as unknown as Record<string, unknown>)[name];
}

/** `module.export` for every export a test compared. */
const compared = new Set<string>();

/** Comparisons against one header; `used` collects the header's defines that were compared. */
function against(file: string) {
  const h: CHeaderFacts = readCHeader(`${INCLUDE}/${file}`);
  const used = new Set<string>();
  const define = (name: string): number => {
    const v = h.defines.get(name);
    assert.ok(v !== undefined, `${file} defines ${name} as an integer`);
    used.add(name);
    return v!;
  };
  return {
    h,
    used,
    define,
    /** An exported number (or bigint) equals the header's `#define`. */
    value(module: ModuleName, name: string, cName = name): void {
      const ts = exportOf(module, name);
      assert.ok(typeof ts === 'number' || typeof ts === 'bigint', `${module}.${name} is a number`);
      assert.is(Number(ts), define(cName), `${module}.${name} vs ${file} ${cName}`);
      compared.add(`${module}.${name}`);
    },
    /** An exported string equals the header's `#define` as written (`quoted` for a string literal). */
    text(module: ModuleName, name: string, quoted: boolean): void {
      const ts = exportOf(module, name) as string;
      assert.is(h.text.get(name), quoted ? JSON.stringify(ts) : ts, `${module}.${name} vs ${file}`);
      used.add(name);
      compared.add(`${module}.${name}`);
    },
    /** A table of codes `{ key: n }` equals `<prefix><KEY>` for each key. */
    codes(module: ModuleName, name: string, prefix: string): void {
      const table = exportOf(module, name) as Record<string, number>;
      for (const [key, v] of Object.entries(table)) assert.is(v, define(`${prefix}${key.toUpperCase().replace(/-/g, '_')}`), `${module}.${name}.${key}`);
      compared.add(`${module}.${name}`);
    },
    /**
     * An offsets table `{ camelField: offset }` equals the header's `offsetof(struct s, snake_field)`
     * both ways: every field of the table is pinned at that offset, and every field the header
     * pins is in the table (`reserved*` padding excepted).
     */
    struct(module: ModuleName, name: string, struct: string): void {
      const table = exportOf(module, name) as Record<string, number>;
      const pinned = h.offsets.get(struct);
      assert.ok(pinned, `${file} pins the offsets of struct ${struct}`);
      for (const [field, offset] of Object.entries(table)) assert.is(pinned!.get(snake(field)), offset, `${module}.${name}.${field} vs offsetof(struct ${struct}, ${snake(field)})`);
      const inTable = new Set(Object.keys(table).map(snake));
      const missing = [...pinned!.keys()].filter((f) => !f.startsWith('reserved') && !inTable.has(f));
      assert.equal(missing, [], `struct ${struct} fields ${file} pins that ${module}.${name} lacks`);
      compared.add(`${module}.${name}`);
    },
    /** An exported size equals the header's `sizeof(struct s)`. */
    size(module: ModuleName, name: string, struct: string): void {
      const ts = exportOf(module, name);
      assert.is(Number(ts), h.sizes.get(struct), `${module}.${name} vs sizeof(struct ${struct})`);
      compared.add(`${module}.${name}`);
    },
    /** Every integer `#define` with one of `prefixes` was compared. */
    allDefinesCompared(prefixes: string[]): void {
      const left = [...h.defines.keys()].filter((d) => prefixes.some((p) => d.startsWith(p)) && !used.has(d));
      assert.equal(left, [], `${file} defines these, and src/compile/abi/ has no counterpart`);
    },
  };
}

test('vmm_config.h: the VMM config blob, its records, codes and limits', () => {
  const c = against('vmm_config.h');
  c.text('vmm', 'VMM_CONFIG_SECTION', true);
  c.text('vmm', 'VMM_CONFIG_SYMBOL', false);
  for (const name of [
    'VMM_CONFIG_RESERVED_SIZE', 'VMM_CONFIG_MAGIC', 'VMM_CONFIG_VERSION', 'VMM_CONFIG_NAME_SIZE', 'VMM_CONFIG_MAX_VCPUS', 'VMM_CONFIG_MAX_IRQS',
    'VMM_CONFIG_MAX_DEVICES', 'VMM_CONFIG_MAX_VIRTIO', 'VMM_CONFIG_MAX_INTID', 'VMM_CONFIG_MAX_CHANNEL', 'VMM_CONFIG_MAX_CHILD', 'VMM_CONFIG_VIRTIO_READ_ONLY',
    'VMM_CONFIG_VIRTIO_WINDOW', 'VMM_CONFIG_FLAG_KERNEL_GZIP', 'VMM_CONFIG_FLAG_INITRD_GZIP', 'VMM_CONFIG_FLAG_IDLE_BLOCK', 'VMM_CONFIG_NO_CHANNEL',
    'VMM_CONFIG_FLAG_KERNEL_IN_PLACE', 'VMM_CONFIG_FLAG_DTB_IN_PLACE', 'VMM_CONFIG_FLAG_INITRD_IN_PLACE',
    'VMM_CONFIG_FLAG_IN_PLACE_UNMAPPED', 'VMM_CONFIG_GZIP_MIN_SIZE', 'VMM_CONFIG_MAX_DOORBELLS', 'VMM_CONFIG_DOORBELL_LINES', 'VMM_CONFIG_DOORBELL_CAN_RING',
    'VMM_CONFIG_RESTARTS_UNLIMITED', 'VMM_CONFIG_MAX_BACKOFF_MS',
  ]) c.value('vmm', name);
  c.codes('vmm', 'VMM_CONFIG_RESTART', 'VMM_CONFIG_RESTART_');
  c.codes('vmm', 'VMM_CONFIG_TRIGGERS', 'VMM_CONFIG_TRIGGER_');
  c.codes('vmm', 'VMM_CONFIG_DEVICE_KINDS', 'VMM_CONFIG_DEVICE_');
  c.codes('vmm', 'VMM_CONFIG_VIRTIO_KINDS', 'VMM_CONFIG_VIRTIO_');
  c.struct('vmm', 'VMM_CONFIG_OFFSETS', 'vmm_config');
  c.size('vmm', 'VMM_CONFIG_HEADER_SIZE', 'vmm_config');
  c.struct('vmm', 'VMM_CONFIG_IMAGE_OFFSETS', 'vmm_config_image');
  c.size('vmm', 'VMM_CONFIG_IMAGE_SIZE', 'vmm_config_image');
  c.struct('vmm', 'VMM_CONFIG_IRQ_OFFSETS', 'vmm_config_irq');
  c.size('vmm', 'VMM_CONFIG_IRQ_SIZE', 'vmm_config_irq');
  c.struct('vmm', 'VMM_CONFIG_DEVICE_OFFSETS', 'vmm_config_device');
  c.size('vmm', 'VMM_CONFIG_DEVICE_SIZE', 'vmm_config_device');
  c.struct('vmm', 'VMM_CONFIG_VIRTIO_OFFSETS', 'vmm_config_virtio');
  c.size('vmm', 'VMM_CONFIG_VIRTIO_SIZE', 'vmm_config_virtio');
  c.struct('vmm', 'VMM_CONFIG_DOORBELL_OFFSETS', 'vmm_config_doorbell');
  c.size('vmm', 'VMM_CONFIG_DOORBELL_SIZE', 'vmm_config_doorbell');
  // The GIC frame sizes the runtime checks the blob's addresses with are the architecture facts
  // the encoder checks them with (IHI0048B 4.1.2, IHI0069 12.1).
  assert.is(BigInt(c.define('VMM_GICD_V2_SIZE')), GIC.v2DistributorSize);
  assert.is(BigInt(c.define('VMM_GICD_V3_SIZE')), GIC.v3DistributorSize);
  assert.is(BigInt(c.define('VMM_GICC_V2_SIZE')), GIC.v2CpuInterfaceSize);
  assert.is(BigInt(c.define('VMM_GICR_STRIDE')), GIC.v3RedistributorStride);
  c.allDefinesCompared(['VMM_CONFIG_', 'VMM_GIC']);
});

test('vmm_config.h: each array of struct vmm_config holds exactly its limit', () => {
  const O = vmm.VMM_CONFIG_OFFSETS;
  // Each array ends where the header puts the next field: the limits size the struct.
  assert.is(O.vmName + vmm.VMM_CONFIG_NAME_SIZE, O.gicVersion);
  assert.is(O.vcpuIds + vmm.VMM_CONFIG_MAX_VCPUS, O.gicdBase);
  assert.is(O.kernel + vmm.VMM_CONFIG_IMAGE_SIZE, O.dtb);
  assert.is(O.dtb + vmm.VMM_CONFIG_IMAGE_SIZE, O.initrd);
  assert.is(O.initrd + vmm.VMM_CONFIG_IMAGE_SIZE, O.irqs);
  assert.is(O.irqs + vmm.VMM_CONFIG_MAX_IRQS * vmm.VMM_CONFIG_IRQ_SIZE, O.devices);
  assert.is(O.devices + vmm.VMM_CONFIG_MAX_DEVICES * vmm.VMM_CONFIG_DEVICE_SIZE, O.kernelUnpackedSize);
  assert.is(O.virtio + vmm.VMM_CONFIG_MAX_VIRTIO * vmm.VMM_CONFIG_VIRTIO_SIZE, O.doorbellCount);
  assert.is(O.doorbells + vmm.VMM_CONFIG_MAX_DOORBELLS * vmm.VMM_CONFIG_DOORBELL_SIZE, O.restartPolicy);
  assert.ok(vmm.VMM_CONFIG_HEADER_SIZE <= vmm.VMM_CONFIG_RESERVED_SIZE);
});

test('every header\'s vCPU limit is VMM_CONFIG_MAX_VCPUS', () => {
  // vmm_config.h's is the runtime's one vCPU limit; any other header that still names one
  // (VGIC_MAX_VCPUS, PSCI_MAX_VCPUS, ...) must agree with it.
  const dir = path.join(repoRoot, INCLUDE);
  let seen = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.h')).sort()) {
    for (const [name, v] of readCHeader(`${INCLUDE}/${file}`).defines) {
      if (!name.endsWith('_MAX_VCPUS')) continue;
      assert.is(v, vmm.VMM_CONFIG_MAX_VCPUS, `${file} ${name}`);
      seen++;
    }
  }
  assert.ok(seen >= 1);
});

test('timer_config.h and vmm_wake.h: the timer PD\'s config blob and the wake slots', () => {
  const c = against('timer_config.h');
  c.text('timer', 'TIMER_CONFIG_SECTION', true);
  c.text('timer', 'TIMER_CONFIG_SYMBOL', false);
  for (const name of ['TIMER_CONFIG_RESERVED_SIZE', 'TIMER_CONFIG_MAGIC', 'TIMER_CONFIG_VERSION', 'TIMER_CONFIG_NO_CHANNEL']) {
    c.value('timer', name);
  }
  // The runtime checks the timer blob's channels against Microkit's one limit (microkit_limits.h).
  c.value('timer', 'TIMER_CONFIG_MAX_CHANNEL', 'MICROKIT_LIMIT_MAX_CHANNEL');
  c.codes('timer', 'TIMER_CONFIG_SOURCES', 'TIMER_SOURCE_');
  c.struct('timer', 'TIMER_CONFIG_OFFSETS', 'timer_config');
  c.size('timer', 'TIMER_CONFIG_HEADER_SIZE', 'timer_config');
  c.struct('timer', 'TIMER_CONFIG_CLIENT_OFFSETS', 'timer_config_client');
  c.size('timer', 'TIMER_CONFIG_CLIENT_SIZE', 'timer_config_client');
  c.allDefinesCompared(['TIMER_CONFIG_', 'TIMER_SOURCE_']);

  const w = against('vmm_wake.h');
  w.value('wake', 'WAKE_SLOT_REGION_SIZE');
  w.value('wake', 'WAKE_MAX_CLIENTS');
  // struct timer_config's clients[] has WAKE_MAX_CLIENTS entries.
  w.value('timer', 'TIMER_CONFIG_MAX_CLIENTS', 'WAKE_MAX_CLIENTS');
  assert.is(timer.TIMER_CONFIG_OFFSETS.clients + timer.TIMER_CONFIG_MAX_CLIENTS * timer.TIMER_CONFIG_CLIENT_SIZE, timer.TIMER_CONFIG_HEADER_SIZE);
  assert.ok(timer.TIMER_CONFIG_HEADER_SIZE <= timer.TIMER_CONFIG_RESERVED_SIZE);
  // A wake slot is the first word of its region.
  assert.ok(BigInt(w.h.sizes.get('wake_slot')!) <= wake.WAKE_SLOT_REGION_SIZE);
});

test('vmm.c and timer/timer.c: the blob is the symbol the header names, in the section it names, of its reserved size', () => {
  // The link step patches the section by name (link/elf.ts), the runtime reads the array: the
  // header's names (compared above with the TypeScript side) are the ones the C source declares.
  const declared = (file: string): string[][] => [...readFileSync(path.join(repoRoot, 'src/vmm-runtime', file), 'utf8')
    .matchAll(/__attribute__\(\(section\((\w+)\)[^\n]*\)\)\s*\n\s*uint8_t\s+(\w+)\[(\w+)\];/g)].map((m) => [m[1]!, m[2]!, m[3]!]);
  assert.equal(declared('vmm.c'), [['VMM_CONFIG_SECTION', vmm.VMM_CONFIG_SYMBOL, 'VMM_CONFIG_RESERVED_SIZE']]);
  assert.equal(declared('timer/timer.c'), [['TIMER_CONFIG_SECTION', timer.TIMER_CONFIG_SYMBOL, 'TIMER_CONFIG_RESERVED_SIZE']]);
});

test('net_link.h: a link ring\'s records, alignments and the sizes its macros give', () => {
  const c = against('net_link.h');
  for (const name of ['NET_LINK_HEADER_SIZE', 'NET_LINK_FREE_OFFSET', 'NET_LINK_BUFFER_SIZE', 'NET_LINK_QUEUE_ALIGN', 'NET_LINK_DATA_ALIGN', 'NET_LINK_MAX_CAPACITY']) {
    c.value('netLink', name);
  }
  c.size('netLink', 'NET_LINK_HEADER_SIZE', 'net_link_header');
  c.size('netLink', 'NET_LINK_QUEUE_HEADER_SIZE', 'net_link_queue');
  assert.is(Number(netLink.NET_LINK_QUEUE_HEADER_SIZE), c.h.offsets.get('net_link_queue')!.get('buffers'), 'descriptors follow the queue header');
  c.size('netLink', 'NET_LINK_DESC_SIZE', 'net_link_desc');
  // The offset and size macros, at the capacity the header pins their results for.
  const cap = c.define('NET_LINK_DEFAULT_CAPACITY');
  assert.is(netLink.netLinkActiveOffset(cap), BigInt(c.define('NET_LINK_DEFAULT_ACTIVE_OFFSET')));
  assert.is(netLink.netLinkDataOffset(cap), BigInt(c.define('NET_LINK_DEFAULT_DATA_OFFSET')));
  assert.is(netLink.netLinkRegionSize(cap), BigInt(c.define('NET_LINK_DEFAULT_REGION_SIZE')));
  for (const f of ['netLinkActiveOffset', 'netLinkDataOffset', 'netLinkRegionSize']) compared.add(`netLink.${f}`);
});

test('vmm_control.h: the control page between a VMM and the PD that controls its VM', () => {
  const c = against('vmm_control.h');
  for (const name of ['VMM_CONTROL_PAGE_SIZE', 'VMM_CONTROL_MAGIC', 'VMM_CONTROL_VERSION']) c.value('control', name);
  c.codes('control', 'VMM_CONTROL_CMD', 'VMM_CONTROL_CMD_');
  c.codes('control', 'VMM_VM', 'VMM_VM_');
  c.codes('control', 'VMM_CAUSE', 'VMM_CAUSE_');
  c.struct('control', 'VMM_CONTROL_COMMAND_OFFSETS', 'vmm_control_command');
  c.struct('control', 'VMM_CONTROL_STATE_OFFSETS', 'vmm_control_state');
  c.struct('control', 'VMM_CONTROL_PAGE_OFFSETS', 'vmm_control_page');
  c.define('VMM_CONTROL_OK');
  // The state block ends inside the page.
  assert.ok(control.VMM_CONTROL_PAGE_OFFSETS.state + c.h.sizes.get('vmm_control_state')! <= control.VMM_CONTROL_PAGE_SIZE);
});

test('net_link.h version 2: the link state the sender writes into its header', () => {
  const c = against('net_link.h');
  assert.is(c.define('NET_LINK_VERSION'), 2);
  assert.is(c.h.offsets.get('net_link_header')!.get('link_state'), 0x28);
  assert.is(c.h.offsets.get('net_link_header')!.get('link_epoch'), 0x2c);
});

test('crc32 is the checksum the headers name (IEEE 802.3, as zlib computes it)', () => {
  assert.is(crc.crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const bytes = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff);
  assert.is(crc.crc32(bytes), zlibCrc32(bytes));
  compared.add('crc.crc32');
});

test('linux_boot.h: the largest DTB placement allows is the largest the runtime loads', () => {
  assert.is(Number(MAX_DTB_SIZE), against('linux_boot.h').define('LINUX_DTB_MAX'));
});

test('every export of src/compile/abi/ was compared with a header', () => {
  const exported = Object.entries(MODULES).flatMap(([m, ns]) => Object.keys(ns).map((k) => `${m}.${k}`));
  assert.equal(exported.filter((e) => !compared.has(e)).sort(), []);
  process.stdout.write(`abi: ${compared.size} exports compared with src/vmm-runtime/include/*.h\n`);
});

test.run();
