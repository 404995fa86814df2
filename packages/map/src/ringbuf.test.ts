// RingBuffer against records written by a real BPF program (a socket filter run with
// BPF_PROG_TEST_RUN that calls bpf_ringbuf_output / reserve + discard).
import { asm, assemble, R0, R1, R2, R3, R4, R10 } from '@bpfjs/asm';
import { Program } from '@bpfjs/link';
import { bpf, Struct } from '@bpfjs/sys';
import { expectCode, requireKernel, requireKernelVersion, waitFor } from '@bpfjs/testkit';
import { BPF_PROG_TEST_RUN, bpf_func_id, ProgTestRunAttr } from '@bpfjs/uapi/linux/bpf';
import { expect, it, onTestFinished } from 'vitest';
import { BpfMap, RingBuffer } from './index.js';

function ring(size = 4096): BpfMap<unknown, unknown> {
  const m = BpfMap.create({ type: 'ringbuf', maxEntries: size }) as BpfMap<unknown, unknown>;
  onTestFinished(() => m.close());
  return m;
}

/** A socket filter that writes the 8-byte value `v` (and, if `discard`, first a discarded record). */
function writer(map: BpfMap<unknown, unknown>, v: number, discard = false): Program {
  const insns = [];
  if (discard) {
    insns.push(
      asm.ldMapFd(R1, map.fd),
      asm.mov64Imm(R2, 8),
      asm.mov64Imm(R3, 0),
      asm.call(bpf_func_id.BPF_FUNC_ringbuf_reserve),
      asm.jeqImm(R0, 0, 'out'),
      asm.stDW(R0, 0, 0x0bad),
      asm.mov64Reg(R1, R0),
      asm.mov64Imm(R2, 0),
      asm.call(bpf_func_id.BPF_FUNC_ringbuf_discard),
      asm.label('out'),
    );
  }
  insns.push(
    asm.stDW(R10, -8, v),
    asm.ldMapFd(R1, map.fd),
    asm.mov64Reg(R2, R10),
    asm.add64Imm(R2, -8),
    asm.mov64Imm(R3, 8),
    asm.mov64Imm(R4, 0),
    asm.call(bpf_func_id.BPF_FUNC_ringbuf_output),
    asm.mov64Imm(R0, 0),
    asm.exit(),
  );
  const p = Program.load({ type: 'socket_filter', instructions: assemble(insns) });
  onTestFinished(() => p.close());
  return p;
}

function runOnce(prog: Program): void {
  const data = new Uint8Array(64);
  const attr = new Struct(ProgTestRunAttr)
    .set('prog_fd', prog.fd.fd)
    .set('data_size_in', data.length)
    .setPointer('data_in', data)
    .set('repeat', 1)
    .use('batch_size');
  bpf(BPF_PROG_TEST_RUN, attr.bytes, attr.end);
}

const u64 = (r: Uint8Array) => new DataView(r.buffer, r.byteOffset, r.byteLength).getBigUint64(0, true);

requireKernel()
  .and(requireKernelVersion('5.8', 'ringbuf maps'))
  .describe('RingBuffer', () => {
    it('consume(): records in order, discarded ones skipped, consumer position advanced', () => {
      const m = ring();
      using rb = new RingBuffer(m);
      expect(rb.consume(() => {})).toBe(0);
      runOnce(writer(m, 1));
      runOnce(writer(m, 2, true));
      runOnce(writer(m, 3));
      const got: bigint[] = [];
      expect(rb.consume((r) => got.push(u64(r)))).toBe(3);
      expect(got).toEqual([1n, 2n, 3n]);
      expect(rb.available).toBe(0);
      expect(rb.consume(() => {})).toBe(0);
    });

    it('wraps around the end of the ring (data mapped twice)', () => {
      const m = ring(4096);
      using rb = new RingBuffer(m);
      const prog = writer(m, 7);
      let total = 0;
      // 16 bytes per record: 4096/16 = 256 fit; 1000 records wrap several times.
      for (let i = 0; i < 1000; i++) {
        runOnce(prog);
        total += rb.consume((r) => expect(u64(r)).toBe(7n));
      }
      expect(total).toBe(1000);
    });

    it('async iterator woken by the map fd; callback form', async () => {
      const m = ring();
      const rb = new RingBuffer(m);
      const prog = writer(m, 42);
      setImmediate(() => runOnce(prog));
      const it = rb[Symbol.asyncIterator]();
      const first = await it.next();
      expect(u64(first.value as Uint8Array)).toBe(42n);
      const pending = it.next();
      rb.close();
      expect(await pending).toEqual({ value: undefined, done: true });

      const seen: bigint[] = [];
      using cb = new RingBuffer(m, { onRecord: (r) => seen.push(u64(r)) });
      runOnce(writer(m, 5));
      runOnce(writer(m, 6));
      await waitFor(() => seen.length === 2, { timeoutMs: 10_000 });
      expect(seen).toEqual([5n, 6n]);
      expect(() => cb[Symbol.asyncIterator]()).toThrow(/onRecord/);
    });

    it('refuses other map types and closed maps', () => {
      const h = BpfMap.create({ type: 'hash', key: 'u32', value: 'u32', maxEntries: 1 });
      expectCode(() => new RingBuffer(h as never), 'ERR_BPFJS_MAP_OPERATION');
      h.close();
      expectCode(() => new RingBuffer(h as never), 'ERR_BPFJS_CLOSED');
      const m = ring();
      expectCode(() => m.get(0 as never), 'ERR_BPFJS_MAP_OPERATION');
    });
  });
