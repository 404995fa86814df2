/**
 * `RingBuffer`: the reader of a `ringbuf` map (Linux 5.8+), as libbpf's `ring_buffer__*` reads one:
 * the consumer page (read-write) and the producer page plus the data pages (read-only, the data
 * mapped twice so a record that wraps is contiguous) are mmap'ed; records are read in order
 * between the consumer and producer positions, a record still being written (busy bit) ends the
 * read, a discarded one (discard bit) is skipped, and the consumer position is published after each
 * record so the kernel can reuse the space.
 *
 * Waking up: the map fd polls readable while data is available. The reader watches it on the Node
 * event loop itself (`watchFd` from `@bpfjs/sys`: libuv's `uv_poll`, bound through koffi), so an
 * idle reader holds no thread — neither a libuv thread-pool thread (as an async `epoll_wait` call
 * would, one per reader, starving `fs`/`dns`/`crypto` at four) nor a worker thread blocked in
 * `epoll_wait` (a second V8 isolate per reader and a handshake to avoid lost wake-ups) — and never
 * spins: each wake-up drains what is there, so the level-triggered poll goes quiet again.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  BpfjsTypeError,
  errInvalidArgType,
  type Fd,
  type FdWatch,
  type Mapping,
  mmap,
  munmap,
  PROT_READ,
  PROT_WRITE,
  watchFd,
} from '@bpfjs/sys';
import { optionKeys, validateObject } from '@bpfjs/sys/internal';
import { errClosed, errOperation } from './errors.js';
import { BpfMap } from './map.js';

// include/uapi/linux/bpf.h: the record header's length word carries these two bits.
/** @internal */
export const BUSY_BIT = 0x8000_0000;
/** @internal */
export const DISCARD_BIT = 0x4000_0000;
/** BPF_RINGBUF_HDR_SZ. @internal */
export const HEADER = 8;

/** Options of {@link RingBuffer}. */
export interface RingBufferOptions {
  /**
   * Callback form: called with each record (a copy) as soon as the map fd polls readable. Without
   * it, read with `for await (const record of ring)` or `ring.consume()`.
   */
  readonly onRecord?: (record: Uint8Array) => void;
}

const OPTION_KEYS = optionKeys('onRecord');

let pageSize: number | undefined;

/** The page size (`AT_PAGESZ` from the aux vector; 4096 if it cannot be read). @internal */
export function page(): number {
  if (pageSize !== undefined) return pageSize;
  pageSize = 4096;
  try {
    const auxv = readFileSync('/proc/self/auxv');
    for (let i = 0; i + 16 <= auxv.length; i += 16) {
      if (auxv.readBigUInt64LE(i) === 6n) pageSize = Number(auxv.readBigUInt64LE(i + 8)); // AT_PAGESZ
    }
  } catch {
    // keep 4096
  }
  return pageSize;
}

/** The mapped pages of a ring buffer map, as {@link mapRing} returns them. @internal */
export interface RingMapping {
  /** A dup of the map's fd: the mappings (and a watch) must not depend on the map staying open. */
  readonly fd: Fd;
  readonly consumer: Mapping;
  readonly producer: Mapping;
  readonly consumerPos: BigUint64Array;
  readonly producerPos: BigUint64Array;
  /** The data pages, mapped twice in a row (so a record that wraps is contiguous): 2 × size bytes. */
  readonly data: Uint8Array;
  /** The ring's data size (the map's `maxEntries`). */
  readonly size: number;
}

/**
 * Maps a ring buffer map's consumer page (offset 0) and its producer page plus the data twice
 * (offset one page) with the given protections — the reader and the writer of a ring differ only
 * in which side is writable — on a dup of the map's fd. On failure nothing stays mapped or open.
 * @internal
 */
