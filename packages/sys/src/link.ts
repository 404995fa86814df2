/**
 * Link commands: `BPF_LINK_CREATE`, `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`, and
 * `BPF_RAW_TRACEPOINT_OPEN` (which makes raw tracepoint links).
 *
 * @module
 */
import {
  BPF_F_REPLACE,
  BPF_ITER_CREATE,
  BPF_LINK_CREATE,
  BPF_LINK_DETACH,
  BPF_LINK_UPDATE,
  BPF_RAW_TRACEPOINT_OPEN,
  IterCreateAttr,
  LinkCreateAttr,
  LinkDetachAttr,
  LinkUpdateAttr,
  RawTracepointOpenAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAt, bpfUnchecked, type ScratchAttr, scratchAttr } from './bpf.js';
import { BpfError, errInvalidArgValue, errOutOfRange, UnsupportedFeatureError } from './errors.js';
import { adoptFd, type Fd } from './fd.js';
import { explainFailure, haveRawTracepointCookie } from './probe.js';
import { allocBytes, fieldOf, Struct } from './struct.js';
import {
  optionKeys,
  validateBytes,
  validateCString,
  validateFd,
  validateObject,
  validateOptionalFd,
  validateS32,
  validateU32,
  validateU64,
} from './validate.js';

const LINK_CREATE_KEYS = optionKeys(
  'progFd',
  'targetFd',
  'targetIfindex',
  'attachType',
  'flags',
  'targetBtfId',
  'iterInfo',
  'netfilter',
);
const NETFILTER_KEYS = optionKeys('protocolFamily', 'hooknum', 'priority', 'flags');
const RAW_TP_KEYS = optionKeys('progFd', 'name', 'cookie');
const ITER_CREATE_KEYS = optionKeys('flags');
const LINK_UPDATE_KEYS = optionKeys('linkFd', 'newProgFd', 'oldProgFd', 'flags');

/** Options of {@link linkCreate}. */
export interface LinkCreateOptions {
  /** The program to link. */
  progFd: Fd | number;
  /** The target object: a netns fd, cgroup fd, ... (exclusive with `targetIfindex`). */
  targetFd?: Fd | number;
  /** The target interface (XDP, tcx, netkit), exclusive with `targetFd`. */
  targetIfindex?: number;
  /** `enum bpf_attach_type`, e.g. `BPF_FLOW_DISSECTOR`, `BPF_SK_LOOKUP`. */
  attachType: number;
  /** Link flags (`BPF_F_*`, by attach type). */
  flags?: number;
  /** BTF type id of the target (tracing). */
  targetBtfId?: number;
  /** `union bpf_iter_link_info` bytes for iterator links. */
  iterInfo?: Uint8Array;
  /**
   * Netfilter links (Linux 6.4+, attach type `BPF_NETFILTER`, program type netfilter): where
   * the program hooks in. Exclusive with `targetBtfId` and `iterInfo`.
   */
  netfilter?: LinkCreateNetfilterOptions;
}

/** The `netfilter` part of {@link LinkCreateOptions} (Linux 6.4+). */
export interface LinkCreateNetfilterOptions {
  /** `NFPROTO_*`: 2 IPv4, 10 IPv6 (the kernel refuses others with EAFNOSUPPORT). */
  protocolFamily: number;
  /** `NF_INET_*` hook: 0 PRE_ROUTING, 1 LOCAL_IN, 2 FORWARD, 3 LOCAL_OUT, 4 POST_ROUTING. */
  hooknum: number;
  /**
   * Hook priority, a signed 32-bit number; `INT_MIN` and `INT_MAX` are reserved by netfilter
   * (the kernel says ERANGE) and refused here first. Two links at one priority need not be
   * ordered (6.4 refused a second one at the same hook and priority with EBUSY).
   */
  priority: number;
  /** `BPF_F_NETFILTER_IP_DEFRAG` (1, Linux 6.6+) or 0. */
  flags?: number;
}

const S32_MIN = -0x80000000;
const S32_MAX = 0x7fffffff;

