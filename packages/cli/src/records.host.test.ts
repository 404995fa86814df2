import { describe, expect, it } from 'vitest';
import { parseSelector } from './context.js';
import { UsageError } from './errors.js';
import { attachmentsOf, deviceName, linkDetails, linkRecord, programRecord } from './records.js';

describe('linkRecord', () => {
  it("maps a netns link to bpftool's fields, in bpftool's order", () => {
    const r = linkRecord({
      id: 7,
      type: 'netns',
      programId: 42,
      netnsInode: 4026532100,
      attachType: 'flow_dissector',
    });
    expect(r).toEqual({
      id: 7,
      type: 'netns',
      prog_id: 42,
      netns_ino: 4026532100,
      attach_type: 'flow_dissector',
    });
    expect(Object.keys(r)).toEqual(['id', 'type', 'prog_id', 'netns_ino', 'attach_type']);
    expect(linkDetails(r)).toBe('netns_ino 4026532100');
  });
  it('marks a defunct netns link in the details', () => {
    const r = linkRecord({ id: 7, type: 'netns', programId: 42, netnsInode: 0, attachType: 'sk_lookup' });
    expect(linkDetails(r)).toContain('defunct');
  });
  it("names raw tracepoint, iterator and perf event targets with bpftool's keys", () => {
    expect(linkRecord({ id: 3, type: 'raw_tracepoint', programId: 4, tpName: 'sys_enter' })).toEqual({
      id: 3,
      type: 'raw_tracepoint',
      prog_id: 4,
      tp_name: 'sys_enter',
    });
    expect(linkRecord({ id: 3, type: 'iter', programId: 4, targetName: 'task', mapId: 0 })).toEqual({
      id: 3,
      type: 'iter',
      prog_id: 4,
      target_name: 'task',
      map_id: 0,
    });
    const kprobe = linkRecord({
      id: 3,
      type: 'perf_event',
      programId: 4,
      perfEventType: 3,
      functionName: 'do_sys_openat2',
      offset: 0,
      address: 0xffffffff81000000n,
    });
    expect(kprobe).toMatchObject({ func: 'do_sys_openat2', offset: 0, addr: 0xffffffff81000000n });
    expect(Object.keys(kprobe).slice(0, 4)).toEqual(['id', 'type', 'prog_id', 'func']);
    expect(
      linkRecord({ id: 3, type: 'perf_event', programId: 4, perfEventType: 1, fileName: '/bin/true' }),
    ).toMatchObject({
      file: '/bin/true',
    });
    expect(
      linkRecord({ id: 3, type: 'perf_event', programId: 4, perfEventType: 5, tpName: 'sched_switch' }),
    ).toMatchObject({ tracepoint: 'sched_switch' });
  });
  it('adds devname beside ifindex like bpftool', () => {
    const r = linkRecord({ id: 1, type: 'xdp', programId: 2, ifindex: 1 });
    expect(r).toEqual({ id: 1, type: 'xdp', prog_id: 2, devname: 'lo', ifindex: 1 });
    expect(deviceName(0)).toBe('(detached)');
  });
  it('keeps 64-bit cgroup ids as bigints and renames the rest', () => {
    const r = linkRecord({
      id: 1,
      type: 'cgroup',
      programId: 2,
      cgroupId: 1n << 60n,
      attachType: 'cgroup_inet_ingress',
    });
    expect(r.cgroup_id).toBe(1n << 60n);
    const t = linkRecord({
      id: 1,
      type: 'tracing',
      programId: 2,
      attachType: 'trace_fentry',
      targetObjectId: 3,
      targetBtfId: 4,
      cookie: 0n,
    });
    expect(t).toMatchObject({ target_obj_id: 3, target_btf_id: 4, cookie: 0n });
    const n = linkRecord({
      id: 1,
      type: 'netfilter',
      programId: 2,
      protocolFamily: 2,
      hook: 1,
      priority: -100,
      flags: 0,
    });
    expect(n).toMatchObject({ pf: 2, hook: 1, prio: -100, flags: 0 });
  });
  it('prints an undecoded link type as its number, like bpftool', () => {
    expect(linkRecord({ id: 1, type: 'unknown(99)', typeId: 99, programId: 2 })).toEqual({
      id: 1,
      type: 99,
      prog_id: 2,
    });
  });
});

describe('programRecord', () => {
  it("maps program info to bpftool's fields", () => {
    const loadedAt = new Date('2026-01-02T03:04:05.600Z');
    const r = programRecord({
      id: 5,
      type: 'flow_dissector',
      typeId: 22,
      name: 'demo',
      tag: '0123456789abcdef',
      loadedAt,
      loadTimeNs: 1n,
      createdByUid: 0,
      gplCompatible: true,
      mapCount: 0,
      xlatedSize: 16,
      jitedSize: 20,
      verifiedInstructions: 2,
      btfId: 0,
      runTimeNs: 0n,
      runCount: 0n,
      recursionMisses: 0n,
    });
    expect(r).toEqual({
      id: 5,
      type: 'flow_dissector',
      name: 'demo',
      tag: '0123456789abcdef',
      gpl_compatible: true,
      loaded_at: Math.floor(loadedAt.getTime() / 1000),
      uid: 0,
      bytes_xlated: 16,
      jited: true,
      bytes_jited: 20,
      verified_insns: 2,
    });
  });
});

describe('attachmentsOf', () => {
  it('pairs program ids with the links that hold them; the rest are direct', () => {
    const links = [
      { id: 10, type: 'netns', prog_id: 1 },
      { id: 11, type: 'netns', prog_id: 1 },
    ];
    expect(attachmentsOf([1, 1, 2], links)).toEqual([
      { id: 1, attach: 'link', link_id: 10 },
      { id: 1, attach: 'link', link_id: 11 },
      { id: 2, attach: 'prog' },
    ]);
  });
});

describe('parseSelector', () => {
  it('reads digits as an id and anything else as a path', () => {
    expect(parseSelector('17', '<link>')).toEqual({ kind: 'id', id: 17 });
    expect(parseSelector('/sys/fs/bpf/x', '<link>')).toEqual({ kind: 'path', path: '/sys/fs/bpf/x' });
    expect(parseSelector('rel', '<link>')).toEqual({ kind: 'path', path: `${process.cwd()}/rel` });
  });
  it('refuses ids out of range and empty strings', () => {
    expect(() => parseSelector('0', '<link>')).toThrow(UsageError);
    expect(() => parseSelector('4294967296', '<link>')).toThrow(/out of range/);
    expect(() => parseSelector('', '<link>')).toThrow(UsageError);
  });
});
