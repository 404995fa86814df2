/**
 * `NetNs`: one network namespace, held open by an `Fd`, identified by its nsfs inode.
 *
 * Namespaces are per THREAD in Linux: `setns(2)`/`unshare(2)` move only the calling thread. Every
 * method here that switches does it on the calling (JavaScript) thread, synchronously, and switches
 * back in `finally` to a descriptor of the thread's previous netns opened just before (never to
 * `/proc/1/ns/net`, which need not be openable). Nothing runs on the libuv thread pool.
 *
 * @module
 */
import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  type Stats,
  stat,
  statSync,
  unlinkSync,
} from 'node:fs';
import { types } from 'node:util';
import {
  BpfError,
  CLONE_NEWNET,
  errInvalidArgType,
  type Fd,
  MNT_DETACH,
  MS_BIND,
  MS_REC,
  MS_SHARED,
  mount,
  O_NONBLOCK,
  O_RDONLY,
  openPath,
  optionKeys,
  setns,
  umount2,
  unshare,
  validateFd,
  validateObject,
} from '@bpfjs/sys';
import { NetNsError, NetNsTypeError } from './errors.js';
import { nsfsDev, nsTypeOfFd, nsTypeOfMountedInode, THREAD_NETNS } from './proc.js';
import { makeSocket, type NetNsSocketOptions } from './socket.js';
import { checkName, checkPath, checkPid, NETNS_RUN_DIR, namedPath, nameOfPath } from './validate.js';
import { moduleUrlOf, runInWorkerThread } from './worker.js';

const CREATE_KEYS = optionKeys('name');

const NETNS_BRAND = Symbol.for('bpfjs.NetNs');

/** Options of {@link NetNs.create}. */
export interface CreateNetNsOptions {
  /**
   * Make the netns persistent under this name, exactly as `ip netns add NAME` would
   * (`/run/netns/NAME`). Without it the netns is anonymous: it lives while the returned `NetNs`
   * (or anything else) holds it.
   */
  readonly name?: string;
}

/** True for errors from a Node `fs` call or a sys wrapper that carry this errno name. */
function hasCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/**
 * Runs a Node `fs` call and turns its `SystemError` into a `BpfError`, so that every kernel
 * failure out of this package has one shape (`code`, positive `errno`, `syscall`, `path`).
 */
function fsCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = e as { errno?: unknown; syscall?: unknown; path?: unknown };
    if (typeof err.errno === 'number' && typeof err.syscall === 'string') {
      throw new BpfError(Math.abs(err.errno), err.syscall, {
        path: typeof err.path === 'string' ? err.path : undefined,
        cause: e,
      });
    }
    throw e;
  }
}

/** An `Fd` on the calling thread's current netns (`/proc/thread-self/ns/net`). */
function openThreadNetNs(): Fd {
  return openPath(THREAD_NETNS);
}

/**
 * Moves the calling thread back into `saved`. Failing here would leave the thread in the wrong
 * netns, so the error says so loudly.
 */
function restoreThread(saved: Fd): void {
  try {
    setns(saved, CLONE_NEWNET);
  } catch (cause) {
    throw new NetNsError(
      'ERR_BPFJS_NETNS_RESTORE',
      'could not move the calling thread back to its previous network namespace; it is left in another one',
      { cause },
    );
  }
}

let threadPoolStarted = false;

/**
 * Makes sure libuv's thread pool exists before the calling thread changes netns. libuv starts the
 * pool threads lazily, on the first request, from the thread that submits it, and a new thread
 * inherits the namespaces of the thread that creates it: a first async `fs` call inside `run()`
 * would otherwise put the whole pool into that netns for good. One throwaway request here creates
 * the pool synchronously, outside.
 */
function startThreadPool(): void {
  if (threadPoolStarted) return;
  threadPoolStarted = true;
  stat('/', () => {});
}

