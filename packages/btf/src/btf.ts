/**
 * The BTF parser: kernel (`/sys/kernel/btf/vmlinux`), module (`/sys/kernel/btf/<module>`, split
 * BTF on top of vmlinux) and object (`.BTF` section) type information. Every record size and field
 * offset comes from the generated `<linux/btf.h>` layouts of `@bpfjs/uapi`. Types are indexed in
 * one pass; names, members and the name index are decoded on first use.
 *
 * @module
 */

import { readdirSync, readFileSync } from 'node:fs';
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
  BTF_KIND_FWD,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
  BTF_MAGIC,
  BtfArray,
  BtfDeclTag,
  BtfEnum,
  BtfEnum64,
  BtfHeader,
  BtfLayout,
  BtfMember,
  BtfParam,
  BtfType as BtfTypeLayout,
  BtfVar,
  BtfVarSecinfo,
} from '@bpfjs/uapi/linux/btf';
import { BtfFormatError, BtfLookupError } from './errors.js';
import { fieldOffset } from './field.js';
import { type BtfKind, type BtfKindName, kindName, kindNumber } from './kinds.js';

/** Where the running kernel publishes its BTF (Linux >= 5.4 with `CONFIG_DEBUG_INFO_BTF`). */
export const KERNEL_BTF_PATH = '/sys/kernel/btf/vmlinux';
/** The directory with vmlinux and one split BTF file per loaded module (modules: Linux >= 5.11). */
export const KERNEL_BTF_DIR = '/sys/kernel/btf';

/** Size of the `__u32` after a `BTF_KIND_INT` type (btf.h describes it only in prose). */
export const BTF_INT_INFO_SIZE = 4;
/** How many typedefs/qualifiers/array levels are followed before a chain counts as a loop (libbpf's depth). */
export const BTF_MAX_RESOLVE_DEPTH = 32;
/** Pointer size of the BPF target. */
const PTR_SIZE = 8;

const f = fieldOffset;

const INFO = f(BtfTypeLayout, 'info');
const NAME_OFF = f(BtfTypeLayout, 'name_off');
const SIZE_TYPE = f(BtfTypeLayout, 'size');

// Field offsets decode() reads for every record (resolved once, not per field read).
const O_ARRAY_INDEX_TYPE = f(BtfArray, 'index_type');
const O_ARRAY_NELEMS = f(BtfArray, 'nelems');
const O_ARRAY_TYPE = f(BtfArray, 'type');
const O_DECL_TAG_COMPONENT_IDX = f(BtfDeclTag, 'component_idx');
const O_ENUM64_NAME_OFF = f(BtfEnum64, 'name_off');
const O_ENUM64_VAL_HI32 = f(BtfEnum64, 'val_hi32');
const O_ENUM64_VAL_LO32 = f(BtfEnum64, 'val_lo32');
const O_ENUM_NAME_OFF = f(BtfEnum, 'name_off');
const O_ENUM_VAL = f(BtfEnum, 'val');
const O_MEMBER_NAME_OFF = f(BtfMember, 'name_off');
const O_MEMBER_OFFSET = f(BtfMember, 'offset');
const O_MEMBER_TYPE = f(BtfMember, 'type');
const O_PARAM_NAME_OFF = f(BtfParam, 'name_off');
const O_PARAM_TYPE = f(BtfParam, 'type');
const O_VAR_LINKAGE = f(BtfVar, 'linkage');
const O_VAR_SECINFO_OFFSET = f(BtfVarSecinfo, 'offset');
const O_VAR_SECINFO_SIZE = f(BtfVarSecinfo, 'size');
const O_VAR_SECINFO_TYPE = f(BtfVarSecinfo, 'type');

/** One member of a struct or union. */
export interface BtfMemberInfo {
  /** Member name; `''` for an anonymous struct/union member or an unnamed bit-field. */
  readonly name: string;
  /** Type id of the member. */
  readonly type: number;
  /** Offset in bits from the start of the aggregate. */
  readonly bitOffset: number;
  /** Bit-field width from the member (kind_flag set), 0 otherwise (see {@link Btf.bitfield}). */
  readonly bitfieldSize: number;
}

/** One enumerator of an enum or enum64 (values are bigint when not safe integers). */
export interface BtfEnumValue {
  readonly name: string;
  readonly value: number | bigint;
}

/** One parameter of a function prototype (`name` may be `''`; a last `type` 0 means `...`). */
export interface BtfParamInfo {
  readonly name: string;
  readonly type: number;
}

