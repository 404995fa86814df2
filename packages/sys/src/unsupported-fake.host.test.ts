/**
 * On an old kernel, linkCreate/progAttach/progLoad turn EINVAL into UnsupportedFeatureError when
 * the probes say the feature is absent. This machine's kernel has every feature, so libc is
 * replaced by a fake that answers like a 5.10 kernel would (no real syscall is made):
 * BPF_LINK_CREATE is known (a prog fd of -1 is EBADF), but not the tcx link type or the tcx
 * attach types (EINVAL); programs load. The real-kernel side is in unsupported.test.ts.
 */
import {
  BPF_LINK_CREATE,
  BPF_PROG_ATTACH,
  BPF_PROG_LOAD,
  BPF_PROG_QUERY,
  BPF_TCX_INGRESS,
} from '@bpfjs/uapi/linux/bpf';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { thrown } from './test/expect.js';

const EBADF = 9;
const EINVAL = 22;
const calls: number[] = [];
let lastErrno = 0;

function fail(errno: number): number {
  lastErrno = errno;
  return -1;
}

vi.mock('./libc.js', () => ({
  getLibc: () => ({
    nr: { bpf: 321, gettid: 186 },
    // Probes pass their attr bytes: a LINK_CREATE with prog_fd -1 is the command probe.
    syscallBpf: (_nr: number, cmd: number, attr: Uint8Array) => {
      calls.push(cmd);
      if (cmd === BPF_PROG_LOAD) return 100;
      if (cmd === BPF_PROG_QUERY) return fail(EINVAL);
      if (cmd === BPF_PROG_ATTACH) return fail(EBADF);
      if (cmd === BPF_LINK_CREATE) {
        const progFd = new DataView(attr.buffer, attr.byteOffset, 4).getUint32(0, true);
        return fail(progFd === 0xffffffff ? EBADF : EINVAL);
      }
      return fail(EBADF);
    },
    // The real calls (scratch attrs by address): the tcx link or attach the kernel refuses.
    syscallBpfAddr: (_nr: number, cmd: number) => {
      calls.push(cmd);
      return fail(EINVAL);
    },
    errno: () => lastErrno,
    close: () => 0,
    fcntlInt: () => -1,
    address: () => 0x10000n,
  }),
}));

const { linkCreate } = await import('./link.js');
const { progAttach } = await import('./prog.js');
const { BpfError, UnsupportedFeatureError } = await import('./errors.js');
const { resetProbeCache } = await import('./probe.js');

describe('EINVAL on a kernel without the feature (fake libc answering like 5.10)', () => {
  beforeEach(() => {
    calls.length = 0;
    resetProbeCache();
  });

  it('linkCreate(tcx) throws UnsupportedFeatureError naming link type tcx and Linux 6.6, cause the EINVAL', () => {
    const err = thrown(() => linkCreate({ progFd: 5, targetIfindex: 1, attachType: BPF_TCX_INGRESS }));
    expect(UnsupportedFeatureError.isInstance(err)).toBe(true);
    const u = err as InstanceType<typeof UnsupportedFeatureError>;
    expect(u.code).toBe('ERR_BPFJS_NOT_SUPPORTED');
    expect(u.feature).toBe('link type BPF_LINK_TYPE_TCX');
    expect(u.minKernel).toBe('6.6');
    expect(u.message).toBe(
      'link type BPF_LINK_TYPE_TCX is not supported by this kernel (needs Linux 6.6 or newer)',
    );
    expect(BpfError.isInstance(u.cause)).toBe(true);
    expect((u.cause as InstanceType<typeof BpfError>).code).toBe('EINVAL');
    expect((u.cause as InstanceType<typeof BpfError>).command).toBe('BPF_LINK_CREATE');
    // The failed call came first; the probes only after it.
    expect(calls[0]).toBe(BPF_LINK_CREATE);
  });

  it('progAttach(tcx) throws UnsupportedFeatureError naming attach type tcx_ingress and Linux 6.6', () => {
    const err = thrown(() => progAttach({ targetFd: 5, progFd: 6, attachType: BPF_TCX_INGRESS }));
    expect(UnsupportedFeatureError.isInstance(err)).toBe(true);
    const u = err as InstanceType<typeof UnsupportedFeatureError>;
    expect(u.feature).toBe('attach type BPF_TCX_INGRESS');
    expect(u.minKernel).toBe('6.6');
    expect((u.cause as InstanceType<typeof BpfError>).command).toBe('BPF_PROG_ATTACH');
  });

  it('probes are cached: a second failure asks the kernel only the failed call', () => {
    thrown(() => linkCreate({ progFd: 5, targetIfindex: 1, attachType: BPF_TCX_INGRESS }));
    calls.length = 0;
    const err = thrown(() => linkCreate({ progFd: 5, targetIfindex: 1, attachType: BPF_TCX_INGRESS }));
    expect(UnsupportedFeatureError.isInstance(err)).toBe(true);
    expect(calls).toEqual([BPF_LINK_CREATE]);
  });
});
