/**
 * Memory-mapped array values: an `array` map created with `BPF_F_MMAPABLE` (Linux 5.5+) can be
 * mmap'ed, so reading and writing its elements takes no syscall at all (global data of BPF
 * objects works this way).
 *
 * @module
 */
import { errInvalidArgType, type Fd, type Mapping, mmap, munmap, PROT_READ, PROT_WRITE } from '@bpfjs/sys';
import { BPF_F_MMAPABLE } from '@bpfjs/uapi/linux/bpf';
import { errClosed, errOperation } from './errors.js';
import { BpfMap } from './map.js';

/** The values of a mmapable array, in memory shared with the kernel (see {@link mapArray}). */
export interface MappedArray extends Disposable {
  /** All elements back to back, each `stride` bytes (the value size rounded up to 8). */
  readonly bytes: Uint8Array;
  /** A DataView over `bytes`. */
  readonly view: DataView;
  /** Bytes from one element to the next. */
  readonly stride: number;
  /** True after `close()`: `bytes` must not be touched any more (the memory is unmapped). */
  readonly closed: boolean;
  /** Unmaps (idempotent). */
  close(): void;
}

/**
 * Maps the values of a `BPF_F_MMAPABLE` array (5.5+): element `i` is at `i * stride`. Writable
 * unless the map was frozen (then read-only); the mapping outlives `map.close()` and keeps the map
 * alive until `close()`. Do not keep views of `bytes` past `close()`: the memory is gone.
 * @throws TypeError `ERR_BPFJS_MAP_OPERATION` for other maps (not an array, or no
 *   `BPF_F_MMAPABLE`); BpfError from mmap (EPERM writing a frozen map).
 */
export function mapArray(
  map: BpfMap<unknown, unknown>,
  options: { readonly readOnly?: boolean } = {},
): MappedArray {
  if (!BpfMap.isInstance(map)) throw errInvalidArgType('map', 'an instance of BpfMap', map);
  if (map.closed) throw errClosed('map given to mapArray');
  if (map.type !== 'array' || (map.flags & BPF_F_MMAPABLE) === 0) {
    throw errOperation('mapArray', map.type, "it maps 'array' maps created with BPF_F_MMAPABLE (Linux 5.5+)");
  }
  const stride = Math.ceil(map.valueSize / 8) * 8;
  const length = stride * map.maxEntries;
  // A frozen map refuses writable mappings (EPERM): map it read-only then.
  const readOnly = options.readOnly ?? map.frozen;
  const fd: Fd = map.fd;
  const m: Mapping = mmap(fd, length, readOnly ? PROT_READ : PROT_READ | PROT_WRITE);
  let closed = false;
  const bytes = new Uint8Array(m.buffer, 0, length);
  return {
    bytes,
    view: new DataView(m.buffer, 0, length),
    stride,
    get closed() {
      return closed;
    },
    close() {
      if (closed) return;
      closed = true;
      munmap(m);
    },
    [Symbol.dispose]() {
      this.close();
    },
  };
}