/** One variable of a DATASEC: the VAR (or FUNC for `.ksyms`) type id, its offset and size. */
export interface BtfDatasecVar {
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

/** A decoded type. Fields beyond `id`..`kflag` are present for the kinds that have them. */
export interface BtfTypeInfo {
  /** Type id (0 is `void`). */
  readonly id: number;
  /** `BTF_KIND_*` value. */
  readonly kind: number;
  /** Lowercase kind name (`'struct'`, `'enum64'`, ...; `'kind25'` for a kind newer than this package). */
  readonly kindName: BtfKindName | string;
  /** Name (`''` for anonymous types). */
  readonly name: string;
  /** The raw vlen (members, enumerators, parameters, variables; FUNC: its linkage). */
  readonly vlen: number;
  /** The raw kind_flag (struct/union: bit-field sizes in members; enum: signed; fwd: union; tags: attribute). */
  readonly kflag: boolean;
  /** INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT: size in bytes. */
  readonly size?: number;
  /** PTR, TYPEDEF, qualifiers, FUNC (its FUNC_PROTO), FUNC_PROTO (return type), VAR, DECL_TAG, TYPE_TAG. */
  readonly type?: number;
  /** STRUCT, UNION. */
  readonly members?: readonly BtfMemberInfo[];
  /** ENUM, ENUM64 (signed when `kflag`). */
  readonly values?: readonly BtfEnumValue[];
  /** ARRAY. */
  readonly array?: { readonly type: number; readonly indexType: number; readonly nelems: number };
  /** FUNC_PROTO. */
  readonly params?: readonly BtfParamInfo[];
  /** INT: encoding bits (`BTF_INT_SIGNED` | `BTF_INT_CHAR` | `BTF_INT_BOOL`), bit offset, bit width. */
  readonly int?: { readonly encoding: number; readonly offset: number; readonly bits: number };
  /** FUNC (`BTF_FUNC_STATIC/GLOBAL/EXTERN`) and VAR (`BTF_VAR_STATIC/GLOBAL_ALLOCATED/GLOBAL_EXTERN`). */
  readonly linkage?: number;
  /** DATASEC. */
  readonly vars?: readonly BtfDatasecVar[];
  /** DECL_TAG: the member or parameter index the tag is on, -1 for the whole type. */
  readonly componentIdx?: number;
}

/** A bit-field's place inside its containing aggregate, as {@link Btf.bitfield} computes it. */
export interface BtfBitfield {
  /** Bit offset from the start of the aggregate (for old-style bit-fields: plus the INT's offset). */
  readonly bitOffset: number;
  /** Width in bits. */
  readonly bits: number;
  /** Whether the storage integer is signed. */
  readonly signed: boolean;
}

/** A member found by {@link Btf.member}: its type and its place from the start of the outer type. */
export interface BtfMemberLocation {
  /** Type id of the member (not resolved). */
  readonly type: number;
  /** Offset in bits from the start of the outer type. */
  readonly bitOffset: number;
  /** Bit-field width (kind_flag or old-style INT bits), 0 for a whole member. */
  readonly bitfieldSize: number;
}

/** Options of {@link Btf.parse}. */
export interface BtfParseOptions {
  /**
   * The base BTF this blob is split on (module BTF on vmlinux): its ids continue after the
   * base's, its string offsets after the base's string section.
   */
  base?: Btf;
}

const isQualifier = (k: number) =>
  k === BTF_KIND_TYPEDEF ||
  k === BTF_KIND_CONST ||
  k === BTF_KIND_VOLATILE ||
  k === BTF_KIND_RESTRICT ||
  k === BTF_KIND_TYPE_TAG;

/** Bytes after `struct btf_type` for a known kind, or undefined for a kind this package lacks. */
export function btfExtraSize(kind: number, vlen: number): number | undefined {
  switch (kind) {
    case BTF_KIND_INT:
      return BTF_INT_INFO_SIZE;
    case BTF_KIND_PTR:
    case BTF_KIND_FWD:
    case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE:
    case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT:
    case BTF_KIND_FUNC:
    case BTF_KIND_FLOAT:
    case BTF_KIND_TYPE_TAG:
      return 0;
    case BTF_KIND_ARRAY:
      return BtfArray.size;
    case BTF_KIND_STRUCT:
    case BTF_KIND_UNION:
      return vlen * BtfMember.size;
    case BTF_KIND_ENUM:
      return vlen * BtfEnum.size;
    case BTF_KIND_FUNC_PROTO:
      return vlen * BtfParam.size;
    case BTF_KIND_VAR:
      return BtfVar.size;
    case BTF_KIND_DATASEC:
      return vlen * BtfVarSecinfo.size;
    case BTF_KIND_DECL_TAG:
      return BtfDeclTag.size;
    case BTF_KIND_ENUM64:
      return vlen * BtfEnum64.size;
    default:
      return undefined;
  }
}

/** The parsed header of a blob (byte offsets relative to the blob's start). */
export interface BtfSections {
  /** `hdr_len` as stored. */
  readonly hdrLen: number;
  /** `flags` byte of the header. */
  readonly flags: number;
  readonly typeStart: number;
  readonly typeEnd: number;
  readonly strStart: number;
  readonly strEnd: number;
  /** The optional layout section (newer kernels describe each kind's record size there), or undefined. */
  readonly layout: { readonly start: number; readonly end: number } | undefined;
}

/**
 * The parsed type information of one BTF blob: base BTF (vmlinux, an object's `.BTF`) or split BTF
 * on top of a base (kernel modules). Immutable; to change types, use `BtfWriter`.
 */
export class Btf {
  /** Number of type ids, including id 0 (`void`) and the base's ids: valid ids are `0..count-1`. */
  readonly count: number;
  /** First id of this blob's own types: 1 for base BTF, `base.count` for split BTF. */
  readonly firstId: number;
  /** The base of split BTF, undefined for base BTF. */
  readonly base: Btf | undefined;
  /** Byte order of the blob (BPF objects for `bpfeb` are big-endian). */
  readonly littleEndian: boolean;
  /** The blob as parsed (not copied: do not change it). */
  readonly bytes: Uint8Array;
  /** Where the header, type, string and layout sections are. */
  readonly sections: BtfSections;
  /** The first string offset of this blob's own strings (the base's string section length, 0 for base BTF). */
  readonly stringBase: number;
  private readonly view: DataView;
  /** Byte offset of each own type's `struct btf_type` (index = id - firstId). */
  private readonly offsets: Uint32Array;
  private readonly cache = new Map<number, BtfTypeInfo>();
  private byName: Map<string, number[]> | undefined;
  private readonly decoder = new TextDecoder();
  private strings: string | undefined;
  private ascii: boolean | undefined;

