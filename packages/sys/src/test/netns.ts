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
