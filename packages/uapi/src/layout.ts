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
