/**
 * The libc calls of sockets and shared memory that the map and netns layers need: `socket`,
 * `setsockopt`, `bind`, `listen`, `getsockname` (sockets made inside a netns), `mmap`/`munmap`
 * (ring buffers, mmapable arrays) and a readiness watch on the Node event loop. Bound through
 * koffi on first use, like `libc.ts` (nothing happens at import).
 *
 * @module
 */
import { BpfError, errInvalidArgType, errInvalidArgValue } from './errors.js';
import { adoptFd, type Fd } from './fd.js';
import { openLibc } from './libc.js';
import { validateBytes, validateFd, validateInteger, validateU32 } from './validate.js';

interface Extra {
  readonly socket: (domain: number, type: number, protocol: number) => number;
  readonly setsockopt: (fd: number, level: number, name: number, value: Uint8Array, len: number) => number;
  readonly bind: (fd: number, addr: Uint8Array, len: number) => number;
  readonly listen: (fd: number, backlog: number) => number;
  readonly getsockname: (fd: number, addr: Uint8Array, len: Int32Array) => number;
  readonly mmap: (addr: null, len: number, prot: number, flags: number, fd: number, off: number) => bigint;
  readonly munmap: (addr: bigint, len: number) => number;
  readonly inetPton: (family: number, src: string, dst: Uint8Array) => number;
  readonly inetNtop: (family: number, src: Uint8Array, dst: Uint8Array, size: number) => unknown;
  readonly epollCreate1: (flags: number) => number;
  readonly epollCtl: (epfd: number, op: number, fd: number, event: Uint8Array) => number;
  readonly epollWait: (epfd: number, events: Uint8Array, max: number, timeout: number) => number;
  readonly close: (fd: number) => number;
}

let extra: Extra | undefined;

function lib(): Extra {
  if (extra !== undefined) return extra;
  const libc = openLibc().lib;
  extra = {
    socket: libc.func('int socket(int domain, int type, int protocol)') as Extra['socket'],
    setsockopt: libc.func(
      'int setsockopt(int fd, int level, int name, const void *value, uint32_t len)',
    ) as Extra['setsockopt'],
    bind: libc.func('int bind(int fd, const void *addr, uint32_t len)') as Extra['bind'],
    listen: libc.func('int listen(int fd, int backlog)') as Extra['listen'],
    getsockname: libc.func(
      'int getsockname(int fd, void *addr, _Inout_ int32_t *len)',
    ) as Extra['getsockname'],
    // Declared with an integer result: the address comes back as a number/bigint, never as a
    // pointer object JS could dereference by accident.
    mmap: libc.func(
      'intptr_t mmap(void *addr, size_t len, int prot, int flags, int fd, long off)',
    ) as Extra['mmap'],
    munmap: libc.func('int munmap(intptr_t addr, size_t len)') as Extra['munmap'],
    inetPton: libc.func('int inet_pton(int af, const char *src, void *dst)') as Extra['inetPton'],
    inetNtop: libc.func(
      'void *inet_ntop(int af, const void *src, void *dst, uint32_t size)',
    ) as Extra['inetNtop'],
    epollCreate1: libc.func('int epoll_create1(int flags)') as Extra['epollCreate1'],
    epollCtl: libc.func('int epoll_ctl(int epfd, int op, int fd, void *event)') as Extra['epollCtl'],
    epollWait: libc.func(
      'int epoll_wait(int epfd, _Out_ void *events, int maxevents, int timeout)',
    ) as Extra['epollWait'],
    close: libc.func('int close(int fd)') as Extra['close'],
  };
  return extra;
}

function fail(syscall: string): never {
  throw new BpfError(openLibc().koffi.errno(), syscall);
}

/** `AF_INET`. */
export const AF_INET = 2;
/** `AF_INET6`. */
export const AF_INET6 = 10;
/** `SOCK_STREAM`. */
export const SOCK_STREAM = 1;
/** `SOCK_DGRAM`. */
export const SOCK_DGRAM = 2;
/** `SOCK_NONBLOCK` (`O_NONBLOCK`). */
export const SOCK_NONBLOCK = 0o4000;
/** `SOCK_CLOEXEC` (`O_CLOEXEC`). */
export const SOCK_CLOEXEC = 0o2000000;
/** `SOL_SOCKET`. */
export const SOL_SOCKET = 1;
/** `SO_REUSEADDR`. */
export const SO_REUSEADDR = 2;
/** `SO_REUSEPORT`. */
export const SO_REUSEPORT = 15;

/**
 * `socket(2)` in the calling thread's network namespace; the `Fd` is close-on-exec.
 * @throws BpfError (`syscall: 'socket'`): EAFNOSUPPORT, EMFILE, ...
 */
