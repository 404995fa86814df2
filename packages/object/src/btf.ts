/**
 * The object's own BTF: the `.BTF` section (types, through `@bpfjs/uapi`'s reader for lookups) and
 * a raw, patchable copy for what the loader changes before handing it to the kernel — DATASEC
 * sizes and VAR offsets from the symbol table, and kinds the running kernel lacks replaced the way
 * libbpf sanitizes them (in place: same record sizes). Also `.BTF.ext`: func_info, line_info and
 * CO-RE relocation records per section.
 *
 * @module
 */

import { Btf, BtfExt as BtfExtParsed, BtfFormatError, btfExtraSize } from '@bpfjs/btf';
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_DECL_TAG,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_FUNC,
  BTF_KIND_FUNC_PROTO,
  BTF_KIND_INT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
} from '@bpfjs/uapi';
import { BpfObjectError } from './errors.js';

/** One variable of a DATASEC. */
export interface DatasecVar {
  /** Type id of the VAR (or FUNC for `.ksyms` functions). */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

/** One `.BTF.ext` record group: the section it belongs to and its records. */
export interface BtfExtSection<R> {
  readonly section: string;
  readonly records: R[];
}

/** A func_info record (`struct bpf_func_info`): byte offset of the function in its section. */
export interface FuncInfoRecord {
  insnOff: number;
  typeId: number;
}
/** A line_info record (`struct bpf_line_info`). */
export interface LineInfoRecord {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  lineCol: number;
}
/** A CO-RE relocation record (`struct bpf_core_relo`). */
export interface CoreReloRecord {
  insnOff: number;
  typeId: number;
  accessStrOff: number;
  kind: number;
}

/** Parsed `.BTF.ext`. */
export interface BtfExt {
  readonly funcInfoRecSize: number;
  readonly lineInfoRecSize: number;
  readonly funcInfo: readonly BtfExtSection<FuncInfoRecord>[];
  readonly lineInfo: readonly BtfExtSection<LineInfoRecord>[];
  readonly coreRelo: readonly BtfExtSection<CoreReloRecord>[];
}

function btfError(message: string, section = '.BTF', cause?: unknown): BpfObjectError {
  return new BpfObjectError('ERR_BPFJS_OBJECT_BTF', `${section}: ${message}`, { section }, cause);
}

const HDR = { magic: 0, version: 2, flags: 3, hdrLen: 4, typeOff: 8, typeLen: 12, strOff: 16, strLen: 20 };

/**
 * The object's BTF: `types` answers lookups; `raw` is a private copy the loader patches and loads.
 */
export class ObjectBtf {
  /** Parsed types (uapi reader). */
  readonly types: Btf;
  /** A copy of the blob, patched in place by the fix-ups. */
  #raw: Uint8Array;
  #view: DataView;
  /** Byte offset of each type record in `raw` (index = id). */
  readonly #offsets: number[];
  readonly #strStart: number;
  readonly #strEnd: number;

  constructor(data: Uint8Array) {
    try {
      this.types = Btf.parse(data);
    } catch (e) {
      if (e instanceof BtfFormatError) throw btfError(e.message, '.BTF', e);
      throw e;
    }
    this.#raw = Uint8Array.from(data);
    this.#view = new DataView(this.#raw.buffer);
    const v = this.#view;
    if (v.getUint16(HDR.magic, true) !== 0xeb9f) throw btfError('big-endian BTF is not supported');
    const hdrLen = v.getUint32(HDR.hdrLen, true);
    const typeStart = hdrLen + v.getUint32(HDR.typeOff, true);
    const typeEnd = typeStart + v.getUint32(HDR.typeLen, true);
    this.#strStart = hdrLen + v.getUint32(HDR.strOff, true);
    this.#strEnd = this.#strStart + v.getUint32(HDR.strLen, true);
    const offsets = [0];
    for (let o = typeStart; o < typeEnd; ) {
      offsets.push(o);
      const info = v.getUint32(o + 4, true);
      const extra = btfExtraSize((info >>> 24) & 0x1f, info & 0xffff);
      if (extra === undefined)
        throw btfError(`type ${offsets.length - 1} has unknown kind ${(info >>> 24) & 0x1f}`);
      o += 12 + extra;
    }
    this.#offsets = offsets;
  }

