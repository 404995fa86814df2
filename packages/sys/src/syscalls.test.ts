import { existsSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { requireKernel } from '@bpfjs/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpfError } from './errors.js';
import {
  BPF_FS_MAGIC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  gettid,
  isBpffs,
  MNT_DETACH,
  mount,
  NSFS_MAGIC,
  openPath,
  setns,
  statfs,
  umount2,
  unshare,
} from './syscalls.js';
import { leakedSince, openFds } from './test/fds.js';

const netnsInode = () => statSync('/proc/thread-self/ns/net').ino;
const expectErrno = (fn: () => unknown, code: string, syscall: string) => {
  try {
    fn();
  } catch (e) {
    expect(BpfError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ code, syscall });
    return e as BpfError;
  }
  throw new Error(`expected ${code} from ${syscall}`);
};

describe('input checks of the syscalls (no privileges needed)', () => {
  it('refuse bad arguments before calling the kernel', () => {
    expect(() => setns(-1, CLONE_NEWNET)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => setns(3, -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => unshare(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => mount('bpf', 'a\0b', 'bpf')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => mount('bpf', 5 as unknown as string, 'bpf')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => umount2('', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => statfs('x'.repeat(5000))).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => openPath('/dev/null', -1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    // No mode argument is passed, so file creation is refused before the syscall (nothing is created).
    const created = `/tmp/bpfjs-openpath-${process.pid}`;
    expect(() => openPath(created, 0o100 | 0o1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(() => openPath('/tmp', 0o20200000)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
    );
    expect(existsSync(created)).toBe(false);
  });
});

requireKernel().describe('syscalls against the kernel (root)', () => {
  let before: Map<number, string>;
  beforeAll(() => {
    before = openFds();
  });
  afterAll(() => {
    expect(leakedSince(before)).toEqual([]);
  });

  it('gettid is the pid on the main thread and a positive integer', () => {
    const tid = gettid();
    expect(Number.isInteger(tid) && tid > 0).toBe(true);
    if (isMainThread) expect(tid).toBe(process.pid);
  });

  it('openPath opens; a missing path is ENOENT with the path in the message', () => {
    using f = openPath('/proc/thread-self/ns/net');
    expect(f.fd).toBeGreaterThanOrEqual(3);
    const e = expectErrno(() => openPath('/nonexistent/bpfjs'), 'ENOENT', 'open');
    expect(e.message).toBe("ENOENT: no such file or directory, open '/nonexistent/bpfjs'");
    expect(e.path).toBe('/nonexistent/bpfjs');
  });

  it('unshare(CLONE_NEWNET) moves this thread, setns brings it back', () => {
    const home = netnsInode();
    using saved = openPath('/proc/thread-self/ns/net');
    try {
      unshare(CLONE_NEWNET);
      expect(netnsInode()).not.toBe(home);
      using other = openPath('/proc/thread-self/ns/net');
      setns(saved, CLONE_NEWNET);
      expect(netnsInode()).toBe(home);
      setns(other.fd, 0);
      expect(netnsInode()).not.toBe(home);
    } finally {
      setns(saved, CLONE_NEWNET);
    }
    expect(netnsInode()).toBe(home);
  });

  it('setns errors: wrong namespace type is EINVAL, a non-namespace fd is EINVAL', () => {
    using net = openPath('/proc/thread-self/ns/net');
    expectErrno(() => setns(net, CLONE_NEWNS), 'EINVAL', 'setns');
    using devnull = openPath('/dev/null');
    expectErrno(() => setns(devnull, 0), 'EINVAL', 'setns');
    expectErrno(() => setns(987654, 0), 'EBADF', 'setns');
  });

  it('unshare with an invalid flag is EINVAL', () => {
    // CLONE_VM cannot be unshared by a multi-threaded process (Node always has threads).
    expectErrno(() => unshare(0x100), 'EINVAL', 'unshare');
  });

  it('statfs reports nsfs for a namespace file; ENOENT for a missing path', () => {
    expect(statfs('/proc/self/ns/net').type).toBe(NSFS_MAGIC);
    expect(isBpffs('/proc')).toBe(false);
    expectErrno(() => statfs('/nonexistent/bpfjs'), 'ENOENT', 'statfs');
  });

  it('mounts a bpf file system, detects it, and unmounts it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjs-sys-test-'));
    let mounted = false;
    try {
      expect(isBpffs(dir)).toBe(false);
      mount('bpf', dir, 'bpf', 0);
      mounted = true;
      expect(statfs(dir).type).toBe(BPF_FS_MAGIC);
      expect(isBpffs(dir)).toBe(true);
      umount2(dir, 0);
      mounted = false;
      expect(isBpffs(dir)).toBe(false);
      expectErrno(() => umount2(dir, 0), 'EINVAL', 'umount2');
      expectErrno(() => mount('bpf', join(dir, 'missing'), 'bpf', 0), 'ENOENT', 'mount');
      expectErrno(() => mount('bpf', dir, 'no-such-fs-bpfjs', 0), 'ENODEV', 'mount');
    } finally {
      if (mounted) umount2(dir, MNT_DETACH);
      rmdirSync(dir);
    }
  });
});
