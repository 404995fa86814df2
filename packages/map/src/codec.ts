/**
 * Codecs: how keys and values travel between JavaScript and the map's bytes. A codec writes a
 * value into a slot of a buffer the map owns and reads one back, checking the value first
 * (type, range, length) so that nothing wrong reaches the kernel.
 *
 * @module
 */

import type { BtfValue } from '@bpfjs/btf';
import { BpfjsRangeError, BpfjsTypeError, errInvalidArgType, errOutOfRange } from '@bpfjs/sys';
import type { FieldLayout, TypeLayout } from '@bpfjs/uapi';

/**
 * A codec in its working form: `write` puts `value` into `bytes`/`view` at `offset` (exactly
 * `size` bytes, the map's key or value size) and throws a typed error for a value that does not
 * fit; `read` decodes the slot. `size` is the size the codec needs (`undefined`: any).
 */
export interface Codec<T> {
  /** A short name for messages (`'u32'`, `'string(16)'`, `'bytes'`, ...). */
  readonly name: string;
  /** The byte size this codec encodes to; `undefined` when it adapts to the map's size. */
  readonly size: number | undefined;
  /** Encodes `value` into `size` bytes at `offset`; `what` names the argument in errors. */
  write(view: DataView, bytes: Uint8Array, offset: number, size: number, value: T, what: string): void;
  /** Decodes the `size` bytes at `offset`. */
  read(view: DataView, bytes: Uint8Array, offset: number, size: number): T;
}

/**
 * The values of fd-valued maps (`value: 'fd'`): written as anything that has a descriptor (an
 * `Fd`, a number, a `Program`/`BpfMap`, a Node socket), read back as what the kernel returns to
 * user space (a program or map id as a number, a socket cookie as a bigint).
 */
export type FdValue = number | bigint | object;

/** The codec name of fd-valued maps (see {@link FdValue}); encoding is done by the map itself. */
export const fdCodec: Codec<FdValue> = {
  name: 'fd',
  size: undefined,
  write() {
    throw new BpfjsTypeError('ERR_INVALID_ARG_VALUE', "the 'fd' codec is for fd-valued maps only");
  },
  read() {
    throw new BpfjsTypeError('ERR_INVALID_ARG_VALUE', "the 'fd' codec is for fd-valued maps only");
  },
};

/**
 * The codec name of keys/values typed by the map's BTF (`'btf'`): replaced by a `BtfCodec` once
 * the map's BTF is known (`BpfMap.create` with `btf`, or the map info of an opened map).
 * @internal
 */
export const btfPlaceholder: Codec<BtfValue> = {
  name: 'btf',
  size: undefined,
  write() {
    throw new BpfjsTypeError('ERR_BPFJS_MAP_NO_BTF', "the 'btf' codec needs a map with BTF");
  },
  read() {
    throw new BpfjsTypeError('ERR_BPFJS_MAP_NO_BTF', "the 'btf' codec needs a map with BTF");
  },
};

/** A user codec: bytes in, bytes out. `size`, when given, is checked against the map. */
export interface CustomCodec<T> {
  /** Encodes a value to exactly the map's key/value size in bytes. */
  encode(value: T): Uint8Array;
  /** Decodes the bytes of one key/value (a copy the codec may keep). */
  decode(bytes: Uint8Array): T;
  /** The size in bytes, if fixed. */
  readonly size?: number;
}

/** The names of the integer codecs. */
export type IntCodecName = 'u8' | 'u16' | 'u32' | 's8' | 's16' | 's32';
/** The names of the 64-bit integer codecs (values are `bigint`). */
export type BigIntCodecName = 'u64' | 's64';

/**
 * What `key` and `value` options accept: `'bytes'` (the default: `Uint8Array`), an integer
 * name (`'u8'`…`'u64'`, `'s8'`…`'s64'`; 64-bit ones as `bigint`), `{ string: n }` (a NUL-padded
 * UTF-8 string in n bytes), `{ struct: layout }` (a layout like the uapi ones → a plain object),
 * a {@link CustomCodec}, or a ready {@link Codec}.
 */
