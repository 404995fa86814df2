/**
 * The error path of linkCreate/progAttach/progLoad on this kernel: an attach or program type the
 * kernel does not know (a number past every enum) is UnsupportedFeatureError with the EINVAL as
 * `cause`; an EINVAL for a type the kernel knows (a program/attach type mismatch) stays the
 * BpfError. No fakes: the probes ask the kernel.
 */
import { requireKernel } from '@bpfjs/testkit';
import { BPF_CGROUP_INET_INGRESS, BPF_PROG_TYPE_SOCKET_FILTER } from '@bpfjs/uapi/linux/bpf';
import { afterAll, beforeAll, expect } from 'vitest';
import { BpfError, UnsupportedFeatureError } from './errors.js';
import type { Fd } from './fd.js';
import { linkCreate } from './link.js';
import { progAttach, progLoad } from './prog.js';
import { thrown } from './test/expect.js';
import { returnImm } from './test/progs.js';

const kernel = requireKernel();
const UNKNOWN = 0xfff0;

function expectUnsupported(err: unknown, feature: string, command: string): void {
  expect(UnsupportedFeatureError.isInstance(err), String(err)).toBe(true);
  const u = err as UnsupportedFeatureError;
  expect(u.code).toBe('ERR_BPFJS_NOT_SUPPORTED');
  expect(u.feature).toBe(feature);
  expect(u.minKernel).toBeUndefined();
  expect(BpfError.isInstance(u.cause)).toBe(true);
  expect((u.cause as BpfError).code).toBe('EINVAL');
  expect((u.cause as BpfError).command).toBe(command);
}

kernel.describe('EINVAL for an unknown type becomes UnsupportedFeatureError', () => {
  let prog: Fd;
  beforeAll(() => {
    prog = progLoad({ type: BPF_PROG_TYPE_SOCKET_FILTER, insns: returnImm(0), license: 'GPL' });
  });
  afterAll(() => prog?.close());

  kernel.it('linkCreate with an attach type the kernel does not know', () => {
    const err = thrown(() => linkCreate({ progFd: prog, targetFd: 0, attachType: UNKNOWN }));
    expectUnsupported(err, `attach type ${UNKNOWN}`, 'BPF_LINK_CREATE');
  });

  kernel.it('progAttach with an attach type the kernel does not know', () => {
    const err = thrown(() => progAttach({ targetFd: 0, progFd: prog, attachType: UNKNOWN }));
    expectUnsupported(err, `attach type ${UNKNOWN}`, 'BPF_PROG_ATTACH');
  });

  kernel.it('progLoad with a program type the kernel does not know', () => {
    const err = thrown(() => progLoad({ type: UNKNOWN, insns: returnImm(0), license: 'GPL' }));
    expectUnsupported(err, `program type ${UNKNOWN}`, 'BPF_PROG_LOAD');
  });

  kernel.it('an EINVAL for a known attach type (program type mismatch) stays the BpfError', () => {
    // A socket filter cannot attach to a cgroup hook: EINVAL, and the kernel knows the hook.
    const err = thrown(() => progAttach({ targetFd: 0, progFd: prog, attachType: BPF_CGROUP_INET_INGRESS }));
    expect(UnsupportedFeatureError.isInstance(err)).toBe(false);
    expect(BpfError.isInstance(err)).toBe(true);
    expect((err as BpfError).code).toBe('EINVAL');
    expect((err as BpfError).command).toBe('BPF_PROG_ATTACH');
  });
});
