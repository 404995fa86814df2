/**
 * Decoding of `struct bpf_link_info` for link types the kernel tests cannot create cheaply:
 * synthetic buffers written through the generated layout of `@bpfjs/uapi`, read back by
 * `decodeLinkInfo`.
 */
import { BpfLinkInfo, bpf_attach_type, bpf_link_type } from '@bpfjs/uapi';
import { describe, expect, it } from 'vitest';
import { decodeLinkInfo } from './link-info.js';

type Fields = Record<string, { offset: number; size: number }>;
const F = BpfLinkInfo.fields as unknown as Fields;

function info(type: number, values: Record<string, number | bigint>): DataView {
  const dv = new DataView(new ArrayBuffer(BpfLinkInfo.size));
  dv.setUint32(F.type!.offset, type, true);
  dv.setUint32(F.id!.offset, 42, true);
  dv.setUint32(F.prog_id!.offset, 7, true);
  for (const [name, v] of Object.entries(values)) {
    const f = F[name];
    if (f === undefined) throw new Error(`no field ${name}`);
    if (f.size === 8) dv.setBigUint64(f.offset, BigInt(v), true);
    else dv.setUint32(f.offset, Number(v) >>> 0, true);
  }
  return dv;
}

const T = bpf_link_type;
const base = { id: 42, programId: 7 };

