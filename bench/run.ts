// npm run bench: synthesis and validation time for the largest system Microkit allows, stage by
// stage (median of 5), and the Microkit tool's own run on the same XML when an SDK is present;
// then the image pipeline and boot (bench/boot.ts), idle guests (bench/idle.ts), networking
// over links (bench/net.ts; `npm run bench -- net` runs that part only, `-- startup` the boot) and a VM's restart beside
// its cold boot (bench/lifecycle.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { loadSystem } from '../src/compile/load/index.js';
import { resolveSystem } from '../src/compile/resolve/index.js';
import { validateSystem } from '../src/compile/validate/index.js';
import { emitSystemXml } from '../src/compile/emit/system-xml.js';
import { allProtectionDomains } from '../src/compile/model/index.js';
import { deriveFlows } from '../src/compile/flows.js';
import { benchBoot } from './boot.js';
import { benchStartup } from './startup.js';
import { benchIdle } from './idle.js';
import { benchNet } from './net.js';
import { benchLifecycle } from './lifecycle.js';
import { buildNativePd, missingCrossCompiler } from '../test/e2e/native-pd.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}

async function benchSynthesis(): Promise<string> {
  const file = path.join(root, 'bench', 'systems', 'largest.ts');
  const times: Record<string, number[]> = { load: [], resolve: [], validate: [], emit: [], total: [] };
  let xml = '';
  let shape = '';
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const system = await loadSystem(file);
    const t1 = performance.now();
    const { model, diagnostics } = resolveSystem({ system, file, board: undefined, images: new Map() });
    const t2 = performance.now();
    const problems = [...diagnostics, ...validateSystem(model)].filter((d) => d.severity === 'error');
    const t3 = performance.now();
    xml = emitSystemXml(model, { toolVersion: 'bench' });
    const t4 = performance.now();
    if (problems.length) throw new Error(`benchmark system is invalid: ${problems[0]!.message}`);
    times['load']!.push(t1 - t0);
    times['resolve']!.push(t2 - t1);
    times['validate']!.push(t3 - t2);
    times['emit']!.push(t4 - t3);
    times['total']!.push(t4 - t0);
    const pds = allProtectionDomains(model);
    shape = `${pds.length} PDs, ${model.channels.length} channels, ${model.memoryRegions.length} memory regions, ${pds.reduce((n, p) => n + p.maps.length, 0)} maps`;
  }
  console.log(`largest system: ${shape}`);
  for (const [stage, xs] of Object.entries(times)) console.log(`  ${stage.padEnd(9)} median ${ms(median(xs))}  (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`);
  return xml;
}

function benchMicrokit(xml: string): void {
  const sdk = process.env['MICROKIT_SDK'];
  if (!sdk || !existsSync(path.join(sdk, 'bin', 'microkit'))) {
    console.log('SKIP Microkit tool comparison: MICROKIT_SDK is not set');
    return;
  }
  const board = 'qemu_virt_aarch64';
  const config = 'debug';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-synth-bench-'));
  try {
    const noCc = missingCrossCompiler();
    if (noCc) return void console.log(`SKIP Microkit tool comparison: ${noCc}`);
    buildNativePd({ sdk, board, config, source: path.join(root, 'bench', 'pd.c'), out: path.join(dir, 'pd.elf') });
    writeFileSync(path.join(dir, 'largest.system'), xml);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const r = spawnSync(path.join(sdk, 'bin', 'microkit'), ['largest.system', '--search-path', dir, '--board', board, '--config', config,
        '-o', path.join(dir, 'loader.img'), '-r', path.join(dir, 'report.txt')], { cwd: dir, encoding: 'utf8', env: { ...process.env, MICROKIT_SDK: sdk } });
      times.push(performance.now() - t0);
      if (r.status !== 0) {
        console.log(`Microkit tool rejected the benchmark system (exit ${r.status}):\n${(r.stderr || r.stdout).slice(0, 2000)}`);
        return;
      }
    }
    console.log(`Microkit tool (${board}/${config}) on the same XML: median ${ms(median(times))}  (runs: ${times.map((x) => x.toFixed(0)).join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Deriving the flow graph of the largest system (the policy check and every review command do it). */
async function benchFlows(): Promise<void> {
  const file = path.join(root, 'bench', 'systems', 'largest.ts');
  const { model } = resolveSystem({ system: await loadSystem(file), file, board: undefined, images: new Map() });
  const times: number[] = [];
  let flows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    flows = deriveFlows(model).flows.length;
    times.push(performance.now() - t0);
  }
  console.log(`flows of the largest system (${allProtectionDomains(model).length} PDs, ${model.channels.length} channels): ${flows} flows, median ${ms(median(times))}  (runs: ${times.map((x) => x.toFixed(1)).join(', ')})`);
}

// `npm run bench -- net` runs only the networking part (bench/net.ts), `-- startup` only the boot
// to the guest's marker beside native (bench/startup.ts).
const only = process.argv[2];
if (only !== undefined && only !== 'net' && only !== 'startup') throw new Error(`npm run bench: unknown part '${only}' (known: net, startup)`);
if (only === undefined) {
  const xml = await benchSynthesis();
  await benchFlows();
  benchMicrokit(xml);
  await benchBoot(root);
}
if (only === undefined || only === 'startup') await benchStartup(root);
if (only === 'startup') process.exit(0);
const sdkForIdle = process.env['MICROKIT_SDK'];
if (sdkForIdle && existsSync(path.join(sdkForIdle, 'bin', 'microkit')) && existsSync(path.join(root, '.cache', 'guest', 'initramfs-idle.cpio'))) {
  if (only === undefined) await benchIdle(root, sdkForIdle);
  await benchNet(root, sdkForIdle);
  if (only === undefined) await benchLifecycle(sdkForIdle);
} else {
  if (only === undefined) console.log("SKIP idle guests: needs MICROKIT_SDK and the guest images (run 'npm run guest')");
  console.log("SKIP networking over links: needs MICROKIT_SDK and the guest images (run 'npm run guest')");
  if (only === undefined) console.log("SKIP VM restart: needs MICROKIT_SDK and the guest images (run 'npm run guest')");
}
