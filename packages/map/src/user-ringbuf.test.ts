// UserRingBuffer against the kernel's consumer: a socket filter (run with BPF_PROG_TEST_RUN) calls
// bpf_user_ringbuf_drain; its callback reads each record's first and last 8 bytes with
// bpf_dynptr_read and copies them into a kernel ring buffer that RingBuffer reads back. Each record
// the test writes starts with [u32 size, u32 sequence] and ends with an 8-byte tail marker, so
// what the program reports proves order, sizes and contents (also of records that wrap the ring).
import { asm, assemble, labelSlots, R0, R1, R2, R3, R4, R5, R6, R10 } from '@bpfjs/asm';
import { BtfWriter } from '@bpfjs/btf';
import { bpf, btfLoad, type Fd, progLoad, Struct } from '@bpfjs/sys';
import { expectCode, requireKernel, requireKernelVersion } from '@bpfjs/testkit';
import { BTF_INT_SIGNED } from '@bpfjs/uapi';
import {
  BPF_PROG_TEST_RUN,
  BPF_PROG_TYPE_SOCKET_FILTER,
  bpf_func_id,
  ProgTestRunAttr,
} from '@bpfjs/uapi/linux/bpf';
import { expect, it, onTestFinished } from 'vitest';
import { BpfMap, RingBuffer, UserRingBuffer } from './index.js';

type AnyMap = BpfMap<unknown, unknown>;

function map(type: 'ringbuf' | 'user_ringbuf', size = 4096): AnyMap {
  const m = BpfMap.create({ type, maxEntries: size }) as AnyMap;
  onTestFinished(() => m.close());
  return m;
}

/**
 * The BTF a program with a callback needs (the verifier wants func_info for every function):
 * `long main(void *ctx)` and `long cb(struct bpf_dynptr *record, void *ctx)`.
 */
function callbackBtf(): { btf: Fd; main: number; cb: number } {
  const w = new BtfWriter();
  const long = w.add({ kind: 'int', name: 'long', size: 8, int: { encoding: BTF_INT_SIGNED, bits: 64 } });
  const voidPtr = w.add({ kind: 'ptr', type: 0 });
  const dynptr = w.add({ kind: 'struct', name: 'bpf_dynptr', size: 16, members: [] });
  const dynptrPtr = w.add({ kind: 'ptr', type: dynptr });
  const mainProto = w.add({ kind: 'func_proto', type: long, params: [{ name: 'ctx', type: voidPtr }] });
  const cbProto = w.add({
    kind: 'func_proto',
    type: long,
    params: [
      { name: 'record', type: dynptrPtr },
      { name: 'ctx', type: voidPtr },
    ],
  });
  const main = w.add({ kind: 'func', name: 'drain', type: mainProto });
  const cb = w.add({ kind: 'func', name: 'cb', type: cbProto });
  return { btf: btfLoad({ data: w.encode() }), main, cb };
}

/** The drainer: returns bpf_user_ringbuf_drain's result; reports [head, tail] of each record. */
function drainer(user: AnyMap, out: AnyMap): Fd {
  const F = bpf_func_id;
  const insns = [
    asm.ldMapFd(R1, user.fd),
    asm.ldFunc(R2, 'cb'),
    asm.mov64Imm(R3, 0),
    asm.mov64Imm(R4, 0),
    asm.call(F.BPF_FUNC_user_ringbuf_drain),
    asm.exit(),
    // long cb(struct bpf_dynptr *record, void *ctx)
    asm.label('cb'),
    asm.mov64Reg(R6, R1),
    asm.stDW(R10, -16, 0),
    asm.stDW(R10, -8, 0),
    asm.mov64Reg(R1, R10),
    asm.add64Imm(R1, -16),
    asm.mov64Imm(R2, 8),
    asm.mov64Reg(R3, R6),
    asm.mov64Imm(R4, 0),
    asm.mov64Imm(R5, 0),
    asm.call(F.BPF_FUNC_dynptr_read), // head: bytes 0..7
    asm.jneImm(R0, 0, 'done'),
    asm.ldxW(R4, R10, -16), // the size the record claims
    asm.jltImm(R4, 8, 'emit'),
    asm.add64Imm(R4, -8),
    asm.mov64Reg(R1, R10),
    asm.add64Imm(R1, -8),
    asm.mov64Imm(R2, 8),
    asm.mov64Reg(R3, R6),
    asm.mov64Imm(R5, 0),
    asm.call(F.BPF_FUNC_dynptr_read), // tail: the last 8 bytes
    asm.label('emit'),
    asm.ldMapFd(R1, out.fd),
    asm.mov64Reg(R2, R10),
    asm.add64Imm(R2, -16),
    asm.mov64Imm(R3, 16),
    asm.mov64Imm(R4, 0),
    asm.call(F.BPF_FUNC_ringbuf_output),
    asm.label('done'),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  ];
  const { btf, main, cb } = callbackBtf();
  const funcInfo = new Uint32Array([0, main, labelSlots(insns).get('cb')!, cb]);
  try {
    const p = progLoad({
      type: BPF_PROG_TYPE_SOCKET_FILTER,
      insns: assemble(insns),
      license: 'GPL',
      btfFd: btf,
      funcInfo: new Uint8Array(funcInfo.buffer),
    });
    onTestFinished(() => p.close());
    return p;
  } finally {
    btf.close();
  }
}

