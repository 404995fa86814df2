/**
 * Object commands: pinning (`BPF_OBJ_PIN`, `BPF_OBJ_GET`), iteration by id (`BPF_*_GET_NEXT_ID`,
 * `BPF_*_GET_FD_BY_ID`) and `BPF_ENABLE_STATS`.
 *
 * @module
 */
import {
  BPF_BTF_GET_FD_BY_ID,
  BPF_BTF_GET_NEXT_ID,
  BPF_ENABLE_STATS,
  BPF_LINK_GET_FD_BY_ID,
  BPF_LINK_GET_NEXT_ID,
  BPF_MAP_GET_FD_BY_ID,
  BPF_MAP_GET_NEXT_ID,
  BPF_OBJ_GET,
  BPF_OBJ_PIN,
  BPF_PROG_GET_FD_BY_ID,
  BPF_PROG_GET_NEXT_ID,
  BPF_STATS_RUN_TIME,
  EnableStatsAttr,
  GetIdAttr,
  ObjPinAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAt, bpfAtTry, bpfError, bpfUnchecked, scratchAttr } from './bpf.js';
import { BpfError, errInvalidArgType, errInvalidArgValue } from './errors.js';
import { adoptFd, dupCloexec, type Fd } from './fd.js';
import { getLibc } from './libc.js';
import { allocBytes, fieldOf, Struct } from './struct.js';
import { optionKeys, validateFd, validateObject, validatePath, validateU32 } from './validate.js';

const FLAGS_ONLY = optionKeys('flags');

const ENOENT = 2;
const encoder = new TextEncoder();

function pathBytes(path: string): Uint8Array {
  const bytes = encoder.encode(path);
  const z = allocBytes(bytes.byteLength + 1);
  z.set(bytes);
  return z;
}

/**
 * `BPF_OBJ_PIN` (4.4+): pins a program, map, link or BTF object at `path` on a bpf file system.
 * @throws BpfError (`command: 'BPF_OBJ_PIN'`): EEXIST if the path exists, EPERM if the directory
 *   is not on bpffs, ENOENT for a missing directory.
 */
export function objPin(fd: Fd | number, path: string): void {
  const n = validateFd(fd, 'fd');
  objPinUnchecked(n, validatePath(path, 'path'));
}

/** {@link objPin} without argument checks (`path` has no NUL). For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function objPinUnchecked(fd: number, path: string): void {
  const attr = new Struct(ObjPinAttr);
  attr.setPointer('pathname', pathBytes(path)).set('bpf_fd', fd);
  bpfUnchecked(BPF_OBJ_PIN, attr.bytes, attr.end);
}

/** Options of {@link objGet}. */
export interface ObjGetOptions {
  /** `BPF_F_RDONLY` / `BPF_F_WRONLY` (4.15+). */
  flags?: number;
}

/**
 * `BPF_OBJ_GET` (4.4+): opens the object pinned at `path`.
 * @throws BpfError (`command: 'BPF_OBJ_GET'`): ENOENT, EPERM if not on bpffs, EACCES.
 */
export function objGet(path: string, options: ObjGetOptions = {}): Fd {
  const p = validatePath(path, 'path');
  validateObject(options, 'options', FLAGS_ONLY);
  const flags = options.flags === undefined ? 0 : validateU32(options.flags, 'options.flags');
  return objGetUnchecked(p, flags);
}

/** {@link objGet} without argument checks (`path` has no NUL). For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function objGetUnchecked(path: string, flags = 0): Fd {
  const attr = new Struct(ObjPinAttr);
  attr.setPointer('pathname', pathBytes(path));
  if (flags !== 0) attr.set('file_flags', flags);
  return adoptFd(bpfUnchecked(BPF_OBJ_GET, attr.bytes, attr.end));
}

// GET_NEXT_ID and GET_FD_BY_ID run once per object while listing (a hot path): one scratch attr
// each, offsets resolved once. Every field the command reads is written on each call.
interface IdScratch {
  bytes: Uint8Array;
  view: DataView;
  addr: number;
  /** start_id / prog_id / map_id / link_id / btf_id (one union member at the same offset). */
  id: number;
  next: number;
  flags: number;
  /** offsetofend(next_id), offsetofend(<id>), offsetofend(open_flags). */
  nextEnd: number;
  idEnd: number;
  flagsEnd: number;
}
let nextIdScratch: IdScratch | undefined;
let fdByIdScratch: IdScratch | undefined;