export function mapRing(
  map: BpfMap<unknown, unknown>,
  consumerProt: number,
  producerProt: number,
): RingMapping {
  const size = map.maxEntries;
  const ps = page();
  const fd = map.fd.dup();
  let consumer: Mapping | undefined;
  let producer: Mapping;
  try {
    consumer = mmap(fd, ps, consumerProt, 0);
    producer = mmap(fd, ps + 2 * size, producerProt, ps);
  } catch (err) {
    if (consumer !== undefined) munmap(consumer);
    fd.close();
    throw err;
  }
  return {
    fd,
    consumer,
    producer,
    consumerPos: new BigUint64Array(consumer.buffer, 0, 1),
    producerPos: new BigUint64Array(producer.buffer, 0, 1),
    data: new Uint8Array(producer.buffer, ps, 2 * size),
    size,
  };
}

/**
 * Reads the records a BPF program writes into a `ringbuf` map (`bpf_ringbuf_output`,
 * `bpf_ringbuf_reserve`/`submit`), in order, each as a `Uint8Array` copy. Three ways to read:
 * `onRecord` (callback on every wake-up), `for await (const r of ring)`, or `consume()` (what is
 * there now, synchronously). `close()` (or `using`) stops watching and unmaps; the map itself stays
 * open (it is the caller's).
 */
export class RingBuffer implements Disposable, AsyncIterable<Uint8Array> {
  readonly #fd: Fd;
  readonly #consumer: Mapping;
  readonly #producer: Mapping;
  readonly #consumerPos: BigUint64Array;
  readonly #producerPos: BigUint64Array;
  readonly #data: Uint8Array;
  readonly #header: DataView;
  readonly #mask: number;
  #watch: FdWatch | undefined;
  #closed = false;
  #onRecord: ((record: Uint8Array) => void) | undefined;
  // Async iteration: records read but not yet taken, and a waiting next().
  #queue: Uint8Array[] = [];
  #waiting: ((r: IteratorResult<Uint8Array>) => void) | undefined;
  #failed: ((err: unknown) => void) | undefined;
  #refed = true;

