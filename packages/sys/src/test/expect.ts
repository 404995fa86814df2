/**
 * Test helpers: assertions on errors.
 * @internal
 */
import { expect } from 'vitest';
import { BpfError } from '../errors.js';

/** Expects `fn` to throw a `BpfError` with this code (and command, if given); returns it. */
export function expectBpfError(fn: () => unknown, code: string, command?: string): BpfError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  if (!BpfError.isInstance(err)) throw new Error(`expected BpfError ${code}, got ${String(err)}`);
  expect(err.code).toBe(code);
  if (command !== undefined) {
    expect(err.command).toBe(command);
    expect(err.message).toBe(
      `${code}: ${err.message.slice(code.length + 2).split(', bpf ')[0]}, bpf ${command}`,
    );
  }
  return err;
}

/** Expects `fn` to throw a TypeError/RangeError with this `code` before any syscall. */
export function expectInputError(fn: () => unknown, code: string): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeDefined();
  expect(err instanceof TypeError || err instanceof RangeError).toBe(true);
  expect((err as { code?: string }).code).toBe(code);
}

/** Expects `fn` to throw a `BpfError` (any code); returns it. */
export function expectBpfErrorAny(fn: () => unknown): BpfError {
  try {
    fn();
  } catch (e) {
    if (BpfError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a BpfError');
}

/** What `fn` throws (fails the test when it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
