import { describe, expect, it } from 'vitest';
import { parseFeature, requireFeature } from './features.js';
import { requireKernel } from './gates.js';

describe('parseFeature', () => {
  it('takes C enumerators of the four enums', () => {
    expect(parseFeature('BPF_LINK_TYPE_NETNS')).toEqual({ kind: 'linkType', name: 'BPF_LINK_TYPE_NETNS' });
    expect(parseFeature('BPF_PROG_TYPE_SK_LOOKUP')).toEqual({
      kind: 'progType',
      name: 'BPF_PROG_TYPE_SK_LOOKUP',
    });
    expect(parseFeature('BPF_SK_LOOKUP')).toEqual({ kind: 'attachType', name: 'BPF_SK_LOOKUP' });
    expect(parseFeature('BPF_LINK_CREATE')).toEqual({ kind: 'command', name: 'BPF_LINK_CREATE' });
  });

  it('takes kind:short names as bpftool prints them', () => {
    expect(parseFeature('link_type:netns')).toEqual({ kind: 'linkType', name: 'BPF_LINK_TYPE_NETNS' });
    expect(parseFeature('prog_type:sk_lookup')).toEqual({
      kind: 'progType',
      name: 'BPF_PROG_TYPE_SK_LOOKUP',
    });
    expect(parseFeature('attach_type:flow_dissector')).toEqual({
      kind: 'attachType',
      name: 'BPF_FLOW_DISSECTOR',
    });
    expect(parseFeature('command:link_create')).toEqual({ kind: 'command', name: 'BPF_LINK_CREATE' });
  });

  it('refuses unknown names', () => {
    expect(() => parseFeature('BPF_TELEPORT')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => parseFeature('link_type:wormhole')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => parseFeature('color:red')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => parseFeature('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

requireKernel().describe('requireFeature (probes the kernel)', () => {
  it('is open for what this kernel (6.x) has', () => {
    for (const f of ['link_type:netns', 'prog_type:sk_lookup', 'attach_type:sk_lookup', 'BPF_LINK_DETACH']) {
      const g = requireFeature(f);
      expect({ f, reason: g.reason }).toEqual({ f, reason: undefined });
    }
  });
});
