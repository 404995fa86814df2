import dgram from 'node:dgram';
import net from 'node:net';
import { AF_INET, BpfError, openPath, SOCK_STREAM, socket } from '@bpfjs/sys';
import { fdKind } from '@bpfjs/sys/internal';
import {
  expectCode,
  expectErrno,
  requireKernel,
  requireKernelVersion,
  socketFilterProgram,
  tempBpffs,
} from '@bpfjs/testkit';
import { BPF_F_MMAPABLE, BpfMapInfo as Layout } from '@bpfjs/uapi/linux/bpf';
import { afterEach, describe, expect, it } from 'vitest';
import { BpfMap, mapArray, maps } from './index.js';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const m of open.splice(0)) m.close();
});
function track<T extends { close(): void }>(m: T): T {
  open.push(m);
  return m;
}

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);

describe('argument checks (no kernel needed)', () => {
  it('refuses unknown types and options before any syscall', () => {
    expectCode(() => BpfMap.create({ type: 'nope', maxEntries: 1 } as never), 'ERR_INVALID_ARG_VALUE');
    expectCode(
      () => BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1, bogus: 1 } as never),
      'ERR_INVALID_ARG_VALUE',
    );
    expectCode(() => BpfMap.create({ type: 'hash', maxEntries: 1 }), 'ERR_INVALID_ARG_VALUE');
    expectCode(
      () => BpfMap.create({ type: 'hash', keySize: 8, valueSize: 8, maxEntries: 1, key: 'u32' }),
      'ERR_BPFJS_MAP_CODEC_SIZE',
    );
    expectCode(() => BpfMap.create({ type: 'array_of_maps', maxEntries: 1 }), 'ERR_INVALID_ARG_VALUE');
  });
});

