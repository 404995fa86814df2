/**
 * The BTF value codec: bytes of a BTF type ⇄ plain JavaScript values, with the C field names, the
 * way `bpftool map dump` formats them — and bpftool's exact JSON shape beside it where the two
 * differ (see {@link BtfCodec} and {@link BtfCodec.formatBpftool}).
 *
 * The codec is compiled once per (BTF, type id): each type becomes a small node that reads or
 * writes its bytes at an offset, so a map's get/set pays no lookups per call.
 *
 * @module
 */

import {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_DATASEC,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_FLOAT,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_RESTRICT,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPE_TAG,
  BTF_KIND_TYPEDEF,
  BTF_KIND_UNION,
  BTF_KIND_VAR,
  BTF_KIND_VOLATILE,
} from '@bpfjs/uapi/linux/btf';
import { Btf, type BtfTypeInfo } from './btf.js';
import { BtfFormatError, BtfValueError } from './errors.js';

/**
 * A decoded BTF value (the JavaScript shape): numbers for integers up to 32 bits, bigint for
 * 64- and 128-bit integers and pointers, booleans for `_Bool`, enum names (or the number when no
 * enumerator matches), strings for NUL-terminated printable `char` arrays, arrays, and objects
 * keyed by C member names (members of anonymous structs/unions appear in the enclosing object,
 * as C accesses them; unnamed bit-fields are padding and are left out).
 */
export type BtfValue = number | bigint | boolean | string | BtfValue[] | { [member: string]: BtfValue };

/**
 * A value in the shape `bpftool -j map dump` prints in `formatted`: like {@link BtfValue} but
 * bit-fields and 128-bit integers are hex strings (`"0x1d"`, unsigned), anonymous members are
 * nested under the key `""`, `CHAR`-encoded chars are one-character strings, a DATASEC is
 * `{ name: [{ var: value }, ...] }`. Serialize it with {@link stringifyBpftool} (bigints as JSON
 * numbers, as bpftool prints them).
 */
export type BpftoolValue = BtfValue | null;

/** Aggregates nested deeper than this are taken for a loop in the type graph. */
const MAX_NESTING = 64;

interface Node {
  readonly size: number;
  decode(dv: DataView, off: number): BtfValue;
  bpftool(dv: DataView, off: number): BpftoolValue;
  encode(v: unknown, dv: DataView, off: number, path: string): void;
  /** The member names a struct/union node accepts (flattened through anonymous members). */
  readonly members?: ReadonlyMap<string, MemberNode>;
}

interface MemberNode {
  readonly name: string;
  /** Byte offset from the start of the outermost named aggregate this member is flattened into. */
  readonly byteOffset: number;
  readonly node: Node;
  /** Size in bytes this member covers (bit-fields: the bytes its bits touch). */
  readonly span: number;
}

const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v;

const errType = (path: string, want: string, v: unknown) =>
  new BtfValueError('ERR_BPFJS_BTF_VALUE_TYPE', path, `expected ${want}, got ${typeName(v)}`);
const errRange = (path: string, message: string) =>
  new BtfValueError('ERR_BPFJS_BTF_VALUE_RANGE', path, message);

/** An integer from a number or bigint, or throws ERR_BPFJS_BTF_VALUE_TYPE. */
function toBigInt(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw errType(path, 'an integer (number or bigint)', v);
}

function checkRange(n: bigint, bits: number, signed: boolean, path: string): void {
  const lo = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const hi = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  if (n < lo || n > hi) {
    throw errRange(
      path,
      `${n} does not fit ${signed ? 'a signed' : 'an unsigned'} ${bits}-bit integer (${lo}..${hi})`,
    );
  }
}