  private constructor(bytes: Uint8Array, base: Btf | undefined) {
    this.bytes = bytes;
    this.base = base;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < f(BtfHeader, 'type_off')) throw new BtfFormatError('shorter than its header');
    const magicLE = this.view.getUint16(f(BtfHeader, 'magic'), true);
    if (magicLE === BTF_MAGIC) this.littleEndian = true;
    else if (this.view.getUint16(f(BtfHeader, 'magic'), false) === BTF_MAGIC) this.littleEndian = false;
    else throw new BtfFormatError(`bad magic 0x${magicLE.toString(16)}`);
    const version = bytes[f(BtfHeader, 'version')]!;
    if (version !== 1) throw new BtfFormatError(`unsupported version ${version}`);
    const u32 = (o: number) => this.view.getUint32(o, this.littleEndian);
    const hdrLen = u32(f(BtfHeader, 'hdr_len'));
    const need = f(BtfHeader, 'str_len') + 4;
    if (hdrLen < need || hdrLen > bytes.byteLength) throw new BtfFormatError(`header length ${hdrLen}`);
    const field = (k: keyof (typeof BtfHeader)['fields'] & string) =>
      f(BtfHeader, k) + 4 <= hdrLen ? u32(f(BtfHeader, k)) : 0;
    const typeStart = hdrLen + field('type_off');
    const typeEnd = typeStart + field('type_len');
    const strStart = hdrLen + field('str_off');
    const strEnd = strStart + field('str_len');
    if (typeEnd > bytes.byteLength || strEnd > bytes.byteLength)
      throw new BtfFormatError('a section ends past the end of the data');
    if (typeStart % 4 !== 0 && field('type_len') > 0)
      throw new BtfFormatError('type section is not 4-byte aligned');
    if (strStart < typeEnd && strEnd > typeStart && field('str_len') > 0 && field('type_len') > 0)
      throw new BtfFormatError('type and string sections overlap');
    if (base === undefined) {
      if (strEnd === strStart || bytes[strStart] !== 0)
        throw new BtfFormatError('string section does not start with NUL');
    }
    if (strEnd > strStart && bytes[strEnd - 1] !== 0)
      throw new BtfFormatError('string section does not end with NUL');
    // optional layout section (newer BTF): record sizes of kinds this package may not know
    const layouts = new Map<number, { info: number; elem: number }>();
    const layoutLen = field('layout_len');
    let layout: BtfSections['layout'];
    if (layoutLen > 0) {
      const start = hdrLen + field('layout_off');
      if (start + layoutLen > bytes.byteLength)
        throw new BtfFormatError('layout section ends past the end of the data');
      layout = { start, end: start + layoutLen };
      for (let kind = 0; (kind + 1) * BtfLayout.size <= layoutLen; kind++) {
        const o = start + kind * BtfLayout.size;
        layouts.set(kind, {
          info: bytes[o + f(BtfLayout, 'info_sz')]!,
          elem: bytes[o + f(BtfLayout, 'elem_sz')]!,
        });
      }
    }
    this.sections = {
      hdrLen,
      flags: bytes[f(BtfHeader, 'flags')]!,
      typeStart,
      typeEnd,
      strStart,
      strEnd,
      layout,
    };
    this.stringBase = base ? base.stringBase + (base.sections.strEnd - base.sections.strStart) : 0;
    this.firstId = base ? base.count : 1;
    // one pass over the type section: offset of each record
    let offsets = new Uint32Array(Math.max(16, (typeEnd - typeStart) >>> 4));
    let n = 0;
    let o = typeStart;
    while (o < typeEnd) {
      const id = this.firstId + n;
      if (o + BtfTypeLayout.size > typeEnd) throw new BtfFormatError('record truncated', id);
      const info = u32(o + INFO);
      const kind = (info >>> 24) & 0x7f;
      const vlen = info & 0xffffff;
      let extra = btfExtraSize(kind, vlen);
      if (extra === undefined) {
        const l = layouts.get(kind);
        if (!l) throw new BtfFormatError(`unknown kind ${kind}`, id);
        extra = l.info + vlen * l.elem;
      }
      if (n === offsets.length) {
        const grown = new Uint32Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      offsets[n++] = o;
      o += BtfTypeLayout.size + extra;
    }
    if (o !== typeEnd) throw new BtfFormatError('type section does not end on a type boundary');
    this.offsets = offsets.slice(0, n);
    this.count = this.firstId + n;
    if (this.count > 0x7fffffff) throw new BtfFormatError('too many types');
  }

