/**
 * Map commands: `BPF_MAP_CREATE` and the element commands (lookup, update, delete, next key).
 * Key and value buffers are checked against the map's key and value sizes before the call, so
 * the kernel never reads or writes past them.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  BPF_MAP_CREATE,
  BPF_MAP_DELETE_ELEM,
  BPF_MAP_GET_NEXT_KEY,
  BPF_MAP_LOOKUP_ELEM,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_UPDATE_ELEM,
  MapCreateAttr,
  MapElemAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAt, bpfUnchecked, type ScratchAttr, scratchAttr } from './bpf.js';
import { BpfError, errOutOfRange } from './errors.js';
import { adoptFd, Fd } from './fd.js';
import { mapGetInfo } from './info.js';
import { explainMapCreateFailure } from './probe.js';
import { validateObjName } from './prog.js';
import { addressOf, allocBytes, Struct } from './struct.js';
import {
  optionKeys,
  validateBytes,
  validateFd,
  validateObject,
  validateOptionalFd,
  validateU32,
  validateU64,
} from './validate.js';

// Option names of mapCreate: any other key is refused (ERR_INVALID_ARG_VALUE).
const MAP_CREATE_KEYS = optionKeys(
  'type',
  'keySize',
  'valueSize',
  'maxEntries',
  'flags',
  'name',
  'innerMapFd',
  'numaNode',
  'ifindex',
  'btfFd',
  'btfKeyTypeId',
  'btfValueTypeId',
  'mapExtra',
);

const ENOENT = 2;

/** Options of {@link mapCreate}. */
export interface MapCreateOptions {
  /** `enum bpf_map_type`. */
  type: number;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes. */
  valueSize: number;
  /** Maximum number of entries. */
  maxEntries: number;
  /** `BPF_F_*` map flags. */
  flags?: number;
  /** Name, at most 15 bytes of `[A-Za-z0-9_.]` (4.15+). */
  name?: string;
  /** Inner map template for map-in-map types. */
  innerMapFd?: Fd | number;
  /** NUMA node (with `BPF_F_NUMA_NODE`). */
  numaNode?: number;
  /** Offload interface. */
  ifindex?: number;
  /** BTF object describing key and value. */
  btfFd?: Fd | number;
  /** BTF type id of the key. */
  btfKeyTypeId?: number;
  /** BTF type id of the value. */
  btfValueTypeId?: number;
  /** `map_extra` (bloom filter hash count, arena address; 5.16+). */
  mapExtra?: bigint | number;
}

interface Sizes {
  readonly key: number;
  readonly value: number;
}
// Sizes of maps created or inspected through an `Fd`, so element calls need no extra syscall.
const sizesByFd = new WeakMap<object, Sizes>();

const PERCPU_TYPES = new Set<number>([
  BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_LRU_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
]);

let possibleCpus: number | undefined;
/** The number of possible CPUs (`/sys/devices/system/cpu/possible`), as per-CPU maps count them. */
export function numPossibleCpus(): number {
  if (possibleCpus !== undefined) return possibleCpus;
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  let max = 0;
  for (const part of text.split(',')) {
    const [, hi] = part.split('-');
    max = Math.max(max, Number(hi ?? part) + 1);
  }
  possibleCpus = max;
  return max;
}

function valueBytes(type: number, valueSize: number): number {
  // Per-CPU maps exchange one 8-byte-aligned value per possible CPU.
  return PERCPU_TYPES.has(type) ? Math.ceil(valueSize / 8) * 8 * numPossibleCpus() : valueSize;
}

function sizesOf(fd: Fd | number, n: number): Sizes {
  if (typeof fd === 'object') {
    const known = sizesByFd.get(fd);
    if (known !== undefined) return known;
  }
  const info = mapGetInfo(n);
  const sizes = { key: info.keySize, value: valueBytes(info.type, info.valueSize) };
  if (typeof fd === 'object') sizesByFd.set(fd, sizes);
  return sizes;
}