function idScratch(): IdScratch {
  const a = new Struct(GetIdAttr);
  const id = fieldOf(GetIdAttr, 'start_id');
  const next = fieldOf(GetIdAttr, 'next_id');
  const flags = fieldOf(GetIdAttr, 'open_flags');
  for (const f of ['prog_id', 'map_id', 'link_id', 'btf_id'] as const) {
    // The union members share start_id's slot; one offset serves them all.
    if (fieldOf(GetIdAttr, f).offset !== id.offset) throw new Error(`GetIdAttr.${f} moved`);
  }
  return {
    bytes: a.bytes,
    view: a.view,
    addr: scratchAttr(a.bytes).addr,
    id: id.offset,
    next: next.offset,
    flags: flags.offset,
    nextEnd: next.offset + next.size,
    idEnd: id.offset + id.size,
    flagsEnd: flags.offset + flags.size,
  };
}

function getNextId(cmd: number, startId: number): number | undefined {
  return getNextIdUnchecked(cmd, validateU32(startId, 'startId'));
}

/**
 * `BPF_*_GET_NEXT_ID` (`cmd`) without argument checks: the next id after `start`, `undefined` at
 * the end (ENOENT, no error built). For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function getNextIdUnchecked(cmd: number, start: number): number | undefined {
  if (nextIdScratch === undefined) nextIdScratch = idScratch();
  const sc = nextIdScratch;
  const v = sc.view;
  v.setUint32(sc.id, start, true);
  v.setUint32(sc.next, 0, true);
  // ENOENT is the normal end of the list: checked on the return value, no BpfError built for it.
  const r = bpfAtTry(cmd, sc, sc.nextEnd);
  if (r < 0) {
    if (r === -ENOENT) return undefined;
    throw bpfError(cmd, -r);
  }
  return v.getUint32(sc.next, true);
}

function getFdById(cmd: number, id: number, flags = 0): Fd {
  return getFdByIdUnchecked(cmd, validateU32(id, 'id'), flags);
}

/** `BPF_*_GET_FD_BY_ID` (`cmd`) without argument checks. For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function getFdByIdUnchecked(cmd: number, v: number, flags = 0): Fd {
  if (fdByIdScratch === undefined) fdByIdScratch = idScratch();
  const sc = fdByIdScratch;
  const view = sc.view;
  view.setUint32(sc.id, v, true);
  view.setUint32(sc.next, 0, true);
  view.setUint32(sc.flags, flags, true);
  // The size ends at the id unless flags are given (kernels before open_flags accept it).
  return adoptFd(bpfAt(cmd, sc, flags === 0 ? sc.idEnd : sc.flagsEnd));
}

/**
 * `BPF_PROG_GET_NEXT_ID` (4.13+): the id of the next program after `startId` (0 to begin), or
 * `undefined` at the end. Needs CAP_SYS_ADMIN.
 * @throws BpfError (`command: 'BPF_PROG_GET_NEXT_ID'`): EPERM.
 */
export function progGetNextId(startId = 0): number | undefined {
  return getNextId(BPF_PROG_GET_NEXT_ID, startId);
}

/**
 * `BPF_MAP_GET_NEXT_ID` (4.13+): the next map id after `startId`, or `undefined` at the end.
 * @throws BpfError (`command: 'BPF_MAP_GET_NEXT_ID'`): EPERM.
 */
export function mapGetNextId(startId = 0): number | undefined {
  return getNextId(BPF_MAP_GET_NEXT_ID, startId);
}

/**
 * `BPF_LINK_GET_NEXT_ID` (5.8+): the next link id after `startId`, or `undefined` at the end.
 * @throws BpfError (`command: 'BPF_LINK_GET_NEXT_ID'`): EPERM.
 */
export function linkGetNextId(startId = 0): number | undefined {
  return getNextId(BPF_LINK_GET_NEXT_ID, startId);
}

/**
 * `BPF_BTF_GET_NEXT_ID` (5.4+): the next BTF object id after `startId`, or `undefined` at the end.
 * @throws BpfError (`command: 'BPF_BTF_GET_NEXT_ID'`): EPERM.
 */
export function btfGetNextId(startId = 0): number | undefined {
  return getNextId(BPF_BTF_GET_NEXT_ID, startId);
}

/**
 * `BPF_PROG_GET_FD_BY_ID` (4.13+): opens a program by id. Needs CAP_SYS_ADMIN.
 * @throws BpfError (`command: 'BPF_PROG_GET_FD_BY_ID'`): ENOENT if no such program.
 */
export function progGetFdById(id: number): Fd {
  return getFdById(BPF_PROG_GET_FD_BY_ID, id);
}

/**
 * `BPF_MAP_GET_FD_BY_ID` (4.13+): opens a map by id (`flags`: `BPF_F_RDONLY`/`BPF_F_WRONLY`).
 * @throws BpfError (`command: 'BPF_MAP_GET_FD_BY_ID'`): ENOENT if no such map.
 */
export function mapGetFdById(id: number, options: { flags?: number } = {}): Fd {
  validateObject(options, 'options', FLAGS_ONLY);
  const flags = options.flags === undefined ? 0 : validateU32(options.flags, 'options.flags');
  return getFdById(BPF_MAP_GET_FD_BY_ID, id, flags);
}