describe('decodeLinkInfo', () => {
  it('netns', () => {
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_NETNS, {
          'netns.netns_ino': 4026532000,
          'netns.attach_type': bpf_attach_type.BPF_SK_LOOKUP,
        }),
      ),
    ).toEqual({ ...base, type: 'netns', netnsInode: 4026532000, attachType: 'sk_lookup' });
  });

  it('sockmap, struct_ops, netfilter', () => {
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_SOCKMAP, {
          'sockmap.map_id': 9,
          'sockmap.attach_type': bpf_attach_type.BPF_SK_SKB_VERDICT,
        }),
      ),
    ).toEqual({ ...base, type: 'sockmap', mapId: 9, attachType: 'sk_skb_verdict' });
    expect(decodeLinkInfo(info(T.BPF_LINK_TYPE_STRUCT_OPS, { 'struct_ops.map_id': 3 }))).toEqual({
      ...base,
      type: 'struct_ops',
      mapId: 3,
    });
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_NETFILTER, {
          'netfilter.pf': 2,
          'netfilter.hooknum': 1,
          'netfilter.priority': -100,
          'netfilter.flags': 0,
        }),
      ),
    ).toEqual({ ...base, type: 'netfilter', protocolFamily: 2, hook: 1, priority: -100, flags: 0 });
  });

  it('kprobe_multi, uprobe_multi, tracing, perf_event (kprobe), iter', () => {
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_KPROBE_MULTI, {
          'kprobe_multi.count': 3,
          'kprobe_multi.flags': 1,
          'kprobe_multi.missed': 5n,
        }),
      ),
    ).toEqual({ ...base, type: 'kprobe_multi', count: 3, flags: 1, missed: 5n });
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_UPROBE_MULTI, {
          'uprobe_multi.count': 2,
          'uprobe_multi.flags': 0,
          'uprobe_multi.pid': 77,
        }),
      ),
    ).toEqual({ ...base, type: 'uprobe_multi', count: 2, flags: 0, pid: 77 });
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_TRACING, {
          'tracing.attach_type': bpf_attach_type.BPF_TRACE_FENTRY,
          'tracing.target_obj_id': 1,
          'tracing.target_btf_id': 500,
          'tracing.cookie': 9n,
        }),
      ),
    ).toEqual({
      ...base,
      type: 'tracing',
      attachType: 'trace_fentry',
      targetObjectId: 1,
      targetBtfId: 500,
      cookie: 9n,
    });
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_PERF_EVENT, {
          'perf_event.type': 3,
          'perf_event.kprobe.offset': 4,
          'perf_event.kprobe.addr': 0xffffffff81000000n,
          'perf_event.kprobe.missed': 0n,
          'perf_event.kprobe.cookie': 11n,
        }),
      ),
    ).toEqual({
      ...base,
      type: 'perf_event',
      perfEventType: 3,
      offset: 4,
      address: 0xffffffff81000000n,
      missed: 0n,
      cookie: 11n,
    });
    expect(decodeLinkInfo(info(T.BPF_LINK_TYPE_ITER, { 'iter.map.map_id': 12 }))).toEqual({
      ...base,
      type: 'iter',
      targetName: '',
      mapId: 12,
    });
  });

  it('names: raw_tracepoint tpName, iter targetName (with map id), perf_event names by event kind', () => {
    const rawTp = info(T.BPF_LINK_TYPE_RAW_TRACEPOINT, {
      'raw_tracepoint.tp_name_len': 10,
      'raw_tracepoint.cookie': 0x77n,
    });
    expect(decodeLinkInfo(rawTp, 'sys_enter')).toEqual({
      ...base,
      type: 'raw_tracepoint',
      tpName: 'sys_enter',
      cookie: 0x77n,
    });
    // No name fetched (none given): an empty string, never undefined.
    expect(decodeLinkInfo(rawTp)).toMatchObject({ type: 'raw_tracepoint', tpName: '' });
    expect(decodeLinkInfo(info(T.BPF_LINK_TYPE_ITER, { 'iter.map.map_id': 12 }), 'bpf_map_elem')).toEqual({
      ...base,
      type: 'iter',
      targetName: 'bpf_map_elem',
      mapId: 12,
    });
    expect(decodeLinkInfo(info(T.BPF_LINK_TYPE_ITER, {}), 'task')).toEqual({
      ...base,
      type: 'iter',
      targetName: 'task',
      mapId: 0,
    });
    // kprobe/kretprobe: functionName; uprobe/uretprobe: fileName; tracepoint: tpName.
    expect(
      decodeLinkInfo(info(T.BPF_LINK_TYPE_PERF_EVENT, { 'perf_event.type': 4 }), 'do_sys_open'),
    ).toMatchObject({
      perfEventType: 4,
      functionName: 'do_sys_open',
    });
    const uprobe = decodeLinkInfo(
      info(T.BPF_LINK_TYPE_PERF_EVENT, { 'perf_event.type': 1, 'perf_event.uprobe.offset': 0x1130 }),
      '/usr/lib/libc.so.6',
    );
    expect(uprobe).toEqual({
      ...base,
      type: 'perf_event',
      perfEventType: 1,
      fileName: '/usr/lib/libc.so.6',
      offset: 0x1130,
      cookie: 0n,
    });
    expect(
      decodeLinkInfo(
        info(T.BPF_LINK_TYPE_PERF_EVENT, { 'perf_event.type': 5, 'perf_event.tracepoint.cookie': 3n }),
        'sched_switch',
      ),
    ).toEqual({ ...base, type: 'perf_event', perfEventType: 5, tpName: 'sched_switch', cookie: 3n });
    // A kprobe by address has no name: the kernel gives '' and the key is left out.
    const byAddr = decodeLinkInfo(info(T.BPF_LINK_TYPE_PERF_EVENT, { 'perf_event.type': 3 }), '');
    expect(byAddr).not.toHaveProperty('functionName');
    // Perf events (type 6) and kernels before 6.6 (type 0) have no name field.
    expect(decodeLinkInfo(info(T.BPF_LINK_TYPE_PERF_EVENT, { 'perf_event.type': 0 }))).toEqual({
      ...base,
      type: 'perf_event',
      perfEventType: 0,
    });
  });

  it('a link type newer than bpfjs knows is reported with its number', () => {
    expect(decodeLinkInfo(info(999, {}))).toEqual({ ...base, type: 'unknown(999)', typeId: 999 });
  });
});
