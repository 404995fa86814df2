/**
 * The BTF writer: builds a blob (header, type section, string section) from scratch or from a
 * parsed `Btf`, with types added or replaced in place — what a loader needs to fix object BTF up
 * before `BPF_BTF_LOAD` (DATASEC sizes, VAR offsets, kinds an older kernel lacks replaced).
 *
 * Types copied from a parsed blob and not changed are written back byte for byte, and so is its
 * string section, so `BtfWriter.from(btf).encode()` reproduces a canonical blob (sections in the
 * order header, types, strings, layout, without gaps — what pahole, clang and the kernel write)
 * exactly. New strings are appended, deduplicated against the existing ones; output depends only
 * on the sequence of calls.
 *
 * @module
 */

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
  BTF_VERSION,
  BtfHeader,
  BtfType as BtfTypeLayout,
} from '@bpfjs/uapi/linux/btf';
import { Btf, type BtfDatasecVar, btfExtraSize } from './btf.js';
import { fieldOffset as f } from './field.js';
import { type BtfKind, kindName, kindNumber } from './kinds.js';

/**
 * A type to write. `BtfTypeInfo` (what `Btf.type(id)` returns) is one, so a parsed type can be
 * copied, changed and written back: `writer.set(id, { ...btf.type(id), size: 16 })`. Which fields
 * a kind uses is as in `BtfTypeInfo`; `kflag` defaults to what the content implies (struct/union:
 * some member is a bit-field; enum/enum64: some value is negative), and `vlen` is always derived
 * (for FUNC it is `linkage`).
 */
export interface BtfTypeSpec {
  /** Kind by number (`BTF_KIND_STRUCT`) or name (`'struct'`). */
  readonly kind: BtfKind;
  /** Name; `''` or absent for anonymous types. */
  readonly name?: string;
  /** The kind_flag (see `BtfTypeInfo.kflag`). */
  readonly kflag?: boolean;
  /** INT, ENUM, ENUM64, STRUCT, UNION, DATASEC, FLOAT: size in bytes. */
  readonly size?: number;
  /** PTR, TYPEDEF, qualifiers, TYPE_TAG, FUNC, FUNC_PROTO (return), VAR, DECL_TAG: the type id referred to. */
  readonly type?: number;
  /** STRUCT, UNION: `bitfieldSize` needs kind_flag (set by default when one is non-zero). */
  readonly members?: readonly {
    readonly name?: string;
    readonly type: number;
    readonly bitOffset: number;
    readonly bitfieldSize?: number;
  }[];
  /** ENUM (32-bit values), ENUM64. */
  readonly values?: readonly { readonly name: string; readonly value: number | bigint }[];
  /** ARRAY. */
  readonly array?: { readonly type: number; readonly indexType: number; readonly nelems: number };
  /** FUNC_PROTO. */
  readonly params?: readonly { readonly name?: string; readonly type: number }[];
  /** INT: encoding (`BTF_INT_SIGNED` | `BTF_INT_CHAR` | `BTF_INT_BOOL`), bit offset (default 0), bit width. */
  readonly int?: { readonly encoding: number; readonly offset?: number; readonly bits: number };
  /** FUNC, VAR: linkage (default 0, static). */
  readonly linkage?: number;
  /** DATASEC. */
  readonly vars?: readonly BtfDatasecVar[];
  /** DECL_TAG: member/parameter index, -1 for the whole declaration. */
  readonly componentIdx?: number;
}

/** Options of {@link BtfWriter}'s constructor. */
export interface BtfWriterOptions {
  /** Write split BTF on this base: ids start at `base.count`, strings at its string section's end. */
  base?: Btf;
  /** Byte order (default little-endian; `BtfWriter.from` keeps the source's). */
  littleEndian?: boolean;
}

// A copied record keeps its source and id: decoded only when asked for (`get`), so that `from` on
// vmlinux (100k+ types) costs a copy, not a decode of every type.
type Entry =
  | { readonly raw: Uint8Array; readonly source: Btf; readonly id: number }
  | { readonly spec: BtfTypeSpec };

