/**
 * Program commands: `BPF_PROG_LOAD` (with verifier log capture), `BPF_PROG_ATTACH`,
 * `BPF_PROG_DETACH`, `BPF_PROG_QUERY`.
 *
 * @module
 */
import {
  BPF_F_REPLACE,
  BPF_OBJ_NAME_LEN,
  BPF_PROG_ATTACH,
  BPF_PROG_DETACH,
  BPF_PROG_LOAD,
  BPF_PROG_QUERY,
  ProgAttachAttr,
  ProgLoadAttr,
  ProgQueryAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAt, bpfError, bpfTry, type ScratchAttr, scratchAttr } from './bpf.js';
import { BpfError, errInvalidArgValue, errOutOfRange } from './errors.js';
import { adoptFd, type Fd } from './fd.js';
import { explainFailure } from './probe.js';
import { addressOf, allocBytes, cString, fieldOf, hasField, Struct } from './struct.js';
import {
  optionKeys,
  validateBytes,
  validateCString,
  validateFd,
  validateInteger,
  validateObject,
  validateOptionalFd,
  validateU32,
} from './validate.js';

// Option names of the wrappers below: any other key is refused (ERR_INVALID_ARG_VALUE), see
// validateObject in validate.ts.
const PROG_LOAD_KEYS = optionKeys(
  'type',
  'insns',
  'license',
  'name',
  'expectedAttachType',
  'flags',
  'kernVersion',
  'ifindex',
  'btfFd',
  'attachBtfId',
  'attachBtfObjFd',
  'attachProgFd',
  'logLevel',
  'logSize',
  'onLog',
  'funcInfo',
  'funcInfoRecSize',
  'lineInfo',
  'lineInfoRecSize',
);
const PROG_ATTACH_KEYS = optionKeys('targetFd', 'progFd', 'attachType', 'flags', 'replaceProgFd');
const PROG_DETACH_KEYS = optionKeys('targetFd', 'progFd', 'attachType');
const PROG_QUERY_KEYS = optionKeys('targetFd', 'attachType', 'queryFlags');

const ENOSPC = 28;
const EAGAIN = 11;
/** `BPF_PROG_LOAD` attempts while the kernel answers EAGAIN (libbpf: 5). */
const LOAD_ATTEMPTS = 5;
const EPERM = 1;
/** The kernel's limit on program size (BPF_COMPLEXITY_LIMIT_INSNS, since 5.2). */
const MAX_INSNS = 1_000_000;
/** The verifier refuses log buffers under 128 bytes and over UINT_MAX >> 2. */
const MIN_LOG = 128;
const MAX_LOG = 0x3fffffff;
/** Log sizes for the retry after a failed load: start here, grow up to MAX_RETRY_LOG. */
const FIRST_RETRY_LOG = 64 * 1024;
const MAX_RETRY_LOG = 16 * 1024 * 1024;
/** The kernel copies at most 127 license bytes (`char license[128]`). */
const MAX_LICENSE = 127;