/** One run of the drainer; its return value (records drained, or a negative errno). */
function drain(prog: Fd): number {
  const data = new Uint8Array(64);
  const attr = new Struct(ProgTestRunAttr)
    .set('prog_fd', prog.fd)
    .set('data_size_in', data.length)
    .setPointer('data_in', data)
    .set('repeat', 1)
    .use('batch_size');
  bpf(BPF_PROG_TEST_RUN, attr.bytes, attr.end);
  return attr.getNumber('retval') | 0;
}

const TAIL = 0x7a11_7a11_0000_0000n;

/** Fills a record of `size` (≥ 8) bytes: [size, seq] ... tail marker (TAIL + seq). */
function fill(record: Uint8Array, seq: number): void {
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  record.fill(0xee);
  v.setUint32(0, record.byteLength, true);
  v.setUint32(4, seq, true);
  if (record.byteLength >= 16) v.setBigUint64(record.byteLength - 8, TAIL + BigInt(seq), true);
}

function record(size: number, seq: number): Uint8Array {
  const r = new Uint8Array(size);
  fill(r, seq);
  return r;
}

/** What the program reported: [size, seq, tail ok] per record. */
function reported(rb: RingBuffer): [number, number, boolean][] {
  const out: [number, number, boolean][] = [];
  rb.consume((r) => {
    const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
    const size = v.getUint32(0, true);
    const seq = v.getUint32(4, true);
    const tail = v.getBigUint64(8, true);
    // The last 8 bytes of the record as written (for records under 16 bytes they overlap the head).
    const written = record(size, seq);
    const want = new DataView(written.buffer).getBigUint64(size - 8, true);
    out.push([size, seq, tail === want]);
  });
  return out;
}

