// Reading a user's text file: as UTF-8, refusing invalid sequences (Node's 'utf8' decoding would
// turn them silently into U+FFFD, and the XML would then say something else than the file).
import { readFile } from 'node:fs/promises';
import { error, UserError } from '../compile/diagnostics/index.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/** The byte offset of the first invalid UTF-8 sequence (RFC 3629 §4), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k]! & 0xc0) !== 0x80) return i;
    if (n === 2 && ((c === 0xe0 && b[i + 1]! < 0xa0) || (c === 0xed && b[i + 1]! > 0x9f))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1]! < 0x90) || (c === 0xf4 && b[i + 1]! > 0x8f))) return i;
    i += n + 1;
  }
  return -1;
}

/** The file's text; a user error for an unreadable file or invalid UTF-8 (with its line). */
export async function readUserText(file: string, shown = file): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    throw new UserError(error('file-unreadable', `cannot read ${shown}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, undefined));
  }
  try {
    return strict.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) { line++; lineStart = i + 1; }
    throw new UserError(error('file-not-utf8', `${shown} is not valid UTF-8: byte 0x${(bytes[at] ?? 0).toString(16)} at offset ${at}`, { file, line, column: at - lineStart + 1 }, {
      hint: 'save the file as UTF-8',
    }));
  }
}
