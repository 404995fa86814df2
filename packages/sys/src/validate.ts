/**
 * Input checks run before any syscall. Each throws a `TypeError`/`RangeError` with a permanent
 * `code` (see `errors.ts`) and returns the value in the form the encoder needs.
 *
 * @module
 */
import { brand } from './brand.js';
import { errFdClosed, errInvalidArgType, errInvalidArgValue, errOutOfRange } from './errors.js';

const FD = brand<FdLike>('bpfjs.Fd');
const MAX_FD = 0x7fffffff;
const U64_MAX = (1n << 64n) - 1n;
/** Linux PATH_MAX including the NUL. */
const PATH_MAX = 4096;

/** What a wrapper accepts for a file descriptor: an owned `Fd` (see `fd.ts`) or a raw number. */
export interface FdLike {
  readonly fd: number;
  readonly closed: boolean;
}

/** True if `value` carries the `Fd` brand (from any copy of `@bpfjs/sys`). */
export function isFd(value: unknown): value is FdLike {
  return FD.is(value);
}

/** @internal The brand `Fd` instances carry. */
export const fdBrand: typeof FD = FD;

/**
 * Checks that `value` is a plain options object (not null, not an array) and, when `knownKeys` is
 * given, that it has no other own enumerable keys.
 *
 * Unknown option keys are refused, not ignored: a misspelt option (`tragetFd`, `replce`) would
 * otherwise silently fall back to its default — for bpf attrs a different hook or fd 0. The
 * error is Node's `ERR_INVALID_ARG_VALUE` naming the key (`options.tragetFd`) and the known ones.
 * Keys whose value is `undefined` are refused too: they are still typos.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` (not an object), `ERR_INVALID_ARG_VALUE` (unknown key).
 */
export function validateObject(
  value: unknown,
  name: string,
  knownKeys?: ReadonlySet<string>,
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw errInvalidArgType(name, 'of type object', value);
  }
  if (knownKeys !== undefined) validateKnownKeys(value, name, knownKeys);
}

/**
 * Refuses own enumerable keys of an options object that are not in `knownKeys`
 * (`ERR_INVALID_ARG_VALUE`). Cheap enough for hot paths: one `for...in` over a few keys.
 */
export function validateKnownKeys(value: object, name: string, knownKeys: ReadonlySet<string>): void {
  // Sets made by optionKeys() carry their names as an array too: scanning a few interned strings
  // by identity is about twice as fast as Set.has on the hot paths (linkUpdate, progQuery).
  const list = (knownKeys as Partial<OptionKeys>).list;
  for (const key in value) {
    let known = false;
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) {
        if (list[i] === key) {
          known = true;
          break;
        }
      }
    } else {
      known = knownKeys.has(key);
    }
    if (!known && Object.hasOwn(value, key)) {
      throw errInvalidArgValue(
        `${name}.${key}`,
        (value as Record<string, unknown>)[key],
        `is not a known option (known: ${[...knownKeys].join(', ')})`,
      );
    }
  }
}

/** A set of option names that also keeps them as an array (see {@link optionKeys}). */
class OptionKeys extends Set<string> {
  readonly list: readonly string[];
  constructor(keys: readonly string[]) {
    super(keys);
    this.list = [...this];
  }
}

/** The set of option names of an options interface, for {@link validateObject}. */
export function optionKeys(...keys: string[]): ReadonlySet<string> {
  return new OptionKeys(keys);
}

/** Checks that `value` is an integer number in `[min, max]`. */
export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw errInvalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw errOutOfRange(name, 'an integer', value);
  if (value < min || value > max) throw errOutOfRange(name, `>= ${min} and <= ${max}`, value);
  return value;
}

/** An unsigned 32-bit integer. */
export function validateU32(value: unknown, name: string): number {
  return validateInteger(value, name, 0, 0xffffffff);
}

/** A signed 32-bit integer. */
export function validateS32(value: unknown, name: string): number {
  return validateInteger(value, name, -0x80000000, 0x7fffffff);
}

/** An unsigned 64-bit integer given as a bigint or a safe non-negative integer number. */
export function validateU64(value: unknown, name: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw errOutOfRange(name, 'a safe integer (or a bigint)', value);
    if (value < 0) throw errOutOfRange(name, `>= 0 and <= ${U64_MAX}`, value);
    return BigInt(value);
  }
  if (typeof value !== 'bigint') throw errInvalidArgType(name, 'of type number or bigint', value);
  if (value < 0n || value > U64_MAX) throw errOutOfRange(name, `>= 0 and <= ${U64_MAX}`, value);
  return value;
}

/** A boolean. */
export function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw errInvalidArgType(name, 'of type boolean', value);
  return value;
}

/**
 * A file descriptor: an open `Fd` or a non-negative integer. Returns the number.
 * @throws TypeError `ERR_BPFJS_FD_CLOSED` for a closed `Fd`.
 */
export function validateFd(value: unknown, name: string): number {
  if (isFd(value)) {
    if (value.closed) throw errFdClosed(name);
    // The brand is only a claim (any object can carry it): the number is checked like a raw one,
    // so a fake with fd 2^32+5 is refused instead of truncated to fd 5 by the C call.
    return validateInteger(value.fd, `${name}.fd`, 0, MAX_FD);
  }
  if (typeof value !== 'number') throw errInvalidArgType(name, 'an Fd or of type number', value);
  return validateInteger(value, name, 0, MAX_FD);
}

/** Like {@link validateFd} but `undefined` passes through (an absent optional fd). */
export function validateOptionalFd(value: unknown, name: string): number | undefined {
  return value === undefined ? undefined : validateFd(value, name);
}

/** A byte buffer (any `ArrayBufferView`); returns a `Uint8Array` over the same memory. */
export function validateBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw errInvalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
}

const encoder = new TextEncoder();

/**
 * A string passed to C: no NUL characters, at most `maxBytes` UTF-8 bytes (without the NUL).
 * Returns the UTF-8 bytes.
 */
export function validateCString(value: unknown, name: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string') throw errInvalidArgType(name, 'of type string', value);
  if (value.includes('\0')) throw errInvalidArgValue(name, value, 'must be a string without null bytes');
  const bytes = encoder.encode(value);
  if (bytes.length > maxBytes) {
    throw errOutOfRange(`${name}.length`, `at most ${maxBytes} bytes in UTF-8`, bytes.length);
  }
  return bytes;
}

/** A file system path: a non-empty string without NUL, shorter than PATH_MAX. */
export function validatePath(value: unknown, name: string): string {
  const bytes = validateCString(value, name, PATH_MAX - 1);
  if (bytes.length === 0) throw errInvalidArgValue(name, value, 'must be a non-empty path');
  return value as string;
}

/** One of a fixed set of values. */
export function validateOneOf<T>(value: unknown, name: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw errInvalidArgValue(name, value, `must be one of ${allowed.map((a) => String(a)).join(', ')}`);
  }
  return value as T;
}
