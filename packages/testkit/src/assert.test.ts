import { BpfError } from '@bpfjs/sys';
import { describe, expect, it } from 'vitest';
import { expectErrno, TestkitAssertionError, waitFor } from './assert.js';

const eexist = () => new BpfError(17, 'bpf', { command: 'BPF_LINK_CREATE' });

describe('expectErrno', () => {
  it('returns the BpfError of a sync call', () => {
    const err = expectErrno(() => {
      throw eexist();
    }, 'EEXIST');
    expect(err.errno).toBe(17);
    expect(err.command).toBe('BPF_LINK_CREATE');
    expect(
      expectErrno(() => {
        throw eexist();
      }, 17).code,
    ).toBe('EEXIST');
  });

  it('accepts a BpfError from another copy of sys (brand check)', () => {
    const foreign = Object.assign(new Error('EEXIST: file exists, bpf'), { code: 'EEXIST', errno: 17 });
    Object.defineProperty(foreign, Symbol.for('bpfjs.BpfError'), { value: true });
    expect(
      expectErrno(() => {
        throw foreign;
      }, 'EEXIST'),
    ).toBe(foreign);
  });

  it('fails on success, on another code, and on a non-BpfError with the right code', () => {
    expect(() => expectErrno(() => 42, 'EEXIST')).toThrow(/but the call returned 42/);
    expect(() =>
      expectErrno(() => {
        throw eexist();
      }, 'EINVAL'),
    ).toThrow(/expected a BpfError with code EINVAL, got EEXIST/);
    const plain = Object.assign(new Error('nope'), { code: 'EEXIST' });
    expect(() =>
      expectErrno(() => {
        throw plain;
      }, 'EEXIST'),
    ).toThrow(TestkitAssertionError);
  });

  it('works with async functions', async () => {
    const err = await expectErrno(async () => {
      throw eexist();
    }, 'EEXIST');
    expect(err.code).toBe('EEXIST');
    await expect(expectErrno(async () => 1, 'EEXIST')).rejects.toThrow(/resolved/);
    await expect(
      expectErrno(async () => {
        throw new TypeError('bad');
      }, 'EEXIST'),
    ).rejects.toThrow(/got TypeError: bad/);
  });

  it('checks its arguments', () => {
    expect(() => expectErrno(() => 1, 'exists')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => expectErrno(42 as unknown as () => void, 'EEXIST')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

describe('waitFor', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    const v = await waitFor(() => (++n >= 3 ? { n } : undefined), { intervalMs: 1 });
    expect(v).toEqual({ n: 3 });
  });

  it('treats throws as not-yet and supports async predicates', async () => {
    let n = 0;
    const v = await waitFor(
      async () => {
        if (++n < 3) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(v).toBe('done');
  });

  it('times out with the description and the last error', async () => {
    const start = performance.now();
    const err = await waitFor(
      () => {
        throw new Error('still busy');
      },
      { timeoutMs: 50, intervalMs: 5, description: 'netns teardown' },
    ).catch((e: unknown) => e as Error);
    expect(performance.now() - start).toBeGreaterThanOrEqual(45);
    expect((err as Error).message).toMatch(
      /^waitFor: netns teardown not met after \d+ ms \(\d+ polls\); last error: Error: still busy$/,
    );
    expect((err as Error).cause).toBeInstanceOf(Error);
  });

  it('checks its options', async () => {
    await expect(waitFor(() => true, { timeoutMs: -1 })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
  });
});
