/**
 * Error types and input-check helpers shared by every bpfjs package.
 *
 * Kernel failures are {@link BpfError}s (Node `SystemError` shape). Bad input is refused before any
 * syscall with a `TypeError`/`RangeError` carrying a permanent `code` (Node's own
 * `ERR_INVALID_ARG_TYPE`, `ERR_INVALID_ARG_VALUE`, `ERR_OUT_OF_RANGE`, or `ERR_BPFJS_*`).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { ENOTSUPP, errnoMessage, errnoName } from './errno.js';

const BPF_ERROR_BRAND = Symbol.for('bpfjs.BpfError');
const UNSUPPORTED_BRAND = Symbol.for('bpfjs.UnsupportedFeatureError');

/** Options for {@link BpfError}. */
export interface BpfErrorOptions {
  /** The bpf command name (`'BPF_LINK_CREATE'`), for `syscall: 'bpf'`. */
  command?: string | undefined;
  /** The path the call acted on, if any (printed like Node: `, open '/x'`). */
  path?: string | undefined;
  /** The verifier log of a failed `BPF_PROG_LOAD`. */
  log?: string | undefined;
  /** A sentence saying what probably went wrong (computed for EPERM when not given). */
  hint?: string | undefined;
  /** The underlying error, if this wraps another one. */
  cause?: unknown;
}

/**
 * A failed system call: `code` (`'EEXIST'`), `errno` (17), `syscall` (`'bpf'`, `'setns'`, ...),
 * `command` (`'BPF_LINK_CREATE'` for bpf), and a Node-style message
 * (`EEXIST: file exists, bpf BPF_LINK_CREATE`). EPERM errors carry a `hint` naming the missing
 * capabilities and the `kernel.unprivileged_bpf_disabled` setting. Branded with
 * `Symbol.for('bpfjs.BpfError')`: use {@link BpfError.isInstance} across package copies.
 */
export class BpfError extends Error {
  /** The errno name, e.g. `'EEXIST'` (`'ENOTSUPP'` for the kernel-internal 524). */
  readonly code: string;
  /** The errno number, e.g. 17. */
  readonly errno: number;
  /** The system call that failed: `'bpf'`, `'setns'`, `'mount'`, `'close'`, ... */
  readonly syscall: string;
  /** The bpf command name (`'BPF_LINK_CREATE'`) when `syscall` is `'bpf'`. */
  readonly command: string | undefined;
  /** The path the call acted on, if any. */
  readonly path: string | undefined;
  /** What probably went wrong, where bpfjs can tell (always set for EPERM from the kernel). */
  readonly hint: string | undefined;
  /** The verifier log of a failed `BPF_PROG_LOAD`, if one was captured. */
  readonly log: string | undefined;

  constructor(errno: number, syscall: string, options: BpfErrorOptions = {}) {
    const code = errnoName(errno);
    let message = `${code}: ${errnoMessage(errno)}, ${syscall}`;
    if (options.command !== undefined) message += ` ${options.command}`;
    if (options.path !== undefined) message += ` '${options.path}'`;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BpfError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.command = options.command;
    this.path = options.path;
    this.log = options.log;
    this.hint = options.hint ?? defaultHint(errno, syscall, options.command);
  }

  /** True for a `BpfError` from any copy of `@bpfjs/sys` (checks the `Symbol.for` brand). */
  static isInstance(value: unknown): value is BpfError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BPF_ERROR_BRAND] === true
    );
  }
}
Object.defineProperty(BpfError.prototype, BPF_ERROR_BRAND, { value: true });

function defaultHint(errno: number, syscall: string, command: string | undefined): string | undefined {
  if (errno === 1) return permissionHint(syscall, command);
  if (errno === ENOTSUPP) {
    return 'the kernel does not support this operation or attach type (ENOTSUPP, 524); a newer kernel may';
  }
  return undefined;
}

// Capability numbers from include/uapi/linux/capability.h.
const CAPS: ReadonlyArray<readonly [string, number]> = [
  ['CAP_NET_ADMIN', 12],
  ['CAP_SYS_ADMIN', 21],
  ['CAP_PERFMON', 38],
  ['CAP_BPF', 39],
];

/**
 * Reads the effective capabilities of the calling thread (`/proc/thread-self/status`).
 * @returns the set of capability names held, or `undefined` if it cannot be read.
 */
