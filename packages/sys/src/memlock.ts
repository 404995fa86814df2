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
import {
  type MemlockAccounting,
  type MemlockRlimit,
  memlockHint,
  memlockPlan,
  RLIM_INFINITY,
} from './memlock-plan.js';
import { allocBytes, Struct } from './struct.js';

export type { MemlockAccounting, MemlockRlimit };

const RLIMIT_MEMLOCK = 8;
const EINVAL = 22;

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