const bad = (what: string, message: string): TypeError =>
  Object.assign(new TypeError(`${what}: ${message}`), { code: 'ERR_INVALID_ARG_VALUE' });

const u32ok = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

/** Builds and writes BTF blobs; see the module comment. */
export class BtfWriter {
  /** The base of split BTF being written, or undefined. */
  readonly base: Btf | undefined;
  /** Byte order of the output. */
  readonly littleEndian: boolean;
  /** First id of the types written: 1, or `base.count` for split BTF. */
  readonly firstId: number;
  private readonly entries: Entry[] = [];
  /** The string section so far, as chunks (the source's bytes first). */
  private readonly strChunks: Uint8Array[] = [];
  private strLen = 0;
  private strIndex: Map<string, number> | undefined;
  private header: Uint8Array | undefined;
  private layout: Uint8Array | undefined;
  private readonly encoder = new TextEncoder();

  /** An empty writer (no types but `void`; the string section holds the empty string). */
  constructor(options: BtfWriterOptions = {}) {
    if (options.base !== undefined && !(options.base instanceof Btf))
      throw bad('options.base', 'must be a Btf');
    this.base = options.base;
    this.littleEndian = options.littleEndian ?? true;
    this.firstId = this.base ? this.base.count : 1;
    // base BTF starts its strings with the empty string; split BTF has it in the base (libbpf)
    if (!this.base) this.appendString('');
  }

  /**
   * A writer holding every own type of `btf` (a split blob keeps its base), unchanged types
   * written back byte for byte, with its string section, header length and layout section.
   */
  static from(btf: Btf): BtfWriter {
    const w = new BtfWriter({ ...(btf.base ? { base: btf.base } : {}), littleEndian: btf.littleEndian });
    const { hdrLen, strStart, strEnd, layout } = btf.sections;
    // the source's string section replaces the new writer's lone empty string
    w.strChunks.length = 0;
    w.strIndex = undefined;
    const strings = btf.bytes.subarray(strStart, strEnd);
    w.strChunks.push(strings);
    w.strLen = strings.byteLength;
    w.header = btf.bytes.slice(0, hdrLen);
    if (layout) w.layout = btf.bytes.slice(layout.start, layout.end);
    for (let id = btf.firstId; id < btf.count; id++)
      w.entries.push({ raw: btf.rawType(id), source: btf, id });
    return w;
  }

  /** The next id {@link BtfWriter.add} returns; valid ids are `0..count-1` (base ids included). */
  get count(): number {
    return this.firstId + this.entries.length;
  }

  /**
   * Adds a type and returns its id. References to ids not added yet are allowed (they are
   * checked by {@link BtfWriter.encode}).
   * @throws TypeError `ERR_INVALID_ARG_VALUE` for a spec that cannot be written.
   */
  add(spec: BtfTypeSpec): number {
    this.check(spec, `type ${this.count}`);
    this.entries.push({ spec: freezeSpec(spec) });
    return this.count - 1;
  }

  /**
   * Replaces the type `id` (one of this writer's own ids) in place: every reference to the id now
   * refers to the new type (how a loader turns a DATASEC into a STRUCT or drops a decl tag).
   * @throws TypeError `ERR_INVALID_ARG_VALUE` for a spec that cannot be written or an id not owned.
   */
  set(id: number, spec: BtfTypeSpec): void {
    if (!Number.isInteger(id) || id < this.firstId || id >= this.count) {
      throw bad('id', `${id} is not a type of this writer (${this.firstId}..${this.count - 1})`);
    }
    this.check(spec, `type ${id}`);
    this.entries[id - this.firstId] = { spec: freezeSpec(spec) };
  }

