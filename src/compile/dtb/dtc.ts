/**
 * The one part of the device tree code that touches the process: running Debian's `dtc` to turn
 * a `.dts` into a blob (and back, for tests and golden files), and reading a device tree file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DtbError, type Fdt } from './fdt.js';
import { isFdt, readFdt } from './fdt-read.js';

const DTC_MISSING =
  'dtc (the device tree compiler) was not found on PATH; install the Debian package device-tree-compiler ' +
  '(apt-get install device-tree-compiler), or give the device tree as a .dtb';

interface ExecError {
  code?: string;
  status?: number | null;
  stderr?: Buffer | string;
}

function runDtc(args: string[], input?: Uint8Array): Buffer {
  try {
    return execFileSync('dtc', args, {
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as ExecError;
    if (e.code === 'ENOENT') throw new DtbError('dtc-missing', DTC_MISSING);
    const stderr = e.stderr ? e.stderr.toString().trim() : '';
    throw new DtbError('dtc-failed', `dtc ${args.join(' ')} failed (exit ${e.status ?? '?'})${stderr ? `:\n${stderr}` : ''}`);
  }
}

/** True when `dtc` can be run. */
export function haveDtc(): boolean {
  try {
    execFileSync('dtc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Compiles a `.dts` file with `dtc -I dts -O dtb`. */
export function compileDts(path: string): Uint8Array {
  try {
    return new Uint8Array(runDtc(['-q', '-I', 'dts', '-O', 'dtb', '-o', '-', path]));
  } catch (err) {
    if (err instanceof DtbError && err.code === 'dtc-failed' && /^\s*#include\b/m.test(safeRead(path))) {
      throw new DtbError(
        'dtc-failed',
        `${err.message}\n${path} uses #include, which dtc does not expand: run it through ` +
          '`cpp -nostdinc -undef -x assembler-with-cpp -I <kernel>/include` first, or give the board DTB instead',
      );
    }
    throw err;
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Decompiles a blob with `dtc -I dtb -O dts` (the oracle for tests and golden files). */
export function decompileDtb(bytes: Uint8Array): string {
  return runDtc(['-q', '-I', 'dtb', '-O', 'dts', '-o', '-', '-'], bytes).toString('utf8');
}

/**
 * Reads a device tree file: a blob when it starts with the FDT magic or is named `.dtb`, else a
 * source compiled with `dtc`.
 */
export function loadDeviceTree(path: string): Fdt {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new DtbError('dt-unreadable', `cannot read device tree ${path}: ${(err as Error).message}`);
  }
  if (isFdt(bytes) || path.toLowerCase().endsWith('.dtb')) {
    try {
      return readFdt(bytes);
    } catch (err) {
      if (err instanceof DtbError) throw err.prefixed(path);
      throw err;
    }
  }
  return readFdt(compileDts(path));
}