/**
 * Checks an object name (programs, maps): at most 15 bytes (`BPF_OBJ_NAME_LEN - 1`) of
 * `[A-Za-z0-9_.]`, the characters `bpf_obj_name_cpy()` accepts. Returns its bytes.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function validateObjName(value: unknown, name: string): Uint8Array {
  const bytes = validateCString(value, name, BPF_OBJ_NAME_LEN - 1);
  if (!/^[A-Za-z0-9_.]*$/.test(value as string)) {
    throw errInvalidArgValue(name, value, 'may contain only letters, digits, "_" and "."');
  }
  return bytes;
}

/** Options of {@link progLoad} (the fields of `union bpf_attr`'s `BPF_PROG_LOAD` struct). */
export interface ProgLoadOptions {
  /** `enum bpf_prog_type`, e.g. `BPF_PROG_TYPE_FLOW_DISSECTOR`. */
  type: number;
  /** The instructions, 8 bytes each (`struct bpf_insn`; `ld_imm64` takes two). */
  insns: Uint8Array;
  /** License string, e.g. `'GPL'` (GPL-only helpers need a GPL-compatible one). */
  license: string;
  /** Object name, at most 15 bytes of `[A-Za-z0-9_.]` (4.15+). */
  name?: string;
  /** `enum bpf_attach_type` the program will be attached with (needed by some types). */
  expectedAttachType?: number;
  /** `BPF_F_*` program flags (e.g. `BPF_F_SLEEPABLE`). */
  flags?: number;
  /** Kernel version for old kprobe programs. */
  kernVersion?: number;
  /** Offload to this interface. */
  ifindex?: number;
  /** BTF object the program refers to. */
  btfFd?: Fd | number;
  /** BTF type id of the attach target (tracing, LSM, ext). */
  attachBtfId?: number;
  /** BTF object fd that `attachBtfId` refers to (module BTF). */
  attachBtfObjFd?: Fd | number;
  /** Program to attach to (freplace / fentry on a BPF program). */
  attachProgFd?: Fd | number;
  /** Verifier log level for a successful load too (1 = basic, 2 = verbose); default 0. */
  logLevel?: number;
  /** Log buffer size when `logLevel` > 0 (default 1 MiB). */
  logSize?: number;
  /** Receives the verifier log after a successful load when `logLevel` > 0. */
  onLog?: (log: string) => void;
  /**
   * `struct bpf_func_info` records (`funcInfoRecSize` bytes each, `insn_off` in instructions),
   * one per function of the program; needs `btfFd` (5.0+).
   */
  funcInfo?: Uint8Array;
  /** Size of one func_info record (default 8, `sizeof(struct bpf_func_info)`). */
  funcInfoRecSize?: number;
  /** `struct bpf_line_info` records (`lineInfoRecSize` bytes each); needs `btfFd` (5.0+). */
  lineInfo?: Uint8Array;
  /** Size of one line_info record (default 16, `sizeof(struct bpf_line_info)`). */
  lineInfoRecSize?: number;
}

/** BTF func/line info records, checked: the bytes (a multiple of `recSize`) and the record size. @internal */
export interface InfoRecords {
  bytes: Uint8Array;
  recSize: number;
}

function checkInfo(
  bytes: unknown,
  recSizeOpt: unknown,
  defaultRecSize: number,
  name: 'funcInfo' | 'lineInfo',
): InfoRecords | undefined {
  if (bytes === undefined) return undefined;
  const data = validateBytes(bytes, `options.${name}`);
  const recSize =
    recSizeOpt === undefined
      ? defaultRecSize
      : validateInteger(recSizeOpt, `options.${name}RecSize`, defaultRecSize, 256);
  if (data.byteLength === 0 || data.byteLength % recSize !== 0) {
    throw errInvalidArgValue(`options.${name}`, data, `must hold a non-zero multiple of ${recSize} bytes`);
  }
  return { bytes: data, recSize };
}

function setInfo(
  attr: Struct<typeof ProgLoadAttr>,
  info: InfoRecords | undefined,
  name: 'funcInfo' | 'lineInfo',
): void {
  if (info === undefined) return;
  const copy = allocBytes(info.bytes.byteLength);
  copy.set(info.bytes);
  const cnt = info.bytes.byteLength / info.recSize;
  if (name === 'funcInfo') {
    attr.set('func_info_rec_size', info.recSize).setPointer('func_info', copy).set('func_info_cnt', cnt);
  } else {
    attr.set('line_info_rec_size', info.recSize).setPointer('line_info', copy).set('line_info_cnt', cnt);
  }
}

/**
 * The fields of a `BPF_PROG_LOAD`, checked: what {@link progLoadUnchecked} writes into the attr.
 * `license` and `name` are the bytes without the NUL; fds are numbers.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export interface ProgLoadFields {
  type: number;
  /** A non-empty multiple of 8 bytes, at most 1,000,000 instructions. */
  insns: Uint8Array;
  /** At most 127 bytes, no NUL. */
  license: Uint8Array;
  /** At most 15 bytes of `[A-Za-z0-9_.]`. */
  name?: Uint8Array | undefined;
  expectedAttachType?: number | undefined;
  flags?: number | undefined;
  kernVersion?: number | undefined;
  ifindex?: number | undefined;
  btfFd?: number | undefined;
  attachBtfId?: number | undefined;
  attachBtfObjFd?: number | undefined;
  attachProgFd?: number | undefined;
  funcInfo?: InfoRecords | undefined;
  lineInfo?: InfoRecords | undefined;
  /** 0 unless the caller wants the log of a successful load too. */
  logLevel: number;
  logSize: number;
  onLog?: ((log: string) => void) | undefined;
}