  /**
   * The type `id` as it will be written: a parsed `BtfTypeInfo` for copied types, the spec given
   * to {@link BtfWriter.add}/{@link BtfWriter.set} otherwise; base ids read from the base.
   * @throws TypeError `ERR_INVALID_ARG_VALUE` for an id that is not there.
   */
  get(id: number): BtfTypeSpec {
    if (this.base && Number.isInteger(id) && id >= 0 && id < this.firstId) return this.base.type(id);
    const e = this.entries[id - this.firstId];
    if (!Number.isInteger(id) || e === undefined) throw bad('id', `${id} is not a type of this writer`);
    return 'spec' in e ? e.spec : e.source.type(e.id);
  }

  /**
   * The offset of `s` in the string sections, adding it when it is not there yet (in split BTF,
   * a string the base has is the base's).
   */
  addString(s: string): number {
    if (typeof s !== 'string' || s.includes('\0'))
      throw bad('string', `not a C string: ${JSON.stringify(s)}`);
    if (s === '') return 0;
    const stringBase = this.base ? this.base.stringBase + this.base.stringsLength : 0;
    const index = this.index();
    const hit = index.get(s);
    if (hit !== undefined) return hit;
    if (this.base) {
      const inBase = baseStrings(this.base).get(s);
      if (inBase !== undefined) return inBase;
    }
    return stringBase + this.appendString(s);
  }

  private appendString(s: string): number {
    const off = this.strLen;
    const bytes = this.encoder.encode(`${s}\0`);
    this.strChunks.push(bytes);
    this.strLen += bytes.byteLength;
    this.strIndex?.set(s, off + (this.base ? this.base.stringBase + this.base.stringsLength : 0));
    return off;
  }

  /** string → first offset, over this writer's own string section (built on first use). */
  private index(): Map<string, number> {
    if (this.strIndex) return this.strIndex;
    const stringBase = this.base ? this.base.stringBase + this.base.stringsLength : 0;
    const m = new Map<string, number>();
    let pos = 0;
    for (const chunk of this.strChunks) {
      indexChunk(chunk, stringBase + pos, m);
      pos += chunk.byteLength;
    }
    this.strIndex = m;
    return m;
  }

