// `sel4cp-synth init [dir] [--board B]`: a new project, as cdk8s and CDK users expect one — a
// package.json with sel4cp-synth as a dependency and the commands as scripts, a tsconfig.json
// that makes an editor check systems.ts against the DSL's types, a systems.ts for the board (one
// Linux guest on its console) and a README. Nothing is overwritten; the set appears at once.
import type { Argv, CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findBoardDevice, type Board } from '../../compile/boards.js';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { linuxConsoleName } from '../../compile/resolve/guests.js';
import { packageRoot } from '../../compile/package.js';
import { pickBoard } from '../../compile/load/boards.js';
import { PREFIX } from '../report.js';
import { removeAtExit } from '../../cleanup.js';
import { TOOL_VERSION } from '../../compile/package.js';

interface InitArgs {
  dir: string | undefined;
  board: string | undefined;
  dependency: string | undefined;
  quiet: boolean;
}

/** An npm package name from a directory name (lower case, `-` for anything else). */
export function projectName(dir: string): string {
  const name = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '');
  return name || 'sel4-system';
}

function systemsTs(board: Board, name: string): string {
  const uart = findBoardDevice(board, 'console');
  const console = uart ? linuxConsoleName(uart) : undefined;
  return `// The system: one Linux guest on ${board.name}, with the board's console passed through.
// Synthesise it with \`npm run synth\` (or \`npx sel4cp-synth systems.ts\`); check it with
// \`npm run check\`. Give other guest images with -c kernel=PATH -c initrd=PATH.
import { contextFile, guestImage, mib, passthrough, protectionDomain, system, virtualMachine } from 'sel4cp-synth';

const linux = virtualMachine('linux', {
  // An arm64 Linux Image (or a gzip/EFI-zboot vmlinuz around one) and its initramfs; by default
  // the test guest \`npx sel4cp-synth guest\` fetches from Debian (its /init prints a marker).
  kernel: contextFile('kernel', guestImage('Image')),
  initrd: contextFile('initrd', guestImage('initramfs.cpio')),
  ram: mib(256),
  passthrough: [passthrough('${uart?.name ?? 'console'}')],${console ? `\n  bootargs: 'console=${console}',` : ''}
});

// A native protection domain beside the guest, built from its C source against the Microkit
// SDK's libmicrokit (pds/hello.c; add files to sources, headers with include: ['include']).
const hello = protectionDomain('hello', { sources: ['pds/hello.c'], priority: 150 });

// name: what the outputs are called (build/${name}/${name}.system) and the graph's title.
export default system({ name: '${name}', board: '${board.name}', virtualMachines: [linux], protectionDomains: [hello] });
`;
}

/** A native PD: Microkit calls init() once, then notified() for each notification on its channels. */
const PD_TEMPLATE = `// A native protection domain, built by sel4cp-synth from this file against the Microkit SDK's
// libmicrokit for the board and configuration you synthesise for (see systems.ts).
#include <microkit.h>

void init(void)
{
    microkit_dbg_puts("hello: a native protection domain is up\\n");
}

void notified(microkit_channel ch)
{
    (void)ch;
}
`;