export type CodecSpec<T = unknown> =
  | 'bytes'
  | 'fd'
  | 'btf'
  | IntCodecName
  | BigIntCodecName
  | { readonly string: number }
  | { readonly struct: TypeLayout }
  | CustomCodec<T>
  | Codec<T>;

/** The JavaScript type a {@link CodecSpec} encodes and decodes. */
export type CodecValue<S> = S extends 'bytes'
  ? Uint8Array
  : S extends 'fd'
    ? FdValue
    : S extends 'btf'
      ? BtfValue
      : S extends IntCodecName
        ? number
        : S extends BigIntCodecName
          ? bigint
          : S extends { readonly string: number }
            ? string
            : S extends { readonly struct: TypeLayout }
              ? Record<string, unknown>
              : S extends CustomCodec<infer T>
                ? T
                : S extends Codec<infer T>
                  ? T
                  : Uint8Array;

function errSize(what: string, expected: number, actual: number): BpfjsRangeError {
  return errOutOfRange(`${what}.byteLength`, `${expected} (the map's size)`, actual);
}

/** `Uint8Array` of exactly the map's size; reads copy. */
export const bytesCodec: Codec<Uint8Array> = {
  name: 'bytes',
  size: undefined,
  write(_view, bytes, offset, size, value, what) {
    if (!(value instanceof Uint8Array)) throw errInvalidArgType(what, 'an instance of Uint8Array', value);
    if (value.byteLength !== size) throw errSize(what, size, value.byteLength);
    bytes.set(value, offset);
  },
  read(_view, bytes, offset, size) {
    return bytes.slice(offset, offset + size);
  },
};

function intCodec(name: IntCodecName, size: number, min: number, max: number): Codec<number> {
  const setters: Record<IntCodecName, (v: DataView, o: number, x: number) => void> = {
    u8: (v, o, x) => v.setUint8(o, x),
    s8: (v, o, x) => v.setInt8(o, x),
    u16: (v, o, x) => v.setUint16(o, x, true),
    s16: (v, o, x) => v.setInt16(o, x, true),
    u32: (v, o, x) => v.setUint32(o, x, true),
    s32: (v, o, x) => v.setInt32(o, x, true),
  };
  const getters: Record<IntCodecName, (v: DataView, o: number) => number> = {
    u8: (v, o) => v.getUint8(o),
    s8: (v, o) => v.getInt8(o),
    u16: (v, o) => v.getUint16(o, true),
    s16: (v, o) => v.getInt16(o, true),
    u32: (v, o) => v.getUint32(o, true),
    s32: (v, o) => v.getInt32(o, true),
  };
  const set = setters[name];
  const get = getters[name];
  return {
    name,
    size,
    write(view, _bytes, offset, _size, value, what) {
      if (typeof value !== 'number') throw errInvalidArgType(what, 'of type number', value);
      if (!Number.isInteger(value) || value < min || value > max) {
        throw errOutOfRange(what, `an integer >= ${min} and <= ${max} (${name})`, value);
      }
      set(view, offset, value);
    },
    read(view, _bytes, offset) {
      return get(view, offset);
    },
  };
}

