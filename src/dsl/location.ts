// Where the user called a constructor. Every construct records it so that every error can point
// at the user's systems.ts. The loader turns on source maps, so the stack names the .ts file the
// user wrote rather than the bundle esbuild made of it.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export interface SourceLocation {
  /** Absolute path of the user's file. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
}

const dslDir = path.dirname(fileURLToPath(import.meta.url));
// Frames inside our own DSL (compiled or, in tests, source) are skipped: we want the user's call.
const ownDirs = [dslDir, dslDir.replace(`${path.sep}dist${path.sep}src${path.sep}`, `${path.sep}src${path.sep}`)];

// V8 frames: `at fn (FILE:LINE:COL)` or `at FILE:LINE:COL`. FILE may hold spaces ("My Project").
const FRAME_IN_PARENS = /\((.+):(\d+):(\d+)\)$/;
const FRAME_BARE = /^at (?:async )?(.+):(\d+):(\d+)$/;

function frameFile(raw: string): string {
  return raw.startsWith('file://') ? fileURLToPath(raw) : raw;
}

function isOwn(file: string): boolean {
  return ownDirs.some((d) => file.startsWith(d + path.sep)) || file.startsWith('node:') || file.includes(`${path.sep}node_modules${path.sep}`);
}

/** The location of the first stack frame outside the DSL, or undefined when there is none. */
export function captureLocation(): SourceLocation | undefined {
  const stack = new Error().stack ?? '';
  for (const line of stack.split('\n').slice(1)) {
    const m = FRAME_IN_PARENS.exec(line.trim()) ?? FRAME_BARE.exec(line.trim());
    if (!m) continue;
    const file = frameFile(m[1]!);
    if (isOwn(file)) continue;
    return { file, line: Number(m[2]), column: Number(m[3]) };
  }
  return undefined;
}

export function formatLocation(loc: SourceLocation | undefined, relativeTo?: string): string {
  if (!loc) return '<unknown>';
  const file = relativeTo ? path.relative(relativeTo, loc.file) || loc.file : loc.file;
  return `${file}:${loc.line}:${loc.column}`;
}
