/**
 * `struct bpf_link_info`, decoded once: every link type of the synced UAPI headers, through the
 * generated layout (`BpfLinkInfo.fields`) and uapi's field readers. `link.info()`, `links()` and
 * sys's `linkGetInfo()` all come here. A call makes as many `BPF_OBJ_GET_INFO_BY_FD`s as bpftool
 * does for the link type: one, or two for the link types with a name string (raw_tracepoint,
 * iter, perf_event: the second fetches the name into a buffer sys owns).
 *
 * @module
 */
import { type FieldLayout, readBigInt, readNumber } from '@bpfjs/uapi';
import {
  BPF_FLOW_DISSECTOR,
  BPF_LINK_TYPE_ITER,
  BPF_LINK_TYPE_NETNS,
  BPF_LINK_TYPE_PERF_EVENT,
  BPF_LINK_TYPE_RAW_TRACEPOINT,
  BPF_PERF_EVENT_KPROBE,
  BPF_PERF_EVENT_KRETPROBE,
  BPF_PERF_EVENT_TRACEPOINT,
  BPF_PERF_EVENT_UPROBE,
  BPF_PERF_EVENT_URETPROBE,
  BPF_SK_LOOKUP,
  BpfLinkInfo,
} from '@bpfjs/uapi/linux/bpf';
import { BpfError, errOutOfRange } from './errors.js';
import type { Fd } from './fd.js';
import { checkFdKind, objGetInfoByFdUnchecked } from './info.js';
import { attachTypeName, linkTypeName } from './names.js';
import { addressOf, allocBytes, cString } from './struct.js';
import { validateBytes, validateFd } from './validate.js';

/** Fields every link's info has. */
export interface LinkInfoBase {
  /** The link's id (system-wide, stable for its lifetime). */
  readonly id: number;
  /** The id of the program the link runs now. */
  readonly programId: number;
}

/**
 * A netns link (flow dissector, sk_lookup). `netnsInode` is 0 once the link is defunct (its
 * namespace died or the link was detached); `attachType` is kept.
 */
export interface NetNsLinkInfo extends LinkInfoBase {
  readonly type: 'netns';
  /** The inode of the network namespace, or 0 when the link is defunct. */
  readonly netnsInode: number;
  /** bpftool's name of the attach type: `'flow_dissector'` or `'sk_lookup'`. */
  readonly attachType: string;
}

/** An XDP link. `ifindex` 0 after the device went away or the link was detached. */
export interface XdpLinkInfo extends LinkInfoBase {
  readonly type: 'xdp';
  readonly ifindex: number;
}

/** A tcx link (tc ingress/egress, Linux 6.6+). */
export interface TcxLinkInfo extends LinkInfoBase {
  readonly type: 'tcx';
  readonly ifindex: number;
  readonly attachType: string;
}

/** A netkit link (Linux 6.7+). */
export interface NetkitLinkInfo extends LinkInfoBase {
  readonly type: 'netkit';
  readonly ifindex: number;
  readonly attachType: string;
}

/** A cgroup link. `cgroupId` is 0n once detached. */
export interface CgroupLinkInfo extends LinkInfoBase {
  readonly type: 'cgroup';
  readonly cgroupId: bigint;
  readonly attachType: string;
}

/** A tracing link (fentry/fexit/fmod_ret/lsm/freplace...). */
export interface TracingLinkInfo extends LinkInfoBase {
  readonly type: 'tracing';
  readonly attachType: string;
  /** The target program id (freplace) or BTF object id. */
  readonly targetObjectId: number;
  /** The BTF type id inside the target object. */
  readonly targetBtfId: number;
  /** The BPF cookie, where the kernel reports it. */
  readonly cookie?: bigint;
}

/** A raw tracepoint link (Linux 5.8+ as a link with an id and info). */
export interface RawTracepointLinkInfo extends LinkInfoBase {
  readonly type: 'raw_tracepoint';
  /**
   * The tracepoint (`'sys_enter'`), fetched with a second info call into a buffer of the length
   * the kernel reported; `''` if the kernel gave none.
   */
  readonly tpName: string;
  /** The BPF cookie, where the kernel reports it. */
  readonly cookie?: bigint;
}

/** A BPF iterator link (Linux 5.8+). */
export interface IterLinkInfo extends LinkInfoBase {
  readonly type: 'iter';
  /**
   * The iterator target (`'task'`, `'bpf_map'`, `'bpf_map_elem'`, ...), fetched like
   * `tpName` of raw tracepoint links; `''` where the kernel does not report it (before 5.9).
   */
  readonly targetName: string;
  /** The map id for map iterators, 0 otherwise. */
  readonly mapId: number;
}

