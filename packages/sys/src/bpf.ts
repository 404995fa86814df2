/**
 * `bpf(2)`: the one call into the kernel's BPF subsystem.
 *
 * @module
 */
import { bpf_cmd } from '@bpfjs/uapi/linux/bpf';
import { BpfError, errInvalidArgType, errOutOfRange, permissionHint } from './errors.js';
import { getLibc } from './libc.js';
import { chargesMemory, memlockHintNow, prepareMemlock } from './memlock.js';
import { addressOf } from './struct.js';
import { validateU32 } from './validate.js';

let commandNames: Map<number, string> | undefined;

/**
 * The `BPF_*` name of a command number from the uapi `enum bpf_cmd`, for messages
 * (`28` → `'BPF_LINK_CREATE'`); `'BPF_CMD_<n>'` for a number the headers do not know.
 */
export function commandName(cmd: number): string {
  if (commandNames === undefined) {
    commandNames = new Map();
    for (const [name, value] of Object.entries(bpf_cmd)) {
      // Keep the first name of a value (the enum has aliases such as BPF_PROG_RUN).
      if (!commandNames.has(value)) commandNames.set(value, name);
    }
  }
  return commandNames.get(cmd) ?? `BPF_CMD_${cmd}`;
}

/**
 * Calls `bpf(cmd, attr, size)` through libc's `syscall` (libc is loaded on the first call) and
 * returns the kernel's non-negative result (a new fd for commands that create objects: wrap it
 * in an `Fd`). `attr` stays alive and is read/written in place for the whole call; the kernel
 * reads only its first `size` bytes. Pointers stored inside `attr` are the caller's to keep valid
 * (this raw call cannot check them): prefer the typed wrappers, which own every buffer they point
 * the kernel at.
 * @throws BpfError (`syscall: 'bpf'`, `command: 'BPF_*'`) when the kernel returns -1.
 * @throws TypeError/RangeError for a bad `cmd`, `attr` or a `size` larger than `attr`.
 */
export function bpf(cmd: number, attr: Uint8Array, size: number): number {
  validateU32(cmd, 'cmd');
  if (!(attr instanceof Uint8Array)) throw errInvalidArgType('attr', 'an instance of Uint8Array', attr);
  if (typeof size !== 'number') throw errInvalidArgType('size', 'of type number', size);
  if (!Number.isInteger(size) || size < 0 || size > attr.byteLength) {
    throw errOutOfRange('size', `an integer >= 0 and <= ${attr.byteLength} (attr.byteLength)`, size);
  }
  return bpfUnchecked(cmd, attr, size);
}

/**
 * `bpf()` without argument checks, for wrappers that built `attr` themselves.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function bpfUnchecked(cmd: number, attr: Uint8Array, size: number): number {
  if (call === undefined) bind();
  if (!memlockReady && chargesMemory(cmd)) readyMemlock();
  const r = call!(nr, cmd, attr, size);
  if (r < 0) throw bpfError(cmd, getLibc().errno());
  return r;
}

// Before the first object-creating command: RLIMIT_MEMLOCK raised on kernels that charge it
// (before 5.11; see memlock.ts). One boolean test per call afterwards.
let memlockReady = false;
function readyMemlock(): void {
  memlockReady = true;
  prepareMemlock();
}

/**
 * `bpf()` without argument checks that does not throw: the result, or `-errno` on failure (errno
 * read right after the call). For wrappers where a failure is an expected answer (ENOENT at the
 * end of an id list): no `BpfError` is built unless the caller decides to throw one
 * ({@link bpfError}).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function bpfTry(cmd: number, attr: Uint8Array, size: number): number {
  if (call === undefined) bind();
  if (!memlockReady && chargesMemory(cmd)) readyMemlock();
  const r = call!(nr, cmd, attr, size);
  return r < 0 ? -getLibc().errno() : r;
}

/**
 * The `BpfError` for a failed `cmd` with `errno` (as `bpfUnchecked()` throws it). An EPERM from a
 * command that creates an object says so when RLIMIT_MEMLOCK is the likely cause (pre-5.11
 * kernels), before the capability hint.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function bpfError(cmd: number, errno: number): BpfError {
  const command = commandName(cmd);
  if (errno === EPERM && chargesMemory(cmd)) {
    const memlock = memlockHintNow();
    if (memlock !== undefined) {
      return new BpfError(errno, 'bpf', { command, hint: `${memlock}; ${permissionHint('bpf', command)}` });
    }
  }
  return new BpfError(errno, 'bpf', { command });
}

const EPERM = 1;

/**
 * A scratch attr that lives as long as the module: its bytes, a DataView and its address as a
 * plain number (user-space addresses fit 2^53), for {@link bpfAt}.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export interface ScratchAttr {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly addr: number;
}

/**
 * Wraps module-level attr bytes (allocated off the V8 heap, so the address is stable) as a
 * {@link ScratchAttr}; the caller must keep `bytes` referenced for as long as it uses `addr`.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function scratchAttr(bytes: Uint8Array): ScratchAttr {
  return {
    bytes,
    view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    addr: Number(addressOf(bytes)),
  };
}

/**
 * `bpfUnchecked()` for a module-level scratch attr passed by its cached address (`intptr_t`):
 * koffi converts a number faster than it pins a `Uint8Array` for a `void *`. Never for caller
 * buffers: the address is only valid while the scratch's module keeps its bytes alive.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function bpfAt(cmd: number, attr: ScratchAttr, size: number): number {
  if (callAt === undefined) bind();
  const r = callAt!(nr, cmd, attr.addr, size);
  if (r < 0) throw new BpfError(getLibc().errno(), 'bpf', { command: commandName(cmd) });
  return r;
}

/** `bpfTry()` for a scratch attr by address (see {@link bpfAt}). For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function bpfAtTry(cmd: number, attr: ScratchAttr, size: number): number {
  if (callAt === undefined) bind();
  const r = callAt!(nr, cmd, attr.addr, size);
  return r < 0 ? -getLibc().errno() : r;
}

// The bound syscalls and the bpf syscall number, cached at the first call (a hot path).
let call: ((nr: number, cmd: number, attr: Uint8Array, size: number) => number) | undefined;
let callAt: ((nr: number, cmd: number, attr: number, size: number) => number) | undefined;
let nr = 0;
function bind(): void {
  const libc = getLibc();
  nr = libc.nr.bpf;
  call = libc.syscallBpf;
  callAt = libc.syscallBpfAddr;
}
