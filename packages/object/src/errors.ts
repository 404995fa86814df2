/**
 * Errors of the object loader that are not from the kernel. Each has a permanent `code`:
 * `ERR_BPFJS_ELF_INVALID` (not a readable ELF64 little-endian BPF object), `ERR_BPFJS_OBJECT_INVALID`
 * (a readable ELF whose BPF content is wrong: unknown section, bad map definition, relocation
 * against a missing symbol, ...), `ERR_BPFJS_OBJECT_CORE` (a CO-RE relocation that cannot be
 * applied at all). Kernel failures stay `BpfError`s from `@bpfjs/sys`.
 *
 * @module
 */

const OBJECT_ERROR_BRAND = Symbol.for('bpfjs.BpfObjectError');

/** The permanent codes of {@link BpfObjectError}. */
export type BpfObjectErrorCode =
  | 'ERR_BPFJS_ELF_INVALID'
  | 'ERR_BPFJS_OBJECT_INVALID'
  | 'ERR_BPFJS_OBJECT_UNKNOWN_SECTION'
  | 'ERR_BPFJS_OBJECT_RELOCATION'
  | 'ERR_BPFJS_OBJECT_CORE'
  | 'ERR_BPFJS_OBJECT_BTF';

/** Where in the object file an error was found (whatever is known). */
export interface ObjectErrorLocation {
  /** Section name (or `#index` when the name itself is unreadable). */
  readonly section?: string;
  /** Symbol name. */
  readonly symbol?: string;
  /** Byte offset in the file, or in the section when `section` is set. */
  readonly offset?: number;
  /** Program the error belongs to. */
  readonly program?: string;
  /** Map the error belongs to. */
  readonly map?: string;
}

/**
 * A BPF object file that cannot be read or used: `code` says what kind of problem (permanent
 * `ERR_BPFJS_*`), `location` where (section, symbol, offset, program, map). Branded with
 * `Symbol.for('bpfjs.BpfObjectError')`; use {@link BpfObjectError.isInstance} across copies.
 */
export class BpfObjectError extends Error {
  /** Permanent error code. */
  readonly code: BpfObjectErrorCode;
  /** Where the problem is. */
  readonly location: ObjectErrorLocation;

  constructor(
    code: BpfObjectErrorCode,
    message: string,
    location: ObjectErrorLocation = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'BpfObjectError';
    this.code = code;
    this.location = location;
  }

  /** True for a `BpfObjectError` from any copy of `@bpfjs/object`. */
  static isInstance(value: unknown): value is BpfObjectError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[OBJECT_ERROR_BRAND] === true
    );
  }
}
Object.defineProperty(BpfObjectError.prototype, OBJECT_ERROR_BRAND, { value: true });

/** `ERR_BPFJS_ELF_INVALID` with a location. @internal */
export function elfError(message: string, location: ObjectErrorLocation = {}): BpfObjectError {
  return new BpfObjectError('ERR_BPFJS_ELF_INVALID', `invalid ELF object: ${message}`, location);
}

/** `ERR_BPFJS_OBJECT_INVALID` with a location. @internal */
export function objectError(
  message: string,
  location: ObjectErrorLocation = {},
  cause?: unknown,
): BpfObjectError {
  return new BpfObjectError('ERR_BPFJS_OBJECT_INVALID', message, location, cause);
}