function validateNetfilter(value: unknown): { pf: number; hooknum: number; priority: number; flags: number } {
  validateObject(value, 'options.netfilter', NETFILTER_KEYS);
  const pf = validateU32(value.protocolFamily, 'options.netfilter.protocolFamily');
  const hooknum = validateU32(value.hooknum, 'options.netfilter.hooknum');
  const priority = validateS32(value.priority, 'options.netfilter.priority');
  if (priority === S32_MIN || priority === S32_MAX) {
    throw errOutOfRange(
      'options.netfilter.priority',
      `> ${S32_MIN} and < ${S32_MAX} (the extremes are reserved by netfilter)`,
      priority,
    );
  }
  const flags = value.flags === undefined ? 0 : validateU32(value.flags, 'options.netfilter.flags');
  return { pf, hooknum, priority, flags };
}

// linkCreate without target BTF id or iterator info (the common case): one scratch attr.
interface LinkCreateScratch {
  bytes: Uint8Array;
  view: DataView;
  addr: number;
  prog: number;
  target: number;
  type: number;
  flags: number;
  size: number;
}
let createScratch: LinkCreateScratch | undefined;
function linkCreateScratch(): LinkCreateScratch {
  const a = new Struct(LinkCreateAttr);
  const target = fieldOf(LinkCreateAttr, 'target_fd');
  if (fieldOf(LinkCreateAttr, 'target_ifindex').offset !== target.offset) {
    throw new Error('LinkCreateAttr.target_ifindex moved');
  }
  const flags = fieldOf(LinkCreateAttr, 'flags');
  return {
    bytes: a.bytes,
    view: a.view,
    addr: scratchAttr(a.bytes).addr,
    prog: fieldOf(LinkCreateAttr, 'prog_fd').offset,
    target: target.offset,
    type: fieldOf(LinkCreateAttr, 'attach_type').offset,
    flags: flags.offset,
    size: flags.offset + flags.size,
  };
}

/**
 * `BPF_LINK_CREATE` for the common case (netns, cgroup, XDP, tcx, netkit links: no target BTF id,
 * iterator info or netfilter part), without argument checks: one scratch attr, four fields, each
 * written on every call; the size ends at `flags`. `target` is the target fd or ifindex.
 * @throws BpfError (`command: 'BPF_LINK_CREATE'`) as the kernel answers.
 * For the layers above (`@bpfjs/sys/internal`): callers check their arguments (the object layer); {@link linkCreate} checks for others.
 */
export function linkCreateUnchecked(progFd: number, target: number, attachType: number, flags = 0): Fd {
  if (createScratch === undefined) createScratch = linkCreateScratch();
  const sc = createScratch;
  const v = sc.view;
  v.setUint32(sc.prog, progFd, true);
  v.setUint32(sc.target, target, true);
  v.setUint32(sc.type, attachType, true);
  v.setUint32(sc.flags, flags, true);
  return adoptFd(bpfAt(BPF_LINK_CREATE, sc, sc.size));
}

/**
 * `BPF_LINK_CREATE` (5.7+; netns flow dissector 5.8+, sk_lookup 5.9+, netfilter 6.4+): attaches
 * a program through a new link and returns the link's `Fd`. The attr size ends at the last field
 * used.
 * @throws TypeError/RangeError before any syscall for bad options (unknown keys, `netfilter`
 *   together with `targetBtfId`/`iterInfo`, out-of-range numbers).
 * @throws BpfError (`command: 'BPF_LINK_CREATE'`): EEXIST if a program is attached directly,
 *   E2BIG if the hook is full, EINVAL for a program/attach type mismatch, ...
 * @throws UnsupportedFeatureError (`ERR_BPFJS_NOT_SUPPORTED`, `cause` the BpfError) instead of
 *   EINVAL when the probes say the kernel lacks the command, the link type or the attach type
 *   (probed only after a failure).
 */
