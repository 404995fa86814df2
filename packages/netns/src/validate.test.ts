import { describe, expect, it } from 'vitest';
import { checkMs, checkName, checkPath, checkPid, NAME_MAX, namedPath, nameOfPath } from './validate.js';
import { moduleUrlOf } from './worker.js';

function codeOf(fn: () => unknown): { name: string; code: unknown } {
  try {
    fn();
  } catch (e) {
    return { name: (e as Error).constructor.name, code: (e as { code?: unknown }).code };
  }
  throw new Error('expected a throw');
}

describe('checkName (iproute2 invalid_name rules)', () => {
  it('accepts ordinary names, dots inside and names of exactly 255 bytes', () => {
    for (const ok of [
      'blue',
      'a.b',
      'a..b',
      '...',
      '-x',
      'ns 1',
      'ünï',
      'x'.repeat(NAME_MAX),
      'é'.repeat(127),
    ]) {
      expect(checkName(ok)).toBe(ok);
    }
  });

  it('refuses empty, ".", ".." and names with "/" or NUL as ERR_INVALID_ARG_VALUE', () => {
    for (const bad of ['', '.', '..', 'a/b', '/', '../x', 'a\0b', '\ud800x']) {
      const e = codeOf(() => checkName(bad));
      expect(e.code, JSON.stringify(bad)).toBe('ERR_INVALID_ARG_VALUE');
      expect(e.name).toMatch(/TypeError/);
    }
  });

  it('refuses names over 255 UTF-8 bytes as ERR_OUT_OF_RANGE', () => {
    expect(codeOf(() => checkName('x'.repeat(NAME_MAX + 1))).code).toBe('ERR_OUT_OF_RANGE');
    // 128 two-byte characters: 128 UTF-16 units but 256 bytes.
    expect(codeOf(() => checkName('é'.repeat(128))).code).toBe('ERR_OUT_OF_RANGE');
  });

  it('refuses non-strings as ERR_INVALID_ARG_TYPE', () => {
    for (const bad of [undefined, null, 1, {}, ['a']]) {
      expect(codeOf(() => checkName(bad)).code).toBe('ERR_INVALID_ARG_TYPE');
    }
  });
});

describe('paths', () => {
  it('maps names to /run/netns and back', () => {
    expect(namedPath('blue')).toBe('/run/netns/blue');
    expect(nameOfPath('/run/netns/blue')).toBe('blue');
    expect(nameOfPath('/run/netns/a/b')).toBeUndefined();
    expect(nameOfPath('/run/netns/')).toBeUndefined();
    expect(nameOfPath('/run/netns/..')).toBeUndefined();
    expect(nameOfPath('/proc/1/ns/net')).toBeUndefined();
  });

  it('checkPath takes strings and file: URLs, refuses NUL, empty and other types', () => {
    expect(checkPath('/proc/self/ns/net')).toBe('/proc/self/ns/net');
    expect(checkPath(new URL('file:///run/netns/a%20b'))).toBe('/run/netns/a b');
    expect(codeOf(() => checkPath('')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => checkPath('/a\0b')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => checkPath(new URL('http://x/'))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => checkPath(3)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('moduleUrlOf takes absolute paths and file: URLs only', () => {
    expect(moduleUrlOf('/tmp/m.mjs')).toBe('file:///tmp/m.mjs');
    expect(moduleUrlOf('file:///tmp/m.mjs')).toBe('file:///tmp/m.mjs');
    expect(moduleUrlOf(new URL('file:///tmp/m.mjs'))).toBe('file:///tmp/m.mjs');
    expect(codeOf(() => moduleUrlOf('./m.mjs')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => moduleUrlOf('/a\0')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => moduleUrlOf(new URL('https://x/m.mjs'))).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(codeOf(() => moduleUrlOf(null)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});

describe('numbers', () => {
  it('checkPid takes integers 1..2^22', () => {
    expect(checkPid(1)).toBe(1);
    expect(checkPid(4194304)).toBe(4194304);
    for (const bad of [0, -1, 1.5, 4194305, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(codeOf(() => checkPid(bad)).code, String(bad)).toBe('ERR_OUT_OF_RANGE');
    }
    expect(codeOf(() => checkPid('1')).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(codeOf(() => checkPid(1n)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('checkMs defaults undefined and refuses negatives and non-finite values', () => {
    expect(checkMs(undefined, 't', 7)).toBe(7);
    expect(checkMs(0, 't', 7)).toBe(0);
    expect(codeOf(() => checkMs(-1, 't', 7)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => checkMs(Number.NaN, 't', 7)).code).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => checkMs('1', 't', 7)).code).toBe('ERR_INVALID_ARG_TYPE');
  });
});
