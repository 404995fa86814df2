/**
 * Encoding and decoding of C structs over the generated uapi layouts (`TypeLayout`): every offset
 * comes from `@bpfjs/uapi`, none is written by hand here.
 *
 * @module
 */
import {
  cString,
  type FieldLayout,
  readField,
  type TypeLayout,
  writeField as writeFieldRaw,
} from '@bpfjs/uapi';
import { BpfjsRangeError, BpfjsTypeError, errInvalidArgType, errOutOfRange } from './errors.js';
import { getLibc } from './libc.js';

/** The field names of a layout. */
export type FieldsOf<L extends TypeLayout> = Extract<keyof L['fields'], string>;

const U64_MAX = (1n << 64n) - 1n;

/**
 * The layout of one field.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` if `name` is not a string; RangeError
 *   `ERR_INVALID_ARG_VALUE` if this uapi version's layout lacks the field (`Struct` is public, so
 *   a bad field name is bad input and carries a code like every other).
 */
export function fieldOf(layout: TypeLayout, name: string): FieldLayout {
  if (typeof name !== 'string') throw errInvalidArgType('field', 'of type string', name);
  const f = Object.hasOwn(layout.fields, name)
    ? (layout.fields as Record<string, FieldLayout | undefined>)[name]
    : undefined;
  if (f === undefined) {
    throw new BpfjsRangeError(
      'ERR_INVALID_ARG_VALUE',
      `${layout.name} has no field ${JSON.stringify(name)} in this uapi version`,
    );
  }
  return f;
}

/** The end of a field (libbpf's `offsetofend`): the attr size a command needs up to `field`. */
export function offsetofend<L extends TypeLayout>(layout: L, field: FieldsOf<L>): number {
  const f = fieldOf(layout, field);
  return f.offset + f.size;
}

/** True if this uapi version's layout has the field (newer headers add trailing fields). */
export function hasField(layout: TypeLayout, field: string): boolean {
  return (layout.fields as Record<string, FieldLayout | undefined>)[field] !== undefined;
}

/** Allocates zeroed memory that is never on the V8 heap, so its address is stable. */
export function allocBytes(size: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(size));
}

// Addresses of buffers already asked for, with the length they had then: koffi.address costs
// about as much as a third of a syscall, and hot paths pass the same buffer again and again.
// A detached (transferred) buffer reads byteLength 0 and is never looked up.
const addresses = new WeakMap<Uint8Array, { readonly addr: bigint; readonly len: number }>();

/**
 * The address of a buffer's first byte, as the kernel reads it from a `__aligned_u64` field
 * (0 for an empty buffer). Cached per `Uint8Array`.
 */
export function addressOf(buf: Uint8Array): bigint {
  const len = buf.byteLength;
  if (len === 0) return 0n;
  const known = addresses.get(buf);
  if (known !== undefined && known.len === len) return known.addr;
  const addr = getLibc().address(buf);
  addresses.set(buf, { addr, len });
  return addr;
}

/**
 * One C struct in a zeroed buffer, read and written by field name through its layout. Buffers
 * whose addresses are stored in pointer fields are kept referenced by the `Struct` until `clear()`,
 * so they stay alive for the whole syscall.
 */
export class Struct<L extends TypeLayout> {
  /** The struct bytes (exactly `size` bytes, zeroed on creation). */
  readonly bytes: Uint8Array;
  /** A DataView over `bytes`. */
  readonly view: DataView;
  /** The layout this struct follows. */
  readonly layout: L;
  #keep: Uint8Array[] = [];
  #end = 0;

