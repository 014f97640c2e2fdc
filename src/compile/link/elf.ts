// A small ELF64 (little-endian) reader and patcher: just what the link step needs to turn the
// cached runtime ELF into one VMM per guest without a C compiler per system. It adds one
// loadable segment (the guest images) and overwrites the bytes of one section (the config blob).
// Reference: System V gABI, "Object Files" (ELF header, program and section header layouts).

export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

export const PT_LOAD = 1;
export const PT_PHDR = 6;
export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const EM_AARCH64 = 183;

export interface ElfSegment {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  align: bigint;
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: bigint;
  addr: bigint;
  offset: bigint;
  size: bigint;
  /** sh_link: for a symbol table, the index of its string table. */
  link: number;
}

export interface ElfFile {
  machine: number;
  entry: bigint;
  phoff: bigint;
  shoff: bigint;
  segments: ElfSegment[];
  sections: ElfSection[];
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, offset: bigint, size: bigint, what: string): number {
  if (offset < 0n || size < 0n || offset + size > BigInt(bytes.length)) {
    throw new ElfError(`${what} at 0x${offset.toString(16)} (+0x${size.toString(16)}) lies outside the ${bytes.length}-byte file`);
  }
  return Number(offset);
}

export function readElf(bytes: Uint8Array): ElfFile {
  if (bytes.length < EHDR_SIZE || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError('not an ELF file (bad magic)');
  }
  if (bytes[4] !== 2 || bytes[5] !== 1) throw new ElfError('not a 64-bit little-endian ELF file');
  const v = view(bytes);
  const machine = v.getUint16(18, true);
  const phoff = v.getBigUint64(32, true);
  const shoff = v.getBigUint64(40, true);
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  const shentsize = v.getUint16(58, true);
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  if (phnum > 0 && phentsize !== PHDR_SIZE) throw new ElfError(`program header entries are ${phentsize} bytes, not ${PHDR_SIZE}`);
  if (shnum > 0 && shentsize !== SHDR_SIZE) throw new ElfError(`section header entries are ${shentsize} bytes, not ${SHDR_SIZE}`);
  need(bytes, phoff, BigInt(phnum * PHDR_SIZE), 'program header table');
  need(bytes, shoff, BigInt(shnum * SHDR_SIZE), 'section header table');

  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = Number(phoff) + i * PHDR_SIZE;
    const seg: ElfSegment = {
      index: i,
      type: v.getUint32(o, true),
      flags: v.getUint32(o + 4, true),
      offset: v.getBigUint64(o + 8, true),
      vaddr: v.getBigUint64(o + 16, true),
      paddr: v.getBigUint64(o + 24, true),
      filesz: v.getBigUint64(o + 32, true),
      memsz: v.getBigUint64(o + 40, true),
      align: v.getBigUint64(o + 48, true),
    };
    if (seg.type === PT_LOAD) need(bytes, seg.offset, seg.filesz, `segment ${i}`);
    segments.push(seg);
  }

  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = Number(shoff) + i * SHDR_SIZE;
    return {
      nameOffset: v.getUint32(o, true),
      type: v.getUint32(o + 4, true),
      flags: v.getBigUint64(o + 8, true),
      addr: v.getBigUint64(o + 16, true),
      offset: v.getBigUint64(o + 24, true),
      size: v.getBigUint64(o + 32, true),
      link: v.getUint32(o + 40, true),
    };
  });
  const strtab = raw[shstrndx];
  const sections: ElfSection[] = raw.map((s, index) => {
    let name = '';
    if (strtab && index !== 0) {
      const start = need(bytes, strtab.offset + BigInt(s.nameOffset), 1n, 'section name');
      const end = bytes.indexOf(0, start);
      if (end < 0 || BigInt(end) > strtab.offset + strtab.size) throw new ElfError('unterminated section name');
      name = new TextDecoder().decode(bytes.subarray(start, end));
    }
    return { index, name, type: s.type, flags: s.flags, addr: s.addr, offset: s.offset, size: s.size, link: s.link };
  });
  return { machine, entry: v.getBigUint64(24, true), phoff, shoff, segments, sections };
}

const SHT_SYMTAB = 2;
const SYM_SIZE = 24;

/**
 * The names of the symbols an ELF file defines (its .symtab; System V ABI "Symbol Table": 24-byte
 * Elf64_Sym entries, st_name into the table's linked string table, st_shndx 0 = undefined).
 */
export function definedSymbols(bytes: Uint8Array, elf: ElfFile = readElf(bytes)): Set<string> {
  const out = new Set<string>();
  const v = view(bytes);
  for (const symtab of elf.sections.filter((s) => s.type === SHT_SYMTAB)) {
    const strings = elf.sections[symtab.link];
    if (!strings) throw new ElfError(`symbol table ${symtab.name} links to no string table`);
    const start = need(bytes, symtab.offset, symtab.size, 'symbol table');
    for (let o = start + SYM_SIZE; o + SYM_SIZE <= start + Number(symtab.size); o += SYM_SIZE) {
      const nameOffset = v.getUint32(o, true);
      if (nameOffset === 0 || v.getUint16(o + 6, true) === 0) continue;
      const at = need(bytes, strings.offset + BigInt(nameOffset), 1n, 'symbol name');
      const end = bytes.indexOf(0, at);
      if (end < 0 || BigInt(end) > strings.offset + strings.size) throw new ElfError('unterminated symbol name');
      out.add(new TextDecoder().decode(bytes.subarray(at, end)));
    }
  }
  return out;
}

