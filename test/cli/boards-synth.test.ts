// Every shipped board: systems/linux.ts (a Linux guest with the console UART passed through)
// synthesises for it, writing the .system, the guest device tree and the manifest; with a Microkit
// 2.3.0 SDK built for the board (MICROKIT_SDK_2_3_0, its release config), the loader.img too.
// Hardware cannot be booted here; the QEMU boards boot in test/e2e.
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readFdt } from '../../src/compile/dtb/fdt-read.js';
import { findNode, readReg } from '../../src/compile/dtb/tree.js';
import { loadBoards } from '../../src/compile/load/boards.js';
import { guestDir, missing, missingSdkBoard, runCli, testIf } from '../helpers.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'sel4cp-boards-synth-'));
const sdk = process.env['MICROKIT_SDK_2_3_0'];

for (const board of loadBoards()) {
  const dtbMissing = board.dtb.qemuDumpdtb ? missing('qemu') : missing('guest-kernel', 'guest-initrd')
    ?? (existsSync(path.join(guestDir, 'dtbs', path.basename(board.dtb.debianPath ?? ''))) ? undefined : `.cache/guest/dtbs/${path.basename(board.dtb.debianPath ?? '')} missing (run 'npm run guest')`);

  testIf(missing('guest-kernel', 'guest-initrd') ?? dtbMissing, `systems/linux.ts --board=${board.name}: .system, guest DTB and manifest`, () => {
    const out = path.join(work, board.name);
    const r = runCli(['systems/linux.ts', '--board', board.name, '--out', out, '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 0, r.stderr);
    const xml = readFileSync(path.join(out, 'linux.system'), 'utf8');
    const uart = board.devices.find((d) => d.console)!;
    assert.match(xml, new RegExp(`phys_addr="0x${uart.paddr.toString(16)}"`), 'the console UART is mapped');
    assert.match(xml, new RegExp(`<irq irq="${uart.irqs[0]!.irq}"`), "the console UART's interrupt goes to the VMM");
    const dtb = readFdt(new Uint8Array(readFileSync(path.join(out, 'linux.dtb'))));
    const memory = [...dtb.root.children].find((c) => c.name.startsWith('memory'));
    assert.ok(memory, 'the guest DTB has a memory node');
    assert.equal(readReg(findNode(dtb, `/${memory!.name}`)!)[0], { address: board.guest.ramBase, size: board.guest.ramSize });
    assert.ok(existsSync(path.join(out, 'manifest.json')));
  });

  const sdkMissing = sdk ? missingSdkBoard(board.microkitBoard, 'release', sdk) : 'MICROKIT_SDK_2_3_0 is not set (a Microkit 2.3.0 SDK)';
  testIf(missing('guest-kernel', 'guest-initrd', 'cross-gcc') ?? dtbMissing ?? sdkMissing, `systems/linux.ts --board=${board.name} with the Microkit 2.3.0 SDK: loader.img`, () => {
    const out = path.join(work, `${board.name}-sdk`);
    const r = runCli(['systems/linux.ts', '--board', board.name, '--sdk', sdk!, '--config', 'release', '--out', out, '--quiet'], { env: { MICROKIT_SDK: '' } });
    assert.is(r.status, 0, r.stderr);
    assert.ok(existsSync(path.join(out, 'loader.img')), 'loader.img written');
  });
}

import { test } from 'uvu';
test.run();
