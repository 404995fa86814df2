/**
 * The map layer's errors. Kernel failures stay the `BpfError` that `@bpfjs/sys` threw (same class,
 * `code`, `errno`, `command`) with one sentence appended to `message` and stored in `hint` where
 * the map rules explain them; everything refused before a syscall has a permanent `ERR_*` code.
 *
 * @module
 */
import { BpfError, BpfjsTypeError } from '@bpfjs/sys';

/** What a failed map call acted on, attached to a kernel error as `context`. */
export interface MapErrorContext {
  /** The operation, e.g. `'map.set'`. */
  readonly operation: string;
  /** bpftool's name of the map type. */
  readonly mapType?: string;
  /** The map's id, when known. */
  readonly mapId?: number;
  /** The path involved (pinning), if any. */
  readonly path?: string;
}

/**
 * Appends `sentence` to a kernel error's message (and sets `hint` and `context`), keeping the
 * error itself; anything that is not a `BpfError` is returned unchanged.
 * @internal
 */
export function explain<E>(err: E, sentence: string | undefined, context: MapErrorContext): E {
  if (!BpfError.isInstance(err)) return err;
  const e = err as unknown as Error & { hint?: string };
  if (sentence !== undefined && sentence !== '') {
    const message = `${e.message}: ${sentence}`;
    if (typeof e.stack === 'string' && e.stack.startsWith(`${e.name}: ${e.message}`)) {
      e.stack = `${e.name}: ${message}${e.stack.slice(`${e.name}: ${e.message}`.length)}`;
    }
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
  }
  Object.defineProperty(e, 'context', {
    value: context,
    writable: true,
    configurable: true,
    enumerable: true,
  });
  return err;
}

/** `ERR_BPFJS_CLOSED`: the map (or ring buffer) was closed. @internal */
export function errClosed(what: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_CLOSED', `The ${what} is closed`);
}

/** `ERR_BPFJS_MAP_OPERATION`: an operation the map type does not have (`push` on a hash). @internal */
export function errOperation(operation: string, mapType: string, instead?: string): BpfjsTypeError {
  return new BpfjsTypeError(
    'ERR_BPFJS_MAP_OPERATION',
    `${operation} is not an operation of ${mapType} maps${instead === undefined ? '' : `; ${instead}`}`,
  );
}

/** `ERR_BPFJS_WRONG_OBJECT`: a pinned or given object is not the kind asked for. @internal */
export function errWrongObject(where: string, expected: string, actual: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_WRONG_OBJECT', `${where} is a BPF ${actual}, not a BPF ${expected}`);
}

/** `ERR_BPFJS_MAP_ITERATION_ABORTED`: iteration restarted too often (keys deleted under it). @internal */
export function errIterationAborted(restarts: number): BpfjsTypeError {
  return new BpfjsTypeError(
    'ERR_BPFJS_MAP_ITERATION_ABORTED',
    `map iteration restarted ${restarts} times because the key it stood on was deleted meanwhile; ` +
      'iterate again, or use entries({ batchSize }) where the kernel supports batch lookups (5.6+)',
  );
}

/** `ERR_BPFJS_NO_FD`: a Node object that exposes no file descriptor (yet). @internal */
export function errNoFd(what: string, why: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_NO_FD', `Cannot get a file descriptor from ${what}: ${why}`);
}
