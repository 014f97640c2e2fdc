// What must not outlive the process: temporary directories (the loader's bundle, the output
// staging directory, a runtime build) and child processes (QEMU). On a normal exit, and on
// Ctrl-C, SIGTERM or SIGHUP, every registered cleanup runs synchronously before the process ends;
// then the signal ends it with the shell's convention, 128 + its number. compile/, cli/ and run/
// all register cleanups, so this sits beside them rather than inside one of them.
import { rmSync } from 'node:fs';

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function runAll(): void {
  for (const c of [...cleanups]) {
    cleanups.delete(c);
    try {
      c();
    } catch {
      // Best effort: the process is ending.
    }
  }
}

function onFatalSignal(signal: NodeJS.Signals): void {
  runAll();
  // Re-raising the signal does not work from a Node handler (libuv keeps catching it).
  process.exit(128 + (SIGNAL_NUMBERS[signal] ?? 0));
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const s of FATAL_SIGNALS) process.on(s, onFatalSignal);
}

function uninstallIfIdle(): void {
  if (!installed || cleanups.size > 0) return;
  installed = false;
  process.off('exit', runAll);
  for (const s of FATAL_SIGNALS) process.off(s, onFatalSignal);
}

/** Runs `fn` if the process ends (or is interrupted) before the returned function is called. */
export function atExit(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
    uninstallIfIdle();
  };
}

/** Removes `dir` (recursively) if the process ends first; call the result once it is gone or kept. */
export function removeAtExit(dir: string): () => void {
  return atExit(() => rmSync(dir, { recursive: true, force: true }));
}
