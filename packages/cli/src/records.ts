/**
 * Turning the object API's info objects into bpftool-shaped records (JSON) and table rows.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { bpftoolName, escapeControl, type JsonValue, snakeObject } from './format.js';

/** A bpftool-shaped record: field name → JSON value. */
export type JsonRecord = { [key: string]: JsonValue | undefined };

/** The name of the interface with `ifindex` in this netns, as bpftool's `devname` prints it. */
export function deviceName(ifindex: number): string {
  if (ifindex === 0) return '(detached)';
  try {
    for (const dev of readdirSync('/sys/class/net')) {
      try {
        if (Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8').trim()) === ifindex) return dev;
      } catch {
        // The device vanished between readdir and read: keep looking.
      }
    }
  } catch {
    // No sysfs: fall through.
  }
  return '(unknown)';
}

/** Per link type: object-API field → bpftool field, in bpftool's order. */
const LINK_FIELDS: Readonly<Record<string, ReadonlyArray<readonly [string, string]>>> = {
  netns: [
    ['netnsInode', 'netns_ino'],
    ['attachType', 'attach_type'],
  ],
  xdp: [['ifindex', 'ifindex']],
  tcx: [
    ['ifindex', 'ifindex'],
    ['attachType', 'attach_type'],
  ],
  netkit: [
    ['ifindex', 'ifindex'],
    ['attachType', 'attach_type'],
  ],
  cgroup: [
    ['cgroupId', 'cgroup_id'],
    ['attachType', 'attach_type'],
  ],
  tracing: [
    ['attachType', 'attach_type'],
    ['targetObjectId', 'target_obj_id'],
    ['targetBtfId', 'target_btf_id'],
  ],
  raw_tracepoint: [['tpName', 'tp_name']],
  iter: [
    ['targetName', 'target_name'],
    ['mapId', 'map_id'],
  ],
  struct_ops: [['mapId', 'map_id']],
  sockmap: [
    ['mapId', 'map_id'],
    ['attachType', 'attach_type'],
  ],
  netfilter: [
    ['protocolFamily', 'pf'],
    ['hook', 'hook'],
    ['priority', 'prio'],
    ['flags', 'flags'],
  ],
  kprobe_multi: [['count', 'func_cnt']],
  uprobe_multi: [
    ['count', 'func_cnt'],
    ['pid', 'pid'],
  ],
  perf_event: [
    ['functionName', 'func'],
    ['fileName', 'file'],
    ['tpName', 'tracepoint'],
    ['address', 'addr'],
    ['offset', 'offset'],
  ],
};

/**
 * A link's info (`link.info()` of @bpfjs/link) as bpftool prints it with `-j link show`: `id`,
 * `type`, `prog_id` first, then the type's fields under bpftool's names (`netns_ino`,
 * `attach_type`, `devname` + `ifindex`, `cgroup_id`, `tp_name`, `target_name`, `map_id`, `pf`,
 * `hook`, `prio`, ...). Fields bpftool does not print follow in snake_case. A link type the object
 * API does not decode prints its number as `type`, like bpftool.
 */
export function linkRecord(info: object): JsonRecord {
  const src = info as Record<string, unknown>;
  const type =
    typeof src.type === 'string' && src.type.startsWith('unknown(') && typeof src.typeId === 'number'
      ? src.typeId
      : src.type;
  const out: JsonRecord = { id: jsonOf(src.id), type: jsonOf(type), prog_id: jsonOf(src.programId) };
  const consumed = new Set(['id', 'type', 'programId', 'typeId']);
  const fields = typeof src.type === 'string' ? (LINK_FIELDS[src.type] ?? []) : [];
  for (const [from, to] of fields) {
    if (src[from] === undefined) continue;
    consumed.add(from);
    if (from === 'ifindex' && typeof src.ifindex === 'number') out.devname = deviceName(src.ifindex);
    out[to] = jsonOf(src[from]);
  }
  if (src.type === 'kprobe_multi' || src.type === 'uprobe_multi') {
    if (typeof src.flags === 'number') out.retprobe = (src.flags & 1) === 1;
  }
  for (const [k, v] of Object.entries(src)) {
    if (consumed.has(k)) continue;
    const value = jsonOf(v);
    if (value !== undefined) out[bpftoolName(k)] = value;
  }
  return out;
}

function jsonOf(v: unknown): JsonValue | undefined {
  const wrapped = snakeObject({ v });
  return wrapped.v;
}

/** Details of a link for the table's last column: `key value` pairs after the common columns. */
export function linkDetails(record: JsonRecord): string {
  const skip = new Set(['id', 'type', 'prog_id', 'attach_type', 'defunct']);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (skip.has(k) || v === undefined) continue;
    parts.push(`${k} ${plain(v)}`);
  }
  if (record.type === 'netns' && record.netns_ino === 0) parts.push('(defunct: netns gone or link detached)');
  return parts.join('  ');
}

