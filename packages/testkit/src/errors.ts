/**
 * Errors raised by the testkit itself (not by the kernel).
 *
 * @module
 */

/** A `TypeError` with a permanent `code` (bad argument to a testkit function). */
export class TestkitTypeError extends TypeError {
  /** Permanent code: `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_BPFJS_TESTKIT_*`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TypeError';
    this.code = code;
  }
}

/**
 * A requirement of a gated test is not met and `BPFJS_REQUIRE_KERNEL=1` forbids skipping.
 * `code` is `ERR_BPFJS_TESTKIT_REQUIREMENT`; `reason` says what is missing and how to run.
 */
export class RequirementError extends Error {
  /** Always `'ERR_BPFJS_TESTKIT_REQUIREMENT'`. */
  readonly code = 'ERR_BPFJS_TESTKIT_REQUIREMENT' as const;
  /** What is missing and how to run the test. */
  readonly reason: string;
  constructor(reason: string) {
    super(`BPFJS_REQUIRE_KERNEL=1 forbids skipping: ${reason}`);
    this.name = 'RequirementError';
    this.reason = reason;
  }
}