  /** Allocates `size` zeroed bytes (default: the layout's size). */
  constructor(layout: L, size: number = layout.size) {
    this.layout = layout;
    this.bytes = allocBytes(size);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Zeroes the bytes and drops the buffers kept alive for pointer fields. */
  clear(): this {
    this.bytes.fill(0);
    this.#keep = [];
    this.#end = 0;
    return this;
  }

  /**
   * The end of the last field written so far (`offsetofend` of the highest field set): the attr
   * size to pass, so that kernels that predate later fields still accept the call.
   */
  get end(): number {
    return this.#end;
  }

  /** Raises `end` to cover `field` even if it stays zero (a field the command always needs). */
  use(field: FieldsOf<L>): this {
    this.#mark(fieldOf(this.layout, field));
    return this;
  }

  #mark(f: FieldLayout): void {
    const e = f.offset + f.size;
    if (e > this.#end) this.#end = e;
  }

  /** Writes a scalar field (numbers for up to 32 bits, number or bigint for 64 bits). */
  set(field: FieldsOf<L>, value: number | bigint): this {
    const f = fieldOf(this.layout, field);
    writeField(this.view, f, field, value);
    this.#mark(f);
    return this;
  }

  /** Reads a scalar field: `number` up to 32 bits, `bigint` for 64-bit fields. */
  get(field: FieldsOf<L>): number | bigint {
    return readField(this.view, fieldOf(this.layout, field));
  }

  /** Reads a field of at most 32 bits as a number. */
  getNumber(field: FieldsOf<L>): number {
    const v = readField(this.view, fieldOf(this.layout, field));
    return typeof v === 'bigint' ? Number(v) : v;
  }

  /** Reads a 64-bit field as a bigint. */
  getBigInt(field: FieldsOf<L>): bigint {
    const v = readField(this.view, fieldOf(this.layout, field));
    return typeof v === 'bigint' ? v : BigInt(v);
  }

  /**
   * Stores the address of `buf` in a pointer (`__aligned_u64`) field and keeps `buf` referenced;
   * `null` or an empty buffer stores 0.
   */
  setPointer(field: FieldsOf<L>, buf: Uint8Array | null): this {
    const f = fieldOf(this.layout, field);
    if (f.size !== 8) {
      throw new BpfjsRangeError(
        'ERR_INVALID_ARG_VALUE',
        `${this.layout.name}.${field} is not a 64-bit pointer field`,
      );
    }
    // Anything but bytes would reach koffi's address() and fail there without a code.
    if (buf !== null && !(buf instanceof Uint8Array)) {
      throw errInvalidArgType('buf', 'an instance of Uint8Array or null', buf);
    }
    this.#mark(f);
    if (buf === null || buf.byteLength === 0) {
      this.view.setBigUint64(f.offset, 0n, true);
      return this;
    }
    this.#keep.push(buf);
    this.view.setBigUint64(f.offset, addressOf(buf), true);
    return this;
  }

  /** Copies bytes into a char/byte array field; the rest of the field is zeroed. */
  setBytes(field: FieldsOf<L>, src: Uint8Array): this {
    const f = fieldOf(this.layout, field);
    if (!(src instanceof Uint8Array)) throw errInvalidArgType('src', 'an instance of Uint8Array', src);
    if (src.byteLength > f.size) throw errOutOfRange(field, `at most ${f.size} bytes`, src.byteLength);
    this.bytes.fill(0, f.offset, f.offset + f.size);
    this.bytes.set(src, f.offset);
    this.#mark(f);
    return this;
  }

  /** The bytes of an array/aggregate field (a view, not a copy). */
  getBytes(field: FieldsOf<L>): Uint8Array {
    const f = fieldOf(this.layout, field);
    return this.bytes.subarray(f.offset, f.offset + f.size);
  }

  /** A NUL-terminated string from a char array field. */
  getString(field: FieldsOf<L>): string {
    return cString(this.getBytes(field));
  }
}

export { cString };

const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  u8: [0, 0xff],
  char: [-0x80, 0xff],
  s8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  s16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  s32: [-0x80000000, 0x7fffffff],
};

/**
 * Writes a scalar field through uapi's `writeField`, after checking the value fits the field.
 * @throws RangeError `ERR_OUT_OF_RANGE` if it does not.
 */
export function writeField(view: DataView, f: FieldLayout, name: string, value: number | bigint): void {
  checkFieldValue(f, name, value);
  writeFieldRaw(view, f, value);
}

/** Checks that `value` fits field `f` (named `name` in the error). @throws RangeError `ERR_OUT_OF_RANGE`. */
function checkFieldValue(f: FieldLayout, name: string, value: number | bigint): void {
  if (f.bitWidth !== undefined && f.bitOffset !== undefined) {
    const max = 2 ** f.bitWidth - 1;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
      throw errOutOfRange(name, `an integer >= 0 and <= ${max}`, value);
    }
    return;
  }
  let kind: string = f.kind;
  if (kind === 'enum') kind = f.size === 8 ? 'u64' : f.size === 4 ? 'u32' : f.size === 2 ? 'u16' : 'u8';
  if (kind === 'u64' || kind === 'ptr' || kind === 's64') {
    const v = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : undefined;
    const signed = kind === 's64';
    const lo = signed ? -(1n << 63n) : 0n;
    const hi = signed ? (1n << 63n) - 1n : U64_MAX;
    if (v === undefined || v < lo || v > hi)
      throw errOutOfRange(name, `an integer >= ${lo} and <= ${hi}`, value);
    return;
  }
  const range = RANGES[kind];
  if (range === undefined) {
    throw new BpfjsTypeError(
      'ERR_INVALID_ARG_VALUE',
      `${name} is a ${f.kind} field; it cannot be written as a scalar`,
    );
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) {
    throw errOutOfRange(name, `an integer >= ${range[0]} and <= ${range[1]}`, value);
  }
}
