/**
 * The value codec: decoding and encoding every kind on hand-built BTF, the refusals with their
 * codes and paths, and round trips. The bpftool oracle for the same types is in
 * `codec-bpftool.test.ts`.
 */
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED } from '@bpfjs/uapi/linux/btf';
import { describe, expect, it } from 'vitest';
import {
  BtfCodec,
  BtfFormatError,
  type BtfValue,
  BtfValueError,
  BtfWriter,
  stringifyBpftool,
} from './index.js';
import { sampleTypes } from './test/sample-types.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    if (BtfValueError.isInstance(e)) return `${e.code} ${e.path}`;
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('BtfCodec', () => {
  const { btf, ids } = sampleTypes();

  it('decodes and encodes a struct of every kind, with C member names', () => {
    const c = new BtfCodec(btf, ids.all);
    expect(c.size).toBe(btf.sizeOf(ids.all));
    const value = {
      u64: 2n ** 64n - 1n,
      s64: -5n,
      str: 'hello',
      notStr: [104, 105, -56, 1, 2, 3, 4, 5],
      bytes: [1, 2, 255],
      flag: true,
      chars: [65, 10, 0, 200],
      color: 'BLUE',
      otherColor: 77,
      small: 5,
      signedBits: -3,
      ua: 0xdeadbeef,
      ub: -559038737,
      ptr: 0xffff888012345678n,
      big: 'HUGE',
      wide: 2n ** 64n + 5n,
      inner: { x: 42, arr: [1, 2] },
      s32: -7,
      u32: 4000000000,
      bits40: 2n ** 39n + 12345n,
      boolBit: true,
      enumBit: 'RED',
    };
    const bytes = c.encode(value);
    expect(bytes.byteLength).toBe(c.size);
    expect(c.decode(bytes)).toEqual(value);
    // the bpftool shape: bit-fields and __int128 as hex strings, anonymous members under ""
    const b = c.formatBpftool(bytes) as Record<string, BtfValue>;
    expect(b.small).toBe('0x5');
    expect(b.signedBits).toBe('0x1d');
    expect(b.wide).toBe('0x10000000000000005');
    expect(b['']).toEqual({ ua: 3735928559, ub: -559038737 });
    expect(b.chars).toEqual(['A', '\n', '\0', '\u00c8']);
    expect(stringifyBpftool(b)).toContain('"chars":["A","\\u000a","\\u0000","\\u00c8"]');
    expect(stringifyBpftool(b)).toContain('"u64":18446744073709551615,');
  });

  it('fills what a value leaves out with zeros and pads short arrays and strings', () => {
    const c = new BtfCodec(btf, ids.all);
    const d = c.decode(c.encode({ str: 'x', inner: { arr: [9] } })) as Record<string, unknown>;
    expect(d.str).toBe('x');
    expect(d.u64).toBe(0n);
    expect(d.color).toBe('RED');
    expect(d.inner).toEqual({ x: 0, arr: [9, 0] });
    expect(d.notStr).toBe('');
    expect(c.decode(c.encode({ bytes: new Uint8Array([7, 8]) }))).toMatchObject({ bytes: [7, 8, 0] });
  });

  it('refuses values that do not fit, naming the place', () => {
    const c = new BtfCodec(btf, ids.all);
    expect(codeOf(() => c.encode({ nope: 1 }))).toBe('ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD value.nope');
    expect(codeOf(() => c.encode({ inner: { y: 1 } }))).toBe(
      'ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD value.inner.y',
    );
    expect(codeOf(() => c.encode({ u32: 2 ** 32 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.u32');
    expect(codeOf(() => c.encode({ u32: -1 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.u32');
    expect(codeOf(() => c.encode({ s32: 2 ** 31 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.s32');
    expect(codeOf(() => c.encode({ u64: 2n ** 64n }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.u64');
    expect(codeOf(() => c.encode({ u32: 1.5 }))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value.u32');
    expect(codeOf(() => c.encode({ u32: '1' }))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value.u32');
    expect(codeOf(() => c.encode({ small: 8 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.small');
    expect(codeOf(() => c.encode({ signedBits: -17 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.signedBits');
    expect(codeOf(() => c.encode({ signedBits: 16 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.signedBits');
    expect(codeOf(() => c.encode({ str: '12345678' }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.str');
    expect(codeOf(() => c.encode({ str: 'a\0b' }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.str');
    expect(codeOf(() => c.encode({ bytes: 'abc' }))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value.bytes');
    expect(codeOf(() => c.encode({ bytes: [1, 2, 3, 4] }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.bytes');
    expect(codeOf(() => c.encode({ bytes: [1, 256] }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.bytes[1]');
    expect(codeOf(() => c.encode({ color: 'GREEN' }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.color');
    expect(codeOf(() => c.encode({ enumBit: 'BLUE' }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.enumBit');
    expect(codeOf(() => c.encode({ flag: 'yes' }))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value.flag');
    expect(codeOf(() => c.encode({ inner: [1] }))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value.inner');
    expect(codeOf(() => c.encode(null))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value');
    expect(codeOf(() => c.encode({ ua: 1, ub: 2 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.ub');
    expect(codeOf(() => c.decode(new Uint8Array(3)))).toBe('ERR_BPFJS_BTF_VALUE_SIZE bytes');
    const out = new Uint8Array(c.size + 4).fill(0xaa);
    expect(codeOf(() => c.encodeInto({ u32: -1 }, out, 4))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.u32');
    expect(out.every((x) => x === 0xaa)).toBe(true);
    expect(codeOf(() => c.encodeInto({}, out, 5))).toBe('ERR_OUT_OF_RANGE');
    c.encodeInto({ u32: 1 }, out, 4);
    expect(c.decode(out.subarray(4))).toMatchObject({ u32: 1 });
  });

  it('writes a union from one member, or from several that agree', () => {
    const c = new BtfCodec(btf, ids.union);
    expect(c.decode(c.encode({ x: 0x4142434400000000n }))).toMatchObject({ x: 0x4142434400000000n, n: 0 });
    // a decoded union names every member: it encodes back to the same bytes
    const bytes = new Uint8Array([0x68, 0x69, 0, 0x41, 0x42, 0x43, 0x44, 0x45]);
    const v = c.decode(bytes) as Record<string, unknown>;
    expect(v.s).toBe('hi');
    expect(Buffer.compare(c.encode(v), bytes)).toBe(0);
    expect(codeOf(() => c.encode({ s: 'hi', x: 1n }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.x');
  });

  it('decodes a DATASEC as its variables, and bpftool shape as bpftool nests it', () => {
    const c = new BtfCodec(btf, ids.datasec);
    const bytes = c.encode({ counter: 3, name: 'abc' });
    expect(c.decode(bytes)).toEqual({ counter: 3, name: 'abc' });
    expect(c.formatBpftool(bytes)).toEqual({ '.data': [{ counter: 3 }, { name: 'abc' }] });
    expect(codeOf(() => c.encode({ other: 1 }))).toBe('ERR_BPFJS_BTF_VALUE_UNKNOWN_FIELD value.other');
  });

  it('handles floats, __int128, old-style bit-fields and typedef chains', () => {
    const w = new BtfWriter();
    const dbl = w.add({ kind: 'float', name: 'double', size: 8 });
    const flt = w.add({ kind: 'float', name: 'float', size: 4 });
    const i128 = w.add({
      kind: 'int',
      name: '__int128',
      size: 16,
      int: { encoding: BTF_INT_SIGNED, bits: 128 },
    });
    const u24 = w.add({ kind: 'int', name: 'u24', size: 4, int: { encoding: 0, offset: 0, bits: 24 } });
    const ch = w.add({ kind: 'int', name: 'char', size: 1, int: { encoding: BTF_INT_CHAR, bits: 8 } });
    const td = w.add({ kind: 'typedef', name: 'money', type: dbl });
    const s = w.add({
      kind: 'struct',
      name: 's',
      size: 48,
      kflag: false,
      members: [
        { name: 'd', type: td, bitOffset: 0 },
        { name: 'f', type: flt, bitOffset: 64 },
        { name: 'old', type: u24, bitOffset: 96 },
        { name: 'c', type: ch, bitOffset: 128 },
        { name: 'big', type: i128, bitOffset: 256 },
      ],
    });
    const c = new BtfCodec(w.toBtf(), s);
    const v = { d: 1.5, f: 0.25, old: 0xabcdef, c: 65, big: -(2n ** 100n) };
    expect(c.decode(c.encode(v))).toEqual(v);
    expect(c.formatBpftool(c.encode(v))).toMatchObject({
      old: '0xabcdef',
      c: 'A',
      big: `0x${(2n ** 128n - 2n ** 100n).toString(16)}`,
    });
    expect(codeOf(() => c.encode({ old: 2 ** 24 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.old');
    expect(codeOf(() => c.encode({ f: 1e39 }))).toBe('ERR_BPFJS_BTF_VALUE_RANGE value.f');
    expect(codeOf(() => c.encode({ d: 1n }))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value.d');
  });

  it('refuses types without values and loops in the type graph', () => {
    const w = new BtfWriter();
    const int = w.add({ kind: 'int', name: 'int', size: 4, int: { encoding: BTF_INT_SIGNED, bits: 32 } });
    const proto = w.add({ kind: 'func_proto', type: int });
    const fwd = w.add({ kind: 'fwd', name: 'x' });
    // a struct that contains itself by value (no C compiler makes this; a fuzzer does)
    const self = w.add({
      kind: 'struct',
      name: 'self',
      size: 4,
      members: [{ name: 'me', type: 4, bitOffset: 0 }],
    });
    const b = w.toBtf();
    expect(codeOf(() => new BtfCodec(b, 0))).toBe('ERR_BPFJS_BTF_VALUE_UNSUPPORTED value');
    expect(codeOf(() => new BtfCodec(b, proto))).toBe('ERR_BPFJS_BTF_VALUE_UNSUPPORTED value');
    expect(codeOf(() => new BtfCodec(b, fwd))).toBe('ERR_BPFJS_BTF_VALUE_UNSUPPORTED value');
    expect(() => new BtfCodec(b, self)).toThrow(BtfFormatError);
    expect(codeOf(() => new BtfCodec(b, 99))).toBe('ERR_BPFJS_BTF_BAD_ID');
    const bool = w.add({ kind: 'int', name: '_Bool', size: 1, int: { encoding: BTF_INT_BOOL, bits: 8 } });
    const cb = new BtfCodec(w.toBtf(), bool);
    expect(cb.decode(new Uint8Array([2]))).toBe(true);
    expect(codeOf(() => cb.encode(2))).toBe('ERR_BPFJS_BTF_VALUE_TYPE value');
  });
});
