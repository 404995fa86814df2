/**
 * The writer on BTF built from scratch: every kind written and read back, in-place replacement of
 * types, refusals of specs that cannot be written. Kernel-independent: runs once, on the host; the
 * running kernel's vmlinux (round trips, split BTF read by bpftool) is in `writer.test.ts`.
 */
import { BTF_INT_SIGNED, BTF_VAR_GLOBAL_ALLOCATED } from '@bpfjs/uapi/linux/btf';
import { describe, expect, it } from 'vitest';
import { BtfWriter } from './index.js';

const equalBytes = (a: Uint8Array, b: Uint8Array) =>
  a.byteLength === b.byteLength && Buffer.compare(a, b) === 0;

/** A small object-like BTF written from scratch: every kind once. */
function everyKind(): BtfWriter {
  const w = new BtfWriter();
  const int = w.add({ kind: 'int', name: 'int', size: 4, int: { encoding: BTF_INT_SIGNED, bits: 32 } });
  const u8 = w.add({ kind: 'int', name: 'unsigned char', size: 1, int: { encoding: 0, bits: 8 } });
  const ptr = w.add({ kind: 'ptr', type: int });
  const arr = w.add({ kind: 'array', array: { type: u8, indexType: int, nelems: 16 } });
  const s = w.add({
    kind: 'struct',
    name: 'pair',
    size: 8,
    members: [
      { name: 'a', type: int, bitOffset: 0 },
      { name: 'b', type: int, bitOffset: 32, bitfieldSize: 3 },
      { name: 'c', type: int, bitOffset: 35, bitfieldSize: 29 },
    ],
  });
  w.add({
    kind: 'union',
    name: 'u',
    size: 16,
    members: [
      { name: 'x', type: arr, bitOffset: 0 },
      { name: 'p', type: ptr, bitOffset: 0 },
    ],
  });
  w.add({
    kind: 'enum',
    name: 'color',
    size: 4,
    values: [
      { name: 'RED', value: -1 },
      { name: 'BLUE', value: 7 },
    ],
  });
  w.add({ kind: 'enum64', name: 'big', size: 8, values: [{ name: 'HUGE', value: 2n ** 63n }] });
  w.add({ kind: 'fwd', name: 'later', kflag: true });
  const td = w.add({ kind: 'typedef', name: 'pair_t', type: s });
  w.add({ kind: 'volatile', type: td });
  w.add({ kind: 'const', type: td });
  w.add({ kind: 'restrict', type: ptr });
  const proto = w.add({ kind: 'func_proto', type: int, params: [{ name: 'ctx', type: ptr }] });
  const fn = w.add({ kind: 'func', name: 'prog', type: proto, linkage: 1 });
  const v = w.add({ kind: 'var', name: 'counter', type: int, linkage: BTF_VAR_GLOBAL_ALLOCATED });
  w.add({ kind: 'datasec', name: '.data', size: 4, vars: [{ type: v, offset: 0, size: 4 }] });
  w.add({ kind: 'float', name: 'double', size: 8 });
  w.add({ kind: 'decl_tag', name: 'tag', type: fn, componentIdx: 0 });
  w.add({ kind: 'type_tag', name: 'user', type: int });
  return w;
}

describe('BtfWriter', () => {
  it('writes every kind and reads it back', () => {
    const b = everyKind().toBtf();
    expect(b.count).toBe(21);
    expect(b.type(5)).toMatchObject({ name: 'pair', kflag: true, size: 8 });
    expect(b.type(5).members?.[2]).toEqual({ name: 'c', type: 1, bitOffset: 35, bitfieldSize: 29 });
    expect(b.type(7)).toMatchObject({
      kflag: true,
      values: [
        { name: 'RED', value: -1 },
        { name: 'BLUE', value: 7 },
      ],
    });
    expect(b.type(8).values).toEqual([{ name: 'HUGE', value: 2n ** 63n }]);
    expect(b.type(9)).toMatchObject({ kindName: 'fwd', kflag: true });
    expect(b.type(15)).toMatchObject({ kindName: 'func', linkage: 1, type: 14 });
    expect(b.type(16)).toMatchObject({ kindName: 'var', linkage: 1 });
    expect(b.type(17).vars).toEqual([{ type: 16, offset: 0, size: 4 }]);
    expect(b.type(19)).toMatchObject({ kindName: 'decl_tag', componentIdx: 0 });
    expect(b.type(20)).toMatchObject({ kindName: 'type_tag', name: 'user' });
    expect(b.sizeOf(10)).toBe(8);
    // the decoded types written again give the same bytes
    const again = new BtfWriter();
    for (let id = 1; id < b.count; id++) again.add(b.type(id));
    expect(equalBytes(again.encode(), b.bytes)).toBe(true);
    // strings are deduplicated
    const w = new BtfWriter();
    expect(w.addString('int')).toBe(w.addString('int'));
    expect(w.addString('')).toBe(0);
  });

  it('replaces types in place and keeps the rest byte for byte', () => {
    const src = everyKind().toBtf();
    const w = BtfWriter.from(src);
    // a loader's fix-ups: DATASEC size/offsets, FLOAT → STRUCT of the same size, DECL_TAG → INT
    w.set(17, { ...src.type(17), size: 8, vars: [{ type: 16, offset: 4, size: 4 }] });
    w.set(18, { kind: 'struct', name: 'double', size: 8 });
    w.set(19, { kind: 'int', name: 'tag', size: 1, int: { encoding: 0, bits: 8 } });
    const b = w.toBtf();
    expect(b.type(17)).toMatchObject({ size: 8, vars: [{ type: 16, offset: 4, size: 4 }] });
    expect(b.type(18)).toMatchObject({ kindName: 'struct', size: 8, members: [] });
    expect(b.type(19)).toMatchObject({ kindName: 'int', size: 1 });
    for (let id = 1; id < 17; id++) expect(equalBytes(b.rawType(id), src.rawType(id))).toBe(true);
    expect(w.get(18)).toMatchObject({ kind: 'struct' });
    expect(w.get(3)).toMatchObject({ kindName: 'ptr' });
  });

  it('refuses specs it cannot write', () => {
    const w = new BtfWriter();
    const code = { code: 'ERR_INVALID_ARG_VALUE' };
    expect(() => w.add({ kind: 'bogus' as 'int' })).toThrow(expect.objectContaining(code));
    expect(() => w.add({ kind: 'int', name: 'x' })).toThrow(/needs it/);
    expect(() => w.add({ kind: 'int', size: 4, int: { encoding: 0, bits: 200 } })).toThrow(/bits/);
    expect(() => w.add({ kind: 'ptr', name: 'a\0b', type: 0 })).toThrow(/without NUL/);
    expect(() =>
      w.add({ kind: 'struct', size: 4, kflag: false, members: [{ type: 0, bitOffset: 0, bitfieldSize: 3 }] }),
    ).toThrow(/needs kflag/);
    expect(() => w.add({ kind: 'enum', size: 4, values: [{ name: 'X', value: 2 ** 32 }] })).toThrow(
      /out of range/,
    );
    expect(() => w.set(5, { kind: 'ptr', type: 0 })).toThrow(/not a type of this writer/);
    // a reference past the last id is found when writing
    w.add({ kind: 'ptr', type: 9 });
    expect(() => w.encode()).toThrow(/refers to type 9/);
  });
});
