/**
 * Layout descriptors for C structs and unions, as the generator emits them for every type in the
 * synced UAPI headers. Hand-written (not generated): the generated modules import these types.
 *
 * @module
 */

/** The storage kind of one field. `ptr` is a C pointer (8 bytes on the 64-bit ABIs we target). */
export type FieldKind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 's8'
  | 's16'
  | 's32'
  | 's64'
  | 'char'
  | 'ptr'
  | 'struct'
  | 'union'
  | 'enum';

/** Where one field lives inside its top-level struct or union. */
export interface FieldLayout {
  /** Byte offset from the start of the top-level type (for bit-fields: of the storage unit). */
  readonly offset: number;
  /** Size in bytes; for arrays `count * element size`. */
  readonly size: number;
  /** Storage kind of the field, or of one element for arrays. */
  readonly kind: FieldKind;
  /** Arrays only: number of elements (0 for a flexible array member). */
  readonly count?: number;
  /** Bit-fields only: bit offset from the start of the top-level type. */
  readonly bitOffset?: number;
  /** Bit-fields only: width in bits. */
  readonly bitWidth?: number;
  /** struct/union/enum fields: the C type name, e.g. `'struct bpf_insn'`. */
  readonly type?: string;
}

/**
 * The layout of one struct or union. `fields` is flat: keys are the C access paths, through
 * anonymous members (transparent) and named nested members (dotted, e.g. `'netns.netns_ino'`);
 * aggregate members have their own entry too.
 */
export interface TypeLayout<F extends string = string> {
  /** The C name (`'union bpf_attr'`) or, for anonymous parts, the generator's chosen name. */
  readonly name: string;
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly align: number;
  readonly fields: { readonly [K in F]: FieldLayout };
}

/** The field names of a layout, as a string union. */
export type FieldName<L> = L extends TypeLayout<infer F> ? F : never;

/** The JavaScript value type of a scalar field kind: 64-bit fields are `bigint`. */
export type ValueOfKind<K extends FieldKind> = K extends 'u64' | 's64' | 'ptr' ? bigint : number;

/**
 * The end of a field (`offset + size`): libbpf's `offsetofend`, the attr size a bpf command needs
 * when this is the last field it uses.
 */
export function offsetofend<L extends TypeLayout>(layout: L, field: FieldName<L>): number {
  const f = (layout.fields as Record<string, FieldLayout>)[field];
  if (f === undefined) throw new RangeError(`${layout.name} has no field ${String(field)}`);
  return f.offset + f.size;
}

/**
 * The JavaScript values of a layout's scalar fields (not aggregates, not arrays), keyed by field
 * path, all optional: the shape an encoder of the struct takes. 64-bit fields are `bigint`.
 */
export type ScalarValues<L extends TypeLayout> = {
  -readonly [K in keyof L['fields'] as L['fields'][K] extends { readonly count: number }
    ? never
    : L['fields'][K] extends { readonly kind: 'struct' | 'union' }
      ? never
      : K]?: L['fields'][K] extends { readonly kind: infer Kd extends FieldKind } ? ValueOfKind<Kd> : never;
};

// ------------------------------------------------------------------------------------------------
// Field read/write helpers: the one place that turns a `FieldLayout` into DataView calls. sys (attrs,
// info structs), link (info decoding) and asm (`struct bpf_insn`) all read and write fields through
// these; nobody else writes an offset by hand. Little-endian: the 64-bit ABIs bpfjs targets.

/** The storage size of an `enum` field as the unsigned integer kind it is read as. */
function enumKind(size: number): FieldKind {
  return size === 8 ? 'u64' : size === 4 ? 'u32' : size === 2 ? 'u16' : 'u8';
}

/** Bytes `[byte, byte + n)` of a little-endian bit-field's storage as one number (n <= 4). */
function bitStorage(f: FieldLayout, base: number): { byte: number; shift: number; n: number } {
  const bitOffset = f.bitOffset as number;
  const shift = bitOffset % 8;
  return {
    byte: base + Math.floor(bitOffset / 8),
    shift,
    n: Math.ceil((shift + (f.bitWidth as number)) / 8),
  };
}

