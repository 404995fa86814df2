/**
 * Kernel enum values ⇄ the short names bpftool prints (`'flow_dissector'`, `'sk_lookup'`,
 * `'netns'`). The object API speaks in those names; numbers are accepted too.
 *
 * @module
 */
import { errInvalidArgType, errInvalidArgValue } from '@bpfjs/sys';
import { bpf_attach_type, bpf_attach_type_name, bpf_prog_type, bpf_prog_type_name } from '@bpfjs/uapi';

function reverse(map: Readonly<Record<number, string>>): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(map)) out.set(v, Number(k));
  return out;
}

let progTypeByName: ReadonlyMap<string, number> | undefined;
let attachTypeByName: ReadonlyMap<string, number> | undefined;

function cEnumValue(enumObject: Readonly<Record<string, number>>, name: string): number | undefined {
  const v = enumObject[name];
  return typeof v === 'number' ? v : undefined;
}

/**
 * Resolves a program type given as bpftool's name (`'flow_dissector'`), the C enumerator
 * (`'BPF_PROG_TYPE_FLOW_DISSECTOR'`) or the number.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for anything else.
 */
export function progTypeValue(type: unknown, argName = 'type'): number {
  if (typeof type === 'number') {
    if (Number.isInteger(type) && bpf_prog_type_name[type] !== undefined) return type;
    throw errInvalidArgValue(argName, type, 'is not a known program type number');
  }
  if (typeof type !== 'string') throw errInvalidArgType(argName, 'a program type name or number', type);
  progTypeByName ??= reverse(bpf_prog_type_name);
  const v = progTypeByName.get(type) ?? cEnumValue(bpf_prog_type, type);
  if (v === undefined) {
    throw errInvalidArgValue(argName, type, "is not a program type name (bpftool's, e.g. 'flow_dissector')");
  }
  return v;
}

/**
 * Resolves an attach type given as bpftool's name (`'sk_lookup'`), the C enumerator
 * (`'BPF_SK_LOOKUP'`) or the number.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` / `ERR_INVALID_ARG_VALUE` for anything else.
 */
export function attachTypeValue(type: unknown, argName = 'attachType'): number {
  if (typeof type === 'number') {
    if (Number.isInteger(type) && bpf_attach_type_name[type] !== undefined) return type;
    throw errInvalidArgValue(argName, type, 'is not a known attach type number');
  }
  if (typeof type !== 'string') throw errInvalidArgType(argName, 'an attach type name or number', type);
  attachTypeByName ??= reverse(bpf_attach_type_name);
  const v = attachTypeByName.get(type) ?? cEnumValue(bpf_attach_type, type);
  if (v === undefined) {
    throw errInvalidArgValue(argName, type, "is not an attach type name (bpftool's, e.g. 'sk_lookup')");
  }
  return v;
}

export { attachTypeName, linkTypeName, progTypeName } from '@bpfjs/sys/internal';