/**
 * `BPF_MAP_CREATE` (3.18+): creates a map and returns its `Fd`.
 * @throws BpfError (`command: 'BPF_MAP_CREATE'`): EINVAL for bad sizes/flags, ENOMEM, EPERM.
 * @throws UnsupportedFeatureError (`ERR_BPFJS_NOT_SUPPORTED`, `cause` the BpfError) instead of
 *   EINVAL when the probe says the kernel lacks the map type (probed only after a failure).
 */
export function mapCreate(opts: MapCreateOptions): Fd {
  validateObject(opts, 'options', MAP_CREATE_KEYS);
  const type = validateU32(opts.type, 'options.type');
  const keySize = validateU32(opts.keySize, 'options.keySize');
  const valueSize = validateU32(opts.valueSize, 'options.valueSize');
  const maxEntries = validateU32(opts.maxEntries, 'options.maxEntries');
  const attr = new Struct(MapCreateAttr);
  attr
    .set('map_type', type)
    .set('key_size', keySize)
    .set('value_size', valueSize)
    .set('max_entries', maxEntries);
  if (opts.flags !== undefined) attr.set('map_flags', validateU32(opts.flags, 'options.flags'));
  const inner = validateOptionalFd(opts.innerMapFd, 'options.innerMapFd');
  if (inner !== undefined) attr.set('inner_map_fd', inner);
  if (opts.numaNode !== undefined) attr.set('numa_node', validateU32(opts.numaNode, 'options.numaNode'));
  if (opts.name !== undefined) attr.setBytes('map_name', validateObjName(opts.name, 'options.name'));
  if (opts.ifindex !== undefined) attr.set('map_ifindex', validateU32(opts.ifindex, 'options.ifindex'));
  const btf = validateOptionalFd(opts.btfFd, 'options.btfFd');
  if (btf !== undefined) attr.set('btf_fd', btf);
  if (opts.btfKeyTypeId !== undefined)
    attr.set('btf_key_type_id', validateU32(opts.btfKeyTypeId, 'options.btfKeyTypeId'));
  if (opts.btfValueTypeId !== undefined) {
    attr.set('btf_value_type_id', validateU32(opts.btfValueTypeId, 'options.btfValueTypeId'));
  }
  if (opts.mapExtra !== undefined) attr.set('map_extra', validateU64(opts.mapExtra, 'options.mapExtra'));
  let fd: Fd;
  try {
    fd = adoptFd(bpfUnchecked(BPF_MAP_CREATE, attr.bytes, attr.end));
  } catch (e) {
    throw explainMapCreateFailure(e, type);
  }
  sizesByFd.set(fd, { key: keySize, value: valueBytes(type, valueSize) });
  return fd;
}

function checkLen(buf: Uint8Array, name: string, want: number): void {
  if (buf.byteLength !== want)
    throw errOutOfRange(`${name}.byteLength`, `${want} (the map's size)`, buf.byteLength);
}

// The element commands share one scratch attr (offsets resolved once, no allocation per call);
// every field a command reads is written on each call.
const E = MapElemAttr.fields;
const ELEM_END = E.flags.offset + E.flags.size;
const KEY_END = E.key.offset + E.key.size;
let elemScratch: ScratchAttr | undefined;

function elemCall(
  cmd: number,
  n: number,
  key: Uint8Array | null,
  value: Uint8Array | null,
  flags: number,
  size: number,
): void {
  elemScratch ??= scratchAttr(allocBytes(MapElemAttr.size));
  const v = elemScratch.view;
  v.setUint32(E.map_fd.offset, n, true);
  v.setBigUint64(E.key.offset, key === null ? 0n : addressOf(key), true);
  // `value` and `next_key` share one slot (a union).
  v.setBigUint64(E.value.offset, value === null ? 0n : addressOf(value), true);
  v.setBigUint64(E.flags.offset, BigInt(flags), true);
  bpfAt(cmd, elemScratch, size);
}