export function linkCreate(opts: LinkCreateOptions): Fd {
  validateObject(opts, 'options', LINK_CREATE_KEYS);
  const prog = validateFd(opts.progFd, 'options.progFd');
  const target = validateOptionalFd(opts.targetFd, 'options.targetFd');
  const ifindex =
    opts.targetIfindex === undefined ? undefined : validateU32(opts.targetIfindex, 'options.targetIfindex');
  if (target !== undefined && ifindex !== undefined) {
    throw errInvalidArgValue(
      'options',
      'targetFd+targetIfindex',
      'cannot set both targetFd and targetIfindex',
    );
  }
  const type = validateU32(opts.attachType, 'options.attachType');
  const flags = opts.flags === undefined ? 0 : validateU32(opts.flags, 'options.flags');
  if (opts.targetBtfId === undefined && opts.iterInfo === undefined && opts.netfilter === undefined) {
    try {
      return linkCreateUnchecked(prog, ifindex ?? target ?? 0, type, flags);
    } catch (e) {
      throw explainFailure(e, 'BPF_LINK_CREATE', type);
    }
  }
  const attr = new Struct(LinkCreateAttr);
  attr.set('prog_fd', prog);
  if (ifindex !== undefined) attr.set('target_ifindex', ifindex);
  else attr.set('target_fd', target ?? 0);
  attr.set('attach_type', type).set('flags', flags);
  if (opts.netfilter !== undefined) {
    if (opts.targetBtfId !== undefined || opts.iterInfo !== undefined) {
      throw errInvalidArgValue(
        'options',
        opts.targetBtfId !== undefined ? 'netfilter+targetBtfId' : 'netfilter+iterInfo',
        'cannot set netfilter together with targetBtfId or iterInfo',
      );
    }
    const nf = validateNetfilter(opts.netfilter);
    attr
      .set('netfilter.pf', nf.pf)
      .set('netfilter.hooknum', nf.hooknum)
      .set('netfilter.priority', nf.priority)
      .set('netfilter.flags', nf.flags);
  }
  if (opts.targetBtfId !== undefined)
    attr.set('target_btf_id', validateU32(opts.targetBtfId, 'options.targetBtfId'));
  if (opts.iterInfo !== undefined) {
    if (opts.targetBtfId !== undefined) {
      throw errInvalidArgValue('options', 'targetBtfId+iterInfo', 'cannot set both targetBtfId and iterInfo');
    }
    const info = validateBytes(opts.iterInfo, 'options.iterInfo');
    const copy = allocBytes(info.byteLength);
    copy.set(info);
    attr.setPointer('iter_info', copy).set('iter_info_len', copy.byteLength);
  }
  try {
    return adoptFd(bpfUnchecked(BPF_LINK_CREATE, attr.bytes, attr.end));
  } catch (e) {
    throw explainFailure(e, 'BPF_LINK_CREATE', type);
  }
}

/** Options of {@link linkUpdate}. */
export interface LinkUpdateOptions {
  /** The link. */
  linkFd: Fd | number;
  /** The program to put in. */
  newProgFd: Fd | number;
  /** Replace only if this program is the current one (`BPF_F_REPLACE` is set automatically). */
  oldProgFd?: Fd | number;
  /** Extra flags. */
  flags?: number;
}

// linkUpdate is a hot path: one preallocated attr, offsets resolved once.
let updateAttr: Struct<typeof LinkUpdateAttr> | undefined;
let updateAt: ScratchAttr | undefined;
let updateOffsets: { link: number; prog: number; flags: number; old: number; size: number } | undefined;

/**
 * `BPF_LINK_UPDATE` (5.7+): swaps the program of a link atomically.
 * @throws BpfError (`command: 'BPF_LINK_UPDATE'`): ENOLINK for a defunct link (its netns is gone),
 *   EPERM if `oldProgFd` is not the current program, EINVAL for a wrong program type, ...
 */
