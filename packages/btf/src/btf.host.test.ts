/**
 * The BTF parser on hand-built blobs: every decoded kind, unknown kinds described by the layout
 * section, typed refusals, seeded corruption and member paths. Kernel-independent (bytes in, types
 * out), so it runs once, on the host; the running kernel's vmlinux is parsed in `btf.test.ts`.
 */
import {
  BTF_KIND_ARRAY,
  BTF_KIND_CONST,
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_MAGIC,
  BtfHeader,
} from '@bpfjs/uapi/linux/btf';
import { describe, expect, it } from 'vitest';
import { Btf, BtfFormatError, BtfLookupError, type BtfMemberInfo } from './index.js';

/** Builds a small BTF blob by hand (little-endian). */
function blob(
  types: number[][],
  strings: string[],
  opts: { layout?: number[][]; hdrLen?: number; magic?: number } = {},
): Uint8Array {
  const str = `\0${strings.join('\0')}\0`;
  const words = types.flat();
  const typeBytes = new Uint8Array(words.length * 4);
  const dv = new DataView(typeBytes.buffer);
  for (const [i, w] of words.entries()) dv.setUint32(i * 4, w >>> 0, true);
  const layout = new Uint8Array((opts.layout ?? []).flat());
  const hdrLen = opts.hdrLen ?? (opts.layout ? BtfHeader.size : 24);
  const strBytes = new TextEncoder().encode(str);
  const out = new Uint8Array(hdrLen + typeBytes.length + strBytes.length + layout.length);
  const h = new DataView(out.buffer);
  h.setUint16(0, opts.magic ?? BTF_MAGIC, true);
  h.setUint8(2, 1);
  h.setUint32(4, hdrLen, true);
  h.setUint32(8, 0, true);
  h.setUint32(12, typeBytes.length, true);
  h.setUint32(16, typeBytes.length, true);
  h.setUint32(20, strBytes.length, true);
  if (hdrLen >= 32) {
    h.setUint32(24, typeBytes.length + strBytes.length, true);
    h.setUint32(28, layout.length, true);
  }
  out.set(typeBytes, hdrLen);
  out.set(strBytes, hdrLen + typeBytes.length);
  out.set(layout, hdrLen + typeBytes.length + strBytes.length);
  return out;
}

const info = (kind: number, vlen = 0, kflag = false) => ((kflag ? 1 << 31 : 0) | (kind << 24) | vlen) >>> 0;

function sample(extra: number[][] = [], opts = {}) {
  const names = ['int', 'pair', 'a', 'b', 'c', 'color', 'RED', 'BLUE', 'big', 'HUGE', 'pair_t'];
  const str = `\0${names.join('\0')}\0`;
  const o = (s: string) => str.indexOf(`\0${s}\0`) + 1;
  const types = [
    // 1: int (32 bits, signed)
    [o('int'), info(BTF_KIND_INT), 4, (1 << 24) | 32],
    // 2: struct pair { int a; unsigned b:3; unsigned c:5; } with kind_flag bit-fields
    [
      o('pair'),
      info(BTF_KIND_STRUCT, 3, true),
      8,
      o('a'),
      1,
      0,
      o('b'),
      1,
      (3 << 24) | 32,
      o('c'),
      1,
      (5 << 24) | 35,
    ],
    // 3: enum color { RED = -1, BLUE = 7 } (signed)
    [o('color'), info(BTF_KIND_ENUM, 2, true), 4, o('RED'), -1, o('BLUE'), 7],
    // 4: enum64 big { HUGE = 2^63 }
    [o('big'), info(BTF_KIND_ENUM64, 1), 8, o('HUGE'), 0, 0x80000000],
    // 5: pointer to 2, 6: typedef pair_t -> 2
    [0, info(BTF_KIND_PTR), 2],
    [o('pair_t'), info(BTF_KIND_TYPEDEF), 2],
    ...extra,
  ];
  return blob(types, names, opts);
}

