/**
 * What `/proc` tells about namespaces without any syscall beyond stat/readlink/readdir: the nsfs
 * device, the type of an nsfs file, and who still refers to a network namespace.
 *
 * @module
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { validateInteger } from '@bpfjs/sys';

/** `/proc/thread-self/ns/net`: the calling thread's netns (Linux >= 3.17 for `thread-self`). */
export const THREAD_NETNS = '/proc/thread-self/ns/net';

let cachedNsfsDev: number | undefined;

/**
 * The device number of nsfs, the kernel's internal filesystem for namespace files. Every
 * namespace file (`/proc/PID/ns/*` and their bind mounts) has this `st_dev`.
 */
export function nsfsDev(): number {
  if (cachedNsfsDev === undefined) cachedNsfsDev = statSync(THREAD_NETNS).dev;
  return cachedNsfsDev;
}

/** A namespace link as the kernel prints it: `net:[4026531833]` → `{ type: 'net', inode }`. */
export interface NsLink {
  readonly type: string;
  readonly inode: number;
}

/** Parses `TYPE:[INODE]` (the target of `/proc/PID/ns/*` links and of fds open on them). */
export function parseNsLink(text: string): NsLink | undefined {
  const m = /^([a-z_]+):\[(\d+)\]$/.exec(text);
  if (m === null) return undefined;
  return { type: m[1]!, inode: Number(m[2]) };
}

/**
 * The namespace type of the nsfs file open as `fd` in this process, from the fd's `/proc` link
 * (`net:[…]`). Undefined when the link shows a path instead: an fd opened through a bind mount
 * (`/run/netns/NAME`) reads back as that path.
 */
export function nsTypeOfFd(fd: number): string | undefined {
  try {
    return parseNsLink(readlinkSync(`/proc/self/fd/${fd}`))?.type;
  } catch {
    return undefined;
  }
}

/** One mount from a `mountinfo` file (only the fields used here). */
export interface MountEntry {
  /** The root of the mount within its filesystem; for nsfs `net:[INODE]`. */
  readonly root: string;
  /** Where it is mounted, with the kernel's octal escapes decoded. */
  readonly mountPoint: string;
  readonly fsType: string;
}

/** Decodes the `\040`-style escapes the kernel uses in `mountinfo` paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** Parses the text of `/proc/PID/mountinfo` (see proc(5)). Malformed lines are skipped. */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 5 || right.length < 1) continue;
    out.push({
      root: unescapeMountPath(left[3]!),
      mountPoint: unescapeMountPath(left[4]!),
      fsType: right[0]!,
    });
  }
  return out;
}

/**
 * The namespace type of nsfs inode `inode` if it is bind-mounted somewhere in this process's mount
 * namespace (a mount of fstype `nsfs` whose root is `TYPE:[INODE]`).
 */
export function nsTypeOfMountedInode(inode: number): string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  for (const m of parseMountInfo(text)) {
    if (m.fsType !== 'nsfs') continue;
    const link = parseNsLink(m.root);
    if (link !== undefined && link.inode === inode) return link.type;
  }
  return undefined;
}

/** Something that keeps a network namespace alive, as far as `/proc` shows. */
export type NetNsHolder =
  /** A thread whose netns it is. */
  | { readonly kind: 'thread'; readonly pid: number; readonly tid: number }
  /** An open file descriptor on its nsfs file (`/proc/…/ns/net` or a bind mount of it). */
  | { readonly kind: 'fd'; readonly pid: number; readonly fd: number }
  /** A bind mount of its nsfs file (iproute2's `/run/netns/NAME`), seen from process `pid`. */
  | { readonly kind: 'mount'; readonly pid: number; readonly mountPoint: string };

function numericEntries(dir: string): number[] {
  try {
    return readdirSync(dir)
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
}

function readlinkOrUndefined(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Lists every reference to the network namespace with nsfs inode `inode` that this process can
 * see in `/proc`: threads inside it, fds open on it, and nsfs bind mounts of it (one mountinfo per
 * mount namespace). Processes that vanish or cannot be read during the scan are skipped.
 *
 * Not visible here, yet able to keep a netns alive: sockets created inside it (a socket holds its
 * netns), processes in other PID namespaces this `/proc` does not show, and `/proc` entries this
 * process may not read. An empty result therefore means "no visible reference", not "destroyed".
 */
export function findNetNsHolders(inode: number): NetNsHolder[] {
  // A non-number would match nothing and report "no holders": refuse it before scanning.
  validateInteger(inode, 'inode', 1, Number.MAX_SAFE_INTEGER);
  const holders: NetNsHolder[] = [];
  const dev = nsfsDev();
  const seenMountNs = new Set<string>();
  const wanted = `net:[${inode}]`;
  for (const pid of numericEntries('/proc')) {
    for (const tid of numericEntries(`/proc/${pid}/task`)) {
      if (readlinkOrUndefined(`/proc/${pid}/task/${tid}/ns/net`) === wanted) {
        holders.push({ kind: 'thread', pid, tid });
      }
    }
    for (const fd of numericEntries(`/proc/${pid}/fd`)) {
      const target = readlinkOrUndefined(`/proc/${pid}/fd/${fd}`);
      if (target === undefined) continue;
      if (target === wanted) {
        holders.push({ kind: 'fd', pid, fd });
      } else if (target.startsWith('/')) {
        // An fd opened through a bind mount reads back as the mount's path: stat what it points at.
        try {
          const st = statSync(`/proc/${pid}/fd/${fd}`);
          if (st.dev === dev && st.ino === inode) holders.push({ kind: 'fd', pid, fd });
        } catch {
          // gone, or not ours to stat
        }
      }
    }
    const mntNs = readlinkOrUndefined(`/proc/${pid}/ns/mnt`);
    if (mntNs === undefined || seenMountNs.has(mntNs)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    } catch {
      continue;
    }
    seenMountNs.add(mntNs);
    for (const m of parseMountInfo(text)) {
      if (m.fsType === 'nsfs' && m.root === wanted) {
        holders.push({ kind: 'mount', pid, mountPoint: m.mountPoint });
      }
    }
  }
  return holders;
}

/** A short human description of holders, for error messages. */
export function describeHolders(holders: readonly NetNsHolder[]): string {
  const shown = holders.slice(0, 8).map((h) => {
    switch (h.kind) {
      case 'thread':
        return `thread ${h.tid} of pid ${h.pid}`;
      case 'fd':
        return `fd ${h.fd} of pid ${h.pid}`;
      case 'mount':
        return `mount ${h.mountPoint} (seen from pid ${h.pid})`;
    }
    return '';
  });
  const more = holders.length > shown.length ? `, and ${holders.length - shown.length} more` : '';
  return shown.join(', ') + more;
}
