/**
 * `Program`: a loaded BPF program that owns its file descriptor.
 *
 * @module
 */
import { BpfError, brand, errInvalidArgType, errInvalidArgValue, Fd } from '@bpfjs/sys';
import {
  explainFailure,
  fdKind,
  getFdByIdUnchecked,
  isFd,
  optionKeys,
  progInfoUnchecked,
  progLoadUnchecked,
  validateCString,
  validateInteger,
  validateObject,
  validateU32,
} from '@bpfjs/sys/internal';
import { BPF_PROG_GET_FD_BY_ID } from '@bpfjs/uapi';
import { errClosed, errWrongObject, explain } from './errors.js';
import type { ProgramInfo } from './info.js';
import { attachTypeName, attachTypeValue, progTypeName, progTypeValue } from './names.js';
import { getPinned, type PinOptions, pinFd, unpinPath, validatePinPath } from './pin.js';

/** Options of {@link Program.load}. */
export interface ProgramLoadOptions {
  /** Program type, as bpftool names it (`'flow_dissector'`, `'sk_lookup'`, ...) or its number. */
  readonly type: string | number;
  /**
   * The instructions: bytes in the `struct bpf_insn` wire format (8 bytes each), e.g.
   * `assemble(...)` from `@bpfjs/asm`, or an array of instruction objects with an `encode()`
   * method returning those bytes (`@bpfjs/asm` builders without labels; use `assemble()` when
   * the program has labels).
   */
  readonly instructions: Uint8Array | ReadonlyArray<{ encode(): Uint8Array }>;
  /** License string; GPL-only helpers need a GPL-compatible one. Default `'GPL'`. */
  readonly license?: string;
  /**
   * Expected attach type (bpftool name or number). Defaults from the type where the kernel
   * requires one: `sk_lookup` → `'sk_lookup'`.
   */
  readonly expectedAttachType?: string | number;
  /** Program name shown by bpftool: up to 15 characters of `[A-Za-z0-9_.]`. */
  readonly name?: string;
}

// Unknown keys in Program.load options are refused (ERR_INVALID_ARG_VALUE), not ignored: a typo
// such as `attachType` for `expectedAttachType` would load a different program.
const LOAD_KEYS = optionKeys('type', 'instructions', 'license', 'expectedAttachType', 'name');

/** Types whose load needs `expected_attach_type` set (kernel `bpf_prog_load_check_attach`). */
const DEFAULT_EXPECTED_ATTACH: Readonly<Record<string, string>> = {
  sk_lookup: 'sk_lookup',
  // The kernel loads netfilter programs only with BPF_NETFILTER (6.4+).
  netfilter: 'netfilter',
};

/** The kernel's limit on program size (BPF_COMPLEXITY_LIMIT_INSNS, since 5.2). */
const MAX_INSNS = 1_000_000;
/** The kernel copies at most 127 license bytes (`char license[128]`). */
const MAX_LICENSE = 127;
/** Program names are ASCII (checked before encoding). */
const latin1 = new TextEncoder();

function encodeInstructions(value: unknown): Uint8Array {
  const name = 'options.instructions';
  let bytes: Uint8Array;
  if (value instanceof Uint8Array) {
    bytes = value;
  } else if (Array.isArray(value)) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < value.length; i++) {
      const insn = value[i] as { encode?: unknown } | null;
      if (typeof insn !== 'object' || insn === null || typeof insn.encode !== 'function') {
        throw errInvalidArgValue(
          `${name}[${i}]`,
          insn,
          'must be an instruction with encode() (for labels, pass assemble(...) from @bpfjs/asm)',
        );
      }
      const b = (insn.encode as () => unknown).call(insn);
      if (!(b instanceof Uint8Array))
        throw errInvalidArgValue(`${name}[${i}]`, insn, 'encode() must return a Uint8Array');
      parts.push(b);
      total += b.byteLength;
    }
    bytes = new Uint8Array(total);
    let at = 0;
    for (const b of parts) {
      bytes.set(b, at);
      at += b.byteLength;
    }
  } else {
    throw errInvalidArgType(name, 'a Uint8Array or an array of instructions (see @bpfjs/asm)', value);
  }
  if (bytes.byteLength === 0 || bytes.byteLength % 8 !== 0) {
    throw errInvalidArgValue(name, bytes.byteLength, 'must encode to a non-empty multiple of 8 bytes');
  }
  if (bytes.byteLength / 8 > MAX_INSNS) {
    throw errInvalidArgValue(
      name,
      bytes.byteLength / 8,
      `must be at most ${MAX_INSNS} instructions (the kernel's limit)`,
    );
  }
  return bytes;
}