/** Functions whose body would not run (entirely) during the call: async and generator functions. */
function deferredKind(fn: Function): string | undefined {
  if (types.isAsyncFunction(fn)) return 'an async function';
  if (types.isGeneratorFunction(fn)) return 'a generator function';
  const ctor = (fn as { constructor?: { name?: unknown } }).constructor?.name;
  if (ctor === 'AsyncFunction' || ctor === 'AsyncGeneratorFunction') return 'an async function';
  if (ctor === 'GeneratorFunction') return 'a generator function';
  return undefined;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

/**
 * Checks that the open `fd` is a network namespace file and returns its `fstat`.
 * Cheap checks first: nsfs device, then the type the fd's `/proc` link names (`net:[…]`), then
 * nsfs bind mounts in this mount namespace; only if all are silent (a bind mount made in another
 * mount namespace) does it ask the kernel by entering and leaving the netns (needs CAP_SYS_ADMIN).
 * @throws NetNsTypeError `ERR_BPFJS_NOT_NETNS`.
 */
function checkNetNsFd(fd: Fd, path: string): Stats {
  const st = fsCall(() => fstatSync(fd.fd));
  if (st.dev !== nsfsDev() || !st.isFile()) {
    throw new NetNsTypeError('ERR_BPFJS_NOT_NETNS', `${path} is not a network namespace file (not on nsfs)`);
  }
  const type = nsTypeOfFd(fd.fd) ?? nsTypeOfMountedInode(st.ino) ?? probeIsNetNs(fd);
  if (type !== 'net') {
    throw new NetNsTypeError(
      'ERR_BPFJS_NOT_NETNS',
      `${path} is ${type === undefined ? 'a namespace file of another type' : `a ${type} namespace`}, not a network namespace`,
    );
  }
  return st;
}

/** Asks the kernel whether `fd` is a netns: setns() refuses another type with EINVAL. */
function probeIsNetNs(fd: Fd): 'net' | undefined {
  startThreadPool();
  const saved = openThreadNetNs();
  try {
    try {
      setns(fd, CLONE_NEWNET);
    } catch (e) {
      if (BpfError.isInstance(e) && e.code === 'EINVAL') return undefined;
      throw e;
    }
    restoreThread(saved);
    return 'net';
  } finally {
    saved.close();
  }
}

/**
 * Makes `/run/netns` exist and be a shared mount, the way iproute2's `netns_add` does: try
 * `MS_SHARED|MS_REC`; on EINVAL (not a mount point) bind-mount the directory onto itself and retry.
 * Returns what it changed so a failed create can undo it.
 */
function prepareRunDir(): { createdDir: boolean; madeMount: boolean } {
  const created = fsCall(() => mkdirSync(NETNS_RUN_DIR, { recursive: true, mode: 0o755 }));
  const state = { createdDir: created !== undefined, madeMount: false };
  try {
    for (;;) {
      try {
        mount('none', NETNS_RUN_DIR, 'none', MS_SHARED | MS_REC);
        return state;
      } catch (e) {
        if (!(BpfError.isInstance(e) && e.code === 'EINVAL') || state.madeMount) throw e;
        mount(NETNS_RUN_DIR, NETNS_RUN_DIR, 'none', MS_BIND | MS_REC);
        state.madeMount = true;
      }
    }
  } catch (e) {
    undoRunDir(state);
    throw e;
  }
}

/**
 * Undoes what {@link prepareRunDir} did, as far as it is safe: a plain unmount (fails with EBUSY,
 * and is then left alone, if another namespace got mounted below meanwhile) and `rmdir` (fails if
 * not empty).
 */
function undoRunDir(state: { createdDir: boolean; madeMount: boolean }): void {
  if (state.madeMount) {
    try {
      umount2(NETNS_RUN_DIR, 0);
    } catch {
      // in use by a concurrent `ip netns add`: theirs now
    }
  }
  if (state.createdDir) {
    try {
      rmdirSync(NETNS_RUN_DIR);
    } catch {
      // not empty: someone else's files
    }
  }
}

/**
 * One network namespace, held open by an owned `Fd` (so it stays alive while this object is open).
 * Identity is the nsfs inode ({@link NetNs.inode}), the number `ip netns identify`, `lsns`,
 * `stat -L -c %i` and the kernel's bpf link info (`netns_ino`) use.
 *
 * Switching (`run`, `create`) acts on the calling thread only and always switches back.
 * Needs CAP_SYS_ADMIN for `create`, `run`, `runInWorker` and `delete`; opening needs only read
 * access to the file (`/proc/PID/ns/net` of another user's process needs ptrace access).
 */
export class NetNs implements Disposable {
  readonly #fd: Fd;
  readonly #inode: number;
  readonly #dev: number;
  readonly #name: string | undefined;
  readonly #path: string | undefined;

  private constructor(fd: Fd, st: { ino: number; dev: number }, path?: string, name?: string) {
    this.#fd = fd;
    this.#inode = st.ino;
    this.#dev = st.dev;
    this.#path = path;
    this.#name = name;
  }

  /** Takes ownership of `fd` once it is known to be a netns; closes it if not. */
  static #adopt(fd: Fd, path: string | undefined, name?: string, label = path): NetNs {
    try {
      const st = checkNetNsFd(fd, label ?? 'the descriptor');
      return new NetNs(fd, st, path, name);
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /**
   * The calling thread's current network namespace (`/proc/thread-self/ns/net`).
   * @throws BpfError if `/proc` cannot be opened.
   */
  static current(): NetNs {
    return NetNs.#fromOwned(openThreadNetNs());
  }

  /**
   * A `NetNs` for a network namespace descriptor the caller already has (an `Fd` or a number). The
   * descriptor is duplicated; the caller keeps (and still closes) its own.
   * @throws TypeError `ERR_BPFJS_FD_CLOSED`/`ERR_INVALID_ARG_TYPE` for a bad fd argument;
   *   `ERR_BPFJS_NOT_NETNS` if it is not a network namespace.
   */
  static fromFd(fd: Fd | number): NetNs {
    const n = validateFd(fd, 'fd');
    // The kind first: re-opening a FIFO's /proc link for reading would block until a writer came.
    const pre = fsCall(() => fstatSync(n));
    if (pre.dev !== nsfsDev() || !pre.isFile()) {
      throw new NetNsTypeError(
        'ERR_BPFJS_NOT_NETNS',
        `fd ${n} is not a network namespace file (not on nsfs)`,
      );
    }
    // Re-opening the fd's /proc link yields a new open file on the same nsfs inode (non-blocking:
    // should the fd have been swapped for a FIFO since the fstat, the open still returns).
    const own = openPath(`/proc/self/fd/${n}`, O_RDONLY | O_NONBLOCK);
    return NetNs.#adopt(own, undefined, undefined, `fd ${n}`);
  }

  /**
   * Opens the network namespace file at `path`: `/proc/PID/ns/net`, `/proc/PID/task/TID/ns/net`,
   * a bind mount such as `/run/netns/NAME` (then `name` is set), or any other bind mount of one.
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a bad path argument;
   *   `ERR_BPFJS_NOT_NETNS` if the file is not a network namespace (checked before it is opened,
   *   so a FIFO or device is never opened).
   * @throws BpfError ENOENT, EACCES, … from `stat`/`open`.
   */
  static open(path: string | URL): NetNs {
    const p = checkPath(path);
    const pre = fsCall(() => statSync(p));
    if (pre.dev !== nsfsDev() || !pre.isFile()) {
      throw new NetNsTypeError('ERR_BPFJS_NOT_NETNS', `${p} is not a network namespace file (not on nsfs)`);
    }
    // Non-blocking: a FIFO swapped in after the stat must not hang the process in open().
    const fd = openPath(p, O_RDONLY | O_NONBLOCK);
    return NetNs.#adopt(fd, p, nameOfPath(p));
  }

  /**
   * Opens the named netns iproute2 keeps at `/run/netns/NAME` (`ip netns add NAME`).
   * @throws TypeError/RangeError for a bad name (see `create`); BpfError ENOENT if there is none;
   *   TypeError `ERR_BPFJS_NOT_NETNS` if the file exists but no netns is mounted on it.
   */
  static fromName(name: string): NetNs {
    const n = checkName(name);
    return NetNs.open(namedPath(n));
  }

  /**
   * The network namespace of process `pid` (`/proc/PID/ns/net`, i.e. of its main thread).
   * @throws TypeError/RangeError `ERR_OUT_OF_RANGE` for a pid that is not an integer in 1..2^22;
   *   BpfError ENOENT for a pid that does not exist, EACCES without ptrace access to it (PID 1
   *   may refuse even root, depending on the container).
   */
  static fromPid(pid: number): NetNs {
    const n = checkPid(pid);
    return NetNs.open(`/proc/${n}/ns/net`);
  }

  /**
   * Creates a network namespace, without ever leaving the calling thread in it.
   *
   * Anonymous (no `name`): `unshare(CLONE_NEWNET)` on the calling thread, open
   * `/proc/thread-self/ns/net`, switch back. The netns lives while something holds it.
   *
   * Named: exactly `ip netns add NAME` (iproute2 `netns_add`): `mkdir -p /run/netns` (0755), make it
   * a shared mount (bind it onto itself first if it is not a mount point), create the empty file
   * `/run/netns/NAME` (`O_CREAT|O_EXCL`, mode 0), unshare, bind-mount `/proc/thread-self/ns/net`
   * onto it, switch back. `ip netns list` / `ip netns exec NAME` see it; it persists until
   * `delete()` (or `ip netns del NAME`). A failed create removes the file and the mount it made.
   *
   * @throws TypeError `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a bad name (empty, `.`,
   *   `..`, containing `/` or NUL); RangeError `ERR_OUT_OF_RANGE` for a name over 255 bytes.
   * @throws BpfError EEXIST if the name is taken, EPERM without CAP_SYS_ADMIN, …
   */
  static create(options: CreateNetNsOptions = {}): NetNs {
    // Unknown keys are refused (ERR_INVALID_ARG_VALUE): a misspelt `name` would silently create an
    // anonymous netns.
    validateObject(options, 'options', CREATE_KEYS);
    const name = options.name === undefined ? undefined : checkName(options.name, 'options.name');
    if (name === undefined) return NetNs.#fromOwned(createAnonymous());
    return NetNs.#fromOwned(createNamed(name), namedPath(name), name);
  }

  /**
   * The names under `/run/netns` (what `ip netns list` shows), sorted; `[]` if the directory does
   * not exist.
   * @throws BpfError if the directory exists but cannot be read.
   */
  static list(): string[] {
    try {
      return readdirSync(NETNS_RUN_DIR).sort();
    } catch (e) {
      if (hasCode(e, 'ENOENT')) return [];
      return fsCall(() => {
        throw e;
      });
    }
  }

  /** True for a `NetNs` from any copy of `@bpfjs/netns` (checks the `Symbol.for` brand). */
  static isInstance(value: unknown): value is NetNs {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[NETNS_BRAND] === true
    );
  }

  /** The owned descriptor of the namespace (closed by `close()`; `fd.fd` is -1 then). */
  get fd(): Fd {
    return this.#fd;
  }

  /**
   * The nsfs inode number: equals `stat -L -c %i` of the namespace file, the `[N]` in
   * `/proc/PID/ns/net -> net:[N]`, and `netns_ino` in bpf link info. Still readable after close.
   */
  get inode(): number {
    return this.#inode;
  }

  /** The nsfs device number (the same for every namespace file of this boot). */
  get dev(): number {
    return this.#dev;
  }

  /** The iproute2 name (`/run/netns/NAME`), when opened or created by name. */
  get name(): string | undefined {
    return this.#name;
  }

  /** The path it was opened from (or mounted at, for a named create); undefined for `current()` and anonymous ones. */
  get path(): string | undefined {
    return this.#path;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#fd.closed;
  }

  /** True if `other` is the same network namespace (same nsfs inode and device). */
  equals(other: NetNs): boolean {
    if (!NetNs.isInstance(other)) throw errInvalidArgType('other', 'an instance of NetNs', other);
    return other.inode === this.#inode && other.dev === this.#dev;
  }

  #requireOpen(what: string): void {
    if (this.#fd.closed) {
      throw new NetNsTypeError('ERR_BPFJS_NETNS_CLOSED', `cannot ${what}: this NetNs was closed`);
    }
  }

  /**
   * Runs `fn` synchronously with the calling thread inside this netns and always switches the
   * thread back (also when `fn` throws). Sockets, bpf calls and other synchronous work done in
   * `fn` happen inside; callbacks and awaits that run later do not.
   * @throws TypeError `ERR_BPFJS_NETNS_ASYNC` for an async or generator function (refused before
   *   switching), or if `fn` returns a promise/thenable (after switching back; the promise keeps
   *   running outside the netns and its rejection is swallowed). Use `runInWorker` instead.
   * @throws TypeError `ERR_BPFJS_NETNS_CLOSED` after `close()`; BpfError from `setns`; whatever
   *   `fn` throws.
   */
  run<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw errInvalidArgType('fn', 'of type function', fn);
    const kind = deferredKind(fn);
    if (kind !== undefined) {
      throw new NetNsTypeError(
        'ERR_BPFJS_NETNS_ASYNC',
        `NetNs.run() got ${kind}: code after its first await/yield would run outside the netns. Use runInWorker() for asynchronous work`,
      );
    }
    this.#requireOpen('run');
    startThreadPool();
    let result: T;
    const saved = openThreadNetNs();
    try {
      setns(this.#fd, CLONE_NEWNET);
      try {
        result = fn();
      } finally {
        restoreThread(saved);
      }
    } finally {
      saved.close();
    }
    if (isThenable(result)) {
      // Keep a rejection of the orphaned promise from crashing the process.
      Promise.resolve(result).catch(() => {});
      throw new NetNsTypeError(
        'ERR_BPFJS_NETNS_ASYNC',
        'NetNs.run() callback returned a promise: its continuation runs outside the netns. Use runInWorker() for asynchronous work',
      );
    }
    return result;
  }

  /**
   * A TCP or UDP socket that lives in this netns, made synchronously (socket, bind, listen) on the
   * calling thread switched into it, as an `Fd`: put it into a sockmap (`map.set(key, sock)`) and
   * hand it to Node with `net.createServer().listen({ fd: sock.disown() })` (UDP:
   * `dgram.createSocket('udp4').bind({ fd: sock.disown() })`). This is
   * the way to serve inside a netns from the main thread: `ns.run(() => server.listen(port))`
   * binds in the caller's netns, because Node binds on a later tick.
   * @throws TypeError/RangeError for bad options (before switching); BpfError from socket/bind/
   *   listen (`syscall: 'bind'`: EADDRINUSE, EADDRNOTAVAIL); clients inside need the netns's `lo` up;
   *   `ERR_BPFJS_NETNS_CLOSED` after `close()`.
   */
  socket(options: NetNsSocketOptions): Fd {
    this.#requireOpen('socket');
    return makeSocket((fn) => this.run(fn), options);
  }

  /**
   * Runs `exportName(...args)` of the ES or CommonJS module `modulePath` on a new worker thread that
   * entered this netns before importing the module (so module top-level code runs inside too),
   * awaits it, and resolves with its (structured-cloned) result; the worker is then terminated,
   * even if the function left handles open. Only the worker's own thread is inside: work the
   * libuv thread pool does for it (async `fs`, `dns.lookup` of host names, `crypto`) runs where
   * the process's pool threads are. The worker loads the built `@bpfjs/sys` (`dist`).
   * Errors thrown in the worker are rethrown with their `name`, `message`, `code`, `errno`,
   * `syscall` and the worker's stack (`BpfError.isInstance` stays true).
   * @param modulePath absolute path or `file:` URL of the module.
   * @param exportName the export to call (default `'default'`).
   * @param args structured-cloneable arguments.
   * @throws TypeError for bad arguments or after `close()`; NetNsError `ERR_BPFJS_NETNS_WORKER`
   *   if the worker dies without an answer.
   */
  async runInWorker<T = unknown>(
    modulePath: string | URL,
    exportName = 'default',
    args: readonly unknown[] = [],
  ): Promise<T> {
    const url = moduleUrlOf(modulePath);
    if (typeof exportName !== 'string' || exportName === '') {
      throw errInvalidArgType('exportName', 'a non-empty string', exportName);
    }
    if (!Array.isArray(args)) throw errInvalidArgType('args', 'an instance of Array', args);
    this.#requireOpen('runInWorker');
    // The worker's thread is created by this one; its later pool requests must not start the pool
    // from inside the netns either.
    startThreadPool();
    // The worker enters through its own descriptor, held until it is done, so that close() on this
    // NetNs meanwhile cannot pull the number away from under it.
    const held = this.#fd.dup();
    try {
      return (await runInWorkerThread(held.fd, this.#inode, url, exportName, args)) as T;
    } finally {
      held.close();
    }
  }

  /**
   * Removes the name of a named netns like `ip netns del NAME`: lazily unmounts `/run/netns/NAME`
   * (`MNT_DETACH`) and unlinks the file. The netns itself lives on while anything else holds it,
   * including this object until `close()`. Works after `close()` too.
   * @throws TypeError `ERR_BPFJS_NETNS_ANONYMOUS` for a netns without a name; BpfError from
   *   `umount2` (except EINVAL: nothing mounted) or `unlink` (ENOENT if already deleted).
   */
  delete(): void {
    if (this.#name === undefined) {
      throw new NetNsTypeError(
        'ERR_BPFJS_NETNS_ANONYMOUS',
        'delete() needs a named netns (from create({ name }), fromName() or open("/run/netns/NAME"))',
      );
    }
    const path = namedPath(this.#name);
    try {
      umount2(path, MNT_DETACH);
    } catch (e) {
      if (!(BpfError.isInstance(e) && e.code === 'EINVAL')) throw e;
    }
    fsCall(() => unlinkSync(path));
  }

  /** Closes the descriptor (the netns dies once nothing else holds it). Idempotent. */
  close(): void {
    this.#fd.close();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `NetNs(net:[4026532177] /run/netns/blue)`. */
  toString(): string {
    const where = this.#path === undefined ? '' : ` ${this.#path}`;
    return `NetNs(net:[${this.#inode}]${where}${this.#fd.closed ? ' closed' : ''})`;
  }

  /** Node's `util.inspect` hook: prints like `toString()`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  /** Wraps a descriptor known to be a netns; closes it if even `fstat` fails. */
  static #fromOwned(fd: Fd, path?: string, name?: string): NetNs {
    try {
      return new NetNs(
        fd,
        fsCall(() => fstatSync(fd.fd)),
        path,
        name,
      );
    } catch (e) {
      fd.close();
      throw e;
    }
  }
}
Object.defineProperty(NetNs.prototype, NETNS_BRAND, { value: true });

/** `unshare` on the calling thread, keep an fd on the new netns, switch back. */
function createAnonymous(): Fd {
  startThreadPool();
  const saved = openThreadNetNs();
  let fd: Fd;
  try {
    unshare(CLONE_NEWNET);
    try {
      fd = openThreadNetNs();
    } finally {
      restoreThread(saved);
    }
  } finally {
    saved.close();
  }
  return fd;
}

/**
 * `ip netns add NAME`, step by step, undoing its own steps on failure. Returns an fd on the new
 * netns opened from inside it (through `/proc`, so it does not pin the bind mount).
 */
function createNamed(name: string): Fd {
  const path = namedPath(name);
  const runDir = prepareRunDir();
  try {
    const created = fsCall(() =>
      openSync(path, fsConstants.O_RDONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0),
    );
    closeSync(created);
  } catch (e) {
    undoRunDir(runDir);
    throw e;
  }
  let mounted = false;
  let fd: Fd | undefined;
  startThreadPool();
  try {
    const saved = openThreadNetNs();
    try {
      unshare(CLONE_NEWNET);
      try {
        fd = openThreadNetNs();
        // The kernel resolves /proc/thread-self while this thread is inside the new netns.
        mount(THREAD_NETNS, path, 'none', MS_BIND);
        mounted = true;
      } finally {
        restoreThread(saved);
      }
    } finally {
      saved.close();
    }
    return fd;
  } catch (e) {
    fd?.close();
    if (mounted) {
      try {
        umount2(path, MNT_DETACH);
      } catch {
        // best effort; the unlink below reports EBUSY if it is still there
      }
    }
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
    undoRunDir(runDir);
    throw e;
  }
}
