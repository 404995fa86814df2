/**
 * Typed errors raised by `@bpfjs/netns` itself (not by the kernel). Every one carries a permanent
 * `code`. Plain argument errors (`ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`,
 * `ERR_OUT_OF_RANGE`) come from `@bpfjs/sys`'s helpers; kernel failures are `BpfError`s from
 * `@bpfjs/sys` with the errno `code` (`ENOENT`, `EEXIST`, …), also for plain file operations.
 *
 * @module
 */

/** The permanent `code` strings of this package's own errors. */
export type NetNsErrorCode =
  | 'ERR_BPFJS_NOT_NETNS'
  | 'ERR_BPFJS_NETNS_ASYNC'
  | 'ERR_BPFJS_NETNS_CLOSED'
  | 'ERR_BPFJS_NETNS_ANONYMOUS'
  | 'ERR_BPFJS_NETNS_RESTORE'
  | 'ERR_BPFJS_NETNS_TEARDOWN_TIMEOUT'
  | 'ERR_BPFJS_NETNS_WORKER';

const brand = Symbol.for('bpfjs.NetNsError');

function mark(e: Error, name: string): void {
  e.name = name;
  Object.defineProperty(e, brand, { value: true });
}

/**
 * A misuse of a `NetNs` or a file that is not one: `ERR_BPFJS_NOT_NETNS`, `ERR_BPFJS_NETNS_CLOSED`,
 * `ERR_BPFJS_NETNS_ANONYMOUS` (delete without a name), `ERR_BPFJS_NETNS_ASYNC` (an async function
 * or a promise given to `run`).
 */
export class NetNsTypeError extends TypeError {
  /** Permanent error code. */
  readonly code: NetNsErrorCode;
  constructor(code: NetNsErrorCode, message: string) {
    super(message);
    this.code = code;
    mark(this, 'NetNsTypeError');
  }
}

/**
 * A failure that is neither bad input nor a single syscall: a timeout while waiting for a netns to
 * go, a worker that died without an answer, a thread that could not be switched back.
 */
export class NetNsError extends Error {
  /** Permanent error code. */
  readonly code: NetNsErrorCode;
  constructor(code: NetNsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    mark(this, 'NetNsError');
  }
}

/** True for any error raised by this package itself (also across two loaded copies of it). */
export function isNetNsError(x: unknown): x is NetNsTypeError | NetNsError {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
}
