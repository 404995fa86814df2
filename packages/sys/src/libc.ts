/**
 * The only place that touches koffi: koffi itself and libc are loaded lazily, on the first call
 * that needs them, so importing `@bpfjs/sys` loads no native code and has no side effects (the
 * package is `sideEffects: false`).
 *
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import { BpfError } from './errors.js';

type Koffi = typeof import('koffi');

/** The C library bpfjs binds: glibc's. musl (Alpine) names its libc differently and is refused. */
export const LIBC_NAME = 'libc.so.6';

/** A platform bpfjs cannot run on: `code` `'ERR_BPFJS_UNSUPPORTED_PLATFORM'`. */
function platformError(message: string, cause?: unknown): Error & { code: string } {
  const err = new Error(message, cause === undefined ? undefined : { cause }) as Error & { code: string };
  err.code = 'ERR_BPFJS_UNSUPPORTED_PLATFORM';
  return err;
}

/** koffi and the C library opened with it. */
export interface OpenedLibc {
  readonly koffi: Koffi;
  readonly lib: ReturnType<Koffi['load']>;
}

let opened: OpenedLibc | undefined;

/**
 * Loads koffi (a native addon) and opens `name` with it, once for glibc's `libc.so.6` (every
 * module that binds libc functions shares it).
 * @throws BpfError `EMFILE`/`ENFILE` (with a hint) if the process or system is out of descriptors.
 * @throws Error `ERR_BPFJS_UNSUPPORTED_PLATFORM` if the library cannot be opened otherwise: bpfjs
 *   needs glibc (on musl there is no `libc.so.6`).
 */
export function openLibc(name: string = LIBC_NAME): OpenedLibc {
  if (name === LIBC_NAME && opened !== undefined) return opened;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const result = { koffi, lib: koffi.load(name) };
    if (name === LIBC_NAME) opened = result;
    return result;
  } catch (err) {
    // Loading reads koffi's files and maps libc: a process out of descriptors fails here, on its
    // first call, and that is no platform problem.
    const text = `${(err as { code?: unknown })?.code} ${err instanceof Error ? err.message : String(err)}`;
    const full = /\bENFILE\b|too many open files in system/i.test(text);
    if (full || /\bEMFILE\b|too many open files/i.test(text)) {
      throw new BpfError(full ? 23 : 24, 'open', {
        path: name,
        hint:
          `${full ? 'the system' : 'this process'} has too many open files: @bpfjs/sys loads koffi and ` +
          `${name} on its first call and needs a free descriptor; close some (or raise the limit: ulimit -n)`,
        cause: err,
      });
    }
    throw platformError(
      `@bpfjs/sys could not load glibc's ${name} (${err instanceof Error ? err.message : String(err)}): ` +
        'bpfjs runs on glibc-based Linux only (Debian, Ubuntu, Fedora, RHEL...); musl libc (Alpine) is not supported',
      err,
    );
  }
}

/** Syscall numbers that differ between the 64-bit ABIs we support. */
const SYSCALL_NUMBERS: Readonly<Record<string, { bpf: number; gettid: number }>> = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x64: { bpf: 321, gettid: 186 },
  // include/uapi/asm-generic/unistd.h (arm64, riscv64, loongarch64)
  arm64: { bpf: 280, gettid: 178 },
  riscv64: { bpf: 280, gettid: 178 },
  loong64: { bpf: 280, gettid: 178 },
};

