// Information flows: derived from each example and from Microkit's own examples, checked against
// lists worked out by hand from the .system/.ts files; transitive paths that name every hop; a
// policy given separately to check an existing .system; diff putting an undeclared flow first.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSystem } from '../../src/compile/load/index.js';
import { resolveSystem } from '../../src/compile/resolve/index.js';
import { parseSystemXml } from '../../src/compile/parse/system-xml.js';
import { deriveFlows, flowPath } from '../../src/compile/flows.js';
import { findBoard } from '../../src/compile/boards.js';
import { loadBoards } from '../../src/compile/load/boards.js';
import type { SystemModel } from '../../src/compile/model/index.js';
import { fixtures, missing, repoRoot, runCli, testIf } from '../helpers.js';

async function tsModel(file: string, context: Record<string, string> = {}): Promise<SystemModel> {
  const abs = path.join(repoRoot, file);
  const system = await loadSystem(abs, { context: new Map(Object.entries(context)), cwd: repoRoot });
  return resolveSystem({ system, file: abs, board: findBoard(loadBoards(), 'qemu_virt_aarch64'), images: new Map() }).model;
}

function xmlModel(file: string, board?: string): SystemModel {
  const r = parseSystemXml(readFileSync(file, 'utf8'), file, board ? findBoard(loadBoards(), board) : undefined);
  assert.ok(r.model);
  return r.model!;
}

const lines = (m: SystemModel): string[] => deriveFlows(m).flows.map((f) => `${f.from} -> ${f.to} ${f.kind}`);

test('examples/policy-qemu.ts: the flows the buffers, channels and the timer PD make, and no other', async () => {
  assert.equal(lines(await tsModel('examples/policy-qemu.ts')), [
    'filter -> frontend notify',
    'filter -> backend memory',
    'filter -> backend notify',
    'frontend -> filter memory',
    'frontend -> filter notify',
    'frontend -> vmm_timer memory',
    'frontend -> vmm_timer notify',
    'backend -> filter notify',
    'backend -> vmm_timer memory',
    'backend -> vmm_timer notify',
    'vmm_timer -> frontend notify',
    'vmm_timer -> backend notify',
  ]);
});

test('examples/linux-qemu.ts and initramfs-qemu.ts: one guest, and the timer PD it reports its deadline to', async () => {
  for (const file of ['examples/linux-qemu.ts', 'examples/initramfs-qemu.ts']) {
    assert.equal(lines(await tsModel(file)), ['linux -> vmm_timer memory', 'linux -> vmm_timer notify', 'vmm_timer -> linux notify'], file);
  }
});

test('examples/two-vms-qemu.ts: the guests do not touch, but the timer PD that serves both links them', async () => {
  const m = await tsModel('examples/two-vms-qemu.ts');
  assert.equal(lines(m), [
    'first -> vmm_timer memory', 'first -> vmm_timer notify', 'second -> vmm_timer memory', 'second -> vmm_timer notify',
    'vmm_timer -> first notify', 'vmm_timer -> second notify',
  ]);
  const g = deriveFlows(m);
  assert.equal(g.principals.map((p) => [p.name, p.members, p.infrastructure]), [
    ['first', ['first', 'first_vmm'], false], ['second', ['second', 'second_vmm'], false], ['vmm_timer', ['vmm_timer'], true],
  ]);
  const p = flowPath(g, 'first', 'second')!;
  assert.equal(p.hops.map((h) => `${h.from} -${h.kind}-> ${h.to}`), ['first -memory-> vmm_timer', 'vmm_timer -notify-> second']);
  // The VMM's name stands for its VM's principal.
  assert.ok(flowPath(g, 'first_vmm', 'second_vmm'));
  const spin = await tsModel('test/fixtures/systems/idle-counter.ts', { idle: 'spin' });
  assert.equal(lines(spin), [], 'guests that spin have no timer PD, and nothing joins them');
});

