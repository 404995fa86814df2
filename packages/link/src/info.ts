/**
 * Decoding `struct bpf_link_info` (every link type of the synced UAPI headers) and
 * `struct bpf_prog_info` into plain objects, using the generated layouts of `@bpfjs/uapi`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { BpfLinkInfo, BpfProgInfo } from '@bpfjs/uapi';
import { attachTypeName, linkTypeName, progTypeName } from './names.js';

type Layout = {
  readonly fields: Readonly<Record<string, { readonly offset: number; readonly size: number }>>;
};

/** Offsets of a layout's fields, -1 for a field the headers do not have. */
function offsets<K extends string>(layout: Layout, names: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const n of names) out[n] = layout.fields[n]?.offset ?? -1;
  return out;
}

const LINK_FIELDS = [
  'type',
  'id',
  'prog_id',
  'raw_tracepoint.tp_name',
  'raw_tracepoint.tp_name_len',
  'raw_tracepoint.cookie',
  'tracing.attach_type',
  'tracing.target_obj_id',
  'tracing.target_btf_id',
  'tracing.cookie',
  'cgroup.cgroup_id',
  'cgroup.attach_type',
  'iter.target_name',
  'iter.target_name_len',
  'iter.map.map_id',
  'iter.cgroup.cgroup_id',
  'iter.cgroup.order',
  'iter.task.tid',
  'iter.task.pid',
  'netns.netns_ino',
  'netns.attach_type',
  'xdp.ifindex',
  'struct_ops.map_id',
  'netfilter.pf',
  'netfilter.hooknum',
  'netfilter.priority',
  'netfilter.flags',
  'kprobe_multi.addrs',
  'kprobe_multi.count',
  'kprobe_multi.flags',
  'kprobe_multi.missed',
  'kprobe_multi.cookies',
  'uprobe_multi.path',
  'uprobe_multi.offsets',
  'uprobe_multi.ref_ctr_offsets',
  'uprobe_multi.cookies',
  'uprobe_multi.path_size',
  'uprobe_multi.count',
  'uprobe_multi.flags',
  'uprobe_multi.pid',
  'perf_event.type',
  'perf_event.uprobe.file_name',
  'perf_event.uprobe.name_len',
  'perf_event.uprobe.offset',
  'perf_event.uprobe.cookie',
  'perf_event.uprobe.ref_ctr_offset',
  'perf_event.kprobe.func_name',
  'perf_event.kprobe.name_len',
  'perf_event.kprobe.offset',
  'perf_event.kprobe.addr',
  'perf_event.kprobe.missed',
  'perf_event.kprobe.cookie',
  'perf_event.tracepoint.tp_name',
  'perf_event.tracepoint.name_len',
  'perf_event.tracepoint.cookie',
  'perf_event.event.config',
  'perf_event.event.type',
  'perf_event.event.cookie',
  'tcx.ifindex',
  'tcx.attach_type',
  'netkit.ifindex',
  'netkit.attach_type',
  'sockmap.map_id',
  'sockmap.attach_type',
] as const;

type LinkField = (typeof LINK_FIELDS)[number];
let L: Record<LinkField, number> | undefined;

/** @internal The offsets of `struct bpf_link_info`, -1 where the headers lack a field. */
export function linkOffsets(): Record<LinkField, number> {
  L ??= offsets(BpfLinkInfo as unknown as Layout, LINK_FIELDS);
  return L;
}

/** @internal `sizeof(struct bpf_link_info)` of the synced headers. */
export function linkInfoSize(): number {
  return (BpfLinkInfo as unknown as { size: number }).size;
}

// ------------------------------------------------------------------------------------------------
// Link info types

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

/** What `link.info()` returns: a union discriminated by `type` (bpftool's link type name). */
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

