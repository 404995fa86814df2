// The map-type facts (first kernel of each type) against the running kernel: a type the probe finds
// must not be listed as newer than this kernel, and creating a type this kernel lacks fails with
// ERR_BPFJS_NOT_SUPPORTED naming the first kernel with it (instead of a bare EINVAL). On this 6.18
// host the lacking types are the ones newer than it in the headers; in the kernel matrix's 5.10
// and 6.1 guests, bloom_filter (5.16), user_ringbuf (6.1), cgrp_storage (6.2), arena (6.9), ...
import { release } from 'node:os';
import { haveMapType, mapCreate, minKernel, UnsupportedFeatureError } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { bpf_map_type, bpf_map_type_name } from '@bpfjs/uapi';
import { expect, it } from 'vitest';
import { BpfMap } from './index.js';

const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
const newer = (v: string) => {
  const [a = 0, b = 0] = v.split('.').map(Number);
  return a !== major ? a > major : b > minor;
};
const names = Object.keys(bpf_map_type).filter((n) => n !== 'BPF_MAP_TYPE_UNSPEC' && !n.startsWith('__'));

requireKernel().describe('map types this kernel lacks', () => {
  it('every map type the probe finds is listed no newer than this kernel', () => {
    const found = names.filter((n) => haveMapType(n));
    expect(found).toContain('BPF_MAP_TYPE_HASH');
    const tooNew = found.filter((n) => {
      const since = minKernel('mapType', n);
      return since !== undefined && newer(since);
    });
    expect(tooNew).toEqual([]);
  });

  it("BpfMap.create of a type the kernel lacks: ERR_BPFJS_NOT_SUPPORTED, 'needs Linux ≥ X' when the kernel is older", () => {
    const lacking = names.filter((n) => !haveMapType(n));
    for (const n of lacking) {
      const short = bpf_map_type_name[bpf_map_type[n as keyof typeof bpf_map_type]]!;
      let err: unknown;
      try {
        BpfMap.create({ type: short, keySize: 4, valueSize: 4, maxEntries: 1 }).close();
      } catch (e) {
        err = e;
      }
      expect(UnsupportedFeatureError.isInstance(err), `${n}: ${String(err)}`).toBe(true);
      const u = err as UnsupportedFeatureError;
      expect(u.code).toBe('ERR_BPFJS_NOT_SUPPORTED');
      expect(u.feature).toContain(n);
      expect((u.cause as { code?: string }).code).toMatch(/EINVAL|E2BIG/);
      const since = minKernel('mapType', n);
      if (since !== undefined && newer(since)) {
        expect(u.minKernel).toBe(since);
        expect(u.message).toContain(`needs Linux ${since} or newer`);
      } else {
        expect(u.minKernel).toBeUndefined();
      }
    }
  });

  it('a map type number no kernel has: ERR_BPFJS_NOT_SUPPORTED; a known type with bad sizes stays EINVAL', () => {
    expect(() => mapCreate({ type: 0x7fff, keySize: 4, valueSize: 4, maxEntries: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_NOT_SUPPORTED', feature: 'map type 32767' }),
    );
    expect(() => BpfMap.create({ type: 'array', keySize: 8, valueSize: 4, maxEntries: 1 })).toThrow(
      expect.objectContaining({ code: 'EINVAL', message: expect.stringMatching(/refused these sizes/) }),
    );
  });
});
