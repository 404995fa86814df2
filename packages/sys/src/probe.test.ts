import { release } from 'node:os';
import { requireKernel } from '@bpfjs/testkit';
import { describe, expect, it } from 'vitest';
import { UnsupportedFeatureError } from './errors.js';
import {
  haveAttachType,
  haveCommand,
  haveLinkType,
  haveProgType,
  minKernel,
  requireFeature,
  resetProbeCache,
} from './probe.js';
import { leakedSince, openFds } from './test/fds.js';

describe('probe input checks', () => {
  it('refuses names the headers do not know and bad numbers', () => {
    expect(() => haveCommand('BPF_NO_SUCH_CMD')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_UNKNOWN_NAME' }),
    );
    expect(() => haveProgType(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => haveAttachType({} as unknown as string)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    // A string that is not a kind is a bad value; a non-string a bad type.
    expect(() => requireFeature('nope' as 'command', 1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => requireFeature(7 as unknown as 'command', 1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('knows the minimum kernels of the netns link features', () => {
    expect(minKernel('command', 'BPF_LINK_CREATE')).toBe('5.7');
    expect(minKernel('command', 'BPF_LINK_DETACH')).toBe('5.9');
    expect(minKernel('command', 'BPF_ENABLE_STATS')).toBe('5.8');
    expect(minKernel('linkType', 'BPF_LINK_TYPE_NETNS')).toBe('5.8');
    expect(minKernel('attachType', 'BPF_SK_LOOKUP')).toBe('5.9');
    expect(minKernel('progType', 'BPF_PROG_TYPE_SK_LOOKUP')).toBe('5.9');
  });
});

// Tests only: which features the running kernel must have (the probes themselves never look at
// the version). Features newer than this kernel are left out rather than asserted absent, since
// distributions backport.
const [major = 0, minor = 0] = release().split(/[.-]/).map(Number);
const atLeast = (v: string | undefined) => {
  if (v === undefined) return true;
  const [a = 0, b = 0] = v.split('.').map(Number);
  return major > a || (major === a && minor >= b);
};

requireKernel().describe('probes against the kernel (root)', () => {
  it('every command this project uses is known on this kernel; an unknown number is not', () => {
    const before = openFds();
    resetProbeCache();
    for (const c of [
      'BPF_MAP_CREATE',
      'BPF_MAP_LOOKUP_ELEM',
      'BPF_MAP_UPDATE_ELEM',
      'BPF_MAP_DELETE_ELEM',
      'BPF_MAP_GET_NEXT_KEY',
      'BPF_PROG_LOAD',
      'BPF_OBJ_PIN',
      'BPF_OBJ_GET',
      'BPF_PROG_ATTACH',
      'BPF_PROG_DETACH',
      'BPF_PROG_QUERY',
      'BPF_PROG_GET_NEXT_ID',
      'BPF_PROG_GET_FD_BY_ID',
      'BPF_MAP_GET_NEXT_ID',
      'BPF_MAP_GET_FD_BY_ID',
      'BPF_OBJ_GET_INFO_BY_FD',
      'BPF_BTF_LOAD',
      'BPF_BTF_GET_FD_BY_ID',
      'BPF_BTF_GET_NEXT_ID',
      'BPF_LINK_CREATE',
      'BPF_LINK_UPDATE',
      'BPF_LINK_GET_FD_BY_ID',
      'BPF_LINK_GET_NEXT_ID',
      'BPF_ENABLE_STATS',
      'BPF_ITER_CREATE',
      'BPF_LINK_DETACH',
      'BPF_PROG_BIND_MAP',
      'BPF_TOKEN_CREATE',
      'BPF_MAP_LOOKUP_BATCH',
      'BPF_RAW_TRACEPOINT_OPEN',
      'BPF_TASK_FD_QUERY',
      'BPF_MAP_FREEZE',
      'BPF_PROG_TEST_RUN',
    ]) {
      if (atLeast(minKernel('command', c))) expect([c, haveCommand(c)]).toEqual([c, true]);
    }
    expect(haveCommand(28)).toBe(true);
    expect(haveCommand(0x7fff)).toBe(false);
    // The probes close what they create.
    expect(leakedSince(before)).toEqual([]);
  });

  it('program types: the netns ones and the common ones are known; an unknown number is not', () => {
    for (const t of [
      'BPF_PROG_TYPE_SOCKET_FILTER',
      'BPF_PROG_TYPE_SCHED_CLS',
      'BPF_PROG_TYPE_XDP',
      'BPF_PROG_TYPE_CGROUP_SKB',
      'BPF_PROG_TYPE_CGROUP_SOCK_ADDR',
      'BPF_PROG_TYPE_FLOW_DISSECTOR',
      'BPF_PROG_TYPE_SK_LOOKUP',
      'BPF_PROG_TYPE_TRACING',
      'BPF_PROG_TYPE_STRUCT_OPS',
    ]) {
      if (atLeast(minKernel('progType', t))) expect([t, haveProgType(t)]).toEqual([t, true]);
    }
    expect(haveProgType(0)).toBe(false); // BPF_PROG_TYPE_UNSPEC
    expect(haveProgType(0xffff)).toBe(false);
  });

  it('attach types: netns and cgroup ones are known; an unknown number is not', () => {
    expect(haveAttachType('BPF_FLOW_DISSECTOR')).toBe(true);
    expect(haveAttachType('BPF_SK_LOOKUP')).toBe(true);
    expect(haveAttachType('BPF_CGROUP_INET_INGRESS')).toBe(true);
    if (atLeast('6.6')) expect(haveAttachType('BPF_TCX_INGRESS')).toBe(true);
    expect(haveAttachType(0xffff)).toBe(false);
    expect(() => haveAttachType('BPF_XDP')).toThrow(expect.objectContaining({ code: 'ERR_BPFJS_NO_PROBE' }));
  });

  it('link types: netns, cgroup, tcx are known; the answer is cached', () => {
    const before = openFds();
    expect(haveLinkType('BPF_LINK_TYPE_NETNS')).toBe(true);
    expect(haveLinkType(5)).toBe(true);
    expect(haveLinkType('BPF_LINK_TYPE_CGROUP')).toBe(true);
    if (atLeast('6.6')) expect(haveLinkType('BPF_LINK_TYPE_TCX')).toBe(true);
    expect(() => haveLinkType('BPF_LINK_TYPE_TRACING')).toThrow(
      expect.objectContaining({ code: 'ERR_BPFJS_NO_PROBE' }),
    );
    expect(leakedSince(before)).toEqual([]);
  });

  it('link types told by a command of the same release (raw tracepoint, iter) and netfilter agree with the kernel version', () => {
    const before = openFds();
    // Raw tracepoint and iter links: the command that came with them (5.8) answers for them.
    expect(haveLinkType('BPF_LINK_TYPE_RAW_TRACEPOINT')).toBe(haveCommand('BPF_LINK_GET_FD_BY_ID'));
    expect(haveLinkType('BPF_LINK_TYPE_ITER')).toBe(haveCommand('BPF_ITER_CREATE'));
    expect(haveLinkType('BPF_LINK_TYPE_RAW_TRACEPOINT')).toBe(atLeast('5.8'));
    expect(haveLinkType('BPF_LINK_TYPE_ITER')).toBe(atLeast('5.8'));
    // Netfilter links: a real LINK_CREATE with protocol family 0 (EAFNOSUPPORT when known).
    expect(haveLinkType('BPF_LINK_TYPE_NETFILTER')).toBe(atLeast('6.4'));
    expect(minKernel('linkType', 'BPF_LINK_TYPE_NETFILTER')).toBe('6.4');
    expect(leakedSince(before)).toEqual([]);
  });

  it('requireFeature passes for known features and throws UnsupportedFeatureError otherwise', () => {
    requireFeature('command', 'BPF_LINK_CREATE');
    requireFeature('linkType', 'BPF_LINK_TYPE_NETNS');
    requireFeature('attachType', 'BPF_SK_LOOKUP');
    requireFeature('progType', 'BPF_PROG_TYPE_FLOW_DISSECTOR');
    let err: unknown;
    try {
      requireFeature('command', 0x7ffe);
    } catch (e) {
      err = e;
    }
    expect(UnsupportedFeatureError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'ERR_BPFJS_NOT_SUPPORTED',
      feature: 'bpf command 32766',
      minKernel: undefined,
    });
    expect((err as Error).message).toBe('bpf command 32766 is not supported by this kernel');
  });
});
