/**
 * Map types ⇄ the short names bpftool prints (`'hash'`, `'sockmap'`, `'ringbuf'`).
 *
 * @module
 */
import { errInvalidArgType, errInvalidArgValue } from '@bpfjs/sys';
import { bpf_map_type, bpf_map_type_name } from '@bpfjs/uapi';

let byName: ReadonlyMap<string, number> | undefined;

/**
 * Resolves a map type given as bpftool's name (`'hash'`), the C enumerator
 * (`'BPF_MAP_TYPE_HASH'`) or the number.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for anything else.
 */
export function mapTypeValue(type: unknown, argName = 'type'): number {
  if (typeof type === 'number') {
    if (Number.isInteger(type) && type > 0 && bpf_map_type_name[type] !== undefined) return type;
    throw errInvalidArgValue(argName, type, 'is not a known map type number');
  }
  if (typeof type !== 'string') throw errInvalidArgType(argName, 'a map type name or number', type);
  if (byName === undefined) {
    const m = new Map<string, number>();
    for (const [k, v] of Object.entries(bpf_map_type_name)) m.set(v, Number(k));
    byName = m;
  }
  const v = byName.get(type) ?? (bpf_map_type as Readonly<Record<string, number>>)[type];
  if (v === undefined || v === 0) {
    throw errInvalidArgValue(argName, type, "is not a map type name (bpftool's, e.g. 'hash', 'sockmap')");
  }
  return v;
}

/** bpftool's name of a map type, or `'unknown(<n>)'` for one newer than the headers. */
export function mapTypeName(value: number): string {
  return bpf_map_type_name[value] ?? `unknown(${value})`;
}