requireKernel().describe('BpfMap on the kernel', () => {
  it('hash u32 → u64: set/get/has/delete, missing → undefined, flags', () => {
    const m = track(
      BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 4, name: 'bpfjs_t' }),
    );
    expect(m.type).toBe('hash');
    expect(m.keySize).toBe(4);
    expect(m.valueSize).toBe(8);
    expect(m.get(1)).toBeUndefined();
    m.set(1, 10n).set(2, 20n);
    expect(m.get(1)).toBe(10n);
    expect(m.has(2)).toBe(true);
    expect(m.has(3)).toBe(false);
    const e = expectErrno(() => m.set(1, 11n, { flag: 'noexist' }), 'EEXIST');
    expect(e.message).toMatch(/noexist/);
    expectErrno(() => m.set(3, 1n, { flag: 'exist' }), 'ENOENT');
    m.set(1, 11n, { flag: 'exist' });
    expect(m.get(1)).toBe(11n);
    expect(m.delete(1)).toBe(true);
    expect(m.delete(1)).toBe(false);
    const info = m.info();
    expect(info).toMatchObject({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, name: 'bpfjs_t' });
    expect(m.id).toBe(info.id);
  });

  it('refuses bad keys/values and wrong operations before any syscall; full map is E2BIG with a sentence', () => {
    const m = track(BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 2 }));
    expectCode(() => m.set(-1, 1n), 'ERR_OUT_OF_RANGE');
    expectCode(() => m.set(2 ** 32, 1n), 'ERR_OUT_OF_RANGE');
    expectCode(() => m.set(1, 2n ** 64n), 'ERR_OUT_OF_RANGE');
    expectCode(() => m.set('1' as never, 1n), 'ERR_INVALID_ARG_TYPE');
    expectCode(() => m.push(1n), 'ERR_BPFJS_MAP_OPERATION');
    expectCode(() => m.set(1, 1n, { flag: 'maybe' as never }), 'ERR_INVALID_ARG_VALUE');
    m.set(1, 1n).set(2, 2n);
    const e = expectErrno(() => m.set(3, 3n), 'E2BIG');
    expect(e.message).toMatch(/full \(2 entries\)/);
    m.close();
    expectCode(() => m.get(1), 'ERR_BPFJS_CLOSED');
    const raw = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1 }));
    expectCode(() => raw.set(new Uint8Array(3), new Uint8Array(8)), 'ERR_OUT_OF_RANGE');
    const arr = track(BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 2 }));
    expectCode(() => arr.delete(0), 'ERR_BPFJS_MAP_OPERATION');
  });

  it('Uint8Array by default, strings and structs', () => {
    const raw = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 2, maxEntries: 2 }));
    raw.set(u32(7), Uint8Array.of(1, 2));
    expect(raw.get(u32(7))).toEqual(Uint8Array.of(1, 2));
    const s = track(BpfMap.create({ type: 'hash', key: { string: 8 }, value: 's32', maxEntries: 4 }));
    s.set('abc', -5);
    expect(s.get('abc')).toBe(-5);
    expectCode(() => s.set('123456789', 1), 'ERR_OUT_OF_RANGE');
    const layout = {
      name: 'struct pair',
      kind: 'struct' as const,
      size: 16,
      align: 8,
      fields: {
        a: { offset: 0, size: 4, kind: 'u32' as const },
        tag: { offset: 4, size: 4, kind: 'char' as const, count: 4 },
        b: { offset: 8, size: 8, kind: 'u64' as const },
      },
    };
    const st = track(BpfMap.create({ type: 'array', key: 'u32', value: { struct: layout }, maxEntries: 1 }));
    st.set(0, { a: 1, tag: 'xy', b: 5n });
    expect(st.get(0)).toEqual({ a: 1, tag: 'xy', b: 5n });
    expectCode(() => st.set(0, { c: 1 }), 'ERR_INVALID_ARG_VALUE');
    // A real uapi layout works as well.
    expect(Layout.size).toBeGreaterThan(0);
    const custom = track(
      BpfMap.create({
        type: 'hash',
        key: 'u32',
        value: {
          size: 4,
          encode: (v: number) => u32(v * 2),
          decode: (b: Uint8Array) => new Uint32Array(b.buffer)[0]! / 2,
        },
        maxEntries: 1,
      }),
    );
    custom.set(1, 21);
    expect(custom.get(1)).toBe(21);
  });

  it('per-CPU values: one per possible CPU', () => {
    const m = track(BpfMap.create({ type: 'percpu_array', key: 'u32', value: 'u32', maxEntries: 1 }));
    expect(m.cpus).toBeGreaterThanOrEqual(1);
    m.set(0, 7 as never);
    expect(m.get(0)).toEqual(Array(m.cpus).fill(7));
    const vals = Array.from({ length: m.cpus }, (_, i) => i + 1);
    m.set(0, vals as never);
    expect(m.get(0)).toEqual(vals);
    expectCode(() => m.set(0, [1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, m.cpus + 1) as never), 'ERR_OUT_OF_RANGE');
  });

  it('iterates without repeats, per element and batched', () => {
    const m = track(BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 1000 }));
    for (let i = 0; i < 500; i++) m.set(i, i * 2);
    const per = [...m.entries()];
    expect(per.length).toBe(500);
    expect(new Set(per.map(([k]) => k)).size).toBe(500);
    for (const [k, v] of per) expect(v).toBe(k * 2);
    const batched = [...m.entries({ batchSize: 64 })];
    expect(batched.sort((a, b) => a[0] - b[0])).toEqual(per.sort((a, b) => a[0] - b[0]));
    expect([...m.keys()].length).toBe(500);
    expect([...m.values({ batchSize: 7 })].length).toBe(500);
    // Buckets with more elements than the batch: the batch grows (ENOSPC) and nothing is lost.
    expect(new Set([...m.keys({ batchSize: 1 })]).size).toBe(500);
    // Deleting every key as we go (the cursor vanishes each step): no repeats, ends.
    const seen: number[] = [];
    for (const k of m.keys()) {
      seen.push(k);
      m.delete(k);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(500);
    expect([...m.entries()]).toEqual([]);
  });

  it('batch: setMany / deleteMany / getMany', () => {
    const m = track(BpfMap.create({ type: 'hash', key: 'u32', value: 'u64', maxEntries: 100 }));
    expect(m.setMany(Array.from({ length: 50 }, (_, i) => [i, BigInt(i)] as [number, bigint]))).toBe(50);
    expect(m.getMany([0, 49, 50])).toEqual([0n, 49n, undefined]);
    expect(m.deleteMany([0, 1, 200, 2])).toBe(3);
    expect([...m.keys()].length).toBe(47);
    const arr = track(BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 10 }));
    expect(
      arr.setMany([
        [0, 5],
        [9, 6],
      ]),
    ).toBe(2);
    expect([...arr.entries({ batchSize: 3 })].length).toBe(10);
  });

  it('queue and stack: push/pop/peek; wrong operations refused', () => {
    const q = track(BpfMap.create({ type: 'queue', value: 'u32', maxEntries: 2 }));
    expect(q.keySize).toBe(0);
    expect(q.pop()).toBeUndefined();
    q.push(1).push(2);
    expectErrno(() => q.push(3), 'E2BIG');
    q.push(3, { flag: 'exist' }); // drops the oldest
    expect(q.peek()).toBe(2);
    expect(q.pop()).toBe(2);
    expect(q.pop()).toBe(3);
    expectCode(() => q.get(0 as never), 'ERR_BPFJS_MAP_OPERATION');
    const s = track(BpfMap.create({ type: 'stack', value: 'u32', maxEntries: 4 }));
    s.push(1).push(2);
    expect(s.pop()).toBe(2);
  });

  requireKernelVersion('5.14', 'lookup-and-delete on hash maps').it(
    'lookupAndDelete on a hash (5.14+)',
    () => {
      const m = track(BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 2 }));
      m.set(1, 5);
      expect(m.lookupAndDelete(1)).toBe(5);
      expect(m.lookupAndDelete(1)).toBeUndefined();
    },
  );

  it('freeze: later writes are EPERM with a sentence; frozen reads true', () => {
    const m = track(BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 1 }));
    expect(m.frozen).toBe(false);
    m.freeze();
    expect(m.frozen).toBe(true);
    const e = expectErrno(() => m.set(0, 1), 'EPERM');
    expect(e.message).toMatch(/frozen/);
    expect(m.get(0)).toBe(0);
  });

  it('pin / fromPin / fromId / fromFd / maps(); brand', () => {
    const fs = tempBpffs();
    const m = track(
      BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 2, name: 'bpfjs_pin' }),
    );
    m.set(1, 2);
    const p = fs.pinPath('m');
    m.pin(p);
    expectErrno(() => m.pin(p), 'EEXIST');
    m.pin(p, { replace: true });
    const again = track(BpfMap.fromPin(p, { key: 'u32', value: 'u32' }));
    expect(again.get(1)).toBe(2);
    expect(again.pinnedPath).toBe(p);
    const byId = track(BpfMap.fromId(m.id, { key: 'u32', value: 'u32' }));
    expect(byId.get(1)).toBe(2);
    const byFd = track(BpfMap.fromFd(m.fd.dup(), { key: 'u32', value: 'u32' }));
    expect(byFd.info().id).toBe(m.id);
    expect(BpfMap.isInstance(byFd)).toBe(true);
    expect(BpfMap.isInstance({})).toBe(false);
    expect([...maps()].some((i) => i.id === m.id && i.name === 'bpfjs_pin')).toBe(true);
    expect(m.unpin()).toBe(true);
    expect(m.unpin(p)).toBe(false);
    // A refused fromFd leaves the fd open and the caller's.
    using ns = openPath('/proc/self/ns/net');
    expectCode(() => BpfMap.fromFd(ns), 'ERR_BPFJS_WRONG_OBJECT');
    expect(ns.closed).toBe(false);
    expectCode(() => BpfMap.fromFd(ns.fd), 'ERR_BPFJS_WRONG_OBJECT');
    const dup = m.fd.dup();
    expectCode(() => BpfMap.fromFd(dup.fd, { key: 'u64' }), 'ERR_BPFJS_MAP_CODEC_SIZE');
    expect(fdKind(dup.fd)).toBe('map'); // still open
    dup.close();
    expect(String(m)).toMatch(/^BpfMap\(hash, fd \d+\)$/);
    fs.dispose();
  });

  it('fromPin of a missing path is a BpfError ENOENT', () => {
    const fs = tempBpffs();
    const e = expectErrno(() => BpfMap.fromPin(fs.pinPath('none')), 'ENOENT');
    expect(BpfError.isInstance(e)).toBe(true);
    fs.dispose();
  });

  it('map-of-maps takes a BpfMap and reads back its id', () => {
    const inner = track(BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 1 }));
    const outer = track(
      BpfMap.create({ type: 'array_of_maps', key: 'u32', value: 'fd', maxEntries: 2, innerMap: inner }),
    );
    outer.set(0, inner);
    expect(outer.get(0)).toBe(inner.id);
    expectCode(() => outer.set(1, 'x' as never), 'ERR_INVALID_ARG_TYPE');
    expectCode(
      () => BpfMap.create({ type: 'hash', key: 'u32', value: 'fd', valueSize: 4, maxEntries: 1 }),
      'ERR_INVALID_ARG_VALUE',
    );
  });
});