/**
 * `BPF_LINK_GET_FD_BY_ID` (5.8+): opens a link by id.
 * @throws BpfError (`command: 'BPF_LINK_GET_FD_BY_ID'`): ENOENT if no such link.
 */
export function linkGetFdById(id: number): Fd {
  return getFdById(BPF_LINK_GET_FD_BY_ID, id);
}

/**
 * `BPF_BTF_GET_FD_BY_ID` (4.18+): opens a BTF object by id.
 * @throws BpfError (`command: 'BPF_BTF_GET_FD_BY_ID'`): ENOENT if no such object.
 */
export function btfGetFdById(id: number): Fd {
  return getFdById(BPF_BTF_GET_FD_BY_ID, id);
}

const BY_ID_COMMANDS: Readonly<Record<string, number>> = {
  prog: BPF_PROG_GET_FD_BY_ID,
  map: BPF_MAP_GET_FD_BY_ID,
  link: BPF_LINK_GET_FD_BY_ID,
  btf: BPF_BTF_GET_FD_BY_ID,
};

/**
 * Opens a program, map, link or BTF object by id (`BPF_*_GET_FD_BY_ID`), calls `use` with the raw
 * descriptor number, and closes it with close(2) when `use` returns or throws; returns what `use`
 * returns. For short-lived descriptors (one info call while listing objects): no `Fd` is created,
 * so there is no `FinalizationRegistry` entry and nothing on the `bpfjs:fd:*` channels. The
 * number is valid only inside `use`: do not keep it (open an `Fd` with `*GetFdById` for that).
 * Maps are opened read-write as by {@link mapGetFdById} without flags.
 * @throws BpfError (`command: 'BPF_<KIND>_GET_FD_BY_ID'`): ENOENT if no such object, EAGAIN for
 *   a link id that is allocated but not settled yet (a link being created).
 * @throws BpfError (`syscall: 'close'`) if close(2) fails after `use` returned (not EINTR).
 * @throws TypeError/RangeError for a bad `kind`, `id` or `use`; whatever `use` throws.
 */
export function withFdById<T>(kind: 'prog' | 'map' | 'link' | 'btf', id: number, use: (fd: number) => T): T {
  const cmd =
    typeof kind === 'string' && Object.hasOwn(BY_ID_COMMANDS, kind) ? BY_ID_COMMANDS[kind] : undefined;
  if (cmd === undefined) throw errInvalidArgValue('kind', kind, "must be 'prog', 'map', 'link' or 'btf'");
  const v = validateU32(id, 'id');
  if (typeof use !== 'function') throw errInvalidArgType('use', 'of type function', use);
  return withFdByIdUnchecked(cmd, v, use);
}

/**
 * {@link withFdById} without argument checks, by command (`BPF_LINK_GET_FD_BY_ID`, ...): the
 * listing hot path of `links()`/`programs()`. For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function withFdByIdUnchecked<T>(cmd: number, v: number, use: (fd: number) => T): T {
  if (fdByIdScratch === undefined) fdByIdScratch = idScratch();
  const sc = fdByIdScratch;
  const view = sc.view;
  view.setUint32(sc.id, v, true);
  view.setUint32(sc.next, 0, true);
  view.setUint32(sc.flags, 0, true);
  let n = bpfAt(cmd, sc, sc.idEnd);
  // 0-2 belong to stdio (and some attrs read fd 0 as "absent"): move it up, as adoptFd does.
  if (n < 3) n = moveAboveStdio(n);
  let result: T;
  try {
    result = use(n);
  } catch (e) {
    getLibc().close(n);
    throw e;
  }
  closeRaw(n);
  return result;
}

function moveAboveStdio(n: number): number {
  try {
    return dupCloexec(n);
  } finally {
    getLibc().close(n);
  }
}

function closeRaw(n: number): void {
  const libc = getLibc();
  if (libc.close(n) === -1) {
    const errno = libc.errno();
    // Linux releases the descriptor even when close() reports EINTR.
    if (errno !== 4) throw new BpfError(errno, 'close');
  }
}

/**
 * `BPF_ENABLE_STATS` (5.8+): turns on run-time statistics (`BPF_STATS_RUN_TIME`) for as long as
 * the returned `Fd` is open. Needs CAP_SYS_ADMIN.
 * @throws BpfError (`command: 'BPF_ENABLE_STATS'`): EINVAL for an unknown type, EPERM.
 */
export function enableStats(type: number = BPF_STATS_RUN_TIME): Fd {
  const t = validateU32(type, 'type');
  const attr = new Struct(EnableStatsAttr);
  attr.set('type', t);
  return adoptFd(bpfUnchecked(BPF_ENABLE_STATS, attr.bytes, attr.end));
}
