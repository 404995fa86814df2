import { describe, expect, it } from 'vitest';
import type { Fd } from './fd.js';
import { openPath } from './syscalls.js';
import {
  optionKeys,
  validateBytes,
  validateCString,
  validateFd,
  validateInteger,
  validateObject,
  validatePath,
  validateU32,
  validateU64,
} from './validate.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    const kind = e instanceof RangeError ? 'RangeError' : e instanceof TypeError ? 'TypeError' : 'Error';
    return `${kind}:${(e as { code?: string }).code}`;
  }
  return 'no error';
};

describe('validators', () => {
  it('check integers and ranges', () => {
    expect(validateU32(7, 'x')).toBe(7);
    expect(code(() => validateU32(-1, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU32(2 ** 32, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU32(1.5, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU32(Number.NaN, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU32('1', 'x'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
    expect(code(() => validateInteger(5, 'x', 0, 4))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(validateU64(5, 'x')).toBe(5n);
    expect(validateU64(2n ** 64n - 1n, 'x')).toBe(2n ** 64n - 1n);
    expect(code(() => validateU64(2n ** 64n, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU64(-1n, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU64(2 ** 60, 'x'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateU64('1', 'x'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
  });

  it('check fds: numbers, Fds, closed Fds', () => {
    expect(validateFd(3, 'fd')).toBe(3);
    expect(code(() => validateFd(-1, 'fd'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateFd(3.5, 'fd'))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateFd(null, 'fd'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
    expect(code(() => validateFd({ fd: 3 }, 'fd'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
  });

  it.skipIf(process.platform !== 'linux')('accepts an open Fd and refuses a closed one', () => {
    const f: Fd = openPath('/dev/null');
    try {
      expect(validateFd(f, 'fd')).toBe(f.fd);
    } finally {
      f.close();
    }
    expect(code(() => validateFd(f, 'fd'))).toBe('TypeError:ERR_BPFJS_FD_CLOSED');
  });

  it('check strings for C: NUL bytes and byte length', () => {
    expect(validateCString('abc', 'name', 15)).toEqual(new Uint8Array([97, 98, 99]));
    expect(code(() => validateCString('a\0b', 'name', 15))).toBe('TypeError:ERR_INVALID_ARG_VALUE');
    expect(code(() => validateCString('x'.repeat(16), 'name', 15))).toBe('RangeError:ERR_OUT_OF_RANGE');
    // 8 characters, 16 bytes in UTF-8
    expect(code(() => validateCString('é'.repeat(8), 'name', 15))).toBe('RangeError:ERR_OUT_OF_RANGE');
    expect(code(() => validateCString(5, 'name', 15))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
    expect(code(() => validatePath('', 'p'))).toBe('TypeError:ERR_INVALID_ARG_VALUE');
    expect(code(() => validatePath('a'.repeat(5000), 'p'))).toBe('RangeError:ERR_OUT_OF_RANGE');
  });

  it('check objects and buffers', () => {
    expect(code(() => validateObject(null, 'o'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
    expect(code(() => validateObject([], 'o'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
    // Unknown option keys are refused (a typo would silently fall back to a default).
    const keys = optionKeys('a', 'b');
    expect(code(() => validateObject({ a: 1, b: undefined }, 'o', keys))).toBe('no error');
    expect(code(() => validateObject({ a: 1, c: 2 }, 'o', keys))).toBe('TypeError:ERR_INVALID_ARG_VALUE');
    expect(code(() => validateObject({ c: undefined }, 'o', keys))).toBe('TypeError:ERR_INVALID_ARG_VALUE');
    expect(() => validateObject({ tragetFd: 1 }, 'options', keys)).toThrow(/options\.tragetFd/);
    // Inherited keys are not options of this call.
    expect(code(() => validateObject(Object.create({ z: 1 }), 'o', keys))).toBe('no error');
    const u16 = new Uint16Array([1, 2]);
    const b = validateBytes(u16, 'b');
    expect(b.byteLength).toBe(4);
    expect(b.buffer).toBe(u16.buffer);
    expect(code(() => validateBytes([1, 2], 'b'))).toBe('TypeError:ERR_INVALID_ARG_TYPE');
  });
});
