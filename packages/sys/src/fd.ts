/**
 * `Fd`: the owner of one file descriptor.
 *
 * @module
 */
// Named imports (not a default import), so the published declarations need no esModuleInterop.
import { type Channel, channel } from 'node:diagnostics_channel';
import { BpfError } from './errors.js';
import { getLibc } from './libc.js';
import { fdBrand, validateInteger } from './validate.js';

/** `fcntl` command: duplicate with close-on-exec, to the lowest free number >= arg. */
export const F_DUPFD_CLOEXEC = 1030;

/** The message published on `bpfjs:fd:open` and `bpfjs:fd:close`. */
export interface FdChannelMessage {
  /** The `Fd` (`null` on close when a leaked `Fd` was collected by the garbage collector). */
  readonly fd: Fd | null;
  /** The descriptor number. */
  readonly number: number;
  /** Where the `Fd` was created (only captured while `bpfjs:fd:open` has subscribers). */
  readonly stack?: string;
  /** On close: the `Fd` was disowned (the number lives on, owned by someone else). */
  readonly disowned?: boolean;
  /** On close: the `Fd` was garbage-collected without `close()`; the safety net closed it. */
  readonly leaked?: boolean;
}

/** Channel on which every new `Fd` is published (`FdChannelMessage`). */
export const fdOpenChannel: Channel = channel('bpfjs:fd:open');
/** Channel on which every `Fd` that stops owning its descriptor is published (`FdChannelMessage`). */
export const fdCloseChannel: Channel = channel('bpfjs:fd:close');

// The safety net's record of one Fd. `close()`/`disown()` set `done` instead of unregistering
// (an unregister token costs a registry lookup per lifecycle, a hot path for create + close);
// the finalizer skips records that are done, so only a real leak is closed and reported.
// `identity` is what the number referred to when the Fd took it (device and inode, one fstat):
// if the number was closed behind the Fd's back and reused by someone else, the finalizer sees
// another file there and leaves it open instead of closing a stranger's descriptor.
interface Held {
  readonly number: number;
  readonly stack: string | undefined;
  readonly dev: number;
  readonly ino: number;
  done: boolean;
}

// struct stat: st_dev (u64) at 0 and st_ino (u64) at 8 on x86-64 and on the generic layout
// (arm64, riscv64, loongarch64). Large enough for either struct (144 / 128 bytes).
const statBuf = new Uint8Array(256);
const statView = new DataView(statBuf.buffer);

/** A u64 field of `statBuf` as a number (exact below 2^53; compared only with itself). */
function statU64(offset: number): number {
  return statView.getUint32(offset, true) + statView.getUint32(offset + 4, true) * 0x1_0000_0000;
}

/** Fills `statBuf` for descriptor `n`; false if it is not open (or fstat failed). */
function fstatInto(n: number): boolean {
  try {
    return getLibc().fstat(n, statBuf) === 0;
  } catch {
    return false;
  }
}

function onLeak(held: Held): void {
  if (held.done) return;
  const open = fstatInto(held.number);
  const same = open && held.dev >= 0 && statU64(0) === held.dev && statU64(8) === held.ino;
  const where = held.stack === undefined ? '' : `\nCreated at:\n${held.stack}`;
  if (!same) {
    // Closed behind the Fd's back (and maybe reused by someone else): not ours to close.
    process.emitWarning(
      `file descriptor ${held.number} was garbage-collected without close(), but the number ${
        open ? 'now refers to another file' : 'is no longer open'
      } (closed behind the Fd's back); left it alone${where}`,
      { type: 'Warning', code: 'BPFJS_FD_LEAK' },
    );
    return;
  }
  try {
    getLibc().close(held.number);
  } catch {
    // Never throw from a finalizer.
  }
  if (fdCloseChannel.hasSubscribers) {
    fdCloseChannel.publish({ fd: null, number: held.number, leaked: true } satisfies FdChannelMessage);
  }
  process.emitWarning(
    `file descriptor ${held.number} was garbage-collected without close(); closed it${where}`,
    {
      type: 'Warning',
      code: 'BPFJS_FD_LEAK',
    },
  );
}

const registry = new FinalizationRegistry<Held>(onLeak);

function creationStack(): string | undefined {
  if (!fdOpenChannel.hasSubscribers) return undefined;
  const stack = new Error().stack;
  return stack?.split('\n').slice(3).join('\n');
}

/**
 * Owns one file descriptor. `close()` is idempotent and `[Symbol.dispose]` closes, so `using` works;
 * `fd` reads -1 once closed or disowned. An `Fd` that is garbage-collected while still open is
 * closed by a `FinalizationRegistry` safety net, which emits a `BPFJS_FD_LEAK` process warning.
 * The net remembers what the number referred to when the `Fd` took it (device and inode): if the
 * number was closed behind the `Fd`'s back and now belongs to another file, it only warns.
 * Creation and close are published on the `bpfjs:fd:open` / `bpfjs:fd:close` diagnostics channels.
 */
