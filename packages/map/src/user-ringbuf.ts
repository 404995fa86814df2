/**
 * `UserRingBuffer`: the writer of a `user_ringbuf` map (Linux 6.1+), the other direction of a ring
 * buffer — user space produces records, a BPF program consumes them with `bpf_user_ringbuf_drain`
 * — as libbpf's `user_ring_buffer__*` writes one.
 *
 * The kernel's rules (kernel/bpf/ringbuf.c, `ringbuf_map_mmap_user`, `__bpf_user_ringbuf_peek`):
 * the consumer page is mapped read-only (the kernel advances it), the producer page and the data
 * pages read-write (the data twice in a row, so a record that wraps is contiguous). A record is an
 * 8-byte header (length word, then a pad word) and the data, rounded up to 8 bytes. Reserving
 * writes the length with the busy bit and publishes the new producer position; submitting clears
 * the busy bit, discarding sets the discard bit instead. The kernel stops at the first busy record
 * (records are consumed in reservation order) and skips discarded ones. After a drain that consumed
 * something, the kernel wakes the map fd's waiters: the fd polls writable while the ring is not
 * completely full.
 *
 * @module
 */
import {
  BpfjsRangeError,
  BpfjsTypeError,
  errInvalidArgType,
  type Fd,
  type FdWatch,
  type Mapping,
  munmap,
  PROT_READ,
  PROT_WRITE,
  validateInteger,
  watchFd,
} from '@bpfjs/sys';
import { errClosed, errOperation } from './errors.js';
import { BpfMap } from './map.js';
import { BUSY_BIT, DISCARD_BIT, HEADER, mapRing } from './ringbuf.js';

// A drained record becomes a struct bpf_dynptr, whose size field has 24 bits (DYNPTR_MAX_SIZE).
const MAX_RECORD = 0xff_ffff;

/** Options of {@link UserRingBuffer.reserveAsync} and {@link UserRingBuffer.writeAsync}. */
export interface UserRingBufferWaitOptions {
  /** Stop waiting with the signal's reason (an `AbortError` by default). */
  readonly signal?: AbortSignal;
}

/**
 * Writes records into a `user_ringbuf` map for a BPF program to drain with
 * `bpf_user_ringbuf_drain` (Linux 6.1+). `reserve(size)` returns a `Uint8Array` over the record's
 * bytes in the ring; fill it, then `submit(record)` (or `discard(record)`). `write(bytes)` does the
 * three at once. A full ring throws `ERR_BPFJS_RINGBUF_FULL` (the kernel's ENOSPC); `reserveAsync` /
 * `writeAsync` wait instead for the program to drain (woken by the map fd, no thread held, no
 * spinning). Records reach the program in reservation order; one reserved and not yet submitted
 * holds back those after it. One writer per ring: like libbpf's, this writer does not lock against
 * other writers (threads, processes) of the same map. `close()` (or `using`) unmaps; the map stays
 * the caller's.
 */
export class UserRingBuffer implements Disposable {
  readonly #fd: Fd;
  readonly #consumer: Mapping;
  readonly #producer: Mapping;
  readonly #consumerPos: BigUint64Array;
  readonly #producerPos: BigUint64Array;
  readonly #data: Uint8Array;
  readonly #words: Uint32Array;
  readonly #size: number;
  #closed = false;
  #watch: FdWatch | undefined;
  #waiters: (() => void)[] = [];

