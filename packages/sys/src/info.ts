/**
 * `BPF_OBJ_GET_INFO_BY_FD` (4.13+) and the decoders of `struct bpf_prog_info`, `bpf_map_info` and
 * `bpf_btf_info`: each info struct is decoded here, once, through the generated layouts of
 * `@bpfjs/uapi` (links: `link-info.ts`). Variable-length parts (map ids, a BTF object's name) are
 * fetched in a second pass, only when asked for or needed.
 *
 * @module
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { readBigInt, readNumber, readString, type TypeLayout } from '@bpfjs/uapi';
import { BPF_OBJ_GET_INFO_BY_FD, BpfBtfInfo, BpfMapInfo, BpfProgInfo, InfoAttr } from '@bpfjs/uapi/linux/bpf';
import { bpfAt, scratchAttr } from './bpf.js';
import { errInvalidArgValue } from './errors.js';
import type { Fd } from './fd.js';
import { progTypeName } from './names.js';
import { addressOf, allocBytes, cString, type FieldsOf, fieldOf, hasField, Struct } from './struct.js';
import { optionKeys, validateBytes, validateFd, validateObject } from './validate.js';

/**
 * `BPF_OBJ_GET_INFO_BY_FD` into a caller buffer (`struct bpf_prog_info`, `bpf_map_info`,
 * `bpf_link_info` or `bpf_btf_info` by the fd's type). The buffer is zeroed first: the kernel
 * reads pointer fields of some info structs and writes through them, so caller bytes could make
 * it write anywhere in this process. For the variable-length parts use the typed readers
 * (`progGetInfo`, `btfGetInfo`, ...), which pass buffers they own.
 * @returns the `info_len` the kernel wrote (at most `info.byteLength`).
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`): EBADF, EINVAL for a non-bpf fd.
 */
export function objGetInfoByFd(fd: Fd | number, info: Uint8Array): number {
  const n = validateFd(fd, 'fd');
  const buf = validateBytes(info, 'info');
  buf.fill(0);
  return objGetInfoByFdUnchecked(n, buf);
}

/**
 * `BPF_OBJ_GET_INFO_BY_FD` of fd `n` into `buf` as it is (not zeroed: pointer fields the caller
 * set are read by the kernel), through one reused attr; returns the `info_len` the kernel wrote.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function objGetInfoByFdUnchecked(n: number, buf: Uint8Array): number {
  const sc = infoAttrScratch ?? infoScratch();
  const av = sc.view;
  av.setUint32(sc.bpfFd, n, true);
  av.setUint32(sc.infoLen, buf.byteLength, true);
  if (buf !== sc.last || buf.byteLength !== sc.lastLen) {
    av.setBigUint64(sc.info, addressOf(buf), true);
    sc.last = buf;
    sc.lastLen = buf.byteLength;
  }
  bpfAt(BPF_OBJ_GET_INFO_BY_FD, sc, sc.size);
  return av.getUint32(sc.infoLen, true);
}

let infoAttrScratch:
  | {
      bytes: Uint8Array;
      view: DataView;
      addr: number;
      bpfFd: number;
      infoLen: number;
      info: number;
      size: number;
      last: Uint8Array | undefined;
      lastLen: number;
    }
  | undefined;
function infoScratch() {
  if (infoAttrScratch !== undefined) return infoAttrScratch;
  const a = new Struct(InfoAttr);
  const f = fieldOf(InfoAttr, 'info');
  infoAttrScratch = {
    bytes: a.bytes,
    view: a.view,
    addr: scratchAttr(a.bytes).addr,
    bpfFd: fieldOf(InfoAttr, 'bpf_fd').offset,
    infoLen: fieldOf(InfoAttr, 'info_len').offset,
    info: f.offset,
    size: f.offset + f.size,
    last: undefined,
    lastLen: 0,
  };
  return infoAttrScratch;
}

/**
 * What kind of object an fd refers to, as {@link fdKind} tells it: `'prog'`, `'map'`, `'link'`,
 * `'btf'`, another bpf kind the kernel names (`'stats'`, `'token'`, ...), or `'other'`.
 */
export type FdKind = 'prog' | 'map' | 'link' | 'btf' | 'other' | (string & {});

