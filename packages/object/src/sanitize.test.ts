/**
 * BTF sanitizing for kernels without newer kinds: the probes must agree with the kernel version, and
 * the test pretends the kernel lacks each kind — the sanitized blob must still load (the kernel accepts the older
 * encodings libbpf falls back to), hold none of the missing kinds, and the object must load with it.
 */
import { release } from 'node:os';
import { Btf } from '@bpfjs/btf';
import { btfLoad } from '@bpfjs/sys';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { BpfObject } from './index.js';
import { kernelVersionCode } from './kconfig.js';
import { type BtfFeatures, btfFeatures, probeBlob, sanitizeBtf } from './sanitize.js';
import { compile } from './test/compile.js';
import { testRun } from './test/test-run.js';

const gate = requireKernel().and(requireExecutable('clang', 'apt-get install clang'));
const NONE: BtfFeatures = {
  func: false,
  funcGlobal: false,
  datasec: false,
  float: false,
  declTag: false,
  typeTag: false,
  enum64: false,
};

const source = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
enum big { BIG_A = 1, BIG_B = 0x100000000ULL };
struct with_tags { int __attribute__((btf_decl_tag("a_tag"))) x; int * __attribute__((btf_type_tag("t_tag"))) p; float f; };
struct with_tags tagged;
enum big which = BIG_B;
__u64 seen;
__attribute__((visibility("hidden"))) __noinline int helper(int v) { return v + tagged.x; }
SEC("socket") int sanitize_me(struct __sk_buff *skb) { seen = helper(skb->len) + (which == BIG_B); return 0; }
char _license[] SEC("license") = "GPL";
`;

gate.describe('BTF sanitizing (needs root, clang)', () => {
  gate.it('the probes find the BTF kinds this kernel version has (first kernel of each)', () => {
    const running = release();
    const since: Record<keyof BtfFeatures, string> = {
      func: '5.0',
      funcGlobal: '5.6',
      datasec: '5.2',
      float: '5.13',
      declTag: '5.16',
      typeTag: '5.17',
      enum64: '6.0',
    };
    const expected = Object.fromEntries(
      Object.entries(since).map(([k, v]) => [k, kernelVersionCode(running) >= kernelVersionCode(v)]),
    );
    expect(btfFeatures()).toEqual(expected);
  });

  gate.it(
    'without any newer kind: no DATASEC/VAR/FUNC/FLOAT/tags/ENUM64 left, the kernel takes it, the object loads',
    () => {
      const obj = BpfObject.open(compile('sanitize', { source }));
      const kinds = (b: Btf) =>
        new Set(Array.from({ length: b.count - 1 }, (_, i) => b.type(i + 1).kindName));
      // (clang 14 emits no TYPE_TAG for BPF; that rule is exercised where clang does)
      for (const k of ['datasec', 'var', 'func', 'float', 'decl_tag']) {
        expect(kinds(obj.btf!.types).has(k), k).toBe(true);
      }
      const sanitized = Btf.parse(sanitizeBtf(obj.btf!.raw, NONE));
      const left = kinds(sanitized);
      for (const k of ['datasec', 'var', 'func', 'func_proto', 'float', 'decl_tag', 'type_tag', 'enum64']) {
        expect(left.has(k), k).toBe(false);
      }
      // clang 14 emits no ENUM64 either: the probe blob has one
      const e64 = Btf.parse(sanitizeBtf(probeBlob('enum64'), NONE));
      expect(e64.type(1)).toMatchObject({ kindName: 'union', size: 8 });
      expect(e64.type(e64.find('enum64_placeholder', 'int')!)).toMatchObject({ size: 1 });
      btfLoad({ data: sanitizeBtf(probeBlob('enum64'), NONE) }).close();
      using coll = obj.load({ btfFeatures: NONE });
      expect(testRun(coll.program('sanitize_me'), new Uint8Array(64)).retval).toBe(0);
      expect(coll.variables.get('seen')!.getInt()).toBe(51n); // skb->len 50 + 1
      // programs carry no BTF when the kernel has no BTF functions
      expect(coll.program('sanitize_me').info().btfId).toBe(0);
    },
  );

  gate.it('unknown load options are refused', () => {
    const obj = BpfObject.open(compile('sk_lookup'));
    expect(() => obj.load({ pinpath: '/x' } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });
});
