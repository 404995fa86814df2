/**
 * The parser against bpftool on the same kernel: every type of the running kernel's vmlinux BTF,
 * decoded by `Btf` and put into the shape of `bpftool -j btf dump file ... format raw`, must equal
 * what bpftool prints, field by field (ids, kinds, names, sizes, members with bit offsets and
 * bit-field sizes, enum values, params, linkage, datasec variables, decl tag components).
 * Sizes, alignments and member offsets of a sample of kernel structs are checked against the
 * kernel's own layout facts (bpf_attr, sk_buff, task_struct).
 */
import { existsSync } from 'node:fs';
import { requireExecutable } from '@bpfjs/testkit';
import { LinkCreateAttr, MapCreateAttr } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { Btf, KERNEL_BTF_PATH } from './index.js';
import { bpftoolShape, bpftoolTypes } from './test/bpftool.js';

const bpftool = requireExecutable('bpftool', 'apt-get install bpftool (scripts/setup does)');
const haveBtf = existsSync(KERNEL_BTF_PATH) || Boolean(process.env.BPFJS_REQUIRE_KERNEL);

// In the kernel matrix (QEMU/TCG, ~10-20x slower) the field-by-field comparison — parser work, the
// same code on every kernel, done in full on the host — takes every 16th type plus the first type
// of each kind this kernel's BTF has, so each kernel's own vmlinux (its kinds, its encodings) is
// still checked against its bpftool, in seconds instead of many minutes.
const STRIDE = process.env.BPFJS_KERNEL_MATRIX ? 16 : 1;
function sampled<T extends { id?: unknown; kind?: unknown }>(types: T[]): T[] {
  if (STRIDE === 1) return types;
  const kinds = new Set<unknown>();
  return types.filter((t) => {
    const first = !kinds.has(t.kind);
    kinds.add(t.kind);
    return first || (t.id as number) % STRIDE === 0;
  });
}

describe.skipIf(!haveBtf)('vmlinux against bpftool', () => {
  bpftool.it('every type decodes to what bpftool prints', () => {
    const b = Btf.loadKernel();
    const want = bpftoolTypes(KERNEL_BTF_PATH);
    expect(want.length).toBe(b.count - 1);
    let compared = 0;
    for (const w of sampled(want)) {
      const mine = bpftoolShape(b.type(w.id as number));
      // toEqual on 100k+ objects one by one is slow; compare JSON text and only diff on mismatch
      if (JSON.stringify(mine) !== JSON.stringify(w)) expect(mine).toEqual(w);
      compared++;
    }
    expect(compared).toBeGreaterThan(10_000 / STRIDE);
  });
});

describe.skipIf(!haveBtf)('module BTF against bpftool', () => {
  bpftool.it(
    'every type of (up to three) loaded modules decodes, on vmlinux, to what bpftool prints',
    (ctx) => {
      const modules = Btf.kernelModules().slice(0, 3);
      if (modules.length === 0)
        ctx.skip('no loaded kernel module has BTF (/sys/kernel/btf holds only vmlinux)');
      const vmlinux = Btf.loadKernel();
      for (const m of modules) {
        const b = Btf.loadModule(m, vmlinux);
        expect(b.firstId).toBe(vmlinux.count);
        // bpftool reads /sys/kernel/btf/<module> on top of vmlinux by itself
        const want = bpftoolTypes(`/sys/kernel/btf/${m}`);
        expect(want.length, m).toBe(b.count - b.firstId);
        for (const w of sampled(want)) {
          const mine = bpftoolShape(b.type(w.id as number));
          if (JSON.stringify(mine) !== JSON.stringify(w)) expect(mine).toEqual(w);
        }
      }
    },
  );
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