  private check(spec: BtfTypeSpec, what: string): void {
    if (typeof spec !== 'object' || spec === null) throw bad(what, 'must be a type spec object');
    let kind: number;
    try {
      kind = kindNumber(spec.kind);
    } catch {
      throw bad(`${what}.kind`, `unknown kind ${String(spec.kind)}`);
    }
    if (btfExtraSize(kind, 0) === undefined || kind === 0)
      throw bad(`${what}.kind`, `cannot write kind ${kindName(kind)}`);
    if (spec.name !== undefined && (typeof spec.name !== 'string' || spec.name.includes('\0'))) {
      throw bad(`${what}.name`, 'must be a string without NUL');
    }
    const need = (field: keyof BtfTypeSpec) => {
      if (spec[field] === undefined) throw bad(`${what}.${field}`, `a ${kindName(kind)} needs it`);
    };
    const u32 = (v: unknown, field: string) => {
      if (!u32ok(v)) throw bad(`${what}.${field}`, `must be an integer 0..2^32-1, got ${String(v)}`);
    };
    switch (kind) {
      case BTF_KIND_INT: {
        need('size');
        need('int');
        u32(spec.size, 'size');
        const i = spec.int as NonNullable<BtfTypeSpec['int']>;
        if (!Number.isInteger(i.encoding) || i.encoding < 0 || i.encoding > 0xf)
          throw bad(`${what}.int.encoding`, 'must be 0..15');
        if (!Number.isInteger(i.offset ?? 0) || (i.offset ?? 0) < 0 || (i.offset ?? 0) > 0xff)
          throw bad(`${what}.int.offset`, 'must be 0..255');
        if (!Number.isInteger(i.bits) || i.bits < 0 || i.bits > 128)
          throw bad(`${what}.int.bits`, 'must be 0..128');
        break;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        need('size');
        u32(spec.size, 'size');
        const kflag = spec.kflag ?? (spec.members ?? []).some((m) => (m.bitfieldSize ?? 0) > 0);
        for (const [i, m] of (spec.members ?? []).entries()) {
          u32(m.type, `members[${i}].type`);
          const bfs = m.bitfieldSize ?? 0;
          if (kflag) {
            if (!Number.isInteger(m.bitOffset) || m.bitOffset < 0 || m.bitOffset > 0xffffff)
              throw bad(`${what}.members[${i}].bitOffset`, 'must be 0..2^24-1 with kind_flag');
            if (!Number.isInteger(bfs) || bfs < 0 || bfs > 0xff)
              throw bad(`${what}.members[${i}].bitfieldSize`, 'must be 0..255');
          } else {
            u32(m.bitOffset, `members[${i}].bitOffset`);
            if (bfs !== 0) throw bad(`${what}.members[${i}].bitfieldSize`, 'needs kflag');
          }
          if (m.name !== undefined && (typeof m.name !== 'string' || m.name.includes('\0')))
            throw bad(`${what}.members[${i}].name`, 'must be a string without NUL');
        }
        break;
      }
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64: {
        need('size');
        u32(spec.size, 'size');
        const is64 = kind === BTF_KIND_ENUM64;
        for (const [i, v] of (spec.values ?? []).entries()) {
          if (typeof v.name !== 'string' || v.name.includes('\0'))
            throw bad(`${what}.values[${i}].name`, 'must be a string without NUL');
          const n =
            typeof v.value === 'bigint' ? v.value : Number.isInteger(v.value) ? BigInt(v.value) : undefined;
          const lo = is64 ? -(2n ** 63n) : -(2n ** 31n);
          const hi = is64 ? 2n ** 64n - 1n : 2n ** 32n - 1n;
          if (n === undefined || n < lo || n > hi)
            throw bad(`${what}.values[${i}].value`, `out of range for ${kindName(kind)}`);
        }
        break;
      }
      case BTF_KIND_ARRAY: {
        need('array');
        const a = spec.array as NonNullable<BtfTypeSpec['array']>;
        u32(a.type, 'array.type');
        u32(a.indexType, 'array.indexType');
        u32(a.nelems, 'array.nelems');
        break;
      }
      case BTF_KIND_FUNC_PROTO:
        u32(spec.type ?? 0, 'type');
        for (const [i, p] of (spec.params ?? []).entries()) u32(p.type, `params[${i}].type`);
        break;
      case BTF_KIND_DATASEC:
        need('size');
        u32(spec.size, 'size');
        for (const [i, v] of (spec.vars ?? []).entries()) {
          u32(v.type, `vars[${i}].type`);
          u32(v.offset, `vars[${i}].offset`);
          u32(v.size, `vars[${i}].size`);
        }
        break;
      case BTF_KIND_FLOAT:
        need('size');
        u32(spec.size, 'size');
        break;
      case BTF_KIND_DECL_TAG:
        need('type');
        u32(spec.type, 'type');
        if (!Number.isInteger(spec.componentIdx ?? -1) || (spec.componentIdx ?? -1) < -1)
          throw bad(`${what}.componentIdx`, 'must be -1 or an index');
        break;
      case BTF_KIND_FUNC:
      case BTF_KIND_VAR:
        need('type');
        u32(spec.type, 'type');
        u32(spec.linkage ?? 0, 'linkage');
        break;
      case BTF_KIND_FWD:
        break;
      default:
        // PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG
        u32(spec.type ?? 0, 'type');
    }
  }

