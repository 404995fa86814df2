/**
 * A reader of ELF64 little-endian relocatable objects for `EM_BPF` (what `clang -target bpf -c`
 * writes): section headers, the symbol table and `.rel*`/`.rela*` relocations. Every offset and
 * size read from the file is checked against the file before it is used; a problem is a
 * {@link BpfObjectError} `ERR_BPFJS_ELF_INVALID` naming the section, symbol or offset.
 *
 * @module
 */
import { elfError } from './errors.js';

/** `e_machine` of BPF objects. */
export const EM_BPF = 247;
/** Section types used here. */
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
/** Section flags. */
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
/** Special section indices. */
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
/** Symbol bindings and types. */
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
/** BPF relocation types (llvm `R_BPF_*`). */
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;

/** One section header, with its name and (for anything but `SHT_NOBITS`) its bytes. */
export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** The section's bytes (empty for `SHT_NOBITS`: `.bss` has a size but no file data). */
  readonly data: Uint8Array;
}

/** One symbol table entry. */
export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  /** `STB_*`. */
  readonly bind: number;
  /** `STT_*`. */
  readonly type: number;
  /** `STV_*` (low 2 bits of `st_other`). */
  readonly visibility: number;
  /** Section index (`SHN_UNDEF` for externs). */
  readonly shndx: number;
  readonly value: number;
  readonly size: number;
}

/** One relocation. */
export interface ElfRelocation {
  /** Byte offset in the section the relocations apply to. */
  readonly offset: number;
  /** Index into the symbol table. */
  readonly symbol: number;
  /** `R_BPF_*`. */
  readonly type: number;
  /** Explicit addend (`.rela*` only; 0 for `.rel*`). */
  readonly addend: number;
}

/** A parsed ELF object. */
export interface ElfFile {
  readonly bytes: Uint8Array;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  /** Relocations by the index of the section they apply to. */
  readonly relocations: ReadonlyMap<number, readonly ElfRelocation[]>;
  /** Section by name (the first of that name). */
  section(name: string): ElfSection | undefined;
  /** The symbols defined in a section (by index), in symbol table order. */
  symbolsIn(index: number): readonly ElfSymbol[];
}

function u64(view: DataView, off: number, what: string): number {
  const hi = view.getUint32(off + 4, true);
  // Above 2^53 - 1 a number loses precision: no real object has such offsets or sizes.
  if (hi > 0x1fffff)
    throw elfError(`${what} ${view.getBigUint64(off, true)} is out of range`, { offset: off });
  return hi * 0x1_0000_0000 + view.getUint32(off, true);
}

/**
 * A string table decoded once as latin1 (byte offsets = string indices), so each name is one
 * `indexOf` and `slice` instead of a Buffer per name.
 */
function strtab(bytes: Uint8Array, offset: number, size: number): (off: number) => string | undefined {
  let text: string | undefined;
  return (off) => {
    // (a SHT_NOBITS table has no bytes in the file: no names)
    if (off >= size || offset + size > bytes.byteLength) return undefined;
    text ??= Buffer.from(bytes.buffer, bytes.byteOffset + offset, size).toString('latin1');
    const nul = text.indexOf('\0', off);
    if (nul < 0) return undefined;
    return text.slice(off, nul);
  };
}

/**
 * Parses an ELF64 little-endian `EM_BPF` relocatable object.
 * @throws BpfObjectError `ERR_BPFJS_ELF_INVALID` for anything else (wrong magic/class/byte order/
 *   machine, truncated headers, sections, symbols or relocations pointing past the end).
 */
