/**
 * How the object layer explains kernel errors.
 *
 * Decision: a kernel failure stays the very `BpfError` that `@bpfjs/sys` threw — same class (so
 * `BpfError.isInstance()` holds), same `code`, `errno`, `syscall`, `command` and stack — and the
 * object layer adds one sentence saying what happened: it is appended to `message`
 * (`EEXIST: file exists, bpf BPF_LINK_CREATE: a program is already attached directly ...`) and
 * stored in `hint`. `context` records what the call acted on (attach type, netns inode, ...).
 * Errors that are not from the kernel are the typed `TypeError`/`RangeError`s of `@bpfjs/sys`.
 *
 * @module
 */
import { BpfError, BpfjsTypeError } from '@bpfjs/sys';

/** What a failed object-layer call acted on, attached to the error as `context`. */
export interface ErrorContext {
  /** The operation, e.g. `'attachNetNs'`, `'link.update'`. */
  readonly operation: string;
  /** bpftool's name of the attach type involved, if any. */
  readonly attachType?: string;
  /** The inode of the network namespace involved, if known. */
  readonly netnsInode?: number;
  /** The path involved (pinning), if any. */
  readonly path?: string;
}

/** A `BpfError` after the object layer explained it. */
export type ExplainedBpfError = BpfError & { readonly context?: ErrorContext };

/**
 * Adds `sentence` to a kernel error in place (message, `hint`, `context`) and returns it.
 * Non-`BpfError` values are returned unchanged.
 */
export function explain<E>(err: E, sentence: string | undefined, context?: ErrorContext): E {
  if (!BpfError.isInstance(err)) return err;
  const e = err as unknown as Error & { hint?: string };
  if (sentence !== undefined && sentence !== '') {
    const oldMessage = e.message;
    const message = `${oldMessage}: ${sentence}`;
    Object.defineProperty(e, 'message', {
      value: message,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    Object.defineProperty(e, 'hint', {
      value: sentence,
      writable: true,
      configurable: true,
      enumerable: true,
    });
    if (typeof e.stack === 'string') {
      const head = `${e.name}: ${oldMessage}`;
      const stack = e.stack.startsWith(head) ? `${e.name}: ${message}${e.stack.slice(head.length)}` : e.stack;
      Object.defineProperty(e, 'stack', {
        value: stack,
        writable: true,
        configurable: true,
        enumerable: false,
      });
    }
  }
  if (context !== undefined) {
    Object.defineProperty(e, 'context', {
      value: context,
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  return err;
}

/** True when `err` is a kernel error with the given errno name. */
export function isErrno(err: unknown, code: string): err is BpfError {
  return BpfError.isInstance(err) && err.code === code;
}

/**
 * `ERR_BPFJS_CLOSED`: a `Program` or `Link` was used after `close()`. A `TypeError` raised
 * before any syscall.
 */
export function errClosed(what: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_CLOSED', `The ${what} is closed`);
}

/** `ERR_BPFJS_NOT_BPFFS`: a pin path whose (existing) directory is not on a BPF filesystem. */
export function errNotBpffs(path: string, dir: string, operation = 'pin'): BpfjsTypeError {
  const verb = operation.endsWith('unpin') ? 'unpin' : 'pin at';
  return new BpfjsTypeError(
    'ERR_BPFJS_NOT_BPFFS',
    `Cannot ${verb} '${path}': the directory '${dir}' is not on a BPF filesystem (mount one with ` +
      `'mount -t bpf bpf ${dir}', or pin under /sys/fs/bpf)`,
  );
}

/** `ERR_BPFJS_WRONG_OBJECT`: a pinned or looked-up object is not the kind asked for. */
export function errWrongObject(where: string, expected: string, actual: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_WRONG_OBJECT', `${where} is a BPF ${actual}, not a BPF ${expected}`);
}
