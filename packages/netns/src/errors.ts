/**
 * Typed errors raised by `@bpfjs/netns` itself (not by the kernel). Every one carries a permanent
 * `code`; kernel failures surface as `BpfError` from `@bpfjs/sys` (or Node's own `SystemError` for
 * plain file operations) with the errno `code` (`ENOENT`, `EEXIST`, …).
 *
 * @module
 */

/** The permanent `code` strings of this package's own errors. */
export type NetNsErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
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
 * A wrong argument (type or value) or a misuse of a `NetNs` (closed, anonymous where a name is
 * needed, an async function given to `run`). Raised before any syscall that could change state.
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

/** A number or length outside the accepted range (a pid, a name over 255 bytes, a timeout). */
export class NetNsRangeError extends RangeError {
  /** Permanent error code. */
  readonly code: NetNsErrorCode;
  constructor(code: NetNsErrorCode, message: string) {
    super(message);
    this.code = code;
    mark(this, 'NetNsRangeError');
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
export function isNetNsError(x: unknown): x is NetNsTypeError | NetNsRangeError | NetNsError {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
}

/** @internal Describes a value for an error message without dumping large objects. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return `${typeof value} ${String(value)}`;
  }
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return typeof value;
}
