/**
 * `.BTF.ext`: the section clang writes beside `.BTF` in a BPF object, with per-ELF-section
 * function info (which BTF FUNC starts at which instruction), line info (source file, line and
 * column per instruction) and CO-RE relocation records. Its strings are the `.BTF` section's.
 * The header is libbpf's `struct btf_ext_header` (not UAPI); the records are the UAPI
 * `struct bpf_func_info`, `struct bpf_line_info` and `struct bpf_core_relo`.
 *
 * @module
 */

import { BpfCoreRelo, BpfFuncInfo, BpfLineInfo, bpf_core_relo_kind_name } from '@bpfjs/uapi/linux/bpf';
import { BTF_MAGIC } from '@bpfjs/uapi/linux/btf';
import { Btf } from './btf.js';
import { BtfFormatError } from './errors.js';
import { fieldOffset as f } from './field.js';

// Record field offsets, resolved once (read for every record).
const O_CORE_RELO_ACCESS_STR_OFF = f(BpfCoreRelo, 'access_str_off');
const O_CORE_RELO_INSN_OFF = f(BpfCoreRelo, 'insn_off');
const O_CORE_RELO_KIND = f(BpfCoreRelo, 'kind');
const O_CORE_RELO_TYPE_ID = f(BpfCoreRelo, 'type_id');
const O_FUNC_INFO_INSN_OFF = f(BpfFuncInfo, 'insn_off');
const O_FUNC_INFO_TYPE_ID = f(BpfFuncInfo, 'type_id');
const O_LINE_INFO_FILE_NAME_OFF = f(BpfLineInfo, 'file_name_off');
const O_LINE_INFO_INSN_OFF = f(BpfLineInfo, 'insn_off');
const O_LINE_INFO_LINE_COL = f(BpfLineInfo, 'line_col');
const O_LINE_INFO_LINE_OFF = f(BpfLineInfo, 'line_off');

/** Size of `struct bpf_insn`: `.BTF.ext` offsets are in bytes, PROG_LOAD's in instructions. */
const INSN_SIZE = 8;

/**
 * libbpf's `struct btf_ext_header`: magic (u16), version (u8), flags (u8), hdr_len, then
 * func_info_off/len, line_info_off/len and (optional, newer) core_relo_off/len, all u32 with
 * offsets relative to the end of the header.
 */
const EXT_HDR = {
  magic: 0,
  version: 2,
  hdrLen: 4,
  funcInfoOff: 8,
  funcInfoLen: 12,
  lineInfoOff: 16,
  lineInfoLen: 20,
  coreReloOff: 24,
  coreReloLen: 28,
} as const;
const EXT_HDR_MIN = 24;

/** One function: the BTF FUNC type starting at instruction `insn` of its ELF section. */
export interface BtfExtFuncInfo {
  /** Instruction index in the ELF section (the byte offset in `.BTF.ext` / 8). */
  readonly insn: number;
  /** The `BTF_KIND_FUNC` type id. */
  readonly typeId: number;
}

/** One line: where instruction `insn` of its ELF section comes from. */
export interface BtfExtLineInfo {
  /** Instruction index in the ELF section. */
  readonly insn: number;
  /** Source file name, and its offset in the BTF strings (what PROG_LOAD's line_info takes). */
  readonly fileName: string;
  readonly fileNameOff: number;
  /** The source line's text, and its offset in the BTF strings. */
  readonly line: string;
  readonly lineOff: number;
  /** Line number (`line_col >> 10`) and column (`line_col & 0x3ff`). */
  readonly lineNum: number;
  readonly lineCol: number;
}

/** One CO-RE relocation: what instruction `insn` needs adjusted against the target kernel's BTF. */
export interface BtfExtCoreRelo {
  /** Instruction index in the ELF section. */
  readonly insn: number;
  /** The local (object BTF) root type id. */
  readonly typeId: number;
  /** The access string (`'0:1:2'`: member/array indices from the root type), and its string offset. */
  readonly accessStr: string;
  readonly accessStrOff: number;
  /** `enum bpf_core_relo_kind` and its short name (`'field_byte_offset'`, `'type_exists'`, ...). */
  readonly kind: number;
  readonly kindName: string;
}

/** One kind of `.BTF.ext` records: its record size and the records of each ELF section by name. */
export interface BtfExtInfo<T> {
  /** Record size as written (at least the UAPI struct's; larger when a newer compiler adds fields). */
  readonly recordSize: number;
  /** ELF section name (`'sk_lookup'`, `'.text'`) → its records, in section order. */
  readonly sections: ReadonlyMap<string, readonly T[]>;
}