let adoptLoaded: (fd: Fd, typeId: number, expectedAttachType: number | undefined) => Program;

/**
 * Wraps the fd of a program the caller has just loaded with `BPF_PROG_LOAD` (the object loader of
 * `@bpfjs/object`), with the program type and expected attach type it was loaded with (the kernel
 * does not report the latter). Takes ownership; on failure (reading the id) the fd is closed.
 * The fd is not inspected: pass only fds that `progLoad` returned. Not for applications: the
 * loader's entry point into this package.
 */
export function adoptLoadedProgram(fd: Fd, typeId: number, expectedAttachType: number | undefined): Program {
  return adoptLoaded(fd, typeId, expectedAttachType);
}

const PROGRAM = brand<Program>('bpfjs.Program');

/**
 * The number of an fd given to `fromFd` (an `Fd` or a number), checked but not taken over: a
 * refusal must leave the caller's descriptor open. @internal
 */
export function borrowedFd(fd: unknown): number {
  if (typeof fd === 'number') return validateInteger(fd, 'fd', 0, 0x7fffffff);
  if (!isFd(fd)) throw errInvalidArgType('fd', 'an Fd or a number', fd);
  if (fd.closed) throw errClosed('Fd given as "fd"');
  return validateInteger(fd.fd, 'fd.fd', 0, 0x7fffffff);
}

/**
 * The `Fd` a branded object (`Program`, `Link`, from any copy of this package) owns, read through
 * its public `fd` getter. An object that only carries the brand (`Object.create(Program.prototype)`)
 * has no `#fd`: the getter's uncoded TypeError becomes `ERR_INVALID_ARG_TYPE`. @internal
 */
export function ownedFdOf(value: object, name: string, expected: string): number {
  let fd: unknown;
  try {
    fd = (value as { fd?: unknown }).fd;
  } catch {
    throw errInvalidArgType(name, expected, value);
  }
  if (!isFd(fd)) throw errInvalidArgType(name, expected, value);
  if (fd.closed) return -1;
  return validateInteger(fd.fd, `${name}.fd.fd`, 0, 0x7fffffff);
}

/**
 * Checks that a value is an open `Program` (from any copy of `@bpfjs/link`: the ESM and CommonJS
 * builds side by side are told by the `Symbol.for('bpfjs.Program')` brand) and returns its fd
 * number. @internal
 */
export function programFd(value: unknown, name: string): number {
  if (!PROGRAM.is(value)) throw errInvalidArgType(name, 'an instance of Program', value);
  const n = ownedFdOf(value, name, 'an instance of Program');
  if (n < 0) throw errClosed(`program given as "${name}"`);
  return n;
}

/**
 * A loaded BPF program. Owns one fd: `close()` (idempotent) or `using` releases it; the kernel
 * frees the program once nothing (fd, link, pin, attachment) refers to it.
 */
export class Program implements Disposable {
  #fd: Fd;
  #typeId: number;
  #id: number;
  #expectedAttachType: number | undefined;
  #pinnedPath: string | undefined;

  private constructor(fd: Fd, typeId: number, id: number, expectedAttachType: number | undefined) {
    this.#fd = fd;
    this.#typeId = typeId;
    this.#id = id;
    this.#expectedAttachType = expectedAttachType;
  }

  /**
   * True for a `Program` from any copy of `@bpfjs/link` (the ESM and the CommonJS build, or two
   * versions): checks the `Symbol.for('bpfjs.Program')` brand, where `instanceof` would not.
   */
  static isInstance(value: unknown): value is Program {
    return PROGRAM.is(value);
  }

