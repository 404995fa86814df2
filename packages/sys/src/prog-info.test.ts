// progLoad's func_info / line_info options: checked before the syscall (record size, whole
// records); the kernel round trip is covered by @bpfjs/object's libbpf-oracle tests.
import { BPF_PROG_TYPE_SOCKET_FILTER } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { progLoad } from './prog.js';

const insns = new Uint8Array(16); // never reaches the kernel

describe('progLoad func_info / line_info input checks', () => {
  it('refuses partial records and bad record sizes', () => {
    const base = { type: BPF_PROG_TYPE_SOCKET_FILTER, insns, license: 'GPL' };
    expect(() => progLoad({ ...base, funcInfo: new Uint8Array(12) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => progLoad({ ...base, lineInfo: new Uint8Array(0) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => progLoad({ ...base, funcInfo: new Uint8Array(8), funcInfoRecSize: 4 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => progLoad({ ...base, lineInfo: 'x' as unknown as Uint8Array })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});
