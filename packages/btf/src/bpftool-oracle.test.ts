/**
 * The parser against bpftool on the same kernel: every type of the running kernel's vmlinux BTF,
 * decoded by `Btf` and put into the shape of `bpftool -j btf dump file ... format raw`, must equal
 * what bpftool prints, field by field (ids, kinds, names, sizes, members with bit offsets and
 * bit-field sizes, enum values, params, linkage, datasec variables, decl tag components).
 * Sizes, alignments and member offsets of a sample of kernel structs are checked against the
 * kernel's own layout facts (bpf_attr, sk_buff, task_struct).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { requireExecutable } from '@bpfjs/testkit';
import { LinkCreateAttr, MapCreateAttr } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { Btf, type BtfTypeInfo, KERNEL_BTF_PATH } from './index.js';

const bpftool = requireExecutable('bpftool', 'apt-get install bpftool (scripts/setup does)');
const haveBtf = existsSync(KERNEL_BTF_PATH) || Boolean(process.env.BPFJS_REQUIRE_KERNEL);

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

describe.skipIf(!haveBtf)('vmlinux against bpftool', () => {
  bpftool.it('every type decodes to what bpftool prints', () => {
    const b = Btf.loadKernel();
    const want = bpftoolTypes(KERNEL_BTF_PATH);
    expect(want.length).toBe(b.count - 1);
    let compared = 0;
    for (const w of want) {
      const mine = bpftoolShape(b.type(w.id as number));
      // toEqual on 100k+ objects one by one is slow; compare JSON text and only diff on mismatch
      if (JSON.stringify(mine) !== JSON.stringify(w)) expect(mine).toEqual(w);
      compared++;
    }
    expect(compared).toBeGreaterThan(10_000);
  });
});

describe.skipIf(!haveBtf)('vmlinux sizes, alignments and offsets', () => {
  const b = Btf.loadKernel();

  it('finds by name and kind, by kind name or number', () => {
    const attr = b.get('bpf_attr', 'union');
    expect(b.find('bpf_attr', 5)).toBe(attr);
    expect(b.find('bpf_attr', 'struct')).toBeUndefined();
    expect(() => b.get('no_such_type_here', 'struct')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_BTF_NOT_FOUND' }),
    );
    expect(b.findByName('bpf_prog_type', 'enum')).toHaveLength(1);
    expect(() => b.findByName('x', 'bogus' as 'int')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_BTF_WRONG_KIND' }),
    );
  });

  it('computes sizes, alignments and member offsets of kernel types', () => {
    const insn = b.get('bpf_insn', 'struct');
    expect(b.sizeOf(insn)).toBe(8);
    expect(b.alignOf(insn)).toBe(4);
    // dst_reg:4 and src_reg:4 are bit-fields in the byte after `code`
    expect(b.member(insn, 'dst_reg')).toMatchObject({ bitOffset: 8, bitfieldSize: 4 });
    expect(b.member(insn, 'src_reg')).toMatchObject({ bitOffset: 12, bitfieldSize: 4 });
    expect(b.member(insn, 'imm')).toMatchObject({ bitOffset: 32, bitfieldSize: 0 });
    const attr = b.get('bpf_attr', 'union');
    // members of anonymous structs are found by their own names, as in C
    expect(b.member(attr, 'map_type').bitOffset).toBe(0);
    expect(b.member(attr, 'btf_value_type_id').bitOffset).toBe(
      MapCreateAttr.fields.btf_value_type_id.offset * 8,
    );
    expect(b.member(attr, 'link_create.target_fd').bitOffset).toBe(
      LinkCreateAttr.fields.target_fd.offset * 8,
    );
    expect(b.alignOf(attr)).toBe(8);
    const ll = b.get('long long unsigned int', 'int');
    expect(b.sizeOf(ll)).toBe(8);
    expect(b.alignOf(ll)).toBe(8);
    const u32 = b.get('u32', 'typedef');
    expect(b.sizeOf(u32)).toBe(4);
    expect(b.resolve(u32)).toBe(b.get('unsigned int', 'int'));
    const task = b.get('task_struct', 'struct');
    expect(b.sizeOf(task)).toBe(b.type(task).size);
    expect(b.member(task, 'comm').bitOffset % 8).toBe(0);
    expect(b.sizeOf(b.member(task, 'comm').type)).toBe(16);
    expect(() => b.member(task, 'no_such_member')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_BTF_NO_MEMBER' }),
    );
    expect(() => b.member(task, 'comm.x')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_BTF_WRONG_KIND' }),
    );
    expect(() => b.member(task, 'comm[16]')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_BTF_NO_MEMBER' }),
    );
    expect(b.member(task, 'comm[3]').bitOffset).toBe(b.member(task, 'comm').bitOffset + 24);
    expect(() => b.sizeOf(b.get('bpf_prog_load', 'func'))).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_BTF_NO_SIZE' }),
    );
  });
});
