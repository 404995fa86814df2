/**
 * A small reader of BTF (the kernel's BPF Type Format), built on the generated `<linux/btf.h>`
 * layouts: every record size and field offset it uses comes from them. Reads the kernel's own
 * type information (`/sys/kernel/btf/vmlinux`, Linux >= 5.4 with `CONFIG_DEBUG_INFO_BTF`) or any
 * base (non-split) BTF blob. Types are indexed in one pass; names and details are decoded on
 * demand.
 *
 * @module
 */

import { readFileSync } from 'node:fs';
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
  BtfType,
  BtfVar,
  BtfVarSecinfo,
} from '../generated/linux/btf.js';

/** Where the running kernel publishes its BTF. */
export const KERNEL_BTF_PATH = '/sys/kernel/btf/vmlinux';

/** Size of the `__u32` that follows a `BTF_KIND_INT` type (btf.h describes it only in prose). */
const INT_INFO_SIZE = 4;

const KIND_NAMES: Readonly<Record<number, string>> = {
  0: 'void',
  [BTF_KIND_INT]: 'int',
  [BTF_KIND_PTR]: 'ptr',
  [BTF_KIND_ARRAY]: 'array',
  [BTF_KIND_STRUCT]: 'struct',
  [BTF_KIND_UNION]: 'union',
  [BTF_KIND_ENUM]: 'enum',
  [BTF_KIND_FWD]: 'fwd',
  [BTF_KIND_TYPEDEF]: 'typedef',
  [BTF_KIND_VOLATILE]: 'volatile',
  [BTF_KIND_CONST]: 'const',
  [BTF_KIND_RESTRICT]: 'restrict',
  [BTF_KIND_FUNC]: 'func',
  [BTF_KIND_FUNC_PROTO]: 'func_proto',
  [BTF_KIND_VAR]: 'var',
  [BTF_KIND_DATASEC]: 'datasec',
  [BTF_KIND_FLOAT]: 'float',
  [BTF_KIND_DECL_TAG]: 'decl_tag',
  [BTF_KIND_TYPE_TAG]: 'type_tag',
  [BTF_KIND_ENUM64]: 'enum64',
};

/** One member of a struct or union. */
export interface BtfMemberInfo {
  /** Member name; `''` for an anonymous struct/union member or unnamed bit-field. */
  readonly name: string;
  /** Type id of the member. */
  readonly type: number;
  /** Offset in bits from the start of the aggregate. */
  readonly bitOffset: number;
  /** Bit-field width, 0 if the member is not a bit-field. */
  readonly bitfieldSize: number;
}

/** One enumerator of an enum (values of `enum64` are bigint when not safe integers). */
export interface BtfEnumValue {
  readonly name: string;
  readonly value: number | bigint;
}

/** A decoded type. Fields beyond `id`..`kflag` are present for the kinds that have them. */
export interface BtfTypeInfo {
  readonly id: number;
  /** `BTF_KIND_*` value. */
  readonly kind: number;
  /** Lowercase kind name (`'struct'`, `'enum64'`, ...). */
  readonly kindName: string;
  readonly name: string;
  readonly vlen: number;
  readonly kflag: boolean;
  /** INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT: size in bytes. */
  readonly size?: number;
  /** PTR, TYPEDEF, qualifiers, FUNC, FUNC_PROTO (return type), VAR, DECL_TAG, TYPE_TAG. */
  readonly type?: number;
  readonly members?: readonly BtfMemberInfo[];
  readonly values?: readonly BtfEnumValue[];
  readonly array?: { readonly type: number; readonly indexType: number; readonly nelems: number };
  readonly params?: readonly { readonly name: string; readonly type: number }[];
  /** INT: encoding bits (`BTF_INT_SIGNED`...), bit offset and bit width. */
  readonly int?: { readonly encoding: number; readonly offset: number; readonly bits: number };
}

/** Thrown for a blob that is not valid BTF (`code: 'ERR_BPFJS_BTF_INVALID'`). */
export class BtfFormatError extends RangeError {
  /** Always `'ERR_BPFJS_BTF_INVALID'`. */
  readonly code = 'ERR_BPFJS_BTF_INVALID';
  constructor(message: string) {
    super(`invalid BTF: ${message}`);
    this.name = 'BtfFormatError';
  }
}

