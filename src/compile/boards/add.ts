// `sel4cp-synth board add`: a board file derived from a device tree the user has (and, when given,
// the Microkit SDK built for the board), for a board sel4cp-synth does not ship. seL4's platform
// facts come from platforms.ts when the Microkit board is one of the releases'; what no input
// holds is returned as missing, with what to add, and written as null so the file does not load
// until it is filled in.
import type { Fdt } from '../dtb/fdt.js';
import { deriveBoard, type DerivedBoard } from './derive.js';
import { BoardDeriveError } from './error.js';
import { sel4Platform } from './platforms.js';
import { readSdkBoard, sdkBoardDir } from './sdk.js';

export interface AddBoardInput {
  name: string;
  tree: Fdt;
  /** The DTB as the user named it. */
  dtbShown: string;
  sdk?: string | undefined;
  microkitBoard?: string | undefined;
}

export function addBoard(input: AddBoardInput): DerivedBoard {
  if (!/^[A-Za-z0-9_-]+$/.test(input.name)) throw new BoardDeriveError('name', `'${input.name}' is not a board name: use letters, digits, '_' and '-'`);
  const microkitBoard = input.microkitBoard ?? input.name;
  let sdk;
  if (input.sdk !== undefined) {
    const dir = sdkBoardDir(input.sdk, microkitBoard);
    if (!dir) throw new BoardDeriveError('sdk', `the Microkit SDK at ${input.sdk} has no board/${microkitBoard}/ (with include/kernel/gen_config.json); name the SDK's board with --microkit-board`);
    sdk = readSdkBoard(dir);
  }
  return deriveBoard({
    tree: input.tree,
    dtbName: `the device tree ${input.dtbShown}`,
    overrides: {
      name: input.name,
      microkitBoard,
      dtb: { file: `${input.name}.dtb` },
      sources: { aliases: 'none: a board added with sel4cp-synth board add' },
    },
    platform: sel4Platform(microkitBoard),
    sdk,
  });
}