  /**
   * Maps the ring of `map` (a `ringbuf` `BpfMap`). With `onRecord`, starts watching at once.
   * @throws TypeError `ERR_BPFJS_MAP_OPERATION` for another map type, `ERR_BPFJS_CLOSED` for a
   *   closed map; BpfError from mmap (EPERM on kernels/maps that refuse it).
   */
  constructor(map: BpfMap<unknown, unknown>, options: RingBufferOptions = {}) {
    if (!BpfMap.isInstance(map)) throw errInvalidArgType('map', 'an instance of BpfMap', map);
    if (map.closed) throw errClosed('map given to RingBuffer');
    if (map.type !== 'ringbuf') throw errOperation('RingBuffer', map.type, "it reads 'ringbuf' maps");
    validateObject(options, 'options', OPTION_KEYS);
    if (options.onRecord !== undefined && typeof options.onRecord !== 'function') {
      throw errInvalidArgType('options.onRecord', 'of type function', options.onRecord);
    }
    const ring = mapRing(map, PROT_READ | PROT_WRITE, PROT_READ);
    this.#fd = ring.fd;
    this.#consumer = ring.consumer;
    this.#producer = ring.producer;
    this.#consumerPos = ring.consumerPos;
    this.#producerPos = ring.producerPos;
    this.#data = ring.data;
    this.#header = new DataView(ring.data.buffer, ring.data.byteOffset, ring.data.byteLength);
    this.#mask = ring.size - 1;
    this.#onRecord = options.onRecord as RingBufferOptions['onRecord'];
    if (this.#onRecord !== undefined) this.#startWatch();
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes written but not yet read (producer − consumer position). */
  get available(): number {
    if (this.#closed) return 0;
    return Number(Atomics.load(this.#producerPos, 0) - Atomics.load(this.#consumerPos, 0));
  }

  #startWatch(): void {
    if (this.#watch !== undefined) return;
    this.#watch = watchFd(this.#fd, () => this.#onReadable());
    if (!this.#refed) this.#watch.unref();
  }

  #onReadable(): void {
    if (this.#closed) return;
    try {
      if (this.#onRecord !== undefined) this.consume(this.#onRecord);
      else this.consume((r) => this.#deliver(r));
    } catch (err) {
      // A throwing callback: stop, and fail a waiting iterator; the callback form rethrows.
      this.close();
      if (this.#failed !== undefined) this.#failed(err);
      else throw err;
    }
  }

  #deliver(record: Uint8Array): void {
    const waiting = this.#waiting;
    if (waiting !== undefined) {
      this.#waiting = undefined;
      this.#failed = undefined;
      waiting({ value: record, done: false });
    } else {
      this.#queue.push(record);
    }
  }

  /**
   * Reads every record committed so far, in order, calling `onRecord` with each (a copy), and
   * returns how many it read. Stops at a record still being written (busy) and skips discarded
   * ones. Synchronous; never waits.
   * @throws TypeError `ERR_BPFJS_CLOSED`; whatever `onRecord` throws (records before it are consumed).
   */
  consume(onRecord: (record: Uint8Array) => void): number {
    if (this.#closed) throw errClosed('ring buffer');
    if (typeof onRecord !== 'function') throw errInvalidArgType('onRecord', 'of type function', onRecord);
    let count = 0;
    let cons = Atomics.load(this.#consumerPos, 0);
    for (;;) {
      const prod = Atomics.load(this.#producerPos, 0);
      let progressed = false;
      while (cons < prod) {
        const at = Number(cons & BigInt(this.#mask));
        // The length word is written last by the kernel (with release semantics): read it once.
        const len = this.#header.getUint32(at, true);
        if ((len & BUSY_BIT) !== 0) return count;
        const size = len & ~(BUSY_BIT | DISCARD_BIT);
        cons += BigInt((size + HEADER + 7) & ~7);
        progressed = true;
        if ((len & DISCARD_BIT) === 0) {
          const record = this.#data.slice(at + HEADER, at + HEADER + size);
          Atomics.store(this.#consumerPos, 0, cons);
          count++;
          onRecord(record);
        } else {
          Atomics.store(this.#consumerPos, 0, cons);
        }
      }
      if (!progressed) return count;
    }
  }

  /**
   * Async iteration over records as they arrive (woken by the map fd's readiness). Ends when the
   * ring buffer is closed. Not together with `onRecord`.
   * @throws TypeError `ERR_BPFJS_RINGBUF_CALLBACK` if an `onRecord` callback reads the records.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.#onRecord !== undefined) {
      throw new BpfjsTypeError(
        'ERR_BPFJS_RINGBUF_CALLBACK',
        'This RingBuffer delivers records to its onRecord callback',
      );
    }
    if (!this.#closed) this.#startWatch();
    return {
      next: () => {
        const queued = this.#queue.shift();
        if (queued !== undefined) return Promise.resolve({ value: queued, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        // Records may have arrived before the watch started: read them now.
        this.consume((r) => this.#queue.push(r));
        const now = this.#queue.shift();
        if (now !== undefined) return Promise.resolve({ value: now, done: false });
        return new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
          this.#waiting = resolve;
          this.#failed = reject;
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /** Lets the process exit while this reader waits (like `timer.unref()`). */
  unref(): this {
    this.#refed = false;
    this.#watch?.unref();
    return this;
  }

  /** Undoes `unref()`. */
  ref(): this {
    this.#refed = true;
    this.#watch?.ref();
    return this;
  }

  /** Stops watching, unmaps the ring and ends iterators (idempotent). The map stays open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch?.close();
    this.#watch = undefined;
    // No view of the mappings is used after this point: every reader checks #closed first.
    munmap(this.#producer);
    munmap(this.#consumer);
    this.#fd.close();
    const waiting = this.#waiting;
    this.#waiting = undefined;
    this.#failed = undefined;
    waiting?.({ value: undefined, done: true });
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
