/**
 * Test helpers: `bpftool -j btf dump` and the parser's types put into bpftool's shape, so the two
 * can be compared field by field.
 */
import { execFileSync } from 'node:child_process';
import type { BtfTypeInfo } from '../index.js';

/** bpftool's btf_int_enc_str / linkage names. */
const INT_ENC: Record<number, string> = { 0: '(none)', 1: 'SIGNED', 2: 'CHAR', 4: 'BOOL' };
const FUNC_LINKAGE = ['static', 'global', 'extern'];
const VAR_LINKAGE = ['static', 'global', 'extern'];

/**
 * bpftool (7.1) prints an unsigned 32-bit enumerator through the `__s32` of `struct btf_enum`
 * widened to u64, so 0xefffffff prints as 18446744073441116159; enum64 and signed enums print as
 * they are. The parser returns the value the BTF means (4026531839); the shape copies bpftool.
 */
function bpftoolEnumVal(t: BtfTypeInfo, v: number | bigint): number | bigint {
  if (t.kindName === 'enum' && !t.kflag && typeof v === 'number' && v > 0x7fffffff)
    return 2n ** 64n - 2n ** 32n + BigInt(v);
  return v;
}

/** A type in the shape bpftool's `btf dump -j` prints it (values that may exceed 2^53 as Number, as JSON.parse reads them). */
export function bpftoolShape(t: BtfTypeInfo): Record<string, unknown> {
  const o: Record<string, unknown> = { id: t.id, kind: t.kindName.toUpperCase(), name: t.name || '(anon)' };
  switch (t.kindName) {
    case 'int':
      return {
        ...o,
        size: t.size,
        bits_offset: t.int?.offset,
        nr_bits: t.int?.bits,
        encoding: INT_ENC[t.int?.encoding ?? 0] ?? 'UNKN',
      };
    case 'ptr':
    case 'typedef':
    case 'volatile':
    case 'const':
    case 'restrict':
    case 'type_tag':
      return { ...o, type_id: t.type };
    case 'array':
      return { ...o, type_id: t.array?.type, index_type_id: t.array?.indexType, nr_elems: t.array?.nelems };
    case 'struct':
    case 'union':
      return {
        ...o,
        size: t.size,
        vlen: t.vlen,
        members: t.members?.map((m) => ({
          name: m.name || '(anon)',
          type_id: m.type,
          bits_offset: m.bitOffset,
          ...(m.bitfieldSize ? { bitfield_size: m.bitfieldSize } : {}),
        })),
      };
    case 'enum':
    case 'enum64':
      return {
        ...o,
        encoding: t.kflag ? 'SIGNED' : 'UNSIGNED',
        size: t.size,
        vlen: t.vlen,
        values: t.values?.map((v) => ({ name: v.name, val: Number(bpftoolEnumVal(t, v.value)) })),
      };
    case 'fwd':
      return { ...o, fwd_kind: t.kflag ? 'union' : 'struct' };
    case 'func':
      return { ...o, type_id: t.type, linkage: FUNC_LINKAGE[t.linkage ?? 0] };
    case 'func_proto':
      return {
        ...o,
        ret_type_id: t.type,
        vlen: t.vlen,
        params: t.params?.map((p) => ({ name: p.name || '(anon)', type_id: p.type })),
      };
    case 'var':
      return { ...o, type_id: t.type, linkage: VAR_LINKAGE[t.linkage ?? 0] };
    case 'datasec':
      return {
        ...o,
        size: t.size,
        vlen: t.vlen,
        vars: t.vars?.map((v) => ({ type_id: v.type, offset: v.offset, size: v.size })),
      };
    case 'float':
      return { ...o, size: t.size };
    case 'decl_tag':
      return { ...o, type_id: t.type, component_idx: t.componentIdx };
    default:
      return o;
  }
}

/** `bpftool -j btf dump file <path> [-B base]` → its types. */
export function bpftoolTypes(path: string, base?: string): Record<string, unknown>[] {
  const args = ['-j', ...(base ? ['-B', base] : []), 'btf', 'dump', 'file', path, 'format', 'raw'];
  const out = execFileSync('bpftool', args, { maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  return (JSON.parse(out) as { types: Record<string, unknown>[] }).types;
}
