/**
 * BTF kind numbers and their lowercase names (`'struct'`, `'func_proto'`), the names this package
 * uses in `BtfTypeInfo.kindName` and accepts wherever a kind is asked for.
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
} from '@bpfjs/uapi/linux/btf';
import { BtfLookupError } from './errors.js';

/** The lowercase name of each BTF kind this package knows, `'void'` for id 0. */
export type BtfKindName =
  | 'void'
  | 'int'
  | 'ptr'
  | 'array'
  | 'struct'
  | 'union'
  | 'enum'
  | 'fwd'
  | 'typedef'
  | 'volatile'
  | 'const'
  | 'restrict'
  | 'func'
  | 'func_proto'
  | 'var'
  | 'datasec'
  | 'float'
  | 'decl_tag'
  | 'type_tag'
  | 'enum64';

/** A kind given by number (`BTF_KIND_STRUCT`) or by name (`'struct'`). */
export type BtfKind = number | BtfKindName;

/** Kind number → lowercase name, for every kind up to `BTF_KIND_ENUM64` (19). */
export const BTF_KIND_NAMES: Readonly<Record<number, BtfKindName>> = Object.freeze({
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
});

const NUMBERS: ReadonlyMap<string, number> = new Map(
  Object.entries(BTF_KIND_NAMES).map(([n, name]) => [name, Number(n)]),
);

/**
 * The kind number of a kind given by number or name. Numbers pass through (0..127, so kinds
 * newer than this package work too).
 * @throws BtfLookupError `ERR_BPFJS_BTF_WRONG_KIND` for an unknown name or a number out of range.
 */
export function kindNumber(kind: BtfKind): number {
  if (typeof kind === 'number') {
    if (Number.isInteger(kind) && kind >= 0 && kind <= 0x7f) return kind;
  } else {
    const n = NUMBERS.get(kind);
    if (n !== undefined) return n;
  }
  throw new BtfLookupError('ERR_BPFJS_BTF_WRONG_KIND', `unknown BTF kind ${String(kind)}`);
}

/** The lowercase name of a kind number (`kind25` for one newer than this package). */
export function kindName(kind: number): string {
  return BTF_KIND_NAMES[kind] ?? `kind${kind}`;
}
