// Keys and values typed by the map's BTF, checked against bpftool: what bpfjs writes, `bpftool -j
// map dump` prints in `formatted`; what bpftool writes (bytes), bpfjs decodes.
import { execFileSync } from 'node:child_process';
import { BtfWriter } from '@bpfjs/btf';
import { btfLoad } from '@bpfjs/sys';
import { expectCode, requireExecutable, requireKernel } from '@bpfjs/testkit';
import { BTF_INT_SIGNED } from '@bpfjs/uapi/linux/btf';
import { expect, it, onTestFinished } from 'vitest';
import { BpfMap, mapBtfCodecs } from './index.js';

function sample() {
  const w = new BtfWriter();
  const u32 = w.add({ kind: 'int', name: 'unsigned int', size: 4, int: { encoding: 0, bits: 32 } });
  const s16 = w.add({ kind: 'int', name: 'short', size: 2, int: { encoding: BTF_INT_SIGNED, bits: 16 } });
  const u64 = w.add({ kind: 'int', name: 'long long unsigned int', size: 8, int: { encoding: 0, bits: 64 } });
  const ch = w.add({ kind: 'int', name: 'char', size: 1, int: { encoding: BTF_INT_SIGNED, bits: 8 } });
  const name = w.add({ kind: 'array', array: { type: ch, indexType: u32, nelems: 6 } });
  const state = w.add({
    kind: 'enum',
    name: 'state',
    size: 4,
    values: [
      { name: 'IDLE', value: 0 },
      { name: 'BUSY', value: 1 },
    ],
  });
  const value = w.add({
    kind: 'struct',
    name: 'entry',
    size: 24,
    members: [
      { name: 'count', type: u64, bitOffset: 0 },
      { name: 'delta', type: s16, bitOffset: 64 },
      { name: 'name', type: name, bitOffset: 80 },
      { name: 'state', type: state, bitOffset: 128 },
      { name: 'low', type: u32, bitOffset: 160, bitfieldSize: 3 },
      { name: 'high', type: u32, bitOffset: 163, bitfieldSize: 5 },
    ],
  });
  const fd = btfLoad({ data: w.encode() });
  onTestFinished(() => fd.close());
  return { fd, key: u32, value };
}

function bpftool(...args: string[]): unknown {
  return JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
}

requireKernel()
  .and(requireExecutable('bpftool', 'apt-get install bpftool'))
  .describe("'btf' codecs", () => {
    it('set/get plain objects with C names; bpftool formats the same; bpftool bytes decode back', () => {
      const { fd, key, value } = sample();
      using m = BpfMap.create({
        type: 'hash',
        key: 'btf',
        value: 'btf',
        maxEntries: 4,
        btf: { fd, keyTypeId: key, valueTypeId: value },
      });
      const v = { count: 7n, delta: -3, name: 'abc', state: 'BUSY', low: 5, high: 17 };
      m.set(1, v);
      expect(m.get(1)).toEqual(v);
      const dump = bpftool('map', 'dump', 'id', String(m.id)) as { formatted: unknown }[];
      expect(dump.map((e) => e.formatted)).toEqual([
        { key: 1, value: { count: 7, delta: -3, name: 'abc', state: 'BUSY', low: '0x5', high: '0x11' } },
      ]);
      // What bpftool writes (bytes), bpfjs decodes.
      execFileSync('bpftool', [
        'map',
        'update',
        'id',
        String(m.id),
        'key',
        '2',
        '0',
        '0',
        '0',
        'value',
        ...['9', '0', '0', '0', '0', '0', '0', '0', '0xfe', '0xff', '0x78', '0x79', '0', '0', '0', '0'],
        ...['0', '0', '0', '0', '0', '0', '0', '0'],
      ]);
      expect(m.get(2)).toEqual({ count: 9n, delta: -2, name: 'xy', state: 'IDLE', low: 0, high: 0 });
      // Values that do not fit their type are refused before any syscall.
      expectCode(() => m.set(3, { ...v, delta: 40000 }), 'ERR_BPFJS_BTF_VALUE_RANGE');
      expectCode(() => m.set(3, { ...v, name: 'too long!' }), 'ERR_BPFJS_BTF_VALUE_RANGE');
      expect(m.has(3)).toBe(false);
      // Opened by id, typed by the kernel's map info; the CLI's helper gives bpftool's shape.
      using again = BpfMap.fromId(m.id, { key: 'btf', value: 'btf' });
      expect(again.get(1)).toEqual(v);
      const codecs = mapBtfCodecs(again.info());
      using raw = BpfMap.fromId(m.id);
      expect(codecs?.value?.formatBpftool(raw.get(new Uint8Array([1, 0, 0, 0])) as Uint8Array)).toMatchObject(
        {
          low: '0x5',
        },
      );
    });

    it("'btf' needs a map with BTF", () => {
      using plain = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 });
      expectCode(() => BpfMap.fromId(plain.id, { value: 'btf' }), 'ERR_BPFJS_MAP_NO_BTF');
      expectCode(
        () => BpfMap.create({ type: 'hash', key: 'btf', valueSize: 4, maxEntries: 1 }),
        'ERR_INVALID_ARG_VALUE',
      );
    });
  });
