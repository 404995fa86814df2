/**
 * Global data after load: variables through mmap (BPF_F_MMAPABLE) read what the program wrote,
 * `.rodata` set before load is what the verifier and program see, and is frozen afterwards;
 * verifier rejections name the program, instruction and C line; a failed load leaves nothing.
 */
import { existsSync, readdirSync } from 'node:fs';
import { BpfMap } from '@bpfjs/map';
import { requireExecutable, requireKernel, requireKernelVersion, tempBpffs } from '@bpfjs/testkit';
import { expect } from 'vitest';
import { BpfObject } from './index.js';
import { kernelVersionCode, readKernelConfig } from './kconfig.js';
import { compile } from './test/compile.js';
import { testRun } from './test/test-run.js';

const gate = requireKernel().and(requireExecutable('clang', 'apt-get install clang'));

gate.describe('global data and load failures (needs root, clang)', () => {
  // sum_loop calls bpf_loop (5.17); the other tests load globals.c without it
  gate
    .and(requireKernelVersion('5.17', 'bpf_loop callbacks'))
    .it('variables: .rodata set before load, .data/.bss read and written through mmap', () => {
      const obj = BpfObject.open(compile('globals'));
      expect(obj.variables.get('multiplier')).toMatchObject({ map: '.rodata', size: 4, writable: false });
      expect(obj.variables.get('table')).toMatchObject({ map: '.data.table', size: 16 });
      expect(obj.maps.get('.rodata')).toMatchObject({
        kernelName: 'globals_.rodata',
        freeze: true,
        flags: 0x80 | 0x400,
      });
      obj.setVariable('multiplier', 5);
      using fs = tempBpffs();
      using coll = obj.load({ pinPath: fs.path });
      const counter = coll.variables.get('counter')!;
      expect(counter.mmapped).toBe(true);
      expect(counter.getInt()).toBe(7n);
      // sum over index 0..7 of table[i & 3] + (i & 3) * multiplier + banner[0] ('b' = 98)
      const expected = 2 * (1 + 2 + 3 + 4) + 2 * (0 + 5 + 10 + 15) + 8 * 98;
      expect(testRun(coll.program('sum_loop'), new Uint8Array(64)).retval).toBe(0);
      expect(counter.getInt()).toBe(BigInt(7 + expected));
      expect(coll.variables.get('zeroed')!.getInt()).toBe(BigInt(expected));
      expect(coll.variables.get('multiplier')!.getInt()).toBe(5);
      expect(() => coll.variables.get('multiplier')!.set(1)).toThrow(
        expect.objectContaining({ code: 'ERR_BPFJS_OBJECT_INVALID' }),
      );
      counter.set(100n);
      // the kernel's element holds what the mapping wrote
      const data = coll.map('.data').get(new Uint8Array(4))!;
      expect(new DataView(data.buffer, data.byteOffset).getBigUint64(0, true)).toBe(100n);
      expect(coll.map('.rodata').frozen).toBe(true);
      // one element, keyed by skb->len (the test run's packet without its Ethernet header)
      const entries = [...coll.map('shared_counts').entries()];
      expect(entries).toHaveLength(1);
      expect(entries[0]![1]).toEqual(new Uint8Array(BigUint64Array.of(BigInt(expected)).buffer));
    });

  gate.it(
    'a verifier rejection names the program, the instruction and the C line; nothing is left behind',
    () => {
      const source = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} pinned_here SEC(".maps");
__u32 seen;
SEC("socket")
int good(struct __sk_buff *skb) { seen = skb->len; return 0; }
SEC("socket")
int bad(struct __sk_buff *skb)
{
	return *(int *)(long)skb->len;
}
char _license[] SEC("license") = "GPL";
`;
      using fs = tempBpffs();
      const obj = BpfObject.open(compile('verifier_error', { source }));
      let err: (Error & { code?: string; log?: string }) | undefined;
      try {
        obj.load({ pinPath: fs.path });
      } catch (e) {
        err = e as Error;
      }
      expect(err?.code).toBe('EACCES');
      expect(err?.message).toMatch(
        /the verifier rejected program 'bad' \(socket_filter\) at instruction \d+ \(verifier_error\.c:16: return \*\(int \*\)\(long\)skb->len;\): R\d invalid mem access 'scalar'/,
      );
      expect(err?.log).toMatch(/invalid mem access/);
      // the pinned-by-name map was created and pinned during the load, and removed again
      expect(existsSync(fs.pinPath('pinned_here'))).toBe(false);
      expect(readdirSync(fs.path).filter((n) => !n.endsWith('.debug'))).toEqual([]);
      // only the good program: loads
      using coll = obj.load({ pinPath: fs.path, programs: ['good'] });
      expect([...coll.programs.keys()]).toEqual(['good']);
      expect(existsSync(fs.pinPath('pinned_here'))).toBe(true);
    },
  );

  gate.it('.kconfig externs: kernel version and CONFIG_* values as the kernel configuration says', () => {
    const obj = BpfObject.open(compile('kconfig'));
    expect(obj.maps.get('.kconfig')).toMatchObject({ origin: 'kconfig', freeze: true, maxEntries: 1 });
    using coll = obj.load();
    expect(testRun(coll.program('read_config'), new Uint8Array(64)).retval).toBe(0);
    const v = (n: string) => coll.variables.get(n)!.getInt();
    const config = readKernelConfig();
    expect(v('version')).toBe(BigInt(kernelVersionCode()));
    expect(v('missing')).toBe(0n); // weak and absent
    if (config !== undefined) {
      const tri = config.get('CONFIG_NET_CLS_BPF');
      expect(v('cls_bpf')).toBe(tri === 'y' ? 1n : tri === 'm' ? 2n : 0n);
      expect(v('syscall_on')).toBe(config.get('CONFIG_BPF_SYSCALL') === 'y' ? 1n : 0n);
      expect(v('hz')).toBe(BigInt(config.get('CONFIG_HZ') ?? 0));
      const host = coll.variables.get('hostname')!.get();
      const want = JSON.parse(config.get('CONFIG_DEFAULT_HOSTNAME') ?? '""') as string;
      expect(Buffer.from(host.subarray(0, host.indexOf(0))).toString()).toBe(want);
    }
  });

  gate.it('a non-weak kconfig extern the kernel does not have is refused before anything is created', () => {
    const source = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int CONFIG_BPFJS_DOES_NOT_EXIST __kconfig;
int out;
SEC("socket") int f(void *ctx) { out = CONFIG_BPFJS_DOES_NOT_EXIST; return 0; }
char _license[] SEC("license") = "GPL";
`;
    const obj = BpfObject.open(compile('kconfig_missing', { source }));
    expect(() => obj.load()).toThrow(
      expect.objectContaining({
        code: 'ERR_BPFJS_OBJECT_INVALID',
        location: expect.objectContaining({ symbol: 'CONFIG_BPFJS_DOES_NOT_EXIST' }),
      }),
    );
  });

  gate.it('the spec can be changed before load: max entries, map replacements, which programs', () => {
    const obj = BpfObject.open(compile('globals'));
    obj.maps.get('shared_counts')!.maxEntries = 128;
    obj.maps.get('shared_counts')!.pinning = 0;
    using mine = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'mine' });
    using coll = obj.load({ mapReplacements: { inner_b: mine }, programs: ['lookup_inner', 'tail_target'] });
    expect([...coll.programs.keys()].sort()).toEqual(['lookup_inner', 'tail_target']);
    expect(coll.map('shared_counts').maxEntries).toBe(128);
    // outer[1] holds the replacement: the program writes into our map through it
    expect(coll.map('inner_b').id).toBe(mine.id);
    const key = new Uint8Array(4);
    mine.set(key, new Uint8Array(8));
    expect(testRun(coll.program('lookup_inner'), new Uint8Array(64)).retval).toBe(1);
    const value = mine.get(key)!;
    expect(new DataView(value.buffer, value.byteOffset).getBigUint64(0, true)).toBeGreaterThan(0n);
    // a replacement that does not fit the definition is refused before anything is created
    using wrong = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    expect(() => obj.load({ mapReplacements: { inner_b: wrong } })).toThrow(
      /inner_b.*not compatible \(type 1 != 2/,
    );
    expect(() => obj.load({ mapReplacements: { nope: wrong } })).toThrow(
      /'nope', which the object does not define/,
    );
  });
});
