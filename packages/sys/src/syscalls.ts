/**
 * The non-bpf system calls the upper layers need: namespaces (setns, unshare), bpffs mounts
 * (mount, umount2, statfs), thread ids and opening paths as owned `Fd`s. They act on the calling
 * thread where the kernel says so (setns, unshare).
 *
 * @module
 */
import { BpfError, errInvalidArgValue } from './errors.js';
import { adoptFd, type Fd } from './fd.js';
import { getLibc } from './libc.js';
import { validateFd, validateInteger, validatePath, validateU32 } from './validate.js';

// include/uapi/linux/sched.h
/** `unshare`/`setns` flag: network namespace. */
export const CLONE_NEWNET = 0x40000000;
/** `unshare`/`setns` flag: mount namespace. */
export const CLONE_NEWNS = 0x00020000;

// include/uapi/linux/mount.h
/** Mount read-only. */
export const MS_RDONLY = 1;
/** Ignore suid and sgid bits. */
export const MS_NOSUID = 2;
/** Disallow access to device special files. */
export const MS_NODEV = 4;
/** Disallow program execution. */
export const MS_NOEXEC = 8;
/** Alter the flags of a mounted file system. */
export const MS_REMOUNT = 32;
/** Bind mount. */
export const MS_BIND = 4096;
/** Recursive (with MS_BIND or a propagation flag). */
export const MS_REC = 16384;
/** Propagation: private. */
export const MS_PRIVATE = 1 << 18;
/** Propagation: slave. */
export const MS_SLAVE = 1 << 19;
/** Propagation: shared. */
export const MS_SHARED = 1 << 20;
/** `umount2` flag: force. */
export const MNT_FORCE = 1;
/** `umount2` flag: lazy unmount (detach now, clean up when no longer busy). */
export const MNT_DETACH = 2;
/** `umount2` flag: mark for expiry. */
export const MNT_EXPIRE = 4;
/** `umount2` flag: do not follow a symlink at `target`. */
export const UMOUNT_NOFOLLOW = 8;

// include/uapi/linux/magic.h
/** `statfs` type of a bpf file system. */
export const BPF_FS_MAGIC = 0xcafe4a11;
/** `statfs` type of nsfs (`/proc/<pid>/ns/*`, bind-mounted namespace files). */
export const NSFS_MAGIC = 0x6e736673;

// include/uapi/asm-generic/fcntl.h; arm64 moves O_DIRECTORY/O_NOFOLLOW (arch/arm64/.../fcntl.h).
const ARM = process.arch === 'arm64';
/** `open` flag: read only. */
export const O_RDONLY = 0;
/** `O_CREAT` (refused by {@link openPath}). */
export const O_CREAT = 0o100;
// The bit that makes O_TMPFILE (O_TMPFILE = __O_TMPFILE | O_DIRECTORY on x86-64 and aarch64).
const O_TMPFILE_BIT = 0o20000000;
/** `open` flag: write only. */
export const O_WRONLY = 1;
/** `open` flag: read and write. */
export const O_RDWR = 2;
/** `open` flag: fail unless the path is a directory. */
export const O_DIRECTORY = ARM ? 0o40000 : 0o200000;
/** `open` flag: do not follow a final symlink. */
export const O_NOFOLLOW = ARM ? 0o100000 : 0o400000;
/** `open` flag: close on exec (always added by {@link openPath}). */
export const O_CLOEXEC = 0o2000000;
/** `open` flag: a path-only descriptor. */
export const O_PATH = 0o10000000;
/** `open` flag: non-blocking (a FIFO opens at once instead of waiting for a writer). */
export const O_NONBLOCK = 0o4000;

/**
 * `setns(2)`: moves the calling thread into the namespace `fd` refers to. `nstype` is 0 (any) or a
 * `CLONE_NEW*` flag that the namespace must match. Acts on the calling thread only.
 * @throws BpfError (`syscall: 'setns'`): EINVAL for a wrong type, EPERM without CAP_SYS_ADMIN.
 */
export function setns(fd: Fd | number, nstype = 0): void {
  const n = validateFd(fd, 'fd');
  const t = validateU32(nstype, 'nstype');
  const libc = getLibc();
  if (libc.setns(n, t | 0) === -1) throw new BpfError(libc.errno(), 'setns');
}

/**
 * `unshare(2)`: gives the calling thread new namespaces (`CLONE_NEWNET`, `CLONE_NEWNS`, ...).
 * @throws BpfError (`syscall: 'unshare'`): EPERM without CAP_SYS_ADMIN, EINVAL for bad flags.
 */
export function unshare(flags: number): void {
  const f = validateU32(flags, 'flags');
  const libc = getLibc();
  if (libc.unshare(f | 0) === -1) throw new BpfError(libc.errno(), 'unshare');
}

/**
 * `mount(2)`. For a bpf file system: `mount('bpf', dir, 'bpf', 0)`. `source` and `fstype` may be
 * `null` (bind mounts, propagation changes).
 * @throws BpfError (`syscall: 'mount'`, `path: target`): EPERM without CAP_SYS_ADMIN, ENOENT, ...
 */