/**
 * What kind of BPF object fd `n` refers to, from its `/proc/self/fd` link (`anon_inode:bpf-prog`,
 * `bpf-map`, `bpf_link`/`bpf-link`, `btf`, ...): `'other'` for anything that is not a bpf object,
 * `undefined` when /proc cannot tell (not mounted, a closed fd). One readlink; the one fd-kind
 * check of every layer.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function fdKind(n: number): FdKind | undefined {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${n}`);
  } catch {
    return undefined;
  }
  const m = /^anon_inode:\[?(?:bpf[-_](\w+)|(btf))/.exec(target);
  return m === null ? 'other' : ((m[1] ?? m[2]) as string);
}

function kindName(k: FdKind): string {
  return k === 'btf' ? 'btf' : k === 'link' ? 'bpf_link' : `bpf-${k}`;
}

/**
 * Checks that fd `n` is the kind of bpf object a typed reader decodes: the kernel fills whatever
 * info the fd's object has, so a program fd given to `mapGetInfo` would otherwise decode as
 * nonsense. Not a bpf object at all (or /proc unavailable) is left to the kernel (EINVAL/EBADF).
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for another kind of bpf object.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function checkFdKind(n: number, kind: FdKind, name: string): void {
  const k = fdKind(n);
  if (k !== undefined && k !== 'other' && k !== kind) {
    throw errInvalidArgValue(name, n, `must be a ${kindName(kind)} fd (this one is ${kindName(k)})`);
  }
}

// One info struct per kind, reused: the readers decode it into a new plain object (strings and
// arrays copied out) and clear it before and after, so no caller ever holds these bytes and no
// stale pointer reaches the kernel. Nothing in between calls user code.
let progInfoStruct: Struct<typeof BpfProgInfo> | undefined;
let mapInfoStruct: Struct<typeof BpfMapInfo> | undefined;
let btfInfoStruct: Struct<typeof BpfBtfInfo> | undefined;

/** Reads info into a `Struct` of `layout`; returns the length the kernel filled. */
function getInfo<L extends TypeLayout>(fd: number, s: Struct<L>): number {
  return objGetInfoByFdUnchecked(fd, s.bytes);
}

/** A reader that returns 0 for fields beyond what this kernel filled in. */
function reader<L extends TypeLayout>(s: Struct<L>, len: number) {
  const has = (f: FieldsOf<L>) =>
    hasField(s.layout, f) && fieldOf(s.layout, f).offset + fieldOf(s.layout, f).size <= len;
  return {
    has,
    num: (f: FieldsOf<L>) => (has(f) ? s.getNumber(f) : 0),
    big: (f: FieldsOf<L>) => (has(f) ? s.getBigInt(f) : 0n),
    str: (f: FieldsOf<L>) => (has(f) ? s.getString(f) : ''),
  };
}

// ------------------------------------------------------------------------------------------------
// Programs

/** What the kernel reports about a program (`struct bpf_prog_info`): `program.info()`, `progGetInfo()`. */
export interface ProgramInfo {
  /** The program's id (system-wide). */
  readonly id: number;
  /** bpftool's name of the program type, e.g. `'flow_dissector'`. */
  readonly type: string;
  /** The kernel's program type number. */
  readonly typeId: number;
  /** The program name given at load (up to 15 characters), `''` if none (4.15+). */
  readonly name: string;
  /** The program tag: a hash of the instructions, 16 hex digits (as bpftool prints it). */
  readonly tag: string;
  /** When it was loaded (from the kernel's boot-time nanoseconds; accurate to ~10 ms). */
  readonly loadedAt: Date;
  /** The kernel's `load_time`: nanoseconds since boot. */
  readonly loadTimeNs: bigint;
  /** The uid that loaded it. */
  readonly createdByUid: number;
  /** Whether the license is GPL-compatible (4.18+). */
  readonly gplCompatible: boolean;
  /** Number of maps the program uses. */
  readonly mapCount: number;
  /** Ids of the maps the program uses: only from `progGetInfo(fd, { mapIds: true })` (a second call). */
  readonly mapIds?: number[];
  /** Size of the translated and of the JITed program, in bytes. */
  readonly xlatedSize: number;
  readonly jitedSize: number;
  /** Verified instructions (Linux 5.16+), 0 if not reported. */
  readonly verifiedInstructions: number;
  /** BTF object id (5.0+), 0 if none. */
  readonly btfId: number;
  /** Offload interface, 0 if none. */
  readonly ifindex: number;
  /** BTF object and type id of the attach target (6.0+), 0 if none. */
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
  /** Run statistics (counted while `BPF_ENABLE_STATS` is on, 5.1+). */
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
  /** Recursion misses (5.12+). */
  readonly recursionMisses: bigint;
}