requireKernel()
  .and(requireKernelVersion('6.1', 'user ring buffers (bpf_user_ringbuf_drain)'))
  .describe('UserRingBuffer', () => {
    it('write(): a BPF program drains the records in order, sizes and contents intact', () => {
      const user = map('user_ringbuf');
      const out = map('ringbuf', 16384);
      using w = new UserRingBuffer(user);
      using rb = new RingBuffer(out);
      const prog = drainer(user, out);
      expect(w.size).toBe(4096);
      expect(w.free).toBe(4096);
      const sizes = [8, 9, 16, 17, 64, 100, 255];
      sizes.forEach((s, i) => {
        w.write(record(s, i));
      });
      expect(w.free).toBe(4096 - sizes.reduce((a, s) => a + ((s + 15) & ~7), 0));
      expect(drain(prog)).toBe(sizes.length);
      expect(reported(rb)).toEqual(sizes.map((s, i) => [s, i, true]));
      expect(w.free).toBe(4096);
      expect(drain(prog)).toBe(0);
    });

    it('busy records hold back the ones after them; discarded ones are skipped', () => {
      const user = map('user_ringbuf');
      const out = map('ringbuf', 16384);
      using w = new UserRingBuffer(user);
      using rb = new RingBuffer(out);
      const prog = drainer(user, out);
      const a = w.reserve(24);
      const b = w.reserve(32);
      fill(a, 1);
      fill(b, 2);
      w.submit(b);
      drain(prog);
      expect(reported(rb)).toEqual([]); // a is still busy: nothing passes it
      w.submit(a);
      drain(prog);
      expect(reported(rb)).toEqual([
        [24, 1, true],
        [32, 2, true],
      ]);
      const c = w.reserve(40);
      fill(c, 3);
      w.discard(c);
      w.write(record(48, 4));
      drain(prog);
      expect(reported(rb)).toEqual([[48, 4, true]]);
      expect(w.free).toBe(4096);
      // A record is handed over once.
      expectCode(() => w.submit(a), 'ERR_BPFJS_RINGBUF_RECORD');
      expectCode(() => w.discard(c), 'ERR_BPFJS_RINGBUF_RECORD');
      expectCode(() => w.submit(new Uint8Array(8)), 'ERR_BPFJS_RINGBUF_RECORD');
    });

    it('records wrap around the end of the ring (data mapped twice)', () => {
      const user = map('user_ringbuf', 4096);
      const out = map('ringbuf', 16384);
      using w = new UserRingBuffer(user);
      using rb = new RingBuffer(out);
      const prog = drainer(user, out);
      // 120 + 8 bytes per record: 4096 is not a multiple, so records straddle the end.
      let seq = 0;
      for (let round = 0; round < 40; round++) {
        for (let i = 0; i < 7; i++) w.write(record(113 + i, seq++));
        drain(prog);
        const got = reported(rb);
        expect(got).toHaveLength(7);
        expect(got.every(([, , tail]) => tail)).toBe(true);
        expect(got.map(([, s]) => s)).toEqual(Array.from({ length: 7 }, (_, i) => seq - 7 + i));
      }
    });

    it('a full ring: ERR_BPFJS_RINGBUF_FULL, or reserveAsync waits for the drain (woken by the map fd)', async () => {
      const user = map('user_ringbuf', 4096);
      const out = map('ringbuf', 16384);
      using w = new UserRingBuffer(user);
      using rb = new RingBuffer(out);
      const prog = drainer(user, out);
      let seq = 0;
      for (;;) {
        try {
          w.write(record(248, seq));
          seq++;
        } catch (e) {
          expect(e).toMatchObject({ code: 'ERR_BPFJS_RINGBUF_FULL', needed: 256, free: w.free });
          break;
        }
      }
      expect(seq).toBe(16);
      expect(w.free).toBe(0);
      // Waits (no spinning: the watch is edge-triggered) until the program drains.
      const pending = w.writeAsync(record(248, seq));
      let settled = false;
      void pending.then(() => {
        settled = true;
      });
      await new Promise((r) => setImmediate(r));
      expect(settled).toBe(false);
      setImmediate(() => drain(prog));
      await pending;
      expect(reported(rb)).toHaveLength(16);
      drain(prog);
      expect(reported(rb)).toEqual([[248, 16, true]]);

      // Aborted while waiting; closed while waiting.
      for (let i = 0; i < 16; i++) w.write(record(248, i));
      const ac = new AbortController();
      const aborted = w.reserveAsync(8, { signal: ac.signal });
      ac.abort(new Error('stop'));
      await expect(aborted).rejects.toThrow('stop');
      const closed = w.reserveAsync(8);
      await new Promise((r) => setImmediate(r));
      w.close();
      await expect(closed).rejects.toMatchObject({ code: 'ERR_BPFJS_CLOSED' });
    });

    it('refuses what can never fit, other map types and closed maps', () => {
      const user = map('user_ringbuf', 4096);
      using w = new UserRingBuffer(user);
      expectCode(() => w.reserve(4089), 'ERR_OUT_OF_RANGE');
      expectCode(() => w.reserve(-1), 'ERR_OUT_OF_RANGE');
      expect(w.reserve(4088).byteLength).toBe(4088);
      expectCode(() => user.get(new Uint8Array(0)), 'ERR_BPFJS_MAP_OPERATION');
      const kernelRing = map('ringbuf');
      expectCode(() => new UserRingBuffer(kernelRing), 'ERR_BPFJS_MAP_OPERATION');
      const closed = BpfMap.create({ type: 'user_ringbuf', maxEntries: 4096 }) as AnyMap;
      closed.close();
      expectCode(() => new UserRingBuffer(closed), 'ERR_BPFJS_CLOSED');
      w.close();
      expectCode(() => w.reserve(8), 'ERR_BPFJS_CLOSED');
      expect(w.free).toBe(0);
    });
  });