export function linkUpdate(opts: LinkUpdateOptions): void {
  validateObject(opts, 'options', LINK_UPDATE_KEYS);
  const link = validateFd(opts.linkFd, 'options.linkFd');
  const prog = validateFd(opts.newProgFd, 'options.newProgFd');
  const old = validateOptionalFd(opts.oldProgFd, 'options.oldProgFd');
  const flags = opts.flags === undefined ? 0 : validateU32(opts.flags, 'options.flags');
  linkUpdateUnchecked(link, prog, old, flags);
}

/**
 * `BPF_LINK_UPDATE` without argument checks: `oldProgFd` given → `BPF_F_REPLACE` is added to
 * `flags`. One preallocated attr, offsets resolved once (a hot path: `link.update()`).
 * @throws BpfError (`command: 'BPF_LINK_UPDATE'`) as {@link linkUpdate}.
 * For the layers above, through `@bpfjs/sys/internal`; not for applications.
 */
export function linkUpdateUnchecked(linkFd: number, newProgFd: number, oldProgFd?: number, flags = 0): void {
  if (oldProgFd !== undefined) flags = (flags | BPF_F_REPLACE) >>> 0;
  if (updateAttr === undefined || updateOffsets === undefined) {
    updateAttr = new Struct(LinkUpdateAttr);
    updateAt = scratchAttr(updateAttr.bytes);
    const o = fieldOf(LinkUpdateAttr, 'old_prog_fd');
    updateOffsets = {
      link: fieldOf(LinkUpdateAttr, 'link_fd').offset,
      prog: fieldOf(LinkUpdateAttr, 'new_prog_fd').offset,
      flags: fieldOf(LinkUpdateAttr, 'flags').offset,
      old: o.offset,
      size: o.offset + o.size,
    };
  }
  const v = updateAttr.view;
  const o = updateOffsets;
  v.setUint32(o.link, linkFd, true);
  v.setUint32(o.prog, newProgFd, true);
  v.setUint32(o.flags, flags, true);
  v.setUint32(o.old, oldProgFd ?? 0, true);
  bpfAt(BPF_LINK_UPDATE, updateAt!, o.size);
}

// linkDetach: one scratch attr (a single field, written on every call).
let detachAttr: Struct<typeof LinkDetachAttr> | undefined;
let detachAt: ScratchAttr | undefined;

/**
 * `BPF_LINK_DETACH` (5.9+): detaches a link from its hook; the link `Fd` stays open, defunct.
 * @throws BpfError (`command: 'BPF_LINK_DETACH'`): EOPNOTSUPP for link types that cannot detach,
 *   EBADF/EINVAL for a non-link fd.
 */
export function linkDetach(linkFd: Fd | number): void {
  linkDetachUnchecked(validateFd(linkFd, 'linkFd'));
}

/** {@link linkDetach} without argument checks. For the layers above, through `@bpfjs/sys/internal`; not for applications. */
export function linkDetachUnchecked(link: number): void {
  if (detachAttr === undefined || detachAt === undefined) {
    detachAttr = new Struct(LinkDetachAttr);
    detachAttr.use('link_fd');
    detachAt = scratchAttr(detachAttr.bytes);
  }
  detachAttr.set('link_fd', link);
  bpfAt(BPF_LINK_DETACH, detachAt, detachAttr.end);
}

/** Options of {@link rawTracepointOpen}. */
export interface RawTracepointOpenOptions {
  /** A raw_tracepoint (or raw_tracepoint_writable) program, or a tracing program (tp_btf). */
  progFd: Fd | number;
  /**
   * The tracepoint (`'sys_enter'`, `'sched_switch'`, ...): required for raw_tracepoint programs,
   * left out for tracing programs (their target comes from the BTF id given at load). At most
   * 127 bytes (the kernel's buffer is 128), no NUL.
   */
  name?: string;
  /** The BPF cookie (`bpf_get_attach_cookie()`, Linux 6.10+): set only when given. */
  cookie?: number | bigint;
}

/** The kernel copies at most 127 bytes of a raw tracepoint name (a 128-byte buffer). */
const RAW_TP_NAME_MAX = 127;

