/**
 * Running QEMU as a child process: start it, stream its console, wait for text with a
 * timeout, type into it, and make sure it is gone afterwards — on timeout, on error, and when
 * this Node process exits or is interrupted. Used by the guest tests and `sel4cp-synth run`.
 */
import { atExit } from '../cleanup.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';

export const QEMU_AARCH64 = 'qemu-system-aarch64';

/** Full path of `name` found on PATH (or `name` itself if it contains a slash and is executable). */
export function findExecutable(name: string, path: string = process.env['PATH'] ?? ''): string | undefined {
  const candidates = name.includes('/') ? [name] : path.split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

export interface QemuStartOptions {
  /** Arguments after the binary name, e.g. `['-machine', 'virt,virtualization=on', ...]`. */
  readonly args: readonly string[];
  /** @default 'qemu-system-aarch64' */
  readonly binary?: string;
  readonly cwd?: string;
  /**
   * `pipe` lets the caller type with `send()`; `inherit` hands the terminal to QEMU (with
   * `-nographic` QEMU then puts it in raw mode and Ctrl-A x quits).
   * @default 'pipe'
   */
  readonly stdin?: 'pipe' | 'inherit';
  /** Called with console output (stdout and stderr) as it arrives, e.g. to echo it. */
  readonly onOutput?: (text: string) => void;
  /**
   * Output kept in memory for matching and `tail()`; older output is dropped.
   * @default 4 MiB
   */
  readonly maxBufferedChars?: number;
}

export interface QemuExit {
  /** Exit status, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Milliseconds since start. */
  readonly elapsedMs: number;
}

export interface QemuMatch {
  /** The matched text. */
  readonly text: string;
  /** Milliseconds from spawning QEMU to the output chunk that completed the match. */
  readonly elapsedMs: number;
}

export type QemuErrorKind = 'timeout' | 'exited' | 'spawn-failed';

/** What went wrong, with the last console lines so a failure can be diagnosed from the log. */
export class QemuError extends Error {
  constructor(
    readonly kind: QemuErrorKind,
    message: string,
    readonly tail: string,
  ) {
    super(tail ? `${message}\n--- last QEMU output ---\n${tail}` : message);
    this.name = 'QemuError';
  }
}

interface Waiter {
  readonly pattern: string | RegExp;
  /** Absolute position to search from; a string pattern advances it past what was searched. */
  from: number;
  readonly resolve: (m: QemuMatch) => void;
  readonly reject: (e: QemuError) => void;
  timer: NodeJS.Timeout | undefined;
}

/** QEMU processes of this Node process that have not exited yet. */
const live = new Set<QemuProcess>();

function killAllNow(): void {
  for (const q of live) q.killNow(q.ownsTerminal ? 'SIGTERM' : 'SIGKILL');
}

let releaseCleanup: (() => void) | undefined;

/** While any QEMU runs, the process kills them all when it ends or is interrupted (src/cleanup.ts). */
function installCleanupHooks(): void {
  releaseCleanup ??= atExit(killAllNow);
}

function removeCleanupHooks(): void {
  releaseCleanup?.();
  releaseCleanup = undefined;
}

/** A running (or finished) QEMU. Create with `startQemu`. */
export class QemuProcess {
  /** `performance.now()` when QEMU was spawned. */
  readonly startedAt: number;
  readonly command: readonly string[];
  /** QEMU reads the terminal directly (`stdin: 'inherit'`). */
  readonly ownsTerminal: boolean;
  private readonly child: ChildProcess;
  private buffer = '';
  /** Characters dropped from the front of `buffer`, so positions stay absolute. */
  private dropped = 0;
  private waiters: Waiter[] = [];
  private exitInfo: QemuExit | undefined;
  private spawnError: Error | undefined;
  private readonly exitPromise: Promise<QemuExit>;
  private readonly maxBuffered: number;
  private readonly onOutput: ((text: string) => void) | undefined;

  constructor(options: QemuStartOptions) {
    const binary = options.binary ?? QEMU_AARCH64;
    this.command = [binary, ...options.args];
    this.maxBuffered = options.maxBufferedChars ?? 4 * 1024 * 1024;
    this.onOutput = options.onOutput;
    this.ownsTerminal = options.stdin === 'inherit';
    this.startedAt = performance.now();
    this.child = spawn(binary, options.args, {
      cwd: options.cwd,
      stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
    });
    live.add(this);
    installCleanupHooks();

    const decoders = [new StringDecoder('utf8'), new StringDecoder('utf8')] as const;
    this.child.stdout?.on('data', (b: Buffer) => this.append(decoders[0].write(b)));
    this.child.stderr?.on('data', (b: Buffer) => this.append(decoders[1].write(b)));
    // QEMU may exit while we are still writing to its stdin; that is reported through 'close'.
    this.child.stdin?.on('error', () => undefined);

    this.exitPromise = new Promise<QemuExit>((resolve) => {
      this.child.on('error', (e) => {
        this.spawnError = e;
        this.finish({ code: null, signal: null, elapsedMs: this.elapsed() });
        resolve(this.exitInfo!);
      });
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (this.exitInfo) return;
        this.append(decoders[0].end() + decoders[1].end());
        this.finish({ code, signal, elapsedMs: this.elapsed() });
        resolve(this.exitInfo!);
      };
      this.child.on('close', done);
      // 'close' waits for the output pipes, which a leftover grandchild may hold open; once
      // QEMU itself has exited, give its last output a moment and then stop listening.
      this.child.on('exit', (code, signal) => {
        setTimeout(() => {
          this.child.stdout?.destroy();
          this.child.stderr?.destroy();
          done(code, signal);
        }, 500).unref();
      });
    });
  }

  /** All console output still buffered (see `maxBufferedChars`). */
  get output(): string {
    return this.buffer;
  }

  /** How QEMU ended, or undefined while it runs. */
  get exit(): QemuExit | undefined {
    return this.exitInfo;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The last `lines` lines of output, without terminal carriage returns. */
  tail(lines = 20): string {
    return this.buffer.replace(/\r/g, '').split('\n').slice(-lines).join('\n').trimEnd();
  }

  /** Absolute position after all output so far; pass as `from` to wait only for new output. */
  get position(): number {
    return this.dropped + this.buffer.length;
  }

  /**
   * Resolves when `pattern` appears in the output (from absolute position `from`, by default the
   * beginning). Rejects with a QemuError of kind `timeout` after `timeoutMs`, or `exited` if QEMU
   * ends first. Does not stop QEMU: callers that give up call `stop()` (or use `runQemu`).
   */
  waitFor(pattern: string | RegExp, timeoutMs: number, from = 0): Promise<QemuMatch> {
    return new Promise<QemuMatch>((resolve, reject) => {
      const waiter: Waiter = { pattern, from, resolve, reject, timer: undefined };
      if (this.tryMatch(waiter)) return;
      if (this.exitInfo) {
        reject(this.endedError(pattern));
        return;
      }
      waiter.timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new QemuError('timeout', `timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${describe(pattern)}`, this.tail()));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Types `text` on QEMU's standard input (the guest console with `-nographic`). */
  send(text: string): void {
    if (!this.child.stdin) throw new Error('QEMU was started with stdin: inherit; send() needs stdin: pipe');
    this.child.stdin.write(text);
  }

  /** Resolves when QEMU exits; rejects with kind `timeout` (leaving it running) after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<QemuExit> {
    if (this.exitInfo) return Promise.resolve(this.exitInfo);
    return new Promise<QemuExit>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new QemuError('timeout', `QEMU did not exit within ${(timeoutMs / 1000).toFixed(1)} s`, this.tail()));
      }, timeoutMs);
      void this.exitPromise.then((e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
  }

  /** Ends QEMU: SIGTERM, then SIGKILL if it is still there after `graceMs`. Safe to call twice. */
  async stop(graceMs = 2000): Promise<QemuExit> {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const e = await this.exitPromise;
    clearTimeout(timer);
    return e;
  }

  /**
   * Sends `signal` without waiting, for process-exit hooks where nothing can be awaited. The
   * hooks use SIGTERM when QEMU has the terminal (`stdin: 'inherit'`), because QEMU restores
   * the terminal mode on SIGTERM but cannot on SIGKILL; otherwise SIGKILL.
   */
  killNow(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exitInfo) this.child.kill(signal);
  }

  private elapsed(): number {
    return performance.now() - this.startedAt;
  }

  private append(text: string): void {
    if (text === '') return;
    this.buffer += text;
    if (this.buffer.length > this.maxBuffered) {
      const cut = this.buffer.length - this.maxBuffered;
      this.buffer = this.buffer.slice(cut);
      this.dropped += cut;
    }
    this.onOutput?.(text);
    this.waiters = this.waiters.filter((w) => !this.tryMatch(w));
  }

  /** Settles `waiter` and returns true if its pattern is in the output. */
  private tryMatch(waiter: Waiter): boolean {
    const start = Math.max(0, waiter.from - this.dropped);
    let found: string | undefined;
    if (typeof waiter.pattern === 'string') {
      if (this.buffer.includes(waiter.pattern, start)) found = waiter.pattern;
      // Next time, rescan only the tail that a match could still start in: long boot logs
      // arrive in thousands of chunks.
      else waiter.from = Math.max(waiter.from, this.position - waiter.pattern.length + 1);
    } else {
      // A regular expression may match across any span, so it sees everything from `from`.
      waiter.pattern.lastIndex = 0;
      found = waiter.pattern.exec(this.buffer.slice(start))?.[0];
    }
    if (found === undefined) return false;
    if (waiter.timer) clearTimeout(waiter.timer);
    waiter.resolve({ text: found, elapsedMs: this.elapsed() });
    return true;
  }

  private finish(exit: QemuExit): void {
    if (this.exitInfo) return;
    this.exitInfo = exit;
    live.delete(this);
    if (live.size === 0) removeCleanupHooks();
    for (const w of this.waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(this.endedError(w.pattern));
    }
    this.waiters = [];
  }

  private endedError(pattern: string | RegExp): QemuError {
    if (this.spawnError) {
      const e = this.spawnError as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? `${this.command[0]} not found (Debian package qemu-system-arm)` : e.message;
      return new QemuError('spawn-failed', `cannot start QEMU: ${why}`, '');
    }
    const how = this.exitInfo?.signal ? `signal ${this.exitInfo.signal}` : `status ${String(this.exitInfo?.code)}`;
    return new QemuError('exited', `QEMU exited (${how}) before printing ${describe(pattern)}`, this.tail());
  }
}

function describe(pattern: string | RegExp): string {
  return typeof pattern === 'string' ? JSON.stringify(pattern) : String(pattern);
}

export function startQemu(options: QemuStartOptions): QemuProcess {
  return new QemuProcess(options);
}

export interface RunQemuOptions extends QemuStartOptions {
  /** Text (or pattern) whose appearance means success. */
  readonly expect: string | RegExp;
  /** For both the wait for `expect` and, with `untilExit`, the wait for exit. */
  readonly timeoutMs: number;
  /** After `expect`, wait for QEMU to end by itself (e.g. guest power-off) instead of stopping it. */
  readonly untilExit?: boolean;
}

export interface RunQemuResult {
  readonly match: QemuMatch;
  readonly exit: QemuExit;
  readonly output: string;
}

/**
 * Starts QEMU, waits for `expect`, then stops it (or waits for it to exit when `untilExit`).
 * Whatever happens, no QEMU is left running when the promise settles. Rejects with QemuError.
 */
export async function runQemu(options: RunQemuOptions): Promise<RunQemuResult> {
  const q = startQemu(options);
  try {
    const match = await q.waitFor(options.expect, options.timeoutMs);
    const exit = options.untilExit
      ? await q.waitForExit(Math.max(1, options.timeoutMs - match.elapsedMs))
      : await q.stop();
    return { match, exit, output: q.output };
  } finally {
    await q.stop();
  }
}

export interface DirectKernelBootOptions {
  readonly kernel: string;
  readonly initrd?: string;
  readonly dtb?: string;
  readonly append?: string;
  /** @default 'virt,virtualization=on' */
  readonly machine?: string;
  /** @default 'cortex-a53' */
  readonly cpu?: string;
  /** @default '1G' */
  readonly memory?: string;
}

/**
 * Arguments for booting a Linux kernel straight from QEMU's loader (no firmware, no seL4) on
 * the virt machine with the console on stdio: the native baseline for guest boot times.
 */
export function directKernelBootArgs(o: DirectKernelBootOptions): string[] {
  return [
    '-machine', o.machine ?? 'virt,virtualization=on',
    '-cpu', o.cpu ?? 'cortex-a53',
    '-m', o.memory ?? '1G',
    '-nographic',
    '-no-reboot',
    '-kernel', o.kernel,
    ...(o.initrd ? ['-initrd', o.initrd] : []),
    ...(o.dtb ? ['-dtb', o.dtb] : []),
    ...(o.append ? ['-append', o.append] : []),
  ];
}
