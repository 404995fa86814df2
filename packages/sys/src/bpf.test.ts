import { requireKernel } from '@bpfjs/testkit';
import { BPF_OBJ_GET_INFO_BY_FD, BPF_PROG_TYPE_SOCKET_FILTER, InfoAttr } from '@bpfjs/uapi/linux/bpf';
import { describe, expect, it } from 'vitest';
import { bpf } from './bpf.js';
import { BpfError } from './errors.js';
import { progLoad } from './prog.js';
import { Struct } from './struct.js';
import { returnImm } from './test/progs.js';

describe('bpf() input checks', () => {
  it('refuses a bad cmd, attr or size before the syscall', () => {
    const attr = new Uint8Array(16);
    expect(() => bpf(-1, attr, 16)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => bpf(0, [0, 0] as unknown as Uint8Array, 2)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => bpf(0, attr, 17)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => bpf(0, attr, -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => bpf(0, attr, '16' as unknown as number)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });
});

requireKernel().describe('bpf() against the kernel (root)', () => {
  it('an unknown command is EINVAL, thrown as a BpfError', () => {
    let err: unknown;
    try {
      bpf(0x7fff, new Uint8Array(8), 8);
    } catch (e) {
      err = e;
    }
    expect(BpfError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ code: 'EINVAL', errno: 22, syscall: 'bpf' });
  });

  it('reads and writes the attr in place, also for a view at a byte offset', () => {
    using prog = progLoad({ type: BPF_PROG_TYPE_SOCKET_FILTER, insns: returnImm(0), license: 'GPL' });
    const info = new Uint8Array(new ArrayBuffer(8));
    const attr = new Struct(InfoAttr).set('bpf_fd', prog.fd).set('info_len', 8).setPointer('info', info);
    const backing = new Uint8Array(64).fill(0xee);
    backing.set(attr.bytes.subarray(0, attr.end), 24);
    const view = backing.subarray(24, 24 + attr.end);
    expect(bpf(BPF_OBJ_GET_INFO_BY_FD, view, attr.end)).toBe(0);
    expect(new DataView(info.buffer).getUint32(0, true)).toBe(BPF_PROG_TYPE_SOCKET_FILTER);
    // The kernel wrote info_len back into the view, not elsewhere in the backing buffer.
    expect(backing[0]).toBe(0xee);
    expect(backing[24 + attr.end]).toBe(0xee);
    expect(new DataView(backing.buffer).getUint32(24 + InfoAttr.fields.info_len.offset, true)).toBe(8);
  });
});
