/**
 * `BPF_OBJ_GET_INFO_BY_FD` (4.13+) and typed readers for programs, maps, links and BTF objects.
 * Variable-length arrays (map ids of a program, a BTF object's name) are fetched in a second pass.
 *
 * @module
 */
import { readlinkSync } from 'node:fs';
import type { TypeLayout } from '@bpfjs/uapi';
import {
  BPF_FLOW_DISSECTOR,
  BPF_LINK_TYPE_CGROUP,
  BPF_LINK_TYPE_ITER,
  BPF_LINK_TYPE_NETKIT,
  BPF_LINK_TYPE_NETNS,
  BPF_LINK_TYPE_PERF_EVENT,
  BPF_LINK_TYPE_RAW_TRACEPOINT,
  BPF_LINK_TYPE_SOCKMAP,
  BPF_LINK_TYPE_STRUCT_OPS,
  BPF_LINK_TYPE_TCX,
  BPF_LINK_TYPE_XDP,
  BPF_OBJ_GET_INFO_BY_FD,
  BPF_PERF_EVENT_KPROBE,
  BPF_PERF_EVENT_KRETPROBE,
  BPF_PERF_EVENT_TRACEPOINT,
  BPF_PERF_EVENT_UPROBE,
  BPF_PERF_EVENT_URETPROBE,
  BPF_SK_LOOKUP,
  BpfBtfInfo,
  BpfLinkInfo,
  BpfMapInfo,
  BpfProgInfo,
  InfoAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAt, type ScratchAttr, scratchAttr } from './bpf.js';
import { BpfError, errInvalidArgValue, errOutOfRange } from './errors.js';
import type { Fd } from './fd.js';
import { addressOf, allocBytes, cString, type FieldsOf, fieldOf, hasField, Struct } from './struct.js';
import { validateBytes, validateFd } from './validate.js';

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
  // A hot path (link info): one reused attr, offsets resolved once, buffer addresses cached.
  buf.fill(0);
  return infoCall(n, buf);
}