/** The shape of sys's `linkGetInfo()` result that this module maps (a structural subset). */
export interface SysLinkInfo {
  readonly type: number;
  readonly id: number;
  readonly progId: number;
  readonly netns?: { readonly netnsIno: number; readonly attachType: number } | undefined;
  readonly cgroup?: { readonly cgroupId: bigint; readonly attachType: number } | undefined;
  readonly xdp?: { readonly ifindex: number } | undefined;
  readonly tcx?: { readonly ifindex: number; readonly attachType: number } | undefined;
  readonly netkit?: { readonly ifindex: number; readonly attachType: number } | undefined;
  readonly structOps?: { readonly mapId: number } | undefined;
  readonly sockmap?: { readonly mapId: number; readonly attachType: number } | undefined;
}

/**
 * Maps the link types sys's preallocated `linkGetInfo()` decodes (netns, cgroup, xdp, tcx,
 * netkit, struct_ops, sockmap) to `LinkInfo`; `undefined` for the others, which need the full
 * `struct bpf_link_info` ({@link decodeLinkInfo}). @internal
 */
export function fromSysLinkInfo(i: SysLinkInfo): LinkInfo | undefined {
  const id = i.id;
  const programId = i.progId;
  if (i.netns !== undefined) {
    return {
      id,
      type: 'netns',
      programId,
      netnsInode: i.netns.netnsIno,
      attachType: attachTypeName(i.netns.attachType),
    };
  }
  if (i.xdp !== undefined) return { id, type: 'xdp', programId, ifindex: i.xdp.ifindex };
  if (i.tcx !== undefined) {
    return {
      id,
      type: 'tcx',
      programId,
      ifindex: i.tcx.ifindex,
      attachType: attachTypeName(i.tcx.attachType),
    };
  }
  if (i.netkit !== undefined) {
    return {
      id,
      type: 'netkit',
      programId,
      ifindex: i.netkit.ifindex,
      attachType: attachTypeName(i.netkit.attachType),
    };
  }
  if (i.cgroup !== undefined) {
    return {
      id,
      type: 'cgroup',
      programId,
      cgroupId: i.cgroup.cgroupId,
      attachType: attachTypeName(i.cgroup.attachType),
    };
  }
  if (i.structOps !== undefined) return { id, type: 'struct_ops', programId, mapId: i.structOps.mapId };
  if (i.sockmap !== undefined) {
    return {
      id,
      type: 'sockmap',
      programId,
      mapId: i.sockmap.mapId,
      attachType: attachTypeName(i.sockmap.attachType),
    };
  }
  return undefined;
}

function u32(dv: DataView, off: number): number {
  return off < 0 ? 0 : dv.getUint32(off, true);
}
function s32(dv: DataView, off: number): number {
  return off < 0 ? 0 : dv.getInt32(off, true);
}
function u64(dv: DataView, off: number): bigint {
  return off < 0 ? 0n : dv.getBigUint64(off, true);
}
function optU64(dv: DataView, off: number): bigint | undefined {
  return off < 0 ? undefined : dv.getBigUint64(off, true);
}

/**
 * Decodes a filled `struct bpf_link_info` (at offset 0 of `dv`); `name` is the link's name
 * string fetched separately (sys `linkGetInfoWithName`) for raw_tracepoint, iter and perf_event
 * links. @internal
 */