test('a transitive path names every hop (three principals in a chain)', () => {
  // With the board known, the GIC vCPU region both guests map is the banked interface (no flow).
  const m = xmlModel(path.join(fixtures, 'golden', 'two-vms-qemu.system'), 'qemu');
  const text = runCli(['flows', path.join(fixtures, 'golden', 'two-vms-qemu.system'), '--board', 'qemu', '--from', 'second', '--to', 'first']);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /'second' can influence 'first' in 2 hops:\n  1\. second -> vmm_timer \(memory\): map of 'second_wake_slot' \(rw\) in 'second_vmm'.*\n  2\. vmm_timer -> first \(notify\): channel first_vmm:1 <-> vmm_timer:0/);
  assert.is(deriveFlows(m).flows.length, 6);
  const none = runCli(['flows', path.join(repoRoot, 'examples', 'linux-qemu.ts'), '--from', 'linux', '--to', 'vmm_timer', '--format', 'json'], { env: { MICROKIT_SDK: '' } });
  assert.equal(JSON.parse(none.stdout).hops.map((h: { kind: string }) => h.kind), ['memory']);
  const usage = runCli(['flows', path.join(fixtures, 'golden', 'two-vms-qemu.system'), '--from', 'first']);
  assert.is(usage.status, 1);
  assert.match(usage.stderr, /error\[flows-usage\]/);
  const unknown = runCli(['flows', path.join(fixtures, 'golden', 'two-vms-qemu.system'), '--from', 'first', '--to', 'nobody']);
  assert.match(unknown.stderr, /error\[flows-usage\]: 'nobody' is no protection domain or virtual machine/);
});

const src = process.env['MICROKIT_SRC'];
testIf(missing('microkit-src'), "Microkit's own examples: hello, timer and rust have none; hierarchy's parent and children; passive_server's call; ethernet's buffers", () => {
  const ex = (p: string): SystemModel => xmlModel(path.join(src!, 'example', p));
  assert.equal(lines(ex('hello/hello.system')), []);
  assert.equal(lines(ex('rust/rust.system')), []);
  assert.equal(lines(ex('timer/timer.system')), []);
  assert.equal(lines(ex('hierarchy/hierachy.system')), ['restarter -> crasher control', 'restarter -> hello control', 'crasher -> restarter fault', 'hello -> restarter fault']);
  assert.equal(lines(ex('passive_server/passive_server.system')), ['server -> client notify', 'server -> client ppc', 'client -> server notify', 'client -> server ppc']);
  assert.equal(lines(ex('ethernet/ethernet.system')), [
    'gpt -> pass notify', 'gpt -> pass ppc',
    // eth_outer and eth_inner both map the eth_clk registers writable.
    'eth_outer -> eth_inner memory', 'eth_outer -> pass memory', 'eth_outer -> pass notify',
    'eth_inner -> eth_outer memory', 'eth_inner -> pass memory', 'eth_inner -> pass notify',
    'pass -> gpt notify', 'pass -> gpt ppc', 'pass -> eth_outer memory', 'pass -> eth_outer notify', 'pass -> eth_inner memory', 'pass -> eth_inner notify',
  ]);
});

