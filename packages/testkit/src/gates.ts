/**
 * Gates for kernel tests: each `require*()` returns a {@link Gate} saying whether the test can run
 * here and, if not, why and how to run it. A gate skips with its reason, or — with
 * `BPFJS_REQUIRE_KERNEL=1` in the environment — fails instead, so CI cannot go green on skips.
 *
 * @module
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { describe, it, type TestContext, type TestOptions } from 'vitest';
import { RequirementError, TestkitTypeError } from './errors.js';

/** True when `BPFJS_REQUIRE_KERNEL` is set to anything but `''`/`0`/`false`: gates fail instead of skipping. */
export function kernelRequired(): boolean {
  const v = process.env.BPFJS_REQUIRE_KERNEL;
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** The body of a gated `describe`. */
export type SuiteBody = () => void;
/** The body of a gated `it`: vitest's test context in, anything (a promise is awaited) out. */
export type TestBody = (ctx: TestContext) => unknown;

/**
 * The result of a requirement check, usable in every vitest position:
 *
 * - `gate.describe(name, body)` / `gate.it(name, fn)`: a suite or test that is skipped with
 *   `name [skipped: reason]` when the gate is closed (hooks inside do not run), or fails with the
 *   reason under `BPFJS_REQUIRE_KERNEL=1`.
 * - `beforeEach(gate)` or `gate(ctx)` inside a test: `ctx.skip(reason)` (vitest prints the reason),
 *   or throws {@link RequirementError} under `BPFJS_REQUIRE_KERNEL=1`.
 * - `describe.skipIf(gate.skip)(...)` for plain vitest, `gate.ok`, `gate.reason` for your own logic.
 */
export interface Gate {
  /** Skips the running test with the reason (or throws under `BPFJS_REQUIRE_KERNEL=1`); no-op when open. */
  (ctx?: Pick<TestContext, 'skip'> | object): void;
  /** True when every requirement is met. */
  readonly ok: boolean;
  /** What is missing and how to run the test; `undefined` when `ok`. */
  readonly reason: string | undefined;
  /** True when the test should be skipped: not `ok` and `BPFJS_REQUIRE_KERNEL` is not set. */
  readonly skip: boolean;
  /** Throws {@link RequirementError} when not `ok` (whatever `BPFJS_REQUIRE_KERNEL` says). */
  check(): void;
  /** A `describe` gated by this gate (see above); `options` as vitest's (a timeout or `TestOptions`). */
  describe(name: string, body: SuiteBody, options?: number | TestOptions): void;
  /** An `it` gated by this gate (see above); `options` as vitest's (a timeout or `TestOptions`). */
  it(name: string, fn: TestBody, options?: number | TestOptions): void;
  /** This gate and `others`: open only when all are; the reasons are joined. */
  and(...others: Gate[]): Gate;
}

/** Makes a gate from a reason (`undefined` = requirement met). */
export function makeGate(reason: string | undefined): Gate {
  const ok = reason === undefined;
  const required = kernelRequired();
  const fail = (): never => {
    throw new RequirementError(reason ?? 'unknown requirement');
  };
  const gate = ((ctx?: unknown) => {
    if (ok) return;
    if (required) fail();
    const skip = (ctx as { skip?: (note?: string) => never } | undefined)?.skip;
    if (typeof skip === 'function') skip(reason);
    // No test context (e.g. called from beforeAll): vitest cannot skip from here, so fail with the
    // reason rather than run a test that cannot work.
    throw new RequirementError(`${reason} (use gate.describe()/beforeEach(gate) to skip instead of failing)`);
  }) as Gate;
  Object.defineProperties(gate, {
    ok: { value: ok, enumerable: true },
    reason: { value: reason, enumerable: true },
    skip: { value: !ok && !required, enumerable: true },
  });
  const extra = {
    check(): void {
      if (!ok) fail();
    },
    describe(name: string, body: SuiteBody, options?: number | TestOptions): void {
      if (ok) describe(name, body, options);
      else if (!required) describe.skip(`${name} [skipped: ${reason}]`, body, options);
      else {
        describe(name, () => {
          it(`requirement: ${reason}`, () => fail());
        });
      }
    },
    it(name: string, fn: TestBody, options?: number | TestOptions): void {
      if (ok) it(name, fn, options);
      else if (!required) it.skip(`${name} [skipped: ${reason}]`, fn, options);
      else it(name, () => fail(), options);
    },
    and(...others: Gate[]): Gate {
      const reasons = [gate, ...others].map((g) => g.reason).filter((r): r is string => r !== undefined);
      return makeGate(reasons.length === 0 ? undefined : reasons.join('; '));
    },
  };
  Object.assign(gate, extra);
  return gate;
}

// ---- capabilities -----------------------------------------------------------------------------

// include/uapi/linux/capability.h
const CAP_NUMBERS: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** A capability name: `'CAP_BPF'`, or short and case-insensitive (`'bpf'`, `'net_admin'`). */
export type CapabilityName = string;

function canonicalCap(name: unknown): string {
  if (typeof name !== 'string') {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_TYPE',
      `a capability name must be a string, got ${typeof name}`,
    );
  }
  const upper = name.toUpperCase();
  const full = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (CAP_NUMBERS[full] === undefined) {
    throw new TestkitTypeError('ERR_INVALID_ARG_VALUE', `unknown capability ${JSON.stringify(name)}`);
  }
  return full;
}