function bigIntCodec(name: BigIntCodecName): Codec<bigint> {
  const signed = name === 's64';
  const min = signed ? -(1n << 63n) : 0n;
  const max = signed ? (1n << 63n) - 1n : (1n << 64n) - 1n;
  return {
    name,
    size: 8,
    write(view, _bytes, offset, _size, value, what) {
      let v: bigint;
      if (typeof value === 'bigint') v = value;
      else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
      else throw errInvalidArgType(what, 'of type bigint (or a safe integer number)', value);
      if (v < min || v > max) throw errOutOfRange(what, `>= ${min} and <= ${max} (${name})`, value);
      if (signed) view.setBigInt64(offset, v, true);
      else view.setBigUint64(offset, v, true);
    },
    read(view, _bytes, offset) {
      return signed ? view.getBigInt64(offset, true) : view.getBigUint64(offset, true);
    },
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-padded UTF-8 string in `size` bytes (a C `char[size]`); longer strings are refused. */
export function stringCodec(size: number): Codec<string> {
  if (!Number.isInteger(size) || size < 1) throw errOutOfRange('string', 'an integer >= 1', size);
  return {
    name: `string(${size})`,
    size,
    write(_view, bytes, offset, slot, value, what) {
      if (typeof value !== 'string') throw errInvalidArgType(what, 'of type string', value);
      const b = encoder.encode(value);
      if (b.byteLength > slot) throw errOutOfRange(`${what} (UTF-8 bytes)`, `at most ${slot}`, b.byteLength);
      if (b.includes(0)) throw new BpfjsTypeError('ERR_INVALID_ARG_VALUE', `${what} must not contain NUL`);
      bytes.fill(0, offset, offset + slot);
      bytes.set(b, offset);
    },
    read(_view, bytes, offset, slot) {
      const s = bytes.subarray(offset, offset + slot);
      const end = s.indexOf(0);
      return decoder.decode(end < 0 ? s : s.subarray(0, end));
    },
  };
}

const INT_FIELD: Record<string, Codec<number> | Codec<bigint>> = {};

/**
 * A struct described like the uapi layouts (`{ size, fields: { name: { offset, size, kind,
 * count? } } }`) ⇄ a plain object with one property per top-level field: integers as numbers
 * (64-bit as bigint), `char` arrays as strings, other arrays as arrays, nested structs as
 * objects. Fields missing from an encoded object are zero; unknown properties are refused.
 */
export function structCodec(layout: TypeLayout): Codec<Record<string, unknown>> {
  if (typeof layout !== 'object' || layout === null || typeof layout.size !== 'number') {
    throw errInvalidArgType('struct', 'a layout ({ size, fields })', layout);
  }
  // Top-level fields only: dotted paths belong to nested members, decoded through their parent.
  const fields = Object.entries(layout.fields as Record<string, FieldLayout>).filter(
    ([k]) => !k.includes('.'),
  );
  const nested = (prefix: string): TypeLayout => {
    const sub: Record<string, FieldLayout> = {};
    const base = (layout.fields as Record<string, FieldLayout>)[prefix]!;
    for (const [k, f] of Object.entries(layout.fields as Record<string, FieldLayout>)) {
      if (k.startsWith(`${prefix}.`))
        sub[k.slice(prefix.length + 1)] = { ...f, offset: f.offset - base.offset };
    }
    return { name: prefix, kind: 'struct', size: base.size, align: 1, fields: sub };
  };
  const parts = fields.map(([name, f]) => ({ name, f, codec: fieldCodec(name, f, nested) }));
  const known = new Set(fields.map(([k]) => k));
  return {
    name: `struct ${layout.name}`,
    size: layout.size,
    write(view, bytes, offset, size, value, what) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw errInvalidArgType(what, 'an object', value);
      }
      for (const k of Object.keys(value)) {
        if (!known.has(k))
          throw new BpfjsTypeError('ERR_INVALID_ARG_VALUE', `${what}.${k} is not a field of ${layout.name}`);
      }
      bytes.fill(0, offset, offset + size);
      for (const { name, f, codec } of parts) {
        const v = (value as Record<string, unknown>)[name];
        if (v === undefined) continue;
        codec.write(view, bytes, offset + f.offset, f.size, v as never, `${what}.${name}`);
      }
    },
    read(view, bytes, offset) {
      const out: Record<string, unknown> = {};
      for (const { name, f, codec } of parts) out[name] = codec.read(view, bytes, offset + f.offset, f.size);
      return out;
    },
  };
}

function fieldCodec(name: string, f: FieldLayout, nested: (prefix: string) => TypeLayout): Codec<unknown> {
  if (f.kind === 'char') return stringCodec(f.size) as Codec<unknown>;
  if (f.kind === 'struct' || f.kind === 'union') return structCodec(nested(name)) as Codec<unknown>;
  const kind = f.kind === 'enum' ? (f.size === 8 ? 'u64' : 'u32') : f.kind === 'ptr' ? 'u64' : f.kind;
  const one = resolveCodec(kind as IntCodecName) as Codec<unknown>;
  if (f.count === undefined || f.count <= 1) return one;
  const count = f.count;
  const each = f.size / count;
  return {
    name: `${one.name}[${count}]`,
    size: f.size,
    write(view, bytes, offset, _size, value, what) {
      if (!Array.isArray(value) || value.length > count) {
        throw errInvalidArgType(what, `an array of at most ${count} elements`, value);
      }
      value.forEach((v, i) => {
        one.write(view, bytes, offset + i * each, each, v, `${what}[${i}]`);
      });
    },
    read(view, bytes, offset) {
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) out.push(one.read(view, bytes, offset + i * each, each));
      return out;
    },
  };
}