  /**
   * Parses a BTF blob: base BTF, or split BTF when `options.base` is given.
   * @throws BtfFormatError (`ERR_BPFJS_BTF_INVALID`) if it is not BTF; TypeError
   * (`ERR_INVALID_ARG_TYPE`) if `data` is not a `Uint8Array`.
   */
  static parse(data: Uint8Array, options: BtfParseOptions = {}): Btf {
    if (!(data instanceof Uint8Array)) {
      throw Object.assign(new TypeError('Btf.parse expects a Uint8Array'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const base = options?.base;
    if (base !== undefined && !(base instanceof Btf)) {
      throw Object.assign(new TypeError('options.base must be a Btf'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    return new Btf(data, base);
  }

  /**
   * Reads and parses the running kernel's BTF (`/sys/kernel/btf/vmlinux`, needs
   * `CONFIG_DEBUG_INFO_BTF`, Linux >= 5.4; reading it needs no privilege). Not cached: about
   * 0.1 s for a 6.x vmlinux, so keep the result.
   * @throws the `fs` error if the file is missing; BtfFormatError if it does not parse.
   */
  static loadKernel(path: string = KERNEL_BTF_PATH): Btf {
    return new Btf(readFileSync(path), undefined);
  }

  /**
   * Reads and parses one kernel module's split BTF (`/sys/kernel/btf/<module>`, Linux >= 5.11)
   * on top of `base` (the kernel's BTF, read with {@link Btf.loadKernel} when not given).
   * @throws the `fs` error if the module has no BTF (not loaded, or built without BTF).
   */
  static loadModule(module: string, base: Btf = Btf.loadKernel()): Btf {
    if (typeof module !== 'string' || module === '' || module.includes('/') || module === 'vmlinux') {
      throw Object.assign(new TypeError(`not a module name: ${String(module)}`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    return new Btf(readFileSync(`${KERNEL_BTF_DIR}/${module}`), base);
  }

  /** Names of the loaded kernel modules that have BTF (the files in `/sys/kernel/btf` but vmlinux), sorted. */
  static kernelModules(): string[] {
    try {
      return readdirSync(KERNEL_BTF_DIR)
        .filter((n) => n !== 'vmlinux')
        .sort();
    } catch {
      return [];
    }
  }

  private u32(o: number): number {
    return this.view.getUint32(o, this.littleEndian);
  }

  /** Length of this blob's own string section. */
  get stringsLength(): number {
    return this.sections.strEnd - this.sections.strStart;
  }

  /**
   * The string at `offset` (in split BTF, offsets below {@link Btf.stringBase} are the base's).
   * @throws BtfFormatError if the offset is outside the string sections.
   */
  str(offset: number): string {
    if (offset < this.stringBase && this.base) return this.base.str(offset);
    const off = offset - this.stringBase;
    const { strStart, strEnd } = this.sections;
    if (!Number.isInteger(off) || off < 0 || strStart + off >= strEnd) {
      throw new BtfFormatError(`string offset ${offset} out of range`);
    }
    // one latin1 decode of the whole section keeps byte offsets = string indices; names are ASCII
    // in practice, anything else is decoded again as UTF-8
    this.strings ??= Buffer.from(
      this.bytes.buffer,
      this.bytes.byteOffset + strStart,
      strEnd - strStart,
    ).toString('latin1');
    let end = this.strings.indexOf('\0', off);
    if (end < 0) end = this.strings.length;
    const s = this.strings.slice(off, end);
    // one check of the whole section instead of one per name
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for non-ASCII bytes
    this.ascii ??= !/[^\x00-\x7f]/.test(this.strings);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for non-ASCII bytes
    if (this.ascii || !/[^\x00-\x7f]/.test(s)) return s;
    return this.decoder.decode(this.bytes.subarray(strStart + off, strStart + end));
  }

  /** Throws `ERR_BPFJS_BTF_BAD_ID` unless `id` is a type id of this BTF (base ids included). */
  private check(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) {
      throw new BtfLookupError(
        'ERR_BPFJS_BTF_BAD_ID',
        `BTF type id ${id} out of range (0..${this.count - 1})`,
      );
    }
    return id;
  }

  /** Byte offset of an own type's record, or -1 for id 0 / a base id. */
  private recordOf(id: number): number {
    return id >= this.firstId ? this.offsets[id - this.firstId]! : -1;
  }

  /**
   * The raw bytes of one own type's record (`struct btf_type` and what follows it), a view into
   * {@link Btf.bytes}. Used by the writer to copy untouched types verbatim.
   */
  rawType(id: number): Uint8Array {
    this.check(id);
    if (id < this.firstId)
      throw new BtfLookupError('ERR_BPFJS_BTF_BAD_ID', `type ${id} belongs to the base BTF`);
    const i = id - this.firstId;
    const start = this.offsets[i]!;
    const end = i + 1 < this.offsets.length ? this.offsets[i + 1]! : this.sections.typeEnd;
    return this.bytes.subarray(start, end);
  }

  /**
   * `BTF_KIND_*` of a type id (0 for `void`).
   * @throws BtfLookupError `ERR_BPFJS_BTF_BAD_ID` for an id out of range (so do all lookups by id).
   */
  kindOf(id: number): number {
    this.check(id);
    if (id === 0) return 0;
    if (id < this.firstId) return (this.base as Btf).kindOf(id);
    return (this.u32(this.recordOf(id) + INFO) >>> 24) & 0x7f;
  }

  /** Name of a type id (`''` for anonymous types and `void`). */
  nameOf(id: number): string {
    this.check(id);
    if (id === 0) return '';
    if (id < this.firstId) return (this.base as Btf).nameOf(id);
    return this.str(this.u32(this.recordOf(id) + NAME_OFF));
  }

  /**
   * Decodes one type (cached).
   * @throws BtfFormatError if the record refers to a type id or string that does not exist.
   */
  type(id: number): BtfTypeInfo {
    this.check(id);
    if (id !== 0 && id < this.firstId) return (this.base as Btf).type(id);
    const hit = this.cache.get(id);
    if (hit) return hit;
    const t = this.decode(id);
    this.cache.set(id, t);
    return t;
  }

  private ref(id: number, to: number): number {
    if (to >= this.count)
      throw new BtfFormatError(`refers to type ${to}, past the last id ${this.count - 1}`, id);
    return to;
  }

  private decode(id: number): BtfTypeInfo {
    if (id === 0) return { id, kind: 0, kindName: 'void', name: '', vlen: 0, kflag: false };
    const o = this.recordOf(id);
    const info = this.u32(o + INFO);
    const kind = (info >>> 24) & 0x7f;
    const vlen = info & 0xffffff;
    const kflag = info >>> 31 === 1;
    const sizeOrType = this.u32(o + SIZE_TYPE);
    const base = { id, kind, kindName: kindName(kind), name: this.nameOf(id), vlen, kflag };
    const d = o + BtfTypeLayout.size;
    const ref = (to: number) => this.ref(id, to);
    const str = (off: number) => this.str(off);
    switch (kind) {
      case BTF_KIND_INT: {
        const v = this.u32(d);
        return {
          ...base,
          size: sizeOrType,
          int: { encoding: (v >>> 24) & 0x0f, offset: (v >>> 16) & 0xff, bits: v & 0xff },
        };
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        const members: BtfMemberInfo[] = [];
        for (let i = 0; i < vlen; i++) {
          const m = d + i * BtfMember.size;
          const off = this.u32(m + O_MEMBER_OFFSET);
          members.push({
            name: str(this.u32(m + O_MEMBER_NAME_OFF)),
            type: ref(this.u32(m + O_MEMBER_TYPE)),
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
          });
        }
        return { ...base, size: sizeOrType, members };
      }
      case BTF_KIND_ENUM: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const e = d + i * BtfEnum.size;
          const raw = this.u32(e + O_ENUM_VAL);
          values.push({ name: str(this.u32(e + O_ENUM_NAME_OFF)), value: kflag ? raw | 0 : raw });
        }
        return { ...base, size: sizeOrType, values };
      }
      case BTF_KIND_ENUM64: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const e = d + i * BtfEnum64.size;
          const lo = BigInt(this.u32(e + O_ENUM64_VAL_LO32));
          const hi = BigInt(this.u32(e + O_ENUM64_VAL_HI32));
          const u = (hi << 32n) | lo;
          const v = kflag ? BigInt.asIntN(64, u) : u;
          const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
          values.push({ name: str(this.u32(e + O_ENUM64_NAME_OFF)), value: safe ? Number(v) : v });
        }
        return { ...base, size: sizeOrType, values };
      }
      case BTF_KIND_ARRAY:
        return {
          ...base,
          array: {
            type: ref(this.u32(d + O_ARRAY_TYPE)),
            indexType: ref(this.u32(d + O_ARRAY_INDEX_TYPE)),
            nelems: this.u32(d + O_ARRAY_NELEMS),
          },
        };
      case BTF_KIND_FUNC_PROTO: {
        const params: BtfParamInfo[] = [];
        for (let i = 0; i < vlen; i++) {
          const p = d + i * BtfParam.size;
          params.push({
            name: str(this.u32(p + O_PARAM_NAME_OFF)),
            type: ref(this.u32(p + O_PARAM_TYPE)),
          });
        }
        return { ...base, type: ref(sizeOrType), params };
      }
      case BTF_KIND_FUNC:
        return { ...base, type: ref(sizeOrType), linkage: vlen };
      case BTF_KIND_VAR:
        return { ...base, type: ref(sizeOrType), linkage: this.u32(d + O_VAR_LINKAGE) };
      case BTF_KIND_DATASEC: {
        const vars: BtfDatasecVar[] = [];
        for (let i = 0; i < vlen; i++) {
          const v = d + i * BtfVarSecinfo.size;
          vars.push({
            type: ref(this.u32(v + O_VAR_SECINFO_TYPE)),
            offset: this.u32(v + O_VAR_SECINFO_OFFSET),
            size: this.u32(v + O_VAR_SECINFO_SIZE),
          });
        }
        return { ...base, size: sizeOrType, vars };
      }
      case BTF_KIND_DECL_TAG:
        return {
          ...base,
          type: ref(sizeOrType),
          componentIdx: this.u32(d + O_DECL_TAG_COMPONENT_IDX) | 0,
        };
      case BTF_KIND_FLOAT:
        return { ...base, size: sizeOrType };
      case BTF_KIND_FWD:
        return base;
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        return { ...base, type: ref(sizeOrType) };
      default:
        // a kind newer than this package, skipped through the layout section: nothing more is known
        return base;
    }
  }

  /**
   * Type ids with this name, optionally of one kind (`'struct'` or `BTF_KIND_STRUCT`), base ids
   * first, in id order. The name index is built on first use (about 50 ms for vmlinux).
   */
  findByName(name: string, kind?: BtfKind): number[] {
    const k = kind === undefined ? undefined : kindNumber(kind);
    const own = this.index().get(name) ?? [];
    const ids = this.base ? [...this.base.findByName(name), ...own] : own.slice();
    return k === undefined ? ids : ids.filter((id) => this.kindOf(id) === k);
  }

  /**
   * The first type id with this name and kind, or undefined (libbpf's `btf__find_by_name_kind`).
   */
  find(name: string, kind: BtfKind): number | undefined {
    return this.findByName(name, kind)[0];
  }

  /**
   * Like {@link Btf.find}, but throws when there is no such type.
   * @throws BtfLookupError `ERR_BPFJS_BTF_NOT_FOUND`.
   */
  get(name: string, kind: BtfKind): number {
    const id = this.find(name, kind);
    if (id === undefined) {
      const k = kindName(kindNumber(kind));
      throw new BtfLookupError('ERR_BPFJS_BTF_NOT_FOUND', `no BTF ${k} named '${name}'`);
    }
    return id;
  }

  private index(): Map<string, number[]> {
    if (this.byName) return this.byName;
    const m = new Map<string, number[]>();
    for (let id = this.firstId; id < this.count; id++) {
      const nameOff = this.u32(this.recordOf(id) + NAME_OFF);
      if (nameOff === 0) continue;
      const n = this.str(nameOff);
      if (!n) continue;
      const list = m.get(n);
      if (list) list.push(id);
      else m.set(n, [id]);
    }
    this.byName = m;
    return m;
  }

  /**
   * Follows typedefs, qualifiers (const, volatile, restrict) and type tags to the underlying
   * type id.
   * @throws BtfFormatError for a chain longer than {@link BTF_MAX_RESOLVE_DEPTH} (a loop).
   */
  resolve(id: number): number {
    let cur = id;
    for (let depth = 0; depth <= BTF_MAX_RESOLVE_DEPTH; depth++) {
      if (!isQualifier(this.kindOf(cur))) return cur;
      cur = this.type(cur).type ?? 0;
    }
    throw new BtfFormatError('typedef/qualifier chain too long (a loop?)', id);
  }

  /**
   * Size in bytes of a type (libbpf's `btf__resolve_size`): follows typedefs, qualifiers, type
   * tags and VARs; arrays multiply; pointers are 8 bytes.
   * @throws BtfLookupError `ERR_BPFJS_BTF_NO_SIZE` for void, functions, forward declarations;
   * BtfFormatError for loops and sizes past 4 GiB.
   */
  sizeOf(id: number): number {
    let cur = id;
    let mult = 1;
    for (let depth = 0; depth <= BTF_MAX_RESOLVE_DEPTH; depth++) {
      const t = this.type(cur);
      switch (t.kind) {
        case BTF_KIND_INT:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_DATASEC:
        case BTF_KIND_FLOAT: {
          const size = (t.size as number) * mult;
          if (size > 0xffffffff) throw new BtfFormatError('size past 4 GiB', id);
          return size;
        }
        case BTF_KIND_PTR:
          return PTR_SIZE * mult;
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_CONST:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG:
        case BTF_KIND_VAR:
          cur = t.type as number;
          break;
        case BTF_KIND_ARRAY: {
          const a = t.array as NonNullable<BtfTypeInfo['array']>;
          mult *= a.nelems;
          if (mult > 0xffffffff) throw new BtfFormatError('size past 4 GiB', id);
          cur = a.type;
          break;
        }
        default:
          throw new BtfLookupError(
            'ERR_BPFJS_BTF_NO_SIZE',
            `BTF type ${id} (${this.describe(id)}) has no size`,
          );
      }
    }
    throw new BtfFormatError('type chain too long (a loop?)', id);
  }

  /**
   * Alignment in bytes of a type (libbpf's `btf__align_of`): scalars min(size, 8), pointers 8,
   * arrays their element's, structs and unions their largest member's, or 1 when a member's
   * offset or the size shows the aggregate is packed.
   * @throws BtfLookupError `ERR_BPFJS_BTF_NO_SIZE` for types without a size; BtfFormatError for loops.
   */
  alignOf(id: number): number {
    return this.align(id, 0);
  }

  private align(id: number, depth: number): number {
    if (depth > BTF_MAX_RESOLVE_DEPTH) throw new BtfFormatError('type nesting too deep (a loop?)', id);
    const t = this.type(id);
    switch (t.kind) {
      case BTF_KIND_INT:
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
      case BTF_KIND_FLOAT:
        return Math.min(PTR_SIZE, t.size as number);
      case BTF_KIND_PTR:
        return PTR_SIZE;
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_CONST:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        return this.align(t.type as number, depth + 1);
      case BTF_KIND_ARRAY:
        return this.align((t.array as NonNullable<BtfTypeInfo['array']>).type, depth + 1);
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        let max = 1;
        for (const m of t.members as readonly BtfMemberInfo[]) {
          const a = this.align(m.type, depth + 1);
          max = Math.max(max, a);
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
        }
        return (t.size as number) % max === 0 ? max : 1;
      }
      default:
        throw new BtfLookupError(
          'ERR_BPFJS_BTF_NO_SIZE',
          `BTF type ${id} (${this.describe(id)}) has no alignment`,
        );
    }
  }

  /**
   * The bit-field a struct/union member is, or undefined for a whole member. Handles both
   * encodings: kind_flag set (width in the member) and the older one (an INT type whose `bits`
   * or `offset` say it is narrower than its size).
   */
  bitfield(member: BtfMemberInfo): BtfBitfield | undefined {
    const t = this.type(this.resolve(member.type));
    const signed =
      (t.kind === BTF_KIND_INT && ((t.int?.encoding ?? 0) & 1) === 1) ||
      ((t.kind === BTF_KIND_ENUM || t.kind === BTF_KIND_ENUM64) && t.kflag);
    if (member.bitfieldSize > 0) return { bitOffset: member.bitOffset, bits: member.bitfieldSize, signed };
    if (t.kind === BTF_KIND_INT && t.int && (t.int.offset !== 0 || t.int.bits !== (t.size as number) * 8)) {
      return { bitOffset: member.bitOffset + t.int.offset, bits: t.int.bits, signed };
    }
    return undefined;
  }

  /**
   * Finds a member by its C access path from a struct/union (through typedefs and qualifiers):
   * `'a.b'`, `'arr[3].x'`, or the path as an array (`['a', 'b']`, `['arr', 3, 'x']`). Members of
   * anonymous structs/unions are found by their own names, as in C.
   * @throws BtfLookupError `ERR_BPFJS_BTF_NO_MEMBER` for a path that does not exist,
   * `ERR_BPFJS_BTF_WRONG_KIND` for a step into a type that is not an aggregate or array.
   */
  member(id: number, path: string | readonly (string | number)[]): BtfMemberLocation {
    const steps = typeof path === 'string' ? parsePath(path) : path;
    let type = id;
    let bitOffset = 0;
    let bitfieldSize = 0;
    for (const step of steps) {
      const rid = this.resolve(type);
      const t = this.type(rid);
      if (typeof step === 'number') {
        if (t.kind !== BTF_KIND_ARRAY || !t.array) {
          throw new BtfLookupError(
            'ERR_BPFJS_BTF_WRONG_KIND',
            `[${step}]: ${this.describe(rid)} is not an array`,
          );
        }
        if (!Number.isInteger(step) || step < 0 || step >= Math.max(1, t.array.nelems)) {
          throw new BtfLookupError(
            'ERR_BPFJS_BTF_NO_MEMBER',
            `index ${step} out of range for ${this.describe(rid)}`,
          );
        }
        bitOffset += step * this.sizeOf(t.array.type) * 8;
        type = t.array.type;
        bitfieldSize = 0;
        continue;
      }
      if (t.kind !== BTF_KIND_STRUCT && t.kind !== BTF_KIND_UNION) {
        throw new BtfLookupError(
          'ERR_BPFJS_BTF_WRONG_KIND',
          `.${step}: ${this.describe(rid)} is not a struct or union`,
        );
      }
      const found = this.findMember(rid, step, 0);
      if (!found)
        throw new BtfLookupError('ERR_BPFJS_BTF_NO_MEMBER', `${this.describe(rid)} has no member '${step}'`);
      bitOffset += found.bitOffset;
      type = found.type;
      bitfieldSize = found.bitfieldSize;
    }
    return { type, bitOffset, bitfieldSize };
  }

  private findMember(id: number, name: string, depth: number): BtfMemberLocation | undefined {
    if (depth > BTF_MAX_RESOLVE_DEPTH)
      throw new BtfFormatError('anonymous member nesting too deep (a loop?)', id);
    for (const m of this.type(id).members ?? []) {
      if (m.name === name) {
        const bf = this.bitfield(m);
        return bf
          ? { type: m.type, bitOffset: bf.bitOffset, bitfieldSize: bf.bits }
          : { type: m.type, bitOffset: m.bitOffset, bitfieldSize: 0 };
      }
      if (m.name === '') {
        const rid = this.resolve(m.type);
        const k = this.kindOf(rid);
        if (k !== BTF_KIND_STRUCT && k !== BTF_KIND_UNION) continue;
        const inner = this.findMember(rid, name, depth + 1);
        if (inner) return { ...inner, bitOffset: inner.bitOffset + m.bitOffset };
      }
    }
    return undefined;
  }

  /** A short human name of a type: `struct foo`, `int`, `typedef u32`, `(anon) union`, `[12] array`. */
  describe(id: number): string {
    const t = this.type(id);
    if (id === 0) return 'void';
    return `${t.kindName} ${t.name || '(anon)'} [${id}]`;
  }
}

/** Splits `'a.b[3].c'` into `['a', 'b', 3, 'c']`. */
function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([A-Za-z_$][\w$]*)|\[(\d+)\]|(\.)/y;
  let expectName = true;
  let ok = true;
  while (ok && re.lastIndex < path.length) {
    const m = re.exec(path);
    if (m === null) ok = false;
    else if (m[1] !== undefined) {
      ok = expectName;
      out.push(m[1]);
      expectName = false;
    } else if (m[2] !== undefined) {
      ok = !expectName;
      out.push(Number(m[2]));
    } else {
      ok = !expectName;
      expectName = true;
    }
  }
  if (!ok || expectName || out.length === 0) {
    throw new BtfLookupError('ERR_BPFJS_BTF_NO_MEMBER', `not a member path: '${path}'`);
  }
  return out;
}