/** The libc functions bpfjs calls, bound once. */
export interface Libc {
  readonly nr: { readonly bpf: number; readonly gettid: number };
  /** `long syscall(long nr, int cmd, void *attr, unsigned int size)` (bpf only). */
  readonly syscallBpf: (nr: number, cmd: number, attr: Uint8Array, size: number) => number;
  /**
   * `long syscall(long nr, int cmd, intptr_t attr, unsigned int size)` (bpf only): the attr by
   * address, for module-level scratch attrs whose address is cached (cheaper for koffi than
   * a `Uint8Array` to `void *`). The caller keeps the buffer alive.
   */
  readonly syscallBpfAddr: (nr: number, cmd: number, attr: number, size: number) => number;
  readonly syscall0: (nr: number) => number;
  readonly close: (fd: number) => number;
  readonly fcntlInt: (fd: number, cmd: number, arg: number) => number;
  readonly open: (path: string, flags: number) => number;
  readonly setns: (fd: number, nstype: number) => number;
  readonly unshare: (flags: number) => number;
  readonly mount: (
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ) => number;
  readonly umount2: (target: string, flags: number) => number;
  readonly statfs: (path: string, buf: Uint8Array) => number;
  /** `int fstat(int fd, struct stat *buf)` (glibc 2.33+ exports it as a function). */
  readonly fstat: (fd: number, buf: Uint8Array) => number;
  /** `int getrlimit(int resource, struct rlimit *rlim)` (two `rlim_t`, 16 bytes). */
  readonly getrlimit: (resource: number, buf: Uint8Array) => number;
  /** `int setrlimit(int resource, const struct rlimit *rlim)`. */
  readonly setrlimit: (resource: number, buf: Uint8Array) => number;
  /** Reads `errno` of the calling thread; call it right after the failed call. */
  readonly errno: () => number;
  /** koffi's address of a buffer's memory (stable for the buffer's lifetime). */
  readonly address: (buf: Uint8Array) => bigint;
}

let libc: Libc | undefined;

/**
 * Loads koffi and libc on first use and returns the bound functions.
 * @throws Error `ERR_BPFJS_UNSUPPORTED_PLATFORM` if this is not a supported 64-bit glibc Linux.
 */
export function getLibc(): Libc {
  if (libc !== undefined) return libc;
  if (process.platform !== 'linux') {
    throw platformError(`@bpfjs/sys needs Linux (this is ${process.platform})`);
  }
  const nr = SYSCALL_NUMBERS[process.arch];
  if (nr === undefined) {
    throw platformError(`@bpfjs/sys does not know the syscall numbers of ${process.arch}`);
  }
  const { koffi, lib } = openLibc();
  // Declared non-variadically: on the supported ABIs, integer/pointer arguments of a variadic
  // callee are passed exactly like fixed ones, and koffi's fixed-signature calls are faster.
  const syscallBpf = lib.func('long syscall(long nr, int cmd, void *attr, unsigned int size)');
  const syscallBpfAddr = lib.func('long syscall(long nr, int cmd, intptr_t attr, unsigned int size)');
  const syscall0 = lib.func('long syscall(long nr)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, ...)');
  const open = lib.func('int open(const char *path, int flags, ...)');
  libc = {
    nr,
    syscallBpf: syscallBpf as Libc['syscallBpf'],
    syscallBpfAddr: syscallBpfAddr as Libc['syscallBpfAddr'],
    syscall0: (n) => Number(syscall0(n)),
    close: lib.func('int close(int fd)') as Libc['close'],
    fcntlInt: (fd, cmd, arg) => fcntl(fd, cmd, 'int', arg) as number,
    open: (path, flags) => open(path, flags) as number,
    setns: lib.func('int setns(int fd, int nstype)') as Libc['setns'],
    unshare: lib.func('int unshare(int flags)') as Libc['unshare'],
    mount: lib.func(
      'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)',
    ) as Libc['mount'],
    umount2: lib.func('int umount2(const char *target, int flags)') as Libc['umount2'],
    statfs: lib.func('int statfs(const char *path, void *buf)') as Libc['statfs'],
    fstat: lib.func('int fstat(int fd, void *buf)') as Libc['fstat'],
    getrlimit: lib.func('int getrlimit(int resource, void *rlim)') as Libc['getrlimit'],
    setrlimit: lib.func('int setrlimit(int resource, void *rlim)') as Libc['setrlimit'],
    errno: () => koffi.errno(),
    address: (buf) => koffi.address(buf),
  };
  return libc;
}