export class Fd implements Disposable {
  #fd: number;
  #held: Held;

  /**
   * Takes ownership of descriptor `fd`.
   * @throws RangeError `ERR_OUT_OF_RANGE` / TypeError `ERR_INVALID_ARG_TYPE` if `fd` is not an
   *   integer in [0, 2^31-1].
   */
  constructor(fd: number) {
    validateInteger(fd, 'fd', 0, 0x7fffffff);
    this.#fd = fd;
    const stack = creationStack();
    // What the number refers to now (dev -1: not open), so the safety net can tell it later.
    const open = fstatInto(fd);
    this.#held = { number: fd, stack, dev: open ? statU64(0) : -1, ino: open ? statU64(8) : -1, done: false };
    registry.register(this, this.#held);
    if (fdOpenChannel.hasSubscribers) {
      fdOpenChannel.publish(
        (stack === undefined
          ? { fd: this, number: fd }
          : { fd: this, number: fd, stack }) satisfies FdChannelMessage,
      );
    }
  }

  /** The descriptor number, or -1 after `close()`/`disown()`. */
  get fd(): number {
    return this.#fd;
  }

  /** True once `close()` or `disown()` was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /**
   * Closes the descriptor; later calls do nothing.
   * @throws BpfError (`syscall: 'close'`) if close(2) fails with anything but EINTR (EBADF means
   *   someone else closed this number behind the `Fd`'s back). The `Fd` is closed either way.
   */
  close(): void {
    const n = this.#fd;
    if (n < 0) return;
    this.#fd = -1;
    this.#held.done = true;
    if (fdCloseChannel.hasSubscribers)
      fdCloseChannel.publish({ fd: this, number: n } satisfies FdChannelMessage);
    const libc = getLibc();
    if (libc.close(n) === -1) {
      const errno = libc.errno();
      // Linux releases the descriptor even when close() reports EINTR.
      if (errno !== 4) throw new BpfError(errno, 'close');
    }
  }

  /** Closes the descriptor (same as `close()`), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Gives up ownership: returns the number and leaves this `Fd` closed (-1) without closing it.
   * @throws TypeError `ERR_BPFJS_FD_CLOSED` if already closed.
   */
  disown(): number {
    const n = this.#fd;
    if (n < 0) {
      const err = new TypeError('Cannot disown a closed Fd') as TypeError & { code: string };
      err.code = 'ERR_BPFJS_FD_CLOSED';
      throw err;
    }
    this.#fd = -1;
    this.#held.done = true;
    if (fdCloseChannel.hasSubscribers) {
      fdCloseChannel.publish({ fd: this, number: n, disowned: true } satisfies FdChannelMessage);
    }
    return n;
  }

  /**
   * A new `Fd` for the same open file (`fcntl(F_DUPFD_CLOEXEC, 3)`: close-on-exec, number >= 3,
   * since the kernel reads fd 0 as "absent" in some attrs).
   * @throws TypeError `ERR_BPFJS_FD_CLOSED` if closed; BpfError (`syscall: 'fcntl'`) on failure.
   */
  dup(): Fd {
    const n = this.#fd;
    if (n < 0) {
      const err = new TypeError('Cannot dup a closed Fd') as TypeError & { code: string };
      err.code = 'ERR_BPFJS_FD_CLOSED';
      throw err;
    }
    return new Fd(dupCloexec(n));
  }

  /** True for an `Fd` from any copy of `@bpfjs/sys` (checks the `Symbol.for('bpfjs.Fd')` brand). */
  static isInstance(value: unknown): value is Fd {
    return fdBrand.is(value);
  }

  /** `Fd(5)` or `Fd(closed)`. */
  toString(): string {
    return this.#fd < 0 ? 'Fd(closed)' : `Fd(${this.#fd})`;
  }

  /** Node's `util.inspect` hook: prints like `toString()`. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
fdBrand.mark(Fd);

/** `fcntl(n, F_DUPFD_CLOEXEC, 3)`; throws BpfError. @internal */
export function dupCloexec(n: number): number {
  const libc = getLibc();
  const r = libc.fcntlInt(n, F_DUPFD_CLOEXEC, 3);
  if (r === -1) throw new BpfError(libc.errno(), 'fcntl');
  return r;
}

/**
 * Wraps a descriptor the kernel just returned. A number below 3 is moved to >= 3 first (like
 * libbpf's `ensure_good_fd`): some attrs read fd 0 as "absent", and 0-2 belong to stdio.
 * @internal
 */
export function adoptFd(n: number): Fd {
  if (n >= 3) return new Fd(n);
  const libc = getLibc();
  let moved: number;
  try {
    moved = dupCloexec(n);
  } finally {
    libc.close(n);
  }
  return new Fd(moved);
}
