/**
 * Where fixture cleanups go. Inside a running test (or its `beforeEach`), a cleanup runs when the
 * test finishes, passed or failed (`onTestFinished`). Outside a test (in `beforeAll` or at the top
 * of a file) it runs at the end of the test file, from the `afterAll` of `@bpfjs/testkit/setup`;
 * without that setup file, fixtures need `{ cleanup: 'manual' }` and your own `dispose()`.
 *
 * @module
 */
import { onTestFinished } from 'vitest';
import { getCurrentTest } from 'vitest/suite';
import { TestkitTypeError } from './errors.js';

/** How a fixture is cleaned up: `'auto'` (default, see module doc) or `'manual'` (you call `dispose()`/`using`). */
export type CleanupMode = 'auto' | 'manual';

/** Options every fixture takes. */
export interface FixtureOptions {
  /** `'auto'` (default) or `'manual'`. */
  readonly cleanup?: CleanupMode;
}

/** A cleanup function: may return a promise, which is awaited. */
export type Cleanup = () => unknown;

interface FileScope {
  /** Set by the setup file once per test file. */
  active: boolean;
  cleanups: Array<{ what: string; fn: Cleanup }>;
}

const FILE_SCOPE = Symbol.for('bpfjs.testkit.fileScope');

/** @internal The per-file cleanup stack (shared across module copies through a global symbol). */
export function fileScope(): FileScope {
  const g = globalThis as unknown as Record<symbol, FileScope | undefined>;
  let s = g[FILE_SCOPE];
  if (s === undefined) {
    s = { active: false, cleanups: [] };
    g[FILE_SCOPE] = s;
  }
  return s;
}

/**
 * Runs `fn` when the current test finishes, or — outside a test — at the end of the test file
 * (needs `@bpfjs/testkit/setup` in `setupFiles`). Cleanups run in reverse order of registration.
 * @throws {TestkitTypeError} `ERR_BPFJS_TESTKIT_NO_SCOPE` outside a test without the setup file.
 */
export function deferCleanup(what: string, fn: Cleanup): void {
  if (getCurrentTest() !== undefined) {
    onTestFinished(async () => {
      await fn();
    });
    return;
  }
  const scope = fileScope();
  if (!scope.active) {
    throw new TestkitTypeError(
      'ERR_BPFJS_TESTKIT_NO_SCOPE',
      `${what} was created outside a test, and @bpfjs/testkit/setup is not in vitest's setupFiles, so nothing would clean it up: create it inside a test or beforeEach, add the setup file, or pass { cleanup: 'manual' } and dispose it yourself`,
    );
  }
  scope.cleanups.push({ what, fn });
}

/** @internal Registers per `options.cleanup`. */
export function register(what: string, options: FixtureOptions | undefined, fn: Cleanup): void {
  const mode = options?.cleanup ?? 'auto';
  if (mode === 'manual') return;
  if (mode !== 'auto') {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `cleanup must be 'auto' or 'manual', got ${String(mode)}`,
    );
  }
  deferCleanup(what, fn);
}

/**
 * Runs (and forgets) every file-scope cleanup, newest first; collects failures.
 * @internal Called by the setup file's `afterAll`.
 * @throws {AggregateError} if any cleanup failed (after running all of them).
 */
export async function runFileCleanups(): Promise<void> {
  const scope = fileScope();
  const errors: unknown[] = [];
  while (scope.cleanups.length > 0) {
    const c = scope.cleanups.pop()!;
    try {
      await c.fn();
    } catch (e) {
      errors.push(
        new Error(`cleanup of ${c.what} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e }),
      );
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} fixture cleanup(s) failed`);
}
