// `sel4cp-synth guest [--out DIR] [--force]`: a test guest for any project — Debian's arm64
// kernel and busybox-static, fetched with apt-get and made into an Image, an initramfs that
// prints a marker, the kernel's modules and Debian's board device trees — into the user's cache,
// where `init`'s template (guestImage()) and initramfs({ modules }) find them.
import type { Argv, CommandModule } from 'yargs';
import { relative } from 'node:path';
import { error, UserError } from '../../compile/diagnostics/index.js';
import { buildGuestImages, defaultGuestDir, GuestImageError } from '../guest-images.js';
import { KernelImageError } from '../../compile/initramfs/arm64-image.js';
import { PREFIX } from '../report.js';

interface GuestArgs {
  out: string | undefined;
  force: boolean;
  quiet: boolean;
}

export const guestCommand: CommandModule<object, GuestArgs> = {
  command: 'guest',
  describe: "fetch Debian's arm64 kernel and busybox and build a test guest (Image, initramfs, modules, board DTBs) into the user cache",
  builder: (y: Argv) => y
    .option('out', { type: 'string', describe: `where (default: ${defaultGuestDir()}, which synthesis reads)` })
    .option('force', { type: 'boolean', default: false, describe: 'rebuild even when the outputs match their manifest' }) as unknown as Argv<GuestArgs>,
  handler: async (args) => {
    const outDir = args.out ?? defaultGuestDir();
    try {
      const manifest = await buildGuestImages({ outDir, force: args.force, log: args.quiet ? undefined : (l) => process.stderr.write(`${PREFIX} guest: ${l}\n`) });
      if (!args.quiet) process.stdout.write(`${PREFIX} guest images of ${manifest.packages.kernel.name} ${manifest.packages.kernel.version} in ${relative(process.cwd(), outDir) || '.'}\n`);
    } catch (e) {
      if (e instanceof GuestImageError || e instanceof KernelImageError) {
        throw new UserError(error('guest-images-failed', e.message, undefined, {
          hint: 'it needs apt-get with Debian\'s package lists (run as root, or apt-get update first), dpkg-deb, and network access to the Debian archive',
        }));
      }
      throw e;
    }
  },
};
