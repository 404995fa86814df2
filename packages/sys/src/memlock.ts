/**
 * RLIMIT_MEMLOCK and old kernels. Before Linux 5.11 the kernel charged the memory of BPF maps,
 * programs and BTF to the creating user's `RLIMIT_MEMLOCK` (often 64 KiB or 8 MiB), so creating a
 * map of a few hundred KiB failed with a bare EPERM. 5.11 moved that accounting to the memory
 * cgroup. Like libbpf 1.x (`bump_rlimit_memlock`, feature `FEAT_MEMCG_ACCOUNT`) and cilium/ebpf's
 * `rlimit.RemoveMemlock`, bpfjs asks the kernel which accounting it has and, without memcg
 * accounting, raises the soft (and if needed the hard) limit of `RLIMIT_MEMLOCK` to infinity once,
 * before the first `BPF_MAP_CREATE`, `BPF_PROG_LOAD` or `BPF_BTF_LOAD` of the process.
 *
 * The probe is libbpf's: load a two-instruction socket filter that calls
 * `bpf_ktime_get_coarse_ns`. That helper came in the same release as memcg accounting (5.11), so
 * a kernel that verifies the call accounts BPF memory to the cgroup; one that answers EINVAL
 * (unknown helper) charges RLIMIT_MEMLOCK.
 *
 * This is the lowest layer that both map and program creation pass (`bpf()` itself), so a raw
 * `bpf(BPF_MAP_CREATE, ...)` is covered as well. `setMemlockLimit()` changes the limit or turns
 * the raise off.
 *
 * @module
 */
import {
  BPF_CALL,
  BPF_EXIT,
  BPF_FUNC_ktime_get_coarse_ns,
  BPF_PROG_TYPE_SOCKET_FILTER,
  BpfInsn,
  bpf_cmd,
  ProgLoadAttr,
} from '@bpfjs/uapi/linux/bpf';
import { BPF_JMP } from '@bpfjs/uapi/linux/bpf_common';
import { BpfjsTypeError, effectiveCapabilities, errInvalidArgType, errInvalidArgValue } from './errors.js';
import { getLibc } from './libc.js';
import { allocBytes, Struct } from './struct.js';

const RLIMIT_MEMLOCK = 8;
/** `RLIM_INFINITY` (all ones in a 64-bit `rlim_t`). */
const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;
const EINVAL = 22;

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

// The limit to raise to: infinity (libbpf's and cilium's default), a number of bytes, or 0n (off).
let wanted: bigint = RLIM_INFINITY;
let done = false;
let accounting: MemlockAccounting | undefined;

const CREATE_COMMANDS = new Set<number>([
  bpf_cmd.BPF_MAP_CREATE,
  bpf_cmd.BPF_PROG_LOAD,
  bpf_cmd.BPF_BTF_LOAD,
]);

/** True for the commands that create objects the kernel charges memory for. @internal */
export function chargesMemory(cmd: number): boolean {
  return CREATE_COMMANDS.has(cmd);
}

/**
 * What the kernel does with BPF memory (probed once per process, libbpf's probe: a socket filter
 * calling `bpf_ktime_get_coarse_ns`, which came with memcg accounting in 5.11).
 */
export function memlockAccounting(): MemlockAccounting {
  if (accounting !== undefined) return accounting;
  const call = allocBytes(BpfInsn.size * 2);
  call.set(
    new Struct(BpfInsn).set('code', BPF_JMP | BPF_CALL).set('imm', BPF_FUNC_ktime_get_coarse_ns).bytes,
    0,
  );
  call.set(new Struct(BpfInsn).set('code', BPF_JMP | BPF_EXIT).bytes, BpfInsn.size);
  const license = allocBytes(4);
  license.set([0x47, 0x50, 0x4c, 0]); // "GPL"
  const attr = new Struct(ProgLoadAttr)
    .set('prog_type', BPF_PROG_TYPE_SOCKET_FILTER)
    .set('insn_cnt', 2)
    .setPointer('insns', call)
    .setPointer('license', license);
  // The raw call (not bpf()): this runs from inside bpf()'s first creation and must not recurse.
  const libc = getLibc();
  const fd = libc.syscallBpf(libc.nr.bpf, bpf_cmd.BPF_PROG_LOAD, attr.bytes, attr.end);
  if (fd >= 0) {
    libc.close(fd);
    accounting = 'memcg';
  } else {
    accounting = libc.errno() === EINVAL ? 'rlimit' : 'unknown';
  }
  return accounting;
}