/**
 * A perf-event based link (kprobe, uprobe, tracepoint, perf event; Linux 5.15+). The kind of
 * event and its fields are reported from Linux 6.6 on (`perfEventType` 0 before).
 */
export interface PerfEventLinkInfo extends LinkInfoBase {
  readonly type: 'perf_event';
  /** `enum bpf_perf_event_type` value: 1 uprobe, 2 uretprobe, 3 kprobe, 4 kretprobe, 5 tracepoint, 6 event. */
  readonly perfEventType: number;
  /** The probed kernel function (kprobe/kretprobe; 6.6+), when the kernel names one. */
  readonly functionName?: string;
  /** The probed file (uprobe/uretprobe; 6.6+). */
  readonly fileName?: string;
  /** The tracepoint (tracepoint events; 6.6+). */
  readonly tpName?: string;
  /** Probe offset (kprobe/uprobe). */
  readonly offset?: number;
  /** Kernel address (kprobe). */
  readonly address?: bigint;
  /** Missed runs (kprobe). */
  readonly missed?: bigint;
  /** Event config and type (perf events). */
  readonly config?: bigint;
  readonly eventType?: number;
  readonly cookie?: bigint;
}

/** A kprobe_multi link. */
export interface KprobeMultiLinkInfo extends LinkInfoBase {
  readonly type: 'kprobe_multi';
  readonly count: number;
  readonly flags: number;
  readonly missed: bigint;
}

/** A uprobe_multi link. */
export interface UprobeMultiLinkInfo extends LinkInfoBase {
  readonly type: 'uprobe_multi';
  readonly count: number;
  readonly flags: number;
  readonly pid: number;
}

/** A sockmap/sockhash link (Linux 6.10+). `mapId` is 0 once detached. */
export interface SockmapLinkInfo extends LinkInfoBase {
  readonly type: 'sockmap';
  readonly mapId: number;
  readonly attachType: string;
}

/** A netfilter link. */
export interface NetfilterLinkInfo extends LinkInfoBase {
  readonly type: 'netfilter';
  readonly protocolFamily: number;
  readonly hook: number;
  readonly priority: number;
  readonly flags: number;
}

/** A struct_ops link. `mapId` is 0 once detached. */
export interface StructOpsLinkInfo extends LinkInfoBase {
  readonly type: 'struct_ops';
  readonly mapId: number;
}

/** A link type bpfjs does not decode (newer than the headers, or `unspec`). */
export interface OtherLinkInfo extends LinkInfoBase {
  /** bpftool's name, or `'unknown(<n>)'`. */
  readonly type: string;
  /** The kernel's link type number. */
  readonly typeId: number;
}

/**
 * What the kernel reports about a link (`struct bpf_link_info`), decoded per link type: what
 * `link.info()`, `links()` and `linkGetInfo()` return; a union discriminated by `type` (bpftool's
 * link type name).
 */
export type LinkInfo =
  | NetNsLinkInfo
  | XdpLinkInfo
  | TcxLinkInfo
  | NetkitLinkInfo
  | CgroupLinkInfo
  | TracingLinkInfo
  | RawTracepointLinkInfo
  | IterLinkInfo
  | PerfEventLinkInfo
  | KprobeMultiLinkInfo
  | UprobeMultiLinkInfo
  | SockmapLinkInfo
  | NetfilterLinkInfo
  | StructOpsLinkInfo
  | OtherLinkInfo;

const F = BpfLinkInfo.fields;