const f = <L extends { fields: Record<string, { offset: number }> }>(
  l: L,
  k: keyof L['fields'] & string,
): number => (l.fields as Record<string, { offset: number }>)[k]!.offset;

/** The parsed type information of one BTF blob. */
export class Btf {
  /** Number of type ids, including id 0 (`void`). */
  readonly count: number;
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly le: boolean;
  private readonly strStart: number;
  private readonly strEnd: number;
  /** Byte offset of each type's `struct btf_type` (index = id; entry 0 unused). */
  private readonly offsets: Uint32Array;
  private readonly cache = new Map<number, BtfTypeInfo>();
  private byName: Map<string, number[]> | undefined;
  private readonly decoder = new TextDecoder();
  private strings: string | undefined;

  private constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < f(BtfHeader, 'type_off')) throw new BtfFormatError('shorter than its header');
    const magicLE = this.view.getUint16(f(BtfHeader, 'magic'), true);
    if (magicLE === BTF_MAGIC) this.le = true;
    else if (this.view.getUint16(0, false) === BTF_MAGIC) this.le = false;
    else throw new BtfFormatError(`bad magic 0x${magicLE.toString(16)}`);
    const u32 = (o: number) => this.view.getUint32(o, this.le);
    const hdrLen = u32(f(BtfHeader, 'hdr_len'));
    const need = f(BtfHeader, 'str_len') + 4;
    if (hdrLen < need || hdrLen > bytes.byteLength) throw new BtfFormatError(`header length ${hdrLen}`);
    const field = (k: keyof (typeof BtfHeader)['fields'] & string) =>
      f(BtfHeader, k) + 4 <= hdrLen ? u32(f(BtfHeader, k)) : 0;
    const typeStart = hdrLen + field('type_off');
    const typeEnd = typeStart + field('type_len');
    this.strStart = hdrLen + field('str_off');
    this.strEnd = this.strStart + field('str_len');
    if (typeEnd > bytes.byteLength || this.strEnd > bytes.byteLength)
      throw new BtfFormatError('section past the end of the data');
    // optional layout section (newer BTF): record sizes of kinds this reader may not know
    const layouts = new Map<number, { info: number; elem: number }>();
    const layoutLen = field('layout_len');
    if (layoutLen > 0) {
      const start = hdrLen + field('layout_off');
      if (start + layoutLen > bytes.byteLength)
        throw new BtfFormatError('layout section past the end of the data');
      for (let kind = 0; (kind + 1) * BtfLayout.size <= layoutLen; kind++) {
        const o = start + kind * BtfLayout.size;
        layouts.set(kind, {
          info: bytes[o + f(BtfLayout, 'info_sz')]!,
          elem: bytes[o + f(BtfLayout, 'elem_sz')]!,
        });
      }
    }
    const offsets: number[] = [0];
    let o = typeStart;
    const infoOff = f(BtfType, 'info');
    while (o < typeEnd) {
      if (o + BtfType.size > typeEnd) throw new BtfFormatError(`type ${offsets.length} truncated`);
      const info = u32(o + infoOff);
      const kind = (info >>> 24) & 0x7f;
      const vlen = info & 0xffffff;
      offsets.push(o);
      let extra: number;
      switch (kind) {
        case BTF_KIND_INT:
          extra = INT_INFO_SIZE;
          break;
        case BTF_KIND_PTR:
        case BTF_KIND_FWD:
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_FUNC:
        case BTF_KIND_FLOAT:
        case BTF_KIND_TYPE_TAG:
          extra = 0;
          break;
        case BTF_KIND_ARRAY:
          extra = BtfArray.size;
          break;
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
          extra = vlen * BtfMember.size;
          break;
        case BTF_KIND_ENUM:
          extra = vlen * BtfEnum.size;
          break;
        case BTF_KIND_FUNC_PROTO:
          extra = vlen * BtfParam.size;
          break;
        case BTF_KIND_VAR:
          extra = BtfVar.size;
          break;
        case BTF_KIND_DATASEC:
          extra = vlen * BtfVarSecinfo.size;
          break;
        case BTF_KIND_DECL_TAG:
          extra = BtfDeclTag.size;
          break;
        case BTF_KIND_ENUM64:
          extra = vlen * BtfEnum64.size;
          break;
        default: {
          const l = layouts.get(kind);
          if (!l) throw new BtfFormatError(`type ${offsets.length - 1} has unknown kind ${kind}`);
          extra = l.info + vlen * l.elem;
        }
      }
      o += BtfType.size + extra;
    }
    if (o !== typeEnd) throw new BtfFormatError('type section does not end on a type boundary');
    this.offsets = Uint32Array.from(offsets);
    this.count = offsets.length;
  }

  /** Parses a base BTF blob. Throws {@link BtfFormatError} if it is not BTF. */
  static parse(data: Uint8Array): Btf {
    if (!(data instanceof Uint8Array)) {
      throw Object.assign(new TypeError('Btf.parse expects a Uint8Array'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    return new Btf(data);
  }

  /**
   * Reads and parses the running kernel's BTF (`/sys/kernel/btf/vmlinux`, needs
   * `CONFIG_DEBUG_INFO_BTF`, Linux >= 5.4). Throws the `fs` error if the file is missing.
   */
  static loadKernel(path: string = KERNEL_BTF_PATH): Btf {
    return new Btf(readFileSync(path));
  }

  private u32(o: number): number {
    return this.view.getUint32(o, this.le);
  }

  /** The string at `off` in the string section. */
  str(off: number): string {
    if (!Number.isInteger(off) || off < 0 || this.strStart + off >= this.strEnd) {
      throw new BtfFormatError(`string offset ${off} out of range`);
    }
    // one latin1 decode of the whole section keeps byte offsets = string indices; names are ASCII
    // in practice, anything else is decoded again as UTF-8
    this.strings ??= Buffer.from(
      this.bytes.buffer,
      this.bytes.byteOffset + this.strStart,
      this.strEnd - this.strStart,
    ).toString('latin1');
    let end = this.strings.indexOf('\0', off);
    if (end < 0) end = this.strings.length;
    const s = this.strings.slice(off, end);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for non-ASCII bytes
    if (!/[^\x00-\x7f]/.test(s)) return s;
    return this.decoder.decode(this.bytes.subarray(this.strStart + off, this.strStart + end));
  }

  private check(id: number): number {
    if (!Number.isInteger(id) || id < 0 || id >= this.count) {
      throw Object.assign(new RangeError(`BTF type id ${id} out of range (0..${this.count - 1})`), {
        code: 'ERR_OUT_OF_RANGE',
      });
    }
    return id;
  }

  /** `BTF_KIND_*` of a type id (0 for `void`). */
  kindOf(id: number): number {
    if (this.check(id) === 0) return 0;
    return (this.u32(this.offsets[id]! + f(BtfType, 'info')) >>> 24) & 0x7f;
  }

  /** Name of a type id (`''` for anonymous types and `void`). */
  nameOf(id: number): string {
    if (this.check(id) === 0) return '';
    return this.str(this.u32(this.offsets[id]! + f(BtfType, 'name_off')));
  }

  /** Decodes one type (cached). */
  type(id: number): BtfTypeInfo {
    this.check(id);
    const hit = this.cache.get(id);
    if (hit) return hit;
    const t = this.decode(id);
    this.cache.set(id, t);
    return t;
  }

  private decode(id: number): BtfTypeInfo {
    if (id === 0) return { id, kind: 0, kindName: 'void', name: '', vlen: 0, kflag: false };
    const o = this.offsets[id]!;
    const info = this.u32(o + f(BtfType, 'info'));
    const kind = (info >>> 24) & 0x7f;
    const vlen = info & 0xffffff;
    const kflag = info >>> 31 === 1;
    const sizeOrType = this.u32(o + f(BtfType, 'size'));
    const base = {
      id,
      kind,
      kindName: KIND_NAMES[kind] ?? `kind${kind}`,
      name: this.nameOf(id),
      vlen,
      kflag,
    };
    const d = o + BtfType.size;
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
          const off = this.u32(m + f(BtfMember, 'offset'));
          members.push({
            name: this.str(this.u32(m + f(BtfMember, 'name_off'))),
            type: this.u32(m + f(BtfMember, 'type')),
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
          const raw = this.u32(e + f(BtfEnum, 'val'));
          values.push({ name: this.str(this.u32(e + f(BtfEnum, 'name_off'))), value: kflag ? raw | 0 : raw });
        }
        return { ...base, size: sizeOrType, values };
      }
      case BTF_KIND_ENUM64: {
        const values: BtfEnumValue[] = [];
        for (let i = 0; i < vlen; i++) {
          const e = d + i * BtfEnum64.size;
          const lo = BigInt(this.u32(e + f(BtfEnum64, 'val_lo32')));
          const hi = BigInt(this.u32(e + f(BtfEnum64, 'val_hi32')));
          const u = (hi << 32n) | lo;
          const v = kflag ? BigInt.asIntN(64, u) : u;
          const safe = v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER);
          values.push({
            name: this.str(this.u32(e + f(BtfEnum64, 'name_off'))),
            value: safe ? Number(v) : v,
          });
        }
        return { ...base, size: sizeOrType, values };
      }
      case BTF_KIND_ARRAY:
        return {
          ...base,
          array: {
            type: this.u32(d + f(BtfArray, 'type')),
            indexType: this.u32(d + f(BtfArray, 'index_type')),
            nelems: this.u32(d + f(BtfArray, 'nelems')),
          },
        };
      case BTF_KIND_FUNC_PROTO: {
        const params = [];
        for (let i = 0; i < vlen; i++) {
          const p = d + i * BtfParam.size;
          params.push({
            name: this.str(this.u32(p + f(BtfParam, 'name_off'))),
            type: this.u32(p + f(BtfParam, 'type')),
          });
        }
        return { ...base, type: sizeOrType, params };
      }
      case BTF_KIND_DATASEC:
      case BTF_KIND_FLOAT:
        return { ...base, size: sizeOrType };
      case BTF_KIND_FWD:
        return base;
      default:
        return { ...base, type: sizeOrType };
    }
  }

  /**
   * Type ids with this name, optionally of one kind (`BTF_KIND_STRUCT`, ...). The name index is
   * built on first use.
   */
  findByName(name: string, kind?: number): number[] {
    if (!this.byName) {
      const m = new Map<string, number[]>();
      for (let id = 1; id < this.count; id++) {
        const n = this.nameOf(id);
        if (!n) continue;
        const list = m.get(n);
        if (list) list.push(id);
        else m.set(n, [id]);
      }
      this.byName = m;
    }
    const ids = this.byName.get(name) ?? [];
    return kind === undefined ? ids.slice() : ids.filter((id) => this.kindOf(id) === kind);
  }

  /** Follows typedefs, qualifiers and type tags to the underlying type id. */
  resolve(id: number): number {
    let cur = id;
    for (let guard = 0; guard < 64; guard++) {
      const k = this.kindOf(cur);
      if (
        k !== BTF_KIND_TYPEDEF &&
        k !== BTF_KIND_CONST &&
        k !== BTF_KIND_VOLATILE &&
        k !== BTF_KIND_RESTRICT &&
        k !== BTF_KIND_TYPE_TAG
      ) {
        return cur;
      }
      cur = this.type(cur).type ?? 0;
    }
    throw new BtfFormatError(`type ${id}: qualifier chain too long`);
  }

  /** Size in bytes of a type (after {@link Btf.resolve}); pointers are 8 bytes. */
  sizeOf(id: number): number {
    const t = this.type(this.resolve(id));
    if (t.kind === BTF_KIND_PTR) return 8;
    if (t.array) return t.array.nelems * this.sizeOf(t.array.type);
    if (t.size !== undefined) return t.size;
    throw Object.assign(new RangeError(`BTF type ${id} (${t.kindName} ${t.name}) has no size`), {
      code: 'ERR_BPFJS_BTF_NO_SIZE',
    });
  }
}
