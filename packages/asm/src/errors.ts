/**
 * Typed errors raised by the assembler. Every error is a `TypeError` or `RangeError` with a
 * permanent `code`, raised before anything reaches the kernel.
 *
 * @module
 */

/** The permanent `code` strings of the assembler's errors. */
export type AsmErrorCode =
  | 'ERR_INVALID_ARG_TYPE'
  | 'ERR_INVALID_ARG_VALUE'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_BPFJS_ASM_INVALID_REGISTER'
  | 'ERR_BPFJS_ASM_UNKNOWN_LABEL'
  | 'ERR_BPFJS_ASM_DUPLICATE_LABEL'
  | 'ERR_BPFJS_ASM_JUMP_OUT_OF_RANGE'
  | 'ERR_BPFJS_ASM_TRUNCATED';

const brand = Symbol.for('bpfjs.AsmError');

/**
 * A bad argument to an instruction builder (wrong type). `code` is `ERR_INVALID_ARG_TYPE` or
 * `ERR_INVALID_ARG_VALUE`.
 */
export class AsmTypeError extends TypeError {
  /** Permanent error code. */
  readonly code: AsmErrorCode;
  constructor(code: AsmErrorCode, message: string) {
    super(message);
    this.name = 'AsmTypeError';
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }
}

/**
 * A value outside what the instruction encoding can hold (register, immediate, offset), an
 * unknown or duplicate label, or a jump that does not fit the 16-bit offset field.
 */
export class AsmRangeError extends RangeError {
  /** Permanent error code. */
  readonly code: AsmErrorCode;
  constructor(code: AsmErrorCode, message: string) {
    super(message);
    this.name = 'AsmRangeError';
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }
}

/** True for any error raised by this package (also across two loaded copies of it). */
export function isAsmError(x: unknown): x is AsmTypeError | AsmRangeError {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[brand] === true;
}

/** @internal Checks that `value` is an integer in `[min, max]`. */
export function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new AsmTypeError(
      'ERR_INVALID_ARG_TYPE',
      `${name} must be a number, got ${value === null ? 'null' : typeof value}`,
    );
  }
  if (!Number.isInteger(value)) {
    throw new AsmRangeError('ERR_OUT_OF_RANGE', `${name} must be an integer, got ${value}`);
  }
  if (value < min || value > max) {
    throw new AsmRangeError('ERR_OUT_OF_RANGE', `${name} must be in [${min}, ${max}], got ${value}`);
  }
  return value;
}
