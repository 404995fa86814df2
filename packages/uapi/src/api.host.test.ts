// The public surface as CONTRACTS.md and the README describe it, values and types.

import { describe, expect, expectTypeOf, it } from 'vitest';
import { BPF_ALU64 } from './generated/linux/bpf.js';
import { BPF_JMP } from './generated/linux/bpf_common.js';
import * as uapi from './index.js';
import {
  BPF_CGROUP_INET_INGRESS,
  BPF_F_REPLACE,
  BPF_FLOW_DISSECTOR,
  BPF_LINK_CREATE,
  BpfAttr,
  BpfInsn,
  BpfLinkInfo,
  type BpfLinkInfoField,
  type BpfLinkInfoValues,
  bpf_attach_type,
  bpf_attach_type_name,
  bpf_cmd_name,
  bpf_link_type_name,
  bpf_map_type_name,
  bpf_prog_type_name,
  LinkCreateAttr,
  offsetofend,
  UAPI_VERSION,
  XDP_FLAGS_SKB_MODE,
} from './index.js';

describe('@bpfjs/uapi surface', () => {
  it('has constants under their C names', () => {
    expect(BPF_LINK_CREATE).toBe(28);
    expect(BPF_FLOW_DISSECTOR).toBe(17);
    expect(BPF_F_REPLACE).toBe(4);
    expect(XDP_FLAGS_SKB_MODE).toBe(2);
    expect(BPF_CGROUP_INET_INGRESS).toBe(0);
    expect([BPF_JMP, BPF_ALU64]).toEqual([5, 7]);
    expect(bpf_attach_type.BPF_FLOW_DISSECTOR).toBe(17);
    expectTypeOf(bpf_attach_type.BPF_FLOW_DISSECTOR).toEqualTypeOf<17>();
  });

  it('has the printing maps bpftool uses', () => {
    expect(bpf_attach_type_name[17]).toBe('flow_dissector');
    expect(bpf_prog_type_name[22]).toBe('flow_dissector');
    expect(bpf_link_type_name[5]).toBe('netns');
    expect(bpf_map_type_name[15]).toBe('sockmap');
    expect(bpf_map_type_name[19]).toBe('cgroup_storage');
    expect(bpf_cmd_name[28]).toBe('link_create');
  });

  it('has flat layouts with absolute offsets', () => {
    expect(BpfLinkInfo.name).toBe('struct bpf_link_info');
    expect(BpfLinkInfo.fields['netns.netns_ino']).toEqual({ offset: 16, size: 4, kind: 'u32' });
    expect(BpfLinkInfo.fields.netns).toEqual({ offset: 16, size: 8, kind: 'struct' });
    expect(LinkCreateAttr.fields.target_fd.offset).toBe(LinkCreateAttr.fields.target_ifindex.offset);
    expect(offsetofend(LinkCreateAttr, 'flags')).toBe(16);
    expect(BpfAttr.size).toBe(168);
    expect(BpfInsn.fields.dst_reg).toEqual({ offset: 1, size: 1, kind: 'u8', bitOffset: 8, bitWidth: 4 });
    expect(() => offsetofend(BpfInsn, 'nope' as 'code')).toThrow(RangeError);
    expectTypeOf<'netns.netns_ino'>().toMatchTypeOf<BpfLinkInfoField>();
    expectTypeOf<BpfLinkInfoValues['prog_id']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<BpfLinkInfoValues['tracing.cookie']>().toEqualTypeOf<bigint | undefined>();
    expectTypeOf<BpfLinkInfoValues>().not.toHaveProperty('netns');
  });

  it('exports the version from the index, and no BTF reader (it lives in @bpfjs/btf)', () => {
    expect(UAPI_VERSION).toMatch(/^7\.\d+\.\d+$/);
    expect('Btf' in uapi).toBe(false);
    expect(uapi.UAPI_HEADER_SHA256['linux/bpf.h']).toMatch(/^[0-9a-f]{64}$/);
  });
});
