import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  BTF_KIND_ENUM,
  BTF_KIND_ENUM64,
  BTF_KIND_INT,
  BTF_KIND_PTR,
  BTF_KIND_STRUCT,
  BTF_KIND_TYPEDEF,
  BTF_MAGIC,
  BtfHeader,
} from '../generated/linux/btf.js';
import { Btf, BtfFormatError, KERNEL_BTF_PATH } from './reader.js';

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
    expect(() => b.type(99)).toThrow(RangeError);
    expect(() => b.type(-1)).toThrow(RangeError);
  });
});

// in the kernel matrix (QEMU guests, older kernels with fewer types) only the parse is checked
const inMatrix = Boolean(process.env.BPFJS_KERNEL_MATRIX);

describe.skipIf(!existsSync(KERNEL_BTF_PATH) && !process.env.BPFJS_REQUIRE_KERNEL)(
  'Btf on the running kernel',
  () => {
    it('parses vmlinux (>100k types) and indexes its names in well under a second', () => {
      // best of three cold parses (each a fresh Btf: read, index all types, build the name index),
      // so a busy machine running other tests in parallel does not make this flaky
      let best = Number.POSITIVE_INFINITY;
      let b = Btf.loadKernel();
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        b = Btf.loadKernel();
        expect(b.findByName('bpf_attr')).toHaveLength(1);
        best = Math.min(best, performance.now() - t0);
      }
      expect(b.count).toBeGreaterThan(inMatrix ? 10_000 : 100_000);
      expect(best).toBeLessThan(inMatrix ? 3000 : 400);
      const info = b.type(b.findByName('bpf_link_info', BTF_KIND_STRUCT)[0] as number);
      expect(info.members?.map((m) => m.name).slice(0, 3)).toEqual(['type', 'id', 'prog_id']);
      // every type decodes
      for (let id = 0; id < b.count; id += 97) expect(b.type(id).id).toBe(id);
    });
  },
);