function isCodec(x: object): x is Codec<unknown> {
  return (
    typeof (x as Codec<unknown>).write === 'function' && typeof (x as Codec<unknown>).read === 'function'
  );
}

function customCodec<T>(c: CustomCodec<T>): Codec<T> {
  const size = c.size;
  return {
    name: 'custom',
    size,
    write(_view, bytes, offset, slot, value, what) {
      const b = c.encode(value);
      if (!(b instanceof Uint8Array))
        throw errInvalidArgType(`${what} (encode() result)`, 'an instance of Uint8Array', b);
      if (b.byteLength !== slot) throw errSize(`${what} (encode() result)`, slot, b.byteLength);
      bytes.set(b, offset);
    },
    read(_view, bytes, offset, slot) {
      return c.decode(bytes.slice(offset, offset + slot));
    },
  };
}

/**
 * Turns a {@link CodecSpec} into a {@link Codec}.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for anything else.
 */
export function resolveCodec<S extends CodecSpec>(spec: S, name = 'codec'): Codec<CodecValue<S>> {
  return resolve(spec, name) as Codec<CodecValue<S>>;
}

function resolve(spec: unknown, name: string): Codec<unknown> {
  if (spec === undefined || spec === 'bytes') return bytesCodec as Codec<unknown>;
  if (spec === 'fd') return fdCodec as Codec<unknown>;
  if (spec === 'btf') return btfPlaceholder as Codec<unknown>;
  if (typeof spec === 'string') {
    const known = INT_FIELD[spec] ?? builtIn(spec);
    if (known !== undefined) return known as Codec<unknown>;
  } else if (typeof spec === 'object' && spec !== null) {
    if (isCodec(spec)) return spec;
    if ('string' in spec) return stringCodec((spec as { string: number }).string) as Codec<unknown>;
    if ('struct' in spec) return structCodec((spec as { struct: TypeLayout }).struct) as Codec<unknown>;
    const c = spec as CustomCodec<unknown>;
    if (typeof c.encode === 'function' && typeof c.decode === 'function') return customCodec(c);
  }
  throw new BpfjsTypeError(
    'ERR_INVALID_ARG_VALUE',
    `${name} must be 'bytes', 'fd', 'btf', 'u8'…'u64', 's8'…'s64', { string: n }, { struct: layout } or { encode, decode }; received ${String(spec)}`,
  );
}

function builtIn(spec: string): Codec<number> | Codec<bigint> | undefined {
  let c: Codec<number> | Codec<bigint> | undefined;
  switch (spec) {
    case 'u8':
      c = intCodec('u8', 1, 0, 0xff);
      break;
    case 's8':
      c = intCodec('s8', 1, -0x80, 0x7f);
      break;
    case 'u16':
      c = intCodec('u16', 2, 0, 0xffff);
      break;
    case 's16':
      c = intCodec('s16', 2, -0x8000, 0x7fff);
      break;
    case 'u32':
      c = intCodec('u32', 4, 0, 0xffff_ffff);
      break;
    case 's32':
      c = intCodec('s32', 4, -0x8000_0000, 0x7fff_ffff);
      break;
    case 'u64':
    case 's64':
      c = bigIntCodec(spec);
      break;
    default:
      return undefined;
  }
  INT_FIELD[spec] = c;
  return c;
}

/** Checks a codec's size against the map's; `ERR_BPFJS_MAP_CODEC_SIZE` before any syscall. @internal */
export function checkCodecSize(codec: Codec<unknown>, size: number, what: 'key' | 'value'): void {
  if (codec.size !== undefined && codec.size !== size) {
    throw new BpfjsRangeError(
      'ERR_BPFJS_MAP_CODEC_SIZE',
      `The ${what} codec ${codec.name} encodes ${codec.size} bytes, but the map's ${what} size is ${size}`,
    );
  }
}
