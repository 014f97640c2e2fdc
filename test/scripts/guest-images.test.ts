import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  MANIFEST_FORMAT,
  OUTPUT_FILES,
  buildGuestImages,
  checkGuestDir,
  debFileName,
  repoGuestDir,
  initScriptsSha256,
  isKeptModule,
  kernelRelease,
  manifestMismatches,
  packageFromStanza,
  parseAptStanza,
  parseKernelDependency,
  selectModules,
  sha256,
  treeSha256,
} from '../../scripts/guest-images.js';
import { parseArm64ImageHeader } from '../../src/compile/initramfs/arm64-image.js';
import { readCpio } from '../../src/compile/initramfs/cpio.js';
import { missing, testIf } from '../helpers.js';

test('the versioned kernel package from apt-cache depends', () => {
  const signed = 'linux-image-arm64:arm64\n  Depends: linux-image-6.1.0-56-arm64:arm64\n';
  assert.is(parseKernelDependency(signed), 'linux-image-6.1.0-56-arm64');
  const unsigned = 'linux-image-arm64\n  Depends: linux-image-6.12.9-arm64-unsigned\n  Depends: kmod\n';
  assert.is(parseKernelDependency(unsigned), 'linux-image-6.12.9-arm64-unsigned');
  assert.is(parseKernelDependency('linux-image-arm64\n  Depends: linux-base\n'), undefined);
});

test('apt-cache show stanza → package', () => {
  const text = [
    'Package: busybox-static',
    'Version: 1:1.35.0-4+deb12u1+b1',
    'Architecture: arm64',
    'Tag: admin::recovery, interface::shell,',
    ' use::login',
    'Size: 822236',
    'SHA256: 732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5',
    '',
    'Package: busybox-static',
    'Version: 0.1',
  ].join('\n');
  const fields = parseAptStanza(text);
  assert.is(fields.get('Tag'), 'admin::recovery, interface::shell,\nuse::login');
  const p = packageFromStanza(fields)!;
  assert.equal(p, {
    name: 'busybox-static',
    version: '1:1.35.0-4+deb12u1+b1',
    architecture: 'arm64',
    sha256: '732c9135564fc71337e0e05fb4da4d11e6c28c1834bce3e405e575afef2a52f5',
    size: 822236,
  });
  assert.is(debFileName(p), 'busybox-static_1%3a1.35.0-4+deb12u1+b1_arm64.deb');
  assert.is(packageFromStanza(parseAptStanza('Package: x\n')), undefined);
});

test('kernel release from the vmlinuz name', () => {
  assert.is(kernelRelease('vmlinuz-6.1.0-56-arm64'), '6.1.0-56-arm64');
  assert.is(kernelRelease('config-6.1.0-56-arm64'), undefined);
});

test('manifest check: missing, changed and stale outputs', () => {
  const files = Object.fromEntries(OUTPUT_FILES.map((n) => [n, { sha256: sha256(n), size: n.length }]));
  const modules = { dir: 'modules/r', count: 1, of: 2, size: 3, sha256: 'm' };
  const manifest = { format: MANIFEST_FORMAT, initScriptSha256: 'i', files, modules };
  const actual = new Map<string, string | undefined>(OUTPUT_FILES.map((n) => [n, sha256(n)]));
  assert.equal(manifestMismatches(manifest, actual, 'i', 'm'), []);
  assert.equal(manifestMismatches(manifest, actual, 'j', 'm'), ['the /init script has changed']);
  assert.equal(manifestMismatches(manifest, actual, 'i', undefined), ['modules/r is missing']);
  assert.equal(manifestMismatches(manifest, actual, 'i', 'n'), ['modules/r does not match manifest.json']);
  actual.set('Image', undefined);
  actual.set('initramfs.cpio', 'other');
  assert.equal(manifestMismatches(manifest, actual, 'i', 'm'), ['Image is missing', 'initramfs.cpio does not match manifest.json']);
  assert.equal(manifestMismatches(undefined, actual, 'i', 'm'), ['manifest.json is missing or of another format']);
  assert.equal(manifestMismatches({ ...manifest, format: 0 }, actual, 'i', 'm'), ['manifest.json is missing or of another format']);
  assert.equal(manifestMismatches({ ...manifest, modules: undefined }, actual, 'i', 'm'), ['manifest.json is missing or of another format']);
});