/** This process's RLIMIT_MEMLOCK (`getrlimit`). Returns `undefined` if it cannot be read. */
export function memlockRlimit(): MemlockRlimit | undefined {
  const buf = allocBytes(16);
  if (getLibc().getrlimit(RLIMIT_MEMLOCK, buf) !== 0) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, 16);
  return { cur: v.getBigUint64(0, true), max: v.getBigUint64(8, true) };
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

/**
 * Runs before the first object-creating bpf command of the process (from `bpf()`): probes the
 * accounting and raises RLIMIT_MEMLOCK if the plan says so. A refused `setrlimit` (no
 * CAP_SYS_RESOURCE) is left for the creation's EPERM to explain. Never throws.
 * @internal
 */
export function prepareMemlock(): void {
  if (done) return;
  done = true;
  if (wanted === 0n) return;
  try {
    const plan = memlockPlan(memlockAccounting(), wanted, memlockRlimit());
    if (plan === undefined) return;
    const buf = allocBytes(16);
    const v = new DataView(buf.buffer, buf.byteOffset, 16);
    v.setBigUint64(0, plan.cur, true);
    v.setBigUint64(8, plan.max, true);
    getLibc().setrlimit(RLIMIT_MEMLOCK, buf);
  } catch {
    // A missing libc symbol or the like: creation goes on and reports its own error.
  }
}

/**
 * Sets what bpfjs raises RLIMIT_MEMLOCK to on kernels without memcg accounting (before 5.11):
 * `'infinity'` (the default), a number of bytes, or `false`/`0` to leave the limit alone (as
 * libbpf's `libbpf_set_memlock_rlim(0)`). Call it before the first map, program or BTF is created.
 * @throws TypeError `ERR_BPFJS_MEMLOCK_TOO_LATE` once a creation has happened (the raise is done);
 *   `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for anything else than the above.
 */
export function setMemlockLimit(limit: 'infinity' | number | bigint | false): void {
  let v: bigint;
  if (limit === 'infinity') v = RLIM_INFINITY;
  else if (limit === false) v = 0n;
  else if (typeof limit === 'number') {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw errInvalidArgValue('limit', limit, 'must be a non-negative integer number of bytes');
    }
    v = BigInt(limit);
  } else if (typeof limit === 'bigint') {
    if (limit < 0n || limit > RLIM_INFINITY) throw errInvalidArgValue('limit', limit, 'must fit in a u64');
    v = limit;
  } else {
    throw errInvalidArgType('limit', "'infinity', false, a number or a bigint", limit);
  }
  if (done) {
    throw new BpfjsTypeError(
      'ERR_BPFJS_MEMLOCK_TOO_LATE',
      'setMemlockLimit() must be called before the first BPF map, program or BTF is created',
    );
  }
  wanted = v;
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

/**
 * The memlock sentence for an EPERM from a creating command in this process, or `undefined`.
 * Probes the accounting if not done yet (error path only). @internal
 */
export function memlockHintNow(): string | undefined {
  try {
    const caps = effectiveCapabilities();
    const held = caps?.has('CAP_SYS_ADMIN') === true;
    return memlockHint(memlockAccounting(), memlockRlimit(), held, wanted === 0n);
  } catch {
    return undefined;
  }
}

/** @internal Forgets the probe answer and the "done" mark (tests). */
export function resetMemlock(): void {
  done = false;
  accounting = undefined;
  wanted = RLIM_INFINITY;
}