export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags = 0,
  data?: string,
): void {
  const src = source === null ? null : validatePath(source, 'source');
  const tgt = validatePath(target, 'target');
  const fs = fstype === null ? null : validatePath(fstype, 'fstype');
  const f = validateU32(flags, 'flags');
  const d = data === undefined ? null : validatePath(data, 'data');
  const libc = getLibc();
  if (libc.mount(src, tgt, fs, f, d) === -1) throw new BpfError(libc.errno(), 'mount', { path: tgt });
}

/**
 * `umount2(2)`: unmounts `target` (`MNT_DETACH` for a lazy unmount).
 * @throws BpfError (`syscall: 'umount2'`, `path`): EINVAL if not a mount point, EBUSY, EPERM.
 */
export function umount2(target: string, flags = 0): void {
  const tgt = validatePath(target, 'target');
  const f = validateInteger(flags, 'flags', 0, 0x7fffffff);
  const libc = getLibc();
  if (libc.umount2(tgt, f) === -1) throw new BpfError(libc.errno(), 'umount2', { path: tgt });
}

/** What `statfs(2)` reports about a file system. */
export interface StatFs {
  /** File system magic (`BPF_FS_MAGIC` for bpffs). */
  readonly type: number;
  /** Optimal transfer block size. */
  readonly blockSize: number;
  /** Total data blocks. */
  readonly blocks: number;
  /** Free blocks. */
  readonly blocksFree: number;
  /** Free blocks available to unprivileged users. */
  readonly blocksAvailable: number;
  /** Total inodes. */
  readonly files: number;
  /** Free inodes. */
  readonly filesFree: number;
  /** Maximum length of file names. */
  readonly nameMax: number;
  /** Fragment size. */
  readonly fragmentSize: number;
  /** Mount flags (`ST_*`). */
  readonly flags: number;
}

// struct statfs of the 64-bit Linux ABIs (x86_64, and the generic one of arm64/riscv64): eleven
// 8-byte words (f_type, f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_fsid,
// f_namelen, f_frsize, f_flags) then f_spare[4]; 120 bytes. libc's struct, not in the UAPI set.
const STATFS_SIZE = 120;
// Room to spare in case a libc's struct is longer; only the first 88 bytes are read.
const STATFS_BUFFER = 256;

/**
 * `statfs(2)` on `path`.
 * @throws BpfError (`syscall: 'statfs'`, `path`): ENOENT, EACCES, ...
 */
export function statfs(path: string): StatFs {
  const p = validatePath(path, 'path');
  const buf = new Uint8Array(new ArrayBuffer(Math.max(STATFS_SIZE, STATFS_BUFFER)));
  const libc = getLibc();
  if (libc.statfs(p, buf) === -1) throw new BpfError(libc.errno(), 'statfs', { path: p });
  const dv = new DataView(buf.buffer);
  const word = (i: number) => Number(dv.getBigUint64(i * 8, true));
  return {
    type: word(0),
    blockSize: word(1),
    blocks: word(2),
    blocksFree: word(3),
    blocksAvailable: word(4),
    files: word(5),
    filesFree: word(6),
    nameMax: word(8),
    fragmentSize: word(9),
    flags: word(10),
  };
}

/**
 * True if `path` is on a bpf file system (`statfs` type `BPF_FS_MAGIC`).
 * @throws BpfError if `path` cannot be stat'ed (e.g. ENOENT).
 */
export function isBpffs(path: string): boolean {
  return statfs(path).type === BPF_FS_MAGIC;
}

/** `gettid(2)`: the kernel thread id of the calling thread. */
export function gettid(): number {
  const libc = getLibc();
  return libc.syscall0(libc.nr.gettid);
}

/**
 * `open(2)` with `O_CLOEXEC` always added; returns an owned `Fd` (moved to >= 3 if needed).
 * Typical: `openPath('/proc/thread-self/ns/net')` (flags default `O_RDONLY`).
 * @throws BpfError (`syscall: 'open'`, `path`): ENOENT, EACCES, ...
 */
export function openPath(path: string, flags = O_RDONLY): Fd {
  const p = validatePath(path, 'path');
  const f = validateInteger(flags, 'flags', 0, 0x7fffffff);
  // open(2) reads a third `mode` argument only for O_CREAT / O_TMPFILE; we pass none, so the
  // kernel would take whatever is in that register as the new file's mode. Opening existing
  // objects is all this is for: refuse file creation outright.
  if ((f & O_CREAT) !== 0 || (f & O_TMPFILE_BIT) !== 0) {
    throw errInvalidArgValue(
      'flags',
      flags,
      'must not contain O_CREAT or O_TMPFILE (openPath opens existing paths)',
    );
  }
  const libc = getLibc();
  const n = libc.open(p, f | O_CLOEXEC);
  if (n === -1) throw new BpfError(libc.errno(), 'open', { path: p });
  return adoptFd(n);
}
