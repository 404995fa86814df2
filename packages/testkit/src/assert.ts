/**
 * Assertions for kernel tests: `expectErrno` (a call fails with a given errno, as a `BpfError`)
 * and `waitFor` (poll until something holds, with a deadline — for asynchronous kernel teardown).
 *
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises';
import { BpfError, errnoName } from '@bpfjs/sys';
import { TestkitTypeError } from './errors.js';

/** An assertion failure from the testkit (an `AssertionError`-like `Error` vitest prints as a failure). */
export class TestkitAssertionError extends Error {
  /** Always `'ERR_ASSERTION'`, like Node's `AssertionError`. */
  readonly code = 'ERR_ASSERTION' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AssertionError';
  }
}

function describeError(e: unknown): string {
  if (e instanceof Error)
    return `${e.name}${'code' in e ? ` [${String((e as { code: unknown }).code)}]` : ''}: ${e.message}`;
  return String(e);
}

function checkError(e: unknown, code: string): BpfError {
  if (!BpfError.isInstance(e)) {
    throw new TestkitAssertionError(`expected a BpfError with code ${code}, got ${describeError(e)}`, {
      cause: e,
    });
  }
  if (e.code !== code) {
    throw new TestkitAssertionError(`expected a BpfError with code ${code}, got ${e.code}: ${e.message}`, {
      cause: e,
    });
  }
  return e;
}

function checkCode(code: unknown): string {
  if (typeof code === 'number') {
    if (!Number.isInteger(code) || code <= 0)
      throw new TestkitTypeError('ERR_OUT_OF_RANGE', `errno must be a positive integer, got ${code}`);
    return errnoName(code);
  }
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `code must be an errno name like 'EEXIST', got ${JSON.stringify(code)}`,
    );
  }
  return code;
}

/**
 * Asserts that `fn` fails with a `BpfError` (checked with `BpfError.isInstance`, so any copy of
 * `@bpfjs/sys` counts) whose `code` is `code` (`'EEXIST'`, or an errno number). Works for sync
 * functions (returns the error) and async ones (returns a promise of it).
 * @throws {TestkitAssertionError} when `fn` succeeds, throws something else, or the code differs.
 */
export function expectErrno(fn: () => never, code: string | number): BpfError;
export function expectErrno(fn: () => Promise<unknown>, code: string | number): Promise<BpfError>;
export function expectErrno(fn: () => unknown, code: string | number): BpfError;
export function expectErrno(fn: () => unknown, code: string | number): BpfError | Promise<BpfError> {
  if (typeof fn !== 'function') throw new TestkitTypeError('ERR_INVALID_ARG_TYPE', 'fn must be a function');
  const want = checkCode(code);
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    return checkError(e, want);
  }
  if (
    result !== null &&
    typeof result === 'object' &&
    typeof (result as PromiseLike<unknown>).then === 'function'
  ) {
    return Promise.resolve(result).then(
      () => {
        throw new TestkitAssertionError(`expected the promise to reject with ${want}, but it resolved`);
      },
      (e: unknown) => checkError(e, want),
    );
  }
  throw new TestkitAssertionError(
    `expected a BpfError with code ${want}, but the call returned ${describeResult(result)}`,
  );
}

function describeResult(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'object' && v !== null) return `an instance of ${v.constructor?.name ?? 'Object'}`;
  return String(v);
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds (default 10 000). */
  readonly timeoutMs?: number;
  /** Wait this long between polls (default 10 ms). */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout message (`'netns teardown'`). */
  readonly description?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the deadline passes.
 * The predicate may be async; a throw counts as "not yet", and the last error is the timeout
 * error's `cause`.
 * @throws {TestkitAssertionError} on timeout, naming the description and the elapsed time.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  if (typeof predicate !== 'function')
    throw new TestkitTypeError('ERR_INVALID_ARG_TYPE', 'predicate must be a function');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 10;
  for (const [name, v] of [
    ['timeoutMs', timeoutMs],
    ['intervalMs', intervalMs],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new TestkitTypeError(
        'ERR_OUT_OF_RANGE',
        `${name} must be a non-negative number, got ${String(v)}`,
      );
    }
  }
  const start = performance.now();
  const deadline = start + timeoutMs;
  let lastError: unknown;
  let polls = 0;
  for (;;) {
    polls++;
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
      lastError = undefined;
    } catch (e) {
      lastError = e;
    }
    const now = performance.now();
    if (now >= deadline) {
      const what = options.description ?? 'condition';
      const tail = lastError === undefined ? '' : `; last error: ${describeError(lastError)}`;
      throw new TestkitAssertionError(
        `waitFor: ${what} not met after ${Math.round(now - start)} ms (${polls} polls)${tail}`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    await delay(Math.min(intervalMs, Math.max(0, deadline - now)));
  }
}

/**
 * Asserts that a synchronous `fn` throws an error whose `code` is `code` — any error type, for
 * wrappers that do not use sys's `BpfError` (the conformance suite uses this). Returns the error.
 * @throws {TestkitAssertionError} when `fn` returns or the code differs.
 */
export function expectCode(fn: () => unknown, code: string): Error {
  let result: unknown;
  try {
    result = fn();
  } catch (e) {
    const got = (e as { code?: unknown } | null)?.code;
    if (got !== code) {
      throw new TestkitAssertionError(`expected an error with code ${code}, got ${describeError(e)}`, {
        cause: e,
      });
    }
    return e as Error;
  }
  throw new TestkitAssertionError(
    `expected an error with code ${code}, but the call returned ${describeResult(result)}`,
  );
}
