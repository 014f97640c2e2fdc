// Microkit 2.3.0 prefilled memory regions: find each prefill_path file as the Microkit tool does
// (the first search path that has it; tool/microkit/src/util.rs get_full_path) and learn its
// length, so that validation can say what the tool would (missing, empty, larger than the region)
// and a region without a size gets the file's, rounded up to its page size (sdf.rs determine_size).
import { statSync } from 'node:fs';
import path from 'node:path';
import type { SystemModel } from '../model/index.js';

export function resolvePrefills(model: SystemModel, searchPaths: readonly string[]): void {
  for (const mr of model.memoryRegions) {
    if (!mr.prefill) continue;
    const found = findOnSearchPath(mr.prefill.path, searchPaths);
    mr.prefill.file = found?.file;
    mr.prefill.bytes = found?.bytes;
    if (mr.sizeFromPrefill && found) {
      const page = mr.pageSize ?? 0x1000n;
      mr.size = (found.bytes + page - 1n) / page * page;
    }
  }
}

function findOnSearchPath(file: string, searchPaths: readonly string[]): { file: string; bytes: bigint } | undefined {
  const candidates = path.isAbsolute(file) ? [file] : searchPaths.map((d) => path.resolve(d, file));
  for (const c of candidates) {
    try {
      const st = statSync(c);
      if (st.isFile()) return { file: c, bytes: BigInt(st.size) };
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