export function socket(domain: number, type: number, protocol = 0): Fd {
  const d = validateU32(domain, 'domain');
  const t = validateU32(type, 'type');
  const p = validateU32(protocol, 'protocol');
  const n = lib().socket(d, t | SOCK_CLOEXEC, p);
  if (n < 0) fail('socket');
  return adoptFd(n);
}

/**
 * `setsockopt(2)` with an `int` value (`SO_REUSEPORT`, ...).
 * @throws BpfError (`syscall: 'setsockopt'`).
 */
export function setsockoptInt(fd: Fd | number, level: number, name: number, value: number): void {
  const n = validateFd(fd, 'fd');
  const buf = new Uint8Array(4);
  new DataView(buf.buffer).setInt32(0, validateInteger(value, 'value', -0x80000000, 0x7fffffff), true);
  if (lib().setsockopt(n, validateU32(level, 'level'), validateU32(name, 'name'), buf, 4) < 0)
    fail('setsockopt');
}

/**
 * `bind(2)` to a `struct sockaddr_in`/`sockaddr_in6` in bytes (see {@link sockaddr}).
 * @throws BpfError (`syscall: 'bind'`): EADDRINUSE, EADDRNOTAVAIL, ...
 */
export function bind(fd: Fd | number, addr: Uint8Array): void {
  const n = validateFd(fd, 'fd');
  const a = validateBytes(addr, 'addr');
  if (lib().bind(n, a, a.byteLength) < 0) fail('bind');
}

/**
 * `listen(2)`.
 * @throws BpfError (`syscall: 'listen'`).
 */
export function listen(fd: Fd | number, backlog = 511): void {
  const n = validateFd(fd, 'fd');
  if (lib().listen(n, validateInteger(backlog, 'backlog', 0, 0x7fffffff)) < 0) fail('listen');
}

/**
 * `getsockname(2)`: the local address as `{ family, address, port }`.
 * @throws BpfError (`syscall: 'getsockname'`).
 */
export function getsockname(fd: Fd | number): { family: 'IPv4' | 'IPv6'; address: string; port: number } {
  const n = validateFd(fd, 'fd');
  const buf = new Uint8Array(128);
  const len = new Int32Array([128]);
  if (lib().getsockname(n, buf, len) < 0) fail('getsockname');
  return parseSockaddr(buf);
}

/**
 * `struct sockaddr_in` (IPv4 dotted quad) or `struct sockaddr_in6` (any other textual address)
 * bytes for `bind`.
 * @throws TypeError `ERR_INVALID_ARG_VALUE` for an address that is neither.
 */
export function sockaddr(host: string, port: number): Uint8Array {
  if (typeof host !== 'string') throw errInvalidArgType('host', 'of type string', host);
  const p = validateInteger(port, 'port', 0, 65535);
  const v4 = pton(AF_INET, host);
  if (v4 !== undefined) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, p, false);
    b.set(v4.subarray(0, 4), 4);
    return b;
  }
  const v6 = pton(AF_INET6, host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host);
  if (v6 === undefined) {
    throw errInvalidArgValue('host', host, 'must be an IPv4 or IPv6 address');
  }
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, p, false);
  b.set(v6, 8);
  return b;
}

function pton(family: number, host: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  return lib().inetPton(family, host, out) === 1 ? out : undefined;
}

function parseSockaddr(b: Uint8Array): { family: 'IPv4' | 'IPv6'; address: string; port: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const family = v.getUint16(0, true);
  const port = v.getUint16(2, false);
  const text = new Uint8Array(64);
  const src = family === AF_INET ? b.subarray(4, 8) : b.subarray(8, 24);
  lib().inetNtop(family, src, text, text.byteLength);
  const address = new TextDecoder().decode(text.subarray(0, text.indexOf(0)));
  return { family: family === AF_INET ? 'IPv4' : 'IPv6', address, port };
}

/** `PROT_READ`. */
export const PROT_READ = 1;
/** `PROT_WRITE`. */
export const PROT_WRITE = 2;
/** `MAP_SHARED`. */
export const MAP_SHARED = 1;

/** One `mmap(2)`ed region: its memory as an `ArrayBuffer` and what `munmap` needs. */
export interface Mapping {
  /** The mapped bytes. Do not touch them after {@link munmap}: the memory is gone (SIGSEGV). */
  readonly buffer: ArrayBuffer;
  /** The start address. */
  readonly address: bigint;
  /** The length in bytes. */
  readonly length: number;
}

/**
 * `mmap(2)` of `length` bytes of `fd` at `offset` (`MAP_SHARED`): ring buffer pages, mmapable
 * arrays (`BPF_F_MMAPABLE`, 5.5+).
 * @throws BpfError (`syscall: 'mmap'`): EPERM writing a read-only page, EINVAL, ENOMEM.
 */