/** Decodes a filled `struct bpf_link_info` in `v`; `name` is the name string fetched for the named types. @internal */
export function decodeLinkInfo(v: DataView, name?: string): LinkInfo {
  const typeId = readNumber(v, F.type);
  const id = readNumber(v, F.id);
  const programId = readNumber(v, F.prog_id);
  const type = linkTypeName(typeId);
  const u32 = (f: FieldLayout) => readNumber(v, f);
  const u64 = (f: FieldLayout) => readBigInt(v, f);
  switch (type) {
    case 'netns':
      return {
        id,
        type,
        programId,
        netnsInode: u32(F['netns.netns_ino']),
        attachType: attachTypeName(u32(F['netns.attach_type'])),
      };
    case 'xdp':
      return { id, type, programId, ifindex: u32(F['xdp.ifindex']) };
    case 'tcx':
      return {
        id,
        type,
        programId,
        ifindex: u32(F['tcx.ifindex']),
        attachType: attachTypeName(u32(F['tcx.attach_type'])),
      };
    case 'netkit':
      return {
        id,
        type,
        programId,
        ifindex: u32(F['netkit.ifindex']),
        attachType: attachTypeName(u32(F['netkit.attach_type'])),
      };
    case 'cgroup':
      return {
        id,
        type,
        programId,
        cgroupId: u64(F['cgroup.cgroup_id']),
        attachType: attachTypeName(u32(F['cgroup.attach_type'])),
      };
    case 'tracing':
      return {
        id,
        type,
        programId,
        attachType: attachTypeName(u32(F['tracing.attach_type'])),
        targetObjectId: u32(F['tracing.target_obj_id']),
        targetBtfId: u32(F['tracing.target_btf_id']),
        cookie: u64(F['tracing.cookie']),
      };
    case 'raw_tracepoint':
      return { id, type, programId, tpName: name ?? '', cookie: u64(F['raw_tracepoint.cookie']) };
    case 'iter':
      return { id, type, programId, targetName: name ?? '', mapId: u32(F['iter.map.map_id']) };
    case 'perf_event': {
      const perfEventType = u32(F['perf_event.type']);
      const base = { id, type, programId, perfEventType } as const;
      // A name only where the kernel gave a non-empty one (a kprobe by address has none).
      const named = name === undefined || name === '' ? undefined : name;
      switch (perfEventType) {
        case BPF_PERF_EVENT_UPROBE:
        case BPF_PERF_EVENT_URETPROBE:
          return {
            ...base,
            ...(named === undefined ? {} : { fileName: named }),
            offset: u32(F['perf_event.uprobe.offset']),
            cookie: u64(F['perf_event.uprobe.cookie']),
          };
        case BPF_PERF_EVENT_KPROBE:
        case BPF_PERF_EVENT_KRETPROBE:
          return {
            ...base,
            ...(named === undefined ? {} : { functionName: named }),
            offset: u32(F['perf_event.kprobe.offset']),
            address: u64(F['perf_event.kprobe.addr']),
            missed: u64(F['perf_event.kprobe.missed']),
            cookie: u64(F['perf_event.kprobe.cookie']),
          };
        case BPF_PERF_EVENT_TRACEPOINT:
          return {
            ...base,
            ...(named === undefined ? {} : { tpName: named }),
            cookie: u64(F['perf_event.tracepoint.cookie']),
          };
        case 6: // BPF_PERF_EVENT_EVENT
          return {
            ...base,
            config: u64(F['perf_event.event.config']),
            eventType: u32(F['perf_event.event.type']),
            cookie: u64(F['perf_event.event.cookie']),
          };
        default:
          return base;
      }
    }
    case 'kprobe_multi':
      return {
        id,
        type,
        programId,
        count: u32(F['kprobe_multi.count']),
        flags: u32(F['kprobe_multi.flags']),
        missed: u64(F['kprobe_multi.missed']),
      };
    case 'uprobe_multi':
      return {
        id,
        type,
        programId,
        count: u32(F['uprobe_multi.count']),
        flags: u32(F['uprobe_multi.flags']),
        pid: u32(F['uprobe_multi.pid']),
      };
    case 'sockmap':
      return {
        id,
        type,
        programId,
        mapId: u32(F['sockmap.map_id']),
        attachType: attachTypeName(u32(F['sockmap.attach_type'])),
      };
    case 'netfilter':
      return {
        id,
        type,
        programId,
        protocolFamily: u32(F['netfilter.pf']),
        hook: u32(F['netfilter.hooknum']),
        priority: readNumber(v, F['netfilter.priority']),
        flags: u32(F['netfilter.flags']),
      };
    case 'struct_ops':
      return { id, type, programId, mapId: u32(F['struct_ops.map_id']) };
    default:
      return { id, type, typeId, programId };
  }
}

// Where each named link type keeps its name pointer and the length of the buffer behind it.
type NameFields = readonly [ptr: FieldLayout, len: FieldLayout];
const UPROBE_NAME: NameFields = [F['perf_event.uprobe.file_name'], F['perf_event.uprobe.name_len']];
const KPROBE_NAME: NameFields = [F['perf_event.kprobe.func_name'], F['perf_event.kprobe.name_len']];
const PERF_NAME: Readonly<Record<number, NameFields>> = {
  [BPF_PERF_EVENT_UPROBE]: UPROBE_NAME,
  [BPF_PERF_EVENT_URETPROBE]: UPROBE_NAME,
  [BPF_PERF_EVENT_KPROBE]: KPROBE_NAME,
  [BPF_PERF_EVENT_KRETPROBE]: KPROBE_NAME,
  [BPF_PERF_EVENT_TRACEPOINT]: [F['perf_event.tracepoint.tp_name'], F['perf_event.tracepoint.name_len']],
};