export function decodeLinkInfo(dv: DataView, name?: string): LinkInfo {
  const o = linkOffsets();
  const typeId = u32(dv, o.type);
  const id = u32(dv, o.id);
  const programId = u32(dv, o.prog_id);
  const type = linkTypeName(typeId);
  switch (type) {
    case 'netns':
      return {
        id,
        type,
        programId,
        netnsInode: u32(dv, o['netns.netns_ino']),
        attachType: attachTypeName(u32(dv, o['netns.attach_type'])),
      };
    case 'xdp':
      return { id, type, programId, ifindex: u32(dv, o['xdp.ifindex']) };
    case 'tcx':
      return {
        id,
        type,
        programId,
        ifindex: u32(dv, o['tcx.ifindex']),
        attachType: attachTypeName(u32(dv, o['tcx.attach_type'])),
      };
    case 'netkit':
      return {
        id,
        type,
        programId,
        ifindex: u32(dv, o['netkit.ifindex']),
        attachType: attachTypeName(u32(dv, o['netkit.attach_type'])),
      };
    case 'cgroup':
      return {
        id,
        type,
        programId,
        cgroupId: u64(dv, o['cgroup.cgroup_id']),
        attachType: attachTypeName(u32(dv, o['cgroup.attach_type'])),
      };
    case 'tracing': {
      const cookie = optU64(dv, o['tracing.cookie']);
      return {
        id,
        type,
        programId,
        attachType: attachTypeName(u32(dv, o['tracing.attach_type'])),
        targetObjectId: u32(dv, o['tracing.target_obj_id']),
        targetBtfId: u32(dv, o['tracing.target_btf_id']),
        ...(cookie === undefined ? {} : { cookie }),
      };
    }
    case 'raw_tracepoint': {
      const cookie = optU64(dv, o['raw_tracepoint.cookie']);
      return {
        id,
        type,
        programId,
        tpName: name ?? '',
        ...(cookie === undefined ? {} : { cookie }),
      };
    }
    case 'iter':
      return { id, type, programId, targetName: name ?? '', mapId: u32(dv, o['iter.map.map_id']) };
    case 'perf_event': {
      const perfEventType = u32(dv, o['perf_event.type']);
      const base = { id, type, programId, perfEventType } as const;
      // A name only where the kernel gave a non-empty one (a kprobe by address has none).
      const named = name === undefined || name === '' ? undefined : name;
      switch (perfEventType) {
        case 1:
        case 2:
          return {
            ...base,
            ...(named === undefined ? {} : { fileName: named }),
            offset: u32(dv, o['perf_event.uprobe.offset']),
            cookie: u64(dv, o['perf_event.uprobe.cookie']),
          };
        case 3:
        case 4:
          return {
            ...base,
            ...(named === undefined ? {} : { functionName: named }),
            offset: u32(dv, o['perf_event.kprobe.offset']),
            address: u64(dv, o['perf_event.kprobe.addr']),
            missed: u64(dv, o['perf_event.kprobe.missed']),
            cookie: u64(dv, o['perf_event.kprobe.cookie']),
          };
        case 5:
          return {
            ...base,
            ...(named === undefined ? {} : { tpName: named }),
            cookie: u64(dv, o['perf_event.tracepoint.cookie']),
          };
        case 6:
          return {
            ...base,
            config: u64(dv, o['perf_event.event.config']),
            eventType: u32(dv, o['perf_event.event.type']),
            cookie: u64(dv, o['perf_event.event.cookie']),
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
        count: u32(dv, o['kprobe_multi.count']),
        flags: u32(dv, o['kprobe_multi.flags']),
        missed: u64(dv, o['kprobe_multi.missed']),
      };
    case 'uprobe_multi':
      return {
        id,
        type,
        programId,
        count: u32(dv, o['uprobe_multi.count']),
        flags: u32(dv, o['uprobe_multi.flags']),
        pid: u32(dv, o['uprobe_multi.pid']),
      };
    case 'sockmap':
      return {
        id,
        type,
        programId,
        mapId: u32(dv, o['sockmap.map_id']),
        attachType: attachTypeName(u32(dv, o['sockmap.attach_type'])),
      };
    case 'netfilter':
      return {
        id,
        type,
        programId,
        protocolFamily: u32(dv, o['netfilter.pf']),
        hook: u32(dv, o['netfilter.hooknum']),
        priority: s32(dv, o['netfilter.priority']),
        flags: u32(dv, o['netfilter.flags']),
      };
    case 'struct_ops':
      return { id, type, programId, mapId: u32(dv, o['struct_ops.map_id']) };
    default:
      return { id, type, typeId, programId };
  }
}

// ------------------------------------------------------------------------------------------------
// Program info

const PROG_FIELDS = [
  'type',
  'id',
  'tag',
  'jited_prog_len',
  'xlated_prog_len',
  'load_time',
  'created_by_uid',
  'nr_map_ids',
  'name',
  'ifindex',
  'gpl_compatible',
  'netns_dev',
  'netns_ino',
  'btf_id',
  'run_time_ns',
  'run_cnt',
  'recursion_misses',
  'verified_insns',
  'attach_btf_obj_id',
  'attach_btf_id',
] as const;
type ProgField = (typeof PROG_FIELDS)[number];
let P: Record<ProgField, number> | undefined;
let gplBit: { offset: number; bit: number } | undefined;

/** @internal */
export function progOffsets(): Record<ProgField, number> {
  if (P === undefined) {
    P = offsets(BpfProgInfo as unknown as Layout, PROG_FIELDS);
    const f = (
      BpfProgInfo as unknown as { fields: Record<string, { offset: number; bitOffset?: number } | undefined> }
    ).fields.gpl_compatible;
    if (f !== undefined) {
      const bitOffset = f.bitOffset ?? f.offset * 8;
      gplBit = { offset: Math.floor(bitOffset / 8), bit: bitOffset % 8 };
    }
  }
  return P;
}

/** @internal `sizeof(struct bpf_prog_info)`. */
export function progInfoSize(): number {
  return (BpfProgInfo as unknown as { size: number }).size;
}

/** What `program.info()` and `programs()` return. */
export interface ProgramInfo {
  /** The program's id (system-wide). */
  readonly id: number;
  /** bpftool's name of the program type, e.g. `'flow_dissector'`. */
  readonly type: string;
  /** The kernel's program type number. */
  readonly typeId: number;
  /** The program name given at load (up to 15 characters), `''` if none. */
  readonly name: string;
  /** The program tag: a hash of the instructions, 16 hex digits (as bpftool prints it). */
  readonly tag: string;
  /** When it was loaded (from the kernel's boot-time nanoseconds; accurate to ~10 ms). */
  readonly loadedAt: Date;
  /** The kernel's `load_time`: nanoseconds since boot. */
  readonly loadTimeNs: bigint;
  /** The uid that loaded it. */
  readonly createdByUid: number;
  /** Whether the license is GPL-compatible. */
  readonly gplCompatible: boolean;
  /** Number of maps the program uses. */
  readonly mapCount: number;
  /** Size of the translated and of the JITed program, in bytes. */
  readonly xlatedSize: number;
  readonly jitedSize: number;
  /** Verified instructions (Linux 5.16+), 0 if not reported. */
  readonly verifiedInstructions: number;
  /** BTF object id, 0 if none. */
  readonly btfId: number;
  /** Run statistics (counted while `BPF_ENABLE_STATS` is on). */
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
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

/** Decodes a filled `struct bpf_prog_info` at offset 0 of `dv`. @internal */
export function decodeProgInfo(dv: DataView): ProgramInfo {
  const o = progOffsets();
  const typeId = u32(dv, o.type);
  let tag = '';
  if (o.tag >= 0) for (let i = 0; i < 8; i++) tag += HEX[dv.getUint8(o.tag + i)];
  let name = '';
  if (o.name >= 0) {
    for (let i = 0; i < 16; i++) {
      const c = dv.getUint8(o.name + i);
      if (c === 0) break;
      name += String.fromCharCode(c);
    }
  }
  const loadTimeNs = u64(dv, o.load_time);
  let gplCompatible = false;
  if (gplBit !== undefined) gplCompatible = ((dv.getUint8(gplBit.offset) >> gplBit.bit) & 1) === 1;
  return {
    id: u32(dv, o.id),
    type: progTypeName(typeId),
    typeId,
    name,
    tag,
    loadedAt: new Date(Math.round(bootTimeMs() + Number(loadTimeNs / 1000n) / 1000)),
    loadTimeNs,
    createdByUid: u32(dv, o.created_by_uid),
    gplCompatible,
    mapCount: u32(dv, o.nr_map_ids),
    xlatedSize: u32(dv, o.xlated_prog_len),
    jitedSize: u32(dv, o.jited_prog_len),
    verifiedInstructions: u32(dv, o.verified_insns),
    btfId: u32(dv, o.btf_id),
    runTimeNs: u64(dv, o.run_time_ns),
    runCount: u64(dv, o.run_cnt),
    recursionMisses: u64(dv, o.recursion_misses),
  };
}