let bootEpochMs: number | undefined;
function bootTimeMs(): number {
  if (bootEpochMs === undefined) {
    // /proc/uptime is CLOCK_BOOTTIME in seconds, the clock of load_time.
    let uptime = 0;
    try {
      uptime = Number.parseFloat(readFileSync('/proc/uptime', 'utf8').split(' ')[0] ?? '0');
    } catch {
      // leave 0: loadedAt is then relative to now
    }
    bootEpochMs = Date.now() - uptime * 1000;
  }
  return bootEpochMs;
}

const HEX: string[] = [];
for (let i = 0; i < 256; i++) HEX.push(i.toString(16).padStart(2, '0'));

/** Decodes a filled `struct bpf_prog_info` (zero beyond what the kernel wrote). */
function decodeProgramInfo(bytes: Uint8Array, v: DataView, mapIds: number[] | undefined): ProgramInfo {
  const f = BpfProgInfo.fields;
  const typeId = readNumber(v, f.type);
  let tag = '';
  for (let i = 0; i < f.tag.size; i++) tag += HEX[bytes[f.tag.offset + i] as number];
  const loadTimeNs = readBigInt(v, f.load_time);
  const info: ProgramInfo = {
    id: readNumber(v, f.id),
    type: progTypeName(typeId),
    typeId,
    name: readString(bytes, f.name),
    tag,
    loadedAt: new Date(Math.round(bootTimeMs() + Number(loadTimeNs / 1000n) / 1000)),
    loadTimeNs,
    createdByUid: readNumber(v, f.created_by_uid),
    gplCompatible: readNumber(v, f.gpl_compatible) === 1,
    mapCount: readNumber(v, f.nr_map_ids),
    xlatedSize: readNumber(v, f.xlated_prog_len),
    jitedSize: readNumber(v, f.jited_prog_len),
    verifiedInstructions: readNumber(v, f.verified_insns),
    btfId: readNumber(v, f.btf_id),
    ifindex: readNumber(v, f.ifindex),
    attachBtfObjId: readNumber(v, f.attach_btf_obj_id),
    attachBtfId: readNumber(v, f.attach_btf_id),
    runTimeNs: readBigInt(v, f.run_time_ns),
    runCount: readBigInt(v, f.run_cnt),
    recursionMisses: readBigInt(v, f.recursion_misses),
  };
  return mapIds === undefined ? info : { ...info, mapIds };
}

/**
 * The info of program fd `n` in one `BPF_OBJ_GET_INFO_BY_FD` (two with `mapIds`), without
 * argument or fd-kind checks: `program.info()` and `programs()`.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function progInfoUnchecked(n: number, mapIds = false): ProgramInfo {
  if (progInfoStruct === undefined) progInfoStruct = new Struct(BpfProgInfo);
  const s = progInfoStruct.clear();
  try {
    getInfo(n, s);
    let ids: number[] | undefined;
    if (mapIds) {
      const nrMaps = s.getNumber('nr_map_ids');
      ids = [];
      if (nrMaps > 0) {
        // Second pass: only the map ids (other pointer fields zero so the kernel copies nothing else).
        const buf = allocBytes(nrMaps * 4);
        s.clear();
        s.set('nr_map_ids', nrMaps).setPointer('map_ids', buf);
        getInfo(n, s);
        const got = Math.min(nrMaps, s.getNumber('nr_map_ids'));
        const dv = new DataView(buf.buffer);
        ids = Array.from({ length: got }, (_, i) => dv.getUint32(i * 4, true));
      }
    }
    return decodeProgramInfo(s.bytes, s.view, ids);
  } finally {
    s.clear();
  }
}

const PROG_INFO_KEYS = optionKeys('mapIds');

/**
 * Info of a program fd: one `BPF_OBJ_GET_INFO_BY_FD`, and a second for the map ids with
 * `{ mapIds: true }`.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for another kind of bpf object.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`); EINVAL if `fd` is not a program.
 */
export function progGetInfo(fd: Fd | number, options: { mapIds?: boolean } = {}): ProgramInfo {
  const n = validateFd(fd, 'fd');
  validateObject(options, 'options', PROG_INFO_KEYS);
  checkFdKind(n, 'prog', 'fd');
  return progInfoUnchecked(n, options.mapIds === true);
}

/** @deprecated The one name is {@link ProgramInfo} (sys's `ProgInfo` had its own field names until 0.2). */
export type ProgInfo = ProgramInfo;

// ------------------------------------------------------------------------------------------------
// Maps