/**
 * The effective capability set of this process (`CapEff` of `/proc/self/status`), as names;
 * `undefined` when it cannot be read (not Linux).
 */
export function effectiveCapabilities(statusText?: string): Set<string> | undefined {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(text);
  if (m === null) return undefined;
  const mask = BigInt(`0x${m[1]}`);
  const held = new Set<string>();
  for (const [name, bit] of Object.entries(CAP_NUMBERS)) if ((mask >> BigInt(bit)) & 1n) held.add(name);
  return held;
}

function joinAnd(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** @internal The reason string for missing capabilities (exported for tests). */
export function capabilityReason(needed: string[], held: Set<string> | undefined): string | undefined {
  if (held === undefined)
    return `needs ${joinAnd(needed)}, but the capabilities of this process cannot be read (not Linux?)`;
  const missing = needed.filter((c) => !held.has(c));
  if (missing.length === 0) return undefined;
  return `needs ${joinAnd(needed)} (missing ${joinAnd(missing)}): run as root, e.g. sudo pnpm test`;
}

/**
 * Gate: the process holds every capability named (`'CAP_BPF'`, `'net_admin'`, ...), read from
 * `CapEff` in `/proc/self/status`.
 * @throws {TestkitTypeError} `ERR_INVALID_ARG_VALUE` for an unknown capability name.
 */
export function requireCapabilities(...caps: CapabilityName[]): Gate {
  const needed = caps.map(canonicalCap);
  return makeGate(capabilityReason(needed, effectiveCapabilities()));
}

// ---- kernel version -----------------------------------------------------------------------------

function parseVersion(v: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** @internal Compares two `major.minor[.patch]` versions: negative, 0 or positive. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x === undefined || y === undefined)
    throw new TestkitTypeError('ERR_INVALID_ARG_VALUE', `not a version: ${a} / ${b}`);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/**
 * Gate: the running kernel is at least `version` (`'5.9'`); `why` names the feature
 * (`'sk_lookup links'`) for the skip reason.
 * @throws {TestkitTypeError} `ERR_INVALID_ARG_VALUE` for a malformed version.
 */
export function requireKernelVersion(version: string, why?: string, running: string = release()): Gate {
  if (typeof version !== 'string' || parseVersion(version) === undefined) {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `version must look like "5.9", got ${JSON.stringify(version)}`,
    );
  }
  if (process.platform !== 'linux')
    return makeGate(
      `needs Linux ${version} or newer${why ? ` for ${why}` : ''} (this is ${process.platform})`,
    );
  if (parseVersion(running) === undefined || compareVersions(running, version) >= 0)
    return makeGate(undefined);
  return makeGate(
    `needs Linux ${version} or newer${why ? ` for ${why}` : ''}; this kernel is ${running}: run on a newer kernel`,
  );
}

// ---- kernel + privileges ---------------------------------------------------------------------

/** Options of {@link requireKernel}. */
export interface RequireKernelOptions {
  /** Capabilities needed (default: CAP_BPF, CAP_NET_ADMIN, CAP_SYS_ADMIN — netns and bpffs need the last). */
  readonly capabilities?: readonly CapabilityName[];
  /** Minimum kernel version, e.g. `'5.9'`. */
  readonly minVersion?: string;
}

/** The capabilities `requireKernel()` asks for by default. */
export const DEFAULT_KERNEL_CAPABILITIES: readonly string[] = ['CAP_BPF', 'CAP_NET_ADMIN', 'CAP_SYS_ADMIN'];

/**
 * Gate: a Linux kernel with `bpf(2)` and the privileges kernel tests need (by default CAP_BPF,
 * CAP_NET_ADMIN and CAP_SYS_ADMIN, i.e. root). The reason says what is missing and how to run.
 */
export function requireKernel(options: RequireKernelOptions = {}): Gate {
  if (process.platform !== 'linux')
    return makeGate(`needs a Linux kernel with BPF (this is ${process.platform})`);
  const caps = (options.capabilities ?? DEFAULT_KERNEL_CAPABILITIES).map(canonicalCap);
  let gate = makeGate(capabilityReason(caps, effectiveCapabilities()));
  if (options.minVersion !== undefined) gate = gate.and(requireKernelVersion(options.minVersion));
  return gate;
}

// ---- executables ------------------------------------------------------------------------------

/** Finds `name` on `PATH` (or checks an absolute path); the full path, or `undefined`. */
export function findExecutable(name: string, path: string = process.env.PATH ?? ''): string | undefined {
  if (typeof name !== 'string' || name === '' || name.includes('\0')) {
    throw new TestkitTypeError(
      'ERR_INVALID_ARG_VALUE',
      `an executable name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  }
  const candidates = name.includes('/')
    ? [name]
    : path
        .split(':')
        .filter((d) => d !== '')
        .map((d) => `${d}/${name}`);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Gate: an executable the test runs is installed (`'ip'`, `'bpftool'`, `'setpriv'`). `install`
 * says how to get it (`'apt-get install iproute2'`) for the skip reason.
 */
export function requireExecutable(name: string, install?: string): Gate {
  if (findExecutable(name) !== undefined) return makeGate(undefined);
  return makeGate(`needs the \`${name}\` command on PATH${install === undefined ? '' : `: ${install}`}`);
}
