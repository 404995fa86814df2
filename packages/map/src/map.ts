/**
 * `BpfMap`: a BPF map that owns its file descriptor, with typed keys and values.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  BpfError,
  BpfjsRangeError,
  BpfjsTypeError,
  brand,
  errInvalidArgType,
  errInvalidArgValue,
  Fd,
  type MapInfo,
  mapCreate,
  mapGetFdById,
  mapGetInfo,
  minKernel,
  numPossibleCpus,
  objGet,
} from '@bpfjs/sys';
import {
  fdKind,
  isFd,
  MapElemCalls,
  mapBatchUnchecked,
  mapFreezeUnchecked,
  optionKeys,
  validateInteger,
  validateObject,
  validateU32,
} from '@bpfjs/sys/internal';
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_MMAPABLE,
  BPF_NOEXIST,
  bpf_map_type,
} from '@bpfjs/uapi/linux/bpf';
import { btfById, btfCodec, btfOfFd } from './btf.js';
import {
  btfPlaceholder,
  type Codec,
  type CodecSpec,
  type CodecValue,
  checkCodecSize,
  fdCodec,
  resolveCodec,
} from './codec.js';
import { errClosed, errIterationAborted, errOperation, errWrongObject, explain } from './errors.js';
import { type FdSource, fdOfSource } from './fd-source.js';
import { mapTypeName, mapTypeValue } from './names.js';
import { type PinOptions, pinFd, unpinPath, validatePinPath } from './pin.js';

const T = bpf_map_type;
const ENOENT = 2;
const ENOTSUPP = 524;
const EOPNOTSUPP = 95;
const EINVAL = 22;

const PERCPU = new Set<number>([
  T.BPF_MAP_TYPE_PERCPU_HASH,
  T.BPF_MAP_TYPE_PERCPU_ARRAY,
  T.BPF_MAP_TYPE_LRU_PERCPU_HASH,
  T.BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE,
]);
// Maps whose keys are indexes that always exist: no delete, iteration never restarts.
const ARRAYS = new Set<number>([T.BPF_MAP_TYPE_ARRAY, T.BPF_MAP_TYPE_PERCPU_ARRAY]);
const INDEXED = new Set<number>([
  T.BPF_MAP_TYPE_ARRAY,
  T.BPF_MAP_TYPE_PERCPU_ARRAY,
  T.BPF_MAP_TYPE_PROG_ARRAY,
  T.BPF_MAP_TYPE_PERF_EVENT_ARRAY,
  T.BPF_MAP_TYPE_CGROUP_ARRAY,
  T.BPF_MAP_TYPE_ARRAY_OF_MAPS,
  T.BPF_MAP_TYPE_SOCKMAP,
  T.BPF_MAP_TYPE_DEVMAP,
  T.BPF_MAP_TYPE_CPUMAP,
  T.BPF_MAP_TYPE_XSKMAP,
  T.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY,
]);
const QUEUES = new Set<number>([T.BPF_MAP_TYPE_QUEUE, T.BPF_MAP_TYPE_STACK, T.BPF_MAP_TYPE_BLOOM_FILTER]);
const RINGS = new Set<number>([T.BPF_MAP_TYPE_RINGBUF, T.BPF_MAP_TYPE_USER_RINGBUF]);
// Maps whose values, written from user space, are file descriptors of other objects; lookups
// return the object's id (programs, maps) or socket cookie (sockets, 8-byte values only).
const FD_VALUES: ReadonlyMap<number, string> = new Map([
  [T.BPF_MAP_TYPE_PROG_ARRAY, 'a Program (or its Fd / fd number)'],
  [T.BPF_MAP_TYPE_PERF_EVENT_ARRAY, 'a perf event Fd or fd number'],
  [T.BPF_MAP_TYPE_CGROUP_ARRAY, 'a cgroup directory Fd or fd number'],
  [T.BPF_MAP_TYPE_ARRAY_OF_MAPS, 'a BpfMap (or its Fd / fd number)'],
  [T.BPF_MAP_TYPE_HASH_OF_MAPS, 'a BpfMap (or its Fd / fd number)'],
  [T.BPF_MAP_TYPE_SOCKMAP, 'a net.Server, net.Socket, dgram.Socket, Fd or fd number'],
  [T.BPF_MAP_TYPE_SOCKHASH, 'a net.Server, net.Socket, dgram.Socket, Fd or fd number'],
  [T.BPF_MAP_TYPE_REUSEPORT_SOCKARRAY, 'a net.Server, net.Socket, dgram.Socket, Fd or fd number'],
]);

/** Per-CPU values travel in 8-byte-aligned slots, one per possible CPU (kernel `bpf_map_value_size`). */
function slotSize(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** Options of {@link BpfMap.create}. */
export interface BpfMapCreateOptions<KS extends CodecSpec = 'bytes', VS extends CodecSpec = 'bytes'> {
  /** Map type, as bpftool names it (`'hash'`, `'array'`, `'sockmap'`, `'ringbuf'`, ...) or its number. */
  readonly type: string | number;
  /** Key size in bytes; default: the key codec's size, 4 for index-keyed maps, 0 for queue/stack/ringbuf. */
  readonly keySize?: number;
  /** Value size in bytes; default: the value codec's size, 4 for fd-valued maps, 0 for ringbuf. */
  readonly valueSize?: number;
  /** Maximum number of entries (ring buffers: the size in bytes, a power of 2 multiple of the page size). */
  readonly maxEntries: number;
  /** `BPF_F_*` map flags (`BPF_F_NO_PREALLOC`, `BPF_F_RDONLY_PROG`, `BPF_F_MMAPABLE`, ...). */
  readonly flags?: number;
  /** Name shown by bpftool: up to 15 characters of `[A-Za-z0-9_.]`. */
  readonly name?: string;
  /** The inner map template of `array_of_maps` / `hash_of_maps`. */
  readonly innerMap?: BpfMap<unknown, unknown>;
  /** NUMA node (sets `BPF_F_NUMA_NODE`). */
  readonly numaNode?: number;
  /** `map_extra` (bloom filter hash count, arena address; 5.16+). */
  readonly mapExtra?: number | bigint;
  /** BTF describing key and value: the BTF object's fd and the type ids. */
  readonly btf?: { readonly fd: Fd | number; readonly keyTypeId: number; readonly valueTypeId: number };
  /** How keys are encoded (default `'bytes'`). */
  readonly key?: KS;
  /** How values are encoded (default `'bytes'`). */
  readonly value?: VS;
}

/** Options of {@link BpfMap.fromPin}, {@link BpfMap.fromId} and {@link BpfMap.fromFd}. */
export interface BpfMapOpenOptions<KS extends CodecSpec = 'bytes', VS extends CodecSpec = 'bytes'> {
  /** How keys are encoded (default `'bytes'`). */
  readonly key?: KS;
  /** How values are encoded (default `'bytes'`). */
  readonly value?: VS;
}

/** What the kernel reports about a map. */
export interface BpfMapInfo {
  /** Map id. */
  readonly id: number;
  /** bpftool's name of the type (`'hash'`). */
  readonly type: string;
  /** The kernel's type number. */
  readonly typeId: number;
  /** Name (up to 15 characters). */
  readonly name: string;
  /** Key size in bytes. */
  readonly keySize: number;
  /** Value size in bytes (of one CPU's value for per-CPU maps). */
  readonly valueSize: number;
  /** Maximum entries. */
  readonly maxEntries: number;
  /** `BPF_F_*` flags. */
  readonly flags: number;
  /** BTF object id, 0 without BTF. */
  readonly btfId: number;
  /** BTF type id of the key (0 without BTF). */
  readonly btfKeyTypeId: number;
  /** BTF type id of the value (0 without BTF). */
  readonly btfValueTypeId: number;
  /** `map_extra`. */
  readonly mapExtra: bigint;
  /** Offload interface index, 0 if none. */
  readonly ifindex: number;
}

/** Options of {@link BpfMap.set}. */
export interface SetOptions {
  /** `'any'` (default: create or replace), `'noexist'` (create only), `'exist'` (replace only). */
  readonly flag?: 'any' | 'noexist' | 'exist';
  /** Take the value's `bpf_spin_lock` while copying (`BPF_F_LOCK`, 5.1+). */
  readonly lock?: boolean;
}

/** Options of {@link BpfMap.entries} / `keys()` / `values()`. */
export interface IterateOptions {
  /**
   * Read `batchSize` elements per syscall with `BPF_MAP_LOOKUP_BATCH` (5.6+; hash and array
   * types). Where the kernel or the map type has no batch lookup, per-element iteration is used.
   */
  readonly batchSize?: number;
}

const SET_KEYS = optionKeys('flag', 'lock');
const CREATE_KEYS = optionKeys(
  'type',
  'keySize',
  'valueSize',
  'maxEntries',
  'flags',
  'name',
  'innerMap',
  'numaNode',
  'mapExtra',
  'btf',
  'key',
  'value',
);
const OPEN_KEYS = optionKeys('key', 'value');
const BTF_KEYS = optionKeys('fd', 'keyTypeId', 'valueTypeId');
const ITER_KEYS = optionKeys('batchSize');
const BRAND = brand<BpfMap<unknown, unknown>>('bpfjs.BpfMap');
const BPF_F_NUMA_NODE = 4;

/** What the kernel says about a map fd (one info call). @internal */
export function readMapInfo(fd: number): BpfMapInfo {
  return toInfo(mapGetInfo(fd));
}

function toInfo(i: MapInfo): BpfMapInfo {
  return {
    id: i.id,
    type: mapTypeName(i.type),
    typeId: i.type,
    name: i.name,
    keySize: i.keySize,
    valueSize: i.valueSize,
    maxEntries: i.maxEntries,
    flags: i.flags,
    btfId: i.btfId,
    btfKeyTypeId: i.btfKeyTypeId,
    btfValueTypeId: i.btfValueTypeId,
    mapExtra: i.mapExtra,
    ifindex: i.ifindex,
  };
}

// Map types whose batch commands this kernel lacks (learned on first use; ENOTSUPP/EINVAL).
const noBatch = new Set<number>();

/**
 * A BPF map. Owns one fd: `close()` (idempotent) or `using` releases it; the kernel frees the map
 * once nothing (fd, pin, program) refers to it.
 *
 * Keys and values go through codecs (`key`/`value` options): `Uint8Array` by default. Per-CPU
 * maps read and write one value per possible CPU (an array). Arguments are checked before any
 * syscall; kernel refusals are `BpfError`s with a sentence added.
 */
export class BpfMap<K = Uint8Array, V = Uint8Array> implements Disposable {
  #fd: Fd;
  readonly #typeId: number;
  readonly #keySize: number;
  readonly #valueSize: number;
  readonly #maxEntries: number;
  readonly #flags: number;
  readonly #valueBytes: number;
  readonly #cpus: number;
  // The element-call buffers and attrs (six small off-heap buffers, ~10 µs to set up) are made on
  // the first element operation: a map created only to be handed to programs (an object's maps)
  // never pays for them.
  #elem: { calls: MapElemCalls; keyView: DataView; valueView: DataView } | undefined;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;
  readonly #fdValues: boolean;
  readonly #perCpu: boolean;
  // True for maps with keyed elements (not queue/stack/bloom filter/ring buffers): the hot paths
  // check this one field instead of the type sets.
  readonly #keyed: boolean;
  #pinnedPath: string | undefined;

  private constructor(fd: Fd, info: MapInfo, keyCodec: Codec<K>, valueCodec: Codec<V>) {
    this.#fd = fd;
    this.#typeId = info.type;
    this.#keySize = info.keySize;
    this.#valueSize = info.valueSize;
    this.#maxEntries = info.maxEntries;
    this.#flags = info.flags;
    this.#fdValues = FD_VALUES.has(info.type);
    this.#perCpu = PERCPU.has(info.type);
    this.#keyed = !QUEUES.has(info.type) && !RINGS.has(info.type);
    this.#cpus = PERCPU.has(info.type) ? numPossibleCpus() : 1;
    this.#valueBytes =
      this.#cpus > 1 || PERCPU.has(info.type) ? slotSize(info.valueSize) * this.#cpus : info.valueSize;
    this.#key = keyCodec;
    this.#value = valueCodec;
  }

  #makeElem(): { calls: MapElemCalls; keyView: DataView; valueView: DataView } {
    const calls = new MapElemCalls(
      this.#fd.fd,
      this.#keySize,
      RINGS.has(this.#typeId) ? 0 : this.#valueBytes,
    );
    this.#elem = {
      calls,
      keyView: new DataView(calls.key.buffer),
      valueView: new DataView(calls.value.buffer),
    };
    return this.#elem;
  }

  get #calls(): MapElemCalls {
    return (this.#elem ?? this.#makeElem()).calls;
  }

  get #keyView(): DataView {
    return (this.#elem ?? this.#makeElem()).keyView;
  }

  get #valueView(): DataView {
    return (this.#elem ?? this.#makeElem()).valueView;
  }

  static #build<K, V>(fd: Fd, info: MapInfo, key: unknown, value: unknown): BpfMap<K, V> {
    const btf = () => {
      if (info.btfId === 0) {
        throw new BpfjsTypeError('ERR_BPFJS_MAP_NO_BTF', "The map has no BTF: the 'btf' codec needs one");
      }
      return btfById(info.btfId);
    };
    let keyCodec = resolveCodec((key ?? 'bytes') as CodecSpec, 'options.key') as Codec<K>;
    let valueCodec = resolveCodec((value ?? 'bytes') as CodecSpec, 'options.value') as Codec<V>;
    if ((keyCodec as Codec<unknown>) === btfPlaceholder)
      keyCodec = btfCodec(btf(), info.btfKeyTypeId, 'key') as Codec<K>;
    if ((valueCodec as Codec<unknown>) === btfPlaceholder) {
      valueCodec = btfCodec(btf(), info.btfValueTypeId, 'value') as Codec<V>;
    }
    checkFdCodec(valueCodec as Codec<unknown>, info.type);
    if (!RINGS.has(info.type)) {
      checkCodecSize(keyCodec as Codec<unknown>, info.keySize, 'key');
      if (!FD_VALUES.has(info.type)) checkCodecSize(valueCodec as Codec<unknown>, info.valueSize, 'value');
    }
    return new BpfMap<K, V>(fd, info, keyCodec, valueCodec);
  }

  /**
   * Creates a map (`BPF_MAP_CREATE`).
   * @throws TypeError/RangeError (`ERR_INVALID_ARG_*`, `ERR_BPFJS_MAP_CODEC_SIZE`) for bad options,
   *   before any syscall.
   * @throws BpfError from the kernel (EINVAL for sizes/flags the type refuses, EPERM, ENOMEM).
   */
  static create<KS extends CodecSpec = 'bytes', VS extends CodecSpec = 'bytes'>(
    options: BpfMapCreateOptions<KS, VS>,
  ): BpfMap<CodecValue<KS>, CodecValue<VS>> {
    validateObject(options, 'options', CREATE_KEYS);
    const type = mapTypeValue(options.type, 'options.type');
    let keyCodec = resolveCodec((options.key ?? 'bytes') as CodecSpec, 'options.key') as Codec<unknown>;
    let valueCodec = resolveCodec((options.value ?? 'bytes') as CodecSpec, 'options.value') as Codec<unknown>;
    if (keyCodec === btfPlaceholder || valueCodec === btfPlaceholder) {
      const b = options.btf;
      if (b === undefined) {
        throw errInvalidArgValue(
          'options.btf',
          undefined,
          "is needed for the 'btf' codec (the BTF fd and type ids)",
        );
      }
      validateObject(b, 'options.btf', BTF_KEYS);
      const parsed = btfOfFd(b.fd);
      if (keyCodec === btfPlaceholder)
        keyCodec = btfCodec(parsed, validateU32(b.keyTypeId, 'options.btf.keyTypeId'), 'key');
      if (valueCodec === btfPlaceholder) {
        valueCodec = btfCodec(parsed, validateU32(b.valueTypeId, 'options.btf.valueTypeId'), 'value');
      }
    }
    const noKey = QUEUES.has(type) || RINGS.has(type);
    const keySize =
      options.keySize !== undefined
        ? validateU32(options.keySize, 'options.keySize')
        : noKey
          ? 0
          : (keyCodec.size ?? (INDEXED.has(type) || FD_VALUES.has(type) ? 4 : undefined));
    const valueSize =
      options.valueSize !== undefined
        ? validateU32(options.valueSize, 'options.valueSize')
        : RINGS.has(type)
          ? 0
          : FD_VALUES.has(type)
            ? 4
            : valueCodec.size;
    if (keySize === undefined) {
      throw errInvalidArgValue('options.keySize', undefined, 'is needed: the key codec has no fixed size');
    }
    if (valueSize === undefined) {
      throw errInvalidArgValue(
        'options.valueSize',
        undefined,
        'is needed: the value codec has no fixed size',
      );
    }
    const maxEntries = validateU32(options.maxEntries, 'options.maxEntries');
    let flags = options.flags === undefined ? 0 : validateU32(options.flags, 'options.flags');
    let innerMapFd: number | undefined;
    if (options.innerMap !== undefined) {
      if (!BpfMap.isInstance(options.innerMap)) {
        throw errInvalidArgType('options.innerMap', 'an instance of BpfMap', options.innerMap);
      }
      if (options.innerMap.closed) throw errClosed('map given as "options.innerMap"');
      innerMapFd = options.innerMap.fd.fd;
    } else if (type === T.BPF_MAP_TYPE_ARRAY_OF_MAPS || type === T.BPF_MAP_TYPE_HASH_OF_MAPS) {
      throw errInvalidArgValue(
        'options.innerMap',
        undefined,
        `is needed for ${mapTypeName(type)} maps (the inner map template)`,
      );
    }
    if (options.numaNode !== undefined) flags |= BPF_F_NUMA_NODE;
    const btf = options.btf;
    if (btf !== undefined) validateObject(btf, 'options.btf', BTF_KEYS);
    checkFdCodec(valueCodec as Codec<unknown>, type);
    if (!noKey) checkCodecSize(keyCodec, keySize, 'key');
    if (!RINGS.has(type) && !FD_VALUES.has(type)) checkCodecSize(valueCodec, valueSize, 'value');
    let fd: Fd;
    try {
      fd = mapCreate({
        type,
        keySize,
        valueSize,
        maxEntries,
        ...(flags === 0 ? {} : { flags }),
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(innerMapFd === undefined ? {} : { innerMapFd }),
        ...(options.numaNode === undefined ? {} : { numaNode: options.numaNode }),
        ...(options.mapExtra === undefined ? {} : { mapExtra: options.mapExtra }),
        ...(btf === undefined
          ? {}
          : { btfFd: btf.fd, btfKeyTypeId: btf.keyTypeId, btfValueTypeId: btf.valueTypeId }),
      });
    } catch (err) {
      throw explain(err, createSentence(err, type, flags), {
        operation: 'BpfMap.create',
        mapType: mapTypeName(type),
      });
    }
    const info: MapInfo = {
      type,
      id: 0,
      keySize,
      valueSize,
      maxEntries,
      flags,
      name: options.name ?? '',
      ifindex: 0,
      btfId: 0,
      btfKeyTypeId: btf?.keyTypeId ?? 0,
      btfValueTypeId: btf?.valueTypeId ?? 0,
      mapExtra: BigInt(options.mapExtra ?? 0),
    };
    return new BpfMap(fd, info, keyCodec, valueCodec) as BpfMap<CodecValue<KS>, CodecValue<VS>>;
  }

  /**
   * Opens a pinned map (`BPF_OBJ_GET`), typed by the kernel's map info.
   * @throws TypeError `ERR_BPFJS_WRONG_OBJECT` if the pin is not a map; BpfError (ENOENT, ...).
   */
  static fromPin<KS extends CodecSpec = 'bytes', VS extends CodecSpec = 'bytes'>(
    path: string,
    options: BpfMapOpenOptions<KS, VS> = {},
  ): BpfMap<CodecValue<KS>, CodecValue<VS>> {
    const p = validatePinPath(path);
    validateObject(options, 'options', OPEN_KEYS);
    resolveCodec((options.key ?? 'bytes') as CodecSpec, 'options.key');
    resolveCodec((options.value ?? 'bytes') as CodecSpec, 'options.value');
    let fd: Fd;
    try {
      fd = objGet(p);
    } catch (err) {
      throw explain(err, undefined, { operation: 'BpfMap.fromPin', path: p });
    }
    const map = BpfMap.#adopt<CodecValue<KS>, CodecValue<VS>>(fd, `the object pinned at '${p}'`, options);
    map.#pinnedPath = p;
    return map;
  }

  /**
   * Opens a map by id (`BPF_MAP_GET_FD_BY_ID`). Needs CAP_SYS_ADMIN.
   * @throws BpfError ENOENT if no map has this id.
   */
  static fromId<KS extends CodecSpec = 'bytes', VS extends CodecSpec = 'bytes'>(
    id: number,
    options: BpfMapOpenOptions<KS, VS> = {},
  ): BpfMap<CodecValue<KS>, CodecValue<VS>> {
    validateU32(id, 'id');
    validateObject(options, 'options', OPEN_KEYS);
    resolveCodec((options.key ?? 'bytes') as CodecSpec, 'options.key');
    resolveCodec((options.value ?? 'bytes') as CodecSpec, 'options.value');
    return BpfMap.#adopt(mapGetFdById(id), `map id ${id}`, options);
  }

  /**
   * Wraps an fd that refers to a map and takes ownership of it on success (a number is wrapped in
   * a new `Fd`; pass `fd.dup()` to keep your own). A refusal leaves the fd open and the caller's.
   * @throws TypeError `ERR_BPFJS_WRONG_OBJECT` if the fd is not a BPF map.
   */
  static fromFd<KS extends CodecSpec = 'bytes', VS extends CodecSpec = 'bytes'>(
    fd: Fd | number,
    options: BpfMapOpenOptions<KS, VS> = {},
  ): BpfMap<CodecValue<KS>, CodecValue<VS>> {
    validateObject(options, 'options', OPEN_KEYS);
    let n: number;
    if (typeof fd === 'number') n = validateInteger(fd, 'fd', 0, 0x7fffffff);
    else if (!isFd(fd)) throw errInvalidArgType('fd', 'an Fd or a number', fd);
    else if (fd.closed) throw errClosed('Fd given as "fd"');
    else n = validateInteger(fd.fd, 'fd.fd', 0, 0x7fffffff);
    // Inspected first, taken over only on success: a refusal leaves the caller's fd open.
    const kind = fdKind(n);
    if (kind !== undefined && kind !== 'map') throw errWrongObject(`fd ${n}`, 'map', kind);
    const info = mapGetInfo(n);
    const owned = typeof fd === 'number' ? new Fd(n) : (fd as Fd);
    try {
      return BpfMap.#build<CodecValue<KS>, CodecValue<VS>>(owned, info, options.key, options.value);
    } catch (err) {
      // A refusal (codecs that do not fit) hands a number back untouched.
      if (owned !== fd) owned.disown();
      throw err;
    }
  }

  static #adopt<K, V>(fd: Fd, where: string, options: BpfMapOpenOptions<CodecSpec, CodecSpec>): BpfMap<K, V> {
    try {
      const kind = fdKind(fd.fd);
      if (kind !== undefined && kind !== 'map') throw errWrongObject(where, 'map', kind);
      return BpfMap.#build<K, V>(fd, mapGetInfo(fd.fd), options.key, options.value);
    } catch (err) {
      fd.close();
      throw err;
    }
  }

  /** True for a `BpfMap` from any copy of `@bpfjs/map` (checks the `Symbol.for('bpfjs.BpfMap')` brand). */
  static isInstance(value: unknown): value is BpfMap<unknown, unknown> {
    return BRAND.is(value);
  }

  /** The owned descriptor (`fd.fd` is -1 once closed). */
  get fd(): Fd {
    return this.#fd;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#fd.closed;
  }

  /** bpftool's name of the map type. */
  get type(): string {
    return mapTypeName(this.#typeId);
  }

  /** The kernel's map type number. */
  get typeId(): number {
    return this.#typeId;
  }

  /** Key size in bytes. */
  get keySize(): number {
    return this.#keySize;
  }

  /** Value size in bytes (of one CPU's value for per-CPU maps). */
  get valueSize(): number {
    return this.#valueSize;
  }

  /** Maximum number of entries (ring buffers: size in bytes). */
  get maxEntries(): number {
    return this.#maxEntries;
  }

  /** `BPF_F_*` flags the map was created with. */
  get flags(): number {
    return this.#flags;
  }

  /** For per-CPU maps: how many values a lookup returns (possible CPUs); 1 otherwise. */
  get cpus(): number {
    return this.#cpus;
  }

  /** The map's id (one info call). @throws TypeError `ERR_BPFJS_CLOSED`. */
  get id(): number {
    return this.info().id;
  }

  /**
   * What the kernel reports about the map (`BPF_OBJ_GET_INFO_BY_FD`).
   * @throws TypeError `ERR_BPFJS_CLOSED` if closed.
   */
  info(): BpfMapInfo {
    this.#open('info');
    return readMapInfo(this.#fd.fd);
  }

  /**
   * Whether user space can no longer write the map (`freeze()`d), from `/proc/self/fdinfo` as
   * bpftool reads it (`false` on kernels before 5.2, which have no freezing).
   */
  get frozen(): boolean {
    this.#open('frozen');
    try {
      return /^frozen:\s*1$/m.test(readFileSync(`/proc/self/fdinfo/${this.#fd.fd}`, 'utf8'));
    } catch {
      return false;
    }
  }

  #open(operation: string): void {
    if (this.#fd.closed) throw errClosed(`map (${operation})`);
  }

  #elementOp(operation: string): void {
    if (this.#keyed && !this.#fd.closed) return;
    if (this.#fd.closed) throw errClosed(`map (${operation})`);
    if (QUEUES.has(this.#typeId)) {
      throw errOperation(operation, this.type, 'use push(), pop() and peek()');
    }
    if (RINGS.has(this.#typeId)) {
      throw errOperation(
        operation,
        this.type,
        this.#typeId === T.BPF_MAP_TYPE_RINGBUF
          ? 'read it with new RingBuffer(map)'
          : 'write it with new UserRingBuffer(map)',
      );
    }
  }

  #writeKey(key: K): void {
    this.#key.write(this.#keyView, this.#calls.key, 0, this.#keySize, key, 'key');
  }

  #writeValue(value: V, view: DataView, bytes: Uint8Array, offset: number): void {
    if (this.#fdValues) {
      const fd = fdOfSource(value, 'value', FD_VALUES.get(this.#typeId)!);
      if (this.#valueSize === 8) view.setBigUint64(offset, BigInt(fd), true);
      else view.setUint32(offset, fd, true);
      return;
    }
    if (!this.#perCpu) {
      this.#value.write(view, bytes, offset, this.#valueSize, value, 'value');
      return;
    }
    // Per-CPU: an array with one value per possible CPU, or one value for every CPU.
    const slot = slotSize(this.#valueSize);
    const many = Array.isArray(value);
    if (many && (value as unknown[]).length !== this.#cpus) {
      throw new BpfjsRangeError(
        'ERR_OUT_OF_RANGE',
        `The value of "value.length" is out of range. It must be ${this.#cpus} (one value per possible CPU). Received ${(value as unknown[]).length}`,
      );
    }
    bytes.fill(0, offset, offset + slot * this.#cpus);
    for (let cpu = 0; cpu < this.#cpus; cpu++) {
      const v = many ? (value as unknown as V[])[cpu]! : value;
      this.#value.write(
        view,
        bytes,
        offset + cpu * slot,
        this.#valueSize,
        v,
        many ? `value[${cpu}]` : 'value',
      );
    }
  }

  #readValue(view: DataView, bytes: Uint8Array, offset: number): V {
    if (this.#fdValues) {
      // User-space lookups of fd maps give the id (programs, maps) or the socket cookie.
      return (this.#valueSize === 8 ? view.getBigUint64(offset, true) : view.getUint32(offset, true)) as V;
    }
    if (!this.#perCpu) return this.#value.read(view, bytes, offset, this.#valueSize);
    const slot = slotSize(this.#valueSize);
    const out: V[] = [];
    for (let cpu = 0; cpu < this.#cpus; cpu++)
      out.push(this.#value.read(view, bytes, offset + cpu * slot, this.#valueSize));
    return out as V;
  }

  #fail(err: BpfError, operation: string, sentence?: string): never {
    throw explain(err, sentence, { operation, mapType: this.type });
  }

  /**
   * The value of `key`, or `undefined` if absent (`BPF_MAP_LOOKUP_ELEM`). Per-CPU maps return an
   * array with one value per possible CPU; `prog_array` and map-of-maps return the id of the
   * program/map stored there, sockmaps the socket cookie (8-byte values only).
   * @throws TypeError/RangeError for a key the codec refuses; `ERR_BPFJS_CLOSED`;
   *   `ERR_BPFJS_MAP_OPERATION` for queue/stack/ringbuf maps.
   * @throws BpfError from the kernel.
   */
  get(key: K): V | undefined {
    this.#elementOp('get');
    this.#writeKey(key);
    const errno = this.#calls.lookup(0);
    if (errno !== 0) {
      if (errno === ENOENT) return undefined;
      this.#fail(MapElemCalls.error('lookup', errno), 'map.get', lookupSentence(errno, this.#typeId));
    }
    return this.#readValue(this.#valueView, this.#calls.value, 0);
  }

  /** Whether `key` is present (one lookup). Same errors as {@link get}. */
  has(key: K): boolean {
    this.#elementOp('has');
    this.#writeKey(key);
    const errno = this.#calls.lookup(0);
    if (errno === 0) return true;
    if (errno === ENOENT) return false;
    this.#fail(MapElemCalls.error('lookup', errno), 'map.has', lookupSentence(errno, this.#typeId));
  }

  /**
   * Sets `key` to `value` (`BPF_MAP_UPDATE_ELEM`). `prog_array` takes a `Program`, map-of-maps a
   * `BpfMap`, sockmap/sockhash a `net.Server`, `net.Socket`, `dgram.Socket`, `Fd` or fd number.
   * Returns the map.
   * @throws TypeError/RangeError for a key/value the codecs refuse or bad options (before any syscall).
   * @throws BpfError: E2BIG (full), EEXIST (`noexist` and present), ENOENT (`exist` and absent),
   *   EPERM (frozen), EOPNOTSUPP/EINVAL (a socket a sockmap does not take), each with a sentence.
   */
  set(key: K, value: V, options?: SetOptions): this {
    this.#elementOp('set');
    let flags = BPF_ANY;
    if (options !== undefined) flags = setFlags(options);
    this.#writeKey(key);
    this.#writeValue(value, this.#valueView, this.#calls.value, 0);
    const errno = this.#calls.update(flags);
    if (errno !== 0)
      this.#fail(MapElemCalls.error('update', errno), 'map.set', this.#updateSentence(errno, flags));
    return this;
  }

  #updateSentence(errno: number, flags: number): string | undefined {
    return updateSentence(errno, flags, this.#typeId, this.#maxEntries, this.#fdValues);
  }

  /**
   * Removes `key` (`BPF_MAP_DELETE_ELEM`); `true` if it was there.
   * @throws TypeError `ERR_BPFJS_MAP_OPERATION` for arrays (their elements cannot be deleted).
   */
  delete(key: K): boolean {
    this.#elementOp('delete');
    if (ARRAYS.has(this.#typeId))
      throw errOperation('delete', this.type, 'array elements always exist; set them to zero instead');
    this.#writeKey(key);
    const errno = this.#calls.delete();
    if (errno === 0) return true;
    if (errno === ENOENT) return false;
    this.#fail(MapElemCalls.error('delete', errno), 'map.delete');
  }

  /**
   * Removes `key` and returns its value (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`: hash types 5.14+),
   * `undefined` if absent.
   * @throws BpfError EINVAL/ENOTSUPP on kernels or map types without it.
   */
  lookupAndDelete(key: K): V | undefined {
    this.#elementOp('lookupAndDelete');
    this.#writeKey(key);
    const errno = this.#calls.lookupAndDelete(0);
    if (errno === ENOENT) return undefined;
    if (errno !== 0) {
      this.#fail(
        MapElemCalls.error('lookupAndDelete', errno),
        'map.lookupAndDelete',
        errno === EINVAL || errno === ENOTSUPP
          ? `${this.type} maps have no lookup-and-delete on this kernel (hash maps: needs Linux ≥ ${minKernel('mapFeature', 'lookup-and-delete on hash maps')}; queue/stack pop: ≥ ${minKernel('mapType', 'BPF_MAP_TYPE_QUEUE')})`
          : undefined,
      );
    }
    return this.#readValue(this.#valueView, this.#calls.value, 0);
  }

  #queueOp(operation: string): void {
    if (this.#fd.closed) throw errClosed(`map (${operation})`);
    if (!QUEUES.has(this.#typeId)) {
      throw errOperation(
        operation,
        this.type,
        'push/pop/peek belong to queue, stack (and bloom_filter: push/peek) maps',
      );
    }
  }

  /**
   * Queue/stack: adds `value` (`BPF_MAP_UPDATE_ELEM` without key); with `{ flag: 'exist' }`
   * a full map drops its oldest element instead of failing. Bloom filter: adds `value`.
   * @throws TypeError `ERR_BPFJS_MAP_OPERATION` for other map types; BpfError E2BIG when full.
   */
  push(value: V, options?: { readonly flag?: 'any' | 'exist' }): this {
    this.#queueOp('push');
    const flags = options === undefined ? BPF_ANY : setFlags(options);
    this.#writeValue(value, this.#valueView, this.#calls.value, 0);
    const errno = this.#calls.update(flags);
    if (errno !== 0)
      this.#fail(MapElemCalls.error('update', errno), 'map.push', this.#updateSentence(errno, flags));
    return this;
  }

  /**
   * Queue/stack: removes and returns the next element (FIFO for queues, LIFO for stacks),
   * `undefined` when empty (`BPF_MAP_LOOKUP_AND_DELETE_ELEM`, 4.20+).
   */
  pop(): V | undefined {
    this.#queueOp('pop');
    if (this.#typeId === T.BPF_MAP_TYPE_BLOOM_FILTER) throw errOperation('pop', this.type);
    const errno = this.#calls.lookupAndDelete(0);
    if (errno === ENOENT) return undefined;
    if (errno !== 0) this.#fail(MapElemCalls.error('lookupAndDelete', errno), 'map.pop');
    return this.#readValue(this.#valueView, this.#calls.value, 0);
  }

  /**
   * Queue/stack: the next element without removing it, `undefined` when empty. Bloom filter:
   * pass the value; returns it if possibly present, `undefined` if certainly absent.
   */
  peek(value?: V): V | undefined {
    this.#queueOp('peek');
    if (this.#typeId === T.BPF_MAP_TYPE_BLOOM_FILTER) {
      this.#writeValue(value as V, this.#valueView, this.#calls.value, 0);
    }
    const errno = this.#calls.lookup(0);
    if (errno === ENOENT) return undefined;
    if (errno !== 0) this.#fail(MapElemCalls.error('lookup', errno), 'map.peek');
    return this.#readValue(this.#valueView, this.#calls.value, 0);
  }

  /**
   * The values of `keys`, `undefined` where absent (one lookup each: the kernel has no batch
   * lookup by key).
   */
  getMany(keys: Iterable<K>): (V | undefined)[] {
    const out: (V | undefined)[] = [];
    for (const k of keys) out.push(this.get(k));
    return out;
  }

  /**
   * Sets many entries: `BPF_MAP_UPDATE_BATCH` (5.6+, hash and array types) where the kernel
   * has it, else one update each. Returns how many were written.
   * @throws BpfError on the first failing element (its `count` says how many were written before).
   */
  setMany(entries: Iterable<readonly [K, V]>, options?: SetOptions): number {
    this.#elementOp('setMany');
    const flags = options === undefined ? BPF_ANY : setFlags(options);
    const list = Array.from(entries);
    if (list.length === 0) return 0;
    // Batch updates take BPF_F_LOCK only as element flag; noexist/exist go one by one.
    if ((flags & ~BPF_F_LOCK) === 0 && !noBatch.has(this.#typeId) && !this.#fdValues) {
      const keys = new Uint8Array(new ArrayBuffer(this.#keySize * list.length));
      const values = new Uint8Array(new ArrayBuffer(this.#valueBytes * list.length));
      const kv = new DataView(keys.buffer);
      const vv = new DataView(values.buffer);
      list.forEach(([k, v], i) => {
        this.#key.write(kv, keys, i * this.#keySize, this.#keySize, k, `entries[${i}][0]`);
        this.#writeValue(v, vv, values, i * this.#valueBytes);
      });
      try {
        return mapBatchUnchecked(
          'update',
          this.#fd.fd,
          null,
          null,
          keys,
          values,
          list.length,
          BigInt(flags),
          0n,
        ).count;
      } catch (err) {
        if (!this.#batchUnsupported(err)) {
          const e = err as BpfError & { count?: number };
          this.#fail(e, 'map.setMany', this.#updateSentence(e.errno, flags));
        }
      }
    }
    let n = 0;
    for (const [k, v] of list) {
      this.set(k, v, options);
      n++;
    }
    return n;
  }

  /**
   * Removes many keys: `BPF_MAP_DELETE_BATCH` (5.6+, hash types) where the kernel has it, else
   * one delete each; keys that are absent are skipped. Returns how many were removed.
   */
  deleteMany(keys: Iterable<K>): number {
    this.#elementOp('deleteMany');
    if (ARRAYS.has(this.#typeId)) throw errOperation('deleteMany', this.type, 'array elements always exist');
    const list = Array.from(keys);
    if (list.length === 0) return 0;
    if (!noBatch.has(this.#typeId)) {
      const buf = new Uint8Array(new ArrayBuffer(this.#keySize * list.length));
      const view = new DataView(buf.buffer);
      list.forEach((k, i) => {
        this.#key.write(view, buf, i * this.#keySize, this.#keySize, k, `keys[${i}]`);
      });
      let at = 0;
      let removed = 0;
      try {
        while (at < list.length) {
          try {
            const r = mapBatchUnchecked(
              'delete',
              this.#fd.fd,
              null,
              null,
              buf.subarray(at * this.#keySize),
              null,
              list.length - at,
              0n,
              0n,
            );
            removed += r.count;
            at = list.length;
          } catch (err) {
            const e = err as BpfError & { count?: number };
            // An absent key stops the batch: skip it and go on with the rest.
            if (!BpfError.isInstance(err) || e.errno !== ENOENT) throw err;
            removed += e.count ?? 0;
            at += (e.count ?? 0) + 1;
          }
        }
        return removed;
      } catch (err) {
        if (!(at === 0 && removed === 0 && this.#batchUnsupported(err)))
          this.#fail(err as BpfError, 'map.deleteMany');
      }
    }
    let n = 0;
    for (const k of list) if (this.delete(k)) n++;
    return n;
  }

  /** Records (once per map type) that this kernel has no batch commands for it; true if so. */
  #batchUnsupported(err: unknown): boolean {
    if (!BpfError.isInstance(err)) return false;
    const errno = err.errno;
    if (
      errno === ENOTSUPP ||
      errno === EOPNOTSUPP ||
      (errno === EINVAL && (err as { count?: number }).count === 0)
    ) {
      noBatch.add(this.#typeId);
      return true;
    }
    return false;
  }

  /**
   * Every `[key, value]` pair. Per element (`BPF_MAP_GET_NEXT_KEY` + lookup) by default, or
   * `batchSize` at a time with `BPF_MAP_LOOKUP_BATCH` (5.6+) where the kernel and map type have it.
   *
   * What it guarantees while others change the map: every key is yielded at most once, and the
   * iteration always ends. A key present from start to end is yielded. A key deleted meanwhile
   * is yielded or not; one added meanwhile may be missed. Per element, a deleted cursor key makes
   * the kernel start over from the first key (hash maps): keys already yielded are skipped, and
   * after 16 such restarts the iteration throws `ERR_BPFJS_MAP_ITERATION_ABORTED` (cilium's
   * `MapIterator` does the same). Batched, the kernel walks hash buckets in order and never
   * starts over.
   * @throws TypeError `ERR_BPFJS_MAP_OPERATION` for queue/stack/ringbuf maps.
   */
  *entries(options?: IterateOptions): Generator<[K, V], void, undefined> {
    this.#elementOp('entries');
    const batchSize = iterateBatchSize(options);
    if (batchSize !== undefined && !noBatch.has(this.#typeId) && !this.#fdValues) {
      // Inlined here (not delegated to another generator): one resume per element.
      const b = this.#batchCursor(batchSize);
      if (this.#batchFetch(b)) {
        const ks = this.#keySize;
        const vs = this.#valueBytes;
        for (;;) {
          const { keys, values, keyView, valueView, count } = b;
          for (let i = 0; i < count; i++) {
            yield [this.#key.read(keyView, keys, i * ks, ks), this.#readValue(valueView, values, i * vs)];
          }
          if (b.done || !this.#batchFetch(b)) return;
        }
      }
    }
    yield* this.#walk(true) as Generator<[K, V], void, undefined>;
  }

  /** Every key (see {@link entries} for the guarantees under concurrent change). */
  *keys(options?: IterateOptions): Generator<K, void, undefined> {
    this.#elementOp('keys');
    const batchSize = iterateBatchSize(options);
    if (batchSize !== undefined) {
      for (const [k] of this.entries(options)) yield k;
      return;
    }
    for (const [k] of this.#walk(false)) yield k;
  }

  /** Every value (see {@link entries}). */
  *values(options?: IterateOptions): Generator<V, void, undefined> {
    for (const [, v] of this.entries(options)) yield v;
  }

  /** Same as `entries()`, for `for...of`. */
  [Symbol.iterator](): Generator<[K, V], void, undefined> {
    return this.entries();
  }

  /**
   * Per-element walk with its own buffers (two iterations of one map do not disturb each other,
   * nor do get/set calls in between).
   */
  *#walk(withValues: boolean): Generator<[K, V | undefined], void, undefined> {
    const fd = this.#fd.fd;
    const calls = new MapElemCalls(fd, this.#keySize, this.#valueBytes);
    const cursorView = new DataView(calls.cursor.buffer);
    const valueView = new DataView(calls.value.buffer);
    const restartable = !INDEXED.has(this.#typeId);
    const seen = restartable ? new Set<string>() : undefined;
    let restarts = 0;
    let first = true;
    for (;;) {
      if (this.#fd.closed) throw errClosed('map (iteration)');
      const errno = calls.nextKey(first);
      if (errno === ENOENT) return;
      if (errno !== 0) this.#fail(MapElemCalls.error('nextKey', errno), 'map.entries');
      first = false;
      calls.cursor.set(calls.next);
      if (seen !== undefined) {
        const id = keyId(calls.cursor);
        if (seen.has(id)) {
          // Only a restart (the cursor key deleted meanwhile) brings back a key already seen.
          if (++restarts > 16) throw errIterationAborted(restarts - 1);
          continue;
        }
        seen.add(id);
      }
      const key = this.#key.read(cursorView, calls.cursor, 0, this.#keySize);
      if (!withValues) {
        yield [key, undefined];
        continue;
      }
      calls.key.set(calls.cursor);
      const e = calls.lookup(0);
      if (e === ENOENT) continue; // deleted between next-key and lookup
      if (e !== 0) this.#fail(MapElemCalls.error('lookup', e), 'map.entries');
      yield [key, this.#readValue(valueView, calls.value, 0)];
    }
  }

  #batchCursor(size: number): BatchCursor {
    const tokenSize = Math.max(this.#keySize, 8);
    const keys = new Uint8Array(new ArrayBuffer(this.#keySize * size));
    const values = new Uint8Array(new ArrayBuffer(this.#valueBytes * size));
    return {
      size,
      inBatch: new Uint8Array(new ArrayBuffer(tokenSize)),
      outBatch: new Uint8Array(new ArrayBuffer(tokenSize)),
      keys,
      values,
      keyView: new DataView(keys.buffer),
      valueView: new DataView(values.buffer),
      count: 0,
      first: true,
      done: false,
    };
  }

  /**
   * The next batch into `b` (`BPF_MAP_LOOKUP_BATCH`); false when the kernel has no batch lookup
   * for this map type (only on the first call: then nothing was read and iteration goes per
   * element). A bucket larger than the batch (ENOSPC) doubles the batch and asks again.
   */
  #batchFetch(b: BatchCursor): boolean {
    if (!b.first) b.inBatch.set(b.outBatch);
    for (;;) {
      if (this.#fd.closed) throw errClosed('map (iteration)');
      try {
        const r = mapBatchUnchecked(
          'lookup',
          this.#fd.fd,
          b.first ? null : b.inBatch,
          b.outBatch,
          b.keys,
          b.values,
          b.size,
          0n,
          0n,
        );
        b.count = r.count;
        b.done = r.done;
        b.first = false;
        return true;
      } catch (err) {
        if (BpfError.isInstance(err) && err.code === 'ENOSPC') {
          const grown = this.#batchCursor(b.size * 2);
          grown.first = b.first;
          grown.inBatch.set(b.inBatch);
          Object.assign(b, { ...grown, inBatch: b.inBatch, outBatch: b.outBatch });
          continue;
        }
        if (b.first && this.#batchUnsupported(err)) return false;
        this.#fail(err as BpfError, 'map.entries');
      }
    }
  }

  /**
   * Makes the map read-only for user space (`BPF_MAP_FREEZE`, 5.2+); programs can still write it.
   * Irreversible. Later `set()` calls fail with EPERM.
   * @throws BpfError EBUSY (already frozen, or mmap'ed writable); on kernels before 5.2 EINVAL,
   *   with a sentence naming the minimum kernel.
   */
  freeze(): void {
    this.#open('freeze');
    try {
      mapFreezeUnchecked(this.#fd.fd);
    } catch (err) {
      const e = err as BpfError;
      throw explain(
        err,
        e.code === 'EBUSY'
          ? 'the map is already frozen, or mmap()ed writable'
          : e.code === 'EINVAL'
            ? `freezing maps needs Linux ≥ ${minKernel('command', 'BPF_MAP_FREEZE')}`
            : undefined,
        { operation: 'map.freeze', mapType: this.type },
      );
    }
  }

  /**
   * Pins the map at `path` on a BPF file system.
   * @throws TypeError `ERR_BPFJS_NOT_BPFFS` if the directory is not on bpffs (checked first);
   *   BpfError `EEXIST` if the path exists and `replace` is not set.
   */
  pin(path: string, options?: PinOptions): void {
    this.#open('pin');
    this.#pinnedPath = pinFd(this.#fd.fd, path, options, 'map');
  }

  /**
   * Removes the pin at `path` (default: where this map was last pinned or opened from). A missing
   * path is not an error. @returns whether something was removed.
   */
  unpin(path?: string): boolean {
    const p = path ?? this.#pinnedPath;
    if (p === undefined) return false;
    const removed = unpinPath(p);
    if (path === undefined || validatePinPath(path) === this.#pinnedPath) this.#pinnedPath = undefined;
    return removed;
  }

  /** Where this map was last pinned (or opened from), if anywhere. */
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }

  /** Closes the fd (idempotent). The map lives on while pins or programs hold it. */
  close(): void {
    this.#fd.close();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `BpfMap(hash, fd 5)`. */
  toString(): string {
    return `BpfMap(${this.type}, ${this.#fd.closed ? 'closed' : `fd ${this.#fd.fd}`})`;
  }

  /** Node's `util.inspect` hook: prints like `toString()`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
BRAND.mark(BpfMap);

/** The state of one batched iteration: buffers for `size` elements and the kernel's position. */
interface BatchCursor {
  size: number;
  inBatch: Uint8Array;
  outBatch: Uint8Array;
  keys: Uint8Array;
  values: Uint8Array;
  keyView: DataView;
  valueView: DataView;
  count: number;
  first: boolean;
  done: boolean;
}

function checkFdCodec(codec: Codec<unknown>, type: number): void {
  if (codec === fdCodec && !FD_VALUES.has(type)) {
    throw errInvalidArgValue(
      'options.value',
      'fd',
      `is for fd-valued maps (sockmap, prog_array, ...), not ${mapTypeName(type)}`,
    );
  }
}

function keyId(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function iterateBatchSize(options: IterateOptions | undefined): number | undefined {
  if (options === undefined) return undefined;
  validateObject(options, 'options', ITER_KEYS);
  if (options.batchSize === undefined) return undefined;
  const n = validateU32(options.batchSize, 'options.batchSize');
  if (n === 0) throw errInvalidArgValue('options.batchSize', 0, 'must be at least 1');
  return n;
}

function setFlags(options: SetOptions): number {
  validateObject(options, 'options', SET_KEYS);
  let flags: number;
  switch (options.flag) {
    case undefined:
    case 'any':
      flags = BPF_ANY;
      break;
    case 'noexist':
      flags = BPF_NOEXIST;
      break;
    case 'exist':
      flags = BPF_EXIST;
      break;
    default:
      throw errInvalidArgValue('options.flag', options.flag, "must be 'any', 'noexist' or 'exist'");
  }
  if (options.lock !== undefined) {
    if (typeof options.lock !== 'boolean')
      throw errInvalidArgType('options.lock', 'of type boolean', options.lock);
    if (options.lock) flags |= BPF_F_LOCK;
  }
  return flags;
}

function lookupSentence(errno: number, type: number): string | undefined {
  if (errno === 28 && (type === T.BPF_MAP_TYPE_SOCKMAP || type === T.BPF_MAP_TYPE_SOCKHASH)) {
    return 'sockmap lookups from user space return the socket cookie, which needs an 8-byte value size';
  }
  if (errno === EOPNOTSUPP || errno === ENOTSUPP)
    return `${mapTypeName(type)} maps cannot be read from user space`;
  return undefined;
}

function updateSentence(
  errno: number,
  flags: number,
  type: number,
  maxEntries: number,
  fdValues: boolean,
): string | undefined {
  const name = mapTypeName(type);
  switch (errno) {
    case 7: // E2BIG
      return `the ${name} map is full (${maxEntries} entries)${INDEXED.has(type) ? ', or the index is out of range' : ''}`;
    case 17: // EEXIST
      return (flags & 3) === BPF_NOEXIST
        ? "the key exists already and { flag: 'noexist' } was given"
        : undefined;
    case ENOENT:
      return (flags & 3) === BPF_EXIST ? "the key is absent and { flag: 'exist' } was given" : undefined;
    case 1: // EPERM
      return 'the map is frozen (or read-only for user space): user space cannot write it';
    case EOPNOTSUPP:
    case ENOTSUPP:
      return type === T.BPF_MAP_TYPE_SOCKMAP || type === T.BPF_MAP_TYPE_SOCKHASH
        ? 'the socket is not one a sockmap takes (TCP sockets must be listening or established; UDP needs Linux 5.7+, bound sockets)'
        : undefined;
    case EINVAL:
      if (type === T.BPF_MAP_TYPE_SOCKMAP || type === T.BPF_MAP_TYPE_SOCKHASH) {
        return 'the fd is not a socket a sockmap takes (TCP/UDP, IPv4/IPv6 or unix, in a state the kernel accepts)';
      }
      if (fdValues) return `the fd is not of the kind a ${name} map holds`;
      if ((flags & BPF_F_LOCK) !== 0) {
        return `BPF_F_LOCK needs a value with a struct bpf_spin_lock (map BTF) and Linux ≥ ${minKernel('mapFeature', 'BPF_F_LOCK')}`;
      }
      return undefined;
    case 9: // EBADF
      return fdValues ? 'the value is not an open file descriptor' : undefined;
    default:
      return undefined;
  }
}

function createSentence(err: unknown, type: number, flags: number): string | undefined {
  if (!BpfError.isInstance(err)) return undefined;
  if (err.code === 'EINVAL') {
    // An unknown map type became UnsupportedFeatureError in @bpfjs/sys: the type is known here.
    if (type === T.BPF_MAP_TYPE_RINGBUF || type === T.BPF_MAP_TYPE_USER_RINGBUF) {
      return `a ${mapTypeName(type)} needs key and value size 0 and maxEntries a power-of-2 multiple of the page size`;
    }
    if ((flags & BPF_F_MMAPABLE) !== 0 && type === T.BPF_MAP_TYPE_ARRAY) {
      return `the kernel refused these flags (0x${flags.toString(16)}) or sizes; BPF_F_MMAPABLE arrays need Linux ≥ ${minKernel('mapFeature', 'BPF_F_MMAPABLE')}`;
    }
    if (flags !== 0)
      return `the kernel refused these flags (0x${flags.toString(16)}) or sizes for a ${mapTypeName(type)} map`;
    return `the kernel refused these sizes for a ${mapTypeName(type)} map`;
  }
  return undefined;
}

export type { FdSource };