export function parseElf(bytes: Uint8Array): ElfFile {
  if (
    bytes.byteLength < 16 ||
    bytes[0] !== 0x7f ||
    bytes[1] !== 0x45 ||
    bytes[2] !== 0x4c ||
    bytes[3] !== 0x46
  ) {
    throw elfError('not an ELF file (bad magic)', { offset: 0 });
  }
  if (bytes[4] !== 2) throw elfError(`ELF class ${bytes[4]} is not ELFCLASS64`, { offset: 4 });
  if (bytes[5] === 2)
    throw elfError(
      'big-endian ELF objects are not supported (compile with -target bpfel or bpf on x86/arm64)',
      { offset: 5 },
    );
  if (bytes[5] !== 1) throw elfError(`unknown ELF data encoding ${bytes[5]}`, { offset: 5 });
  if (bytes.byteLength < EHDR_SIZE)
    throw elfError(`truncated: ${bytes.byteLength} bytes, the ELF header needs ${EHDR_SIZE}`, { offset: 0 });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_BPF) throw elfError(`machine ${machine} is not EM_BPF (${EM_BPF})`, { offset: 18 });
  if (type !== 1) throw elfError(`ELF type ${type} is not a relocatable object (ET_REL)`, { offset: 16 });
  const shoff = u64(view, 40, 'e_shoff');
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (shnum === 0) throw elfError('no section headers (e_shnum 0)', { offset: 60 });
  if (shentsize !== SHDR_SIZE)
    throw elfError(`section header size ${shentsize}, expected ${SHDR_SIZE}`, { offset: 58 });
  if (shoff + shnum * SHDR_SIZE > bytes.byteLength) {
    throw elfError(
      `section headers (offset ${shoff}, ${shnum} entries) run past the end of the file (${bytes.byteLength} bytes)`,
      {
        offset: shoff,
      },
    );
  }
  if (shstrndx >= shnum) throw elfError(`section name table index ${shstrndx} out of range`, { offset: 62 });

  interface Raw {
    name: number;
    type: number;
    flags: number;
    offset: number;
    size: number;
    link: number;
    info: number;
    addralign: number;
    entsize: number;
  }
  const raws: Raw[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * SHDR_SIZE;
    const r: Raw = {
      name: view.getUint32(o, true),
      type: view.getUint32(o + 4, true),
      flags: u64(view, o + 8, `section #${i} sh_flags`),
      offset: u64(view, o + 24, `section #${i} sh_offset`),
      size: u64(view, o + 32, `section #${i} sh_size`),
      link: view.getUint32(o + 40, true),
      info: view.getUint32(o + 44, true),
      addralign: u64(view, o + 48, `section #${i} sh_addralign`),
      entsize: u64(view, o + 56, `section #${i} sh_entsize`),
    };
    if (i > 0 && r.type !== SHT_NOBITS && r.offset + r.size > bytes.byteLength) {
      throw elfError(
        `section #${i} (offset ${r.offset}, size ${r.size}) runs past the end of the file (${bytes.byteLength} bytes)`,
        { section: `#${i}`, offset: r.offset },
      );
    }
    raws.push(r);
  }
  const shstr = raws[shstrndx]!;
  const sectionName = strtab(bytes, shstr.offset, shstr.size);
  const names: string[] = raws.map((r, i) => {
    if (i === 0) return '';
    const n = sectionName(r.name);
    if (n === undefined)
      throw elfError(`section #${i} has a name offset ${r.name} outside the section name table`, {
        section: `#${i}`,
      });
    return n;
  });
  const sections: ElfSection[] = raws.map((r, i) => ({
    index: i,
    name: names[i]!,
    type: r.type,
    flags: r.flags,
    offset: r.offset,
    size: r.size,
    link: r.link,
    info: r.info,
    addralign: r.addralign,
    entsize: r.entsize,
    data: i === 0 || r.type === SHT_NOBITS ? new Uint8Array(0) : bytes.subarray(r.offset, r.offset + r.size),
  }));

  // Symbols: the one SHT_SYMTAB and its string table (sh_link).
  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) throw elfError('more than one symbol table', { section: symtabs[1]!.name });
  const symbols: ElfSymbol[] = [];
  const symtab = symtabs[0];
  if (symtab !== undefined) {
    if (symtab.size % SYM_SIZE !== 0) {
      throw elfError(`symbol table size ${symtab.size} is not a multiple of ${SYM_SIZE}`, {
        section: symtab.name,
      });
    }
    const strs = sections[symtab.link];
    if (strs === undefined || strs.type !== SHT_STRTAB) {
      throw elfError(`symbol table links to section #${symtab.link}, not a string table`, {
        section: symtab.name,
      });
    }
    const symbolName = strtab(bytes, strs.offset, strs.size);
    for (let i = 0; i < symtab.size / SYM_SIZE; i++) {
      const o = symtab.offset + i * SYM_SIZE;
      const nameOff = view.getUint32(o, true);
      const name = i === 0 ? '' : symbolName(nameOff);
      if (name === undefined) {
        throw elfError(`symbol #${i} has a name offset ${nameOff} outside ${strs.name}`, {
          section: symtab.name,
          offset: i * SYM_SIZE,
        });
      }
      const info = bytes[o + 4]!;
      const shndx = view.getUint16(o + 6, true);
      if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.length) {
        throw elfError(
          `symbol '${name}' refers to section #${shndx}, past the last (#${sections.length - 1})`,
          {
            section: symtab.name,
            symbol: name,
          },
        );
      }
      symbols.push({
        index: i,
        name,
        bind: info >> 4,
        type: info & 0xf,
        visibility: bytes[o + 5]! & 0x3,
        shndx,
        value: u64(view, o + 8, `symbol '${name}' st_value`),
        size: u64(view, o + 16, `symbol '${name}' st_size`),
      });
    }
  }

  const relocations = new Map<number, ElfRelocation[]>();
  for (const s of sections) {
    if (s.type !== SHT_REL && s.type !== SHT_RELA) continue;
    const entsize = s.type === SHT_REL ? 16 : 24;
    if (s.size % entsize !== 0)
      throw elfError(`relocation section size ${s.size} is not a multiple of ${entsize}`, {
        section: s.name,
      });
    const target = sections[s.info];
    if (target === undefined || s.info === 0) {
      throw elfError(`relocation section applies to section #${s.info}, which does not exist`, {
        section: s.name,
      });
    }
    const list = relocations.get(s.info) ?? [];
    for (let i = 0; i < s.size / entsize; i++) {
      const o = s.offset + i * entsize;
      const offset = u64(view, o, `${s.name} r_offset`);
      // r_info: symbol index in the high 32 bits, type in the low 32 (no BigInt needed).
      const symbol = view.getUint32(o + 12, true);
      const type = view.getUint32(o + 8, true);
      if (symbol >= symbols.length) {
        throw elfError(`relocation #${i} refers to symbol #${symbol}, past the end of the symbol table`, {
          section: s.name,
          offset: i * entsize,
        });
      }
      if (offset >= Math.max(target.size, 1)) {
        throw elfError(
          `relocation #${i} at offset ${offset} is past the end of ${target.name} (${target.size} bytes)`,
          {
            section: s.name,
            offset,
          },
        );
      }
      const addend = s.type === SHT_RELA ? Number(view.getBigInt64(o + 16, true)) : 0;
      list.push({ offset, symbol, type, addend });
    }
    relocations.set(s.info, list);
  }

  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);
  const bySection = new Map<number, ElfSymbol[]>();
  for (const sym of symbols) {
    const list = bySection.get(sym.shndx);
    if (list === undefined) bySection.set(sym.shndx, [sym]);
    else list.push(sym);
  }
  const none: readonly ElfSymbol[] = [];
  return {
    bytes,
    sections,
    symbols,
    relocations,
    section: (name) => byName.get(name),
    symbolsIn: (index) => bySection.get(index) ?? none,
  };
}