export function mmap(fd: Fd | number, length: number, prot: number, offset = 0, flags = MAP_SHARED): Mapping {
  const n = validateFd(fd, 'fd');
  const len = validateInteger(length, 'length', 1, Number.MAX_SAFE_INTEGER);
  const off = validateInteger(offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const addr = BigInt(lib().mmap(null, len, validateU32(prot, 'prot'), validateU32(flags, 'flags'), n, off));
  // MAP_FAILED is (void *)-1.
  if (addr === -1n || addr === 0xffff_ffff_ffff_ffffn) fail('mmap');
  return { buffer: openLibc().koffi.view(addr, len), address: addr, length: len };
}

/**
 * `munmap(2)` of a {@link mmap} result. Every view of `mapping.buffer` is invalid afterwards.
 * @throws BpfError (`syscall: 'munmap'`).
 */
export function munmap(mapping: Mapping): void {
  if (lib().munmap(mapping.address, mapping.length) < 0) fail('munmap');
}

/** A readiness watch started by {@link watchFd}. */
export interface FdWatch {
  /** Stops watching (idempotent). Close the watch before the fd. */
  close(): void;
  /** Lets the process exit while the watch is the only thing left (like `timer.unref()`). */
  unref(): void;
  /** Undoes `unref()`. */
  ref(): void;
}

/** Options of {@link watchFd}. */
export interface WatchFdOptions {
  /** Wait for the fd to poll writable instead of readable (user ring buffers: room to write). */
  readonly writable?: boolean;
  /**
   * Edge-triggered: call back once per wake-up of the fd's wait queue, not as long as the
   * condition holds (through an epoll fd with `EPOLLET`, itself watched on the event loop). For fds
   * that stay ready while the caller still cannot proceed — a user ring buffer polls writable
   * while it is not completely full, though the next record may not fit — so nothing spins.
   */
  readonly edge?: boolean;
}

const EPOLLIN = 0x001;
const EPOLLOUT = 0x004;
const EPOLLET = 0x8000_0000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CLOEXEC = 0o2000000;

/**
 * Calls `onReady` on the Node event loop (libuv `uv_poll`, through koffi) each time `fd` polls
 * readable (or writable, `{ writable: true }`): no thread is held and nothing spins while idle.
 * Level-triggered by default: `onReady` must consume what made the fd ready (or `close()` the
 * watch), or it is called again at once. With `{ edge: true }`, once per wake-up of the fd (an
 * epoll fd registered with `EPOLLET` is watched; wake-ups before the first callback are kept).
 * Any pollable fd works (ring buffer maps, eventfds, sockets, epoll fds).
 * @throws TypeError for a bad fd, callback or options; BpfError from epoll; Error from libuv if
 *   the fd cannot be polled.
 */
export function watchFd(fd: Fd | number, onReady: () => void, options: WatchFdOptions = {}): FdWatch {
  const n = validateFd(fd, 'fd');
  if (typeof onReady !== 'function') throw errInvalidArgType('onReady', 'of type function', onReady);
  if (typeof options !== 'object' || options === null)
    throw errInvalidArgType('options', 'an object', options);
  const writable = options.writable === true;
  if (options.edge !== true) {
    const handle = openLibc().koffi.node.poll(n, writable ? { writable: true } : { readable: true }, () =>
      onReady(),
    );
    return pollWatch(handle, () => {});
  }
  const l = lib();
  const ep = l.epollCreate1(EPOLL_CLOEXEC);
  if (ep < 0) fail('epoll_create1');
  const event = new Uint8Array(16);
  new DataView(event.buffer).setUint32(0, (writable ? EPOLLOUT : EPOLLIN) | EPOLLET, true);
  if (l.epollCtl(ep, EPOLL_CTL_ADD, n, event) < 0) {
    const err = new BpfError(openLibc().koffi.errno(), 'epoll_ctl');
    l.close(ep);
    throw err;
  }
  // struct epoll_event is 12 bytes (packed) on x86-64 and 16 elsewhere: 16 bytes hold one.
  const out = new Uint8Array(16);
  const handle = openLibc().koffi.node.poll(ep, { readable: true }, () => {
    // Take the queued edge off the epoll fd (it polls readable until then), then report it.
    let queued = l.epollWait(ep, out, 1, 0);
    while (queued > 0) queued = l.epollWait(ep, out, 1, 0);
    onReady();
  });
  return pollWatch(handle, () => l.close(ep));
}

function pollWatch(
  handle: ReturnType<ReturnType<typeof openLibc>['koffi']['node']['poll']>,
  after: () => void,
): FdWatch {
  let open = true;
  return {
    close() {
      if (!open) return;
      open = false;
      handle.close();
      after();
    },
    unref: () => handle.unref(),
    ref: () => handle.ref(),
  };
}
