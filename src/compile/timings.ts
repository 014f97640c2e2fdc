// Stage timings: how long each pipeline stage took, for the benchmark and for users curious
// where the time goes.
import { performance } from 'node:perf_hooks';

/** Milliseconds per pipeline stage, filled in as the stages run (for benchmarks and --timings). */
export type StageTimings = Partial<Record<'load' | 'resolve' | 'validate' | 'emit' | 'link' | 'microkit' | 'write', number>>;

export function timed<T>(timings: StageTimings | undefined, stage: keyof StageTimings, f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    if (timings) timings[stage] = (timings[stage] ?? 0) + (performance.now() - t0);
  }
}

export async function timedAsync<T>(timings: StageTimings | undefined, stage: keyof StageTimings, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    if (timings) timings[stage] = (timings[stage] ?? 0) + (performance.now() - t0);
  }
}
