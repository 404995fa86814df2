/**
 * More map commands: `BPF_MAP_LOOKUP_AND_DELETE_ELEM`, `BPF_MAP_FREEZE`, the batch commands
 * (`BPF_MAP_LOOKUP_BATCH`, `LOOKUP_AND_DELETE_BATCH`, `UPDATE_BATCH`, `DELETE_BATCH`), and
 * {@link MapElemCalls}, the allocation-free element path the object layer (`@bpfjs/map`) uses:
 * one attr per map whose key/value pointers are written once, so a lookup is "write the key,
 * one call, read the value".
 *
 * @module
 */
import {
  BPF_MAP_DELETE_BATCH,
  BPF_MAP_DELETE_ELEM,
  BPF_MAP_FREEZE,
  BPF_MAP_GET_NEXT_KEY,
  BPF_MAP_LOOKUP_AND_DELETE_BATCH,
  BPF_MAP_LOOKUP_AND_DELETE_ELEM,
  BPF_MAP_LOOKUP_BATCH,
  BPF_MAP_LOOKUP_ELEM,
  BPF_MAP_UPDATE_BATCH,
  BPF_MAP_UPDATE_ELEM,
  MapBatchAttr,
  MapElemAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAtTry, bpfError, type ScratchAttr, scratchAttr } from './bpf.js';
import { type BpfError, errInvalidArgType, errOutOfRange } from './errors.js';
import type { Fd } from './fd.js';
import { addressOf, allocBytes, offsetofend } from './struct.js';
import {
  optionKeys,
  validateBytes,
  validateFd,
  validateObject,
  validateU32,
  validateU64,
} from './validate.js';

const F = MapElemAttr.fields;
// Each element command passes the attr up to the last field it uses (libbpf's offsetofend).
const ELEM_SIZE = offsetofend(MapElemAttr, 'flags');
const DELETE_SIZE = offsetofend(MapElemAttr, 'key');
const NEXT_KEY_SIZE = offsetofend(MapElemAttr, 'next_key');

/**
 * The element commands of one map without argument checks and without exceptions on the way:
 * the buffers `key`, `value`, `cursor` and `next` belong to this object (off the V8 heap, so the
 * addresses written into its attrs stay valid), the caller fills `key`/`value` and reads the
 * results from them. Each call returns 0 or the errno of the failure (build the error with
 * {@link MapElemCalls.error}). The map fd number is the caller's to keep open while it calls.
 * Not for applications: the fast path of `@bpfjs/map`; no input is checked here.
 */
export class MapElemCalls {
  /** The key buffer (key size bytes) every element call reads. */
  readonly key: Uint8Array;
  /** The value buffer (value bytes: per CPU for per-CPU maps) lookups fill and updates read. */
  readonly value: Uint8Array;
  /** The key iteration starts from ({@link nextKey}). */
  readonly cursor: Uint8Array;
  /** Where {@link nextKey} writes the following key. */
  readonly next: Uint8Array;
  readonly #elem: ScratchAttr;
  readonly #iter: ScratchAttr;
  readonly #cursorAddr: bigint;

  /** Buffers and attrs for map fd `fd` with `keySize`-byte keys and `valueBytes`-byte values. */
  constructor(fd: number, keySize: number, valueBytes: number) {
    this.key = allocBytes(keySize);
    this.value = allocBytes(valueBytes);
    this.cursor = allocBytes(keySize);
    this.next = allocBytes(keySize);
    this.#elem = scratchAttr(allocBytes(MapElemAttr.size));
    this.#iter = scratchAttr(allocBytes(MapElemAttr.size));
    const e = this.#elem.view;
    e.setUint32(F.map_fd.offset, fd, true);
    e.setBigUint64(F.key.offset, addressOf(this.key), true);
    e.setBigUint64(F.value.offset, addressOf(this.value), true);
    const i = this.#iter.view;
    i.setUint32(F.map_fd.offset, fd, true);
    this.#cursorAddr = addressOf(this.cursor);
    i.setBigUint64(F.next_key.offset, addressOf(this.next), true);
  }