function checkProgLoad(opts: ProgLoadOptions): ProgLoadFields {
  validateObject(opts, 'options', PROG_LOAD_KEYS);
  const type = validateU32(opts.type, 'options.type');
  const insns = validateBytes(opts.insns, 'options.insns');
  if (insns.byteLength === 0 || insns.byteLength % 8 !== 0) {
    throw errInvalidArgValue(
      'options.insns',
      insns,
      'must hold a non-zero multiple of 8 bytes (struct bpf_insn)',
    );
  }
  const insnCnt = insns.byteLength / 8;
  if (insnCnt > MAX_INSNS) throw errOutOfRange('options.insns.length / 8', `<= ${MAX_INSNS}`, insnCnt);
  const license = validateCString(opts.license, 'options.license', MAX_LICENSE);
  const f: ProgLoadFields = { type, insns, license, logLevel: 0, logSize: 1024 * 1024 };
  if (opts.name !== undefined) f.name = validateObjName(opts.name, 'options.name');
  if (opts.expectedAttachType !== undefined)
    f.expectedAttachType = validateU32(opts.expectedAttachType, 'options.expectedAttachType');
  if (opts.flags !== undefined) f.flags = validateU32(opts.flags, 'options.flags');
  if (opts.kernVersion !== undefined) f.kernVersion = validateU32(opts.kernVersion, 'options.kernVersion');
  if (opts.ifindex !== undefined) f.ifindex = validateU32(opts.ifindex, 'options.ifindex');
  f.btfFd = validateOptionalFd(opts.btfFd, 'options.btfFd');
  if (opts.attachBtfId !== undefined) f.attachBtfId = validateU32(opts.attachBtfId, 'options.attachBtfId');
  f.attachBtfObjFd = validateOptionalFd(opts.attachBtfObjFd, 'options.attachBtfObjFd');
  f.attachProgFd = validateOptionalFd(opts.attachProgFd, 'options.attachProgFd');
  if (f.attachBtfObjFd !== undefined && f.attachProgFd !== undefined) {
    throw errInvalidArgValue(
      'options',
      'attachBtfObjFd+attachProgFd',
      'cannot set both attachBtfObjFd and attachProgFd',
    );
  }
  f.funcInfo = checkInfo(opts.funcInfo, opts.funcInfoRecSize, 8, 'funcInfo');
  f.lineInfo = checkInfo(opts.lineInfo, opts.lineInfoRecSize, 16, 'lineInfo');
  if (opts.logLevel !== undefined) f.logLevel = validateInteger(opts.logLevel, 'options.logLevel', 0, 0xffff);
  if (opts.logSize !== undefined)
    f.logSize = validateInteger(opts.logSize, 'options.logSize', MIN_LOG, MAX_LOG);
  if (opts.onLog !== undefined && typeof opts.onLog !== 'function') {
    throw errInvalidArgValue('options.onLog', opts.onLog, 'must be a function');
  }
  f.onLog = opts.onLog;
  return f;
}