test('check --policy judges an existing .system: the timer PD allowed or not', () => {
  const system = path.join(fixtures, 'golden', 'two-vms-qemu.system');
  const ok = runCli(['check', system, '--board', 'qemu', '--policy', path.join(fixtures, 'policy', 'two-vms.policy.ts')]);
  assert.is(ok.status, 0, ok.stderr);
  const bad = runCli(['check', system, '--board', 'qemu', '--policy', path.join(fixtures, 'policy', 'no-timer.policy.ts')]);
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /two-vms-qemu\.system:\d+:\d+: error\[flow-not-allowed\]: 'vmm_timer' can influence 'first' \(notify/);
  assert.match(bad.stderr, /note: the policy is declared here at .*no-timer\.policy\.ts:4/);
  const graph = runCli(['graph', system, '--flows', '--format', 'dot', '--policy', path.join(fixtures, 'policy', 'no-timer.policy.ts')]);
  assert.is(graph.status, 0, graph.stderr);
  assert.match(graph.stdout, /"p:vmm_timer" -> "p:first" \[label="notify \(not allowed\)", color="#d50000"/);
  assert.match(graph.stdout, /"p:first" -> "p:vmm_timer" \[label="memory", color="#e65100"/);
});

test('diff: a change that adds a flow the policy forbids is reported first, naming the rule it breaks', () => {
  const file = path.join(repoRoot, 'examples', 'policy-qemu.ts');
  // The new side: the same system with its mistake made (the frontend maps the backend's buffer).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-flows-'));
  try {
    const changed = path.join(dir, 'policy-mistake.ts');
    writeFileSync(changed, readFileSync(file, 'utf8').replace("context('mistake', '0')", "context('mistake', '1')"));
    const r = runCli(['diff', file, changed, '--format', 'json'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 1, r.stderr);
    const json = JSON.parse(r.stdout) as { changes: { kind: string; key: string; privilege: { flag: string; reason: string }[] }[] };
    const first = json.changes[0]!;
    assert.is(first.kind, 'flow');
    assert.is(first.privilege[0]!.flag, 'flow-added');
    assert.match(first.privilege[0]!.reason, /can now influence '[^']+' \(.*\), which (breaks the policy: only\(backend, \[filter\]\) at policy-mistake\.ts:\d+|no rule of the policy allows)/);
    assert.equal(json.changes.filter((c) => c.kind === 'flow').map((c) => c.key), ['filter -> frontend (memory)', 'frontend -> backend (memory)']);
    const forbidden = json.changes.find((c) => c.key === 'frontend -> backend (memory)')!;
    assert.match(forbidden.privilege[0]!.reason, /breaks the policy: only\(backend, \[filter\]\) at policy-mistake\.ts:\d+/);
    const md = runCli(['diff', file, changed, '--format', 'markdown'], { env: { MICROKIT_SDK: '' } });
    const privileged = md.stdout.split('### Privilege changes')[1]!.split('\n').filter((l) => l.startsWith('- '));
    assert.match(privileged[0]!, /flow-added/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bus master passed through: its VM reaches every other principal by DMA, both ways, at the passthrough line', async () => {
  const before = await tsModel('test/fixtures/review/dma-a.ts');
  assert.not.ok(lines(before).some((l) => l.endsWith(' dma')));
  const m = await tsModel('test/fixtures/review/dma-b.ts');
  const dma = lines(m).filter((l) => l.endsWith(' dma'));
  assert.equal(dma, ['keys -> net dma', 'net -> keys dma', 'net -> app dma', 'net -> vmm_timer dma', 'app -> net dma', 'vmm_timer -> net dma']);
  const f = deriveFlows(m).flows.find((x) => x.from === 'net' && x.to === 'keys' && x.kind === 'dma')!;
  assert.match(f.causes[0]!.what, /bus master 'virtio_mmio_a000000' passed through to 'net' \(no IOMMU/);
  assert.is(f.causes[0]!.loc?.line, 5);
  // Transitively, app reaches keys through net now, and did not before.
  assert.is(flowPath(deriveFlows(before), 'app', 'keys'), undefined);
  assert.equal(flowPath(deriveFlows(m), 'app', 'keys')?.hops.map((h) => `${h.from}->${h.to} ${h.kind}`), ['app->net dma', 'net->keys dma']);
  // A device that does no DMA (the UART) makes no such flow: dma-a passes uart0 through.
  assert.ok(m.guests.find((g) => g.vm === 'net')!.passthrough.find((p) => p.device === 'uart0')!.dma === false);
});

test('a bus master against a policy: check fails at the passthrough line, naming the dma kind to allow', () => {
  const r = runCli(['check', 'test/fixtures/review/dma-b.ts', '--policy', 'test/fixtures/review/dma-policy.ts'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /dma-b\.ts:5:\d+: error\[flow-not-allowed\]: 'net' can influence 'keys' \(dma: bus master 'virtio_mmio_a000000'/);
  assert.match(r.stderr, /only\(keys, \[app\]\) forbids it/);
  const ok = runCli(['check', 'test/fixtures/review/dma-a.ts', '--policy', 'test/fixtures/review/dma-policy.ts'], { env: { MICROKIT_SDK: '' } });
  assert.is(ok.status, 0, ok.stdout + ok.stderr);
});

test('diff: a bus master newly passed through is a privilege change, and so are its DMA flows', () => {
  const r = runCli(['diff', 'test/fixtures/review/dma-a.ts', 'test/fixtures/review/dma-b.ts', '--format', 'json'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 1, r.stderr);
  const json = JSON.parse(r.stdout) as { changes: { kind: string; op: string; key: string; privilege: { flag: string; reason: string }[] }[] };
  const pt = json.changes.find((c) => c.kind === 'passthrough' && c.key === 'net/virtio_mmio_a000000')!;
  assert.equal(pt.privilege.map((p) => p.flag), ['device-reachable', 'dma-device']);
  assert.match(pt.privilege[1]!.reason, /VM 'net' now drives bus master 'virtio_mmio_a000000', whose DMA reaches all physical memory/);
  assert.equal(json.changes.filter((c) => c.kind === 'flow' && c.key.endsWith('(dma)')).map((c) => [c.key, c.privilege[0]?.flag]), [
    ['keys -> net (dma)', 'flow-added'], ['net -> keys (dma)', 'flow-added'], ['net -> app (dma)', 'flow-added'],
    ['net -> vmm_timer (dma)', 'flow-added'], ['app -> net (dma)', 'flow-added'], ['vmm_timer -> net (dma)', 'flow-added'],
  ]);
  // Taking it away narrows: no privilege flag on the way back.
  const back = runCli(['diff', 'test/fixtures/review/dma-b.ts', 'test/fixtures/review/dma-a.ts', '--format', 'json'], { env: { MICROKIT_SDK: '' } });
  const json2 = JSON.parse(back.stdout) as { changes: { kind: string; privilege: unknown[] }[] };
  assert.ok(json2.changes.filter((c) => c.kind === 'flow' || c.kind === 'passthrough').every((c) => c.privilege.length === 0));
});

test('graph: a bus master points at all physical memory', () => {
  const r = runCli(['graph', 'test/fixtures/review/dma-b.ts', '--format', 'dot'], { env: { MICROKIT_SDK: '' } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /"dma:physical-memory" \[label=<<b>all physical memory<\/b>/);
  assert.match(r.stdout, /"mr:virtio_mmio_a000000" -> "dma:physical-memory" \[label="DMA · bus master virtio_mmio_a000000 of net"/);
  const before = runCli(['graph', 'test/fixtures/review/dma-a.ts', '--format', 'dot'], { env: { MICROKIT_SDK: '' } });
  assert.not.match(before.stdout, /dma:physical-memory/);
});

test('diff: what QEMU attaches is the guest\'s reach into the host; a new forward, host service, disk or bridge is flagged host-exposed', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-exposure-'));
  try {
    writeFileSync(path.join(dir, 'disk.img'), Buffer.alloc(4096));
    const text = (forward: string, services: string, disk: string): string => `import { passthrough, qemuDisk, qemuNic, system, virtualMachine } from 'sel4cp-synth';
const vm = virtualMachine('linux', { kernel: 'Image', passthrough: [passthrough('uart0'),
  passthrough('virtio_mmio_a000a00', { qemu: qemuNic({ forward: [${forward}], hostServices: [${services}] }) }),${disk}
] });
export default system({ board: 'qemu_virt_aarch64', virtualMachines: [vm] });
`;
    writeFileSync(path.join(dir, 'a.ts'), text('{ hostPort: 8080, guestPort: 80 }', '', ''));
    writeFileSync(path.join(dir, 'b.ts'), text('{ hostPort: 8080, guestPort: 80 }, { hostPort: 2222, guestPort: 22 }', '{ port: 9000, hostPort: 9000 }',
      "\n  passthrough('virtio_mmio_a001000', { qemu: qemuDisk('disk.img') }),"));
    const r = runCli(['diff', path.join(dir, 'a.ts'), path.join(dir, 'b.ts'), '--format', 'json'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 1, r.stderr);
    const json = JSON.parse(r.stdout) as { changes: { kind: string; op: string; key: string; privilege: { flag: string; reason: string }[] }[] };
    const reasons = json.changes.flatMap((c) => c.privilege.filter((p) => p.flag === 'host-exposed').map((p) => p.reason));
    assert.equal(reasons, [
      "the host now forwards 127.0.0.1:2222 to VM 'linux' (127.0.0.1:2222 -> 10.0.2.15:22)",
      "VM 'linux' may now connect to the host's 127.0.0.1:9000 (10.0.2.100:9000 -> 127.0.0.1:9000)",
      `VM 'linux' now reaches the host file of disk ${path.join(dir, 'disk.img')} (read-write)`,
    ]);
    // The other way round only takes reach away: nothing flagged.
    const back = runCli(['diff', path.join(dir, 'b.ts'), path.join(dir, 'a.ts'), '--format', 'json'], { env: { MICROKIT_SDK: '' } });
    const json2 = JSON.parse(back.stdout) as typeof json;
    assert.equal(json2.changes.flatMap((c) => c.privilege.filter((p) => p.flag === 'host-exposed')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diff: a VM that starts to bridge its card and links is flagged host-exposed (examples/driver-vm-qemu.ts)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bridge-'));
  try {
    const file = path.join(repoRoot, 'examples', 'driver-vm-qemu.ts');
    const text = readFileSync(file, 'utf8');
    assert.match(text, /bridge: true,/);
    writeFileSync(path.join(dir, 'no-bridge.ts'), text.replace('bridge: true,', ''));
    const r = runCli(['diff', path.join(dir, 'no-bridge.ts'), file, '--format', 'json'], { env: { MICROKIT_SDK: '' } });
    const json = JSON.parse(r.stdout) as { changes: { kind: string; key: string; privilege: { flag: string; reason: string }[] }[] };
    const net = json.changes.find((c) => c.kind === 'guest' && c.key === 'net');
    assert.equal(net?.privilege.map((p) => p.reason), ["VM 'net' now bridges its network card and links: the VMs on those links reach its card's network"], r.stdout + r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