function files(dir: string, board: Board, dependency: string): Map<string, string> {
  const name = projectName(dir);
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      synth: 'sel4cp-synth systems.ts',
      check: 'sel4cp-synth check systems.ts',
      graph: 'sel4cp-synth graph systems.ts -o topology.svg',
      ...(board.qemu ? { run: 'sel4cp-synth run systems.ts' } : {}),
    },
    dependencies: { 'sel4cp-synth': dependency },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    },
    include: ['*.ts'],
  };
  const readme = `# ${name}

A seL4 Microkit system described with [sel4cp-synth](${packageRoot()}) for \`${board.name}\`.

    npm install          # sel4cp-synth itself
    npx sel4cp-synth guest   # a test guest: Debian's arm64 kernel and busybox, into your cache
    npm run check        # validate systems.ts (types, then the system)
    npm run synth        # .system, guest device tree, VMM, and loader.img (with MICROKIT_SDK set)
${board.qemu ? '    npm run run          # boot it on QEMU\n' : ''}
The guest is the test guest \`sel4cp-synth guest\` fetched (\`guestImage()\` in systems.ts) unless you
give your own: \`npm run synth -- -c kernel=PATH -c initrd=PATH\`.
The native protection domain \`hello\` is \`pds/hello.c\`: synthesis compiles and links it against
the Microkit SDK's libmicrokit for the board and configuration (no Makefile; \`sources\`,
\`include\` and \`cflags\` in systems.ts say what to build).
Outputs go to \`build/${name}/\` (the \`name\` given to \`system()\` in systems.ts; without one,
the file's name): \`${name}.system\`, the guest's device tree, \`manifest.json\` and, with the SDK,
\`loader.img\`.
`;
  return new Map([
    ['package.json', JSON.stringify(pkg, null, 2) + '\n'],
    ['tsconfig.json', JSON.stringify(tsconfig, null, 2) + '\n'],
    ['systems.ts', systemsTs(board, name)],
    ['pds/hello.c', PD_TEMPLATE],
    ['README.md', readme],
    ['.gitignore', 'node_modules/\nbuild/\n'],
  ]);
}

/** Writes the project into `dir`, which must not hold any of its files; all files or none. */
export async function initProject(dir: string, board: Board, dependency: string): Promise<string[]> {
  const abs = path.resolve(dir);
  const set = files(abs, board, dependency);
  if (existsSync(abs)) {
    const clash = [...set.keys()].filter((f) => existsSync(path.join(abs, f)));
    if (clash.length) {
      throw new UserError(error('init-not-empty', `${dir} already has ${clash.join(', ')}; init does not overwrite`, undefined, { hint: 'give init a new or empty directory' }));
    }
  }
  let staging: string;
  try {
    await mkdir(path.dirname(abs), { recursive: true });
    staging = await mkdtemp(path.join(existsSync(abs) ? abs : path.dirname(abs), '.sel4cp-synth-init-'));
  } catch (e) {
    throw new UserError(error('out-unusable', `cannot create the project in ${dir}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, undefined));
  }
  const release = removeAtExit(staging);
  try {
    for (const [f, text] of set) {
      await mkdir(path.dirname(path.join(staging, f)), { recursive: true });
      await writeFile(path.join(staging, f), text);
    }
    if (!existsSync(abs)) {
      await rename(staging, abs);
    } else {
      for (const f of set.keys()) {
        await mkdir(path.dirname(path.join(abs, f)), { recursive: true });
        await rename(path.join(staging, f), path.join(abs, f));
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
    release();
  }
  return [...set.keys()];
}

export const initCommand: CommandModule<object, InitArgs> = {
  command: 'init [dir]',
  describe: 'start a new project: package.json, tsconfig.json, a systems.ts for the board, a README',
  builder: (y: Argv) => y
    .positional('dir', { type: 'string', describe: 'where (default: the current directory)' })
    .option('board', { type: 'string', default: 'qemu_virt_aarch64', describe: 'the board the systems.ts is for' })
    .option('dependency', { type: 'string', describe: `how package.json names sel4cp-synth (default: this installation, file:...; or e.g. ^${TOOL_VERSION})` }) as unknown as Argv<InitArgs>,
  handler: async (args) => {
    const board = pickBoard(args.board, undefined, undefined)!;
    const dir = args.dir ?? '.';
    const written = await initProject(dir, board, args.dependency ?? `file:${packageRoot()}`);
    if (!args.quiet) {
      process.stderr.write(`${PREFIX} wrote ${written.join(', ')} in ${dir}\n${PREFIX} next: cd ${dir} && npm install && npm run check\n`);
    }
  },
};