  /** `BPF_MAP_LOOKUP_ELEM` of `key` into `value`; 0 or errno (ENOENT: absent). */
  lookup(flags: number): number {
    this.#elem.view.setUint32(F.flags.offset, flags, true);
    const r = bpfAtTry(BPF_MAP_LOOKUP_ELEM, this.#elem, ELEM_SIZE);
    return r < 0 ? -r : 0;
  }

  /** `BPF_MAP_UPDATE_ELEM` of `key` to `value` with `flags`; 0 or errno. */
  update(flags: number): number {
    this.#elem.view.setUint32(F.flags.offset, flags, true);
    const r = bpfAtTry(BPF_MAP_UPDATE_ELEM, this.#elem, ELEM_SIZE);
    return r < 0 ? -r : 0;
  }

  /** `BPF_MAP_DELETE_ELEM` of `key`; 0 or errno (ENOENT: absent). */
  delete(): number {
    const r = bpfAtTry(BPF_MAP_DELETE_ELEM, this.#elem, DELETE_SIZE);
    return r < 0 ? -r : 0;
  }

  /**
   * `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (queue/stack 4.20, hash types 5.14) of `key` (none for
   * queue/stack) into `value`; 0 or errno.
   */
  lookupAndDelete(flags: number): number {
    this.#elem.view.setUint32(F.flags.offset, flags, true);
    const r = bpfAtTry(BPF_MAP_LOOKUP_AND_DELETE_ELEM, this.#elem, ELEM_SIZE);
    return r < 0 ? -r : 0;
  }

  /**
   * `BPF_MAP_GET_NEXT_KEY`: the key after `cursor` (the first key when `first`) into `next`;
   * 0 or errno (ENOENT: no more keys).
   */
  nextKey(first: boolean): number {
    this.#iter.view.setBigUint64(F.key.offset, first ? 0n : this.#cursorAddr, true);
    const r = bpfAtTry(BPF_MAP_GET_NEXT_KEY, this.#iter, NEXT_KEY_SIZE);
    return r < 0 ? -r : 0;
  }

  /** The `BpfError` of a failed call (`command` is the element command's name). */
  static error(
    command: 'lookup' | 'update' | 'delete' | 'lookupAndDelete' | 'nextKey',
    errno: number,
  ): BpfError {
    return bpfError(ELEM_COMMANDS[command], errno);
  }
}

const ELEM_COMMANDS = {
  lookup: BPF_MAP_LOOKUP_ELEM,
  update: BPF_MAP_UPDATE_ELEM,
  delete: BPF_MAP_DELETE_ELEM,
  lookupAndDelete: BPF_MAP_LOOKUP_AND_DELETE_ELEM,
  nextKey: BPF_MAP_GET_NEXT_KEY,
} as const;

/**
 * `BPF_MAP_FREEZE` (5.2+): makes the map read-only for user space (BPF programs may still write
 * it unless it is also `BPF_F_RDONLY_PROG`). Irreversible.
 * @throws BpfError (`command: 'BPF_MAP_FREEZE'`): EBUSY if the map is mmap'ed writable or already
 *   frozen, ENOTSUPP for map types that cannot be frozen, EINVAL before 5.2.
 */
export function mapFreeze(mapFd: Fd | number): void {
  const n = validateFd(mapFd, 'mapFd');
  mapFreezeUnchecked(n);
}

let freezeScratch: ScratchAttr | undefined;

/** {@link mapFreeze} without argument checks. Not for applications: for `@bpfjs/map`, which checked them. */
export function mapFreezeUnchecked(fd: number): void {
  freezeScratch ??= scratchAttr(allocBytes(MapElemAttr.size));
  freezeScratch.view.setUint32(F.map_fd.offset, fd, true);
  const r = bpfAtTry(BPF_MAP_FREEZE, freezeScratch, offsetofend(MapElemAttr, 'map_fd'));
  if (r < 0) throw bpfError(BPF_MAP_FREEZE, -r);
}

/**
 * `BPF_MAP_LOOKUP_AND_DELETE_ELEM` (queue/stack 4.20, hash types 5.14): copies the value of `key`
 * into `value` and removes the entry; for queue and stack maps `key` is `null` (pop).
 * @throws BpfError (`command: 'BPF_MAP_LOOKUP_AND_DELETE_ELEM'`): ENOENT when absent/empty.
 */
export function mapLookupAndDeleteElem(
  mapFd: Fd | number,
  key: Uint8Array | null,
  value: Uint8Array,
  flags = 0,
): void {
  const n = validateFd(mapFd, 'mapFd');
  const k = key === null ? null : validateBytes(key, 'key');
  const v = validateBytes(value, 'value');
  const f = validateU32(flags, 'flags');
  const calls = new MapElemCalls(n, k === null ? 0 : k.byteLength, v.byteLength);
  if (k !== null) calls.key.set(k);
  const errno = calls.lookupAndDelete(f);
  if (errno !== 0) throw MapElemCalls.error('lookupAndDelete', errno);
  v.set(calls.value);
}

/** The batch commands, by name. */
export type MapBatchCommand = 'lookup' | 'lookupAndDelete' | 'update' | 'delete';

const BATCH_COMMANDS: Readonly<Record<MapBatchCommand, number>> = {
  lookup: BPF_MAP_LOOKUP_BATCH,
  lookupAndDelete: BPF_MAP_LOOKUP_AND_DELETE_BATCH,
  update: BPF_MAP_UPDATE_BATCH,
  delete: BPF_MAP_DELETE_BATCH,
};

/** Options of the batch wrappers (`mapLookupBatch`, ...). */
export interface MapBatchOptions {
  /**
   * Lookups: where to continue (the `outBatch` of the previous call), `null` to start. Its size is
   * map-type specific (a bucket index for hash maps, a key for arrays): use the same size as
   * `outBatch`, at least the key size and at least 4 bytes.
   */
  readonly inBatch?: Uint8Array | null;
  /** Lookups: where the kernel writes the position to continue from. */
  readonly outBatch?: Uint8Array;
  /** `count` keys back to back (lookups: filled; update/delete: read). */
  readonly keys: Uint8Array;
  /** `count` values back to back (lookups: filled; update: read; delete: omit). */
  readonly values?: Uint8Array;
  /** How many elements the buffers hold room for (lookups) or carry (update/delete). */
  readonly count: number;
  /** `BPF_F_LOCK` (and per-CPU `BPF_F_CPU` flags on new kernels) for each element. */
  readonly elemFlags?: number | bigint;
  /** Command flags (0). */
  readonly flags?: number | bigint;
}

/** What a batch command did. */
export interface MapBatchResult {
  /** How many elements it processed (lookups: how many keys/values it wrote). */
  readonly count: number;
  /** Lookups: the map has no more elements after these (the kernel answered ENOENT). */
  readonly done: boolean;
}

const BATCH_KEYS = optionKeys('inBatch', 'outBatch', 'keys', 'values', 'count', 'elemFlags', 'flags');
const B = MapBatchAttr.fields;
const BATCH_SIZE = offsetofend(MapBatchAttr, 'flags');
const ENOENT = 2;

let batchScratch: ScratchAttr | undefined;

/**
 * A batch command without argument checks: the buffers must hold `count` elements and outlive
 * the call. Returns the elements processed, and `done` when a lookup reached the end (ENOENT, the
 * partial count still valid).
 * @throws BpfError (`command: 'BPF_MAP_<cmd>_BATCH'`) for any other failure; its `count`
 *   property says how many elements were processed before it (update/delete stop at the first
 *   failing element).
 * Not for applications: for `@bpfjs/map`, which checked them.
 */
export function mapBatchUnchecked(
  command: MapBatchCommand,
  fd: number,
  inBatch: Uint8Array | null,
  outBatch: Uint8Array | null,
  keys: Uint8Array,
  values: Uint8Array | null,
  count: number,
  elemFlags: bigint,
  flags: bigint,
): MapBatchResult {
  batchScratch ??= scratchAttr(allocBytes(MapBatchAttr.size));
  const sc = batchScratch;
  const v = sc.view;
  v.setBigUint64(B.in_batch.offset, inBatch === null ? 0n : addressOf(inBatch), true);
  v.setBigUint64(B.out_batch.offset, outBatch === null ? 0n : addressOf(outBatch), true);
  v.setBigUint64(B.keys.offset, addressOf(keys), true);
  v.setBigUint64(B.values.offset, values === null ? 0n : addressOf(values), true);
  v.setUint32(B.count.offset, count, true);
  v.setUint32(B.map_fd.offset, fd, true);
  v.setBigUint64(B.elem_flags.offset, elemFlags, true);
  v.setBigUint64(B.flags.offset, flags, true);
  const cmd = BATCH_COMMANDS[command];
  const r = bpfAtTry(cmd, sc, BATCH_SIZE);
  const done = v.getUint32(B.count.offset, true);
  if (r >= 0) return { count: done, done: false };
  if (-r === ENOENT && (command === 'lookup' || command === 'lookupAndDelete'))
    return { count: done, done: true };
  const err = bpfError(cmd, -r) as BpfError & { count?: number };
  err.count = done;
  throw err;
}

function batch(command: MapBatchCommand, mapFd: Fd | number, options: MapBatchOptions): MapBatchResult {
  const n = validateFd(mapFd, 'mapFd');
  validateObject(options, 'options', BATCH_KEYS);
  const keys = validateBytes(options.keys, 'options.keys');
  const count = validateU32(options.count, 'options.count');
  const values = options.values === undefined ? null : validateBytes(options.values, 'options.values');
  const inBatch =
    options.inBatch === undefined || options.inBatch === null
      ? null
      : validateBytes(options.inBatch, 'options.inBatch');
  const outBatch =
    options.outBatch === undefined ? null : validateBytes(options.outBatch, 'options.outBatch');
  const elemFlags =
    options.elemFlags === undefined ? 0n : validateU64(options.elemFlags, 'options.elemFlags');
  const flags = options.flags === undefined ? 0n : validateU64(options.flags, 'options.flags');
  if (count > 0 && (keys.byteLength === 0 || keys.byteLength % count !== 0)) {
    throw errOutOfRange(
      'options.keys.byteLength',
      `a non-zero multiple of options.count (${count})`,
      keys.byteLength,
    );
  }
  if (values !== null && count > 0 && values.byteLength % count !== 0) {
    throw errOutOfRange(
      'options.values.byteLength',
      `a multiple of options.count (${count})`,
      values.byteLength,
    );
  }
  const lookup = command === 'lookup' || command === 'lookupAndDelete';
  if ((lookup || command === 'update') && values === null) {
    throw errInvalidArgType('options.values', 'an instance of Uint8Array', undefined);
  }
  if (lookup && outBatch === null)
    throw errInvalidArgType('options.outBatch', 'an instance of Uint8Array', undefined);
  return mapBatchUnchecked(command, n, inBatch, outBatch, keys, values, count, elemFlags, flags);
}

/**
 * `BPF_MAP_LOOKUP_BATCH` (5.6+; hash types and arrays): copies up to `count` elements starting at
 * `inBatch` into `keys`/`values` and the position to continue from into `outBatch`.
 * @returns `{ count, done }`: elements copied; `done` once the map is exhausted (ENOENT).
 * @throws BpfError (`command: 'BPF_MAP_LOOKUP_BATCH'`): EINVAL for map types without batch
 *   support or kernels before 5.6, ENOSPC when one hash bucket holds more than `count` elements.
 */
export function mapLookupBatch(mapFd: Fd | number, options: MapBatchOptions): MapBatchResult {
  return batch('lookup', mapFd, options);
}

/**
 * `BPF_MAP_LOOKUP_AND_DELETE_BATCH` (5.6+; hash types): as {@link mapLookupBatch}, removing what
 * it copies.
 * @throws BpfError (`command: 'BPF_MAP_LOOKUP_AND_DELETE_BATCH'`): EINVAL/ENOTSUPP for arrays.
 */
export function mapLookupAndDeleteBatch(mapFd: Fd | number, options: MapBatchOptions): MapBatchResult {
  return batch('lookupAndDelete', mapFd, options);
}

/**
 * `BPF_MAP_UPDATE_BATCH` (5.6+): sets `count` keys to their values (`elemFlags`: `BPF_F_LOCK`).
 * @returns `{ count }` — all of them on success.
 * @throws BpfError (`command: 'BPF_MAP_UPDATE_BATCH'`) with `count` = elements written before the
 *   failing one (E2BIG when full).
 */
export function mapUpdateBatch(mapFd: Fd | number, options: MapBatchOptions): MapBatchResult {
  return batch('update', mapFd, options);
}

/**
 * `BPF_MAP_DELETE_BATCH` (5.6+; hash types): removes `count` keys.
 * @throws BpfError (`command: 'BPF_MAP_DELETE_BATCH'`) with `count` = elements removed before the
 *   failing one (ENOENT for a missing key).
 */
export function mapDeleteBatch(mapFd: Fd | number, options: MapBatchOptions): MapBatchResult {
  return batch('delete', mapFd, options);
}