test('the modules kept: the virtio, block, char, network, file-system directories, and what they need', () => {
  const mods = [
    { path: 'kernel/drivers/net/virtio_net.ko', depends: ['net_failover'] },
    { path: 'kernel/drivers/net/net_failover.ko', depends: ['failover'] },
    { path: 'kernel/net/core/failover.ko', depends: [] },
    { path: 'kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko', depends: ['ptp'] },
    { path: 'kernel/drivers/ptp/ptp.ko', depends: ['pps_core'] },
    { path: 'kernel/drivers/pps/pps_core.ko', depends: [] },
    { path: 'kernel/fs/ext4/ext4.ko', depends: ['mbcache', 'jbd2', 'crc16'] },
    { path: 'kernel/fs/mbcache.ko', depends: [] },
    { path: 'kernel/fs/jbd2/jbd2.ko', depends: [] },
    { path: 'kernel/lib/crc16.ko', depends: [] },
    { path: 'kernel/drivers/gpu/drm/drm.ko', depends: [] },
    { path: 'kernel/drivers/char/hw_random/virtio-rng.ko', depends: ['rng_core'] },
    { path: 'kernel/drivers/char/hw_random/rng-core.ko', depends: [] },
    { path: 'kernel/drivers/tee/tee.ko', depends: [] },
    { path: 'kernel/drivers/char/tpm/tpm_ftpm_tee.ko', depends: ['tee', 'virtio'] },
  ];
  assert.equal(selectModules(mods).map((m) => m.path), [
    'kernel/drivers/char/hw_random/rng-core.ko',
    'kernel/drivers/char/hw_random/virtio-rng.ko',
    'kernel/drivers/char/tpm/tpm_ftpm_tee.ko',
    'kernel/drivers/net/net_failover.ko',
    'kernel/drivers/net/virtio_net.ko',
    'kernel/drivers/tee/tee.ko',
    'kernel/fs/ext4/ext4.ko',
    'kernel/fs/jbd2/jbd2.ko',
    'kernel/fs/mbcache.ko',
    'kernel/lib/crc16.ko',
    'kernel/net/core/failover.ko',
  ]);
  assert.ok(isKeptModule('kernel/drivers/net/tun.ko'));
  assert.not.ok(isKeptModule('kernel/drivers/net/wireless/ath/ath.ko'));
  assert.is(treeSha256(new Map([['b', '2'], ['a', '1']])), sha256('1  a\n2  b\n'));
});

test('an up-to-date output directory is left alone (no apt, no writes)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'guest-images-test-'));
  try {
    mkdirSync(join(dir, 'dtbs'));
    const files: Record<string, { sha256: string; size: number }> = {};
    for (const n of OUTPUT_FILES) {
      writeFileSync(join(dir, n), n);
      files[n] = { sha256: sha256(n), size: n.length };
    }
    mkdirSync(join(dir, 'modules', 'r', 'kernel'), { recursive: true });
    writeFileSync(join(dir, 'modules', 'r', 'modules.dep'), 'kernel/m.ko:\n');
    writeFileSync(join(dir, 'modules', 'r', 'kernel', 'm.ko'), 'm');
    const tree = treeSha256(new Map([['modules.dep', sha256('kernel/m.ko:\n')], ['kernel/m.ko', sha256('m')]]));
    const pkg = { name: 'p', version: '1', architecture: 'arm64', sha256: 'x', size: 1 };
    const manifest = {
      format: MANIFEST_FORMAT,
      packages: { kernel: pkg, busybox: pkg },
      kernel: { release: 'r', vmlinuz: 'raw', imageSize: 0 },
      initScriptSha256: initScriptsSha256(),
      files,
      modules: { dir: 'modules/r', count: 1, of: 1, size: 1, sha256: tree },
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const lines: string[] = [];
    const got = await buildGuestImages({ outDir: dir, log: (l) => lines.push(l) });
    assert.equal(got, manifest);
    assert.is(lines.length, 1);
    assert.match(lines[0]!, /is up to date/);
    assert.not.ok(existsSync(join(dir, 'debs')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// When `npm run guest` has run on this machine, its outputs must be what the manifest says.
testIf(missing('guest-manifest'), '.cache/guest outputs match their manifest', async () => {
  const dir = repoGuestDir();
  const { manifest, mismatches } = await checkGuestDir(dir);
  assert.equal(mismatches, []);
  const image = readFileSync(join(dir, 'Image'));
  assert.ok(parseArm64ImageHeader(image), 'Image has the arm64 magic');
  const names = readCpio(readFileSync(join(dir, 'initramfs.cpio'))).map((r) => r.name);
  assert.ok(names.includes('init') && names.includes('bin/busybox') && names.includes('dev/console'));
  assert.ok(manifest!.packages.kernel.name.startsWith('linux-image-'));
  const modules = join(dir, manifest!.modules.dir);
  const dep = readFileSync(join(modules, 'modules.dep'), 'utf8');
  assert.match(dep, /^kernel\/drivers\/net\/virtio_net\.ko: kernel\/drivers\/net\/net_failover\.ko kernel\/net\/core\/failover\.ko$/m);
  assert.ok(existsSync(join(modules, 'kernel/drivers/virtio/virtio_mmio.ko')));
  assert.match(readFileSync(join(modules, 'modules.builtin'), 'utf8'), /^kernel\/drivers\/virtio\/virtio_ring\.ko$/m);
});

test.run();
