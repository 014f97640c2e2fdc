// graph: the DOT we write, the SVG Graphviz makes of it (well formed, naming every PD, VM and
// region), and that SVG rendered by headless Chromium into a PNG that is not blank.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { SaxesParser } from 'saxes';
import { allProtectionDomains, type SystemModel } from '../../src/compile/model/index.js';
import { buildModel } from '../../src/compile/synthesise.js';
import { systemToDot } from '../../src/review/graph.js';
import { missing, repoRoot, runCli, testIf } from '../helpers.js';

const FEATURES = path.join(repoRoot, 'test', 'fixtures', 'valid', 'features.ts');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-graph-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function namesOf(model: SystemModel): string[] {
  const pds = allProtectionDomains(model);
  return [...pds.map((p) => p.name), ...pds.flatMap((p) => (p.virtualMachine ? [p.virtualMachine.name] : [])), ...model.memoryRegions.map((m) => m.name)];
}

const hasTool = (cmd: string): boolean => !spawnSync(cmd, ['--version'], { encoding: 'utf8' }).error;

test('graph: DOT names every PD, VM and region, and is deterministic', async () => {
  const { model } = await buildModel({ file: FEATURES });
  const dot = systemToDot(model);
  assert.is(systemToDot(model), dot);
  for (const n of namesOf(model)) assert.ok(dot.includes(`<b>${n}</b>`) || dot.includes(`>${n}<`), `'${n}' in the DOT`);
  // Rights on the edges: the VM's RAM is executable (red, bold), the device is uncached.
  assert.match(dot, /"vm:guest" -> "mr:guest_ram" \[label="rwx", color="#c62828"/);
  assert.match(dot, /"pd:driver" -> "mr:rtc" \[label="rw-\\nuncached"/);
  assert.match(dot, /"pd:driver" -> "pd:server" \[label="pp · ch 1:0"/);
  const cli = runCli(['graph', FEATURES, '--format', 'dot']);
  assert.is(cli.status, 0, cli.stderr);
  assert.is(cli.stdout, dot);
});

/** Every text node of an SVG, failing the test if it is not well-formed XML. */
function svgText(svg: string): string[] {
  const parser = new SaxesParser();
  const texts: string[] = [];
  let root: string | undefined;
  parser.on('error', (e) => assert.unreachable(`SVG is not well formed: ${e.message}`));
  parser.on('opentag', (t) => { root ??= t.name; });
  parser.on('text', (t) => { if (t.trim()) texts.push(t.trim()); });
  parser.write(svg).close();
  assert.is(root, 'svg');
  return texts;
}

/** Decode an 8-bit RGB/RGBA PNG (what Chromium writes) far enough to read its pixels. */
function decodePng(png: Buffer): { width: number; height: number; pixel(x: number, y: number): [number, number, number] } {
  assert.equal([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], 'PNG signature');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.is(data[8], 8, 'bit depth');
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      assert.ok(channels, `colour type ${data[9]}`);
      assert.is(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x]!;
      const a = x >= channels ? out[y * stride + x - channels]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels]! : 0;
      let pred = 0;
      if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[y * stride + x] = (v + pred) & 0xff;
    }
  }
  return { width, height, pixel: (x, y) => [out[y * stride + x * channels]!, out[y * stride + x * channels + 1]!, out[y * stride + x * channels + 2]!] };
}

/** The features system drawn by `sel4cp-synth graph` into an SVG file, once for both tests. */
let drawn: { svgFile: string; svg: string } | undefined;
function drawFeatures(): { svgFile: string; svg: string } {
  if (!drawn) {
    const svgFile = path.join(tmp, 'features.svg');
    const r = runCli(['graph', FEATURES, '-o', svgFile]);
    assert.is(r.status, 0, r.stderr);
    drawn = { svgFile, svg: readFileSync(svgFile, 'utf8') };
  }
  return drawn;
}

testIf(missing('graphviz'), 'graph: the SVG is well formed and names everything', async () => {
  const { model } = await buildModel({ file: FEATURES });
  const { svg } = drawFeatures();
  const texts = svgText(svg);
  for (const n of namesOf(model)) assert.ok(texts.includes(n), `'${n}' is a text of the SVG`);
});

testIf(missing('graphviz', 'chromium'), 'graph: the SVG renders in headless Chromium to a picture that is not blank', () => {
  const { svgFile, svg } = drawFeatures();
  const chromium = ['chromium', 'chromium-browser'].find(hasTool)!;
  const pt = /width="(\d+)pt" height="(\d+)pt"/.exec(svg);
  assert.ok(pt, 'SVG size');
  const w = Math.ceil(Number(pt![1]) * 4 / 3) + 40;
  const h = Math.ceil(Number(pt![2]) * 4 / 3) + 40;
  const png = path.join(tmp, 'features.png');
  const profile = mkdtempSync(path.join(tmp, 'profile-'));
  const shot = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, `--screenshot=${png}`, `--window-size=${w},${h}`, `file://${svgFile}`],
  { encoding: 'utf8', timeout: 90_000 });
  assert.ok(existsSync(png), `chromium made no screenshot: ${shot.stderr}`);
  const img = decodePng(readFileSync(png));
  assert.is(img.width, w);
  let ink = 0;
  let device = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const [r8, g8, b8] = img.pixel(x, y);
      if (r8 < 240 || g8 < 240 || b8 < 240) ink++;
      // The fill of device regions (#ffe0b2).
      if (Math.abs(r8 - 0xff) < 6 && Math.abs(g8 - 0xe0) < 6 && Math.abs(b8 - 0xb2) < 6) device++;
    }
  }
  const total = img.width * img.height;
  assert.ok(ink > total * 0.01, `only ${ink} of ${total} pixels are not white`);
  assert.ok(ink < total * 0.9, `${ink} of ${total} pixels are not white: not a diagram`);
  assert.ok(device > 500, `device regions are drawn in their colour (${device} pixels)`);
});

test('graph: without Graphviz, SVG is a user error naming the package; DOT still works', () => {
  const env = { PATH: path.join(tmp, 'no-such-dir') };
  const r = runCli(['graph', FEATURES], { env });
  assert.is(r.status, 1);
  assert.match(r.stderr, /Debian package graphviz/);
  assert.not.match(r.stderr, /internal error/);
  assert.is(runCli(['graph', FEATURES, '--format', 'dot'], { env }).status, 0);
});

test.run();
