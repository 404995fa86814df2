import { describe, expect, it } from 'vitest';
import { bpf } from './bpf.js';
import { BpfError } from './errors.js';

describe('bpf() input checks', () => {
  it('refuses a bad cmd, attr or size before the syscall', () => {
    const attr = new Uint8Array(16);
    expect(() => bpf(-1, attr, 16)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => bpf(0, [0, 0] as unknown as Uint8Array, 2)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => bpf(0, attr, 17)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => bpf(0, attr, -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => bpf(0, attr, '16' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

describe.skipIf(process.getuid?.() !== 0)('bpf() against the kernel (root)', () => {
  it('an unknown command is EINVAL, thrown as a BpfError', () => {
    let err: unknown;
    try {
      bpf(0x7fff, new Uint8Array(8), 8);
    } catch (e) {
      err = e;
    }
    expect(BpfError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ code: 'EINVAL', errno: 22, syscall: 'bpf' });
  });
});