requireKernel().describe('fd-valued maps from Node objects', () => {
  it('sockmap takes a listening net.Server, a bound dgram.Socket, an Fd; clear errors otherwise', async () => {
    const m = track(BpfMap.create({ type: 'sockmap', key: 'u32', value: 'fd', maxEntries: 4, valueSize: 8 }));
    const server = net.createServer();
    expectCode(() => m.set(0, server), 'ERR_BPFJS_NO_FD');
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const udp = dgram.createSocket('udp4');
    try {
      expectCode(() => m.set(1, udp), 'ERR_BPFJS_NO_FD');
      m.set(0, server);
      expect(typeof m.get(0)).toBe('bigint'); // the socket cookie (8-byte values)
      await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
      m.set(1, udp);
      // A TCP socket that neither listens nor is connected is refused by the kernel, with a sentence.
      using raw = socket(AF_INET, SOCK_STREAM);
      const e = expectErrno(() => m.set(2, raw), 'EOPNOTSUPP');
      expect(e.message).toMatch(/listening or established/);
      expectCode(() => m.set(3, {}), 'ERR_INVALID_ARG_TYPE');
    } finally {
      udp.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('prog_array takes a Program and reads back its id', () => {
    const prog = socketFilterProgram();
    const pa = track(BpfMap.create({ type: 'prog_array', key: 'u32', value: 'fd', maxEntries: 2 }));
    pa.set(0, prog);
    expect(pa.get(0)).toBe(prog.id);
    expect(pa.delete(0)).toBe(true);
  });
});

requireKernel()
  .and(requireKernelVersion('5.5', 'mmapable arrays'))
  .describe('mapArray (BPF_F_MMAPABLE)', () => {
    it('reads and writes elements through shared memory', () => {
      const m = track(
        BpfMap.create({ type: 'array', key: 'u32', value: 'u64', maxEntries: 4, flags: BPF_F_MMAPABLE }),
      );
      m.set(2, 7n);
      using mem = mapArray(m);
      expect(mem.stride).toBe(8);
      expect(mem.view.getBigUint64(2 * 8, true)).toBe(7n);
      mem.view.setBigUint64(3 * 8, 9n, true);
      expect(m.get(3)).toBe(9n);
      // A writable mapping keeps the map from being frozen.
      expectErrno(() => m.freeze(), 'EBUSY');
      mem.close();
      expect(mem.closed).toBe(true);
      m.freeze();
      using ro = mapArray(m);
      expect(ro.view.getBigUint64(3 * 8, true)).toBe(9n);
      const plain = track(BpfMap.create({ type: 'array', key: 'u32', value: 'u32', maxEntries: 1 }));
      expectCode(() => mapArray(plain as never), 'ERR_BPFJS_MAP_OPERATION');
    });
  });