/** OBJ_GET_INFO_BY_FD into `buf` through the scratch attr; returns the filled info_len. */
function infoCall(n: number, buf: Uint8Array): number {
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
 * Checks that `n` is the kind of bpf object a typed reader decodes (`'bpf-prog'`, `'bpf-map'`,
 * `'btf'`, `'bpf_link'`): the kernel fills whatever info the fd's object has, so a program fd
 * given to `mapGetInfo` would otherwise decode as nonsense. Uses `/proc/self/fd` (skipped if
 * /proc is not mounted). Not a bpf object at all is left to the kernel (EINVAL/EBADF).
 * @internal
 */
export function checkFdKind(n: number, kind: string, name: string): void {
  let target: string;
  try {
    target = readlinkSync(`/proc/self/fd/${n}`);
  } catch {
    return;
  }
  const m = /^anon_inode:(bpf-prog|bpf-map|btf|bpf_link|bpf-stats|bpf-token|\[?bpf.*)$/.exec(target);
  // The kernel names link inodes both `bpf_link` and `bpf-link` (by link type and version).
  const norm = (k: string) => k.replace('_', '-');
  if (m !== null && norm(m[1] as string) !== norm(kind)) {
    throw errInvalidArgValue(name, n, `must be a ${kind} fd (this one is ${m[1]})`);
  }
}

/** Reads info into a `Struct` of `layout`; returns the length the kernel filled. */
function getInfo<L extends TypeLayout>(fd: number, s: Struct<L>): number {
  // The scratch attr of objGetInfoByFd; `s` is one of the per-kind info structs below, so its
  // address is looked up once.
  return infoCall(fd, s.bytes);
}

// One info struct per kind, reused: the readers decode it into a new plain object (strings and
// arrays copied out) and clear it before and after, so no caller ever holds these bytes and no
// stale pointer reaches the kernel. Nothing in between calls user code.
let progInfoStruct: Struct<typeof BpfProgInfo> | undefined;
let mapInfoStruct: Struct<typeof BpfMapInfo> | undefined;
let btfInfoStruct: Struct<typeof BpfBtfInfo> | undefined;

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

/** What the kernel reports about a program (`struct bpf_prog_info`). */
export interface ProgInfo {
  /** `enum bpf_prog_type`. */
  type: number;
  /** Program id. */
  id: number;
  /** The program tag (hex of the 8-byte SHA of the instructions), as bpftool prints it. */
  tag: string;
  /** Name (4.15+). */
  name: string;
  /** Size of the JITed image in bytes. */
  jitedProgLen: number;
  /** Size of the translated instructions in bytes. */
  xlatedProgLen: number;
  /** Load time, ns since boot. */
  loadTime: bigint;
  /** Uid of the loader. */
  createdByUid: number;
  /** Ids of the maps the program uses (second pass). */
  mapIds: number[];
  /** Offload interface, 0 if none. */
  ifindex: number;
  /** Whether the license is GPL-compatible (4.18+). */
  gplCompatible: boolean;
  /** BTF object id (5.0+), 0 if none. */
  btfId: number;
  /** Cumulative run time in ns (with `BPF_ENABLE_STATS`, 5.1+). */
  runTimeNs: bigint;
  /** Run count (5.1+). */
  runCnt: bigint;
  /** Recursion misses (5.12+). */
  recursionMisses: bigint;
  /** Verified instructions (5.16+). */
  verifiedInsns: number;
  /** BTF object of the attach target (6.0+). */
  attachBtfObjId: number;
  /** BTF type id of the attach target (6.0+). */
  attachBtfId: number;
}

/**
 * Info of a program fd, with its map ids (second pass when it uses maps).
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for another kind of bpf object.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`); EINVAL if `fd` is not a program.
 */
export function progGetInfo(fd: Fd | number): ProgInfo {
  const n = validateFd(fd, 'fd');
  checkFdKind(n, 'bpf-prog', 'fd');
  if (progInfoStruct === undefined) progInfoStruct = new Struct(BpfProgInfo);
  const s = progInfoStruct.clear();
  try {
    return decodeProgInfo(n, s);
  } finally {
    s.clear();
  }
}

function decodeProgInfo(n: number, s: Struct<typeof BpfProgInfo>): ProgInfo {
  let len = getInfo(n, s);
  const nrMaps = s.getNumber('nr_map_ids');
  let mapIds: number[] = [];
  if (nrMaps > 0) {
    // Second pass: only the map ids (other pointer fields zero so the kernel copies nothing else).
    const ids = allocBytes(nrMaps * 4);
    s.clear();
    s.set('nr_map_ids', nrMaps).setPointer('map_ids', ids);
    len = getInfo(n, s);
    const got = Math.min(nrMaps, s.getNumber('nr_map_ids'));
    const dv = new DataView(ids.buffer);
    mapIds = Array.from({ length: got }, (_, i) => dv.getUint32(i * 4, true));
  }
  const r = reader(s, len);
  const tag = Buffer.from(s.getBytes('tag')).toString('hex');
  return {
    type: r.num('type'),
    id: r.num('id'),
    tag,
    name: r.str('name'),
    jitedProgLen: r.num('jited_prog_len'),
    xlatedProgLen: r.num('xlated_prog_len'),
    loadTime: r.big('load_time'),
    createdByUid: r.num('created_by_uid'),
    mapIds,
    ifindex: r.num('ifindex'),
    gplCompatible: r.num('gpl_compatible') === 1,
    btfId: r.num('btf_id'),
    runTimeNs: r.big('run_time_ns'),
    runCnt: r.big('run_cnt'),
    recursionMisses: r.big('recursion_misses'),
    verifiedInsns: r.num('verified_insns'),
    attachBtfObjId: r.num('attach_btf_obj_id'),
    attachBtfId: r.num('attach_btf_id'),
  };
}

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
  checkFdKind(n, 'bpf-map', 'fd');
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

/**
 * What the kernel reports about a link (`struct bpf_link_info`), with the parts bpfjs decodes:
 * `netns` is always present (`undefined` unless a netns link), the member of another link type
 * only for that type.
 */
export interface LinkInfo {
  /** `enum bpf_link_type`. */
  type: number;
  /** Link id. */
  id: number;
  /** Id of the linked program. */
  progId: number;
  /** Netns links (5.8+): the netns inode (0 once the netns is gone) and attach type. */
  netns: { netnsIno: number; attachType: number } | undefined;
  /** Cgroup links: cgroup id and attach type. */
  cgroup?: { cgroupId: bigint; attachType: number } | undefined;
  /** XDP links: the interface. */
  xdp?: { ifindex: number } | undefined;
  /** tcx links (6.6+): the interface and attach type. */
  tcx?: { ifindex: number; attachType: number } | undefined;
  /** netkit links (6.7+): the interface and attach type. */
  netkit?: { ifindex: number; attachType: number } | undefined;
  /** struct_ops links: the map id. */
  structOps?: { mapId: number } | undefined;
  /** sockmap links (6.10+): the map id and attach type. */
  sockmap?: { mapId: number; attachType: number } | undefined;
}

// linkGetInfo is a hot path: one info buffer and one attr, addresses and offsets resolved once.
interface LinkInfoScratch {
  at: ScratchAttr;
  attr: Uint8Array;
  attrView: DataView;
  attrSize: number;
  info: Struct<typeof BpfLinkInfo>;
  infoSize: number;
  o: Record<'bpfFd' | 'infoLen' | 'info' | 'type' | 'id' | 'progId' | 'nsIno' | 'nsType', number>;
}
let linkScratch: LinkInfoScratch | undefined;

function linkInfoScratch(): LinkInfoScratch {
  if (linkScratch !== undefined) return linkScratch;
  const a = new Struct(InfoAttr);
  const infoField = fieldOf(InfoAttr, 'info');
  const info = new Struct(BpfLinkInfo);
  // The info pointer never changes (the kernel does not write it): set once, not per call.
  a.setPointer('info', info.bytes);
  linkScratch = {
    at: scratchAttr(a.bytes),
    attr: a.bytes,
    attrView: a.view,
    attrSize: infoField.offset + infoField.size,
    info,
    infoSize: info.bytes.byteLength,
    o: {
      bpfFd: fieldOf(InfoAttr, 'bpf_fd').offset,
      infoLen: fieldOf(InfoAttr, 'info_len').offset,
      info: infoField.offset,
      type: fieldOf(BpfLinkInfo, 'type').offset,
      id: fieldOf(BpfLinkInfo, 'id').offset,
      progId: fieldOf(BpfLinkInfo, 'prog_id').offset,
      nsIno: fieldOf(BpfLinkInfo, 'netns.netns_ino').offset,
      nsType: fieldOf(BpfLinkInfo, 'netns.attach_type').offset,
    },
  };
  return linkScratch;
}

/**
 * Info of a link fd (5.8+). Reuses one preallocated info buffer: a hot path. Another kind of bpf
 * object (the kernel answers for any) is refused with `ERR_INVALID_ARG_VALUE`: checked with a
 * readlink for non-netns link types, and for netns links only when the answer is implausible (an
 * attach type other than flow_dissector/sk_lookup), so the netns hot path stays one syscall.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` if `fd` is a map, program or BTF object.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`); EINVAL if `fd` is not a link.
 */
export function linkGetInfo(fd: Fd | number): LinkInfo {
  // Fast path for a plain fd number; everything else goes through the full check.
  const n =
    typeof fd === 'number' && fd >= 0 && fd <= 0x7fffffff && fd === Math.floor(fd)
      ? fd
      : validateFd(fd, 'fd');
  const sc = linkScratch ?? linkInfoScratch();
  const o = sc.o;
  const av = sc.attrView;
  const s = sc.info;
  // The info buffer is all zero here (zeroed at allocation, and after every call below): the
  // kernel reads pointers from some link types' info (raw_tp, iter, perf_event), so stale bytes
  // of an earlier answer must never reach it.
  av.setUint32(o.bpfFd, n, true);
  av.setUint32(o.infoLen, sc.infoSize, true);
  try {
    bpfAt(BPF_OBJ_GET_INFO_BY_FD, sc.at, sc.attrSize);
  } catch (e) {
    s.bytes.fill(0);
    throw e;
  }
  const v = s.view;
  const type = v.getUint32(o.type, true);
  // Netns links (the hot path) always get the same four-key shape; other link types add their key.
  const info: LinkInfo = {
    type,
    id: v.getUint32(o.id, true),
    progId: v.getUint32(o.progId, true),
    netns: undefined,
  };
  // Off the netns hot path: make sure `fd` is a link before decoding another type's fields (the
  // kernel answers for any bpf object, and a map's or program's info would decode as nonsense).
  // One readlink of /proc/self/fd; netns links (the hot path) are checked more cheaply below.
  if (type !== BPF_LINK_TYPE_NETNS) {
    try {
      checkFdKind(n, 'bpf_link', 'fd');
    } catch (e) {
      s.bytes.fill(0);
      throw e;
    }
  }
  switch (type) {
    case BPF_LINK_TYPE_NETNS: {
      const attachType = v.getUint32(o.nsType, true);
      info.netns = { netnsIno: v.getUint32(o.nsIno, true), attachType };
      // A netns link fills only netns_ino/attach_type past prog_id. Zero from there to the end, not
      // just those two fields: another bpf object given by mistake (a map of type 5, a program)
      // writes its own info over the whole buffer, and stale bytes would reach the kernel as
      // pointers on a later call for a raw_tp/iter/perf_event link.
      s.bytes.fill(0, o.nsIno);
      // Not one of the netns attach types: probably not a link at all (a map or program whose
      // info reads as type 5). A typed error for those, before anyone trusts the answer.
      if (attachType !== BPF_FLOW_DISSECTOR && attachType !== BPF_SK_LOOKUP) checkFdKind(n, 'bpf_link', 'fd');
      return info;
    }
    case BPF_LINK_TYPE_CGROUP:
      info.cgroup = {
        cgroupId: s.getBigInt('cgroup.cgroup_id'),
        attachType: s.getNumber('cgroup.attach_type'),
      };
      break;
    case BPF_LINK_TYPE_XDP:
      info.xdp = { ifindex: s.getNumber('xdp.ifindex') };
      break;
    case BPF_LINK_TYPE_TCX:
      info.tcx = { ifindex: s.getNumber('tcx.ifindex'), attachType: s.getNumber('tcx.attach_type') };
      break;
    case BPF_LINK_TYPE_NETKIT:
      info.netkit = { ifindex: s.getNumber('netkit.ifindex'), attachType: s.getNumber('netkit.attach_type') };
      break;
    case BPF_LINK_TYPE_STRUCT_OPS:
      info.structOps = { mapId: s.getNumber('struct_ops.map_id') };
      break;
    case BPF_LINK_TYPE_SOCKMAP:
      info.sockmap = { mapId: s.getNumber('sockmap.map_id'), attachType: s.getNumber('sockmap.attach_type') };
      break;
  }
  s.bytes.fill(0);
  return info;
}

/** What {@link linkGetInfoWithName} returns. */
export interface LinkInfoWithName {
  /** The `info_len` the kernel wrote into the caller's buffer. */
  infoLen: number;
  /**
   * The link's name string: the tracepoint of a raw_tracepoint link, the target of an iter link
   * (`'task'`, `'bpf_map'`, ...), the function of a kprobe, the file of a uprobe or the
   * tracepoint of a tracepoint perf_event link. `undefined` for other link types and where the
   * kernel reports none (iter links before 5.9, perf_event links before 6.6, perf events).
   */
  name: string | undefined;
}

type Field = { offset: number; size: number };
// Where each named link type keeps its name pointer and the length of the buffer behind it.
let nameFields:
  | {
      type: number;
      rawTp: [Field, Field];
      iter: [Field, Field];
      perfType: Field;
      perf: Readonly<Record<number, [Field, Field]>>;
    }
  | undefined;
function linkNameFields(): NonNullable<typeof nameFields> {
  if (nameFields !== undefined) return nameFields;
  const f = (name: string) => fieldOf(BpfLinkInfo, name);
  const uprobe: [Field, Field] = [f('perf_event.uprobe.file_name'), f('perf_event.uprobe.name_len')];
  const kprobe: [Field, Field] = [f('perf_event.kprobe.func_name'), f('perf_event.kprobe.name_len')];
  nameFields = {
    type: f('type').offset,
    rawTp: [f('raw_tracepoint.tp_name'), f('raw_tracepoint.tp_name_len')],
    iter: [f('iter.target_name'), f('iter.target_name_len')],
    perfType: f('perf_event.type'),
    perf: {
      [BPF_PERF_EVENT_UPROBE]: uprobe,
      [BPF_PERF_EVENT_URETPROBE]: uprobe,
      [BPF_PERF_EVENT_KPROBE]: kprobe,
      [BPF_PERF_EVENT_KRETPROBE]: kprobe,
      [BPF_PERF_EVENT_TRACEPOINT]: [f('perf_event.tracepoint.tp_name'), f('perf_event.tracepoint.name_len')],
    },
  };
  return nameFields;
}

// A perf_event link's name is a kernel function (KSYM_NAME_LEN 512), a tracepoint or a file path
// (PATH_MAX 4096), and the kernel does not say its length without copying it: bpftool passes a
// PATH_MAX buffer, and so does this; ENOSPC (truncated) gets one retry with a larger one.
const PERF_NAME_SIZES = [4096, 65536] as const;
const ENOSPC = 28;

/**
 * `BPF_OBJ_GET_INFO_BY_FD` for a link into `info` (the whole `struct bpf_link_info`, zeroed
 * first as in {@link objGetInfoByFd}), plus the link's name string for the link types that have
 * one, fetched the way bpftool does: raw_tracepoint (5.8+) and iter links (target name 5.9+)
 * report the length on the first call and get a buffer of that size on a second one;
 * perf_event links (names 6.6+: kprobe function, uprobe file, tracepoint) get a PATH_MAX buffer
 * (a larger one once on ENOSPC). The name buffer belongs to sys; its pointer is cleared from
 * `info` before returning, the length field is left as the kernel wrote it. Two calls for those
 * link types, one for the others; not a hot path (`linkGetInfo` is).
 * @throws TypeError `ERR_INVALID_ARG_VALUE` if `fd` is a program, map or BTF object (checked
 *   before any pointer is given to the kernel).
 * @throws RangeError `ERR_OUT_OF_RANGE` if `info` is smaller than `struct bpf_link_info`.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`): EBADF, EINVAL for a non-bpf fd.
 */
export function linkGetInfoWithName(fd: Fd | number, info: Uint8Array): LinkInfoWithName {
  const n = validateFd(fd, 'fd');
  const buf = validateBytes(info, 'info');
  if (buf.byteLength < BpfLinkInfo.size) {
    throw errOutOfRange(
      'info.byteLength',
      `>= ${BpfLinkInfo.size} (sizeof(struct bpf_link_info))`,
      buf.byteLength,
    );
  }
  // The name pointer goes into this buffer: it must be a link's info, never a program's (whose
  // info has output pointers at the same offsets).
  checkFdKind(n, 'bpf_link', 'fd');
  const nf = linkNameFields();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf.fill(0);
  let infoLen = infoCall(n, buf);
  const type = view.getUint32(nf.type, true);
  let fields: [Field, Field] | undefined;
  let sizes: readonly number[];
  if (type === BPF_LINK_TYPE_RAW_TRACEPOINT || type === BPF_LINK_TYPE_ITER) {
    fields = type === BPF_LINK_TYPE_ITER ? nf.iter : nf.rawTp;
    // Without a buffer the kernel reports the length (with the NUL); 0: it has no name to give.
    const len = fields[1].offset + 4 <= infoLen ? view.getUint32(fields[1].offset, true) : 0;
    if (len === 0) return { infoLen, name: undefined };
    sizes = [len];
  } else if (type === BPF_LINK_TYPE_PERF_EVENT && nf.perfType.offset + 4 <= infoLen) {
    fields = nf.perf[view.getUint32(nf.perfType.offset, true)];
    sizes = PERF_NAME_SIZES;
  } else {
    return { infoLen, name: undefined };
  }
  if (fields === undefined) return { infoLen, name: undefined };
  const [ptr, lenField] = fields;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] as number;
    const name = allocBytes(size);
    buf.fill(0);
    view.setBigUint64(ptr.offset, addressOf(name), true);
    view.setUint32(lenField.offset, size, true);
    try {
      infoLen = infoCall(n, buf);
    } catch (e) {
      buf.fill(0);
      if (BpfError.isInstance(e) && e.errno === ENOSPC && i + 1 < sizes.length) continue;
      throw e;
    }
    view.setBigUint64(ptr.offset, 0n, true);
    return { infoLen, name: cString(name) };
  }
  return { infoLen, name: undefined }; // not reached: the last size rethrows
}

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
