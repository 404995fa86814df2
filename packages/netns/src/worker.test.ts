// NetNs.runInWorker: a worker thread that enters the netns, then imports and runs a module.
// The worker loads the built @bpfjs/sys (packages/sys/dist): `pnpm build` first.
import { existsSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BpfError } from '@bpfjs/sys';
import { requireKernel } from '@bpfjs/testkit';
import { afterEach, expect, it } from 'vitest';
import { NetNs } from './netns.js';
import { findNetNsHolders } from './proc.js';

const fixture = new URL('./fixtures/in-netns.mjs', import.meta.url);
const threadNs = (): string => readlinkSync('/proc/thread-self/ns/net');

/** Retries `check` until it passes or 5 s are over (then rethrows its last failure). */
async function settles(check: () => void): Promise<void> {
  const deadline = Date.now() + 5000;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

// Each runInWorker call starts a worker thread, seconds apiece in the kernel matrix's emulated
// guests. There the tests that meet the kernel run — the worker enters the netns and stays across
// awaits, setns errors arrive as BpfError, a server's socket in the netns, the worker's own netns
// descriptor — and how results and errors cross the thread boundary (path forms, rethrown errors,
// exits, missing exports, uncloneable values: Node's doing, the same on every kernel) is checked on
// the host only.
const hostOnlyIt = (name: string, fn: () => Promise<void>) => {
  if (!process.env.BPFJS_KERNEL_MATRIX) it(name, fn);
};

const opened: NetNs[] = [];
afterEach(() => {
  for (const ns of opened.splice(0)) ns.close();
});
function track(ns: NetNs): NetNs {
  opened.push(ns);
  return ns;
}

requireKernel().describe('NetNs.runInWorker (needs root and a built @bpfjs/sys)', () => {
  it('the built @bpfjs/sys the worker loads exists', () => {
    const entry = createRequire(import.meta.url).resolve('@bpfjs/sys');
    expect(existsSync(entry), `${entry} (run pnpm build)`).toBe(true);
  });

  it('runs the module inside the netns, across awaits, and leaves the main thread where it was', async () => {
    const ns = track(NetNs.create());
    const before = threadNs();
    const out = await ns.runInWorker<{
      args: unknown[];
      loadedIn: string;
      first: string;
      afterAwait: string;
      interfaces: string[];
    }>(fixture, 'default', [1, { a: 'b' }]);
    const inside = `net:[${ns.inode}]`;
    expect(out).toEqual({
      args: [1, { a: 'b' }],
      loadedIn: inside,
      first: inside,
      afterAwait: inside,
      interfaces: [],
    });
    expect(threadNs()).toBe(before);
    // The worker is gone and its descriptor closed: only this object holds the netns. (A joined
    // thread can linger in /proc for a moment while the kernel finishes its exit: poll.)
    await settles(() =>
      expect(findNetNsHolders(ns.inode)).toEqual([{ kind: 'fd', pid: process.pid, fd: ns.fd.fd }]),
    );
  });

  hostOnlyIt('takes a path string too, and defaults to the default export with no args', async () => {
    const ns = track(NetNs.create());
    const out = await ns.runInWorker<{ args: unknown[]; first: string }>(fixture.pathname);
    expect(out.args).toEqual([]);
    expect(out.first).toBe(`net:[${ns.inode}]`);
  });

  hostOnlyIt('rethrows errors from the worker with name, message and code', async () => {
    const ns = track(NetNs.create());
    const err = await ns.runInWorker(fixture, 'fail', ['nope']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ name: 'RangeError', message: 'nope', code: 'EFIXTURE' });
    expect((err as Error).stack).toContain('in-netns.mjs');
  });

  it('keeps kernel errors recognisable as BpfError', async () => {
    const ns = track(NetNs.create());
    const err = await ns.runInWorker(fixture, 'badSetns').catch((e: unknown) => e);
    expect(BpfError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ code: 'EBADF', errno: 9, syscall: 'setns' });
  });

  hostOnlyIt('reports a worker that exits without an answer, and non-Error throws', async () => {
    const ns = track(NetNs.create());
    await expect(ns.runInWorker(fixture, 'exitEarly')).rejects.toMatchObject({
      code: 'ERR_BPFJS_NETNS_WORKER',
      message: expect.stringMatching(/code 3/),
    });
    await expect(ns.runInWorker(fixture, 'throwString')).rejects.toMatchObject({
      message: 'non-error value thrown: plain string',
    });
  });

  hostOnlyIt('reports a missing export and an uncloneable result', async () => {
    const ns = track(NetNs.create());
    await expect(ns.runInWorker(fixture, 'nothere')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(ns.runInWorker(fixture, 'notAFunction')).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_VALUE',
    });
    await expect(ns.runInWorker(fixture, 'uncloneable')).rejects.toMatchObject({ name: 'DataCloneError' });
  });

  it('ends a worker whose function left a server listening', async () => {
    const ns = track(NetNs.create());
    const port = await ns.runInWorker<number>(fixture, 'leaveServerOpen');
    expect(port).toBeGreaterThan(0);
    await settles(() => expect(findNetNsHolders(ns.inode).filter((h) => h.kind === 'thread')).toEqual([]));
  });

  it('is not disturbed by close() while it runs (the worker holds its own descriptor)', async () => {
    const ns = NetNs.create();
    const running = ns.runInWorker<{ first: string }>(fixture);
    ns.close();
    const out = await running;
    expect(out.first).toBe(`net:[${ns.inode}]`);
  });

  it('refuses bad arguments and a closed NetNs before starting a worker', async () => {
    const ns = track(NetNs.create());
    await expect(ns.runInWorker('relative.mjs')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(ns.runInWorker(fixture, '')).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(ns.runInWorker(fixture, 'default', 'x' as unknown as [])).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
    await expect(ns.runInWorker(fixture, 'default', [() => 1])).rejects.toMatchObject({
      name: 'DataCloneError',
    });
    ns.close();
    await expect(ns.runInWorker(fixture)).rejects.toMatchObject({ code: 'ERR_BPFJS_NETNS_CLOSED' });
  });
});