/** What the kernel reports about a map (`struct bpf_map_info`). */
export interface MapInfo {
  /** `enum bpf_map_type`. */
  type: number;
  /** Map id. */
  id: number;
  /** Key size in bytes. */
  keySize: number;
  /** Value size in bytes (per CPU for per-CPU maps). */
  valueSize: number;
  /** Maximum entries. */
  maxEntries: number;
  /** `BPF_F_*` map flags. */
  flags: number;
  /** Name (4.15+). */
  name: string;
  /** Offload interface, 0 if none. */
  ifindex: number;
  /** BTF object id, 0 if none. */
  btfId: number;
  /** BTF type id of the key. */
  btfKeyTypeId: number;
  /** BTF type id of the value. */
  btfValueTypeId: number;
  /** `map_extra` (bloom filter hashes, arena address; 5.16+). */
  mapExtra: bigint;
}

/**
 * Info of a map fd.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for another kind of bpf object.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`); EINVAL if `fd` is not a map.
 */
export function mapGetInfo(fd: Fd | number): MapInfo {
  const n = validateFd(fd, 'fd');
  checkFdKind(n, 'map', 'fd');
  if (mapInfoStruct === undefined) mapInfoStruct = new Struct(BpfMapInfo);
  const s = mapInfoStruct.clear();
  try {
    return decodeMapInfo(s, getInfo(n, s));
  } finally {
    s.clear();
  }
}

function decodeMapInfo(s: Struct<typeof BpfMapInfo>, len: number): MapInfo {
  const r = reader(s, len);
  return {
    type: r.num('type'),
    id: r.num('id'),
    keySize: r.num('key_size'),
    valueSize: r.num('value_size'),
    maxEntries: r.num('max_entries'),
    flags: r.num('map_flags'),
    name: r.str('name'),
    ifindex: r.num('ifindex'),
    btfId: r.num('btf_id'),
    btfKeyTypeId: r.num('btf_key_type_id'),
    btfValueTypeId: r.num('btf_value_type_id'),
    mapExtra: r.big('map_extra'),
  };
}

// ------------------------------------------------------------------------------------------------
// BTF objects

/** What the kernel reports about a BTF object (`struct bpf_btf_info`). */
export interface BtfInfo {
  /** BTF object id. */
  id: number;
  /** Size of the raw BTF data in bytes. */
  btfSize: number;
  /** Name (`'vmlinux'`, a module name, or `''` for user BTF; 5.11+). */
  name: string;
  /** True for kernel (vmlinux or module) BTF (5.11+). */
  kernelBtf: boolean;
  /** The raw BTF data, only with `{ data: true }`. */
  data?: Uint8Array;
}

/**
 * Info of a BTF fd; the name comes in a second pass, the raw data too with `{ data: true }`.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for another kind of bpf object.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`); EINVAL if `fd` is not BTF.
 */
export function btfGetInfo(fd: Fd | number, options: { data?: boolean } = {}): BtfInfo {
  const n = validateFd(fd, 'fd');
  checkFdKind(n, 'btf', 'fd');
  if (btfInfoStruct === undefined) btfInfoStruct = new Struct(BpfBtfInfo);
  const s = btfInfoStruct.clear();
  try {
    return decodeBtfInfo(n, s, options);
  } finally {
    s.clear();
  }
}

function decodeBtfInfo(n: number, s: Struct<typeof BpfBtfInfo>, options: { data?: boolean }): BtfInfo {
  let len = getInfo(n, s);
  const nameLen = hasField(BpfBtfInfo, 'name_len') ? s.getNumber('name_len') : 0;
  const btfSize = s.getNumber('btf_size');
  const wantData = options.data === true;
  let name = '';
  let data: Uint8Array | undefined;
  if (nameLen > 0 || (wantData && btfSize > 0)) {
    const nameBuf = allocBytes(nameLen + 1);
    const dataBuf = wantData ? allocBytes(btfSize) : undefined;
    s.clear();
    if (nameLen > 0) s.setPointer('name', nameBuf).set('name_len', nameLen + 1);
    if (dataBuf !== undefined) s.setPointer('btf', dataBuf).set('btf_size', btfSize);
    len = getInfo(n, s);
    name = cString(nameBuf);
    data = dataBuf;
  }
  const r = reader(s, len);
  const out: BtfInfo = { id: r.num('id'), btfSize, name, kernelBtf: r.num('kernel_btf') !== 0 };
  if (data !== undefined) out.data = data;
  return out;
}