// A perf_event link's name is a kernel function (KSYM_NAME_LEN 512), a tracepoint or a file path
// (PATH_MAX 4096), and the kernel does not say its length without copying it: bpftool passes a
// PATH_MAX buffer, and so does this; ENOSPC (truncated) gets one retry with a larger one.
const PERF_NAME_SIZES = [4096, 65536] as const;
const ENOSPC = 28;

/**
 * After a first info call into `buf` (view `v`, `infoLen` filled): the name string of a
 * raw_tracepoint (5.8+), iter (target name 5.9+) or perf_event link (6.6+), fetched the way
 * bpftool does with one more call (raw_tp/iter: a buffer of the length the kernel reported;
 * perf_event: PATH_MAX, once more on ENOSPC). `undefined` for other types or when the kernel
 * gives none. Leaves the name pointer cleared and the rest of `buf` as the last call wrote it.
 */
function fetchName(
  n: number,
  buf: Uint8Array,
  v: DataView,
  infoLen: number,
): { name: string | undefined; infoLen: number } {
  const type = readNumber(v, F.type);
  let fields: NameFields | undefined;
  let sizes: readonly number[];
  if (type === BPF_LINK_TYPE_RAW_TRACEPOINT || type === BPF_LINK_TYPE_ITER) {
    fields =
      type === BPF_LINK_TYPE_ITER
        ? [F['iter.target_name'], F['iter.target_name_len']]
        : [F['raw_tracepoint.tp_name'], F['raw_tracepoint.tp_name_len']];
    // Without a buffer the kernel reports the length (with the NUL); 0: it has no name to give.
    const len = fields[1].offset + 4 <= infoLen ? readNumber(v, fields[1]) : 0;
    if (len === 0) return { name: undefined, infoLen };
    sizes = [len];
  } else if (type === BPF_LINK_TYPE_PERF_EVENT && F['perf_event.type'].offset + 4 <= infoLen) {
    fields = PERF_NAME[readNumber(v, F['perf_event.type'])];
    sizes = PERF_NAME_SIZES;
  } else {
    return { name: undefined, infoLen };
  }
  if (fields === undefined) return { name: undefined, infoLen };
  const [ptr, lenField] = fields;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i] as number;
    const name = allocBytes(size);
    buf.fill(0);
    v.setBigUint64(ptr.offset, addressOf(name), true);
    v.setUint32(lenField.offset, size, true);
    try {
      infoLen = objGetInfoByFdUnchecked(n, buf);
    } catch (e) {
      buf.fill(0);
      if (BpfError.isInstance(e) && e.errno === ENOSPC && i + 1 < sizes.length) continue;
      throw e;
    }
    v.setBigUint64(ptr.offset, 0n, true);
    return { name: cString(name), infoLen };
  }
  return { name: undefined, infoLen }; // not reached: the last size rethrows
}

// The hot path (a netns link's info): one info buffer, its address set in the reused attr once.
let infoBytes: Uint8Array | undefined;
let infoView: DataView | undefined;
function allocInfo(): void {
  infoBytes = new Uint8Array(new ArrayBuffer(BpfLinkInfo.size));
  infoView = new DataView(infoBytes.buffer);
}

/**
 * The info of link fd `n`, decoded: one `BPF_OBJ_GET_INFO_BY_FD` into a preallocated buffer (two
 * for raw_tracepoint, iter and perf_event links, whose name string takes a second call). No
 * argument or fd-kind check: for callers that know `n` is a link (`link.info()`, `links()`).
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function linkInfoUnchecked(n: number): LinkInfo {
  return readLinkInfo(n, false);
}

/**
 * Info of a link fd (5.8+), decoded per link type ({@link LinkInfo}): one syscall, two for the
 * link types with a name string. Another kind of bpf object (the kernel answers for any) is
 * refused with `ERR_INVALID_ARG_VALUE`: checked with a readlink for non-netns link types, and for
 * netns links only when the answer is implausible (an attach type other than
 * flow_dissector/sk_lookup), so the netns hot path stays one syscall.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` if `fd` is a map, program or BTF object.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`); EINVAL if `fd` is not a link.
 */