export function effectiveCapabilities(): Set<string> | undefined {
  try {
    const status = readFileSync('/proc/thread-self/status', 'utf8');
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
    if (m === null) return undefined;
    const mask = BigInt(`0x${m[1]}`);
    const held = new Set<string>();
    for (const [name, bit] of CAPS) if ((mask >> BigInt(bit)) & 1n) held.add(name);
    return held;
  } catch {
    return undefined;
  }
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * bpf commands whose permission check is one capability whatever the object (kernel/bpf/syscall.c):
 * walking and opening objects by id need CAP_SYS_ADMIN, a netns/cgroup query CAP_NET_ADMIN. Other
 * commands depend on the program, map or link type, so the hint names the three candidates.
 */
const COMMAND_CAPABILITIES: Readonly<Record<string, readonly string[]>> = {
  BPF_PROG_GET_NEXT_ID: ['CAP_SYS_ADMIN'],
  BPF_MAP_GET_NEXT_ID: ['CAP_SYS_ADMIN'],
  BPF_LINK_GET_NEXT_ID: ['CAP_SYS_ADMIN'],
  BPF_BTF_GET_NEXT_ID: ['CAP_SYS_ADMIN'],
  BPF_PROG_GET_FD_BY_ID: ['CAP_SYS_ADMIN'],
  BPF_MAP_GET_FD_BY_ID: ['CAP_SYS_ADMIN'],
  BPF_LINK_GET_FD_BY_ID: ['CAP_SYS_ADMIN'],
  BPF_BTF_GET_FD_BY_ID: ['CAP_SYS_ADMIN'],
  BPF_ENABLE_STATS: ['CAP_SYS_ADMIN'],
  BPF_PROG_QUERY: ['CAP_NET_ADMIN'],
};

/**
 * The hint attached to an EPERM: which of the capabilities the call may need are missing, and
 * whether `kernel.unprivileged_bpf_disabled` is set.
 */
export function permissionHint(syscall = 'bpf', command?: string): string {
  const needed =
    syscall !== 'bpf'
      ? ['CAP_SYS_ADMIN']
      : ((command === undefined ? undefined : COMMAND_CAPABILITIES[command]) ?? [
          'CAP_BPF',
          'CAP_NET_ADMIN',
          'CAP_SYS_ADMIN',
        ]);
  const held = effectiveCapabilities();
  const parts: string[] = [];
  if (held === undefined) {
    parts.push(`could not read the capabilities of this thread; ${syscall} may need ${needed.join(', ')}`);
  } else {
    const missing = needed.filter((c) => !held.has(c));
    if (missing.length > 0) parts.push(`missing capabilities: ${missing.join(', ')}`);
    else
      parts.push(
        `${needed.join(', ')} are all held, so a security module, lockdown or a token policy refused it`,
      );
  }
  if (syscall === 'bpf') {
    const unpriv = readSysctl('/proc/sys/kernel/unprivileged_bpf_disabled');
    if (unpriv !== undefined && unpriv !== '0') {
      parts.push(`kernel.unprivileged_bpf_disabled=${unpriv} (bpf(2) needs CAP_BPF or CAP_SYS_ADMIN)`);
    } else if (unpriv === '0') {
      parts.push('kernel.unprivileged_bpf_disabled=0');
    }
  }
  return parts.join('; ');
}

/**
 * A kernel feature this kernel lacks, found by probing. `code` is `'ERR_BPFJS_NOT_SUPPORTED'`,
 * `feature` names it (`'BPF_LINK_CREATE'`, `'attach type sk_lookup'`), `minKernel` is the first
 * kernel version that has it, where known.
 */
export class UnsupportedFeatureError extends Error {
  /** Always `'ERR_BPFJS_NOT_SUPPORTED'`. */
  readonly code = 'ERR_BPFJS_NOT_SUPPORTED' as const;
  /** The feature, e.g. `'link type netns'`. */
  readonly feature: string;
  /** The first mainline kernel with the feature, e.g. `'5.8'`, if known. */
  readonly minKernel: string | undefined;

  constructor(feature: string, minKernel?: string, options?: { cause?: unknown }) {
    super(
      `${feature} is not supported by this kernel${minKernel === undefined ? '' : ` (needs Linux ${minKernel} or newer)`}`,
      options,
    );
    this.name = 'UnsupportedFeatureError';
    this.feature = feature;
    this.minKernel = minKernel;
  }

  /** True for an `UnsupportedFeatureError` from any copy of `@bpfjs/sys`. */
  static isInstance(value: unknown): value is UnsupportedFeatureError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[UNSUPPORTED_BRAND] === true
    );
  }
}
Object.defineProperty(UnsupportedFeatureError.prototype, UNSUPPORTED_BRAND, { value: true });

// ---------------------------------------------------------------------------------------------
// Input-check errors

/** A `TypeError` with a permanent `code`. */
export class BpfjsTypeError extends TypeError {
  /** A permanent error code, e.g. `'ERR_INVALID_ARG_TYPE'`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'TypeError';
    this.code = code;
  }
}

/** A `RangeError` with a permanent `code`. */
export class BpfjsRangeError extends RangeError {
  /** A permanent error code, e.g. `'ERR_OUT_OF_RANGE'`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'RangeError';
    this.code = code;
  }
}

/** A short description of a received value, in the style of Node's argument errors. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'function':
      return `function ${(value as { name?: string }).name || '<anonymous>'}`;
    case 'object': {
      const ctor = (value as object).constructor?.name;
      return ctor ? `an instance of ${ctor}` : inspect(value, { depth: -1 });
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return `type string (${JSON.stringify(s)})`;
    }
    case 'bigint':
      return `type bigint (${value}n)`;
    default:
      return `type ${typeof value} (${inspect(value)})`;
  }
}

/** `ERR_INVALID_ARG_TYPE`: `The "name" argument must be of type X. Received ...`. */
export function errInvalidArgType(name: string, expected: string, actual: unknown): BpfjsTypeError {
  return new BpfjsTypeError(
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" argument must be ${expected}. Received ${describeValue(actual)}`,
  );
}

/** `ERR_INVALID_ARG_VALUE`: `The argument 'name' is invalid (reason). Received ...`. */
export function errInvalidArgValue(name: string, actual: unknown, reason: string): BpfjsTypeError {
  return new BpfjsTypeError(
    'ERR_INVALID_ARG_VALUE',
    `The argument '${name}' ${reason}. Received ${inspect(actual, { depth: 0, maxStringLength: 40 })}`,
  );
}

/** `ERR_OUT_OF_RANGE`: `The value of "name" is out of range. It must be R. Received V`. */
export function errOutOfRange(name: string, range: string, actual: unknown): BpfjsRangeError {
  return new BpfjsRangeError(
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(actual)}`,
  );
}

/** `ERR_BPFJS_FD_CLOSED`: an `Fd` was used after `close()` or `disown()`. */
export function errFdClosed(name: string): BpfjsTypeError {
  return new BpfjsTypeError('ERR_BPFJS_FD_CLOSED', `The "${name}" argument is a closed Fd`);
}