function alignUp(v: bigint, a: bigint): bigint {
  return (v + a - 1n) / a * a;
}

function writePhdr(v: DataView, at: number, s: Omit<ElfSegment, 'index'>): void {
  v.setUint32(at, s.type, true);
  v.setUint32(at + 4, s.flags, true);
  v.setBigUint64(at + 8, s.offset, true);
  v.setBigUint64(at + 16, s.vaddr, true);
  v.setBigUint64(at + 24, s.paddr, true);
  v.setBigUint64(at + 32, s.filesz, true);
  v.setBigUint64(at + 40, s.memsz, true);
  v.setBigUint64(at + 48, s.align, true);
}

export interface NewSegment {
  vaddr: bigint;
  data: Uint8Array;
  flags: number;
  /** Alignment of the segment in the file and in memory. @default 0x1000 */
  align?: bigint;
}

/**
 * A copy of `bytes` with one more PT_LOAD segment holding `data` at `vaddr`. The data goes at
 * the end of the file; the program header table grows in place when the bytes after it are
 * unused (the usual case: the first segment starts a page or more into the file), and moves to
 * the end of the file otherwise.
 */
export function addLoadSegment(bytes: Uint8Array, seg: NewSegment): Uint8Array {
  const elf = readElf(bytes);
  const align = seg.align ?? 0x1000n;
  if (seg.vaddr % align !== 0n) throw new ElfError(`segment address 0x${seg.vaddr.toString(16)} is not aligned to 0x${align.toString(16)}`);
  const end = seg.vaddr + BigInt(seg.data.length);
  for (const s of elf.segments) {
    if (s.type === PT_LOAD && seg.vaddr < s.vaddr + s.memsz && s.vaddr < end) {
      throw new ElfError(`new segment [0x${seg.vaddr.toString(16)}..0x${end.toString(16)}) overlaps segment ${s.index} [0x${s.vaddr.toString(16)}..0x${(s.vaddr + s.memsz).toString(16)})`);
    }
  }
  if (elf.segments.some((s) => s.type === PT_PHDR)) throw new ElfError('ELF files with a PT_PHDR segment are not supported');

  const oldTableEnd = elf.phoff + BigInt(elf.segments.length * PHDR_SIZE);
  const newTableSize = BigInt((elf.segments.length + 1) * PHDR_SIZE);
  // Is the space after the table free? Nothing of a segment or section may start before it ends.
  const occupied = [
    ...elf.segments.filter((s) => s.filesz > 0n).map((s) => [s.offset, s.offset + s.filesz] as const),
    ...elf.sections.filter((s) => s.type !== 8 /* SHT_NOBITS */ && s.size > 0n).map((s) => [s.offset, s.offset + s.size] as const),
    [elf.shoff, elf.shoff + BigInt(elf.sections.length * SHDR_SIZE)] as const,
  ];
  const growEnd = elf.phoff + newTableSize;
  const inPlace = !occupied.some(([a, b]) => a < growEnd && oldTableEnd < b);

  const dataOffset = alignUp(BigInt(bytes.length), align);
  const phoff = inPlace ? elf.phoff : alignUp(dataOffset + BigInt(seg.data.length), 8n);
  const total = inPlace ? dataOffset + BigInt(seg.data.length) : phoff + newTableSize;
  const out = new Uint8Array(Number(total));
  out.set(bytes);
  out.set(seg.data, Number(dataOffset));
  const v = view(out);
  if (!inPlace) out.copyWithin(Number(phoff), Number(elf.phoff), Number(oldTableEnd));
  writePhdr(v, Number(phoff) + elf.segments.length * PHDR_SIZE, {
    type: PT_LOAD,
    flags: seg.flags,
    offset: dataOffset,
    vaddr: seg.vaddr,
    paddr: seg.vaddr,
    filesz: BigInt(seg.data.length),
    memsz: BigInt(seg.data.length),
    align,
  });
  v.setBigUint64(32, phoff, true);
  v.setUint16(56, elf.segments.length + 1, true);
  return out;
}

/** A copy of `bytes` with the first `content.length` bytes of section `name` replaced. */
export function patchSection(bytes: Uint8Array, name: string, content: Uint8Array): Uint8Array {
  const elf = readElf(bytes);
  const section = elf.sections.find((s) => s.name === name);
  if (!section) throw new ElfError(`no section '${name}'`);
  if (section.type === 8) throw new ElfError(`section '${name}' has no bytes in the file (NOBITS)`);
  if (BigInt(content.length) > section.size) throw new ElfError(`${content.length} bytes do not fit in section '${name}' (${section.size} bytes)`);
  const at = need(bytes, section.offset, section.size, `section '${name}'`);
  const out = new Uint8Array(bytes);
  out.set(content, at);
  return out;
}

export function isAarch64(elf: ElfFile): boolean {
  return elf.machine === EM_AARCH64;
}