/**
 * Reads a scalar field of the type that starts at byte `base` of `view`: a `number` for fields of
 * up to 32 bits (and bit-fields of up to 24 bits, the uapi ones), a `bigint` for 64-bit ones.
 * @throws TypeError for an aggregate field (struct, union, array as a whole).
 */
export function readField(view: DataView, f: FieldLayout, base = 0): number | bigint {
  if (f.bitWidth !== undefined && f.bitOffset !== undefined) {
    const s = bitStorage(f, base);
    let raw = 0;
    for (let i = 0; i < s.n; i++) raw |= view.getUint8(s.byte + i) << (8 * i);
    return (raw >>> s.shift) & (2 ** f.bitWidth - 1);
  }
  const o = base + f.offset;
  switch (f.kind === 'enum' ? enumKind(f.size) : f.kind) {
    case 'u8':
    case 'char':
      return view.getUint8(o);
    case 's8':
      return view.getInt8(o);
    case 'u16':
      return view.getUint16(o, true);
    case 's16':
      return view.getInt16(o, true);
    case 'u32':
      return view.getUint32(o, true);
    case 's32':
      return view.getInt32(o, true);
    case 'u64':
    case 'ptr':
      return view.getBigUint64(o, true);
    case 's64':
      return view.getBigInt64(o, true);
    default:
      throw new TypeError(`cannot read a ${f.kind} field as a scalar`);
  }
}

/** {@link readField} as a number (a 64-bit field is converted; exact up to 2^53). */
export function readNumber(view: DataView, f: FieldLayout, base = 0): number {
  const v = readField(view, f, base);
  return typeof v === 'bigint' ? Number(v) : v;
}

/** {@link readField} as a bigint. */
export function readBigInt(view: DataView, f: FieldLayout, base = 0): bigint {
  const v = readField(view, f, base);
  return typeof v === 'bigint' ? v : BigInt(v);
}

/**
 * Writes a scalar field of the type at byte `base` of `view`. The value must already fit the
 * field (checking is the caller's, with its own error codes): a number for fields of up to 32 bits
 * (truncated to the field's width), a number or bigint for 64-bit ones.
 * @throws TypeError for an aggregate field.
 */
export function writeField(view: DataView, f: FieldLayout, value: number | bigint, base = 0): void {
  if (f.bitWidth !== undefined && f.bitOffset !== undefined) {
    const s = bitStorage(f, base);
    const mask = (2 ** f.bitWidth - 1) << s.shift;
    let raw = 0;
    for (let i = 0; i < s.n; i++) raw |= view.getUint8(s.byte + i) << (8 * i);
    raw = (raw & ~mask) | ((Number(value) << s.shift) & mask);
    for (let i = 0; i < s.n; i++) view.setUint8(s.byte + i, (raw >>> (8 * i)) & 0xff);
    return;
  }
  const o = base + f.offset;
  switch (f.kind === 'enum' ? enumKind(f.size) : f.kind) {
    case 'u8':
    case 's8':
    case 'char':
      view.setUint8(o, Number(value) & 0xff);
      return;
    case 'u16':
    case 's16':
      view.setUint16(o, Number(value) & 0xffff, true);
      return;
    case 'u32':
    case 's32':
      view.setUint32(o, Number(value) >>> 0, true);
      return;
    case 'u64':
    case 'ptr':
      view.setBigUint64(o, BigInt.asUintN(64, BigInt(value)), true);
      return;
    case 's64':
      view.setBigInt64(o, BigInt.asIntN(64, BigInt(value)), true);
      return;
    default:
      throw new TypeError(`cannot write a ${f.kind} field as a scalar`);
  }
}

/** The bytes of a field (an array or aggregate) inside `bytes`, as a view (no copy). */
export function fieldBytes(bytes: Uint8Array, f: FieldLayout, base = 0): Uint8Array {
  return bytes.subarray(base + f.offset, base + f.offset + f.size);
}

const utf8 = new TextDecoder();

/** A NUL-terminated string from a char array (the whole array when it has no NUL). */
export function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/** A NUL-terminated string from a char array field. */
export function readString(bytes: Uint8Array, f: FieldLayout, base = 0): string {
  return cString(fieldBytes(bytes, f, base));
}
