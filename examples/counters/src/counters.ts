/**
 * The counters example's user-space side: attaches the socket filter of `counters.bpf.c` to a UDP
 * socket (`SO_ATTACH_BPF`), sums its per-CPU counters and decodes its ring buffer events.
 */
import { RingBuffer } from '@bpfjs/map';
import { type Fd, SOL_SOCKET, setsockoptInt } from '@bpfjs/sys';
import { type CountersObject, load } from './counters.skel.js';

/** `SO_ATTACH_BPF` (asm-generic/socket.h; the same on x86 and arm64): a socket filter by program fd. */
export const SO_ATTACH_BPF = 50;

/** One datagram as the program reported it. */
export interface DatagramEvent {
  readonly sport: number;
  readonly dport: number;
  /** UDP length: 8-byte header plus payload. */
  readonly len: number;
  /** The first 16 bytes of the payload, up to the first NUL. */
  readonly payload: string;
}

/** Counter totals over all CPUs. */
export interface Totals {
  readonly packets: bigint;
  readonly bytes: bigint;
  /** Events lost because the ring buffer was full (the counters still count them). */
  readonly droppedEvents: bigint;
}

/** Decodes one `struct event` record of the ring buffer. */
export function decodeEvent(record: Uint8Array): DatagramEvent {
  const v = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const payload = record.subarray(8, 24);
  const end = payload.indexOf(0);
  return {
    sport: v.getUint16(0, true),
    dport: v.getUint16(2, true),
    len: v.getUint32(4, true),
    payload: Buffer.from(payload.subarray(0, end < 0 ? payload.length : end)).toString('utf8'),
  };
}

/** The loaded program attached to one socket, its counters and its events. */
export class UdpCounters implements Disposable {
  readonly #object: CountersObject;
  readonly #ring: RingBuffer;

  private constructor(object: CountersObject) {
    this.#object = object;
    this.#ring = new RingBuffer(object.maps.events as never);
  }

  /**
   * Loads the program and attaches it to `socket` (a UDP socket: an `Fd`, fd number, or
   * `dgram.Socket`). The socket keeps the program attached until it closes.
   * @throws BpfError from the load (the verifier) or `setsockopt`.
   */
  static attach(socket: Fd | number): UdpCounters {
    const object = load();
    try {
      setsockoptInt(socket, SOL_SOCKET, SO_ATTACH_BPF, object.programs.count_datagrams.fd.fd);
      return new UdpCounters(object);
    } catch (e) {
      object.close();
      throw e;
    }
  }

  /** The counters summed over CPUs. */
  totals(): Totals {
    const sum = (i: number) => (this.#object.maps.counters.get(i) ?? []).reduce((a, b) => a + b, 0n);
    return { packets: sum(0), bytes: sum(1), droppedEvents: sum(2) };
  }

  /** The events, in the order the program submitted them; waits for more (ends on close). */
  async *events(): AsyncGenerator<DatagramEvent> {
    for await (const record of this.#ring) yield decodeEvent(record);
  }

  /** Stops reading and closes the program's fds (the socket keeps the filter while it lives). */
  close(): void {
    this.#ring.close();
    this.#object.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
