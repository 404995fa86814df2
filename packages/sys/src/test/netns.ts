/**
 * Test helpers: throwaway network namespaces made with this package's own syscalls.
 * @internal
 */
import { statSync } from 'node:fs';
import type { Fd } from '../fd.js';
import { CLONE_NEWNET, openPath, setns, unshare } from '../syscalls.js';

/** Creates a new netns (unshare on this thread, then back) and returns an `Fd` to it. */
export function newNetns(): Fd {
  const home = openPath('/proc/thread-self/ns/net');
  try {
    unshare(CLONE_NEWNET);
    try {
      return openPath('/proc/thread-self/ns/net');
    } finally {
      setns(home, CLONE_NEWNET);
    }
  } finally {
    home.close();
  }
}

/** Runs `fn` with this thread inside the netns `ns`, and comes back. */
export function inNetns<T>(ns: Fd, fn: () => T): T {
  const home = openPath('/proc/thread-self/ns/net');
  try {
    setns(ns, CLONE_NEWNET);
    try {
      return fn();
    } finally {
      setns(home, CLONE_NEWNET);
    }
  } finally {
    home.close();
  }
}

/** The inode of a namespace fd. */
export function inodeOf(ns: Fd): number {
  return statSync(`/proc/self/fd/${ns.fd}`).ino;
}

/**
 * Waits (polling, with a deadline) until the init netns has no flow dissector: while it has one,
 * every other netns's flow dissector attach fails with EEXIST (serial tests of other packages use
 * it). Throws with the attached program ids if the deadline passes.
 */
export async function waitForInitFlowDissectorFree(timeoutMs = 30_000): Promise<void> {
  const { progQuery } = await import('../prog.js');
  const { BPF_FLOW_DISSECTOR } = await import('@bpfjs/uapi/linux/bpf');
  const { waitFor } = await import('@bpfjs/testkit');
  using init = openPath('/proc/self/ns/net');
  let ids: number[] = [];
  await waitFor(
    () => {
      ids = progQuery({ targetFd: init, attachType: BPF_FLOW_DISSECTOR }).progIds;
      return ids.length === 0;
    },
    { timeoutMs, intervalMs: 50, description: 'the init netns to have no flow dissector' },
  ).catch((e: unknown) => {
    throw new Error(`the init netns still has flow dissector program(s) ${ids.join(', ')} attached`, {
      cause: e,
    });
  });
}
