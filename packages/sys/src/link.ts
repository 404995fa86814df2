/**
 * Link commands: `BPF_LINK_CREATE`, `BPF_LINK_UPDATE`, `BPF_LINK_DETACH`.
 *
 * @module
 */
import {
  BPF_F_REPLACE,
  BPF_LINK_CREATE,
  BPF_LINK_DETACH,
  BPF_LINK_UPDATE,
  LinkCreateAttr,
  LinkDetachAttr,
  LinkUpdateAttr,
} from '@bpfjs/uapi/linux/bpf';
import { bpfAt, bpfUnchecked, type ScratchAttr, scratchAttr } from './bpf.js';
import { errInvalidArgValue } from './errors.js';
import { adoptFd, type Fd } from './fd.js';
import { explainFailure } from './probe.js';
import { allocBytes, fieldOf, Struct } from './struct.js';
import {
  optionKeys,
  validateBytes,
  validateFd,
  validateObject,
  validateOptionalFd,
  validateU32,
} from './validate.js';

const LINK_CREATE_KEYS = optionKeys(
  'progFd',
  'targetFd',
  'targetIfindex',
  'attachType',
  'flags',
  'targetBtfId',
  'iterInfo',
);
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
 * `BPF_LINK_CREATE` (5.7+; netns flow dissector 5.8+, sk_lookup 5.9+): attaches a program
 * through a new link and returns the link's `Fd`. The attr size ends at the last field used.
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
  if (opts.targetBtfId === undefined && opts.iterInfo === undefined) {
    // The common case (netns, cgroup, XDP, tcx links): one scratch attr, four fields, each written
    // on every call; the size ends at `flags` as below.
    if (createScratch === undefined) createScratch = linkCreateScratch();
    const sc = createScratch;
    const v = sc.view;
    v.setUint32(sc.prog, prog, true);
    v.setUint32(sc.target, ifindex ?? target ?? 0, true);
    v.setUint32(sc.type, type, true);
    v.setUint32(sc.flags, flags, true);
    try {
      return adoptFd(bpfAt(BPF_LINK_CREATE, sc, sc.size));
    } catch (e) {
      throw explainFailure(e, 'BPF_LINK_CREATE', type);
    }
  }
  const attr = new Struct(LinkCreateAttr);
  attr.set('prog_fd', prog);
  if (ifindex !== undefined) attr.set('target_ifindex', ifindex);
  else attr.set('target_fd', target ?? 0);
  attr.set('attach_type', type).set('flags', flags);
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
  let flags = opts.flags === undefined ? 0 : validateU32(opts.flags, 'options.flags');
  if (old !== undefined) flags = (flags | BPF_F_REPLACE) >>> 0;
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
  v.setUint32(o.link, link, true);
  v.setUint32(o.prog, prog, true);
  v.setUint32(o.flags, flags, true);
  v.setUint32(o.old, old ?? 0, true);
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
  const link = validateFd(linkFd, 'linkFd');
  if (detachAttr === undefined || detachAt === undefined) {
    detachAttr = new Struct(LinkDetachAttr);
    detachAttr.use('link_fd');
    detachAt = scratchAttr(detachAttr.bytes);
  }
  detachAttr.set('link_fd', link);
  bpfAt(BPF_LINK_DETACH, detachAt, detachAttr.end);
}