/** A parsed `.BTF.ext` section. */
export class BtfExt {
  /** Function info per ELF section. */
  readonly funcInfo: BtfExtInfo<BtfExtFuncInfo>;
  /** Line info per ELF section. */
  readonly lineInfo: BtfExtInfo<BtfExtLineInfo>;
  /** CO-RE relocations per ELF section (empty when the header has no CO-RE part). */
  readonly coreRelos: BtfExtInfo<BtfExtCoreRelo>;

  private constructor(
    funcInfo: BtfExtInfo<BtfExtFuncInfo>,
    lineInfo: BtfExtInfo<BtfExtLineInfo>,
    coreRelos: BtfExtInfo<BtfExtCoreRelo>,
  ) {
    this.funcInfo = funcInfo;
    this.lineInfo = lineInfo;
    this.coreRelos = coreRelos;
  }

  /**
   * Parses a `.BTF.ext` section; `btf` is the same object's `.BTF` (names and strings are read
   * from it).
   * @throws BtfFormatError (`ERR_BPFJS_BTF_INVALID`) for a section that is not `.BTF.ext`
   * (bad magic or version, truncated, records smaller than the UAPI structs or not 4-byte
   * multiples, a section with no records, string offsets outside the BTF, instruction offsets
   * that are not multiples of 8).
   */
  static parse(data: Uint8Array, btf: Btf): BtfExt {
    if (!(data instanceof Uint8Array)) {
      throw Object.assign(new TypeError('BtfExt.parse expects a Uint8Array'), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
    if (!(btf instanceof Btf)) {
      throw Object.assign(new TypeError("BtfExt.parse needs the object's Btf"), {
        code: 'ERR_INVALID_ARG_TYPE',
      });
    }
    if (data.byteLength < EXT_HDR_MIN) throw new BtfFormatError('.BTF.ext: shorter than its header');
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const le = dv.getUint16(EXT_HDR.magic, true) === BTF_MAGIC;
    if (!le && dv.getUint16(EXT_HDR.magic, false) !== BTF_MAGIC) {
      throw new BtfFormatError(`.BTF.ext: bad magic 0x${dv.getUint16(0, true).toString(16)}`);
    }
    if (data[EXT_HDR.version] !== 1)
      throw new BtfFormatError(`.BTF.ext: unsupported version ${data[EXT_HDR.version]}`);
    const u32 = (o: number) => dv.getUint32(o, le);
    const hdrLen = u32(EXT_HDR.hdrLen);
    if (hdrLen < EXT_HDR_MIN || hdrLen > data.byteLength)
      throw new BtfFormatError(`.BTF.ext: header length ${hdrLen}`);
    const field = (o: number) => (o + 4 <= hdrLen ? u32(o) : 0);
    const sectionOf = (offField: number, lenField: number, what: string) => {
      const off = field(offField);
      const len = field(lenField);
      if (len === 0) return undefined;
      const start = hdrLen + off;
      if (start + len > data.byteLength)
        throw new BtfFormatError(`.BTF.ext: ${what} past the end of the section`);
      return { start, end: start + len };
    };
    const str = (off: number, what: string) => {
      try {
        return btf.str(off);
      } catch {
        throw new BtfFormatError(`.BTF.ext: ${what}: string offset ${off} is not in the BTF strings`);
      }
    };
    const insnOf = (off: number, what: string) => {
      if (off % INSN_SIZE !== 0)
        throw new BtfFormatError(`.BTF.ext: ${what}: instruction offset ${off} is not a multiple of 8`);
      return off / INSN_SIZE;
    };
    /** Reads one info part: record size, then per ELF section { sec_name_off, num_info, records }. */
    const part = <T>(
      range: { start: number; end: number } | undefined,
      minSize: number,
      what: string,
      read: (o: number, sec: string) => T,
    ): BtfExtInfo<T> => {
      const sections = new Map<string, T[]>();
      if (!range) return { recordSize: minSize, sections };
      const { start, end } = range;
      if (end - start < 4) throw new BtfFormatError(`.BTF.ext: ${what} has no record size`);
      const recordSize = u32(start);
      if (recordSize < minSize || recordSize % 4 !== 0) {
        throw new BtfFormatError(
          `.BTF.ext: ${what} record size ${recordSize} (needs a multiple of 4, >= ${minSize})`,
        );
      }
      let o = start + 4;
      while (o < end) {
        if (o + 8 > end) throw new BtfFormatError(`.BTF.ext: ${what} section header truncated`);
        const sec = str(u32(o), `${what} section name`);
        const n = u32(o + 4);
        o += 8;
        if (n === 0) throw new BtfFormatError(`.BTF.ext: ${what} of section ${sec} has no records`);
        if (n * recordSize > end - o)
          throw new BtfFormatError(`.BTF.ext: ${what} of section ${sec} truncated`);
        const list = sections.get(sec) ?? [];
        for (let i = 0; i < n; i++, o += recordSize) list.push(read(o, sec));
        sections.set(sec, list);
      }
      return { recordSize, sections };
    };
    const funcInfo = part(
      sectionOf(EXT_HDR.funcInfoOff, EXT_HDR.funcInfoLen, 'func_info'),
      BpfFuncInfo.size,
      'func_info',
      (o, sec) => {
        const typeId = u32(o + O_FUNC_INFO_TYPE_ID);
        if (typeId >= btf.count)
          throw new BtfFormatError(`.BTF.ext: func_info of ${sec} refers to type ${typeId}, not in the BTF`);
        return { insn: insnOf(u32(o + O_FUNC_INFO_INSN_OFF), `func_info of ${sec}`), typeId };
      },
    );
    const lineInfo = part(
      sectionOf(EXT_HDR.lineInfoOff, EXT_HDR.lineInfoLen, 'line_info'),
      BpfLineInfo.size,
      'line_info',
      (o, sec) => {
        const fileNameOff = u32(o + O_LINE_INFO_FILE_NAME_OFF);
        const lineOff = u32(o + O_LINE_INFO_LINE_OFF);
        const lineCol = u32(o + O_LINE_INFO_LINE_COL);
        return {
          insn: insnOf(u32(o + O_LINE_INFO_INSN_OFF), `line_info of ${sec}`),
          fileName: str(fileNameOff, `line_info of ${sec}`),
          fileNameOff,
          line: str(lineOff, `line_info of ${sec}`),
          lineOff,
          lineNum: lineCol >>> 10,
          lineCol: lineCol & 0x3ff,
        };
      },
    );
    const coreRelos = part(
      sectionOf(EXT_HDR.coreReloOff, EXT_HDR.coreReloLen, 'core_relo'),
      BpfCoreRelo.size,
      'core_relo',
      (o, sec) => {
        const typeId = u32(o + O_CORE_RELO_TYPE_ID);
        if (typeId >= btf.count)
          throw new BtfFormatError(`.BTF.ext: core_relo of ${sec} refers to type ${typeId}, not in the BTF`);
        const accessStrOff = u32(o + O_CORE_RELO_ACCESS_STR_OFF);
        const kind = u32(o + O_CORE_RELO_KIND);
        return {
          insn: insnOf(u32(o + O_CORE_RELO_INSN_OFF), `core_relo of ${sec}`),
          typeId,
          accessStr: str(accessStrOff, `core_relo of ${sec}`),
          accessStrOff,
          kind,
          kindName: bpf_core_relo_kind_name[kind] ?? `kind${kind}`,
        };
      },
    );
    return new BtfExt(funcInfo, lineInfo, coreRelos);
  }
}

/**
 * Encodes function info records as PROG_LOAD's `func_info` takes them (`struct bpf_func_info`,
 * instruction index and FUNC type id; record size `BpfFuncInfo.size`). The instruction indexes
 * are the loaded program's (after subprograms are appended), in increasing order.
 */
export function encodeFuncInfo(
  records: readonly { readonly insn: number; readonly typeId: number }[],
): Uint8Array {
  const out = new Uint8Array(records.length * BpfFuncInfo.size);
  const dv = new DataView(out.buffer);
  for (const [i, r] of records.entries()) {
    const o = i * BpfFuncInfo.size;
    dv.setUint32(o + f(BpfFuncInfo, 'insn_off'), r.insn, true);
    dv.setUint32(o + f(BpfFuncInfo, 'type_id'), r.typeId, true);
  }
  return out;
}

/**
 * Encodes line info records as PROG_LOAD's `line_info` takes them (`struct bpf_line_info`;
 * string offsets into the BTF loaded as `prog_btf_fd`; record size `BpfLineInfo.size`).
 */
export function encodeLineInfo(
  records: readonly {
    readonly insn: number;
    readonly fileNameOff: number;
    readonly lineOff: number;
    readonly lineNum: number;
    readonly lineCol: number;
  }[],
): Uint8Array {
  const out = new Uint8Array(records.length * BpfLineInfo.size);
  const dv = new DataView(out.buffer);
  for (const [i, r] of records.entries()) {
    const o = i * BpfLineInfo.size;
    dv.setUint32(o + f(BpfLineInfo, 'insn_off'), r.insn, true);
    dv.setUint32(o + f(BpfLineInfo, 'file_name_off'), r.fileNameOff, true);
    dv.setUint32(o + f(BpfLineInfo, 'line_off'), r.lineOff, true);
    dv.setUint32(o + f(BpfLineInfo, 'line_col'), ((r.lineNum << 10) | (r.lineCol & 0x3ff)) >>> 0, true);
  }
  return out;
}
