// The boards each Microkit release builds (src/compile/boards/microkit-boards.ts) against the
// release's own build_sdk.py (MICROKIT_SRC for 2.0.1, MICROKIT_SRC_2_3_0 for 2.3.0): every
// BoardInfo of SUPPORTED_BOARDS, with its arch, CPU, loader link address, smp_cores and the kernel
// options the table records.
import * as assert from 'uvu/assert';
import { test } from 'uvu';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MICROKIT_BOARDS, hypervisorBoards, type MicrokitBoardRow } from '../../../src/compile/boards/microkit-boards.js';
import type { MicrokitRelease } from '../../../src/compile/releases.js';
import { missing, testIf } from '../../helpers.js';

/** SUPPORTED_BOARDS of a build_sdk.py, read with regular expressions (one BoardInfo( ... ) block each). */
function readBuildSdk(file: string, defaultHypervisor: boolean): MicrokitBoardRow[] {
  const text = readFileSync(file, 'utf8');
  const body = text.slice(text.indexOf('SUPPORTED_BOARDS = ('));
  return [...body.matchAll(/BoardInfo\(([\s\S]*?)\n    \),/g)].map(([, b]) => {
    const get = (re: RegExp): string | undefined => re.exec(b!)?.[1];
    const arch = get(/arch=KernelArch\.(\w+)/)!.toLowerCase() as MicrokitBoardRow['arch'];
    const hyp = get(/"KernelArmHypervisorSupport": (\w+)/);
    const row: MicrokitBoardRow = { name: get(/name="([^"]+)"/)!, arch };
    const platform = get(/"KernelPlatform": "([^"]+)"/);
    if (platform) row.platform = platform;
    const armPlatform = get(/"KernelARMPlatform": "([^"]+)"/);
    if (armPlatform) row.armPlatform = armPlatform;
    const cpu = get(/gcc_cpu="([^"]+)"/);
    if (cpu) row.gccCpu = cpu;
    const link = get(/loader_link_address=(0x[0-9a-fA-F]+)/);
    if (link) row.loaderLinkAddress = BigInt(link);
    const smp = get(/smp_cores=(\d+)/);
    if (smp) row.smpCores = Number(smp);
    if (arch === 'aarch64') {
      row.hypervisor = hyp ? hyp === 'True' : defaultHypervisor;
      row.exportPtmrUser = get(/"KernelArmExportPTMRUser": (\w+)/) === 'True';
    }
    const rpi = get(/"RPI4_MEMORY": (\d+)/);
    if (rpi) row.rpi4Memory = Number(rpi);
    const gic = get(/"QEMU_GIC_VERSION": "(\d)"/);
    if (gic) row.qemuGicVersion = Number(gic);
    if (/Local board/.test(b!) || /qemu_virt_aarch64_gicv3/.test(row.name)) row.local = true;
    return row;
  });
}

/** 2.0.1 sets KernelArmHypervisorSupport per board; 2.3.0's DEFAULT_KERNEL_OPTIONS_AARCH64 turns it on. */
const sources: [MicrokitRelease, string | undefined, boolean][] = [
  ['2.0.1', process.env['MICROKIT_SRC'], false],
  ['2.3.0', process.env['MICROKIT_SRC_2_3_0'], true],
];

for (const [release, src, defaultHyp] of sources) {
  testIf(missing(release === '2.0.1' ? 'microkit-src' : 'microkit-src-2.3.0'), `Microkit ${release}: the board table is build_sdk.py's SUPPORTED_BOARDS`, () => {
    const read = readBuildSdk(join(src!, 'build_sdk.py'), defaultHyp);
    assert.equal(MICROKIT_BOARDS[release], read);
  });
}

test('Microkit 2.3.0 hosts virtual machines on the boards issue 18 lists, and not on qemu_virt_aarch64_el1', () => {
  const names = hypervisorBoards('2.3.0').filter((b) => !b.local).map((b) => b.name).sort();
  assert.equal(names, ['imx8mm_evk', 'imx8mp_evk', 'imx8mp_iotgate', 'imx8mq_evk', 'kria_k26', 'maaxboard', 'odroidc2', 'odroidc4', 'qemu_virt_aarch64',
    'rock3b', 'rockpro64', 'rpi4b_1gb', 'rpi4b_2gb', 'rpi4b_4gb', 'rpi4b_8gb', 'stm32mp2', 'tqma8xqp1gb', 'ultra96v2', 'zcu102']);
});

test.run();