export function linkGetInfo(fd: Fd | number): LinkInfo {
  // Fast path for a plain fd number; everything else goes through the full check.
  const n =
    typeof fd === 'number' && fd >= 0 && fd <= 0x7fffffff && fd === Math.floor(fd)
      ? fd
      : validateFd(fd, 'fd');
  return readLinkInfo(n, true);
}

// The info buffer: off the V8 heap (a stable address, looked up once) and all zero between calls:
// the kernel reads pointers from some link types' info (raw_tp, iter, perf_event), so stale bytes
// of an earlier answer must never reach it; every path below leaves it zero again.

const TYPE_AT = F.type.offset;
const ID_AT = F.id.offset;
const PROG_ID_AT = F.prog_id.offset;
const NS_INO_AT = F['netns.netns_ino'].offset;
const NS_ATTACH_AT = F['netns.attach_type'].offset;
const NETNS_FLOW_DISSECTOR = attachTypeName(BPF_FLOW_DISSECTOR);
const NETNS_SK_LOOKUP = attachTypeName(BPF_SK_LOOKUP);

function readLinkInfo(n: number, checkKind: boolean): LinkInfo {
  if (infoBytes === undefined) allocInfo();
  const buf = infoBytes as Uint8Array;
  const v = infoView as DataView;
  try {
    const infoLen = objGetInfoByFdUnchecked(n, buf);
    const type = v.getUint32(TYPE_AT, true);
    if (type === BPF_LINK_TYPE_NETNS) {
      // The hot path (a netns link's info): offsets resolved once, the two attach type names
      // interned. Not one of the netns attach types: probably not a link at all (a map or
      // program whose info reads as type 5): a typed error before anyone trusts the answer.
      const at = v.getUint32(NS_ATTACH_AT, true);
      const attachType =
        at === BPF_SK_LOOKUP ? NETNS_SK_LOOKUP : at === BPF_FLOW_DISSECTOR ? NETNS_FLOW_DISSECTOR : undefined;
      if (checkKind && attachType === undefined) checkFdKind(n, 'link', 'fd');
      return {
        id: v.getUint32(ID_AT, true),
        type: 'netns',
        programId: v.getUint32(PROG_ID_AT, true),
        netnsInode: v.getUint32(NS_INO_AT, true),
        attachType: attachType ?? attachTypeName(at),
      };
    }
    // Off the netns hot path: make sure `fd` is a link before decoding another type's fields or
    // giving the kernel a name pointer (a program's info has output pointers at those offsets).
    if (checkKind) checkFdKind(n, 'link', 'fd');
    const named =
      type === BPF_LINK_TYPE_RAW_TRACEPOINT ||
      type === BPF_LINK_TYPE_ITER ||
      type === BPF_LINK_TYPE_PERF_EVENT
        ? fetchName(n, buf, v, infoLen).name
        : undefined;
    return decodeLinkInfo(v, named);
  } finally {
    buf.fill(0);
  }
}

/** What {@link linkGetInfoWithName} returns. */
export interface LinkInfoWithName {
  /** The `info_len` the kernel wrote into the caller's buffer. */
  infoLen: number;
  /** The link's name string (see {@link LinkInfo}); `undefined` for other link types or none. */
  name: string | undefined;
}

/**
 * `BPF_OBJ_GET_INFO_BY_FD` for a link into the caller's `info` (zeroed first), plus the link's
 * name string for raw_tracepoint, iter and perf_event links, fetched as {@link linkGetInfo}
 * does. The name pointer is cleared from `info` before returning.
 * @deprecated Use {@link linkGetInfo}, which decodes every link type, names included.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` if `fd` is a program, map or BTF object.
 * @throws RangeError `ERR_OUT_OF_RANGE` if `info` is smaller than `struct bpf_link_info`.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`).
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
  checkFdKind(n, 'link', 'fd');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf.fill(0);
  return fetchName(n, buf, view, objGetInfoByFdUnchecked(n, buf));
}

/**
 * The kernel's link type number of link fd `n` (one info call, nothing decoded): what the object
 * layer needs to pick a link's subclass. No checks.
 * @throws BpfError (`command: 'BPF_OBJ_GET_INFO_BY_FD'`).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function linkTypeUnchecked(n: number): number {
  if (infoBytes === undefined) allocInfo();
  const buf = infoBytes as Uint8Array;
  try {
    objGetInfoByFdUnchecked(n, buf);
    return readNumber(infoView as DataView, F.type);
  } finally {
    buf.fill(0);
  }
}