  /**
   * Loads a program (BPF_PROG_LOAD).
   * @throws TypeError/RangeError (`ERR_INVALID_ARG_*`) for bad options, before any syscall.
   * @throws BpfError from the kernel; a verifier rejection carries the verifier log in `log`
   *   (and its last lines in the message).
   */
  static load(options: ProgramLoadOptions): Program {
    validateObject(options, 'options', LOAD_KEYS);
    const typeId = progTypeValue(options.type, 'options.type');
    const insns = encodeInstructions(options.instructions);
    const license = options.license ?? 'GPL';
    if (typeof license !== 'string') throw errInvalidArgType('options.license', 'of type string', license);
    if (license.includes('\0')) throw errInvalidArgValue('options.license', license, 'must not contain NUL');
    const licenseBytes = validateCString(license, 'options.license', MAX_LICENSE);
    const name = options.name;
    if (name !== undefined) {
      if (typeof name !== 'string') throw errInvalidArgType('options.name', 'of type string', name);
      if (!/^[A-Za-z0-9_.]{0,15}$/.test(name)) {
        throw errInvalidArgValue('options.name', name, 'must be at most 15 characters of [A-Za-z0-9_.]');
      }
    }
    let expected: number | undefined;
    if (options.expectedAttachType !== undefined) {
      expected = attachTypeValue(options.expectedAttachType, 'options.expectedAttachType');
    } else {
      const def = DEFAULT_EXPECTED_ATTACH[progTypeName(typeId)];
      if (def !== undefined) expected = attachTypeValue(def);
    }
    let fd: Fd;
    try {
      fd = progLoadUnchecked({
        type: typeId,
        insns,
        license: licenseBytes,
        name: name === undefined ? undefined : latin1.encode(name),
        expectedAttachType: expected,
        logLevel: 0,
        logSize: 0,
      });
    } catch (err) {
      const e = explainFailure(err, 'BPF_PROG_LOAD', typeId);
      if (BpfError.isInstance(e) && (e.code === 'EMFILE' || e.code === 'ENFILE')) {
        // Out of descriptors, not a verifier verdict (even if a log came back).
        throw explain(
          e,
          e.code === 'EMFILE'
            ? 'this process has too many open files; close some (or raise the limit: ulimit -n) and load again'
            : 'the system has too many open files; close some and load again',
          { operation: 'Program.load' },
        );
      }
      if (
        BpfError.isInstance(e) &&
        (e.code === 'EACCES' || e.code === 'EINVAL') &&
        e.log !== undefined &&
        e.log !== ''
      ) {
        const tail = e.log.trimEnd().split('\n').slice(-3).join(' | ');
        throw explain(e, `the verifier rejected the ${progTypeName(typeId)} program: ${tail}`, {
          operation: 'Program.load',
        });
      }
      throw e;
    }
    return Program.#loaded(fd, typeId, expected);
  }

