// End to end: a driver VM (examples/driver-vm-qemu.ts). `net` owns the network card QEMU
// attaches to its passed-through virtio-mmio transport and bridges it with its end of a link to
// `app`, which has no device but the link and serves a page with busybox httpd. From the host,
// only 127.0.0.1 is used: the test fetches the page through QEMU's forward on 127.0.0.1 and
// compares it with the word it gave on the command line, and `app` reaches a server the test
// runs on 127.0.0.1 (through the link, net's bridge and QEMU's guestfwd): the server sees app's
// request, and app prints the MD5 of the answer, which the test compares with its own. app's try
// of another host port through QEMU's gateway (10.0.2.2) must not arrive: the network is
// restricted (a listener there counts connections).
// The oracles: Linux's bridge, virtio-net and TCP in both guests, QEMU's user network. On
// Microkit 2.3.0 (MICROKIT_SDK_2_3_0) and 2.0.1 (MICROKIT_SDK); without an SDK, QEMU or the
// guest images: one SKIP line per release.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { synthesise } from '../../src/compile/synthesise.js';
import { qemuArgs } from '../../src/run/machine.js';
import { startQemu } from '../../src/run/qemu.js';
import { freePort, missing, repoRoot, testIf } from '../helpers.js';
import { BOOT_MS, missingForBoot, sdk } from './requirements.js';

const sdk230 = process.env['MICROKIT_SDK_2_3_0'] ?? '';
const images = missing('guest-busybox', 'guest-modules');
const needs201 = missingForBoot() ?? images;
const needs230 = (!sdk230 || !existsSync(path.join(sdk230, 'bin', 'microkit')) ? 'MICROKIT_SDK_2_3_0 is not set to a Microkit 2.3.0 SDK' : undefined)
  ?? missing('cross-gcc', 'qemu', 'guest-kernel') ?? images;

/** The host service: answers each request (a header block) with `answer` and closes, recording the request lines. */
function hostService(port: number, answer: string): Promise<{ requests: string[]; close: () => void }> {
  const requests: string[] = [];
  const server = net.createServer((c) => {
    let got = '';
    c.on('error', () => undefined);
    c.on('data', (d) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\n')) return;
      requests.push(got.split('\r\n')[0]!);
      c.end(answer);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ requests, close: () => server.close() })));
}

/** GET http://127.0.0.1:port/, retried until `deadline` (app's httpd and net's bridge come up late). */
async function fetchPage(port: number, deadline: number): Promise<string> {
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 10_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => { body += d; });
          res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function serveThroughDriverVm(sdkDir: string, release: string): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-driver-vm-'));
  const started = performance.now();
  const [httpPort, servicePort] = [await freePort(), await freePort()];
  const word = `w${process.pid}x${Date.now().toString(36)}`;
  const body = `answer for app ${word}\n`;
  const answer = `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  const service = await hostService(servicePort, answer);
  // A port the system never names: the restricted network must keep app's probe of it away.
  const probePort = await freePort();
  let probed = 0;
  const probe = net.createServer((c) => { probed++; c.destroy(); });
  await new Promise<void>((resolve) => probe.listen(probePort, '127.0.0.1', resolve));
  try {
    const result = await synthesise({
      file: path.join(repoRoot, 'examples/driver-vm-qemu.ts'), board: 'qemu_virt_aarch64', config: 'debug', outDir: path.join(work, 'out'), sdk: sdkDir,
      context: new Map([['http', String(httpPort)], ['service', String(servicePort)], ['page', word], ['probe', String(probePort)]]),
    });
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
    if (errors.length > 0 || !result.loaderImage) throw new Error(`no loader.img: ${[...errors, ...result.skipped.map((s) => s.reason)].join('; ')}`);
    assert.is(result.model.microkit, release);
    const args = qemuArgs(result.model.board!, result.loaderImage, result.model);
    // No host address but 127.0.0.1, in either direction.
    const user = args[args.indexOf('-netdev') + 1]!;
    assert.equal([...user.matchAll(/hostfwd=tcp:([^:]*):/g)].map((m) => m[1]), ['127.0.0.1']);
    assert.equal([...user.matchAll(/guestfwd=tcp:[^-]*-tcp:([^:]*):/g)].map((m) => m[1]), ['127.0.0.1']);
    assert.match(user, /restrict=on/);
    const q = startQemu({ args });
    try {
      await q.waitFor('net| SEL4CP-SYNTH: bridge br0 up eth0 eth1', BOOT_MS);
      await q.waitFor('app| SEL4CP-SYNTH: app serves http on port 80', BOOT_MS);
      const booted = performance.now();
      const page = await fetchPage(httpPort, performance.now() + 60_000);
      const fetched = performance.now();
      assert.is(page, `hello from app: ${word}\n`, "the page app's httpd serves, fetched through 127.0.0.1");
      const md5 = (await q.waitFor(/app\| SEL4CP-SYNTH: app fetched md5 ([0-9a-f]{32})/, BOOT_MS)).text.slice(-32);
      assert.ok(service.requests.includes('GET /from-app HTTP/1.0'), `the host service saw app's request: ${JSON.stringify(service.requests)}`);
      assert.is(md5, createHash('md5').update(answer, 'latin1').digest('hex'), 'app got the host service\'s answer intact');
      await q.waitFor(`app| SEL4CP-SYNTH: app probed the host's port ${probePort}`, BOOT_MS);
      assert.is(probed, 0, "app's connection to the host's gateway 10.0.2.2 did not reach the host (restrict=on)");
      const stopped = /VM '(net|app)' stopped: .*/.exec(q.output);
      assert.not.ok(stopped, stopped?.[0]);
      process.stdout.write(`driver VM ${release}: booted in ${((booted - started) / 1000).toFixed(1)} s (with synthesis), page fetched ${((fetched - booted) / 1000).toFixed(1)} s after httpd started\n`);
    } finally {
      await q.stop();
    }
  } finally {
    service.close();
    probe.close();
    rmSync(work, { recursive: true, force: true });
  }
}

testIf(needs230, 'Microkit 2.3.0: the host fetches app\'s page through 127.0.0.1 and net\'s bridge; app reaches a service on the host\'s loopback', async () => {
  await serveThroughDriverVm(sdk230, '2.3.0');
});

testIf(needs201, 'Microkit 2.0.1: the same, on the 2.0.1 SDK', async () => {
  await serveThroughDriverVm(sdk!, '2.0.1');
});

test.run();