function fillProgLoad(f: ProgLoadFields): Struct<typeof ProgLoadAttr> {
  const attr = new Struct(ProgLoadAttr);
  // Copies keep the caller's memory out of reach of the kernel and give a stable address.
  const insnsCopy = allocBytes(f.insns.byteLength);
  insnsCopy.set(f.insns);
  const licenseZ = allocBytes(f.license.byteLength + 1);
  licenseZ.set(f.license);
  attr
    .set('prog_type', f.type)
    .set('insn_cnt', f.insns.byteLength / 8)
    .setPointer('insns', insnsCopy)
    .setPointer('license', licenseZ);
  if (f.name !== undefined) attr.setBytes('prog_name', f.name);
  if (f.expectedAttachType !== undefined) attr.set('expected_attach_type', f.expectedAttachType);
  if (f.flags !== undefined) attr.set('prog_flags', f.flags);
  if (f.kernVersion !== undefined) attr.set('kern_version', f.kernVersion);
  if (f.ifindex !== undefined) attr.set('prog_ifindex', f.ifindex);
  if (f.btfFd !== undefined) attr.set('prog_btf_fd', f.btfFd);
  if (f.attachBtfId !== undefined) attr.set('attach_btf_id', f.attachBtfId);
  if (f.attachBtfObjFd !== undefined) attr.set('attach_btf_obj_fd', f.attachBtfObjFd);
  if (f.attachProgFd !== undefined) attr.set('attach_prog_fd', f.attachProgFd);
  setInfo(attr, f.funcInfo, 'funcInfo');
  setInfo(attr, f.lineInfo, 'lineInfo');
  return attr;
}

function setLog(attr: Struct<typeof ProgLoadAttr>, level: number, buf: Uint8Array): void {
  attr.set('log_level', level).set('log_size', buf.byteLength).setPointer('log_buf', buf);
}

/**
 * `BPF_PROG_LOAD`: loads a program and returns its `Fd`. If the load fails without a log level,
 * it is retried once with a verifier log (growing the buffer on ENOSPC, up to 16 MiB), and the
 * thrown `BpfError` carries the log in `.log` and the errno of the first attempt. A load that
 * fails with EAGAIN (the verifier interrupted by a pending signal) is repeated, up to 5 attempts
 * (as libbpf).
 * Needs CAP_BPF (+ CAP_NET_ADMIN / CAP_PERFMON by program type), or CAP_SYS_ADMIN.
 * @throws BpfError (`command: 'BPF_PROG_LOAD'`), TypeError/RangeError for bad options.
 * @throws UnsupportedFeatureError (`ERR_BPFJS_NOT_SUPPORTED`, `cause` the BpfError) instead of
 *   EINVAL when the probe says the kernel lacks the program type (probed only after a failure).
 */
export function progLoad(opts: ProgLoadOptions): Fd {
  const f = checkProgLoad(opts);
  try {
    return progLoadUnchecked(f);
  } catch (e) {
    throw explainFailure(e, 'BPF_PROG_LOAD', f.type);
  }
}

/**
 * {@link progLoad} without argument checks and without the probe on failure: the verifier-log
 * retry and the EAGAIN repeats are the same.
 * @throws BpfError (`command: 'BPF_PROG_LOAD'`, `log` the verifier log).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function progLoadUnchecked(f: ProgLoadFields): Fd {
  const attr = fillProgLoad(f);
  let logBuf: Uint8Array | undefined;
  if (f.logLevel > 0) {
    logBuf = allocBytes(f.logSize);
    setLog(attr, f.logLevel, logBuf);
  }
  let first: BpfError;
  try {
    const fd = adoptFd(loadOnce(attr));
    if (logBuf !== undefined) f.onLog?.(cString(logBuf));
    return fd;
  } catch (e) {
    if (!BpfError.isInstance(e)) throw e;
    if (logBuf !== undefined) throw withLog(e, cString(logBuf));
    if (e.errno === EPERM) throw e;
    first = e;
  }
  // Retry with a log to tell the caller why.
  let size = FIRST_RETRY_LOG;
  for (;;) {
    const buf = allocBytes(size);
    setLog(attr, 1, buf);
    try {
      return adoptFd(loadOnce(attr));
    } catch (e) {
      if (!BpfError.isInstance(e)) throw e;
      if (e.errno === ENOSPC && size < MAX_RETRY_LOG) {
        // log_true_size (6.4+) says how much the full log needs.
        const wanted = hasField(ProgLoadAttr, 'log_true_size') ? attr.getNumber('log_true_size') : 0;
        size = Math.min(MAX_RETRY_LOG, Math.max(size * 4, wanted + 1));
        continue;
      }
      throw withLog(first, cString(buf));
    }
  }
}

/**
 * One `BPF_PROG_LOAD`, repeated while the kernel answers EAGAIN, at most {@link LOAD_ATTEMPTS}
 * times in all (as libbpf does): the verifier gives up with EAGAIN when a signal is pending
 * (`signal_pending()` during verification, e.g. SIGPROF under a profiler). The log buffer is
 * rewritten from the start on each attempt.
 */