/**
 * `BPF_RAW_TRACEPOINT_OPEN` (4.17+): attaches a program to a raw tracepoint and returns the
 * `Fd`, which is a raw tracepoint link (`BPF_LINK_TYPE_RAW_TRACEPOINT`, with an id and info)
 * from Linux 5.8 on, and a bare raw tracepoint fd before. The attr size ends at `prog_fd`, or at
 * `cookie` when a cookie is given, so kernels without cookies accept the call.
 * @throws TypeError/RangeError before any syscall: unknown option keys, a name that is not a
 *   string, is empty, has a NUL or is longer than 127 bytes, a cookie out of the u64 range.
 * @throws UnsupportedFeatureError: `cookie` given on a kernel without raw tracepoint cookies
 *   (before 6.10, which says EINVAL for the unknown field; a probe then tells), or no
 *   BPF_RAW_TRACEPOINT_OPEN at all (EINVAL and the command probe says so).
 * @throws BpfError (`command: 'BPF_RAW_TRACEPOINT_OPEN'`): ENOENT for an unknown tracepoint,
 *   EINVAL for a program of another type (or a name given to a tracing program), ...
 */
export function rawTracepointOpen(opts: RawTracepointOpenOptions): Fd {
  validateObject(opts, 'options', RAW_TP_KEYS);
  const prog = validateFd(opts.progFd, 'options.progFd');
  let name: Uint8Array | undefined;
  if (opts.name !== undefined) {
    const bytes = validateCString(opts.name, 'options.name', RAW_TP_NAME_MAX);
    if (bytes.length === 0)
      throw errInvalidArgValue('options.name', opts.name, 'must be a non-empty tracepoint name');
    name = allocBytes(bytes.length + 1);
    name.set(bytes);
  }
  const cookie = opts.cookie === undefined ? undefined : validateU64(opts.cookie, 'options.cookie');
  const attr = new Struct(RawTracepointOpenAttr);
  attr.set('prog_fd', prog);
  if (name !== undefined) attr.setPointer('name', name);
  if (cookie !== undefined) attr.set('cookie', cookie);
  try {
    return adoptFd(bpfUnchecked(BPF_RAW_TRACEPOINT_OPEN, attr.bytes, attr.end));
  } catch (e) {
    // Before 6.10 a cookie is a non-zero field past the command's last one: EINVAL, like a wrong
    // program type. The cookie probe (error path only) tells them apart.
    if (cookie !== undefined && BpfError.isInstance(e) && e.code === 'EINVAL') {
      let known = true;
      try {
        known = haveRawTracepointCookie();
      } catch {
        // cannot probe: leave the kernel's error
      }
      if (!known) throw new UnsupportedFeatureError('BPF_RAW_TRACEPOINT_OPEN cookie', '6.10', { cause: e });
    }
    throw explainFailure(e, 'BPF_RAW_TRACEPOINT_OPEN', 0);
  }
}

/** Options of {@link iterCreate}. */
export interface IterCreateOptions {
  /** `iter_create.flags`; the kernel takes none yet (must be 0). */
  flags?: number;
}

/**
 * `BPF_ITER_CREATE` (5.8+): opens a new reader of an iterator link (an `Fd` to `read(2)` from:
 * each read runs the iterator program over the next objects and returns what it wrote with
 * `bpf_seq_write`/`bpf_seq_printf`; 0 bytes at the end).
 * @throws TypeError/RangeError before any syscall for a bad fd or options.
 * @throws BpfError (`command: 'BPF_ITER_CREATE'`): EINVAL if `linkFd` is not an iterator link.
 */
export function iterCreate(linkFd: Fd | number, options: IterCreateOptions = {}): Fd {
  const link = validateFd(linkFd, 'linkFd');
  validateObject(options, 'options', ITER_CREATE_KEYS);
  const flags = options.flags === undefined ? 0 : validateU32(options.flags, 'options.flags');
  const attr = new Struct(IterCreateAttr).set('link_fd', link).set('flags', flags);
  return adoptFd(bpfUnchecked(BPF_ITER_CREATE, attr.bytes, attr.end));
}
