import { describe, expect, it } from 'vitest';
import { KERNEL_MATRIX_TIMEOUT_FACTOR, scaleTimeout } from './timeouts.js';

describe('scaleTimeout', () => {
  it('is the identity outside the kernel matrix', () => {
    expect(scaleTimeout(20_000, {})).toBe(20_000);
    expect(scaleTimeout(0, { BPFJS_KERNEL_MATRIX: '' })).toBe(0);
  });

  it('multiplies by the factor when BPFJS_KERNEL_MATRIX is set', () => {
    expect(KERNEL_MATRIX_TIMEOUT_FACTOR).toBe(10);
    expect(scaleTimeout(20_000, { BPFJS_KERNEL_MATRIX: '5.10' })).toBe(200_000);
  });

  it('follows process.env by default', () => {
    const expected = process.env.BPFJS_KERNEL_MATRIX ? 300 : 30;
    expect(scaleTimeout(30)).toBe(expected);
  });

  it('refuses negative, non-finite and non-number deadlines', () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(() => scaleTimeout(bad)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    }
  });
});
