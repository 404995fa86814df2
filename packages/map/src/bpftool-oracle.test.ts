// Every codec kind against bpftool on the same map: what bpfjs writes, `bpftool -j map dump`
// shows as the bytes Node's Buffer encodes independently; what bpftool writes (bytes), bpfjs
// decodes to the value.
import { execFileSync } from 'node:child_process';
import { requireExecutable, requireKernel } from '@bpfjs/testkit';
import { expect, it } from 'vitest';
import { BpfMap, type CodecSpec } from './index.js';

function buf(size: number, fill: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  fill(b);
  return b;
}

const layout = {
  name: 'struct pair',
  kind: 'struct' as const,
  size: 12,
  align: 4,
  fields: {
    id: { offset: 0, size: 4, kind: 'u32' as const },
    tag: { offset: 4, size: 8, kind: 'char' as const, count: 8 },
  },
};

// [codec, size, value, its bytes (encoded by Buffer, not by bpfjs)]
const CASES: [string, CodecSpec, number, unknown, Buffer][] = [
  ['u8', 'u8', 1, 200, buf(1, (b) => b.writeUInt8(200))],
  ['s8', 's8', 1, -5, buf(1, (b) => b.writeInt8(-5))],
  ['u16', 'u16', 2, 65000, buf(2, (b) => b.writeUInt16LE(65000))],
  ['s16', 's16', 2, -300, buf(2, (b) => b.writeInt16LE(-300))],
  ['u32', 'u32', 4, 4_000_000_000, buf(4, (b) => b.writeUInt32LE(4_000_000_000))],
  ['s32', 's32', 4, -70000, buf(4, (b) => b.writeInt32LE(-70000))],
  ['u64', 'u64', 8, 2n ** 63n + 5n, buf(8, (b) => b.writeBigUInt64LE(2n ** 63n + 5n))],
  ['s64', 's64', 8, -(2n ** 40n), buf(8, (b) => b.writeBigInt64LE(-(2n ** 40n)))],
  ['string', { string: 6 }, 6, 'héllo', buf(6, (b) => b.write('héllo', 'utf8'))],
  [
    'struct',
    { struct: layout },
    12,
    { id: 7, tag: 'ab' },
    buf(12, (b) => {
      b.writeUInt32LE(7);
      b.write('ab', 4);
    }),
  ],
  [
    'custom',
    { size: 4, encode: (v: number) => Uint8Array.from([v, v, v, v]), decode: (b: Uint8Array) => b[0] },
    4,
    9,
    Buffer.from([9, 9, 9, 9]),
  ],
  ['bytes', 'bytes', 3, Uint8Array.of(1, 2, 3), Buffer.from([1, 2, 3])],
];

const hex = (b: Uint8Array) => Array.from(b, (x) => `0x${x.toString(16).padStart(2, '0')}`);

requireKernel()
  .and(requireExecutable('bpftool', 'apt-get install bpftool'))
  .describe('codecs against bpftool', () => {
    it.each(CASES)('%s: written by bpfjs = read by bpftool, and back', (_name, spec, size, value, bytes) => {
      // The codec on both sides of the map, so keys and values are both checked.
      using m = BpfMap.create({
        type: 'hash',
        key: spec,
        value: spec,
        keySize: size,
        valueSize: size,
        maxEntries: 2,
      });
      m.set(value as never, value as never);
      const dump = JSON.parse(
        execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(m.id)], { encoding: 'utf8' }),
      );
      expect(dump).toEqual([{ key: hex(bytes), value: hex(bytes) }]);
      m.delete(value as never);
      const words = Array.from(bytes, String);
      execFileSync('bpftool', ['map', 'update', 'id', String(m.id), 'key', ...words, 'value', ...words]);
      expect([...m.entries()]).toEqual([[value, value]]);
    });
  });
