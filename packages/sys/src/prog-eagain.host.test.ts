/**
 * progLoad repeats a load that the verifier gave up on with EAGAIN (a pending signal), like
 * libbpf, up to 5 attempts. The kernel cannot be made to do that on cue, so libc is replaced by a
 * fake whose bpf() answers EAGAIN a chosen number of times (no real syscall is made).
 */
import { BPF_PROG_LOAD, BPF_PROG_TYPE_SOCKET_FILTER } from '@bpfjs/uapi/linux/bpf';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const EAGAIN = 11;
const EINVAL = 22;
let answers: number[] = []; // errnos to fail with, in order; then success (fd 100)
const commands: number[] = [];
let lastErrno = 0;

vi.mock('./libc.js', () => ({
  getLibc: () => ({
    nr: { bpf: 321, gettid: 186 },
    syscallBpf: (_nr: number, cmd: number) => {
      commands.push(cmd);
      const errno = answers.shift();
      if (errno === undefined) return 100;
      lastErrno = errno;
      return -1;
    },
    errno: () => lastErrno,
    close: () => 0,
    fcntlInt: () => -1,
    address: () => 0x10000n,
  }),
}));

const { progLoad } = await import('./prog.js');
const { BpfError } = await import('./errors.js');

const opts = {
  type: BPF_PROG_TYPE_SOCKET_FILTER,
  // r0 = 0; exit
  insns: new Uint8Array([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
  license: 'GPL',
};

describe('progLoad and EAGAIN (verifier interrupted by a signal)', () => {
  beforeEach(() => {
    answers = [];
    commands.length = 0;
  });

  it('retries: 4 x EAGAIN then success is one Fd after 5 calls', () => {
    answers = [EAGAIN, EAGAIN, EAGAIN, EAGAIN];
    const fd = progLoad(opts);
    expect(fd.fd).toBe(100);
    fd.close();
    expect(commands).toEqual(Array(5).fill(BPF_PROG_LOAD));
  });

  it('gives up after 5 attempts with EAGAIN (with a log level: no second pass)', () => {
    answers = Array(20).fill(EAGAIN);
    let err: unknown;
    try {
      progLoad({ ...opts, logLevel: 1, logSize: 4096 });
    } catch (e) {
      err = e;
    }
    expect(BpfError.isInstance(err)).toBe(true);
    expect((err as InstanceType<typeof BpfError>).code).toBe('EAGAIN');
    expect((err as InstanceType<typeof BpfError>).command).toBe('BPF_PROG_LOAD');
    expect(commands.length).toBe(5);
  });

  it('does not repeat other errors: EINVAL once, then the one log pass', () => {
    answers = [EINVAL, EINVAL];
    let err: unknown;
    try {
      progLoad(opts);
    } catch (e) {
      err = e;
    }
    expect((err as InstanceType<typeof BpfError>).code).toBe('EINVAL');
    // The load and its log pass; then (error path only) the two cached probe loads (command,
    // program type), which this fake answers with success: the EINVAL stays a BpfError.
    expect(commands).toEqual(Array(4).fill(BPF_PROG_LOAD));
  });
});