  /**
   * Writes the blob: header (the source's length, 24 bytes for a new writer), types, strings and
   * the source's layout section if it had one.
   * @throws TypeError `ERR_INVALID_ARG_VALUE` when a type refers to an id past the last one.
   */
  encode(): Uint8Array {
    const le = this.littleEndian;
    // names first: they may add strings
    const records: Uint8Array[] = [];
    let typeLen = 0;
    for (const [i, e] of this.entries.entries()) {
      const r = 'spec' in e ? this.encodeSpec(e.spec, this.firstId + i) : e.raw;
      records.push(r);
      typeLen += r.byteLength;
    }
    const hdrLen = this.header ? this.header.byteLength : f(BtfHeader, 'str_len') + 4;
    const layoutLen = this.layout ? this.layout.byteLength : 0;
    const out = new Uint8Array(hdrLen + typeLen + this.strLen + layoutLen);
    const dv = new DataView(out.buffer);
    if (this.header) out.set(this.header);
    dv.setUint16(f(BtfHeader, 'magic'), BTF_MAGIC, le);
    out[f(BtfHeader, 'version')] = BTF_VERSION;
    if (!this.header) out[f(BtfHeader, 'flags')] = 0;
    dv.setUint32(f(BtfHeader, 'hdr_len'), hdrLen, le);
    dv.setUint32(f(BtfHeader, 'type_off'), 0, le);
    dv.setUint32(f(BtfHeader, 'type_len'), typeLen, le);
    dv.setUint32(f(BtfHeader, 'str_off'), typeLen, le);
    dv.setUint32(f(BtfHeader, 'str_len'), this.strLen, le);
    if (hdrLen >= f(BtfHeader, 'layout_len') + 4) {
      dv.setUint32(f(BtfHeader, 'layout_off'), layoutLen ? typeLen + this.strLen : 0, le);
      dv.setUint32(f(BtfHeader, 'layout_len'), layoutLen, le);
    }
    let o = hdrLen;
    for (const r of records) {
      out.set(r, o);
      o += r.byteLength;
    }
    for (const c of this.strChunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    if (this.layout) out.set(this.layout, o);
    return out;
  }

  /** {@link BtfWriter.encode}, parsed (on the same base). */
  toBtf(): Btf {
    return Btf.parse(this.encode(), this.base ? { base: this.base } : {});
  }

  private encodeSpec(spec: BtfTypeSpec, id: number): Uint8Array {
    const kind = kindNumber(spec.kind);
    const count = this.count;
    const ref = (t: number, field: string) => {
      if (t >= count) throw bad(`type ${id}.${field}`, `refers to type ${t}, past the last id ${count - 1}`);
      return t;
    };
    const words: number[] = [];
    let vlen = 0;
    let kflag = spec.kflag ?? false;
    let sizeOrType = 0;
    const str = (s: string | undefined) => (s ? this.addString(s) : 0);
    switch (kind) {
      case BTF_KIND_INT: {
        const i = spec.int as NonNullable<BtfTypeSpec['int']>;
        sizeOrType = spec.size as number;
        words.push(((i.encoding << 24) | ((i.offset ?? 0) << 16) | i.bits) >>> 0);
        break;
      }
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION: {
        const members = spec.members ?? [];
        kflag = spec.kflag ?? members.some((m) => (m.bitfieldSize ?? 0) > 0);
        sizeOrType = spec.size as number;
        vlen = members.length;
        for (const [i, m] of members.entries()) {
          const off = kflag ? (((m.bitfieldSize ?? 0) << 24) | m.bitOffset) >>> 0 : m.bitOffset;
          words.push(str(m.name), ref(m.type, `members[${i}].type`), off);
        }
        break;
      }
      case BTF_KIND_ENUM: {
        const values = spec.values ?? [];
        kflag = spec.kflag ?? values.some((v) => v.value < 0);
        sizeOrType = spec.size as number;
        vlen = values.length;
        for (const v of values) words.push(str(v.name), Number(BigInt.asUintN(32, BigInt(v.value))));
        break;
      }
      case BTF_KIND_ENUM64: {
        const values = spec.values ?? [];
        kflag = spec.kflag ?? values.some((v) => v.value < 0);
        sizeOrType = spec.size as number;
        vlen = values.length;
        for (const v of values) {
          const u = BigInt.asUintN(64, BigInt(v.value));
          words.push(str(v.name), Number(u & 0xffffffffn), Number(u >> 32n));
        }
        break;
      }
      case BTF_KIND_ARRAY: {
        const a = spec.array as NonNullable<BtfTypeSpec['array']>;
        words.push(ref(a.type, 'array.type'), ref(a.indexType, 'array.indexType'), a.nelems);
        break;
      }
      case BTF_KIND_FUNC_PROTO: {
        const params = spec.params ?? [];
        sizeOrType = ref(spec.type ?? 0, 'type');
        vlen = params.length;
        for (const [i, p] of params.entries()) words.push(str(p.name), ref(p.type, `params[${i}].type`));
        break;
      }
      case BTF_KIND_FUNC:
        sizeOrType = ref(spec.type as number, 'type');
        vlen = spec.linkage ?? 0;
        break;
      case BTF_KIND_VAR:
        sizeOrType = ref(spec.type as number, 'type');
        words.push(spec.linkage ?? 0);
        break;
      case BTF_KIND_DATASEC: {
        const vars = spec.vars ?? [];
        sizeOrType = spec.size as number;
        vlen = vars.length;
        for (const [i, v] of vars.entries()) words.push(ref(v.type, `vars[${i}].type`), v.offset, v.size);
        break;
      }
      case BTF_KIND_FLOAT:
        sizeOrType = spec.size as number;
        break;
      case BTF_KIND_DECL_TAG:
        sizeOrType = ref(spec.type as number, 'type');
        words.push((spec.componentIdx ?? -1) >>> 0);
        break;
      case BTF_KIND_FWD:
        break;
      case BTF_KIND_PTR:
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_CONST:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
        sizeOrType = ref(spec.type ?? 0, 'type');
        break;
    }
    if (vlen > 0xffffff) throw bad(`type ${id}`, `vlen ${vlen} too large`);
    const out = new Uint8Array(BtfTypeLayout.size + words.length * 4);
    const dv = new DataView(out.buffer);
    const le = this.littleEndian;
    dv.setUint32(f(BtfTypeLayout, 'name_off'), str(spec.name), le);
    dv.setUint32(f(BtfTypeLayout, 'info'), ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0, le);
    dv.setUint32(f(BtfTypeLayout, 'size'), sizeOrType >>> 0, le);
    for (const [i, w] of words.entries()) dv.setUint32(BtfTypeLayout.size + i * 4, w >>> 0, le);
    return out;
  }
}

/** A frozen shallow copy of a spec (later changes by the caller do not reach the writer). */
function freezeSpec(spec: BtfTypeSpec): BtfTypeSpec {
  return Object.freeze({ ...spec });
}

/** Adds every string of a NUL-separated chunk starting at `base` to `m` (first offset wins). */
function indexChunk(chunk: Uint8Array, base: number, m: Map<string, number>): void {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\0', start);
    if (end < 0) end = text.length;
    const raw = text.slice(start, end);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for non-ASCII bytes
    const s = /[^\x00-\x7f]/.test(raw) ? new TextDecoder().decode(chunk.subarray(start, end)) : raw;
    if (!m.has(s)) m.set(s, base + start);
    start = end + 1;
  }
}

const baseIndexes = new WeakMap<Btf, Map<string, number>>();

/** string → offset over a base BTF's strings (its own base's too), cached per Btf. */
function baseStrings(btf: Btf): Map<string, number> {
  let m = baseIndexes.get(btf);
  if (m) return m;
  m = btf.base ? new Map(baseStrings(btf.base)) : new Map();
  const { strStart, strEnd } = btf.sections;
  const own = new Map<string, number>();
  indexChunk(btf.bytes.subarray(strStart, strEnd), btf.stringBase, own);
  for (const [s, o] of own) if (!m.has(s)) m.set(s, o);
  baseIndexes.set(btf, m);
  return m;
}
