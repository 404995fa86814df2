/**
 * `Link` and its typed subclasses: a `bpf_link` that owns its file descriptor.
 *
 * @module
 */
import { BpfError, brand, errInvalidArgType, errInvalidArgValue, Fd } from '@bpfjs/sys';
import {
  fdKind,
  getFdByIdUnchecked,
  linkDetachUnchecked,
  linkInfoUnchecked,
  linkTypeUnchecked,
  linkUpdateUnchecked,
  optionKeys,
  validateKnownKeys,
  validateU32,
} from '@bpfjs/sys/internal';
import { BPF_LINK_GET_FD_BY_ID } from '@bpfjs/uapi';
import { errClosed, errWrongObject, explain } from './errors.js';
import type {
  CgroupLinkInfo,
  IterLinkInfo,
  KprobeMultiLinkInfo,
  LinkInfo,
  NetfilterLinkInfo,
  NetkitLinkInfo,
  NetNsLinkInfo,
  PerfEventLinkInfo,
  RawTracepointLinkInfo,
  SockmapLinkInfo,
  StructOpsLinkInfo,
  TcxLinkInfo,
  TracingLinkInfo,
  UprobeMultiLinkInfo,
  XdpLinkInfo,
} from './info.js';
import { linkTypeName } from './names.js';
import { getPinned, type PinOptions, pinFd, unpinPath, validatePinPath } from './pin.js';
import { borrowedFd, ownedFdOf, type Program, programFd } from './program.js';

const LINK = brand<Link>('bpfjs.Link');

// Unknown keys of link.update options are refused (ERR_INVALID_ARG_VALUE): a misspelt `replace`
// would turn a guarded update into an unconditional one.
const UPDATE_KEYS = optionKeys('replace');

/** Options of {@link Link.update}. */
export interface LinkUpdateOptions {
  /**
   * The program that must be attached now: the update happens only if it still is
   * (BPF_F_REPLACE); otherwise the kernel refuses with `EPERM`.
   */
  readonly replace?: Program;
}

/**
 * A `bpf_link`: a program attached to a hook, owned through one fd. Closing the last fd detaches
 * the program unless the link is pinned. `Link.fromPin`/`fromId` and `attachNetNs` return the
 * typed subclass matching the kernel's link type (`NetNsLink`, `XdpLink`, ...).
 */
export class Link implements Disposable {
  #fd: Fd;
  #typeId: number;
  #pinnedPath: string | undefined;

  /** Not for users: `attachNetNs`, `Link.fromPin`, `Link.fromId` or `Link.fromFd` make links. */
  protected constructor(fd: Fd, typeId: number) {
    this.#fd = fd;
    this.#typeId = typeId;
  }

  /** @internal Constructs `Ctor` (the constructor is protected; see `wrapLink`). */
  static wrap(fd: Fd, typeId: number, Ctor: typeof Link): Link {
    return new Ctor(fd, typeId);
  }

  /**
   * True for a `Link` (any subclass) from any copy of `@bpfjs/link` (the ESM and the CommonJS
   * build, or two versions): checks the `Symbol.for('bpfjs.Link')` brand, where `instanceof`
   * would not.
   */
  static isInstance(value: unknown): value is Link {
    return LINK.is(value);
  }

  /**
   * Opens a pinned link (BPF_OBJ_GET) as its typed subclass.
   * @throws TypeError `ERR_BPFJS_WRONG_OBJECT` if the pinned object is not a link (e.g. a
   *   program); BpfError (ENOENT, EACCES...) from the kernel.
   */
  static fromPin(path: string): Link {
    const p = validatePinPath(path);
    const fd = getPinned(p, 'Link.fromPin');
    const link = adoptLink(fd, `the object pinned at '${p}'`);
    link.#pinnedPath = p;
    return link;
  }

  /**
   * Opens a link by id (BPF_LINK_GET_FD_BY_ID, Linux 5.8+) as its typed subclass.
   * @throws BpfError ENOENT if no link has this id.
   */
  static fromId(id: number): Link {
    validateU32(id, 'id');
    return adoptLink(getFdByIdUnchecked(BPF_LINK_GET_FD_BY_ID, id), `link id ${id}`);
  }