  /** The (patched) blob that goes to the kernel. */
  get raw(): Uint8Array {
    return this.#raw;
  }

  /**
   * Appends one type record (`words`: name_off placeholder first, then info and the rest) whose
   * name is `name` (added to the strings); returns its id. Types added here exist only in the blob
   * for the kernel, not in `types`.
   */
  appendType(name: string, words: readonly number[]): number {
    const v = this.#view;
    const hdrLen = v.getUint32(4, true);
    const typeEnd = hdrLen + v.getUint32(8, true) + v.getUint32(12, true);
    const strStart = hdrLen + v.getUint32(16, true);
    const strLen = v.getUint32(20, true);
    const nameBytes = Buffer.from(`${name}\0`, 'latin1');
    const rec = words.length * 4;
    const out = new Uint8Array(this.#raw.byteLength + rec + nameBytes.byteLength);
    out.set(this.#raw.subarray(0, typeEnd), 0);
    const ov = new DataView(out.buffer);
    words.forEach((w, i) => {
      ov.setUint32(typeEnd + i * 4, i === 0 ? strLen : w, true);
    });
    out.set(this.#raw.subarray(typeEnd, strStart + strLen), typeEnd + rec);
    out.set(nameBytes, strStart + rec + strLen);
    ov.setUint32(12, v.getUint32(12, true) + rec, true);
    ov.setUint32(16, v.getUint32(16, true) + rec, true);
    ov.setUint32(20, strLen + nameBytes.byteLength, true);
    this.#raw = out;
    this.#view = ov;
    this.#offsets.push(typeEnd);
    return this.#offsets.length - 1;
  }

  /** The name offset of a type record in the blob. */
  nameOff(id: number): number {
    return this.#view.getUint32(this.#offsets[id]!, true);
  }

  /** Number of type ids including void. */
  get count(): number {
    return this.#offsets.length;
  }

  /** A string of the string section. */
  str(off: number): string {
    return this.types.str(off);
  }

  /** Whether `off` is a valid string offset. */
  hasStr(off: number): boolean {
    return this.#strStart + off < this.#strEnd;
  }

  #info(id: number): number {
    return this.#view.getUint32(this.#offsets[id]! + 4, true);
  }

  /** `BTF_KIND_*` of a type id, from the (possibly patched) raw copy. */
  rawKind(id: number): number {
    return id === 0 ? 0 : (this.#info(id) >>> 24) & 0x1f;
  }

  /** The variables of a DATASEC type. */
  datasecVars(id: number): DatasecVar[] {
    const o = this.#offsets[id]!;
    const vlen = this.#info(id) & 0xffff;
    const out: DatasecVar[] = [];
    for (let i = 0; i < vlen; i++) {
      const r = o + 12 + i * 12;
      out.push({
        type: this.#view.getUint32(r, true),
        offset: this.#view.getUint32(r + 4, true),
        size: this.#view.getUint32(r + 8, true),
      });
    }
    return out;
  }

  /** `BTF_VAR_*` linkage of a VAR (0 static, 1 global allocated, 2 global extern). */
  varLinkage(id: number): number {
    // from the patched copy: the fix-ups change linkage (hidden globals, .kconfig externs)
    return this.#view.getUint32(this.#offsets[id]! + 12, true);
  }

  /** The DATASEC of this name, if any. */
  datasec(name: string): number | undefined {
    return this.types.findByName(name, BTF_KIND_DATASEC)[0];
  }

  /** Sets a DATASEC's size (fix-up from the ELF section size). */
  setDatasecSize(id: number, size: number): void {
    this.#view.setUint32(this.#offsets[id]! + 8, size, true);
  }

  /** Sets the offset of variable `index` of a DATASEC (fix-up from the symbol value). */
  setDatasecVarOffset(id: number, index: number, offset: number): void {
    this.#view.setUint32(this.#offsets[id]! + 12 + index * 12 + 4, offset, true);
  }

  /** Rewrites variable `index` of a DATASEC. */
  setDatasecVar(id: number, index: number, type: number, offset: number, size: number): void {
    const o = this.#offsets[id]! + 12 + index * 12;
    this.#view.setUint32(o, type, true);
    this.#view.setUint32(o + 4, offset, true);
    this.#view.setUint32(o + 8, size, true);
  }

  /** Sorts a DATASEC's variables by offset (libbpf does; the kernel wants them in order). */
  sortDatasecVars(id: number): void {
    const vars = this.datasecVars(id).sort((a, b) => a.offset - b.offset);
    const o = this.#offsets[id]! + 12;
    vars.forEach((v, i) => {
      this.#view.setUint32(o + i * 12, v.type, true);
      this.#view.setUint32(o + i * 12 + 4, v.offset, true);
      this.#view.setUint32(o + i * 12 + 8, v.size, true);
    });
  }

  /** Sets a VAR's linkage (`.kconfig` externs become allocated, as libbpf does). */
  setVarLinkage(id: number, linkage: number): void {
    this.#view.setUint32(this.#offsets[id]! + 12, linkage, true);
  }

  /** Overwrites a type's `info` and `size/type` words in place (sanitizing). @internal */
  rewrite(id: number, kind: number, vlen: number, sizeOrType: number, nameOff?: number): void {
    const o = this.#offsets[id]!;
    if (nameOff !== undefined) this.#view.setUint32(o, nameOff, true);
    this.#view.setUint32(o + 4, ((kind & 0x1f) << 24) | (vlen & 0xffff), true);
    this.#view.setUint32(o + 8, sizeOrType, true);
  }

  /** Byte offset of a type record in `raw`. @internal */
  recordOffset(id: number): number {
    return this.#offsets[id]!;
  }

  /** The raw view (for sanitizing member records). @internal */
  get view(): DataView {
    return this.#view;
  }
}

/**
 * `.BTF.ext` through `@bpfjs/btf`'s `BtfExt`, as byte-offset records per section (what the
 * loader moves when it appends subprograms).
 * @throws BpfObjectError `ERR_BPFJS_OBJECT_BTF` naming `.BTF.ext`.
 */
export function parseBtfExt(data: Uint8Array, btf: ObjectBtf): BtfExt {
  let ext: BtfExtParsed;
  try {
    ext = BtfExtParsed.parse(data, btf.types);
  } catch (e) {
    if (e instanceof BtfFormatError) {
      throw new BpfObjectError('ERR_BPFJS_OBJECT_BTF', e.message, { section: '.BTF.ext' }, e);
    }
    throw e;
  }
  const sections = <T, R>(m: ReadonlyMap<string, readonly T[]>, f: (r: T) => R): BtfExtSection<R>[] =>
    [...m].map(([section, records]) => ({ section, records: records.map(f) }));
  return {
    funcInfoRecSize: ext.funcInfo.recordSize,
    lineInfoRecSize: ext.lineInfo.recordSize,
    funcInfo: sections(ext.funcInfo.sections, (r) => ({ insnOff: r.insn * 8, typeId: r.typeId })),
    lineInfo: sections(ext.lineInfo.sections, (r) => ({
      insnOff: r.insn * 8,
      fileNameOff: r.fileNameOff,
      lineOff: r.lineOff,
      lineCol: ((r.lineNum << 10) | r.lineCol) >>> 0,
    })),
    coreRelo: sections(ext.coreRelos.sections, (r) => ({
      insnOff: r.insn * 8,
      typeId: r.typeId,
      accessStrOff: r.accessStrOff,
      kind: r.kind,
    })),
  };
}

/** Kinds re-exported for the loader. @internal */
export const KIND = {
  INT: BTF_KIND_INT,
  ARRAY: BTF_KIND_ARRAY,
  STRUCT: BTF_KIND_STRUCT,
  UNION: BTF_KIND_UNION,
  ENUM: BTF_KIND_ENUM,
  ENUM64: BTF_KIND_ENUM64,
  FUNC: BTF_KIND_FUNC,
  FUNC_PROTO: BTF_KIND_FUNC_PROTO,
  VAR: BTF_KIND_VAR,
  DATASEC: BTF_KIND_DATASEC,
  FLOAT: BTF_KIND_FLOAT,
  DECL_TAG: BTF_KIND_DECL_TAG,
  TYPE_TAG: BTF_KIND_TYPE_TAG,
  CONST: BTF_KIND_CONST,
} as const;