function loadOnce(attr: Struct<typeof ProgLoadAttr>): number {
  for (let attempt = 1; ; attempt++) {
    const r = bpfTry(BPF_PROG_LOAD, attr.bytes, attr.end);
    if (r >= 0) return r;
    if (r !== -EAGAIN || attempt >= LOAD_ATTEMPTS) throw bpfError(BPF_PROG_LOAD, -r);
  }
}

function withLog(e: BpfError, log: string): BpfError {
  return new BpfError(e.errno, e.syscall, {
    command: e.command,
    log: log === '' ? undefined : log,
    hint: e.hint,
  });
}

/** Options of {@link progAttach}. */
export interface ProgAttachOptions {
  /**
   * The target: a cgroup fd, a netns fd, a map fd, or 0 where the kernel wants "the calling
   * thread's netns" (flow dissector: `target_fd` must be 0).
   */
  targetFd: Fd | number;
  /** The program to attach. */
  progFd: Fd | number;
  /** `enum bpf_attach_type`. */
  attachType: number;
  /** `BPF_F_ALLOW_OVERRIDE`, `BPF_F_ALLOW_MULTI`, `BPF_F_REPLACE`, ... */
  flags?: number;
  /** With `BPF_F_REPLACE`: the program to replace (added to `flags` automatically). */
  replaceProgFd?: Fd | number;
}

// PROG_ATTACH / PROG_DETACH: one scratch attr per command, offsets resolved once. Every field
// inside the size passed is written on each call.
interface ProgAttachScratch {
  bytes: Uint8Array;
  view: DataView;
  addr: number;
  target: number;
  prog: number;
  type: number;
  flags: number;
  replace: number;
  typeEnd: number;
  flagsEnd: number;
  replaceEnd: number;
}
let attachScratch: ProgAttachScratch | undefined;
let detachScratch: ProgAttachScratch | undefined;
function progAttachScratch(): ProgAttachScratch {
  const a = new Struct(ProgAttachAttr);
  const type = fieldOf(ProgAttachAttr, 'attach_type');
  const flags = fieldOf(ProgAttachAttr, 'attach_flags');
  const replace = fieldOf(ProgAttachAttr, 'replace_bpf_fd');
  return {
    bytes: a.bytes,
    view: a.view,
    addr: scratchAttr(a.bytes).addr,
    target: fieldOf(ProgAttachAttr, 'target_fd').offset,
    prog: fieldOf(ProgAttachAttr, 'attach_bpf_fd').offset,
    type: type.offset,
    flags: flags.offset,
    replace: replace.offset,
    typeEnd: type.offset + type.size,
    flagsEnd: flags.offset + flags.size,
    replaceEnd: replace.offset + replace.size,
  };
}

/**
 * `BPF_PROG_ATTACH` (4.10+; flow dissector 4.20+): attaches a program directly (no link).
 * @throws BpfError (`command: 'BPF_PROG_ATTACH'`): EEXIST if a link holds the hook, EINVAL, ...
 * @throws UnsupportedFeatureError (`ERR_BPFJS_NOT_SUPPORTED`, `cause` the BpfError) instead of
 *   EINVAL when the probe says the kernel lacks the attach type (probed only after a failure).
 */
export function progAttach(opts: ProgAttachOptions): void {
  validateObject(opts, 'options', PROG_ATTACH_KEYS);
  const target = validateFd(opts.targetFd, 'options.targetFd');
  const prog = validateFd(opts.progFd, 'options.progFd');
  const type = validateU32(opts.attachType, 'options.attachType');
  const flags = opts.flags === undefined ? 0 : validateU32(opts.flags, 'options.flags');
  const replace = validateOptionalFd(opts.replaceProgFd, 'options.replaceProgFd');
  try {
    progAttachUnchecked(target, prog, type, flags, replace);
  } catch (e) {
    throw explainFailure(e, 'BPF_PROG_ATTACH', type);
  }
}