  /** Wraps the fd of a program just loaded; on failure to read its id the fd is closed. */
  static #loaded(fd: Fd, typeId: number, expectedAttachType: number | undefined): Program {
    let id: number;
    try {
      // The id never changes: read once here, so `id` costs nothing and still answers after close().
      id = progInfoUnchecked(fd.fd).id;
    } catch (err) {
      fd.close();
      throw err;
    }
    return new Program(fd, typeId, id, expectedAttachType);
  }

  /**
   * Opens a pinned program (BPF_OBJ_GET).
   * @throws TypeError `ERR_BPFJS_WRONG_OBJECT` if the pin is not a program; BpfError (ENOENT...).
   */
  static fromPin(path: string): Program {
    const p = validatePinPath(path);
    const fd = getPinned(p, 'Program.fromPin');
    return Program.#adopt(fd, `the object pinned at '${p}'`, p);
  }

  /**
   * Opens a program by id (BPF_PROG_GET_FD_BY_ID).
   * @throws BpfError ENOENT if no program has this id.
   */
  static fromId(id: number): Program {
    validateU32(id, 'id');
    return Program.#adopt(getFdByIdUnchecked(BPF_PROG_GET_FD_BY_ID, id), `program id ${id}`, undefined);
  }

  /**
   * Wraps an fd that refers to a program and takes ownership of it once it is known to be one (a
   * number is wrapped in a new `Fd`; use `fd.dup()` first to keep your own). A refusal leaves the
   * fd alone: it stays open and the caller's.
   * @throws TypeError `ERR_BPFJS_WRONG_OBJECT` if the fd is not a BPF program.
   */
  static fromFd(fd: Fd | number): Program {
    const n = borrowedFd(fd);
    const info = Program.#inspect(n, `fd ${n}`);
    return new Program(typeof fd === 'number' ? new Fd(n) : fd, info.typeId, info.id, undefined);
  }

  static {
    adoptLoaded = (fd, typeId, expectedAttachType) => Program.#loaded(fd, typeId, expectedAttachType);
  }

  /** Checks that `fd` is a program and reads its info; throws without touching the fd. */
  static #inspect(fd: number, where: string): ProgramInfo {
    const kind = fdKind(fd) ?? 'other';
    if (kind !== 'prog') throw errWrongObject(where, 'program', kind);
    return progInfoUnchecked(fd);
  }

  /** Wraps an fd this package opened; closes it on failure. */
  static #adopt(fd: Fd, where: string, pinnedPath: string | undefined): Program {
    try {
      const info = Program.#inspect(fd.fd, where);
      const prog = new Program(fd, info.typeId, info.id, undefined);
      prog.#pinnedPath = pinnedPath;
      return prog;
    } catch (err) {
      fd.close();
      throw err;
    }
  }

  /** The owned descriptor (`fd.fd` is -1 once closed). */
  get fd(): Fd {
    return this.#fd;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#fd.closed;
  }

  /** bpftool's name of the program type. */
  get type(): string {
    return progTypeName(this.#typeId);
  }

  /** The kernel's program type number. */
  get typeId(): number {
    return this.#typeId;
  }

  /** The expected attach type given (or defaulted) at load, if any; unknown for opened programs. */
  get expectedAttachType(): string | undefined {
    return this.#expectedAttachType === undefined ? undefined : attachTypeName(this.#expectedAttachType);
  }

  /** The program's id in the kernel, read once at load/open (no syscall; still known after `close()`). */
  get id(): number {
    return this.#id;
  }

  /**
   * What the kernel reports about the program (BPF_OBJ_GET_INFO_BY_FD).
   * @throws TypeError `ERR_BPFJS_CLOSED` if closed.
   */
  info(): ProgramInfo {
    if (this.#fd.closed) throw errClosed('program');
    return progInfoUnchecked(this.#fd.fd);
  }

  /**
   * Pins the program at `path` on a BPF file system.
   * @throws TypeError `ERR_BPFJS_NOT_BPFFS` if the directory is not on bpffs (checked first);
   *   BpfError `EEXIST` if the path exists and `replace` is not set.
   */
  pin(path: string, options?: PinOptions): void {
    if (this.#fd.closed) throw errClosed('program');
    this.#pinnedPath = pinFd(this.#fd.fd, path, options, 'program');
  }

  /**
   * Removes the pin at `path` (default: where this program was last pinned or opened from).
   * A missing path is not an error. @returns whether something was removed.
   */
  unpin(path?: string): boolean {
    const p = path ?? this.#pinnedPath;
    if (p === undefined) return false;
    const removed = unpinPath(p);
    if (path === undefined || validatePinPath(path) === this.#pinnedPath) this.#pinnedPath = undefined;
    return removed;
  }

  /** Where this program was last pinned (or opened from), if anywhere. */
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }

  /** Closes the fd (idempotent). The program lives on while links, pins or attachments hold it. */
  close(): void {
    this.#fd.close();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `Program(flow_dissector, fd 5)`. */
  toString(): string {
    return `Program(${this.type}, ${this.#fd.closed ? 'closed' : `fd ${this.#fd.fd}`})`;
  }
}
PROGRAM.mark(Program);
