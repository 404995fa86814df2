import { assemble, format } from '@bpfjs/asm';
import { describe, expect, it } from 'vitest';
import { flowDissectorInstructions, skLookupInstructions, socketFilterInstructions } from './programs.js';

describe('ready program instructions', () => {
  it('flow dissector returns BPF_OK', () => {
    expect(format(flowDissectorInstructions())).toBe('   0: r0 = 0\n   1: exit');
    expect(format(flowDissectorInstructions('drop'))).toBe('   0: r0 = 2\n   1: exit');
  });

  it('sk_lookup pass/drop', () => {
    expect(format(skLookupInstructions('pass'))).toBe('   0: r0 = 1\n   1: exit');
    expect(format(skLookupInstructions('drop'))).toBe('   0: r0 = 0\n   1: exit');
  });

  it('sk_lookup redirect looks the socket up, assigns and releases it', () => {
    const text = format(skLookupInstructions({ redirect: { fd: 7 }, key: 1 }));
    expect(text).toContain('r1 = map[fd:7]');
    expect(text).toContain('*(u32 *)(r10 -4) = 1');
    expect(text).toContain('call 1');
    expect(text).toContain('call 124');
    expect(text).toContain('call 86');
    expect(assemble(skLookupInstructions({ redirect: 7 })).length % 8).toBe(0);
  });

  it('socket filter keeps snapLength bytes', () => {
    expect(format(socketFilterInstructions())).toBe('   0: w0 = -1\n   1: exit');
    expect(format(socketFilterInstructions(0))).toBe('   0: w0 = 0\n   1: exit');
  });

  it('refuses bad verdicts', () => {
    expect(() => skLookupInstructions('maybe' as 'pass')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => skLookupInstructions({ redirect: 3, key: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => flowDissectorInstructions('pass' as 'ok')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => socketFilterInstructions(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});
