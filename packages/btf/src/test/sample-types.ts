/**
 * Test fixture: one BTF blob with a type of every value kind the codec handles — a struct of
 * integers of every width and sign, char arrays that are and are not strings, `_Bool`, enums and
 * enum64, kind_flag bit-fields (unsigned, signed, 40-bit, bool, enum), an anonymous union, a
 * pointer, `__int128`, a nested struct with an array — plus a union, a DATASEC, an old-style
 * (kind_flag 0) bit-field struct and an array of structs. No FLOAT here: bpftool (7.1) cannot
 * print one, and the fixture is also the bpftool oracle's.
 */
import { BTF_INT_BOOL, BTF_INT_CHAR, BTF_INT_SIGNED, BTF_VAR_GLOBAL_ALLOCATED } from '@bpfjs/uapi/linux/btf';
import { type Btf, BtfWriter } from '../index.js';

/** The ids of the fixture's top-level types. */
export interface SampleIds {
  u32: number;
  all: number;
  union: number;
  datasec: number;
  color: number;
  str16: number;
  oldBits: number;
  structArray: number;
}

/** Builds the fixture; `blob` is what `BPF_BTF_LOAD` takes. */
export function sampleTypes(): { btf: Btf; blob: Uint8Array; ids: SampleIds } {
  const w = new BtfWriter();
  const u32 = w.add({ kind: 'int', name: 'unsigned int', size: 4, int: { encoding: 0, bits: 32 } });
  const s32 = w.add({ kind: 'int', name: 'int', size: 4, int: { encoding: BTF_INT_SIGNED, bits: 32 } });
  const u16 = w.add({ kind: 'int', name: 'short unsigned int', size: 2, int: { encoding: 0, bits: 16 } });
  const u64 = w.add({ kind: 'int', name: 'long long unsigned int', size: 8, int: { encoding: 0, bits: 64 } });
  const s64 = w.add({
    kind: 'int',
    name: 'long long int',
    size: 8,
    int: { encoding: BTF_INT_SIGNED, bits: 64 },
  });
  const ch = w.add({ kind: 'int', name: 'char', size: 1, int: { encoding: BTF_INT_SIGNED, bits: 8 } });
  const uch = w.add({ kind: 'int', name: 'unsigned char', size: 1, int: { encoding: 0, bits: 8 } });
  const bool = w.add({ kind: 'int', name: '_Bool', size: 1, int: { encoding: BTF_INT_BOOL, bits: 8 } });
  const cch = w.add({ kind: 'int', name: 'xchar', size: 1, int: { encoding: BTF_INT_CHAR, bits: 8 } });
  const i128 = w.add({
    kind: 'int',
    name: '__int128',
    size: 16,
    int: { encoding: BTF_INT_SIGNED, bits: 128 },
  });
  const u8x3 = w.add({ kind: 'array', array: { type: uch, indexType: u32, nelems: 3 } });
  const c8 = w.add({ kind: 'array', array: { type: ch, indexType: u32, nelems: 8 } });
  const cc4 = w.add({ kind: 'array', array: { type: cch, indexType: u32, nelems: 4 } });
  const u16x2 = w.add({ kind: 'array', array: { type: u16, indexType: u32, nelems: 2 } });
  const str16 = w.add({ kind: 'array', array: { type: ch, indexType: u32, nelems: 16 } });
  const color = w.add({
    kind: 'enum',
    name: 'color',
    size: 4,
    values: [
      { name: 'RED', value: 0 },
      { name: 'BLUE', value: -2 },
    ],
  });
  const big = w.add({ kind: 'enum64', name: 'big', size: 8, values: [{ name: 'HUGE', value: 2n ** 63n }] });
  const ptr = w.add({ kind: 'ptr', type: u32 });
  const inner = w.add({
    kind: 'struct',
    name: 'inner',
    size: 8,
    members: [
      { name: 'x', type: u32, bitOffset: 0 },
      { name: 'arr', type: u16x2, bitOffset: 32 },
    ],
  });
  const anon = w.add({
    kind: 'union',
    size: 4,
    members: [
      { name: 'ua', type: u32, bitOffset: 0 },
      { name: 'ub', type: s32, bitOffset: 0 },
    ],
  });
  const all = w.add({
    kind: 'struct',
    name: 'all',
    size: 120,
    members: [
      { name: 'u64', type: u64, bitOffset: 0 },
      { name: 's64', type: s64, bitOffset: 64 },
      { name: 'str', type: c8, bitOffset: 128 },
      { name: 'notStr', type: c8, bitOffset: 192 },
      { name: 'bytes', type: u8x3, bitOffset: 256 },
      { name: 'flag', type: bool, bitOffset: 280 },
      { name: 'chars', type: cc4, bitOffset: 288 },
      { name: 'color', type: color, bitOffset: 320 },
      { name: 'otherColor', type: color, bitOffset: 352 },
      { name: 'small', type: u32, bitOffset: 384, bitfieldSize: 3 },
      { name: 'signedBits', type: s32, bitOffset: 387, bitfieldSize: 5 },
      { name: '', type: anon, bitOffset: 416 },
      { name: 'ptr', type: ptr, bitOffset: 448 },
      { name: 'big', type: big, bitOffset: 512 },
      { name: 'wide', type: i128, bitOffset: 640 },
      { name: 'inner', type: inner, bitOffset: 768 },
      { name: 's32', type: s32, bitOffset: 832 },
      { name: 'u32', type: u32, bitOffset: 864 },
      { name: 'bits40', type: u64, bitOffset: 896, bitfieldSize: 40 },
      { name: 'boolBit', type: bool, bitOffset: 936, bitfieldSize: 1 },
      { name: 'enumBit', type: color, bitOffset: 937, bitfieldSize: 1 },
    ],
  });
  const union = w.add({
    kind: 'union',
    name: 'u8',
    size: 8,
    members: [
      { name: 's', type: c8, bitOffset: 0 },
      { name: 'x', type: u64, bitOffset: 0 },
      { name: 'n', type: u32, bitOffset: 0 },
    ],
  });
  const counter = w.add({ kind: 'var', name: 'counter', type: s32, linkage: BTF_VAR_GLOBAL_ALLOCATED });
  const nameVar = w.add({ kind: 'var', name: 'name', type: c8, linkage: BTF_VAR_GLOBAL_ALLOCATED });
  const datasec = w.add({
    kind: 'datasec',
    name: '.data',
    size: 16,
    vars: [
      { type: counter, offset: 0, size: 4 },
      { type: nameVar, offset: 8, size: 8 },
    ],
  });
  // kind_flag 0: the bit-field width is in INT types narrower than their size
  const u3 = w.add({ kind: 'int', name: 'unsigned int', size: 4, int: { encoding: 0, offset: 0, bits: 3 } });
  const s13 = w.add({
    kind: 'int',
    name: 'int',
    size: 4,
    int: { encoding: BTF_INT_SIGNED, offset: 0, bits: 13 },
  });
  const oldBits = w.add({
    kind: 'struct',
    name: 'old_bits',
    size: 4,
    kflag: false,
    members: [
      { name: 'a', type: u3, bitOffset: 0 },
      { name: 'b', type: s13, bitOffset: 3 },
      { name: 'c', type: u16, bitOffset: 16 },
    ],
  });
  const structArray = w.add({ kind: 'array', array: { type: inner, indexType: u32, nelems: 3 } });
  const blob = w.encode();
  return { btf: w.toBtf(), blob, ids: { u32, all, union, datasec, color, str16, oldBits, structArray } };
}
