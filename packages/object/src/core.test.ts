/**
 * CO-RE values against the running kernel's BTF, checked with @bpfjs/btf lookups of the same
 * BTF; a relocation the kernel cannot satisfy poisons its instruction, and when that instruction
 * is reached the verifier error says which relocation it was. (Instruction-level identity with
 * libbpf for the same object is in oracle.test.ts.)
 */
import { Btf } from '@bpfjs/btf';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { bpf_map_type } from '@bpfjs/uapi';
import { expect } from 'vitest';
import { essentialName } from './core.js';
import { BpfObject } from './index.js';
import { compile } from './test/compile.js';
import { testRun } from './test/test-run.js';

const gate = requireKernel().and(
  requireExecutable('clang', 'apt-get install clang'),
  requireExecutable('bpftool', 'apt-get install bpftool'),
);

gate.describe('CO-RE (needs root, clang, bpftool for vmlinux.h)', () => {
  gate.it('every relocation kind clang 14 emits resolves to the kernel BTF values', () => {
    const kernel = Btf.loadKernel();
    const task = kernel.get('task_struct', 'struct');
    const pid = kernel.member(task, 'pid');
    const tgid = kernel.member(task, 'tgid');
    using coll = BpfObject.open(compile('core', { vmlinux: true })).load({ programs: ['core_values'] });
    expect(testRun(coll.program('core_values'), new Uint8Array(64)).retval).toBe(0);
    const out = coll.variables.get('out')!.get();
    const v = (i: number) => new DataView(out.buffer).getBigUint64(i * 8, true);
    expect(v(0)).toBe(1n); // field exists
    expect(v(1)).toBe(BigInt(kernel.sizeOf(pid.type))); // field size
    expect(v(2)).toBe(BigInt(tgid.bitOffset / 8)); // field offset through a ___flavor
    expect(v(3)).toBe(1n); // type exists
    expect(v(4)).toBe(BigInt(kernel.sizeOf(task))); // type size
    expect(v(5)).toBe(1n); // enum value exists
    expect(v(6)).toBe(BigInt(bpf_map_type.BPF_MAP_TYPE_SOCKHASH)); // enum value
    expect(v(7)).toBe(0n); // a type the kernel lacks
    expect(v(8)).toBe(0n); // a field of it
    expect(v(9)).toBe(BigInt(task)); // kernel type id
    expect(v(10)).toBe(1n); // local type id (non-zero)
    expect(v(11)).toBe(0n); // an enum the kernel lacks
    expect(v(12)).toBe(0n); // the poisoned store never ran
  });

  gate.it(
    'a reached instruction whose relocation the kernel cannot satisfy fails naming the relocation',
    () => {
      const source = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct bpfjs_absent { int field; } __attribute__((preserve_access_index));
__u64 out;
SEC("socket")
int reads_absent(struct __sk_buff *skb)
{
	out = bpf_core_field_offset(((struct bpfjs_absent *)0)->field);
	return 0;
}
char _license[] SEC("license") = "GPL";
`;
      const obj = BpfObject.open(compile('core_absent', { source, vmlinux: true }));
      expect(() => obj.load()).toThrow(
        /unknown#195896080.*CO-RE relocations the kernel's BTF does not satisfy: byte_off of struct bpfjs_absent \(access 0:0\)/,
      );
    },
  );

  gate.it('essential names drop the ___flavor suffix as libbpf does', () => {
    expect(essentialName('task_struct___mine')).toBe('task_struct');
    expect(essentialName('task_struct')).toBe('task_struct');
    expect(essentialName('a___b___c')).toBe('a___b');
    expect(essentialName('____x')).toBe('____x');
  });
});