describe('Btf on a hand-built blob', () => {
  it('decodes ints, kind_flag bit-fields, signed enums, enum64, pointers and typedefs', () => {
    const b = Btf.parse(sample());
    expect(b.count).toBe(7);
    expect(b.type(1)).toMatchObject({
      kindName: 'int',
      name: 'int',
      size: 4,
      int: { encoding: 1, offset: 0, bits: 32 },
    });
    const pair = b.type(2);
    expect(pair.members).toEqual([
      { name: 'a', type: 1, bitOffset: 0, bitfieldSize: 0 },
      { name: 'b', type: 1, bitOffset: 32, bitfieldSize: 3 },
      { name: 'c', type: 1, bitOffset: 35, bitfieldSize: 5 },
    ]);
    expect(b.type(3).values).toEqual([
      { name: 'RED', value: -1 },
      { name: 'BLUE', value: 7 },
    ]);
    expect(b.type(4).values).toEqual([{ name: 'HUGE', value: 2n ** 63n }]);
    expect(b.resolve(6)).toBe(2);
    expect(b.sizeOf(5)).toBe(8);
    expect(b.sizeOf(6)).toBe(8);
    expect(b.findByName('pair', BTF_KIND_STRUCT)).toEqual([2]);
    expect(b.findByName('pair', BTF_KIND_ENUM)).toEqual([]);
    expect(b.findByName('nope')).toEqual([]);
    expect(b.type(0)).toMatchObject({ kindName: 'void' });
  });

  it('skips a kind it does not know when the layout section describes it', () => {
    // kind 25 with info_sz 4 and elem_sz 8, vlen 2: 4 + 16 bytes after btf_type
    const layout = Array.from({ length: 26 }, (_, k) => (k === 25 ? [4, 8, 0, 0] : [0, 0, 0, 0]));
    const b = Btf.parse(sample([[0, info(25, 2), 0, 1, 2, 3, 4, 5]], { layout }));
    expect(b.count).toBe(8);
    expect(b.type(7).kindName).toBe('kind25');
  });

  it('rejects what is not BTF with a typed error', () => {
    const bad = (data: Uint8Array) => () => Btf.parse(data);
    expect(bad(sample([], { magic: 0x1234 }))).toThrow(BtfFormatError);
    expect(bad(sample([], { magic: 0x1234 }))).toThrow(/bad magic/);
    expect(bad(new Uint8Array(4))).toThrow(/shorter than its header/);
    expect(bad(sample([[0, info(25, 0), 0]]))).toThrow(/unknown kind 25/);
    const truncated = sample().slice(0, 40);
    expect(bad(truncated)).toThrow(BtfFormatError);
    try {
      Btf.parse(sample([], { magic: 0 }));
    } catch (e) {
      expect((e as BtfFormatError).code).toBe('ERR_BPFJS_BTF_INVALID');
    }
    expect(() => Btf.parse('x' as unknown as Uint8Array)).toThrow(TypeError);
    const b = Btf.parse(sample());
    expect(() => b.type(99)).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_BTF_BAD_ID' }));
    expect(() => b.type(-1)).toThrow(BtfLookupError);
    expect(BtfFormatError.isInstance(catching(() => Btf.parse(new Uint8Array(4))))).toBe(true);
  });

  it('refuses bad string offsets, references past the last id and loops with typed errors', () => {
    // name offset past the string section
    const badName = Btf.parse(sample([[9999, info(BTF_KIND_PTR), 1]]));
    expect(() => badName.type(7)).toThrow(/string offset 9999 out of range/);
    expect(() => badName.findByName('int')).toThrow(BtfFormatError);
    // a pointer to id 99 in a blob of 8 ids
    const badRef = Btf.parse(sample([[0, info(BTF_KIND_PTR), 99]]));
    expect(() => badRef.type(7)).toThrow(/refers to type 99/);
    // typedef 7 -> 8 -> 7, an array of itself, a struct whose anonymous member is itself
    const loops = Btf.parse(
      sample([
        [0, info(BTF_KIND_TYPEDEF), 8],
        [0, info(BTF_KIND_CONST), 7],
        [0, info(BTF_KIND_ARRAY), 0, 9, 1, 2],
        [0, info(BTF_KIND_STRUCT, 1), 4, 0, 10, 0],
      ]),
    );
    expect(() => loops.resolve(7)).toThrow(BtfFormatError);
    expect(() => loops.sizeOf(7)).toThrow(BtfFormatError);
    expect(() => loops.sizeOf(9)).toThrow(BtfFormatError);
    expect(() => loops.alignOf(9)).toThrow(BtfFormatError);
    expect(() => loops.alignOf(10)).toThrow(BtfFormatError);
    expect(() => loops.member(10, 'x')).toThrow(BtfFormatError);
    // a string section that does not end with NUL, a type section that ends inside a record
    const noNul = sample();
    noNul[noNul.length - 1] = 0x41;
    expect(() => Btf.parse(noNul)).toThrow(/does not end with NUL/);
    const cut = sample();
    new DataView(cut.buffer).setUint32(12, new DataView(cut.buffer).getUint32(12, true) - 4, true);
    expect(() => Btf.parse(cut)).toThrow(BtfFormatError);
  });

  it('survives random corruption: every outcome is a value or a typed error', () => {
    // seeded, replayable: flip bytes of a valid blob and walk every type and lookup
    let seed = 0x5eed;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const good = sample();
    let typed = 0;
    for (let round = 0; round < 2000; round++) {
      const data = good.slice();
      for (let k = 0, n = 1 + (rand() % 4); k < n; k++) data[rand() % data.length] = rand() & 0xff;
      try {
        const b = Btf.parse(data);
        for (let id = 0; id < b.count; id++) {
          b.type(id);
          b.resolve(id);
          for (const op of [() => b.sizeOf(id), () => b.alignOf(id), () => b.member(id, 'a')]) {
            try {
              op();
            } catch (e) {
              if (!BtfLookupError.isInstance(e) && !BtfFormatError.isInstance(e)) throw e;
            }
          }
        }
        b.findByName('int');
      } catch (e) {
        if (!BtfLookupError.isInstance(e) && !BtfFormatError.isInstance(e)) throw e;
        typed++;
      }
    }
    expect(typed).toBeGreaterThan(100);
  });

  it('finds members by C path through anonymous members, with bit-fields of both encodings', () => {
    const b = Btf.parse(sample());
    expect(b.member(2, 'b')).toEqual({ type: 1, bitOffset: 32, bitfieldSize: 3 });
    expect(b.member(6, ['c'])).toEqual({ type: 1, bitOffset: 35, bitfieldSize: 5 });
    expect(b.bitfield(b.type(2).members?.[2] as BtfMemberInfo)).toEqual({
      bitOffset: 35,
      bits: 5,
      signed: true,
    });
    expect(() => b.member(2, 'a.')).toThrow(/not a member path/);
    expect(() => b.member(2, 'a b')).toThrow(/not a member path/);
    expect(() => b.member(2, 'a[1]b')).toThrow(/not a member path/);
    expect(b.alignOf(2)).toBe(4);
    expect(b.alignOf(5)).toBe(8);
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}
