import { requireKernel } from '@bpfjs/testkit';
import { describe, expect, it } from 'vitest';
import { errnoMessage, errnoName, errnoNumber } from './errno.js';
import {
  BpfError,
  errFdClosed,
  errInvalidArgType,
  errInvalidArgValue,
  errOutOfRange,
  permissionHint,
  UnsupportedFeatureError,
} from './errors.js';

describe('errno names', () => {
  it('maps numbers to Linux names and Node-style messages', () => {
    expect(errnoName(17)).toBe('EEXIST');
    expect(errnoMessage(17)).toBe('file exists');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(67)).toBe('ENOLINK');
    expect(errnoName(7)).toBe('E2BIG');
    expect(errnoName(524)).toBe('ENOTSUPP');
    expect(errnoName(9999)).toBe('UNKNOWN_9999');
    expect(errnoMessage(9999)).toBe('unknown error 9999');
    expect(errnoNumber('EEXIST')).toBe(17);
    expect(errnoNumber('EWOULDBLOCK')).toBe(11);
    expect(errnoNumber('ENOPE')).toBeUndefined();
  });
});

describe('BpfError', () => {
  it('has the Node SystemError shape', () => {
    const e = new BpfError(17, 'bpf', { command: 'BPF_LINK_CREATE' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('BpfError');
    expect(e.code).toBe('EEXIST');
    expect(e.errno).toBe(17);
    expect(e.syscall).toBe('bpf');
    expect(e.command).toBe('BPF_LINK_CREATE');
    expect(e.message).toBe('EEXIST: file exists, bpf BPF_LINK_CREATE');
    expect(e.hint).toBeUndefined();
    expect(BpfError.isInstance(e)).toBe(true);
    expect(BpfError.isInstance(new Error('x'))).toBe(false);
    expect(BpfError.isInstance(null)).toBe(false);
  });

  it('is recognised across copies through the Symbol.for brand', () => {
    const foreign = Object.create(null) as Record<symbol, unknown>;
    foreign[Symbol.for('bpfjs.BpfError')] = true;
    expect(BpfError.isInstance(foreign)).toBe(true);
  });

  it('prints paths like Node and keeps the verifier log', () => {
    const e = new BpfError(2, 'open', { path: '/nope' });
    expect(e.message).toBe("ENOENT: no such file or directory, open '/nope'");
    expect(e.command).toBeUndefined();
    const l = new BpfError(13, 'bpf', { command: 'BPF_PROG_LOAD', log: 'R0 !read_ok' });
    expect(l.log).toBe('R0 !read_ok');
  });

  it('names ENOTSUPP (524) and explains it', () => {
    const e = new BpfError(524, 'bpf', { command: 'BPF_LINK_CREATE' });
    expect(e.code).toBe('ENOTSUPP');
    expect(e.message).toMatch(/^ENOTSUPP: operation not supported/);
    expect(e.hint).toMatch(/ENOTSUPP/);
  });

  it('gives EPERM a hint about capabilities and unprivileged_bpf_disabled', () => {
    const e = new BpfError(1, 'bpf', { command: 'BPF_PROG_LOAD' });
    expect(e.message).toBe('EPERM: operation not permitted, bpf BPF_PROG_LOAD');
    expect(typeof e.hint).toBe('string');
    expect(e.hint).toMatch(/CAP_BPF|capabilities/);
    expect(e.hint).toMatch(/unprivileged_bpf_disabled/);
    const m = new BpfError(1, 'mount', { path: '/x' });
    expect(m.hint).toMatch(/CAP_SYS_ADMIN/);
  });

  requireKernel().it('as root, the EPERM hint says the capabilities are held', () => {
    expect(permissionHint('bpf')).toMatch(/are all held/);
  });
});

describe('UnsupportedFeatureError', () => {
  it('names the feature and the minimum kernel', () => {
    const e = new UnsupportedFeatureError('link type netns', '5.8');
    expect(e.code).toBe('ERR_BPFJS_NOT_SUPPORTED');
    expect(e.feature).toBe('link type netns');
    expect(e.minKernel).toBe('5.8');
    expect(e.message).toBe('link type netns is not supported by this kernel (needs Linux 5.8 or newer)');
    expect(UnsupportedFeatureError.isInstance(e)).toBe(true);
    expect(new UnsupportedFeatureError('x').message).toBe('x is not supported by this kernel');
  });
});

describe('input-check errors', () => {
  it('carry permanent codes and Node-style messages', () => {
    const t = errInvalidArgType('fd', 'of type number', 'x');
    expect(t).toBeInstanceOf(TypeError);
    expect(t.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(t.message).toBe('The "fd" argument must be of type number. Received type string ("x")');
    const r = errOutOfRange('fd', '>= 0', -1);
    expect(r).toBeInstanceOf(RangeError);
    expect(r.code).toBe('ERR_OUT_OF_RANGE');
    expect(r.message).toBe('The value of "fd" is out of range. It must be >= 0. Received -1');
    const v = errInvalidArgValue('name', 'a\0b', 'must be a string without null bytes');
    expect(v).toBeInstanceOf(TypeError);
    expect(v.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(errFdClosed('prog').code).toBe('ERR_BPFJS_FD_CLOSED');
  });
});