/**
 * `BPF_PROG_ATTACH` without argument checks (and without the probe on failure): `replaceProgFd`
 * given → `BPF_F_REPLACE` is added to `flags`.
 * @throws BpfError (`command: 'BPF_PROG_ATTACH'`).
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function progAttachUnchecked(
  targetFd: number,
  progFd: number,
  attachType: number,
  flags = 0,
  replaceProgFd?: number,
): void {
  if (replaceProgFd !== undefined) flags |= BPF_F_REPLACE;
  if (attachScratch === undefined) attachScratch = progAttachScratch();
  const sc = attachScratch;
  const v = sc.view;
  v.setUint32(sc.target, targetFd, true);
  v.setUint32(sc.prog, progFd, true);
  v.setUint32(sc.type, attachType, true);
  v.setUint32(sc.flags, flags >>> 0, true);
  v.setUint32(sc.replace, replaceProgFd ?? 0, true);
  // The size ends at attach_flags, or at replace_bpf_fd when one is given.
  bpfAt(BPF_PROG_ATTACH, sc, replaceProgFd === undefined ? sc.flagsEnd : sc.replaceEnd);
}

/** Options of {@link progDetach}. */
export interface ProgDetachOptions {
  /** The target (see {@link ProgAttachOptions.targetFd}); 0 for the calling thread's netns. */
  targetFd: Fd | number;
  /** The attached program (required by netns and multi-attach cgroup hooks). */
  progFd?: Fd | number;
  /** `enum bpf_attach_type`. */
  attachType: number;
}

/**
 * `BPF_PROG_DETACH` (4.10+): detaches a directly attached program.
 * @throws BpfError (`command: 'BPF_PROG_DETACH'`): ENOENT if nothing is attached, EINVAL while a
 *   link holds the hook, ...
 */
export function progDetach(opts: ProgDetachOptions): void {
  validateObject(opts, 'options', PROG_DETACH_KEYS);
  const target = validateFd(opts.targetFd, 'options.targetFd');
  const prog = validateOptionalFd(opts.progFd, 'options.progFd');
  const type = validateU32(opts.attachType, 'options.attachType');
  progDetachUnchecked(target, prog ?? 0, type);
}

/** {@link progDetach} without argument checks (`progFd` 0: none). For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function progDetachUnchecked(targetFd: number, progFd: number, attachType: number): void {
  if (detachScratch === undefined) detachScratch = progAttachScratch();
  const sc = detachScratch;
  const v = sc.view;
  v.setUint32(sc.target, targetFd, true);
  v.setUint32(sc.prog, progFd, true);
  v.setUint32(sc.type, attachType, true);
  bpfAt(BPF_PROG_DETACH, sc, sc.typeEnd);
}

/** Options of {@link progQuery}. */
export interface ProgQueryOptions {
  /** The target (cgroup, netns, ...); 0 where the kernel means the calling thread's netns. */
  targetFd: Fd | number;
  /** `enum bpf_attach_type`. */
  attachType: number;
  /** `BPF_F_QUERY_EFFECTIVE` for cgroups. */
  queryFlags?: number;
}

/** What {@link progQuery} returns. */
export interface ProgQueryResult {
  /** `attach_flags` of the hook (`BPF_F_ALLOW_MULTI`, ...). */
  attachFlags: number;
  /** The ids of the attached programs (also of programs attached through links). */
  progIds: number[];
}

// Scratch state of progQuery, reused across calls (a hot path): attr and an ids buffer whose
// address is cached. JavaScript is single-threaded per isolate and the syscall is synchronous,
// so reuse is safe; each worker has its own module instance.
let queryAttr: Struct<typeof ProgQueryAttr> | undefined;
let queryAt: ScratchAttr | undefined;
let queryOffsets:
  | {
      target: number;
      type: number;
      qflags: number;
      aflags: number;
      ids: number;
      cnt: number;
      size: number;
      clear: boolean;
    }
  | undefined;
let queryIds: Uint8Array = allocBytes(0);
let queryIdsAddr = 0n;
let queryIdsView: DataView = new DataView(queryIds.buffer);

