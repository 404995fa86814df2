import { describe, expect, it } from 'vitest';
import {
  CliError,
  effectiveCapabilities,
  errorCode,
  errorMessage,
  formatFailure,
  missingCapabilities,
} from './errors.js';

const ALL = effectiveCapabilities('CapEff:\t000001ffffffffff\n');
const NONE = effectiveCapabilities('Name:\tnode\nCapEff:\t0000000000000000\n');

describe('capabilities', () => {
  it('parses CapEff from /proc/self/status text', () => {
    expect(ALL).toBe(0x1ffffffffffn);
    expect(NONE).toBe(0n);
    expect(effectiveCapabilities('nothing here')).toBeUndefined();
  });
  it('names the missing ones', () => {
    expect(missingCapabilities(['CAP_SYS_ADMIN', 'CAP_BPF'], NONE)).toEqual(['CAP_SYS_ADMIN', 'CAP_BPF']);
    expect(missingCapabilities(['CAP_SYS_ADMIN', 'CAP_BPF'], ALL)).toEqual([]);
    // CAP_BPF is bit 39: a mask with only CAP_SYS_ADMIN (bit 21) lacks it.
    expect(missingCapabilities(['CAP_SYS_ADMIN', 'CAP_BPF'], 1n << 21n)).toEqual(['CAP_BPF']);
    expect(missingCapabilities(['CAP_BPF'], undefined)).toEqual([]);
  });
  it('reads this process', () => {
    expect(typeof effectiveCapabilities()).toBe('bigint');
  });
});

describe('formatFailure', () => {
  const kernelError = (code: string, message: string, hint?: string) =>
    Object.assign(new Error(message), { code, ...(hint === undefined ? {} : { hint }) });

  it('prints bpfjs: <code>: <message> without repeating the code', () => {
    const e = kernelError(
      'EEXIST',
      'EEXIST: file exists, bpf BPF_LINK_CREATE: a program is attached directly',
      'a program is attached directly',
    );
    expect(formatFailure(e, [], 'bpfjs x', ALL)).toBe(
      'bpfjs: EEXIST: file exists, bpf BPF_LINK_CREATE: a program is attached directly\n',
    );
  });
  it('adds a hint that is not in the message', () => {
    const e = new CliError('ERR_BPFJS_X', 'went wrong', 'do this instead');
    expect(formatFailure(e, [], 'bpfjs x', ALL)).toBe(
      'bpfjs: ERR_BPFJS_X: went wrong\nbpfjs: do this instead\n',
    );
  });
  it('says which capability is missing on EPERM and how to get it', () => {
    const e = kernelError('EPERM', 'EPERM: operation not permitted, bpf BPF_LINK_GET_NEXT_ID');
    const text = formatFailure(e, ['CAP_SYS_ADMIN'], 'bpfjs link list', NONE);
    expect(text).toMatch(/^bpfjs: EPERM: operation not permitted, bpf BPF_LINK_GET_NEXT_ID\n/);
    expect(text).toContain('this needs CAP_SYS_ADMIN');
    expect(text).toContain('sudo bpfjs link list');
    // With the capability held, an EPERM is not blamed on privileges (e.g. update with a wrong replace).
    expect(formatFailure(e, ['CAP_SYS_ADMIN'], 'bpfjs link list', ALL)).not.toContain('this needs');
  });
  it('copes with non-errors', () => {
    expect(errorCode('boom')).toBe('ERR_BPFJS_UNEXPECTED');
    expect(errorMessage('boom')).toBe('boom');
    expect(errorCode(new TypeError('x'))).toBe('TypeError');
  });
});
