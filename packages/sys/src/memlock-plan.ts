/**
 * The RLIMIT_MEMLOCK decisions of `memlock.ts`, apart from any syscall so they can be tested with
 * any probe answer (a kernel without memcg accounting, before 5.11, cannot be had on every machine).
 *
 * @module
 * @internal
 */

/** `RLIM_INFINITY` (all ones in a 64-bit `rlim_t`). @internal */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

/**
 * How the running kernel accounts the memory of BPF objects: `'memcg'` (Linux 5.11+: the memory
 * cgroup, RLIMIT_MEMLOCK plays no part), `'rlimit'` (older kernels: charged to RLIMIT_MEMLOCK), or
 * `'unknown'` (the probe failed for another reason, e.g. EPERM without privileges or with the
 * limit already exhausted on an old kernel).
 */
export type MemlockAccounting = 'memcg' | 'rlimit' | 'unknown';

/** A process's RLIMIT_MEMLOCK (bytes; `RLIM_INFINITY` is `2n ** 64n - 1n`). */
export interface MemlockRlimit {
  /** Soft limit. */
  readonly cur: bigint;
  /** Hard limit. */
  readonly max: bigint;
}

/**
 * The decision, apart from the syscalls so it can be tested with any probe answer: the limit to set
 * before the first creation, or `undefined` to leave it alone — with memcg accounting, when the
 * raise is turned off (`limit` 0), or when the soft limit already reaches `limit`. The hard limit
 * is raised with the soft one where it is lower (that needs CAP_SYS_RESOURCE), never lowered.
 * `'unknown'` raises as libbpf does (it treats a failed probe as "no memcg accounting").
 * @internal
 */
export function memlockPlan(
  kind: MemlockAccounting,
  limit: bigint,
  current: MemlockRlimit | undefined,
): MemlockRlimit | undefined {
  if (kind === 'memcg' || limit === 0n) return undefined;
  if (current !== undefined && current.cur >= limit) return undefined;
  const max = current === undefined || current.max < limit ? limit : current.max;
  return { cur: limit, max };
}

/** `64 KiB`, `8 MiB`, `unlimited`. */
function formatBytes(n: bigint): string {
  if (n === RLIM_INFINITY) return 'unlimited';
  for (const [unit, size] of [
    ['GiB', 1n << 30n],
    ['MiB', 1n << 20n],
    ['KiB', 1n << 10n],
  ] as const) {
    if (n >= size && n % size === 0n) return `${n / size} ${unit}`;
  }
  return `${n} bytes`;
}

/**
 * The sentence for an EPERM from `BPF_MAP_CREATE`/`BPF_PROG_LOAD`/`BPF_BTF_LOAD` when the
 * RLIMIT_MEMLOCK is the likely cause: the kernel charges RLIMIT_MEMLOCK (probe `'rlimit'`, or
 * `'unknown'` while CAP_SYS_ADMIN is held, which leaves the limit as the reason), and the soft
 * limit is finite. `undefined` otherwise (the capability hint applies).
 * @internal
 */
export function memlockHint(
  kind: MemlockAccounting,
  current: MemlockRlimit | undefined,
  capabilitiesHeld: boolean,
  raiseOff: boolean,
): string | undefined {
  if (kind === 'memcg') return undefined;
  if (kind === 'unknown' && !capabilitiesHeld) return undefined;
  if (current !== undefined && current.cur === RLIM_INFINITY) return undefined;
  const limit = current === undefined ? 'finite' : formatBytes(current.cur);
  const fix = raiseOff
    ? "bpfjs's automatic raise is off (setMemlockLimit(false)): raise it (ulimit -l unlimited, or setMemlockLimit('infinity') before creating anything)"
    : 'bpfjs could not raise it (setrlimit needs CAP_SYS_RESOURCE to go past the hard limit): run with ulimit -l unlimited or with CAP_SYS_RESOURCE';
  return `this kernel charges BPF memory to RLIMIT_MEMLOCK (no memcg accounting before Linux 5.11) and the limit is ${limit}: ${fix}`;
}