/**
 * A program's info (`program.info()` of @bpfjs/link) as bpftool prints it with `-j prog show`:
 * `id`, `type`, `name` (when set), `tag`, `gpl_compatible`, `run_time_ns`/`run_cnt` (when
 * statistics ran), `recursion_misses` (when non-zero), `loaded_at` (seconds since the epoch), `uid`,
 * `bytes_xlated`, `jited`, `bytes_jited`, `btf_id` (when non-zero), `verified_insns`.
 */
export function programRecord(info: object): JsonRecord {
  const src = info as Record<string, unknown>;
  const out: JsonRecord = { id: jsonOf(src.id), type: jsonOf(src.type) };
  if (typeof src.name === 'string' && src.name !== '') out.name = src.name;
  out.tag = jsonOf(src.tag);
  out.gpl_compatible = jsonOf(src.gplCompatible);
  if (typeof src.runTimeNs === 'bigint' && src.runTimeNs > 0n) {
    out.run_time_ns = src.runTimeNs;
    out.run_cnt = jsonOf(src.runCount);
  }
  if (typeof src.recursionMisses === 'bigint' && src.recursionMisses > 0n)
    out.recursion_misses = src.recursionMisses;
  out.loaded_at = jsonOf(src.loadedAt);
  out.uid = jsonOf(src.createdByUid);
  out.bytes_xlated = jsonOf(src.xlatedSize);
  if (typeof src.jitedSize === 'number') out.jited = src.jitedSize > 0;
  out.bytes_jited = jsonOf(src.jitedSize);
  if (Array.isArray(src.mapIds) && src.mapIds.length > 0) out.map_ids = jsonOf(src.mapIds);
  if (typeof src.btfId === 'number' && src.btfId > 0) out.btf_id = src.btfId;
  if (typeof src.verifiedInstructions === 'number' && src.verifiedInstructions > 0) {
    out.verified_insns = src.verifiedInstructions;
  }
  return out;
}

/** A JSON value as plain text (`1 2 3` for arrays). */
export function plain(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return '-';
  if (Array.isArray(v)) return v.map((x) => plain(x)).join(',') || '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return escapeControl(String(v));
}

/** Formats epoch seconds as local ISO-8601 like bpftool's plain output (`2026-11-27T04:00:00+0000`). */
export function isoSeconds(seconds: unknown): string | undefined {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return undefined;
  const d = new Date(seconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    `${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`
  );
}

/** One program attached to a netns hook: bpftool's `id` (program id), and how it is attached. */
export interface Attachment {
  /** Program id (bpftool `net show` calls it `id`). */
  readonly id: number;
  /** `'link'` when a bpf_link holds it, `'prog'` when attached directly (BPF_PROG_ATTACH). */
  readonly attach: 'link' | 'prog';
  /** The link's id when `attach` is `'link'`. */
  readonly link_id?: number;
}

/** What is attached to one netns, per attach type. */
export interface NetNsRecord {
  /** The name under `/run/netns` (absent when the netns was given as a path). */
  readonly name?: string;
  /** The netns inode (`netns_ino` in link info); 0 when it could not be opened. */
  readonly netns_ino: number;
  /** Programs on the flow dissector hook. */
  readonly flow_dissector: Attachment[];
  /** Programs on the sk_lookup hook, in run order. */
  readonly sk_lookup: Attachment[];
  /** `path` when given as a path; `error` (`'<code>: <message>'`) when it could not be read. */
  readonly [key: string]: unknown;
}

/**
 * Pairs the program ids the kernel reports for a hook with the netns links on that hook: each
 * program held by a link is shown with the link's id, the rest are direct attachments.
 */
export function attachmentsOf(
  programIds: readonly number[],
  linkRecords: readonly JsonRecord[],
): Attachment[] {
  const unused = [...linkRecords];
  return programIds.map((id) => {
    const i = unused.findIndex((r) => r.prog_id === id);
    if (i < 0) return { id, attach: 'prog' as const };
    const [r] = unused.splice(i, 1);
    return { id, attach: 'link' as const, link_id: Number(r?.id) };
  });
}