  /**
   * Wraps an fd that refers to a link and takes ownership of it once it is known to be one (a
   * number is wrapped in a new `Fd`). A refusal leaves the fd alone: it stays open and the
   * caller's (a netns, a program or Node's own epoll fd given here by mistake survive).
   * @throws TypeError `ERR_BPFJS_WRONG_OBJECT` if it is not a link.
   */
  static fromFd(fd: Fd | number): Link {
    const n = borrowedFd(fd);
    const typeId = inspectLink(n, `fd ${n}`);
    return wrapLink(typeof fd === 'number' ? new Fd(n) : fd, typeId);
  }

  /** The owned descriptor (`fd.fd` is -1 once closed). */
  get fd(): Fd {
    return this.#fd;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#fd.closed;
  }

  /** bpftool's name of the link type (`'netns'`, `'xdp'`, ...). */
  get type(): string {
    return linkTypeName(this.#typeId);
  }

  /** The kernel's link type number. */
  get typeId(): number {
    return this.#typeId;
  }

  /** The link's id (one info call). @throws TypeError `ERR_BPFJS_CLOSED`. */
  get id(): number {
    return this.info().id;
  }

  /** Where this link was last pinned (or opened from), if anywhere. */
  get pinnedPath(): string | undefined {
    return this.#pinnedPath;
  }

  /** @internal The fd number, after checking the link is open. */
  protected openFd(operation: string): number {
    const n = this.#fd.fd;
    if (n < 0) throw errClosed(`link (${operation})`);
    return n;
  }

  /**
   * What the kernel reports about the link (BPF_OBJ_GET_INFO_BY_FD), decoded per link type by
   * sys's one decoder of `struct bpf_link_info`: one syscall into a buffer sys preallocates, and
   * a second for the name string of raw_tracepoint, iter and perf_event links (as bpftool).
   * @throws TypeError `ERR_BPFJS_CLOSED` if closed.
   */
  info(): LinkInfo {
    return linkInfoUnchecked(this.openFd('info'));
  }

  /**
   * Replaces the link's program in place (BPF_LINK_UPDATE), atomically for the hook. With
   * `replace`, only if that program is still the one attached (BPF_F_REPLACE).
   * @throws TypeError before any syscall for a non-`Program`, a closed program or link.
   * @throws BpfError: `ENOLINK` defunct link (netns gone or detached), `EPERM` `replace` is not
   *   the attached program, `EINVAL` program type differs from the link's — each with a sentence.
   */
  update(program: Program, options?: LinkUpdateOptions): void {
    const linkFd = this.openFd('update');
    const progFd = programFd(program, 'program');
    let oldFd: number | undefined;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null)
        throw errInvalidArgType('options', 'of type object', options);
      validateKnownKeys(options, 'options', UPDATE_KEYS);
      if (options.replace !== undefined) oldFd = programFd(options.replace, 'options.replace');
    }
    try {
      linkUpdateUnchecked(linkFd, progFd, oldFd);
    } catch (err) {
      throw explain(err, this.explainUpdate(err, oldFd !== undefined), { operation: 'link.update' });
    }
  }

  /** @internal The sentence for a failed update. */
  protected explainUpdate(err: unknown, withReplace: boolean): string | undefined {
    if (!BpfError.isInstance(err)) return undefined;
    switch (err.code) {
      case 'ENOLINK':
        return `the ${this.type} link is defunct (its target is gone or it was detached); create a new link`;
      case 'EPERM':
        return withReplace
          ? 'the program given as `replace` is not the one attached to the link now; nothing was changed'
          : undefined;
      case 'EINVAL':
        return 'the new program must have the same type as the link’s program (and match its attach type)';
      case 'EOPNOTSUPP':
      case 'ENOTSUPP':
        return `${this.type} links cannot be updated`;
      default:
        return undefined;
    }
  }

  /**
   * Detaches the link from its hook without closing it (BPF_LINK_DETACH, Linux 5.9+): the
   * program stops running, the link (and its pins) become defunct.
   * @throws BpfError `EOPNOTSUPP` for link types the kernel cannot detach.
   */
  detach(): void {
    const fd = this.openFd('detach');
    try {
      linkDetachUnchecked(fd);
    } catch (err) {
      const sentence =
        BpfError.isInstance(err) && (err.code === 'EOPNOTSUPP' || err.code === 'ENOTSUPP')
          ? `${this.type} links cannot be detached (close them and remove their pins instead)`
          : BpfError.isInstance(err) && err.code === 'EINVAL'
            ? 'this kernel has no BPF_LINK_DETACH (Linux 5.9+)'
            : undefined;
      throw explain(err, sentence, { operation: 'link.detach' });
    }
  }

  /**
   * Whether the link no longer acts on anything. The base class reports false; subclasses
   * whose info shows it (netns inode 0, ifindex 0, cgroup id 0, map id 0) override this.
   */
  isDefunct(): boolean {
    this.openFd('isDefunct');
    return false;
  }

  /**
   * Pins the link at `path` on a BPF file system; it then outlives this process.
   * @throws TypeError `ERR_BPFJS_NOT_BPFFS` if the directory is not on bpffs (checked first);
   *   BpfError `EEXIST` if the path exists and `replace` is not set.
   */
  pin(path: string, options?: PinOptions): void {
    const fd = this.openFd('pin');
    this.#pinnedPath = pinFd(fd, path, options, 'link');
  }

  /**
   * Removes the pin at `path` (default: where this link was last pinned or opened from). A
   * missing path is not an error. @returns whether something was removed.
   */
  unpin(path?: string): boolean {
    const p = path ?? this.#pinnedPath;
    if (p === undefined) return false;
    const removed = unpinPath(p);
    if (path === undefined || validatePinPath(path) === this.#pinnedPath) this.#pinnedPath = undefined;
    return removed;
  }

  /** Closes the fd (idempotent). An unpinned link with no other fds detaches now. */
  close(): void {
    this.#fd.close();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `NetNsLink(fd 7)`. */
  toString(): string {
    return `${this.constructor.name}(${this.#fd.closed ? 'closed' : `fd ${this.#fd.fd}`})`;
  }
}

/** A link to a network namespace (flow dissector, sk_lookup; Linux 5.8 / 5.9). */
export class NetNsLink extends Link {
  /**
   * `{ id, type: 'netns', programId, netnsInode, attachType }`: one syscall through sys's
   * preallocated info buffer (a hot path). `netnsInode` is 0 once the link is defunct.
   * @throws TypeError `ERR_BPFJS_CLOSED` if closed.
   */
  override info(): NetNsLinkInfo {
    return linkInfoUnchecked(this.openFd('info')) as NetNsLinkInfo;
  }

  /**
   * True once the link no longer acts: its namespace was destroyed (the kernel auto-detaches;
   * teardown is asynchronous) or the link was detached. Seen as `netnsInode === 0` in info.
   */
  override isDefunct(): boolean {
    return this.info().netnsInode === 0;
  }

  /** @internal */
  protected override explainUpdate(err: unknown, withReplace: boolean): string | undefined {
    if (BpfError.isInstance(err) && err.code === 'ENOLINK') {
      return 'the netns link is defunct: its network namespace is gone (or going) or the link was detached; attach a new link';
    }
    return super.explainUpdate(err, withReplace);
  }
}

/** An XDP link (Linux 5.9+). */
export class XdpLink extends Link {
  override info(): XdpLinkInfo {
    return super.info() as XdpLinkInfo;
  }
  /** True once detached (ifindex 0). */
  override isDefunct(): boolean {
    return this.info().ifindex === 0;
  }
}

/** A tcx link (Linux 6.6+). */
export class TcxLink extends Link {
  override info(): TcxLinkInfo {
    return super.info() as TcxLinkInfo;
  }
  /** True once detached (ifindex 0). */
  override isDefunct(): boolean {
    return this.info().ifindex === 0;
  }
}

/** A netkit link (Linux 6.7+). */
export class NetkitLink extends Link {
  override info(): NetkitLinkInfo {
    return super.info() as NetkitLinkInfo;
  }
  /** True once detached (ifindex 0). */
  override isDefunct(): boolean {
    return this.info().ifindex === 0;
  }
}

/** A cgroup link (Linux 5.7+). */
export class CgroupLink extends Link {
  override info(): CgroupLinkInfo {
    return super.info() as CgroupLinkInfo;
  }
  /** True once detached (cgroup id 0). */
  override isDefunct(): boolean {
    return this.info().cgroupId === 0n;
  }
}

/** A tracing link (fentry/fexit/fmod_ret/lsm/freplace). */
export class TracingLink extends Link {
  override info(): TracingLinkInfo {
    return super.info() as TracingLinkInfo;
  }
}

/**
 * A raw tracepoint link (from `BPF_RAW_TRACEPOINT_OPEN`; a link with an id and info since Linux
 * 5.8). The kernel cannot detach it (`detach()` throws EOPNOTSUPP): close every fd and pin.
 */
export class RawTracepointLink extends Link {
  /** `{ id, type: 'raw_tracepoint', programId, tpName, cookie? }` (three info calls). */
  override info(): RawTracepointLinkInfo {
    return super.info() as RawTracepointLinkInfo;
  }
}

/** A BPF iterator link (Linux 5.8+); read it through sys `iterCreate(link.fd)`. */
export class IterLink extends Link {
  /** `{ id, type: 'iter', programId, targetName, mapId }` (`targetName` from Linux 5.9). */
  override info(): IterLinkInfo {
    return super.info() as IterLinkInfo;
  }
}

/** A perf-event link (kprobe, uprobe, tracepoint, perf event; Linux 5.15+). */
export class PerfEventLink extends Link {
  /** The event kind, its fields and name (`functionName`/`fileName`/`tpName`) from Linux 6.6. */
  override info(): PerfEventLinkInfo {
    return super.info() as PerfEventLinkInfo;
  }
}

/** A kprobe_multi link (Linux 5.18+). */
export class KprobeMultiLink extends Link {
  override info(): KprobeMultiLinkInfo {
    return super.info() as KprobeMultiLinkInfo;
  }
}

/** A uprobe_multi link (Linux 6.6+). */
export class UprobeMultiLink extends Link {
  override info(): UprobeMultiLinkInfo {
    return super.info() as UprobeMultiLinkInfo;
  }
}

/** A sockmap/sockhash link (Linux 6.10+). */
export class SockmapLink extends Link {
  override info(): SockmapLinkInfo {
    return super.info() as SockmapLinkInfo;
  }
  /** True once detached (map id 0). */
  override isDefunct(): boolean {
    return this.info().mapId === 0;
  }
}

/**
 * A netfilter link (Linux 6.4+). After `detach()` the kernel unregisters the hook but its info
 * still shows the protocol family, hook and priority, so `isDefunct()` cannot tell (false).
 */
export class NetfilterLink extends Link {
  /** `{ id, type: 'netfilter', programId, protocolFamily, hook, priority, flags }`. */
  override info(): NetfilterLinkInfo {
    return super.info() as NetfilterLinkInfo;
  }
}

/** A struct_ops link (Linux 6.4+). */
export class StructOpsLink extends Link {
  override info(): StructOpsLinkInfo {
    return super.info() as StructOpsLinkInfo;
  }
  /** True once detached (map id 0). */
  override isDefunct(): boolean {
    return this.info().mapId === 0;
  }
}

const SUBCLASS: Readonly<Record<string, typeof Link>> = {
  netns: NetNsLink,
  xdp: XdpLink,
  tcx: TcxLink,
  netkit: NetkitLink,
  cgroup: CgroupLink,
  tracing: TracingLink,
  raw_tracepoint: RawTracepointLink,
  iter: IterLink,
  perf_event: PerfEventLink,
  kprobe_multi: KprobeMultiLink,
  uprobe_multi: UprobeMultiLink,
  sockmap: SockmapLink,
  netfilter: NetfilterLink,
  struct_ops: StructOpsLink,
};

/** Wraps a link fd of a known kernel link type in its subclass. @internal */
export function wrapLink(fd: Fd, typeId: number): Link {
  return Link.wrap(fd, typeId, SUBCLASS[linkTypeName(typeId)] ?? Link);
}

/** Checks that `fd` is a link and returns its kernel link type; throws without touching the fd. */
function inspectLink(fd: number, where: string): number {
  const kind = fdKind(fd) ?? 'other';
  if (kind !== 'link') throw errWrongObject(where, 'link', kind === 'prog' ? 'program' : kind);
  return linkTypeUnchecked(fd);
}

/** Checks `fd` (opened by this package) is a link, reads its type and wraps it; closes `fd` on failure. @internal */
export function adoptLink(fd: Fd, where: string): Link {
  try {
    return wrapLink(fd, inspectLink(fd.fd, where));
  } catch (err) {
    fd.close();
    throw err;
  }
}

/** @internal Rejects anything that is not an open `Link` (from any copy of this package). */
export function linkFd(value: unknown, name: string): number {
  if (!LINK.is(value)) throw errInvalidArgType(name, 'an instance of Link', value);
  const n = ownedFdOf(value, name, 'an instance of Link');
  if (n < 0) throw errInvalidArgValue(name, value.toString(), 'is closed');
  return n;
}

LINK.mark(Link);
