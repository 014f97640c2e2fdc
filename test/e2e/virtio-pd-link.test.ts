// End to end: a native protection domain serves a network link to a VM. The PD
// (test/e2e/pds/link-responder.c, built here against the SDK's libmicrokit with the runtime's
// freestanding net_link.c) follows docs/net-link.md on its own: it finds its rings through the
// setvar_vaddr symbols uplink_tx and uplink_rx, answers ARP and ICMP echo for 10.0.0.254, and the
// guest of test/fixtures/systems/vm-pd-link.ts pings it. The oracles are Linux's ping (replies it
// accepts have valid IPv4 and ICMP checksums and match its requests), the neighbour entry the ARP
// reply made, and the PD's own count. Needs MICROKIT_SDK, QEMU, the cross compiler, the guest
// images and their modules; otherwise one SKIP line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { missing, repoRoot, testIf } from '../helpers.js';
import { buildGuestProgram, buildNativePd, missingCrossCompiler } from './native-pd.js';
import { BOOT_MS, missingForBoot, sdk } from './requirements.js';

const why = missingForBoot() ?? missingCrossCompiler() ?? missing('guest-busybox', 'guest-modules');
const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-pd-link-'));
const M = 'SEL4CP-SYNTH:';
const runtime = path.join(repoRoot, 'src', 'vmm-runtime');

function buildResponder(): string {
  return buildNativePd({
    sdk: sdk!, board: 'qemu_virt_aarch64', config: 'debug',
    source: path.join(repoRoot, 'test', 'e2e', 'pds', 'link-responder.c'),
    // The ring protocol, and the freestanding string and format functions it uses.
    sources: ['virtio/net_link.c', 'lib/fmt.c', 'lib/string.c'].map((f) => path.join(runtime, f)),
    includes: [path.join(runtime, 'include')],
    out: path.join(work, 'pds', 'link-responder.elf'),
  });
}

/** The <map> elements of one <protection_domain> of a .system file, as attribute maps. */
function pdMaps(xml: string, pd: string): Record<string, string>[] {
  const body = new RegExp(`<protection_domain name="${pd}"[^>]*>([\\s\\S]*?)</protection_domain>`).exec(xml)?.[1];
  assert.ok(body, `no protection domain '${pd}' in the .system file`);
  return [...body.matchAll(/<map ([^>]*)\/>/g)].map((m) => Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1]!, a[2]!])));
}

testIf(why, 'a native PD serves a link to a VM: the guest pings it (ARP, ICMP echo) and gets every reply', async () => {
  const responder = buildResponder();
  const result = await synthesise({
    file: path.join(repoRoot, 'test/fixtures/systems/vm-pd-link.ts'), board: 'qemu_virt_aarch64', config: 'debug',
    outDir: path.join(work, 'out'), sdk, context: new Map([['responder', responder], ['sender', buildGuestProgram(path.join(repoRoot, 'test', 'e2e', 'guest', 'udp-send.c'), path.join(work, 'udp-send'))]]),
  });
  assert.equal(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.ok(result.loaderImage, `no loader.img: ${result.skipped.map((s) => s.reason).join('; ')}`);

  // The PD maps both rings read-write, and the Microkit tool tells it where through the symbols.
  const systemFile = result.written.find((f) => f.endsWith('.system'));
  assert.ok(systemFile, `no .system file among ${result.written.join(', ')}`);
  const maps = pdMaps(readFileSync(path.resolve(result.outDir, systemFile), 'utf8'), 'responder');
  for (const [mr, symbol] of [['uplink_b_to_a', 'uplink_tx'], ['uplink_a_to_b', 'uplink_rx']] as const) {
    const m = maps.find((x) => x['mr'] === mr);
    assert.ok(m, `the responder maps ${mr}: ${JSON.stringify(maps)}`);
    assert.is(m['setvar_vaddr'], symbol, `${mr} is found through ${symbol}`);
    assert.is(m['perms'], 'rw');
  }

  const q = await startQemu({ args: qemuArgs(result.model.board!, result.loaderImage!, result.model) });
  try {
    await q.waitFor('link-responder: link up', BOOT_MS);
    const up = await q.waitFor(`${M} net up eth0 10.0.0.1/24`, BOOT_MS);
    const done = await q.waitFor(new RegExp(`${M} pd neighbour .*\\r?\\n`), BOOT_MS);
    const out = q.output;
    assert.not.match(out, /link stopped/, 'neither end stopped the link');
    assert.not.match(out, /VM 'guest' stopped/);
    assert.not.match(out, `${M} pd ping failed`);
    assert.match(out, new RegExp(`${M} pd ping ok 10 packets transmitted, 10 packets received, 0% packet loss`));
    // The ARP reply: the guest knows the PD's MAC.
    assert.match(out, new RegExp(`${M} pd neighbour 10\\.0\\.0\\.254 .* 02:00:00:00:00:fe`));
    assert.match(out, 'link-responder: answered ARP request from 10.0.0.1');
    const counts = [...out.matchAll(/link-responder: answered (\d+) pings/g)].map((m) => Number(m[1]));
    assert.ok(counts.length > 0 && Math.max(...counts) >= 10, `the PD reports ${JSON.stringify(counts)} pings answered`);
    const rtt = /round-trip min\/avg\/max = ([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(out);
    assert.ok(rtt, 'ping printed its round-trip times');
    console.log(`PD link: ping to the PD min/avg/max ${rtt[1]}/${rtt[2]}/${rtt[3]} ms (guest clock), net up after ${(up.elapsedMs / 1000).toFixed(1)} s, pings done after ${(done.elapsedMs / 1000).toFixed(1)} s`);
    // 16 MiB of UDP to the PD's discard port: the link holds the guest back rather than drop
    // (a PD that keeps up, or a full ring the VMM waits on), so every byte is counted.
    const udp = await q.waitFor(/link-responder: discarded (\d+) UDP bytes in (\d+) datagrams \((\d+) frames\), (\d+) us.*\r?\n/, BOOT_MS);
    const [, bytes, datagrams, frames, us] = /discarded (\d+) UDP bytes in (\d+) datagrams \((\d+) frames\), (\d+) us/.exec(udp.text)!;
    console.log(`PD link: the PD took ${bytes} UDP bytes (${datagrams} datagrams, ${frames} frames) off the link in ${(Number(us) / 1e6).toFixed(2)} s`);
    assert.is(Number(bytes), 16 * 1048576, 'every byte sent reached the PD');
    assert.ok(Number(frames) >= 16 * 1048576 / 1500, 'the frames are at most an Ethernet MTU each');
  } finally {
    await q.stop();
  }
});

test.run();