/**
 * `BPF_MAP_LOOKUP_ELEM`: copies the value of `key` into `value` (exactly the map's value size;
 * for per-CPU maps `roundup(value_size, 8) * possible CPUs`).
 * @throws BpfError (`command: 'BPF_MAP_LOOKUP_ELEM'`): ENOENT if the key is absent.
 * @throws RangeError `ERR_OUT_OF_RANGE` if a buffer does not match the map's sizes.
 */
export function mapLookupElem(mapFd: Fd | number, key: Uint8Array, value: Uint8Array, flags = 0): void {
  const n = validateFd(mapFd, 'mapFd');
  const k = validateBytes(key, 'key');
  const v = validateBytes(value, 'value');
  const f = validateU32(flags, 'flags');
  const sizes = sizesOf(mapFd, n);
  checkLen(k, 'key', sizes.key);
  checkLen(v, 'value', sizes.value);
  elemCall(BPF_MAP_LOOKUP_ELEM, n, k, v, f, ELEM_END);
}

/**
 * `BPF_MAP_UPDATE_ELEM`: sets `key` to `value` (`flags`: `BPF_ANY`, `BPF_NOEXIST`, `BPF_EXIST`).
 * @throws BpfError (`command: 'BPF_MAP_UPDATE_ELEM'`): EEXIST with BPF_NOEXIST, ENOENT with
 *   BPF_EXIST, E2BIG when full.
 */
export function mapUpdateElem(mapFd: Fd | number, key: Uint8Array, value: Uint8Array, flags = 0): void {
  const n = validateFd(mapFd, 'mapFd');
  const k = validateBytes(key, 'key');
  const v = validateBytes(value, 'value');
  const f = validateU32(flags, 'flags');
  const sizes = sizesOf(mapFd, n);
  checkLen(k, 'key', sizes.key);
  checkLen(v, 'value', sizes.value);
  elemCall(BPF_MAP_UPDATE_ELEM, n, k, v, f, ELEM_END);
}

/**
 * `BPF_MAP_DELETE_ELEM`: removes `key`.
 * @throws BpfError (`command: 'BPF_MAP_DELETE_ELEM'`): ENOENT if absent, EINVAL for arrays.
 */
export function mapDeleteElem(mapFd: Fd | number, key: Uint8Array): void {
  const n = validateFd(mapFd, 'mapFd');
  const k = validateBytes(key, 'key');
  checkLen(k, 'key', sizesOf(mapFd, n).key);
  elemCall(BPF_MAP_DELETE_ELEM, n, k, null, 0, KEY_END);
}

/**
 * `BPF_MAP_GET_NEXT_KEY`: writes the key after `key` (or the first key when `key` is `null`) into
 * `nextKey`; returns `false` at the end (ENOENT).
 * @throws BpfError (`command: 'BPF_MAP_GET_NEXT_KEY'`) for other errors.
 */
export function mapGetNextKey(mapFd: Fd | number, key: Uint8Array | null, nextKey: Uint8Array): boolean {
  const n = validateFd(mapFd, 'mapFd');
  const k = key === null ? null : validateBytes(key, 'key');
  const nk = validateBytes(nextKey, 'nextKey');
  const sizes = sizesOf(mapFd, n);
  if (k !== null) checkLen(k, 'key', sizes.key);
  checkLen(nk, 'nextKey', sizes.key);
  try {
    elemCall(BPF_MAP_GET_NEXT_KEY, n, k, nk, 0, E.next_key.offset + E.next_key.size);
  } catch (e) {
    if (BpfError.isInstance(e) && e.errno === ENOENT) return false;
    throw e;
  }
  return true;
}

/** @internal Whether the sizes of this map `Fd` are cached (tests). */
export function hasCachedSizes(fd: Fd): boolean {
  return Fd.isInstance(fd) && sizesByFd.has(fd);
}
