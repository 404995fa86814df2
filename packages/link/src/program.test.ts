import { asm, assemble, R0, R2 } from '@bpfjs/asm';
import { BpfError } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { describe, expect, it } from 'vitest';
import { attachNetNs, Program, programs, queryPrograms } from './index.js';
import { catchError, freshNetNs, loadFlowDissector, withCleanup } from './test/helpers.js';

describe('Program input checks (no kernel needed)', () => {
  it('refuses bad options before any syscall with typed errors', () => {
    const insns = assemble([asm.mov64Imm(R0, 0), asm.exit()]);
    const cases: Array<[unknown, string]> = [
      [undefined, 'ERR_INVALID_ARG_TYPE'],
      [{ type: 'no_such_type', instructions: insns }, 'ERR_INVALID_ARG_VALUE'],
      [{ type: 3.5, instructions: insns }, 'ERR_INVALID_ARG_VALUE'],
      [{ type: 'flow_dissector', instructions: 'x' }, 'ERR_INVALID_ARG_TYPE'],
      [{ type: 'flow_dissector', instructions: new Uint8Array(7) }, 'ERR_INVALID_ARG_VALUE'],
      [{ type: 'flow_dissector', instructions: new Uint8Array(0) }, 'ERR_INVALID_ARG_VALUE'],
      [{ type: 'flow_dissector', instructions: [{}] }, 'ERR_INVALID_ARG_VALUE'],
      [{ type: 'flow_dissector', instructions: insns, license: 3 }, 'ERR_INVALID_ARG_TYPE'],
      [
        { type: 'flow_dissector', instructions: insns, name: 'way-too-long-name-here' },
        'ERR_INVALID_ARG_VALUE',
      ],
      [{ type: 'flow_dissector', instructions: insns, expectedAttachType: 'nope' }, 'ERR_INVALID_ARG_VALUE'],
    ];
    for (const [opts, code] of cases) {
      const err = catchError(() => Program.load(opts as never));
      expect(err, JSON.stringify(opts)).toBeInstanceOf(TypeError);
      expect(err.code, String(opts && (opts as { type?: unknown }).type)).toBe(code);
    }
  });

  it('attachNetNs refuses non-netns attach types and non-programs before any syscall', () => {
    const fake = {} as never;
    expect(catchError(() => attachNetNs(fake, 5)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(catchError(() => queryPrograms(5, 'xdp')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(catchError(() => queryPrograms({} as never, 'sk_lookup')).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(catchError(() => queryPrograms(5, 42.5)).code).toBe('ERR_INVALID_ARG_VALUE');
  });
});

requireKernel().describe('Program against the kernel (needs root)', () => {
  it('loads with kernel type names; info has id, type, name, tag, load time', () =>
    withCleanup((defer) => {
      const t0 = Date.now();
      const p = loadFlowDissector('bpfjs_info');
      defer(() => p.close());
      expect(p.type).toBe('flow_dissector');
      const info = p.info();
      expect(info.id).toBeGreaterThan(0);
      expect(info.type).toBe('flow_dissector');
      expect(info.name).toBe('bpfjs_info');
      expect(info.tag).toMatch(/^[0-9a-f]{16}$/);
      expect(info.gplCompatible).toBe(true);
      expect(info.createdByUid).toBe(0);
      expect(info.xlatedSize).toBe(16);
      expect(Math.abs(info.loadedAt.getTime() - t0)).toBeLessThan(60_000);
      expect(p.id).toBe(info.id);
    }));

  it('sk_lookup gets its expected attach type by default; array of instructions works', () =>
    withCleanup((defer) => {
      const p = Program.load({ type: 'sk_lookup', instructions: [asm.mov64Imm(R0, 1), asm.exit()] });
      defer(() => p.close());
      expect(p.expectedAttachType).toBe('sk_lookup');
      expect(p.info().type).toBe('sk_lookup');
    }));

  it('a verifier rejection carries the verifier log', () => {
    // r2 is read before anything wrote it: the verifier says "R2 !read_ok".
    const err = catchError(() =>
      Program.load({ type: 'flow_dissector', instructions: assemble([asm.mov64Reg(R0, R2), asm.exit()]) }),
    );
    expect(BpfError.isInstance(err)).toBe(true);
    expect(err.code).toBe('EACCES');
    expect(err.command).toBe('BPF_PROG_LOAD');
    expect(typeof err.log).toBe('string');
    expect(String(err.log).length).toBeGreaterThan(0);
    expect(err.message).toMatch(/verifier rejected/);
  });

  it('fromId opens the same program; close is idempotent; a closed program is refused', () =>
    withCleanup((defer) => {
      const p = loadFlowDissector();
      defer(() => p.close());
      const q = Program.fromId(p.id);
      defer(() => q.close());
      expect(q.info().tag).toBe(p.info().tag);
      expect(q.type).toBe('flow_dissector');
      q.close();
      q.close();
      expect(q.closed).toBe(true);
      expect(catchError(() => q.info()).code).toBe('ERR_BPFJS_CLOSED');
      const ns = freshNetNs();
      defer(() => ns.close());
      expect(catchError(() => attachNetNs(q, ns)).code).toBe('ERR_BPFJS_CLOSED');
      expect(catchError(() => Program.fromId(0xfffffff0)).code).toBe('ENOENT');
    }));

  it('programs() lists loaded programs with info', () =>
    withCleanup((defer) => {
      const p = loadFlowDissector('bpfjs_iter');
      defer(() => p.close());
      const id = p.id;
      const seen = [...programs()].find((i) => i.id === id);
      expect(seen).toMatchObject({ id, type: 'flow_dissector', name: 'bpfjs_iter' });
    }));
});