/** Reads `bits` bits at bit position `bitPos` (little-endian bit order) as an unsigned bigint. */
function readBits(dv: DataView, bitPos: number, bits: number): bigint {
  const first = bitPos >>> 3;
  const shift = bitPos & 7;
  const nbytes = (shift + bits + 7) >>> 3;
  if (nbytes <= 4) {
    let x = 0;
    for (let i = nbytes - 1; i >= 0; i--) x = x * 256 + dv.getUint8(first + i);
    return BigInt(Math.floor(x / 2 ** shift) % 2 ** bits);
  }
  let x = 0n;
  for (let i = nbytes - 1; i >= 0; i--) x = (x << 8n) | BigInt(dv.getUint8(first + i));
  return (x >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
}

/** Writes the low `bits` bits of `value` at bit position `bitPos`, keeping the bits around them. */
function writeBits(dv: DataView, bitPos: number, bits: number, value: bigint): void {
  const first = bitPos >>> 3;
  const shift = BigInt(bitPos & 7);
  const nbytes = ((bitPos & 7) + bits + 7) >>> 3;
  let x = 0n;
  for (let i = nbytes - 1; i >= 0; i--) x = (x << 8n) | BigInt(dv.getUint8(first + i));
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  x = (x & ~mask) | ((BigInt.asUintN(bits, value) << shift) & mask);
  for (let i = 0; i < nbytes; i++) {
    dv.setUint8(first + i, Number(x & 0xffn));
    x >>= 8n;
  }
}

const hex = (n: bigint) => `0x${n.toString(16)}`;

/**
 * Encodes and decodes values of one BTF type (a map's key or value type, a global variable's
 * DATASEC). Decoding never throws for well-formed bytes of the right length; encoding refuses,
 * before any syscall, values that do not fit with a {@link BtfValueError}:
 * `ERR_BPFJS_BTF_VALUE_TYPE` (wrong JavaScript type), `ERR_BPFJS_BTF_VALUE_RANGE` (out of range,
 * too long, unknown enum name, union members that disagree), `ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD`.
 *
 * Encoding accepts what decoding returns, and more: integers as number or bigint, enums as name
 * or number, `char` arrays as a string (UTF-8, with room for its NUL) or an array of numbers,
 * any array of 1-byte integers as a `Uint8Array`; members left out of an object are zero, arrays
 * shorter than the C array are padded with zeros. A union written with several members is
 * written from its largest one, and the others must read back equal.
 */
export class BtfCodec {
  /** The BTF the type lives in. */
  readonly btf: Btf;
  /** The type id this codec is for. */
  readonly typeId: number;
  /** Size of the type in bytes: what {@link BtfCodec.decode} takes and {@link BtfCodec.encode} returns. */
  readonly size: number;
  private readonly root: Node;

  /**
   * Compiles the codec of `typeId`.
   * @throws BtfValueError `ERR_BPFJS_BTF_VALUE_UNSUPPORTED` for a type that has no value (void,
   * functions, forward declarations, floats other than 4 and 8 bytes) or big-endian BTF;
   * BtfLookupError `ERR_BPFJS_BTF_BAD_ID`; BtfFormatError for a loop in the type graph.
   */
  constructor(btf: Btf, typeId: number) {
    if (!(btf instanceof Btf)) {
      throw Object.assign(new TypeError('BtfCodec expects a Btf'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    if (!btf.littleEndian) {
      throw new BtfValueError(
        'ERR_BPFJS_BTF_VALUE_UNSUPPORTED',
        'value',
        'values of big-endian BTF are not supported',
      );
    }
    this.btf = btf;
    this.typeId = typeId;
    this.root = new Compiler(btf).node(typeId, 0, 'value');
    this.size = this.root.size;
  }

  /**
   * Decodes `bytes` (exactly {@link BtfCodec.size} long) to the JavaScript shape.
   * @throws BtfValueError `ERR_BPFJS_BTF_VALUE_SIZE` for bytes of another length.
   */
  decode(bytes: Uint8Array): BtfValue {
    return this.root.decode(this.view(bytes), 0);
  }

  /**
   * Decodes `bytes` to bpftool's `formatted` shape (see {@link BpftoolValue}); serialize with
   * {@link stringifyBpftool} to get the text `bpftool -j map dump` prints.
   * @throws BtfValueError `ERR_BPFJS_BTF_VALUE_SIZE` for bytes of another length.
   */
  formatBpftool(bytes: Uint8Array): BpftoolValue {
    return this.root.bpftool(this.view(bytes), 0);
  }

  /**
   * Encodes a value into a new zero-filled buffer of {@link BtfCodec.size} bytes.
   * @throws BtfValueError for a value that does not fit (see the class comment).
   */
  encode(value: unknown): Uint8Array {
    const out = new Uint8Array(this.size);
    this.root.encode(value, new DataView(out.buffer), 0, 'value');
    return out;
  }

  /**
   * Encodes a value into `out` at `offset` (for batch and per-CPU buffers). The bytes are written
   * only when the whole value encodes: on an error `out` is unchanged.
   * @throws BtfValueError for a value that does not fit; RangeError `ERR_OUT_OF_RANGE` when
   * `out` has no room at `offset`.
   */
  encodeInto(value: unknown, out: Uint8Array, offset = 0): void {
    if (!(out instanceof Uint8Array)) throw errType('out', 'a Uint8Array', out);
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > out.byteLength) {
      throw Object.assign(
        new RangeError(`no room for ${this.size} bytes at offset ${offset} of ${out.byteLength}`),
        {
          code: 'ERR_OUT_OF_RANGE',
        },
      );
    }
    out.set(this.encode(value), offset);
  }

  private view(bytes: Uint8Array): DataView {
    if (!(bytes instanceof Uint8Array)) throw errType('bytes', 'a Uint8Array', bytes);
    if (bytes.byteLength !== this.size) {
      throw new BtfValueError(
        'ERR_BPFJS_BTF_VALUE_SIZE',
        'bytes',
        `expected ${this.size} bytes, got ${bytes.byteLength}`,
      );
    }
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

/**
 * Serializes a {@link BpftoolValue} as compact JSON the way bpftool's JSON writer does: bigints
 * as bare numbers, control characters and bytes 0x7f-0xff as `\u00XX` (bpftool prints those only
 * for `CHAR`-encoded chars, that way). (bpftool 7.1's writer prints a
 * backslash inside a string as `\n`, a bug this does not copy: it writes `\\`.)
 */
export function stringifyBpftool(value: BpftoolValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return quote(value);
    default:
      if (Array.isArray(value)) return `[${value.map((v) => stringifyBpftool(v)).join(',')}]`;
      return `{${Object.entries(value)
        .map(([k, v]) => `${quote(k)}:${stringifyBpftool(v)}`)
        .join(',')}}`;
  }
}

function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c < 0x20 || (c >= 0x7f && c <= 0xff)) out += `\\u00${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Builds the nodes of one BTF's types (memoized per id). */
class Compiler {
  private readonly done = new Map<number, Node>();
  private readonly busy = new Set<number>();
  constructor(private readonly btf: Btf) {}

  node(id: number, depth: number, path: string): Node {
    const hit = this.done.get(id);
    if (hit) return hit;
    if (depth > MAX_NESTING || this.busy.has(id))
      throw new BtfFormatError('type contains itself (a loop)', id);
    this.busy.add(id);
    try {
      const n = this.build(id, depth, path);
      this.done.set(id, n);
      return n;
    } finally {
      this.busy.delete(id);
    }
  }

  private build(id: number, depth: number, path: string): Node {
    const t = this.btf.type(id);
    switch (t.kind) {
      case BTF_KIND_TYPEDEF:
      case BTF_KIND_CONST:
      case BTF_KIND_VOLATILE:
      case BTF_KIND_RESTRICT:
      case BTF_KIND_TYPE_TAG:
      case BTF_KIND_VAR:
        return this.node(t.type as number, depth + 1, path);
      case BTF_KIND_INT:
        return this.int(t, path);
      case BTF_KIND_PTR:
        return this.ptr();
      case BTF_KIND_ENUM:
      case BTF_KIND_ENUM64:
        return this.enumNode(t);
      case BTF_KIND_FLOAT:
        return this.float(t, path);
      case BTF_KIND_ARRAY:
        return this.array(t, depth, path);
      case BTF_KIND_STRUCT:
      case BTF_KIND_UNION:
        return this.aggregate(t, depth, path);
      case BTF_KIND_DATASEC:
        return this.datasec(t, depth, path);
      default:
        throw new BtfValueError(
          'ERR_BPFJS_BTF_VALUE_UNSUPPORTED',
          path,
          `${this.btf.describe(id)} has no value (only data types can be encoded)`,
        );
    }
  }

  private int(t: BtfTypeInfo, path: string): Node {
    const size = t.size as number;
    const { encoding, offset, bits } = t.int as NonNullable<BtfTypeInfo['int']>;
    const signed = (encoding & BTF_INT_SIGNED) !== 0;
    if (bits === 0 || bits > size * 8 || offset + bits > size * 8 || size > 16) {
      throw new BtfValueError(
        'ERR_BPFJS_BTF_VALUE_UNSUPPORTED',
        path,
        `${this.btf.describe(t.id)}: ${bits} bits in ${size} bytes`,
      );
    }
    if (offset !== 0 || bits !== size * 8) {
      // an INT narrower than its storage (old-style bit-field type)
      return bitfieldNode(size, offset, bits, signed, undefined, false);
    }
    if (encoding === BTF_INT_BOOL) {
      return {
        size,
        decode: (dv, off) => dv.getUint8(off) !== 0,
        bpftool: (dv, off) => dv.getUint8(off) !== 0,
        encode: (v, dv, off, p) => {
          if (typeof v === 'boolean') dv.setUint8(off, v ? 1 : 0);
          else if (v === 0 || v === 1 || v === 0n || v === 1n) dv.setUint8(off, Number(v));
          else throw errType(p, 'a boolean', v);
        },
      };
    }
    const char = encoding === BTF_INT_CHAR;
    const read = intReader(size, signed);
    const write = intWriter(size);
    return {
      size,
      decode: read,
      bpftool: (dv, off) => {
        // bpftool prints widths other than 8/16/32/64 bits (__int128) as unsigned hex
        if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
          return hex(BigInt.asUintN(bits, BigInt(read(dv, off))));
        if (!char) return read(dv, off);
        // bpftool: a printable char as itself, anything else as "\u00XX"
        return String.fromCharCode(dv.getUint8(off));
      },
      encode: (v, dv, off, p) => {
        const n = toBigInt(v, p);
        checkRange(n, bits, signed, p);
        write(dv, off, n);
      },
    };
  }

  private ptr(): Node {
    return {
      size: 8,
      decode: (dv, off) => dv.getBigUint64(off, true),
      bpftool: (dv, off) => dv.getBigUint64(off, true),
      encode: (v, dv, off, p) => {
        const n = toBigInt(v, p);
        checkRange(n, 64, false, p);
        dv.setBigUint64(off, n, true);
      },
    };
  }

  private enumNode(t: BtfTypeInfo): Node {
    const size = t.size as number;
    const is64 = t.kind === BTF_KIND_ENUM64;
    const signed = t.kflag;
    const { byValue, byName } = enumMaps(t);
    if (![1, 2, 4, 8].includes(size)) {
      throw new BtfValueError(
        'ERR_BPFJS_BTF_VALUE_UNSUPPORTED',
        'value',
        `${this.btf.describe(t.id)}: size ${size}`,
      );
    }
    const readS = intReader(size, true);
    const readU = intReader(size, false);
    const write = intWriter(size);
    // the value as the enum means it (signedness from kind_flag)
    const raw = (dv: DataView, off: number) => BigInt((signed ? readS : readU)(dv, off) as number | bigint);
    const asValue = (n: bigint): BtfValue => (is64 ? n : Number(n));
    return {
      size,
      decode: (dv, off) => {
        const n = raw(dv, off);
        return byValue.get(n) ?? asValue(n);
      },
      bpftool: (dv, off) => {
        if (is64) {
          // bpftool reads 64 bits, compares them with each enumerator and prints a miss signed
          // (jsonw_int), whatever the kind_flag says
          const u = size === 8 ? dv.getBigUint64(off, true) : BigInt(readU(dv, off));
          for (const [v, name] of byValue) if (BigInt.asUintN(64, v) === u) return name;
          return BigInt.asIntN(64, u);
        }
        // bpftool reads enums as signed of their size and compares with the s32 enumerator
        const s = BigInt(readS(dv, off) as number | bigint);
        for (const [v, name] of byValue) if (BigInt.asIntN(32, v) === s) return name;
        return Number(s);
      },
      encode: (v, dv, off, p) => {
        let n: bigint;
        if (typeof v === 'string') {
          const hit = byName.get(v);
          if (hit === undefined)
            throw errRange(p, `'${v}' is not an enumerator of ${this.btf.describe(t.id)}`);
          n = hit;
        } else n = toBigInt(v, p);
        const lo = -(1n << BigInt(size * 8 - 1));
        const hi = (1n << BigInt(size * 8)) - 1n;
        if (n < lo || n > hi)
          throw errRange(p, `${n} does not fit the ${size}-byte ${this.btf.describe(t.id)}`);
        write(dv, off, n);
      },
    };
  }

  private float(t: BtfTypeInfo, path: string): Node {
    const size = t.size as number;
    if (size !== 4 && size !== 8) {
      throw new BtfValueError(
        'ERR_BPFJS_BTF_VALUE_UNSUPPORTED',
        path,
        `${this.btf.describe(t.id)}: ${size}-byte floats`,
      );
    }
    const get = (dv: DataView, off: number) =>
      size === 4 ? dv.getFloat32(off, true) : dv.getFloat64(off, true);
    return {
      size,
      decode: get,
      // bpftool (7.1) cannot format FLOAT (it prints "(unsupported-kind" and stops): a number here
      bpftool: get,
      encode: (v, dv, off, p) => {
        if (typeof v !== 'number') throw errType(p, 'a number', v);
        if (size === 4) {
          if (Number.isFinite(v) && Math.abs(v) > 3.4028234663852886e38)
            throw errRange(p, `${v} does not fit a float`);
          dv.setFloat32(off, v, true);
        } else dv.setFloat64(off, v, true);
      },
    };
  }

  private array(t: BtfTypeInfo, depth: number, path: string): Node {
    const a = t.array as NonNullable<BtfTypeInfo['array']>;
    const elem = this.node(a.type, depth + 1, `${path}[]`);
    const n = a.nelems;
    const esz = elem.size;
    const size = esz * n;
    // bpftool's is_str_array: elements (through const/volatile/restrict/type tags, not typedefs)
    // are 1-byte INTs named "char" or with the CHAR encoding
    let e = this.btf.type(a.type);
    for (
      let i = 0;
      i <= 32 && [BTF_KIND_CONST, BTF_KIND_VOLATILE, BTF_KIND_RESTRICT, BTF_KIND_TYPE_TAG].includes(e.kind);
      i++
    ) {
      e = this.btf.type(e.type as number);
    }
    const charArray =
      n > 0 &&
      e.kind === BTF_KIND_INT &&
      e.size === 1 &&
      ((e.int?.encoding ?? 0) & BTF_INT_CHAR || e.name === 'char');
    const byteElems = esz === 1 && this.btf.type(this.btf.resolve(a.type)).kind === BTF_KIND_INT;
    const asString = (dv: DataView, off: number): string | undefined => {
      if (!charArray) return undefined;
      let s = '';
      for (let i = 0; i < n; i++) {
        const c = dv.getUint8(off + i);
        if (c === 0) return s;
        if (c <= 0x1f || c >= 0x7f) return undefined;
        s += String.fromCharCode(c);
      }
      return undefined;
    };
    return {
      size,
      decode: (dv, off) => {
        const s = asString(dv, off);
        if (s !== undefined) return s;
        const out: BtfValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = elem.decode(dv, off + i * esz);
        return out;
      },
      bpftool: (dv, off) => {
        const s = asString(dv, off);
        if (s !== undefined) return s;
        const out: BpftoolValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = elem.bpftool(dv, off + i * esz);
        return out as BtfValue[];
      },
      encode: (v, dv, off, p) => {
        if (typeof v === 'string') {
          if (!charArray) throw errType(p, 'an array', v);
          const bytes = new TextEncoder().encode(v);
          if (bytes.includes(0)) throw errRange(p, 'a C string cannot contain NUL');
          if (bytes.byteLength > n - 1)
            throw errRange(p, `${bytes.byteLength} bytes do not fit char[${n}] with its NUL`);
          for (let i = 0; i < bytes.byteLength; i++) dv.setUint8(off + i, bytes[i] as number);
          return;
        }
        if (v instanceof Uint8Array && byteElems) {
          if (v.byteLength > n) throw errRange(p, `${v.byteLength} bytes do not fit [${n}]`);
          for (let i = 0; i < v.byteLength; i++) dv.setUint8(off + i, v[i] as number);
          return;
        }
        if (!Array.isArray(v)) throw errType(p, charArray ? 'a string or an array' : 'an array', v);
        if (v.length > n) throw errRange(p, `${v.length} elements do not fit [${n}]`);
        for (let i = 0; i < v.length; i++) elem.encode(v[i], dv, off + i * esz, `${p}[${i}]`);
      },
    };
  }

  private aggregate(t: BtfTypeInfo, depth: number, path: string): Node {
    const isUnion = t.kind === BTF_KIND_UNION;
    const size = t.size as number;
    /** Every member name a value may use: direct ones and those of anonymous members, flattened. */
    const members = new Map<string, MemberNode>();
    /** The direct members (bpftool's view: anonymous ones under ""); unnamed bit-fields are padding. */
    const direct: { name: string; byteOffset: number; node: Node }[] = [];
    for (const m of t.members ?? []) {
      const mpath = m.name ? `${path}.${m.name}` : path;
      const bf = this.btf.bitfield(m);
      let node: Node;
      let byteOffset: number;
      if (bf) {
        const storage = this.btf.type(this.btf.resolve(m.type));
        const enumType =
          storage.kind === BTF_KIND_ENUM || storage.kind === BTF_KIND_ENUM64 ? storage : undefined;
        const bool = storage.kind === BTF_KIND_INT && storage.int?.encoding === BTF_INT_BOOL;
        byteOffset = bf.bitOffset >>> 3;
        const span = ((bf.bitOffset & 7) + bf.bits + 7) >>> 3;
        node = bitfieldNode(span, bf.bitOffset & 7, bf.bits, bf.signed, enumType, bool);
      } else {
        if (m.bitOffset % 8 !== 0) {
          throw new BtfValueError(
            'ERR_BPFJS_BTF_VALUE_UNSUPPORTED',
            mpath,
            `member at bit ${m.bitOffset} is not byte aligned`,
          );
        }
        byteOffset = m.bitOffset / 8;
        node = this.node(m.type, depth + 1, mpath);
      }
      if (byteOffset + node.size > size) {
        throw new BtfFormatError(`member ${m.name || '(anon)'} ends past the size ${size}`, t.id);
      }
      direct.push({ name: m.name, byteOffset, node });
      if (m.name) members.set(m.name, { name: m.name, byteOffset, node, span: node.size });
      else if (node.members) {
        // an anonymous struct/union: its members are accessed as the enclosing type's, as in C
        for (const inner of node.members.values()) {
          members.set(inner.name, { ...inner, byteOffset: byteOffset + inner.byteOffset });
        }
      }
    }
    const what = this.btf.describe(t.id);
    /** The direct members a value gives, each with its value (a sub-object for an anonymous one). */
    const givenOf = (v: Record<string, unknown>, p: string) => {
      for (const key of Object.keys(v)) {
        if (!members.has(key)) {
          throw new BtfValueError(
            'ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD',
            `${p}.${key}`,
            `${what} has no member '${key}'`,
          );
        }
      }
      const given: { d: (typeof direct)[number]; value: unknown; path: string }[] = [];
      for (const d of direct) {
        if (d.name) {
          if (v[d.name] !== undefined) given.push({ d, value: v[d.name], path: `${p}.${d.name}` });
        } else if (d.node.members) {
          const sub: Record<string, unknown> = {};
          let any = false;
          for (const k of d.node.members.keys()) {
            if (v[k] !== undefined) {
              sub[k] = v[k];
              any = true;
            }
          }
          if (any) given.push({ d, value: sub, path: p });
        }
      }
      return given;
    };
    return {
      size,
      members,
      decode: (dv, off) => {
        const out: { [k: string]: BtfValue } = {};
        for (const m of members.values()) out[m.name] = m.node.decode(dv, off + m.byteOffset);
        return out;
      },
      bpftool: (dv, off) => {
        const out: { [k: string]: BpftoolValue } = {};
        for (const m of direct) out[m.name] = m.node.bpftool(dv, off + m.byteOffset);
        return out as BtfValue;
      },
      encode: (v, dv, off, p) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) {
          throw errType(p, `an object (${what})`, v);
        }
        const given = givenOf(v as Record<string, unknown>, p);
        if (!isUnion) {
          for (const g of given) g.d.node.encode(g.value, dv, off + g.d.byteOffset, g.path);
          return;
        }
        if (given.length === 0) return;
        // a union given several members (a decoded union names them all): write one — the largest
        // that the others agree with — then each other one must leave the bytes as they are
        const saved = new Uint8Array(dv.buffer, dv.byteOffset + off, size).slice();
        const order = [...given].sort((a, b) => b.d.node.size - a.d.node.size);
        let disagreement: BtfValueError | undefined;
        for (const first of order) {
          new Uint8Array(dv.buffer, dv.byteOffset + off, size).set(saved);
          first.d.node.encode(first.value, dv, off + first.d.byteOffset, first.path);
          const bytes = new Uint8Array(dv.buffer, dv.byteOffset + off, size);
          const other = given.find((g) => {
            if (g === first) return false;
            const scratch = bytes.slice();
            g.d.node.encode(g.value, new DataView(scratch.buffer), g.d.byteOffset, g.path);
            return Buffer.compare(scratch, bytes) !== 0;
          });
          if (!other) return;
          disagreement ??= errRange(
            other.path,
            `union members ${first.d.name || '(anon)'} and ${other.d.name || '(anon)'} give different bytes: give one`,
          );
        }
        throw disagreement;
      },
    };
  }

  private datasec(t: BtfTypeInfo, depth: number, path: string): Node {
    const size = t.size as number;
    const vars: { name: string; offset: number; node: Node }[] = [];
    const members = new Map<string, MemberNode>();
    for (const v of t.vars ?? []) {
      const vt = this.btf.type(v.type);
      const name = vt.name;
      const node = this.node(v.type, depth + 1, `${path}.${name}`);
      if (v.offset + node.size > size)
        throw new BtfFormatError(`variable ${name} ends past the section size ${size}`, t.id);
      vars.push({ name, offset: v.offset, node });
      members.set(name, { name, byteOffset: v.offset, node, span: node.size });
    }
    return {
      size,
      members,
      decode: (dv, off) => {
        const out: { [k: string]: BtfValue } = {};
        for (const v of vars) out[v.name] = v.node.decode(dv, off + v.offset);
        return out;
      },
      // bpftool: { "<section>": [ { "<var>": value }, ... ] }
      bpftool: (dv, off) => ({
        [t.name]: vars.map((v) => ({ [v.name]: v.node.bpftool(dv, off + v.offset) })) as BtfValue[],
      }),
      encode: (v, dv, off, p) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v))
          throw errType(p, `an object (${t.name})`, v);
        for (const key of Object.keys(v)) {
          const m = members.get(key);
          if (!m)
            throw new BtfValueError(
              'ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD',
              `${p}.${key}`,
              `${t.name} has no variable '${key}'`,
            );
          const x = (v as Record<string, unknown>)[key];
          if (x !== undefined) m.node.encode(x, dv, off + m.byteOffset, `${p}.${key}`);
        }
      },
    };
  }
}

/** An enum's enumerators by value and by name (the first of duplicates wins). */
function enumMaps(t: BtfTypeInfo | undefined): { byValue: Map<bigint, string>; byName: Map<string, bigint> } {
  const byValue = new Map<bigint, string>();
  const byName = new Map<string, bigint>();
  for (const e of t?.values ?? []) {
    const v = BigInt(e.value);
    if (!byValue.has(v)) byValue.set(v, e.name);
    if (!byName.has(e.name)) byName.set(e.name, v);
  }
  return { byValue, byName };
}

/** A reader of a `size`-byte little-endian integer: number up to 4 bytes, bigint above. */
function intReader(size: number, signed: boolean): (dv: DataView, off: number) => number | bigint {
  switch (size) {
    case 1:
      return signed ? (dv, off) => dv.getInt8(off) : (dv, off) => dv.getUint8(off);
    case 2:
      return signed ? (dv, off) => dv.getInt16(off, true) : (dv, off) => dv.getUint16(off, true);
    case 4:
      return signed ? (dv, off) => dv.getInt32(off, true) : (dv, off) => dv.getUint32(off, true);
    case 8:
      return signed ? (dv, off) => dv.getBigInt64(off, true) : (dv, off) => dv.getBigUint64(off, true);
    default: {
      const bits = size * 8;
      return (dv, off) => {
        const u = readBits(dv, off * 8, bits);
        return signed ? BigInt.asIntN(bits, u) : u;
      };
    }
  }
}

/** A writer of a `size`-byte little-endian integer (value already range-checked). */
function intWriter(size: number): (dv: DataView, off: number, n: bigint) => void {
  switch (size) {
    case 1:
      return (dv, off, n) => dv.setUint8(off, Number(BigInt.asUintN(8, n)));
    case 2:
      return (dv, off, n) => dv.setUint16(off, Number(BigInt.asUintN(16, n)), true);
    case 4:
      return (dv, off, n) => dv.setUint32(off, Number(BigInt.asUintN(32, n)), true);
    case 8:
      return (dv, off, n) => dv.setBigUint64(off, BigInt.asUintN(64, n), true);
    default:
      return (dv, off, n) => writeBits(dv, off * 8, size * 8, n);
  }
}

/**
 * A bit-field node covering `span` bytes from its offset, its bits starting `shift` bits in.
 * Values are numbers up to 32 bits wide and bigint above; enum bit-fields decode to names,
 * `_Bool` ones to booleans. bpftool prints every bit-field as unsigned hex.
 */
function bitfieldNode(
  span: number,
  shift: number,
  bits: number,
  signed: boolean,
  enumType: BtfTypeInfo | undefined,
  bool: boolean,
): Node {
  const wide = bits > 32;
  const { byValue: names, byName } = enumMaps(enumType);
  const value = (dv: DataView, off: number): bigint => {
    const u = readBits(dv, off * 8 + shift, bits);
    return signed ? BigInt.asIntN(bits, u) : u;
  };
  return {
    size: span,
    decode: (dv, off) => {
      const n = value(dv, off);
      if (bool) return n !== 0n;
      if (enumType) return names.get(n) ?? (wide ? n : Number(n));
      return wide ? n : Number(n);
    },
    bpftool: (dv, off) => hex(readBits(dv, off * 8 + shift, bits)),
    encode: (v, dv, off, p) => {
      let n: bigint;
      if (bool && typeof v === 'boolean') n = v ? 1n : 0n;
      else if (enumType && typeof v === 'string') {
        const hit = byName.get(v);
        if (hit === undefined)
          throw errRange(p, `'${v}' is not an enumerator of ${enumType.name || 'the enum'}`);
        n = hit;
      } else n = toBigInt(v, p);
      checkRange(n, bits, signed, p);
      writeBits(dv, off * 8 + shift, bits, n);
    },
  };
}