  /**
   * Maps the ring of `map` (a `user_ringbuf` `BpfMap`).
   * @throws TypeError `ERR_BPFJS_MAP_OPERATION` for another map type, `ERR_BPFJS_CLOSED` for a
   *   closed map; BpfError from mmap.
   */
  constructor(map: BpfMap<unknown, unknown>) {
    if (!BpfMap.isInstance(map)) throw errInvalidArgType('map', 'an instance of BpfMap', map);
    if (map.closed) throw errClosed('map given to UserRingBuffer');
    if (map.type !== 'user_ringbuf') {
      throw errOperation('UserRingBuffer', map.type, "it writes 'user_ringbuf' maps (6.1+)");
    }
    // The kernel refuses a writable mapping of the consumer page (EPERM).
    const ring = mapRing(map, PROT_READ, PROT_READ | PROT_WRITE);
    this.#fd = ring.fd;
    this.#consumer = ring.consumer;
    this.#producer = ring.producer;
    this.#consumerPos = ring.consumerPos;
    this.#producerPos = ring.producerPos;
    this.#data = ring.data;
    this.#words = new Uint32Array(ring.data.buffer, ring.data.byteOffset, ring.data.byteLength / 4);
    this.#size = ring.size;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The ring's data size in bytes (the map's `maxEntries`). */
  get size(): number {
    return this.#size;
  }

  /** Bytes free for records now (each record takes its size + 8, rounded up to 8). */
  get free(): number {
    if (this.#closed) return 0;
    return this.#size - Number(Atomics.load(this.#producerPos, 0) - Atomics.load(this.#consumerPos, 0));
  }

  #check(size: unknown): number {
    if (this.#closed) throw errClosed('user ring buffer');
    const limit = Math.min(this.#size - HEADER, MAX_RECORD);
    return validateInteger(size, 'size', 0, limit);
  }

  /**
   * Reserves a record of `size` bytes and returns a `Uint8Array` over it (in the ring: write into
   * it, do not keep it after `submit`/`discard`). Its contents are whatever the ring held.
   * @throws RangeError `ERR_BPFJS_RINGBUF_FULL` (with `needed` and `free` bytes) when it does not
   *   fit now; `ERR_OUT_OF_RANGE` when it never could (more than the ring size − 8, or 2^24 − 1);
   *   TypeError `ERR_BPFJS_CLOSED`.
   */
  reserve(size: number): Uint8Array {
    const record = this.#tryReserve(this.#check(size));
    if (record === undefined) throw errFull(total(size), this.free);
    return record;
  }

  #tryReserve(size: number): Uint8Array | undefined {
    const cons = Atomics.load(this.#consumerPos, 0);
    const prod = Atomics.load(this.#producerPos, 0);
    const need = total(size);
    if (this.#size - Number(prod - cons) < need) return undefined;
    const at = Number(prod % BigInt(this.#size));
    // Header first (busy: the kernel must not read it yet), then the producer position.
    Atomics.store(this.#words, at / 4, size | BUSY_BIT);
    Atomics.store(this.#words, at / 4 + 1, 0);
    Atomics.store(this.#producerPos, 0, prod + BigInt(need));
    return this.#data.subarray(at + HEADER, at + HEADER + size);
  }

  /**
   * Hands a reserved record to the kernel (clears its busy bit).
   * @throws TypeError `ERR_BPFJS_RINGBUF_RECORD` for a `Uint8Array` that is not a reserved,
   *   not yet submitted record of this ring; `ERR_BPFJS_CLOSED`.
   */
  submit(record: Uint8Array): void {
    this.#commit(record, false);
  }

  /** Gives a reserved record up: the kernel skips it (discard bit). Same errors as {@link submit}. */
  discard(record: Uint8Array): void {
    this.#commit(record, true);
  }

  #commit(record: Uint8Array, discard: boolean): void {
    if (this.#closed) throw errClosed('user ring buffer');
    if (!(record instanceof Uint8Array))
      throw errInvalidArgType('record', 'a Uint8Array from reserve()', record);
    const at = record.byteOffset - this.#data.byteOffset - HEADER;
    if (record.buffer !== this.#data.buffer || at < 0 || at % 8 !== 0 || at >= 2 * this.#size) {
      throw errRecord('is not a record reserved from this UserRingBuffer');
    }
    const word = (at % this.#size) / 4;
    const len = Atomics.load(this.#words, word);
    if ((len & BUSY_BIT) === 0 || (len & ~BUSY_BIT) !== record.byteLength) {
      throw errRecord('was submitted or discarded already');
    }
    Atomics.store(this.#words, word, (len & ~BUSY_BIT) | (discard ? DISCARD_BIT : 0));
  }

  /**
   * Reserves, copies `bytes` in and submits: one record.
   * @throws as {@link reserve}; TypeError for something else than a `Uint8Array`.
   */
  write(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw errInvalidArgType('bytes', 'a Uint8Array', bytes);
    const record = this.reserve(bytes.byteLength);
    record.set(bytes);
    this.submit(record);
  }

  /**
   * Like {@link reserve}, but waits while the ring is full until a BPF program drains enough of it
   * (the kernel wakes the map fd after a drain; no thread is held and nothing spins meanwhile).
   * @throws as {@link reserve} except `ERR_BPFJS_RINGBUF_FULL`; rejects with the signal's reason
   *   when aborted, or `ERR_BPFJS_CLOSED` when the ring buffer is closed while waiting.
   */
  async reserveAsync(size: number, options: UserRingBufferWaitOptions = {}): Promise<Uint8Array> {
    const n = this.#check(size);
    const signal = options.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw errInvalidArgType('options.signal', 'an AbortSignal', signal);
    }
    for (;;) {
      signal?.throwIfAborted();
      if (this.#closed) throw errClosed('user ring buffer');
      // The edge watch exists before this attempt: a drain after it is never missed.
      this.#startWatch();
      const record = this.#tryReserve(n);
      if (record !== undefined) {
        this.#stopWatchIfIdle();
        return record;
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          this.#waiters = this.#waiters.filter((w) => w !== wake);
          this.#stopWatchIfIdle();
          reject(signal?.reason);
        };
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.#waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** {@link reserveAsync}, copy and submit. */
  async writeAsync(bytes: Uint8Array, options: UserRingBufferWaitOptions = {}): Promise<void> {
    if (!(bytes instanceof Uint8Array)) throw errInvalidArgType('bytes', 'a Uint8Array', bytes);
    const record = await this.reserveAsync(bytes.byteLength, options);
    record.set(bytes);
    this.submit(record);
  }

  #startWatch(): void {
    if (this.#watch !== undefined) return;
    this.#watch = watchFd(this.#fd, () => this.#wake(), { writable: true, edge: true });
  }

  #stopWatchIfIdle(): void {
    if (this.#waiters.length > 0 || this.#watch === undefined) return;
    this.#watch.close();
    this.#watch = undefined;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /**
   * Unmaps the ring (idempotent); waiting `reserveAsync` calls reject with `ERR_BPFJS_CLOSED`.
   * Records reserved and not submitted stay busy: the kernel will not drain past them.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.close();
    this.#watch = undefined;
    munmap(this.#producer);
    munmap(this.#consumer);
    this.#fd.close();
    this.#wake(); // each waiter sees #closed and rejects
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** Bytes a record of `size` takes in the ring: header + data, rounded up to 8. */
function total(size: number): number {
  return (size + HEADER + 7) & ~7;
}

function errFull(needed: number, free: number): BpfjsRangeError {
  const e = new BpfjsRangeError(
    'ERR_BPFJS_RINGBUF_FULL',
    `The user ring buffer is full: the record needs ${needed} bytes, ${free} are free until a BPF program drains it (reserveAsync() waits)`,
  );
  return Object.assign(e, { needed, free });
}

function errRecord(what: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_RINGBUF_RECORD', `The record ${what}`);
}
