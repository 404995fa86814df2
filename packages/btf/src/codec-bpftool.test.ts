/**
 * The codec against bpftool, the oracle for how BTF values are formatted: the fixture's BTF is
 * loaded into the kernel (BPF_BTF_LOAD), array maps are created with its types as value types
 * (struct of every kind, union, DATASEC, enum, char array, old-style bit-fields, array of
 * structs), filled with seeded random bytes and with values encoded by the codec, and
 * `bpftool -j map dump id N` must print, byte for byte, the JSON bpfjs builds from the same bytes
 * (`formatBpftool` + `stringifyBpftool`, with the keys and hex byte arrays around it).
 *
 * Random bytes avoid `"` and `\` (0x22, 0x5c): bpftool 7.1 prints the first unescaped in a
 * CHAR-encoded char and a backslash in a string as `\n` (its JSON writer's bugs), and `_Bool`
 * bytes are 0 or 1 (any other value is undefined behaviour in bpftool's C).
 */
import { execFileSync } from 'node:child_process';
import { btfLoad, mapCreate, mapGetInfo, mapUpdateElem } from '@bpfjs/sys';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { BPF_MAP_TYPE_ARRAY } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { BtfCodec, type BtfValue, stringifyBpftool } from './index.js';
import { sampleTypes } from './test/sample-types.js';

const gate = requireKernel().and(
  requireExecutable('bpftool', 'apt-get install bpftool (scripts/setup does)'),
);

const hexBytes = (b: Uint8Array) =>
  `[${[...b].map((x) => `"0x${x.toString(16).padStart(2, '0')}"`).join(',')}]`;

function randomBytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let x = next() & 0xff;
    if (x === 0x22 || x === 0x5c) x = 0x23;
    out[i] = x;
  }
  return out;
}

describe('BtfCodec against bpftool map dump', () => {
  const { blob, btf, ids } = sampleTypes();
  let seed = 0xb7f;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed >>> 8;
  };

  /** Writes `values` into a new array map of `typeId` and compares bpftool's dump with ours. */
  function check(typeId: number, values: Uint8Array[]): void {
    const codec = new BtfCodec(btf, typeId);
    const keyCodec = new BtfCodec(btf, ids.u32);
    using btfFd = btfLoad({ data: blob });
    using map = mapCreate({
      type: BPF_MAP_TYPE_ARRAY,
      keySize: 4,
      valueSize: codec.size,
      maxEntries: values.length,
      btfFd,
      btfKeyTypeId: ids.u32,
      btfValueTypeId: typeId,
    });
    for (const [i, v] of values.entries()) mapUpdateElem(map, keyCodec.encode(i), v, 0);
    const { id } = mapGetInfo(map);
    const out = execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(id)], { encoding: 'utf8' }).trim();
    const mine = `[${values
      .map(
        (v, i) =>
          `{"key":${hexBytes(keyCodec.encode(i))},"value":${hexBytes(v)},"formatted":{"key":${i},"value":${stringifyBpftool(codec.formatBpftool(v))}}}`,
      )
      .join(',')}]`;
    if (out !== mine) {
      // show the first differing entry readably
      const theirs = JSON.parse(out) as { formatted: unknown }[];
      const ours = JSON.parse(mine) as { formatted: unknown }[];
      for (let i = 0; i < theirs.length; i++)
        expect(ours[i]?.formatted, `entry ${i}`).toEqual(theirs[i]?.formatted);
      expect(mine).toBe(out);
    }
  }

  const random = (typeId: number, n: number, fix?: (b: Uint8Array) => void) => {
    const size = btf.sizeOf(typeId);
    return Array.from({ length: n }, () => {
      const b = randomBytes(size, next);
      fix?.(b);
      return b;
    });
  };
  const encoded = (typeId: number, values: unknown[]) =>
    values.map((v) => new BtfCodec(btf, typeId).encode(v));

  gate.it(
    'a struct of every kind: ints, char arrays, bool, enums, bit-fields, anonymous union, pointer, int128, nesting',
    () => {
      const flag = btf.member(ids.all, 'flag').bitOffset / 8;
      check(ids.all, [
        ...encoded(ids.all, [
          {},
          {
            u64: 2n ** 64n - 1n,
            s64: -(2n ** 63n),
            str: 'hello',
            notStr: [104, 105, -56, 1, 2, 3, 4, 5],
            bytes: [1, 2, 255],
            flag: true,
            chars: [65, 10, 0, 200],
            color: 'BLUE',
            otherColor: 77,
            small: 7,
            signedBits: -16,
            ub: -1,
            ptr: 0xffff888012345678n,
            big: 'HUGE',
            wide: -(2n ** 127n),
            inner: { x: 42, arr: [65535, 1] },
            s32: -(2 ** 31),
            u32: 2 ** 32 - 1,
            bits40: 2n ** 40n - 1n,
            boolBit: true,
            enumBit: -1,
          },
          { str: 'seven77', notStr: "it's ok" },
        ]),
        ...random(ids.all, 40, (b) => {
          b[flag] = (b[flag] as number) & 1;
        }),
      ]);
    },
  );

  gate.it('a union, a DATASEC, an enum, a char array, old-style bit-fields and an array of structs', () => {
    check(ids.union, [...encoded(ids.union, [{ s: 'abc' }, { x: 1n }]), ...random(ids.union, 20)]);
    check(ids.datasec, [
      ...encoded(ids.datasec, [{ counter: -1, name: 'bpfjs' }]),
      ...random(ids.datasec, 20),
    ]);
    check(ids.color, [...encoded(ids.color, ['RED', 'BLUE', 5, -3]), ...random(ids.color, 10)]);
    check(ids.str16, [
      ...encoded(ids.str16, ['', 'fifteen chars..', 'a b/c{d}[e]:f,g']),
      ...random(ids.str16, 10),
      // printable up to a NUL, then garbage: still a string for bpftool
      new Uint8Array([0x41, 0x42, 0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
    ]);
    check(ids.oldBits, [...encoded(ids.oldBits, [{ a: 7, b: -4096, c: 65535 }]), ...random(ids.oldBits, 20)]);
    check(ids.structArray, [
      ...encoded(ids.structArray, [[{ x: 1, arr: [2, 3] }, { x: 4 }]]),
      ...random(ids.structArray, 10),
    ]);
  });

  it('decode of the same kind of bytes round-trips through encode', () => {
    // every random value above, decoded and encoded again, decodes to the same value
    for (const id of [ids.all, ids.union, ids.datasec, ids.color, ids.oldBits, ids.structArray]) {
      const codec = new BtfCodec(btf, id);
      for (const b of random(id, 50)) {
        const v: BtfValue = codec.decode(b);
        expect(codec.decode(codec.encode(v))).toEqual(v);
      }
    }
  });
});
