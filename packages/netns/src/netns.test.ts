import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BpfError, MNT_DETACH, MS_BIND, mount, umount2 } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { afterEach, expect, it } from 'vitest';
import { isNetNsError } from './errors.js';
import { NetNs } from './netns.js';
import { findNetNsHolders } from './proc.js';
import { waitForTeardown } from './teardown.js';

/** The calling thread's netns link, `net:[N]`. */
const threadNs = (): string => readlinkSync('/proc/thread-self/ns/net');
const statInode = (path: string): number =>
  Number(execFileSync('stat', ['-L', '-c', '%i', path]).toString().trim());

function thrown(fn: () => unknown): Error & { code?: string; errno?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

// Everything a test opens or mounts, undone after it whatever happened.
const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanups.splice(0).reverse()) {
    try {
      fn();
    } catch {
      // keep cleaning
    }
  }
});
function track<T extends { close(): void }>(x: T): T {
  cleanups.push(() => x.close());
  return x;
}

requireKernel().describe('NetNs (needs root: setns/unshare/mount)', () => {
  it('current() is the calling thread netns; inode equals stat -L', () => {
    const cur = track(NetNs.current());
    expect(`net:[${cur.inode}]`).toBe(threadNs());
    expect(cur.inode).toBe(statInode('/proc/thread-self/ns/net'));
    expect(cur.name).toBeUndefined();
    expect(cur.path).toBeUndefined();
    expect(cur.fd.fd).toBeGreaterThanOrEqual(3);
    expect(String(cur)).toBe(`NetNs(net:[${cur.inode}])`);
    cur.close();
    cur.close();
    expect(cur.closed).toBe(true);
    expect(cur.fd.fd).toBe(-1);
    expect(cur.inode).toBe(statInode('/proc/thread-self/ns/net'));
  });

  it('fromPid(own pid) equals current() and stat -L of /proc/PID/ns/net', () => {
    const byPid = track(NetNs.fromPid(process.pid));
    const cur = track(NetNs.current());
    expect(byPid.equals(cur)).toBe(true);
    expect(byPid.inode).toBe(statInode(`/proc/${process.pid}/ns/net`));
    expect(byPid.path).toBe(`/proc/${process.pid}/ns/net`);
  });

  it('fromPid refuses bad pids before any syscall, and a missing pid with ENOENT', () => {
    for (const bad of [0, -1, 1.5, 2 ** 22 + 1])
      expect(thrown(() => NetNs.fromPid(bad)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => NetNs.fromPid('1' as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
    const missing = 2 ** 22;
    expect(existsSync(`/proc/${missing}`)).toBe(false);
    const e = thrown(() => NetNs.fromPid(missing));
    expect(BpfError.isInstance(e)).toBe(true);
    expect(e.code).toBe('ENOENT');
    expect(e.errno).toBe(2);
  });

  it('open() refuses files that are not network namespaces without opening them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjs-netns-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const file = join(dir, 'file');
    writeFileSync(file, 'x');
    // A FIFO would block open(O_RDONLY): it must be refused from stat alone.
    for (const p of [fifo, file, dir, '/proc/self/status', '/dev/null']) {
      expect(thrown(() => NetNs.open(p)).code, p).toBe('ERR_BPFJS_NOT_NETNS');
    }
    const mnt = thrown(() => NetNs.open('/proc/self/ns/mnt'));
    expect(mnt.code).toBe('ERR_BPFJS_NOT_NETNS');
    expect(mnt.message).toMatch(/a mnt namespace/);
    expect(thrown(() => NetNs.open(join(dir, 'missing'))).code).toBe('ENOENT');
    expect(thrown(() => NetNs.open('')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => NetNs.open('/a\0b')).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrown(() => NetNs.open(42 as unknown as string)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('open() tells net from other namespace types on bind mounts, also once detached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfjs-netns-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const netFile = join(dir, 'net');
    const mntFile = join(dir, 'mnt');
    writeFileSync(netFile, '');
    writeFileSync(mntFile, '');
    const ns = track(NetNs.create());
    // Mount the new netns through its fd's /proc link, and this thread's uts namespace.
    mount(`/proc/self/fd/${ns.fd.fd}`, netFile, null, MS_BIND);
    cleanups.push(() => umount2(netFile, MNT_DETACH));
    mount('/proc/thread-self/ns/uts', mntFile, null, MS_BIND);
    cleanups.push(() => umount2(mntFile, MNT_DETACH));

    const viaMount = track(NetNs.open(netFile));
    expect(viaMount.equals(ns)).toBe(true);
    expect(viaMount.inode).toBe(statInode(netFile));
    expect(viaMount.name).toBeUndefined();
    expect(viaMount.path).toBe(netFile);
    expect(thrown(() => NetNs.open(mntFile)).message).toMatch(/a uts namespace/);

    // Detached bind mounts: the fd's link shows a path and mountinfo no longer lists them, so
    // the type comes from asking setns() (EINVAL for another type).
    const netFd = openSync(netFile, 'r');
    cleanups.push(() => closeSync(netFd));
    const utsFd = openSync(mntFile, 'r');
    cleanups.push(() => closeSync(utsFd));
    umount2(netFile, MNT_DETACH);
    umount2(mntFile, MNT_DETACH);
    const before = threadNs();
    const fromFd = track(NetNs.fromFd(netFd));
    expect(fromFd.equals(ns)).toBe(true);
    expect(threadNs()).toBe(before);
    expect(thrown(() => NetNs.fromFd(utsFd)).code).toBe('ERR_BPFJS_NOT_NETNS');
    expect(threadNs()).toBe(before);
  });

  it('fromFd duplicates: the caller keeps its descriptor', () => {
    const ns = track(NetNs.create());
    const other = track(NetNs.fromFd(ns.fd));
    expect(other.equals(ns)).toBe(true);
    expect(other.fd.fd).not.toBe(ns.fd.fd);
    expect(other.path).toBeUndefined();
    expect(other.name).toBeUndefined();
    other.close();
    expect(ns.closed).toBe(false);
    expect(ns.run(threadNs)).toBe(`net:[${ns.inode}]`);
    ns.close();
    expect(thrown(() => NetNs.fromFd(ns.fd)).code).toBe('ERR_BPFJS_FD_CLOSED');
  });

  it('create() makes a new anonymous netns without moving the thread; run() enters it', () => {
    const before = threadNs();
    const ns = track(NetNs.create());
    expect(threadNs()).toBe(before);
    expect(`net:[${ns.inode}]`).not.toBe(before);
    expect(ns.name).toBeUndefined();
    expect(ns.equals(track(NetNs.current()))).toBe(false);
    const inside = ns.run(() => ({ link: threadNs(), interfaces: Object.keys(networkInterfaces()) }));
    expect(inside.link).toBe(`net:[${ns.inode}]`);
    // A fresh netns has only `lo`, down and without addresses; the test machine has 127.0.0.1.
    expect(inside.interfaces).toEqual([]);
    expect(Object.keys(networkInterfaces())).toContain('lo');
    expect(threadNs()).toBe(before);
  });

  it('run() moves only the calling thread: the libuv pool keeps its netns', async () => {
    const ns = track(NetNs.create());
    const outside = threadNs();
    // Started inside run(), executed by a pool thread, which resolves thread-self to itself.
    const fromPool = ns.run(() => ({ now: threadNs(), pool: readlink('/proc/thread-self/ns/net') }));
    expect(fromPool.now).toBe(`net:[${ns.inode}]`);
    expect(await fromPool.pool).toBe(outside);
  });

  it('run(): a child process spawned inside inherits the netns', () => {
    const ns = track(NetNs.create());
    const child = ns.run(() => execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim());
    expect(child).toBe(`net:[${ns.inode}]`);
    expect(execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }).trim()).toBe(threadNs());
  });

  it('run(): a Worker constructed inside starts inside and stays there', async () => {
    const ns = track(NetNs.create());
    const code = `require('node:worker_threads').parentPort.postMessage(require('node:fs').readlinkSync('/proc/thread-self/ns/net'))`;
    const worker = ns.run(() => new Worker(code, { eval: true }));
    try {
      const [link] = (await once(worker, 'message')) as [string];
      expect(link).toBe(`net:[${ns.inode}]`);
    } finally {
      await worker.terminate();
    }
  });

  it('run() switches back after a throw and rethrows the same error', () => {
    const before = NetNs.current();
    track(before);
    const ns = track(NetNs.create());
    const boom = new Error('boom');
    const e = thrown(() =>
      ns.run(() => {
        expect(threadNs()).toBe(`net:[${ns.inode}]`);
        throw boom;
      }),
    );
    expect(e).toBe(boom);
    expect(threadNs()).toBe(`net:[${before.inode}]`);
  });

  it('run() nests and restores each level', () => {
    const outer = track(NetNs.create());
    const inner = track(NetNs.create());
    const before = threadNs();
    const seen = outer.run(() => {
      const a = threadNs();
      const b = inner.run(threadNs);
      return [a, b, threadNs()];
    });
    expect(seen).toEqual([`net:[${outer.inode}]`, `net:[${inner.inode}]`, `net:[${outer.inode}]`]);
    expect(threadNs()).toBe(before);
  });

  it('run() refuses async and generator functions before switching, and returned promises after', async () => {
    const ns = track(NetNs.create());
    const before = threadNs();
    let ran = false;
    const asyncFn = async () => {
      ran = true;
    };
    const refused = thrown(() => ns.run(asyncFn));
    expect(refused.code).toBe('ERR_BPFJS_NETNS_ASYNC');
    expect(refused).toBeInstanceOf(TypeError);
    expect(isNetNsError(refused)).toBe(true);
    expect(isNetNsError(new TypeError('x'))).toBe(false);
    expect(ran).toBe(false);
    expect(thrown(() => ns.run(function* () {})).code).toBe('ERR_BPFJS_NETNS_ASYNC');
    expect(thrown(() => ns.run(async function* () {})).code).toBe('ERR_BPFJS_NETNS_ASYNC');
    // A plain function returning a promise: it ran inside, the thread is back, the error is clear,
    // and the promise's rejection does not surface as an unhandled rejection.
    let insideLink = '';
    const e = thrown(() =>
      ns.run(() => {
        insideLink = threadNs();
        return Promise.reject(new Error('orphaned'));
      }),
    );
    expect(e.code).toBe('ERR_BPFJS_NETNS_ASYNC');
    expect(insideLink).toBe(`net:[${ns.inode}]`);
    expect(threadNs()).toBe(before);
    // biome-ignore lint/suspicious/noThenProperty: a non-Promise thenable is exactly what is tested
    const thenable = { then: (ok: (v: number) => void) => ok(1) };
    expect(thrown(() => ns.run(() => thenable)).code).toBe('ERR_BPFJS_NETNS_ASYNC');
    await Promise.resolve();
    expect(thrown(() => ns.run(42 as unknown as () => void)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('run() and equals() refuse misuse after close()', () => {
    const ns = NetNs.create();
    ns.close();
    expect(thrown(() => ns.run(threadNs)).code).toBe('ERR_BPFJS_NETNS_CLOSED');
    expect(thrown(() => ns.equals({} as NetNs)).code).toBe('ERR_INVALID_ARG_TYPE');
    expect(thrown(() => ns.delete()).code).toBe('ERR_BPFJS_NETNS_ANONYMOUS');
  });

  it('an anonymous netns loses its last reference at close(): /proc shows no holder', async () => {
    const ns = NetNs.create();
    const { inode } = ns;
    try {
      const holders = findNetNsHolders(inode);
      expect(holders).toContainEqual({ kind: 'fd', pid: process.pid, fd: ns.fd.fd });
      expect(holders.filter((h) => h.kind !== 'fd')).toEqual([]);
      await expect(waitForTeardown(ns)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
      const timeout = await waitForTeardown(inode, { timeoutMs: 30 }).catch((err: unknown) => err);
      expect(timeout).toMatchObject({
        code: 'ERR_BPFJS_NETNS_TEARDOWN_TIMEOUT',
        name: 'TeardownTimeoutError',
      });
      expect(isNetNsError(timeout)).toBe(true);
      expect((timeout as { holders: unknown[] }).holders).toContainEqual({
        kind: 'fd',
        pid: process.pid,
        fd: ns.fd.fd,
      });
    } finally {
      ns.close();
    }
    await waitForTeardown(ns, { timeoutMs: 10_000 });
    expect(findNetNsHolders(inode)).toEqual([]);
  });

  it('waitForTeardown refuses bad arguments', async () => {
    await expect(waitForTeardown(0)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(waitForTeardown('1' as unknown as number)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
    await expect(waitForTeardown(1, { timeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    await expect(waitForTeardown(1, { signal: ac.signal })).rejects.toThrow('stop');
  });

  it('create() refuses bad names and options before touching anything', () => {
    const before = threadNs();
    expect(existsSync('/run/netns/a')).toBe(false);
    expect(existsSync('/run/etc')).toBe(false);
    const bad: Array<[unknown, string]> = [
      ['', 'ERR_INVALID_ARG_VALUE'],
      ['.', 'ERR_INVALID_ARG_VALUE'],
      ['..', 'ERR_INVALID_ARG_VALUE'],
      ['a/b', 'ERR_INVALID_ARG_VALUE'],
      ['../etc', 'ERR_INVALID_ARG_VALUE'],
      ['a\0b', 'ERR_INVALID_ARG_VALUE'],
      ['x'.repeat(256), 'ERR_OUT_OF_RANGE'],
      [7, 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [name, code] of bad) {
      expect(thrown(() => NetNs.create({ name: name as string })).code, JSON.stringify(name)).toBe(code);
      expect(thrown(() => NetNs.fromName(name as string)).code, JSON.stringify(name)).toBe(code);
    }
    expect(thrown(() => NetNs.create(null as unknown as object)).code).toBe('ERR_INVALID_ARG_TYPE');
    // Nothing reachable from those names was created, and the thread never moved.
    expect(existsSync('/run/netns/a')).toBe(false);
    expect(existsSync('/run/etc')).toBe(false);
    expect(threadNs()).toBe(before);
  });
});