function growQueryIds(count: number): void {
  queryIds = allocBytes(count * 4);
  queryIdsAddr = addressOf(queryIds);
  queryIdsView = new DataView(queryIds.buffer);
  // The ids pointer only changes here (the kernel does not write it).
  if (queryAttr !== undefined && queryOffsets !== undefined) {
    queryAttr.view.setBigUint64(queryOffsets.ids, queryIdsAddr, true);
  }
}

/**
 * `BPF_PROG_QUERY` (4.15+; netns 4.20+): the programs attached at a hook. One syscall when the
 * ids fit the reused buffer (64 to start); on ENOSPC (more programs than room, or programs added
 * in between) it grows to the count the kernel reported and asks again.
 * @throws BpfError (`command: 'BPF_PROG_QUERY'`): EINVAL for an attach type that cannot be queried.
 */
export function progQuery(opts: ProgQueryOptions): ProgQueryResult {
  validateObject(opts, 'options', PROG_QUERY_KEYS);
  const target = validateFd(opts.targetFd, 'options.targetFd');
  const type = validateU32(opts.attachType, 'options.attachType');
  const queryFlags = opts.queryFlags === undefined ? 0 : validateU32(opts.queryFlags, 'options.queryFlags');
  return progQueryUnchecked(target, type, queryFlags);
}

/** {@link progQuery} without argument checks (a hot path: `queryPrograms()`). For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function progQueryUnchecked(target: number, type: number, queryFlags = 0): ProgQueryResult {
  if (queryAttr === undefined || queryOffsets === undefined) {
    queryAttr = new Struct(ProgQueryAttr);
    queryAt = scratchAttr(queryAttr.bytes);
    const cnt = fieldOf(ProgQueryAttr, 'prog_cnt');
    queryOffsets = {
      target: fieldOf(ProgQueryAttr, 'target_fd').offset,
      type: fieldOf(ProgQueryAttr, 'attach_type').offset,
      qflags: fieldOf(ProgQueryAttr, 'query_flags').offset,
      aflags: fieldOf(ProgQueryAttr, 'attach_flags').offset,
      ids: fieldOf(ProgQueryAttr, 'prog_ids').offset,
      cnt: cnt.offset,
      size: cnt.offset + cnt.size,
      clear: false,
    };
    // The loop below writes these six fields on every call; if they ever stop tiling the attr up
    // to prog_cnt (a layout change), clear it each time instead.
    const covered = [
      'target_fd',
      'attach_type',
      'query_flags',
      'attach_flags',
      'prog_ids',
      'prog_cnt',
    ] as const;
    const bytes = covered.reduce((n, f) => n + fieldOf(ProgQueryAttr, f).size, 0);
    queryOffsets.clear = bytes !== queryOffsets.size;
    growQueryIds(64);
  }
  const a = queryAttr;
  const o = queryOffsets;
  const size = o.size;
  for (let attempt = 0; ; attempt++) {
    const capacity = queryIds.byteLength / 4;
    // Every field up to prog_cnt is written on each call (attach_flags too: tcx reads it as input
    // and wants 0), so the reused attr needs no clearing.
    const v = a.view;
    if (o.clear) {
      a.bytes.fill(0, 0, size);
      v.setBigUint64(o.ids, queryIdsAddr, true);
    }
    v.setUint32(o.target, target, true);
    v.setUint32(o.type, type, true);
    v.setUint32(o.qflags, queryFlags, true);
    v.setUint32(o.aflags, 0, true);
    v.setUint32(o.cnt, capacity, true);
    try {
      bpfAt(BPF_PROG_QUERY, queryAt!, size);
    } catch (e) {
      if (BpfError.isInstance(e) && e.errno === ENOSPC && attempt < 8) {
        growQueryIds(Math.max(capacity * 2, v.getUint32(o.cnt, true)));
        continue;
      }
      throw e;
    }
    const n = v.getUint32(o.cnt, true);
    const progIds = new Array<number>(n);
    for (let i = 0; i < n; i++) progIds[i] = queryIdsView.getUint32(i * 4, true);
    return { attachFlags: v.getUint32(o.aflags, true), progIds };
  }
}
